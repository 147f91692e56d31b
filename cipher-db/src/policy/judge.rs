//! Judging one item: name rules, then product lists, then components (worst wins).
use super::glob::glob;
use super::model::{Confidence, Judgement, Policy, PolicyError, Protocol, Reason, Rule, Selector};
use crate::item::{Item, Kind};
use crate::verdict::Verdict;

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

impl Policy {
    /// Whether the policy judges this protocol.
    pub fn covers(&self, protocol: Protocol) -> bool {
        self.protocols.contains(&protocol)
    }

    /// A rule's reason on the policy's day: past its `disallowed_after` date, disallowed.
    fn dated(&self, rule: &Rule) -> Reason {
        match &rule.disallowed_after {
            Some(last) if self.as_of.as_str() > last.as_str() => Reason {
                verdict: Verdict::Disallowed,
                reason: format!("{}; the transition ended {last}", rule.reason.reason),
                ..rule.reason.clone()
            },
            Some(last) => Reason {
                reason: format!("{}; disallowed after {last}", rule.reason.reason),
                ..rule.reason.clone()
            },
            None => rule.reason.clone(),
        }
    }

    /// The policy judging at another day (YYYY-MM-DD), for `--as-of`.
    pub fn at(mut self, day: &str) -> Result<Policy, PolicyError> {
        if !crate::time::is_date(day) {
            return Err(PolicyError::Invalid {
                origin: "--as-of".to_owned(),
                line: 0,
                message: format!("{day:?} is not a date, YYYY-MM-DD"),
            });
        }
        day.clone_into(&mut self.as_of);
        Ok(self)
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
            return Judgement::single(self.dated(rule));
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
                Some(rule) => self.dated(rule),
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
}

#[cfg(test)]
mod tests {
    use super::*;

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

    fn verdict(policy: &Policy, name: &str, kind: Kind) -> Option<Verdict> {
        Item::lookup(name, Some(kind))
            .pop()
            .map(|i| policy.judge(&i).verdict)
    }

    #[test]
    fn cnsa_2_0_approves_ml_kem_1024_and_ends_cnsa_1_0_at_its_date() {
        let Ok(today) = Policy::builtin("cnsa-2.0").and_then(|p| p.at("2026-11-30")) else {
            panic!("cnsa-2.0 loads");
        };
        let Ok(after) = today.clone().at("2033-01-01") else {
            panic!("a valid date");
        };
        for (name, kind, now, later) in [
            (
                "MLKEM1024",
                Kind::TlsGroup,
                Verdict::Approved,
                Verdict::Approved,
            ),
            (
                "SecP384r1MLKEM1024",
                Kind::TlsGroup,
                Verdict::Approved,
                Verdict::Approved,
            ),
            (
                "X25519MLKEM768",
                Kind::TlsGroup,
                Verdict::NotApproved,
                Verdict::NotApproved,
            ),
            (
                "secp384r1",
                Kind::TlsGroup,
                Verdict::Deprecated,
                Verdict::Disallowed,
            ),
            (
                "secp256r1",
                Kind::TlsGroup,
                Verdict::NotApproved,
                Verdict::NotApproved,
            ),
            (
                "TLS_AES_256_GCM_SHA384",
                Kind::TlsSuite,
                Verdict::Approved,
                Verdict::Approved,
            ),
            (
                "TLS_AES_128_GCM_SHA256",
                Kind::TlsSuite,
                Verdict::NotApproved,
                Verdict::NotApproved,
            ),
            (
                "mldsa87",
                Kind::TlsSigalg,
                Verdict::Approved,
                Verdict::Approved,
            ),
            (
                "ecdsa_secp384r1_sha384",
                Kind::TlsSigalg,
                Verdict::Deprecated,
                Verdict::Disallowed,
            ),
            (
                "tls1.2",
                Kind::TlsVersion,
                Verdict::Deprecated,
                Verdict::Disallowed,
            ),
            (
                "mlkem1024nistp384-sha384",
                Kind::SshKex,
                Verdict::Approved,
                Verdict::Approved,
            ),
            (
                "ecdh-sha2-nistp384",
                Kind::SshKex,
                Verdict::Deprecated,
                Verdict::Disallowed,
            ),
            (
                "sntrup761x25519-sha512@openssh.com",
                Kind::SshKex,
                Verdict::NotApproved,
                Verdict::NotApproved,
            ),
            (
                "aes256-gcm@openssh.com",
                Kind::SshCipher,
                Verdict::Approved,
                Verdict::Approved,
            ),
            (
                "aes128-ctr",
                Kind::SshCipher,
                Verdict::NotApproved,
                Verdict::NotApproved,
            ),
            (
                "hmac-sha2-512",
                Kind::SshMac,
                Verdict::Approved,
                Verdict::Approved,
            ),
            (
                "hmac-sha2-256",
                Kind::SshMac,
                Verdict::NotApproved,
                Verdict::NotApproved,
            ),
        ] {
            assert_eq!(verdict(&today, name, kind), Some(now), "{name} today");
            assert_eq!(verdict(&after, name, kind), Some(later), "{name} in 2033");
        }
        let item = Item::lookup("secp384r1", Some(Kind::TlsGroup)).pop();
        let reason = item.map(|i| after.judge(&i).reasons[0].reason.clone());
        assert!(reason.is_some_and(|r| r.ends_with("the transition ended 2032-12-31")));
        assert!(today.clone().at("2033-02-30").is_err(), "not a date");
        let bad = "name = \"x\"\nextends = \"cnsa-2.0\"\n[[rule]]\nnames = [\"x448\"]\nverdict = \"deprecated\"\nreason = \"r\"\nsource = \"POLICY\"\ndisallowed_after = \"2030-13-01\"\n";
        assert!(
            Policy::from_text("x.toml", bad).is_err(),
            "a bad date is refused"
        );
    }
}
