//! The documents that verdicts cite.
use serde::Serialize;

/// A cited document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Source {
    /// Short id used in policies and reports, such as `SP800-52r2`.
    pub id: &'static str,
    /// Title and date of the document.
    pub document: &'static str,
}

/// Every known source.
pub fn all() -> &'static [Source] {
    crate::data::SOURCES
}

/// The source with this id.
pub fn find(id: &str) -> Option<&'static Source> {
    all().iter().find(|s| s.id == id)
}
