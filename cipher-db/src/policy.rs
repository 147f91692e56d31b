//! Policies as data: the TOML format, loading (built-in or from a file, with `extends`), and the
//! judgement of one item. The format is documented in docs/policies.md.
use crate::item::{Item, Kind};
use crate::source;
use crate::verdict::Verdict;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::Path;
use toml::Spanned;

/// Built-in policies, embedded in the binary: (name, TOML text).
const BUILTIN: &[(&str, &str)] = &[
    ("fips-140-3", include_str!("../policies/fips-140-3.toml")),
    ("fips-140-2", include_str!("../policies/fips-140-2.toml")),
    ("aspera", include_str!("../policies/aspera.toml")),
    (
        "axway-securetransport",
        include_str!("../policies/axway-securetransport.toml"),
    ),
    ("rhel9-fips", include_str!("../policies/rhel9-fips.toml")),
    ("rhel8-fips", include_str!("../policies/rhel8-fips.toml")),
    ("stig-rhel9", include_str!("../policies/stig-rhel9.toml")),
    ("stig-rhel8", include_str!("../policies/stig-rhel8.toml")),
    ("cnsa", include_str!("../policies/cnsa.toml")),
];

/// The policy used when none is named.
pub const DEFAULT_POLICY: &str = "fips-140-3";

/// How far `extends` may chain before we call it a cycle.
const MAX_EXTENDS_DEPTH: usize = 8;

/// Names of the built-in policies, default first.
pub fn builtin_names() -> impl Iterator<Item = &'static str> {
    BUILTIN.iter().map(|(n, _)| *n)
}

/// A protocol a policy speaks about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Protocol {
    /// TLS and SSL.
    Tls,
    /// SSH.
    Ssh,
}

/// Whether a verdict row was checked against its primary source.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Confidence {
    /// Checked against the cited document.
    #[default]
    Verified,
    /// Believed right, not yet checked against the primary text.
    Unverified,
}

/// A verdict with why and on whose authority.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Reason {
    /// The verdict.
    pub verdict: Verdict,
    /// Why, in one sentence.
    pub reason: String,
    /// Source id (see [`crate::source`]).
    pub source: String,
    /// Whether the row was checked against the source.
    pub confidence: Confidence,
    /// A remark that does not change the verdict.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A policy's judgement of one item: the verdict and every reason behind it, worst first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Judgement {
    /// The worst verdict of the reasons.
    pub verdict: Verdict,
    /// Reasons, worst first; the first one explains the verdict.
    pub reasons: Vec<Reason>,
}

impl Judgement {
    fn single(reason: Reason) -> Self {
        Self {
            verdict: reason.verdict,
            reasons: vec![reason],
        }
    }

    /// The reason that decides the verdict.
    pub fn primary(&self) -> Option<&Reason> {
        self.reasons.first()
    }

    /// Notes attached to any reason.
    pub fn notes(&self) -> impl Iterator<Item = &str> {
        self.reasons.iter().filter_map(|r| r.note.as_deref())
    }
}

/// What a rule matches.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Selector {
    /// Any of these names or aliases (case-insensitive).
    Names(Vec<String>),
    /// Any of these glob patterns (`*`, `?`) against any name or alias.
    Patterns(Vec<String>),
    /// A component with one of these values (`*` for any).
    Component { name: String, values: Vec<String> },
}

/// One rule of a policy.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Rule {
    kind: Option<Kind>,
    selector: Selector,
    reason: Reason,
    /// Position in the `extends` chain: 0 for the root ancestor, higher for descendants.
    level: usize,
}

impl Rule {
    fn matches_by_name(&self, item: &Item) -> bool {
        if self.kind.is_some_and(|k| k != item.kind) {
            return false;
        }
        match &self.selector {
            Selector::Names(names) => item
                .names()
                .any(|n| names.iter().any(|x| x.eq_ignore_ascii_case(n))),
            Selector::Patterns(patterns) => {
                item.names().any(|n| patterns.iter().any(|p| glob(p, n)))
            }
            Selector::Component { .. } => false,
        }
    }

    fn matches_component(&self, kind: Kind, component: &str, value: &str) -> bool {
        match &self.selector {
            Selector::Component { name, values } => {
                self.kind == Some(kind)
                    && name == component
                    && values
                        .iter()
                        .any(|v| v == "*" || v.eq_ignore_ascii_case(value))
            }
            _ => false,
        }
    }
}

