//! Configuration audit: does an sshd_config (or `sshd -T` output) allow only what a policy
//! accepts? Line by line, with a replacement line that makes each directive pass.
pub mod config;

use crate::wire::ssh::HostKey;
use config::{Block, Config, Directive};
use fipsgate_cipher_db::policy::Policy;
use fipsgate_cipher_db::ssh::{self, SshKind};
use fipsgate_cipher_db::{Item, Kind, Verdict};
use serde::Serialize;
use std::path::Path;
use std::process::Command;

/// Algorithm-list directives, the cipher-db list they hold, and whether sshd allows them in a
/// Match block.
const LISTS: [(&str, &str, SshKind, bool); 7] = [
    ("kexalgorithms", "KexAlgorithms", SshKind::Kex, false),
    ("ciphers", "Ciphers", SshKind::Cipher, false),
    ("macs", "MACs", SshKind::Mac, false),
    (
        "hostkeyalgorithms",
        "HostKeyAlgorithms",
        SshKind::HostKey,
        false,
    ),
    (
        "pubkeyacceptedalgorithms",
        "PubkeyAcceptedAlgorithms",
        SshKind::HostKey,
        true,
    ),
    (
        "casignaturealgorithms",
        "CASignatureAlgorithms",
        SshKind::HostKey,
        true,
    ),
    (
        "hostbasedacceptedalgorithms",
        "HostbasedAcceptedAlgorithms",
        SshKind::HostKey,
        true,
    ),
];

/// Old spellings sshd still accepts.
const ALIASES: [(&str, &str); 2] = [
    ("pubkeyacceptedkeytypes", "pubkeyacceptedalgorithms"),
    ("hostbasedacceptedkeytypes", "hostbasedacceptedalgorithms"),
];

/// The defaults of OpenSSH 9.2 (`sshd -T -f /dev/null`), used when no sshd is installed.
const OPENSSH_9_2_DEFAULTS: &str = include_str!("openssh-9.2-defaults.txt");

/// Compiled-in defaults of the OpenSSH the audit compares against.
#[derive(Debug, Clone)]
pub struct Defaults {
    /// Where they came from: `sshd -T -f /dev/null` of the installed sshd, or built in.
    pub source: String,
    values: Config,
}

impl Defaults {
    /// Asks the installed sshd, or falls back to the OpenSSH 9.2 defaults built into fipsgate.
    pub fn detect() -> Self {
        let asked = Command::new("/usr/sbin/sshd")
            .args(["-T", "-f", "/dev/null"])
            .output();
        match asked {
            Ok(out) if out.status.success() && !out.stdout.is_empty() => {
                let text = String::from_utf8_lossy(&out.stdout);
                Self {
                    source: "the installed sshd (sshd -T -f /dev/null)".to_owned(),
                    values: config::from_sshd_t(&text, "default"),
                }
            }
            _ => Self::builtin(),
        }
    }

    /// The OpenSSH 9.2 defaults built into fipsgate.
    pub fn builtin() -> Self {
        Self {
            source: "OpenSSH 9.2 defaults built into fipsgate".to_owned(),
            values: config::from_sshd_t(OPENSSH_9_2_DEFAULTS, "default"),
        }
    }

    fn list(&self, keyword: &str) -> Vec<String> {
        self.values
            .blocks
            .first()
            .and_then(|b| b.first(keyword))
            .map(|d| split_list(&d.args[0]))
            .unwrap_or_default()
    }

    fn value(&self, keyword: &str) -> Option<String> {
        self.values
            .blocks
            .first()
            .and_then(|b| b.first(keyword))
            .map(|d| d.args.join(" "))
    }
}

