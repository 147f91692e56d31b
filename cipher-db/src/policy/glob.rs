//! Shell-style glob matching of algorithm names.

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
}