/// A protocol feature a policy can require.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Feature {
    /// TLS 1.2 must negotiate the extended master secret (RFC 7627).
    TlsExtendedMasterSecret,
    /// Servers offering TLS ≤ 1.2 must support secure renegotiation (RFC 5746).
    TlsSecureRenegotiation,
    /// Servers offering TLS 1.0/1.1 without TLS 1.3 must honour TLS_FALLBACK_SCSV (RFC 7507).
    TlsFallbackScsv,
    /// Servers offering CBC suites must support encrypt-then-MAC (RFC 7366).
    TlsEncryptThenMac,
    /// The server must staple OCSP responses (status_request).
    TlsOcspStapling,
    /// Only null compression may be enabled.
    TlsNoCompression,
    /// 0-RTT early data should not be accepted.
    TlsNoEarlyData,
    /// The server must offer TLS 1.3.
    TlsOffersTls13,
}

impl Feature {
    /// The spelling in policies and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::TlsExtendedMasterSecret => "tls-extended-master-secret",
            Self::TlsSecureRenegotiation => "tls-secure-renegotiation",
            Self::TlsFallbackScsv => "tls-fallback-scsv",
            Self::TlsEncryptThenMac => "tls-encrypt-then-mac",
            Self::TlsOcspStapling => "tls-ocsp-stapling",
            Self::TlsNoCompression => "tls-no-compression",
            Self::TlsNoEarlyData => "tls-no-early-data",
            Self::TlsOffersTls13 => "tls-offers-tls13",
        }
    }
}

/// A requirement on a protocol feature, with the verdict of a server that fails it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Requirement {
    /// The feature.
    pub feature: Feature,
    /// Verdict, reason and source when the server does not meet it.
    #[serde(flatten)]
    pub reason: Reason,
}

/// Limits on key and group sizes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct KeyLimits {
    /// Smallest RSA modulus, in bits.
    pub rsa_min_bits: u32,
    /// Smallest finite-field DH group (DHE primes, SSH group-exchange moduli), in bits.
    pub dh_min_bits: u32,
    /// Whether DHE must use a named safe-prime group (RFC 7919 or RFC 3526).
    pub dh_safe_prime_only: bool,
    /// Source of these limits.
    pub source: String,
}

/// How the product behind a profile takes part in a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// It connects to the scanned server (its list order is the client preference).
    Client,
    /// It accepts connections; simulations still treat its list as the peer's offer.
    Server,
}

/// The ordered algorithm lists of a product in FIPS mode.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Profile {
    /// Client or server.
    pub role: Role,
    /// Source id of the lists.
    pub source: String,
    /// Ordered lists by kind, each resolved to known items.
    pub lists: Vec<(Kind, Vec<Item>)>,
}

impl Profile {
    /// The ordered list for a kind, if the profile constrains it.
    pub fn list(&self, kind: Kind) -> Option<&[Item]> {
        self.lists
            .iter()
            .find(|(k, _)| *k == kind)
            .map(|(_, l)| l.as_slice())
    }
}

/// A resolved policy: its own rules after those of the policies it extends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// Short name (`fips-140-3`).
    pub name: String,
    /// One-line title.
    pub title: String,
    /// Longer description.
    pub description: String,
    /// Where it came from: `built-in` or a file path.
    pub origin: String,
    /// The chain of policies it extends, nearest first.
    pub extends: Vec<String>,
    /// Protocols it judges.
    pub protocols: Vec<Protocol>,
    /// Verdict of anything no rule names.
    pub default: Reason,
    rules: Vec<Rule>,
    /// Feature requirements.
    pub requirements: Vec<Requirement>,
    /// Key and group size limits.
    pub keys: KeyLimits,
    /// Ordered product lists, for vendor and OS profiles.
    pub profile: Option<Profile>,
    /// The `extends` level at which each profile list was defined.
    profile_levels: Vec<(Kind, usize)>,
}

/// Why a policy could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyError {
    /// No built-in policy of that name and no such file.
    NotFound(String),
    /// The file could not be read.
    Io { path: String, message: String },
    /// The text is not a valid policy.
    Invalid {
        origin: String,
        line: usize,
        message: String,
    },
    /// `extends` forms a loop or chains too deep.
    ExtendsCycle(Vec<String>),
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotFound(n) => write!(
                f,
                "no policy named {n:?} (built-in: {}) and no such file",
                builtin_names().collect::<Vec<_>>().join(", ")
            ),
            Self::Io { path, message } => write!(f, "{path}: {message}"),
            Self::Invalid {
                origin,
                line,
                message,
            } => write!(f, "{origin}:{line}: {message}"),
            Self::ExtendsCycle(chain) => write!(f, "policy extends loop: {}", chain.join(" -> ")),
        }
    }
}

