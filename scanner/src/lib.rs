//! TLS and SSH endpoint scanner: sans-IO wire codecs, tokio probes, the observation and report
//! models, and scan orchestration.
pub mod audit;
pub mod deliver;
pub mod exporter;
pub mod observation;
pub mod probe;
pub mod report;
pub mod scan;
pub mod target;
pub use fipsgate_cipher_db::time;
pub mod wire;