fn split_list(s: &str) -> Vec<String> {
    s.split(',')
        .filter(|x| !x.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Applies sshd's list modifiers: `+` appends to the default, `-` removes (patterns allowed),
/// `^` prepends; anything else replaces it. Patterns in a replacement are expanded against the
/// names sshd supports (here: the default list and cipher-db's names).
fn resolve(value: &str, default: &[String], kind: SshKind) -> Vec<String> {
    let known: Vec<String> = ssh::algorithms()
        .iter()
        .filter(|a| a.kind == kind)
        .map(|a| a.name.to_owned())
        .collect();
    let expand = |list: &str| -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for name in split_list(list) {
            if name.contains(['*', '?']) {
                for k in default.iter().chain(&known) {
                    if fipsgate_cipher_db::policy::glob(&name, k) && !out.contains(k) {
                        out.push(k.clone());
                    }
                }
            } else if !out.contains(&name) {
                out.push(name);
            }
        }
        out
    };
    if let Some(rest) = value.strip_prefix('+') {
        let mut v = default.to_vec();
        v.extend(expand(rest).into_iter().filter(|n| !default.contains(n)));
        v
    } else if let Some(rest) = value.strip_prefix('-') {
        let removed = split_list(rest);
        default
            .iter()
            .filter(|d| {
                !removed
                    .iter()
                    .any(|r| fipsgate_cipher_db::policy::glob(r, d))
            })
            .cloned()
            .collect()
    } else if let Some(rest) = value.strip_prefix('^') {
        let mut v = expand(rest);
        v.extend(
            default
                .iter()
                .filter(|d| !v.contains(d))
                .cloned()
                .collect::<Vec<_>>(),
        );
        v
    } else {
        expand(value)
    }
}

/// One problem the audit found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct AuditFinding {
    /// Policy that judges it.
    pub policy: String,
    /// File, or `default` when the directive is not set.
    pub file: String,
    /// Line, 0 when not set in the file.
    pub line: usize,
    /// The Match criteria when the directive is inside a Match block.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub match_block: Option<String>,
    /// Directive, as sshd_config(5) spells it.
    pub directive: String,
    /// The algorithm, key file or value judged.
    pub item: String,
    /// Verdict.
    pub verdict: Verdict,
    /// Why.
    pub reason: String,
    /// Source id.
    pub source: String,
    /// A line that makes the directive pass under this policy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replacement: Option<String>,
}

/// The effective value of one list directive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Setting {
    /// Directive.
    pub directive: String,
    /// Match criteria, for a Match block's value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub match_block: Option<String>,
    /// Where it is set (`default` when not set).
    pub file: String,
    /// Line (0: default).
    pub line: usize,
    /// The list sshd will use, modifiers applied.
    pub effective: Vec<String>,
}

/// The audit of one configuration under several policies.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct AuditReport {
    /// The configuration audited.
    pub file: String,
    /// Where the OpenSSH defaults came from.
    pub defaults: String,
    /// Effective lists.
    pub settings: Vec<Setting>,
    /// Problems, in file order.
    pub findings: Vec<AuditFinding>,
    /// Remarks (ignored duplicate directives, unreadable host key files).
    pub notes: Vec<String>,
}

impl AuditReport {
    /// Whether any finding is not allowed (the exit code 1 of `fipsgate audit`).
    pub fn fails(&self) -> bool {
        self.findings.iter().any(|f| !f.verdict.is_allowed())
    }
}

fn kind_of(k: SshKind) -> Kind {
    Kind::of_ssh(k)
}

/// The replacement list: the policy's own list for this kind when it has one (a vendor's
/// prescribed line), otherwise the effective list reduced to approved names, or else every
/// approved name sshd supports.
fn replacement(
    policy: &Policy,
    kind: SshKind,
    effective: &[String],
    default: &[String],
) -> Vec<String> {
    if let Some(list) = policy.profile.as_ref().and_then(|p| p.list(kind_of(kind))) {
        return list.iter().map(|i| i.name.clone()).collect();
    }
    let approved = |n: &String| policy.judge(&Item::ssh_name(kind, n)).verdict == Verdict::Approved;
    let kept: Vec<String> = effective.iter().filter(|n| approved(n)).cloned().collect();
    if !kept.is_empty() {
        return kept;
    }
    default.iter().filter(|n| approved(n)).cloned().collect()
}