impl std::error::Error for PolicyError {}

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
struct Parsed {
    name: String,
    title: Option<String>,
    description: Option<String>,
    extends: Option<(String, usize)>,
    protocols: Option<Vec<Protocol>>,
    default: Option<Reason>,
    rules: Vec<Rule>,
    requirements: Vec<Requirement>,
    rsa_min_bits: Option<u32>,
    dh_min_bits: Option<u32>,
    dh_safe_prime_only: Option<bool>,
    keys_source: Option<String>,
    profile: Option<Profile>,
}

fn parse(origin: &str, text: &str) -> Result<Parsed, PolicyError> {
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
        rules.push(Rule {
            kind: r.kind,
            selector,
            reason,
            level: 0,
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

fn builtin_text(name: &str) -> Option<&'static str> {
    BUILTIN.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

impl Policy {
    /// A built-in policy by name.
    pub fn builtin(name: &str) -> Result<Policy, PolicyError> {
        let text = builtin_text(name).ok_or_else(|| PolicyError::NotFound(name.to_owned()))?;
        Self::from_text(&format!("built-in:{name}"), text)
    }

    /// Every built-in policy.
    pub fn builtins() -> Result<Vec<Policy>, PolicyError> {
        builtin_names().map(Self::builtin).collect()
    }

    /// A built-in policy name, or else a policy file path.
    pub fn load(name_or_path: &str) -> Result<Policy, PolicyError> {
        if builtin_text(name_or_path).is_some() {
            return Self::builtin(name_or_path);
        }
        let path = Path::new(name_or_path);
        if path.exists() {
            return Self::from_file(path);
        }
        Err(PolicyError::NotFound(name_or_path.to_owned()))
    }

    /// A policy file.
    pub fn from_file(path: &Path) -> Result<Policy, PolicyError> {
        let text = std::fs::read_to_string(path).map_err(|e| PolicyError::Io {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        Self::from_text(&path.display().to_string(), &text)
    }

    /// A policy from TOML text; `origin` names it in errors.
    pub fn from_text(origin: &str, text: &str) -> Result<Policy, PolicyError> {
        Self::resolve(origin, text, &mut Vec::new())
    }

    fn resolve(origin: &str, text: &str, chain: &mut Vec<String>) -> Result<Policy, PolicyError> {
        let mut parsed = parse(origin, text)?;
        chain.push(parsed.name.clone());
        let parent = match &parsed.extends {
            None => None,
            Some((parent_name, line)) => {
                if chain.contains(parent_name) || chain.len() >= MAX_EXTENDS_DEPTH {
                    let mut c = chain.clone();
                    c.push(parent_name.clone());
                    return Err(PolicyError::ExtendsCycle(c));
                }
                let text = builtin_text(parent_name).ok_or_else(|| PolicyError::Invalid {
                    origin: origin.to_owned(),
                    line: *line,
                    message: format!(
                        "extends {parent_name:?}, which is not a built-in policy ({})",
                        builtin_names().collect::<Vec<_>>().join(", ")
                    ),
                })?;
                Some(Self::resolve(
                    &format!("built-in:{parent_name}"),
                    text,
                    chain,
                )?)
            }
        };
        let default_default = || Reason {
            verdict: Verdict::NotApproved,
            reason: "not listed by this policy".to_owned(),
            source: "POLICY".to_owned(),
            confidence: Confidence::Verified,
            note: None,
        };
        let level = parent.as_ref().map_or(0, |p| p.extends.len() + 1);
        for rule in &mut parsed.rules {
            rule.level = level;
        }
        let own_lists: Vec<(Kind, usize)> = parsed
            .profile
            .iter()
            .flat_map(|p| p.lists.iter().map(|(k, _)| (*k, level)))
            .collect();
        let policy = match parent {
            None => Policy {
                name: parsed.name,
                title: parsed.title.unwrap_or_default(),
                description: parsed.description.unwrap_or_default(),
                origin: origin.to_owned(),
                extends: Vec::new(),
                protocols: parsed
                    .protocols
                    .unwrap_or_else(|| vec![Protocol::Tls, Protocol::Ssh]),
                default: parsed.default.unwrap_or_else(default_default),
                rules: parsed.rules,
                requirements: parsed.requirements,
                keys: KeyLimits {
                    rsa_min_bits: parsed.rsa_min_bits.unwrap_or(0),
                    dh_min_bits: parsed.dh_min_bits.unwrap_or(0),
                    dh_safe_prime_only: parsed.dh_safe_prime_only.unwrap_or(false),
                    source: parsed.keys_source.unwrap_or_else(|| "POLICY".to_owned()),
                },
                profile: parsed.profile,
                profile_levels: own_lists,
            },
            Some(mut p) => {
                p.extends.insert(0, p.name.clone());
                p.name = parsed.name;
                p.origin = origin.to_owned();
                if let Some(t) = parsed.title {
                    p.title = t;
                }
                if let Some(d) = parsed.description {
                    p.description = d;
                }
                if let Some(pr) = parsed.protocols {
                    p.protocols = pr;
                }
                if let Some(d) = parsed.default {
                    p.default = d;
                }
                p.rules.extend(parsed.rules);
                for r in parsed.requirements {
                    p.requirements.retain(|x| x.feature != r.feature);
                    p.requirements.push(r);
                }
                if let Some(v) = parsed.rsa_min_bits {
                    p.keys.rsa_min_bits = v;
                }
                if let Some(v) = parsed.dh_min_bits {
                    p.keys.dh_min_bits = v;
                }
                if let Some(v) = parsed.dh_safe_prime_only {
                    p.keys.dh_safe_prime_only = v;
                }
                if let Some(v) = parsed.keys_source {
                    p.keys.source = v;
                }
                for (kind, lvl) in own_lists {
                    p.profile_levels.retain(|(k, _)| *k != kind);
                    p.profile_levels.push((kind, lvl));
                }
                if let Some(mine) = parsed.profile {
                    p.profile = Some(match p.profile.take() {
                        None => mine,
                        Some(mut theirs) => {
                            for (kind, list) in mine.lists {
                                theirs.lists.retain(|(k, _)| *k != kind);
                                theirs.lists.push((kind, list));
                            }
                            Profile {
                                role: mine.role,
                                source: mine.source,
                                lists: theirs.lists,
                            }
                        }
                    });
                }
                p
            }
        };
        Ok(policy)
    }

    /// Whether the policy judges this protocol.
    pub fn covers(&self, protocol: Protocol) -> bool {
        self.protocols.contains(&protocol)
    }

    /// Judges one item.
    pub fn judge(&self, item: &Item) -> Judgement {
        if !item.known {
            return Judgement::single(Reason {
                verdict: Verdict::Unknown,
                reason: "a code point cipher-db does not know".to_owned(),
                source: "POLICY".to_owned(),
                confidence: Confidence::Verified,
                note: None,
            });
        }
        // A name rule wins unless a descendant policy redefined the product list of this kind.
        let name_rule = self.rules.iter().rev().find(|r| r.matches_by_name(item));
        let list_level = self
            .profile_levels
            .iter()
            .find(|(k, _)| *k == item.kind)
            .map(|(_, l)| *l);
        if let Some(rule) = name_rule.filter(|r| list_level.is_none_or(|l| r.level >= l)) {
            return Judgement::single(rule.reason.clone());
        }
        if let Some(list) = self
            .profile
            .as_ref()
            .and_then(|p| p.list(item.kind).map(|l| (p, l)))
        {
            let (profile, list) = list;
            let listed = list.iter().any(|i| i.name == item.name);
            let title = if self.title.is_empty() {
                self.name.as_str()
            } else {
                self.title.as_str()
            };
            return Judgement::single(Reason {
                verdict: if listed {
                    Verdict::Approved
                } else {
                    Verdict::NotApproved
                },
                reason: if listed {
                    format!("listed by {title}")
                } else {
                    format!("not in the {} list of {title}", item.kind)
                },
                source: profile.source.clone(),
                confidence: Confidence::Verified,
                note: None,
            });
        }
        let mut reasons: Vec<Reason> = Vec::new();
        for component in item.kind.judged_components() {
            let Some(value) = item.component(component) else {
                continue;
            };
            let reason = match self
                .rules
                .iter()
                .rev()
                .find(|r| r.matches_component(item.kind, component, value))
            {
                Some(rule) => rule.reason.clone(),
                None => Reason {
                    reason: format!("{component} {value}: {}", self.default.reason),
                    ..self.default.clone()
                },
            };
            if !reasons.contains(&reason) {
                reasons.push(reason);
            }
        }
        if reasons.is_empty() {
            return Judgement::single(self.default.clone());
        }
        reasons.sort_by(|a, b| {
            b.verdict
                .cmp(&a.verdict)
                .then(b.note.is_some().cmp(&a.note.is_some()))
        });
        let verdict = reasons[0].verdict;
        Judgement { verdict, reasons }
    }

    /// Number of rules marked `unverified`, own and inherited.
    pub fn unverified_rules(&self) -> usize {
        self.rules
            .iter()
            .filter(|r| r.reason.confidence == Confidence::Unverified)
            .count()
            + self
                .requirements
                .iter()
                .filter(|r| r.reason.confidence == Confidence::Unverified)
                .count()
    }

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
        }
    }
}

/// Glob match with `*` (any run) and `?` (one character), case-insensitive.
pub fn glob(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.to_ascii_lowercase().chars().collect();
    let t: Vec<char> = text.to_ascii_lowercase().chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let mut backtrack: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            backtrack = Some((pi, ti));
            pi += 1;
        } else if let Some((bp, bt)) = backtrack {
            pi = bp + 1;
            ti = bt + 1;
            backtrack = Some((bp, bt + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_matches_like_a_shell() {
        assert!(glob("TLS_*_CBC_*", "TLS_RSA_WITH_AES_128_CBC_SHA"));
        assert!(glob("hmac-sha?-*", "hmac-sha1-96"));
        assert!(!glob("TLS_*_GCM_*", "TLS_RSA_WITH_AES_128_CBC_SHA"));
        assert!(glob("*", ""));
        assert!(!glob("a?", "a"));
    }

    #[test]
    fn every_builtin_loads() {
        for name in builtin_names() {
            let p = Policy::builtin(name);
            assert!(
                p.is_ok(),
                "{name}: {}",
                p.err().map(|e| e.to_string()).unwrap_or_default()
            );
        }
    }

    #[test]
    fn errors_name_the_line() {
        let text = "name = \"x\"\n\n[[rule]]\nkind = \"tls-suite\"\ncomponent = \"colour\"\nvalues = [\"red\"]\nverdict = \"approved\"\nreason = \"r\"\nsource = \"POLICY\"\n";
        let e = Policy::from_text("my.toml", text)
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            e.as_deref()
                .map(|s| s.starts_with("my.toml:5: tls-suite has no judged component \"colour\"")),
            Some(true),
            "{e:?}"
        );
        let e = Policy::from_text("my.toml", "name = \"x\"\nextends = \"nope\"\n")
            .err()
            .map(|e| e.to_string());
        assert!(
            e.as_deref()
                .is_some_and(|s| s.starts_with("my.toml:2: extends \"nope\"")),
            "{e:?}"
        );
        let e = Policy::from_text("my.toml", "name = \"x\"\nverdict = 3\n")
            .err()
            .map(|e| e.to_string());
        assert!(
            e.as_deref()
                .is_some_and(|s| s.starts_with("my.toml:2: unknown field `verdict`")),
            "{e:?}"
        );
        let e = Policy::from_text("my.toml", "name = \"x\"\ndeny = [\"aes999-ctr\"]\n")
            .err()
            .map(|e| e.to_string());
        assert!(
            e.as_deref()
                .is_some_and(|s| s.starts_with("my.toml:2: \"aes999-ctr\" is not an algorithm")),
            "{e:?}"
        );
        let e = Policy::from_text("my.toml", "name = \"x\"\n[[rule]]\nnames=[\"a\"]\nverdict=\"approved\"\nreason=\"r\"\nsource=\"NIST-9\"\n").err().map(|e| e.to_string());
        assert!(
            e.as_deref()
                .is_some_and(|s| s.starts_with("my.toml:6: unknown source \"NIST-9\"")),
            "{e:?}"
        );
    }

    #[test]
    fn own_name_rules_beat_inherited_lists_and_inherited_ones_do_not() {
        let aspera = Policy::builtin("aspera").ok();
        let item = Item::lookup("aes192-ctr", Some(Kind::SshCipher)).pop();
        let reason = aspera
            .zip(item)
            .map(|(p, i)| p.judge(&i).reasons[0].reason.clone());
        assert_eq!(
            reason
                .as_deref()
                .map(|r| r.starts_with("listed by IBM Aspera")),
            Some(true),
            "{reason:?}"
        );
        let text = "name = \"mine\"\nextends = \"aspera\"\ndeny = [\"3des-cbc\"]\n";
        let mine = Policy::from_text("mine.toml", text).ok();
        let item = Item::lookup("3des-cbc", Some(Kind::SshCipher)).pop();
        let verdict = mine.zip(item).map(|(p, i)| p.judge(&i).verdict);
        assert_eq!(verdict, Some(Verdict::Disallowed));
    }

    #[test]
    fn extends_loops_are_refused() {
        let e = Policy::from_text("f", "name = \"fips-140-3\"\nextends = \"fips-140-3\"\n").err();
        assert!(matches!(e, Some(PolicyError::ExtendsCycle(_))), "{e:?}");
    }
}
