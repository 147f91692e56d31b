//! `fipsgate version`.
use super::CommandResult;
use crate::cli::Format;
use crate::exit;
use crate::output::{print_json, print_text};
use fipsgate_proxy::fips::FipsStatus;
use serde::Serialize;

#[derive(Serialize)]
struct VersionReport {
    version: &'static str,
    #[serde(flatten)]
    fips: FipsStatus,
}

/// Prints versions and the FIPS status of the crypto stack.
pub fn run(format: Format) -> CommandResult {
    let report = VersionReport {
        version: env!("CARGO_PKG_VERSION"),
        fips: FipsStatus::probe(),
    };
    match format {
        Format::Json => print_json(&report)?,
        Format::Text => {
            let module = report
                .fips
                .fips_module
                .map_or("none (not a FIPS branch)".to_owned(), |v| v.to_string());
            let mode = if report.fips.fips_mode {
                "active".to_owned()
            } else {
                format!(
                    "NOT active ({})",
                    report.fips.fips_mode_error.clone().unwrap_or_default()
                )
            };
            print_text(&format!(
                "fipsgate {}\nAWS-LC {} (FIPS module {module})\nFIPS mode: {mode}\nrustls FIPS provider: {}\n",
                report.version,
                report.fips.awslc_version,
                if report.fips.rustls_provider_fips { "yes" } else { "no" },
            ))?;
        }
    }
    Ok(exit::OK)
}