fn judge_list(
    policy: &Policy,
    block: &Block,
    keyword: &str,
    spelled: &str,
    kind: SshKind,
    defaults: &Defaults,
    out: &mut AuditReport,
) {
    let default = defaults.list(keyword);
    let aliased: Vec<&str> = std::iter::once(keyword)
        .chain(
            ALIASES
                .iter()
                .filter(|(_, to)| *to == keyword)
                .map(|(from, _)| *from),
        )
        .collect();
    let directive: Option<&Directive> = block
        .directives
        .iter()
        .find(|d| aliased.contains(&d.keyword.as_str()));
    let match_block = block.condition.as_ref().map(|(_, _, c)| c.clone());
    if match_block.is_some() && directive.is_none() {
        return;
    }
    let effective = match directive {
        Some(d) => resolve(&d.args.join(","), &default, kind),
        None => default.clone(),
    };
    let (file, line) = directive.map_or(("default".to_owned(), 0), |d| (d.file.clone(), d.line));
    if !out
        .settings
        .iter()
        .any(|s| s.directive == spelled && s.match_block == match_block)
    {
        out.settings.push(Setting {
            directive: spelled.to_owned(),
            match_block: match_block.clone(),
            file: file.clone(),
            line,
            effective: effective.clone(),
        });
    }
    let bad: Vec<(String, fipsgate_cipher_db::policy::Reason)> = effective
        .iter()
        .filter(|n| !(kind == SshKind::Kex && ssh::is_kex_marker(n)))
        .filter_map(|n| {
            let j = policy.judge(&Item::ssh_name(kind, n));
            let r = j.primary().cloned()?;
            (j.verdict != Verdict::Approved).then(|| (n.clone(), r))
        })
        .collect();
    if bad.is_empty() {
        return;
    }
    let line_text = format!(
        "{spelled} {}",
        replacement(policy, kind, &effective, &default).join(",")
    );
    for (i, (name, reason)) in bad.into_iter().enumerate() {
        out.findings.push(AuditFinding {
            policy: policy.name.clone(),
            file: file.clone(),
            line,
            match_block: match_block.clone(),
            directive: spelled.to_owned(),
            item: name,
            verdict: reason.verdict,
            reason: reason.reason,
            source: reason.source,
            replacement: (i == 0).then(|| line_text.clone()),
        });
    }
}

/// A host key file's type and size, from `FILE.pub`, or else from `ssh-keygen -l -f FILE`.
fn host_key_of(path: &str) -> Result<(String, u32), String> {
    if let Ok(text) = std::fs::read_to_string(format!("{path}.pub")) {
        let b64 = text
            .split_whitespace()
            .nth(1)
            .ok_or("the .pub file has no key")?;
        let blob = base64_decode(b64).ok_or("the .pub file is not base64")?;
        let key = HostKey::parse(&blob).map_err(|e| e.to_string())?;
        return Ok((key.key_type(), key.bits()));
    }
    let out = Command::new("ssh-keygen")
        .args(["-l", "-f", path])
        .output()
        .map_err(|e| format!("ssh-keygen: {e}"))?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).trim().to_owned());
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let bits = text
        .split_whitespace()
        .next()
        .and_then(|b| b.parse().ok())
        .ok_or("unexpected ssh-keygen output")?;
    let kind = text
        .rsplit('(')
        .next()
        .unwrap_or_default()
        .trim_end_matches(|c: char| c == ')' || c.is_whitespace())
        .to_ascii_lowercase();
    let key_type = match kind.as_str() {
        "ecdsa" => "ec".to_owned(),
        other => other.to_owned(),
    };
    Ok((key_type, bits))
}

fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in s.bytes().filter(|c| *c != b'=') {
        let v = crate::wire::ssh::BASE64_ALPHABET
            .iter()
            .position(|a| *a == c)? as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Some(out)
}

