//! FIPS-only TLS termination.
pub mod fips;
