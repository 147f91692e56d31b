//! fipsgate: prove or enforce FIPS-only cryptography on TLS and SSH.
//!
//! This binary only parses arguments, calls the library crates and picks the output.
mod cli;
mod commands;
mod emit;
mod output;
mod saved;

use clap::Parser;
use std::process::ExitCode;

/// Exit codes, like a linter.
pub mod exit {
    /// Everything judged is allowed.
    pub const OK: u8 = 0;
    /// Findings at or above the threshold.
    pub const FINDINGS: u8 = 1;
    /// Usage, configuration or policy error.
    pub const USAGE: u8 = 2;
    /// Some targets could not be scanned.
    pub const UNSCANNED: u8 = 3;
    /// The report was written, but a --syslog or --http-post receiver did not get all of it.
    pub const UNDELIVERED: u8 = 4;
    /// The proxy refused to start: the crypto stack is not in FIPS mode.
    pub const NOT_FIPS: u8 = 5;
}

fn main() -> ExitCode {
    // nmap's spelling of the target-list option.
    let args = std::env::args().map(|a| {
        if a == "-iL" {
            "--input-list".to_owned()
        } else {
            a
        }
    });
    let cli = match cli::Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() {
                exit::USAGE
            } else {
                exit::OK
            };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match commands::run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("fipsgate: {e}");
            ExitCode::from(exit::USAGE)
        }
    }
}