fn audit_host_keys(policy: &Policy, global: &Block, out: &mut AuditReport) {
    for d in global.all("hostkey") {
        let path = d.args.join(" ");
        match host_key_of(&path) {
            Err(e) => {
                let note = format!("{}:{}: HostKey {path}: {e}", d.file, d.line);
                if !out.notes.contains(&note) {
                    out.notes.push(note);
                }
            }
            Ok((key_type, bits)) => {
                let item = Item::key(&key_type, None, bits);
                let j = policy.judge(&item);
                let mut verdict = j.verdict;
                let mut reason = j
                    .primary()
                    .map(|r| (r.reason.clone(), r.source.clone()))
                    .unwrap_or_default();
                if key_type == "rsa" && bits < policy.keys.rsa_min_bits {
                    verdict = Verdict::Disallowed;
                    reason = (
                        format!(
                            "RSA key of {bits} bits is below the {}-bit minimum",
                            policy.keys.rsa_min_bits
                        ),
                        policy.keys.source.clone(),
                    );
                }
                if verdict != Verdict::Approved {
                    out.findings.push(AuditFinding {
                        policy: policy.name.clone(),
                        file: d.file.clone(),
                        line: d.line,
                        match_block: None,
                        directive: "HostKey".to_owned(),
                        item: format!("{path} ({key_type} {bits} bits)"),
                        verdict,
                        reason: reason.0,
                        source: reason.1,
                        replacement: None,
                    });
                }
            }
        }
    }
}

fn audit_scalars(policy: &Policy, global: &Block, defaults: &Defaults, out: &mut AuditReport) {
    let min = policy.keys.rsa_min_bits;
    let set = global.first("requiredrsasize");
    let value = set
        .map(|d| d.args.join(" "))
        .or_else(|| defaults.value("requiredrsasize"));
    if let Some(v) = value
        .and_then(|v| v.parse::<u32>().ok())
        .filter(|v| *v < min)
    {
        out.findings.push(AuditFinding {
            policy: policy.name.clone(),
            file: set.map_or("default".to_owned(), |d| d.file.clone()),
            line: set.map_or(0, |d| d.line),
            match_block: None,
            directive: "RequiredRSASize".to_owned(),
            item: v.to_string(),
            verdict: Verdict::NotApproved,
            reason: format!("RSA user and host keys below {min} bits would be accepted"),
            source: policy.keys.source.clone(),
            replacement: Some(format!("RequiredRSASize {min}")),
        });
    }
    if let Some(d) = global.first("protocol") {
        if d.args.join(",").split(',').any(|p| p.trim() == "1") {
            out.findings.push(AuditFinding {
                policy: policy.name.clone(),
                file: d.file.clone(),
                line: d.line,
                match_block: None,
                directive: "Protocol".to_owned(),
                item: d.args.join(" "),
                verdict: Verdict::Disallowed,
                reason: "SSH protocol 1 is broken; only protocol 2 may be used".to_owned(),
                source: "RFC4253".to_owned(),
                replacement: Some("Protocol 2".to_owned()),
            });
        }
    }
}

/// Audits a parsed configuration under each policy that judges SSH.
pub fn audit(file: &str, cfg: &Config, policies: &[Policy], defaults: &Defaults) -> AuditReport {
    let mut out = AuditReport {
        file: file.to_owned(),
        defaults: defaults.source.clone(),
        settings: Vec::new(),
        findings: Vec::new(),
        notes: Vec::new(),
    };
    let empty = Block::default();
    let global = cfg.blocks.first().unwrap_or(&empty);
    for (keyword, spelled, _, _) in LISTS {
        for d in global.ignored(keyword) {
            out.notes.push(format!(
                "{}:{}: {spelled} ignored: sshd keeps the first value it reads",
                d.file, d.line
            ));
        }
    }
    for block in cfg.blocks.iter().skip(1) {
        for d in &block.directives {
            if let Some((_, spelled, _, false)) = LISTS.iter().find(|(k, ..)| *k == d.keyword) {
                out.notes.push(format!("{}:{}: {spelled} is not allowed in a Match block: sshd refuses this configuration", d.file, d.line));
            }
        }
    }
    for policy in policies
        .iter()
        .filter(|p| p.covers(fipsgate_cipher_db::policy::Protocol::Ssh))
    {
        for (keyword, spelled, kind, in_match) in LISTS {
            judge_list(policy, global, keyword, spelled, kind, defaults, &mut out);
            if in_match {
                for block in cfg.blocks.iter().skip(1) {
                    judge_list(policy, block, keyword, spelled, kind, defaults, &mut out);
                }
            }
        }
        audit_host_keys(policy, global, &mut out);
        audit_scalars(policy, global, defaults, &mut out);
    }
    // Where a vendor's list is older than NIST's: items one audited policy's list prescribes
    // and another policy does not allow.
    for vendor in policies.iter().filter(|p| p.profile.is_some()) {
        for f in out.findings.iter().filter(|f| f.policy != vendor.name) {
            let Some((_, _, kind, _)) = LISTS
                .iter()
                .find(|(_, spelled, ..)| *spelled == f.directive)
            else {
                continue;
            };
            let listed = vendor
                .profile
                .as_ref()
                .and_then(|p| p.list(kind_of(*kind)))
                .is_some_and(|l| l.iter().any(|i| i.name == f.item));
            let note = format!(
                "{} is in the {} list of {} but {} under {}",
                f.item,
                f.directive,
                vendor.name,
                f.verdict.as_str(),
                f.policy
            );
            if listed && !out.notes.contains(&note) {
                out.notes.push(note);
            }
        }
    }
    out
}

