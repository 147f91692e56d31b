//! Whether the AWS-LC FIPS module is really active, and which one it is.
use serde::Serialize;
use std::fmt;

/// What the crypto stack says about itself at run time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FipsStatus {
    /// AWS-LC release linked at run time (`3.0.0`).
    pub awslc_version: String,
    /// FIPS module version this build corresponds to, if it is a FIPS branch.
    pub fips_module: Option<u32>,
    /// Whether AWS-LC reports FIPS mode (`FIPS_mode() == 1`), with its error otherwise.
    pub fips_mode: bool,
    /// The error AWS-LC gave when FIPS mode is off.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fips_mode_error: Option<String>,
    /// Whether rustls' FIPS provider reports FIPS.
    pub rustls_provider_fips: bool,
}

/// Which FIPS check failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FipsError {
    /// AWS-LC is not in FIPS mode.
    ModuleNotInFipsMode(String),
    /// The rustls provider does not report FIPS.
    ProviderNotFips,
}

impl fmt::Display for FipsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ModuleNotInFipsMode(e) => {
                write!(f, "the AWS-LC FIPS module is not in FIPS mode: {e}")
            }
            Self::ProviderNotFips => {
                f.write_str("rustls' default FIPS crypto provider does not report FIPS")
            }
        }
    }
}

impl std::error::Error for FipsError {}

impl FipsStatus {
    /// Asks the crypto stack.
    pub fn probe() -> Self {
        let mode = aws_lc_rs::try_fips_mode();
        Self {
            awslc_version: aws_lc_rs::awslc_version().to_owned(),
            fips_module: aws_lc_rs::fips_version(),
            fips_mode: mode.is_ok(),
            fips_mode_error: mode.err().map(str::to_owned),
            rustls_provider_fips: rustls::crypto::default_fips_provider().fips(),
        }
    }

    /// Ok when every check passes; otherwise the first that failed.
    pub fn check(&self) -> Result<(), FipsError> {
        if !self.fips_mode {
            return Err(FipsError::ModuleNotInFipsMode(
                self.fips_mode_error.clone().unwrap_or_default(),
            ));
        }
        if !self.rustls_provider_fips {
            return Err(FipsError::ProviderNotFips);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_build_runs_the_fips_module_in_fips_mode() {
        let status = FipsStatus::probe();
        assert_eq!(status.check(), Ok(()), "{status:?}");
        assert!(!status.awslc_version.is_empty());
    }
}
