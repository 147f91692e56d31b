//! One policy file: TOML in, rules, requirements, limits and profile lists out, with the line of
//! every error.
use super::model::{
    Confidence, Feature, PolicyError, Profile, Protocol, Reason, Requirement, Role, Rule, Selector,
};
use crate::item::{Item, Kind};
use crate::source;
use crate::verdict::Verdict;
use serde::Deserialize;
use toml::Spanned;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    name: Spanned<String>,
    title: Option<String>,
    description: Option<String>,
    extends: Option<Spanned<String>>,
    protocols: Option<Vec<Protocol>>,
    default: Option<RawReason>,
    #[serde(default)]
    rule: Vec<RawRule>,
    #[serde(default)]
    require: Vec<RawRequirement>,
    keys: Option<RawKeys>,
    profile: Option<RawProfile>,
    #[serde(default)]
    allow: Vec<Spanned<String>>,
    #[serde(default)]
    deny: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawReason {
    verdict: Verdict,
    reason: String,
    source: Spanned<String>,
    #[serde(default)]
    confidence: Confidence,
    note: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    kind: Option<Kind>,
    names: Option<Vec<String>>,
    patterns: Option<Vec<String>>,
    component: Option<Spanned<String>>,
    values: Option<Vec<String>>,
    verdict: Verdict,
    reason: String,
    source: Spanned<String>,
    #[serde(default)]
    confidence: Confidence,
    note: Option<String>,
    disallowed_after: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRequirement {
    feature: Feature,
    verdict: Verdict,
    reason: String,
    source: Spanned<String>,
    #[serde(default)]
    confidence: Confidence,
    note: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawKeys {
    rsa_min_bits: Option<u32>,
    dh_min_bits: Option<u32>,
    dh_safe_prime_only: Option<bool>,
    source: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawProfile {
    role: Role,
    source: Spanned<String>,
    tls_version: Option<Vec<Spanned<String>>>,
    tls_suite: Option<Vec<Spanned<String>>>,
    tls_group: Option<Vec<Spanned<String>>>,
    tls_sigalg: Option<Vec<Spanned<String>>>,
    ssh_kex: Option<Vec<Spanned<String>>>,
    ssh_hostkey: Option<Vec<Spanned<String>>>,
    ssh_cipher: Option<Vec<Spanned<String>>>,
    ssh_mac: Option<Vec<Spanned<String>>>,
}

/// Converts spans into line numbers for error messages.
struct Located<'a> {
    origin: &'a str,
    text: &'a str,
}

impl Located<'_> {
    fn line_of(&self, offset: usize) -> usize {
        self.text
            .get(..offset)
            .map_or(1, |t| t.matches('\n').count() + 1)
    }

    fn error(&self, offset: usize, message: impl Into<String>) -> PolicyError {
        PolicyError::Invalid {
            origin: self.origin.to_owned(),
            line: self.line_of(offset),
            message: message.into(),
        }
    }

    fn source(&self, s: &Spanned<String>) -> Result<String, PolicyError> {
        match source::find(s.get_ref()) {
            Some(found) => Ok(found.id.to_owned()),
            None => Err(self.error(
                s.span().start,
                format!(
                    "unknown source {:?}; known: {}",
                    s.get_ref(),
                    source::all()
                        .iter()
                        .map(|s| s.id)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )),
        }
    }

    fn reason(&self, r: RawReason) -> Result<Reason, PolicyError> {
        Ok(Reason {
            verdict: r.verdict,
            reason: r.reason,
            source: self.source(&r.source)?,
            confidence: r.confidence,
            note: r.note,
        })
    }
}

/// A policy as parsed from one file, before `extends` is resolved.
pub(super) struct Parsed {
    pub(super) name: String,
    pub(super) title: Option<String>,
    pub(super) description: Option<String>,
    pub(super) extends: Option<(String, usize)>,
    pub(super) protocols: Option<Vec<Protocol>>,
    pub(super) default: Option<Reason>,
    pub(super) rules: Vec<Rule>,
    pub(super) requirements: Vec<Requirement>,
    pub(super) rsa_min_bits: Option<u32>,
    pub(super) dh_min_bits: Option<u32>,
    pub(super) dh_safe_prime_only: Option<bool>,
    pub(super) keys_source: Option<String>,
    pub(super) profile: Option<Profile>,
}

pub(super) fn parse(origin: &str, text: &str) -> Result<Parsed, PolicyError> {
    let at = Located { origin, text };
    let raw: RawPolicy = toml::from_str(text).map_err(|e| {
        let offset = e.span().map_or(0, |s| s.start);
        at.error(offset, e.message().to_owned())
    })?;
    let name = raw.name.get_ref().trim().to_owned();
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Err(at.error(
            raw.name.span().start,
            "name must be non-empty and use only letters, digits, '-', '_' and '.'",
        ));
    }
    let mut rules = Vec::new();
    for r in raw.rule {
        let selector = match (r.names, r.patterns, r.component, r.values) {
            (Some(names), None, None, None) if !names.is_empty() => Selector::Names(names),
            (None, Some(patterns), None, None) if !patterns.is_empty() => Selector::Patterns(patterns),
            (None, None, Some(component), Some(values)) if !values.is_empty() => {
                let kind = r.kind.ok_or_else(|| at.error(component.span().start, "a component rule needs a kind"))?;
                let c = component.get_ref();
                let known = kind.judged_components();
                if !known.contains(&c.as_str()) {
                    return Err(at.error(
                        component.span().start,
                        format!("{kind} has no judged component {c:?}; judged components: {}", known.join(", ")),
                    ));
                }
                Selector::Component { name: c.clone(), values }
            }
            _ => {
                return Err(at.error(
                    r.source.span().start,
                    "a rule needs exactly one of: names = [...], patterns = [...], or component = \"...\" with values = [...]",
                ))
            }
        };
        let reason = Reason {
            verdict: r.verdict,
            reason: r.reason,
            source: at.source(&r.source)?,
            confidence: r.confidence,
            note: r.note,
        };
        let disallowed_after = match r.disallowed_after {
            Some(d) if !crate::time::is_date(d.get_ref()) => {
                return Err(at.error(
                    d.span().start,
                    "disallowed_after must be a date, YYYY-MM-DD",
                ))
            }
            Some(d) if reason.verdict == Verdict::Disallowed => {
                return Err(at.error(
                    d.span().start,
                    "disallowed_after on a rule that is disallowed already",
                ))
            }
            d => d.map(|d| d.into_inner()),
        };
        rules.push(Rule {
            kind: r.kind,
            selector,
            reason,
            level: 0,
            disallowed_after,
        });
    }
    for (list, verdict, word) in [
        (&raw.allow, Verdict::Approved, "allowed"),
        (&raw.deny, Verdict::Disallowed, "denied"),
    ] {
        for entry in list {
            let text = entry.get_ref().trim().to_owned();
            if text.is_empty() {
                return Err(at.error(entry.span().start, format!("empty entry in {word} list")));
            }
            let selector = if text.contains(['*', '?']) {
                Selector::Patterns(vec![text])
            } else if Item::lookup(&text, None).is_empty() {
                return Err(at.error(entry.span().start, format!("{text:?} is not an algorithm cipher-db knows (use a pattern with * to match unknown names)")));
            } else {
                Selector::Names(vec![text])
            };
            let reason = Reason {
                verdict,
                reason: format!("{word} by policy {name}"),
                source: "POLICY".to_owned(),
                confidence: Confidence::Verified,
                note: None,
            };
            rules.push(Rule {
                kind: None,
                selector,
                reason,
                level: 0,
                disallowed_after: None,
            });
        }
    }
    let mut requirements = Vec::new();
    for r in raw.require {
        let reason = Reason {
            verdict: r.verdict,
            reason: r.reason,
            source: at.source(&r.source)?,
            confidence: r.confidence,
            note: r.note,
        };
        requirements.push(Requirement {
            feature: r.feature,
            reason,
        });
    }
    let (rsa_min_bits, dh_min_bits, dh_safe_prime_only, keys_source) = match raw.keys {
        Some(k) => {
            let src = k.source.as_ref().map(|s| at.source(s)).transpose()?;
            (k.rsa_min_bits, k.dh_min_bits, k.dh_safe_prime_only, src)
        }
        None => (None, None, None, None),
    };
    let profile = raw.profile.map(|p| parse_profile(&at, p)).transpose()?;
    let default = raw.default.map(|d| at.reason(d)).transpose()?;
    let extends = raw
        .extends
        .map(|e| (e.get_ref().clone(), at.line_of(e.span().start)));
    Ok(Parsed {
        name,
        title: raw.title,
        description: raw.description,
        extends,
        protocols: raw.protocols,
        default,
        rules,
        requirements,
        rsa_min_bits,
        dh_min_bits,
        dh_safe_prime_only,
        keys_source,
        profile,
    })
}

fn parse_profile(at: &Located<'_>, p: RawProfile) -> Result<Profile, PolicyError> {
    let source = at.source(&p.source)?;
    let mut lists = Vec::new();
    let raw_lists = [
        (Kind::TlsVersion, p.tls_version),
        (Kind::TlsSuite, p.tls_suite),
        (Kind::TlsGroup, p.tls_group),
        (Kind::TlsSigalg, p.tls_sigalg),
        (Kind::SshKex, p.ssh_kex),
        (Kind::SshHostkey, p.ssh_hostkey),
        (Kind::SshCipher, p.ssh_cipher),
        (Kind::SshMac, p.ssh_mac),
    ];
    for (kind, list) in raw_lists {
        let Some(list) = list else { continue };
        let mut items = Vec::new();
        for name in list {
            let found = Item::lookup(name.get_ref(), Some(kind));
            match found.into_iter().next() {
                Some(item) if !items.contains(&item) => items.push(item),
                Some(_) => {
                    return Err(at.error(
                        name.span().start,
                        format!("{:?} is listed twice in {kind}", name.get_ref()),
                    ))
                }
                None => {
                    return Err(at.error(
                        name.span().start,
                        format!("{:?} is not a {kind} cipher-db knows", name.get_ref()),
                    ))
                }
            }
        }
        lists.push((kind, items));
    }
    Ok(Profile {
        role: p.role,
        source,
        lists,
    })
}
