//! The serializable view of a policy (what `policy show --format json` prints).
use super::model::{KeyLimits, Policy, Profile, Protocol, Reason, Requirement, Rule, Selector};
use crate::item::Kind;
use serde::Serialize;

impl Policy {
    /// The policy as a serializable summary (what `policy show --format json` prints).
    pub fn summary(&self) -> PolicySummary<'_> {
        PolicySummary {
            name: &self.name,
            title: &self.title,
            description: &self.description,
            origin: &self.origin,
            extends: &self.extends,
            protocols: &self.protocols,
            default: &self.default,
            rules: self.rules.iter().map(RuleSummary::from).collect(),
            requirements: &self.requirements,
            keys: &self.keys,
            profile: self.profile.as_ref(),
            as_of: &self.as_of,
        }
    }
}

/// Serializable view of a policy.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct PolicySummary<'a> {
    /// Name.
    pub name: &'a str,
    /// Title.
    pub title: &'a str,
    /// Description.
    pub description: &'a str,
    /// Origin.
    pub origin: &'a str,
    /// Extends chain, nearest first.
    pub extends: &'a [String],
    /// Protocols judged.
    pub protocols: &'a [Protocol],
    /// Verdict of unlisted items.
    pub default: &'a Reason,
    /// Rules in evaluation order (later wins).
    pub rules: Vec<RuleSummary<'a>>,
    /// Feature requirements.
    pub requirements: &'a [Requirement],
    /// Key limits.
    pub keys: &'a KeyLimits,
    /// Product lists.
    pub profile: Option<&'a Profile>,
    /// The day the policy judges at (dated rules).
    pub as_of: &'a str,
}

/// Serializable view of one rule.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct RuleSummary<'a> {
    /// Kind it applies to; none means any.
    pub kind: Option<Kind>,
    /// `names`, `patterns` or `component`.
    pub selector: &'static str,
    /// Component name, for component rules.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub component: Option<&'a str>,
    /// Names, patterns or component values.
    pub values: &'a [String],
    /// Verdict and why.
    #[serde(flatten)]
    pub reason: &'a Reason,
    /// The last day the verdict holds; after it the item is disallowed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disallowed_after: Option<&'a str>,
}

impl<'a> From<&'a Rule> for RuleSummary<'a> {
    fn from(r: &'a Rule) -> Self {
        let (selector, component, values) = match &r.selector {
            Selector::Names(v) => ("names", None, v.as_slice()),
            Selector::Patterns(v) => ("patterns", None, v.as_slice()),
            Selector::Component { name, values } => {
                ("component", Some(name.as_str()), values.as_slice())
            }
        };
        Self {
            kind: r.kind,
            selector,
            component,
            values,
            reason: &r.reason,
            disallowed_after: r.disallowed_after.as_deref(),
        }
    }
}
