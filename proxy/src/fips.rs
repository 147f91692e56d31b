//! Whether the AWS-LC FIPS module is really active.
pub fn probe() -> bool {
    aws_lc_rs::try_fips_mode().is_ok() && rustls::crypto::default_fips_provider().fips()
}
