//! `fipsgate docs usage|man`: documentation generated from the command-line definitions, so it
//! cannot drift from `--help` (a test compares it with docs/usage.md and docs/fipsgate.1).
use super::CommandResult;
use crate::cli::Cli;
use crate::exit;
use crate::output::print_text;
use clap::CommandFactory;

/// Every command's long help, in a Markdown page, depth first.
fn usage() -> String {
    let mut root = Cli::command().term_width(100);
    root.build();
    let mut out = String::from(
        "# Command-line reference\n\nGenerated from `fipsgate --help` and the help of every \
         command (`fipsgate docs usage`); a test fails when this file is stale.\n",
    );
    fn walk(cmd: &clap::Command, path: &str, out: &mut String) {
        if cmd.is_hide_set() {
            return;
        }
        let name = if path.is_empty() {
            cmd.get_name().to_owned()
        } else {
            format!("{path} {}", cmd.get_name())
        };
        let help = cmd.clone().render_long_help().to_string();
        out.push_str(&format!("\n## {name}\n\n```\n{}\n```\n", help.trim_end()));
        for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
            walk(sub, &name, out);
        }
    }
    walk(&root, "", &mut out);
    out
}

/// Writes fipsgate.1 and one page per command (fipsgate-scan.1 …) into `dir`.
fn man(dir: &str) -> Result<(), Box<dyn std::error::Error>> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{dir}: {e}"))?;
    let mut root = Cli::command();
    root.build();
    fn write(cmd: &clap::Command, name: &str, dir: &str) -> Result<(), Box<dyn std::error::Error>> {
        if cmd.is_hide_set() {
            return Ok(());
        }
        let mut buf = Vec::new();
        clap_mangen::Man::new(cmd.clone().name(name.to_owned())).render(&mut buf)?;
        let path = format!("{dir}/{name}.1");
        std::fs::write(&path, buf).map_err(|e| format!("{path}: {e}"))?;
        for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
            write(sub, &format!("{name}-{}", sub.get_name()), dir)?;
        }
        Ok(())
    }
    write(&root, "fipsgate", dir)
}

/// Prints the usage page, or writes the man pages into DIR.
pub fn run(what: &str, dir: Option<&str>) -> CommandResult {
    match what {
        "man" => man(dir.unwrap_or("."))?,
        _ => print_text(&usage())?,
    }
    Ok(exit::OK)
}
