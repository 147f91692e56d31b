//! FIPS-only TLS termination in front of legacy plaintext backends.
//!
//! The proxy refuses to start unless [`fips::FipsStatus::check`] passes: the AWS-LC FIPS module
//! must be in FIPS mode and the rustls provider must report FIPS.
pub mod fips;
