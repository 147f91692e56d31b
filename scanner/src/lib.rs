//! TLS and SSH endpoint scanner: sans-IO wire codecs, tokio probes, report model.
pub mod wire;
