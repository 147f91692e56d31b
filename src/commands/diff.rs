//! `fipsgate diff`: drift between two saved scans, for alerts (the comparison is
//! `report::drift`, which the HTML report's diff view shares).
use super::CommandResult;
use crate::cli::{DiffArgs, Format};
use crate::exit;
use crate::output::{print_text, Table};
use fipsgate_scanner::report::drift;
use fipsgate_scanner::report::Target;

fn target_text(t: &Target) -> String {
    let ip = t.ip.as_deref().unwrap_or(&t.host);
    let addr = if ip.contains(':') {
        format!("[{ip}]:{}", t.port)
    } else {
        format!("{ip}:{}", t.port)
    };
    if t.host == ip {
        addr
    } else {
        format!("{} ({addr})", t.host)
    }
}

/// Compares the two scans and prints the drift; exit 1 when there is any.
pub fn run(args: &DiffArgs) -> CommandResult {
    let old = crate::saved::read(&args.old)?;
    let new = crate::saved::read(&args.new)?;
    let drift = drift::drift(&old, &new);
    let mut out = String::new();
    match args.format.format {
        Format::Json => {
            for d in &drift {
                out.push_str(&serde_json::to_string(d)?);
                out.push('\n');
            }
        }
        Format::Text => {
            let mut table =
                Table::new(&["endpoint", "service", "change", "facet", "added", "removed"]);
            for d in &drift {
                let endpoint = target_text(d.target);
                let service = d.service.to_owned();
                let change = match d.category() {
                    same if same == d.change => same.to_owned(),
                    moved => format!("{}, {moved}", d.change),
                };
                if d.changes.is_empty() {
                    table.row(vec![endpoint.clone(), service.clone(), change.clone()]);
                }
                for c in &d.changes {
                    table.row(vec![
                        endpoint.clone(),
                        service.clone(),
                        change.clone(),
                        c.facet.clone(),
                        c.added.join(" "),
                        c.removed.join(" "),
                    ]);
                }
            }
            if drift.is_empty() {
                out.push_str("no drift\n");
            } else {
                out.push_str(&table.render());
            }
        }
    }
    print_text(&out)?;
    Ok(if drift.is_empty() {
        exit::OK
    } else {
        exit::FINDINGS
    })
}