/// Reads and audits an sshd_config file.
pub fn audit_file(
    path: &Path,
    policies: &[Policy],
    defaults: &Defaults,
) -> Result<AuditReport, config::ConfigError> {
    let cfg = config::read(path)?;
    Ok(audit(&path.display().to_string(), &cfg, policies, defaults))
}

/// Audits what sshd will really use: the output of `sshd -T -f FILE`.
pub fn audit_effective(
    path: &Path,
    policies: &[Policy],
    defaults: &Defaults,
) -> Result<AuditReport, config::ConfigError> {
    let name = path.display().to_string();
    let out = Command::new("/usr/sbin/sshd")
        .args(["-T", "-f", &name])
        .output()
        .map_err(|e| config::ConfigError {
            file: name.clone(),
            line: 0,
            message: format!("cannot run sshd -T: {e}"),
        })?;
    if !out.status.success() {
        let message = String::from_utf8_lossy(&out.stderr).trim().to_owned();
        return Err(config::ConfigError {
            file: name,
            line: 0,
            message: format!("sshd -T refused the configuration: {message}"),
        });
    }
    let cfg = config::from_sshd_t(
        &String::from_utf8_lossy(&out.stdout),
        &format!("sshd -T -f {name}"),
    );
    Ok(audit(&name, &cfg, policies, defaults))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| (*x).to_owned()).collect()
    }

    #[test]
    fn list_modifiers_follow_sshd() {
        let d = v(&["chacha20-poly1305@openssh.com", "aes128-ctr", "aes256-ctr"]);
        assert_eq!(
            resolve("+aes128-cbc", &d, SshKind::Cipher),
            v(&[
                "chacha20-poly1305@openssh.com",
                "aes128-ctr",
                "aes256-ctr",
                "aes128-cbc"
            ])
        );
        assert_eq!(
            resolve("-chacha20*", &d, SshKind::Cipher),
            v(&["aes128-ctr", "aes256-ctr"])
        );
        assert_eq!(
            resolve("^aes256-ctr", &d, SshKind::Cipher),
            v(&["aes256-ctr", "chacha20-poly1305@openssh.com", "aes128-ctr"])
        );
        assert_eq!(
            resolve("aes128-ctr", &d, SshKind::Cipher),
            v(&["aes128-ctr"])
        );
    }

    #[test]
    fn base64_of_keys() {
        assert_eq!(
            base64_decode("AAAAB3Nz"),
            Some(vec![0, 0, 0, 7, 0x73, 0x73])
        );
        assert_eq!(base64_decode("!!"), None);
    }

    #[test]
    fn builtin_defaults_parse() {
        let d = Defaults::builtin();
        assert!(d.list("ciphers").contains(&"aes128-ctr".to_owned()));
        assert_eq!(d.value("requiredrsasize").as_deref(), Some("1024"));
    }
}
