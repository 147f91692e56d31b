//! One module per command group.
mod audit;
mod db;
mod demo;
mod diff;
mod docs;
mod exporter;
mod policy;
mod proxy;
mod report;
mod scan;
mod version;

use crate::cli::{Cli, Command};
use fipsgate_cipher_db::policy::{Policy, Protocol};
use fipsgate_cipher_db::Kind;
use std::error::Error;

/// A command's result: an exit code, or an error that exits with the usage code.
pub type CommandResult = Result<u8, Box<dyn Error>>;

/// Runs the parsed command line.
pub fn run(cli: Cli) -> CommandResult {
    match cli.command {
        Command::Version(f) => version::run(f.format),
        Command::Scan(args) => scan::run(*args),
        Command::Report(args) => report::run(args),
        Command::Diff(args) => diff::run(&args),
        Command::Proxy(args) => proxy::run(&args),
        Command::Exporter(args) => exporter::run(&args),
        Command::Demo(args) => demo::run(&args),
        Command::Docs { what, dir } => docs::run(&what, dir.as_deref()),

        Command::Schema => {
            crate::output::print_json(&fipsgate_scanner::report::json_schema())?;
            Ok(crate::exit::OK)
        }

        Command::Audit(cmd) => audit::run(cmd),
        Command::Db(cmd) => db::run(cmd),
        Command::Policy(cmd) => policy::run(cmd),
    }
}

/// Loads policies by built-in name or file path.
fn load_policies(names: &[String]) -> Result<Vec<Policy>, Box<dyn Error>> {
    names
        .iter()
        .map(|n| Policy::load(n.trim()).map_err(Into::into))
        .collect()
}

/// Loads the policies that judge endpoints, as `scan` and `report` were asked to judge.
fn load_judging(judge: &crate::cli::JudgeArgs) -> Result<Vec<Policy>, Box<dyn Error>> {
    let mut policies = load_policies(&judge.policies.names)?;
    if let Some(day) = &judge.as_of {
        policies = policies
            .into_iter()
            .map(|p| p.at(day))
            .collect::<Result<_, _>>()?;
    }
    Ok(if judge.citizen_facing {
        policies
            .into_iter()
            .map(Policy::for_citizen_facing_servers)
            .collect()
    } else {
        policies
    })
}

/// The protocol an algorithm kind belongs to (keys belong to both).
fn protocol_of(kind: Kind) -> Option<Protocol> {
    match kind {
        Kind::TlsVersion
        | Kind::TlsSuite
        | Kind::Sslv2Cipher
        | Kind::TlsGroup
        | Kind::TlsSigalg => Some(Protocol::Tls),
        Kind::SshKex | Kind::SshHostkey | Kind::SshCipher | Kind::SshMac | Kind::SshCompression => {
            Some(Protocol::Ssh)
        }
        Kind::Key => None,
    }
}

/// Whether a policy speaks about items of this kind.
fn covers(policy: &Policy, kind: Kind) -> bool {
    protocol_of(kind).is_none_or(|p| policy.covers(p))
}
