//! FIPS-only TLS termination in front of legacy plaintext backends.
//!
//! The proxy refuses to start unless [`fips::FipsStatus::check`] passes (the AWS-LC FIPS module
//! is in FIPS mode and the rustls provider reports FIPS) and every listener's `ServerConfig`
//! reports `fips()`.
pub mod activation;
pub mod balance;
mod ber;
pub mod close;
pub mod config;
pub mod fips;
pub mod forward;
pub mod ftp;
pub mod metrics;
pub mod ocsp;
pub mod ocsp_check;
pub mod pkcs11_uri;
pub mod proxy_protocol;
pub mod server;
pub mod starttls;
pub mod tls;
pub mod token_key;

/// RFC 3339 UTC time now, for log lines.
pub(crate) fn time_now() -> String {
    fipsgate_cipher_db::time::now()
}
