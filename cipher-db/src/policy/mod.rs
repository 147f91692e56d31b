//! Policies as data: the TOML format, loading (built-in or from a file, with `extends`), and the
//! judgement of one item. The format is documented in docs/policies.md.
//!
//! One file a job: `model` (what a policy is), `parse` (one TOML file), `resolve` (built-ins,
//! files and `extends`), `judge` (one item), `citizen` (the citizen-facing variant), `summary`
//! (what `policy show` prints) and `glob`.
mod citizen;
mod glob;
mod judge;
mod model;
mod parse;
mod resolve;
mod summary;

pub use glob::glob;
pub use model::{
    Confidence, Feature, Judgement, KeyLimits, Policy, PolicyError, Profile, Protocol, Reason,
    Requirement, Role,
};
pub use summary::{PolicySummary, RuleSummary};

/// Built-in policies, embedded in the binary: (name, TOML text).
const BUILTIN: &[(&str, &str)] = &[
    ("fips-140-3", include_str!("../../policies/fips-140-3.toml")),
    ("fips-140-2", include_str!("../../policies/fips-140-2.toml")),
    ("aspera", include_str!("../../policies/aspera.toml")),
    (
        "axway-securetransport",
        include_str!("../../policies/axway-securetransport.toml"),
    ),
    ("rhel9-fips", include_str!("../../policies/rhel9-fips.toml")),
    ("rhel8-fips", include_str!("../../policies/rhel8-fips.toml")),
    ("stig-rhel9", include_str!("../../policies/stig-rhel9.toml")),
    ("stig-rhel8", include_str!("../../policies/stig-rhel8.toml")),
    ("cnsa", include_str!("../../policies/cnsa.toml")),
    ("cnsa-2.0", include_str!("../../policies/cnsa-2.0.toml")),
];

/// The policy used when none is named.
pub const DEFAULT_POLICY: &str = "fips-140-3";

/// Names of the built-in policies, default first.
pub fn builtin_names() -> impl Iterator<Item = &'static str> {
    BUILTIN.iter().map(|(n, _)| *n)
}

fn builtin_text(name: &str) -> Option<&'static str> {
    BUILTIN.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}
