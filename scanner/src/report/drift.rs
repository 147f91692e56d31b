//! Drift between two scans: endpoints matched by host, address and port, each compared facet by
//! facet (status, verdict per policy, versions, suites per version, groups, signature schemes,
//! certificates, SSH algorithm lists, host keys), with the direction of its verdicts and the
//! findings that appeared or were fixed. `fipsgate diff` prints it; the HTML report shows it.
use super::{EndpointReport, Target};
use fipsgate_cipher_db::assess::Finding;
use fipsgate_cipher_db::Verdict;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// host, address, port.
pub type Key = (String, String, u16);

/// An endpoint's key.
pub fn key(target: &Target) -> Key {
    (
        target.host.clone(),
        target.ip.clone().unwrap_or_default(),
        target.port,
    )
}

/// What one facet of an endpoint was and is.
#[derive(Debug, Clone, Serialize)]
pub struct Change {
    /// `versions`, `tls1.2 cipher_suites`, `verdict fips-140-3` …
    pub facet: String,
    /// Values the new scan has and the old one had not.
    pub added: Vec<String>,
    /// Values the old scan had and the new one has not.
    pub removed: Vec<String>,
}

/// Which way an endpoint's verdicts moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Some policy's verdict improved and none worsened.
    Better,
    /// Some policy's verdict worsened and none improved.
    Worse,
    /// One policy's verdict improved and another's worsened.
    Mixed,
    /// No verdict moved (algorithms, certificates or status did).
    Same,
}

/// One line of drift.
#[derive(Debug, Clone, Serialize)]
pub struct Drift<'a> {
    /// Always `drift`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// `appeared`, `vanished` or `changed`.
    pub change: &'static str,
    /// The endpoint.
    pub target: &'a Target,
    /// Its service.
    pub service: &'a str,
    /// For `changed`: which way its verdicts moved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub direction: Option<Direction>,
    /// For `changed`: the facets that differ.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<Change>,
}

/// A set of strings.
fn set<I: IntoIterator<Item = S>, S: Into<String>>(items: I) -> BTreeSet<String> {
    items.into_iter().map(Into::into).collect()
}

/// Every comparable facet of an endpoint, as a set of strings.
fn facets(e: &EndpointReport) -> BTreeMap<String, BTreeSet<String>> {
    let mut f = BTreeMap::new();
    f.insert("status".to_owned(), set([e.status.as_str()]));
    for v in &e.verdicts {
        f.insert(format!("verdict {}", v.policy), set([v.verdict.as_str()]));
    }
    if let Some(tls) = &e.tls {
        f.insert(
            "versions".into(),
            set(tls.versions.iter().map(|v| v.version.as_str())),
        );
        for v in &tls.versions {
            f.insert(
                format!("{} cipher_suites", v.version.as_str()),
                set(v.cipher_suites.iter().map(|s| s.iana.as_str())),
            );
        }
        f.insert(
            "groups".into(),
            set(tls.groups.iter().map(|g| g.name.as_str())),
        );
        f.insert(
            "signature_schemes".into(),
            set(tls.signature_schemes.iter().map(|s| s.name.as_str())),
        );
        let leaves = tls.certificates.iter().filter_map(|c| c.chain.first());
        f.insert(
            "certificates".into(),
            set(leaves.map(|c| c.sha256.as_str())),
        );
    }
    if let Some(ssh) = &e.ssh {
        for (facet, lists) in [
            ("kex", vec![&ssh.kex]),
            ("host_key_algorithms", vec![&ssh.host_key_algorithms]),
            (
                "ciphers",
                vec![&ssh.ciphers_client_to_server, &ssh.ciphers_server_to_client],
            ),
            (
                "macs",
                vec![&ssh.macs_client_to_server, &ssh.macs_server_to_client],
            ),
            (
                "compression",
                vec![
                    &ssh.compression_client_to_server,
                    &ssh.compression_server_to_client,
                ],
            ),
        ] {
            f.insert(
                facet.to_owned(),
                set(lists.into_iter().flatten().map(String::as_str)),
            );
        }
        f.insert(
            "host_keys".into(),
            set(ssh.host_keys.iter().map(|k| k.fingerprint_sha256.as_str())),
        );
    }
    f
}

/// The facets that differ.
pub fn compare(old: &EndpointReport, new: &EndpointReport) -> Vec<Change> {
    let (a, b) = (facets(old), facets(new));
    let names: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    let empty = BTreeSet::new();
    names
        .into_iter()
        .filter_map(|name| {
            let (was, is) = (a.get(name).unwrap_or(&empty), b.get(name).unwrap_or(&empty));
            let added: Vec<String> = is.difference(was).cloned().collect();
            let removed: Vec<String> = was.difference(is).cloned().collect();
            (!added.is_empty() || !removed.is_empty()).then(|| Change {
                facet: name.clone(),
                added,
                removed,
            })
        })
        .collect()
}

