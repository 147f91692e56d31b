//! Citizen-facing servers: SP 800-52r2 §3.1 lets servers that citizens and businesses reach keep
//! TLS 1.0 and 1.1 (discouraged, "may be configured when necessary"), where government-only
//! servers shall not use TLS 1.0 and should not use TLS 1.1.
use super::model::{Confidence, Policy, Protocol, Reason, Rule, Selector};
use crate::item::Kind;
use crate::verdict::Verdict;

impl Policy {
    /// The policy as it judges citizen-facing servers: TLS 1.0 and 1.1 become `deprecated`.
    ///
    /// The rule sits with the root policy's own rules, so a policy that extends it and judges
    /// TLS 1.0 or 1.1 itself (an agency baseline that forbids them) still decides.
    pub fn for_citizen_facing_servers(mut self) -> Policy {
        if !self.covers(Protocol::Tls) || self.citizen_facing {
            return self;
        }
        let at = self
            .rules
            .iter()
            .position(|r| r.level > 0)
            .unwrap_or(self.rules.len());
        self.rules.insert(
            at,
            Rule {
                kind: Some(Kind::TlsVersion),
                selector: Selector::Names(vec!["tls1.0".to_owned(), "tls1.1".to_owned()]),
                reason: Reason {
                    verdict: Verdict::Deprecated,
                    reason: "citizen-facing servers may keep TLS 1.0 and 1.1 when necessary; their use is discouraged".to_owned(),
                    source: "SP800-52r2".to_owned(),
                    confidence: Confidence::Verified,
                    note: Some("judged as a citizen-facing server (--citizen-facing)".to_owned()),
                },
                level: 0,
                disallowed_after: None,
            },
        );
        self.citizen_facing = true;
        self
    }
}

#[cfg(test)]
mod tests {
    use crate::item::{Item, Kind};
    use crate::policy::Policy;
    use crate::verdict::Verdict;

    fn verdict(policy: &Policy, name: &str) -> Option<(Verdict, String)> {
        let item = Item::lookup(name, Some(Kind::TlsVersion)).pop()?;
        let j = policy.judge(&item);
        j.primary().map(|r| (j.verdict, r.source.clone()))
    }

    #[test]
    fn tls10_and_tls11_are_deprecated_for_citizen_facing_servers_sp800_52r2_3_1() {
        let Ok(gov) = Policy::builtin("fips-140-3") else {
            panic!("fips-140-3 must load")
        };
        assert_eq!(
            verdict(&gov, "tls1.0").map(|v| v.0),
            Some(Verdict::Disallowed)
        );
        let citizen = gov.clone().for_citizen_facing_servers();
        assert!(citizen.citizen_facing && !gov.citizen_facing);
        for v in ["tls1.0", "tls1.1"] {
            assert_eq!(
                verdict(&citizen, v),
                Some((Verdict::Deprecated, "SP800-52r2".to_owned())),
                "{v}"
            );
        }
        for v in ["ssl3", "ssl2", "tls1.2"] {
            assert_eq!(verdict(&citizen, v), verdict(&gov, v), "{v}");
        }
    }

    #[test]
    fn a_descendant_that_judges_old_versions_still_decides() {
        let text = "name = \"strict\"\nextends = \"fips-140-3\"\n[[rule]]\nkind = \"tls-version\"\nnames = [\"tls1.0\", \"tls1.1\"]\nverdict = \"disallowed\"\nreason = \"baseline\"\nsource = \"POLICY\"\n";
        let Ok(strict) = Policy::from_text("strict.toml", text) else {
            panic!("the test policy must load")
        };
        let citizen = strict.for_citizen_facing_servers();
        assert_eq!(
            verdict(&citizen, "tls1.1"),
            Some((Verdict::Disallowed, "POLICY".to_owned()))
        );
    }

    #[test]
    fn ssh_only_policies_are_unchanged() {
        let Ok(aspera) = Policy::builtin("aspera") else {
            panic!("aspera must load")
        };
        assert!(!aspera.clone().for_citizen_facing_servers().citizen_facing);
    }
}
