//! `fipsgate audit sshd`.
use super::{load_policies, CommandResult};
use crate::cli::{AuditCommand, Format};
use crate::exit;
use crate::output::{print_json, print_text};
use fipsgate_scanner::audit::{self, AuditFinding, AuditReport, Defaults};
use std::fmt::Write as _;
use std::path::Path;

/// Runs an `audit` subcommand.
pub fn run(cmd: AuditCommand) -> CommandResult {
    let AuditCommand::Sshd {
        file,
        policies: names,
        effective,
        format,
    } = cmd;
    let policies = load_policies(&names.names)?;
    let defaults = Defaults::detect();
    let path = Path::new(&file);
    let report = if effective {
        audit::audit_effective(path, &policies, &defaults)
    } else {
        audit::audit_file(path, &policies, &defaults)
    };
    let report = match report {
        Ok(r) => r,
        Err(e) => {
            eprintln!("fipsgate: {e}");
            return Ok(exit::USAGE);
        }
    };
    match format.format {
        Format::Json => print_json(&report)?,
        Format::Text => print_text(&render(&report, &names.names))?,
    }
    Ok(if report.fails() {
        exit::FINDINGS
    } else {
        exit::OK
    })
}

fn place(f: &AuditFinding) -> String {
    let at = if f.line == 0 {
        format!("{} (not set: OpenSSH's default)", f.directive)
    } else {
        format!("{}:{}  {}", f.file, f.line, f.directive)
    };
    match &f.match_block {
        Some(m) => format!("{at}  in Match {m}"),
        None => at,
    }
}

fn render(r: &AuditReport, policies: &[String]) -> String {
    let mut out = format!(
        "audit of {} (OpenSSH defaults from {})\n",
        r.file, r.defaults
    );
    let mut places: Vec<String> = Vec::new();
    for f in &r.findings {
        let p = place(f);
        if !places.contains(&p) {
            places.push(p);
        }
    }
    for p in &places {
        let _ = writeln!(out, "\n{p}");
        for f in r.findings.iter().filter(|f| &place(f) == p) {
            let _ = writeln!(
                out,
                "  {:<22} {:<13} {:<40} {} [{}]",
                f.policy,
                f.verdict.as_str(),
                f.item,
                f.reason,
                f.source
            );
        }
        for f in r.findings.iter().filter(|f| &place(f) == p) {
            if let Some(line) = &f.replacement {
                let _ = writeln!(out, "  {:<22} replace with: {line}", f.policy);
            }
        }
    }
    if !r.notes.is_empty() {
        out.push('\n');
        for n in &r.notes {
            let _ = writeln!(out, "note: {n}");
        }
    }
    out.push('\n');
    for p in policies {
        let name = p.trim();
        let mine: Vec<&AuditFinding> = r
            .findings
            .iter()
            .filter(|f| f.policy == name || name.ends_with(".toml"))
            .collect();
        let failing = mine.iter().filter(|f| !f.verdict.is_allowed()).count();
        let verdict = if failing == 0 {
            "compliant"
        } else {
            "NOT compliant"
        };
        let _ = writeln!(
            out,
            "{name}: {verdict} ({failing} not allowed, {} deprecated)",
            mine.len() - failing
        );
    }
    out
}
