//! The interop matrix: `fipsgate scan` against independent TLS implementations on loopback,
//! each compared with what the server's own configuration says it accepts (never with
//! fipsgate's output). docs/interop.md has the table and every difference found.
mod support;

use serde_json::Value;
use std::collections::BTreeSet;
use support::*;

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s.as_str().map(str::to_owned))
        .collect()
}

/// tlslite-ng, a strict pure-Python implementation: it refuses a TLS 1.3-only hello that lists
/// groups RFC 8446 made obsolete, which once hid its TLS 1.3 from the scanner.
#[test]
fn tlslite_ng_server_is_read_exactly() {
    // Ground truth: the suites and groups tlslite-ng's server picks from (its
    // _serverGetClientHello with an RSA certificate), from its own default settings.
    let truth: Value = serde_json::from_str(&peers::python_output(
        r#"
import json
from tlslite import HandshakeSettings
from tlslite.constants import CipherSuite
s = HandshakeSettings().validate()
names = {(3, 1): "tls1.0", (3, 2): "tls1.1", (3, 3): "tls1.2", (3, 4): "tls1.3"}
def suites(v):
    if v == (3, 4):
        found = CipherSuite.getTLS13Suites(s, v)
    else:
        found = (CipherSuite.getEcdheCertSuites(s, v) + CipherSuite.getDheCertSuites(s, v)
                 + CipherSuite.getCertSuites(s, v))
    return ["0x%04X" % c for c in found]
groups = [g for g in s.eccCurves + s.dhGroups
          if not (g.startswith("brainpool") and not g.endswith("tls13"))]
print(json.dumps({
    "versions": {names[v]: suites(v) for v in s.versions},
    "tls13_groups": groups,
}))
"#,
    ))
    .unwrap_or_else(|e| panic!("tlslite-ng ground truth: {e}"));
    let m = material();
    let python = peers::python();
    let tls_py = peers::venv().join("bin/tls.py");
    let s = start(
        &python.display().to_string(),
        &[
            &tls_py.display().to_string(),
            "server",
            "-c",
            &m.path("rsa.crt"),
            "-k",
            &m.path("rsa.key"),
            "127.0.0.1:{port}",
        ],
    );
    let (lines, _) = scan(&[&s.addr()]);
    let e = &lines[0];
    let mut want: Vec<String> = truth["versions"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(v, _)| v.clone())
        .collect();
    want.sort();
    assert_eq!(versions(e), want, "{e}");
    for version in &want {
        assert_eq!(
            suites(e, version),
            strings(&truth["versions"][version]),
            "{version}, in the server's order"
        );
    }
    let groups: BTreeSet<String> = strings(&truth["tls13_groups"]).into_iter().collect();
    let seen: BTreeSet<String> = names(e, "groups").into_iter().collect();
    assert_eq!(seen, groups);
    let findings = e["findings"].to_string();
    assert!(!findings.contains("tls-offers-tls13"), "{findings}");
    assert!(
        e["tls"]["notes"].as_array().is_none_or(|n| n.is_empty()),
        "{e}"
    );
}
