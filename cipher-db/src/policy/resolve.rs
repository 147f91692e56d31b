//! Loading: built-in policies by name, policy files, and `extends` chains resolved into one policy.
use super::model::{Confidence, KeyLimits, Policy, PolicyError, Profile, Protocol, Reason};
use super::parse::parse;
use super::{builtin_names, builtin_text};
use crate::item::Kind;
use crate::verdict::Verdict;
use std::path::Path;

/// How far `extends` may chain before we call it a cycle.
const MAX_EXTENDS_DEPTH: usize = 8;

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
                citizen_facing: false,
                as_of: crate::time::today(),
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::builtin_names;

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
    fn extends_loops_are_refused() {
        let e = Policy::from_text("f", "name = \"fips-140-3\"\nextends = \"fips-140-3\"\n").err();
        assert!(matches!(e, Some(PolicyError::ExtendsCycle(_))), "{e:?}");
    }
}