/// Which way the verdicts of the policies both scans judged moved.
pub fn direction(old: &EndpointReport, new: &EndpointReport) -> Direction {
    let (mut better, mut worse) = (false, false);
    for was in &old.verdicts {
        if let Some(is) = new.verdicts.iter().find(|v| v.policy == was.policy) {
            // EndpointVerdict orders fips-only first, so a greater one is worse.
            better |= is.verdict < was.verdict;
            worse |= is.verdict > was.verdict;
        }
    }
    match (better, worse) {
        (true, true) => Direction::Mixed,
        (true, false) => Direction::Better,
        (false, true) => Direction::Worse,
        (false, false) => Direction::Same,
    }
}

/// What identifies a finding across scans: policy, item, verdict.
pub type FindingKey<'a> = (&'a str, &'a str, Verdict);

/// A finding's key.
pub fn finding_key(f: &Finding) -> FindingKey<'_> {
    (&f.policy, &f.item, f.verdict)
}

/// The findings other than approved that `new` has and `old` had not (appeared), and the other
/// way round (fixed).
pub fn findings_moved<'a>(
    old: &'a EndpointReport,
    new: &'a EndpointReport,
) -> (Vec<&'a Finding>, Vec<&'a Finding>) {
    let notable = |r: &'a EndpointReport| -> BTreeMap<FindingKey<'a>, &'a Finding> {
        r.notable_findings().map(|f| (finding_key(f), f)).collect()
    };
    let (was, is) = (notable(old), notable(new));
    let appeared = is
        .iter()
        .filter(|(k, _)| !was.contains_key(*k))
        .map(|(_, f)| *f)
        .collect();
    let fixed = was
        .iter()
        .filter(|(k, _)| !is.contains_key(*k))
        .map(|(_, f)| *f)
        .collect();
    (appeared, fixed)
}

/// A finding that appeared on or was fixed on endpoints present in both scans.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MovedFinding {
    /// Policy name.
    pub policy: String,
    /// What was judged.
    pub item: String,
    /// Its verdict.
    pub verdict: Verdict,
    /// Why.
    pub reason: String,
    /// Source id.
    pub source: String,
    /// Endpoints it appeared on.
    pub appeared: usize,
    /// Endpoints it was fixed on.
    pub fixed: usize,
}

/// The findings that moved on endpoints present in both scans, most endpoints first.
pub fn moved_findings(old: &[EndpointReport], new: &[EndpointReport]) -> Vec<MovedFinding> {
    let old: HashMap<Key, &EndpointReport> = old.iter().map(|r| (key(&r.target), r)).collect();
    let mut moved: BTreeMap<FindingKey<'_>, MovedFinding> = BTreeMap::new();
    for now in new {
        let Some(was) = old.get(&key(&now.target)) else {
            continue;
        };
        let (appeared, fixed) = findings_moved(was, now);
        for (list, is_fixed) in [(appeared, false), (fixed, true)] {
            for f in list {
                let entry = moved.entry(finding_key(f)).or_insert_with(|| MovedFinding {
                    policy: f.policy.clone(),
                    item: f.item.clone(),
                    verdict: f.verdict,
                    reason: f.reason.clone(),
                    source: f.source.clone(),
                    appeared: 0,
                    fixed: 0,
                });
                if is_fixed {
                    entry.fixed += 1;
                } else {
                    entry.appeared += 1;
                }
            }
        }
    }
    let mut moved: Vec<MovedFinding> = moved.into_values().collect();
    moved.sort_by_key(|m| std::cmp::Reverse(m.appeared + m.fixed));
    moved
}

impl Drift<'_> {
    /// `appeared`, `vanished`, `better`, `worse`, `mixed`, or `changed` when the verdicts stayed.
    pub fn category(&self) -> &'static str {
        match self.direction {
            None | Some(Direction::Same) => self.change,
            Some(Direction::Better) => "better",
            Some(Direction::Worse) => "worse",
            Some(Direction::Mixed) => "mixed",
        }
    }
}

/// Every endpoint that vanished, appeared or changed between `old` and `new`: vanished ones
/// first, then the new scan's in key order.
pub fn drift<'a>(old: &'a [EndpointReport], new: &'a [EndpointReport]) -> Vec<Drift<'a>> {
    let by_key = |reports: &'a [EndpointReport]| -> BTreeMap<Key, &'a EndpointReport> {
        reports.iter().map(|r| (key(&r.target), r)).collect()
    };
    let (old, new) = (by_key(old), by_key(new));
    let line = |change, r: &'a EndpointReport| Drift {
        kind: "drift",
        change,
        target: &r.target,
        service: &r.service,
        direction: None,
        changes: Vec::new(),
    };
    let mut out: Vec<Drift<'a>> = old
        .iter()
        .filter(|(k, _)| !new.contains_key(*k))
        .map(|(_, r)| line("vanished", r))
        .collect();
    for (k, r) in &new {
        match old.get(k) {
            None => out.push(line("appeared", r)),
            Some(before) => {
                let changes = compare(before, r);
                if !changes.is_empty() {
                    out.push(Drift {
                        direction: Some(direction(before, r)),
                        changes,
                        ..line("changed", r)
                    });
                }
            }
        }
    }
    out
}
