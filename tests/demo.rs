//! `fipsgate demo`: everything starts, the request through the proxy works, the legacy server
//! is not FIPS-capable and the proxy is FIPS-only, and nothing is left running.
mod support;

use serde_json::Value;
use support::*;

#[test]
fn demo_scans_a_legacy_server_and_the_fips_proxy() {
    let out = fipsgate(&["demo", "--format", "ndjson"]);
    let legend = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{legend}");
    assert!(
        legend.contains("request through the proxy: hello from the legacy backend over TLS_AES"),
        "{legend}"
    );
    let endpoints: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|l| l["type"] == "endpoint")
        .collect();
    assert!(endpoints.len() >= 2, "{endpoints:?}");
    assert_eq!(verdict(&endpoints[0], "fips-140-3"), "not-fips-capable");
    assert_eq!(verdict(&endpoints[1], "fips-140-3"), "fips-only");
    assert_eq!(verdict(&endpoints[1], "axway-securetransport"), "fips-only");
    // sshd is installed wherever the tests run (.ci/run installs it).
    assert_eq!(endpoints.len(), 3, "{legend}");
    assert_eq!(endpoints[2]["service"], "ssh");
    let text = fipsgate(&["demo"]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("axway-securetransport in FIPS mode would negotiate TLS_AES_256_GCM_SHA384"),
        "{text}"
    );
    assert!(
        !text.contains("\"type\":\"connection\""),
        "the proxy's own logs stay out"
    );
}
