//! Judging one item: name rules, then product lists, then components (worst wins).
use super::glob::glob;
use super::model::{Confidence, Judgement, Policy, Protocol, Reason, Rule, Selector};
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
}
