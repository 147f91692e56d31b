//! The human report: one block per endpoint.
use super::{EndpointReport, Status};
use fipsgate_cipher_db::negotiate::TlsNegotiation;
use fipsgate_cipher_db::policy::Policy;
use fipsgate_cipher_db::{Item, Verdict};
use std::fmt::Write as _;

fn yes_no(v: Option<bool>) -> &'static str {
    match v {
        Some(true) => "yes",
        Some(false) => "no",
        None => "not tested",
    }
}

/// Renders one endpoint; `policies` supplies the per-suite verdict column (the first policy).
pub fn render(r: &EndpointReport, policies: &[Policy]) -> String {
    let mut out = String::new();
    let ip = r.target.ip.as_deref().unwrap_or("?");
    let addr = if ip.contains(':') {
        format!("[{ip}]:{}", r.target.port)
    } else {
        format!("{ip}:{}", r.target.port)
    };
    let name = if r.target.host == ip {
        addr
    } else {
        format!("{} ({addr})", r.target.host)
    };
    let _ = writeln!(out, "{name}  {}", r.service);
    if r.status == Status::Error {
        if let Some(e) = &r.error {
            let _ = writeln!(out, "  error: {:?}: {}", e.kind, e.message);
        }
        return out;
    }
    for v in &r.verdicts {
        let _ = writeln!(out, "  {:<24} {}", v.policy, v.verdict.as_str());
    }
    let Some(tls) = &r.tls else { return out };
    let first = policies.first();
    for v in &tls.versions {
        let order = match v.server_preference {
            Some(true) => "server order",
            Some(false) => "client order",
            None => "",
        };
        let _ = writeln!(out, "  {}  {order}", v.version.display_name());
        for s in &v.cipher_suites {
            let verdict = first.zip(s.code_value()).map(|(p, c)| {
                let item = if v.version == fipsgate_cipher_db::tls::TlsVersion::Ssl2 {
                    Item::sslv2_code(c)
                } else {
                    Item::suite_code(c as u16)
                };
                p.judge(&item).verdict
            });
            let _ = writeln!(
                out,
                "    {:<8} {:<48} {:<32} {}",
                s.code,
                s.iana,
                s.openssl,
                verdict.map(|v| v.to_string()).unwrap_or_default()
            );
        }
    }
    if !tls.groups.is_empty() {
        let names: Vec<&str> = tls.groups.iter().map(|g| g.name.as_str()).collect();
        let _ = writeln!(out, "  groups: {}", names.join(" "));
    }
    if !tls.signature_schemes.is_empty() {
        let names: Vec<&str> = tls
            .signature_schemes
            .iter()
            .map(|g| g.name.as_str())
            .collect();
        let _ = writeln!(out, "  signature schemes: {}", names.join(" "));
    }
    for d in &tls.dh_params {
        let _ = writeln!(
            out,
            "  DHE prime: {} bits, {}",
            d.bits,
            d.named_group
                .as_deref()
                .unwrap_or("not a named safe-prime group")
        );
    }
    for c in &tls.certificates {
        if let Some(leaf) = c.chain.first() {
            let curve = leaf
                .curve
                .as_deref()
                .map(|c| format!(" {c}"))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "  certificate ({} {} bits{curve}, {}): {}  valid {} .. {}  sha256 {}",
                leaf.key_type,
                leaf.key_bits,
                leaf.signature_algorithm,
                leaf.subject,
                leaf.not_before,
                leaf.not_after,
                leaf.sha256
            );
            if !leaf.sans.is_empty() {
                let _ = writeln!(out, "    SAN: {}", leaf.sans.join(", "));
            }
            for ca in c.chain.iter().skip(1) {
                let _ = writeln!(
                    out,
                    "    issued by: {} ({})",
                    ca.subject, ca.signature_algorithm
                );
            }
        }
    }
    let f = &tls.features;
    let _ = writeln!(
        out,
        "  features: extended master secret {}, secure renegotiation {}, fallback SCSV {}, encrypt-then-MAC {}, OCSP stapling {}, compression {}, session tickets {}, HelloRetryRequest {}, ALPN {}",
        yes_no(f.extended_master_secret),
        yes_no(f.secure_renegotiation),
        yes_no(f.fallback_scsv),
        yes_no(f.encrypt_then_mac),
        yes_no(f.ocsp_stapling),
        yes_no(f.compression),
        yes_no(f.session_ticket),
        yes_no(f.hello_retry_request),
        f.alpn.as_deref().unwrap_or("none")
    );
    for n in &r.negotiations {
        let outcome = match &n.tls {
            TlsNegotiation::Chosen { version, suite, .. } => {
                format!("would negotiate {suite} over {}", version.display_name())
            }
            TlsNegotiation::NoCommon => "no common suite: transfers fail".to_owned(),
            TlsNegotiation::Unconstrained => "does not constrain TLS suites".to_owned(),
        };
        let _ = writeln!(out, "  {} in FIPS mode {outcome}", n.policy);
    }
    let notable: Vec<_> = r
        .findings
        .iter()
        .filter(|f| f.verdict != Verdict::Approved)
        .collect();
    if !notable.is_empty() {
        let _ = writeln!(out, "  findings:");
        let width = |f: fn(&&fipsgate_cipher_db::assess::Finding) -> usize| {
            notable.iter().map(f).max().unwrap_or(0)
        };
        let (wp, wv, wi) = (
            width(|f| f.policy.len()),
            width(|f| f.verdict.as_str().len()),
            width(|f| f.item.len()),
        );
        for f in &notable {
            let _ = writeln!(
                out,
                "    {:<wp$}  {:<wv$}  {:<wi$}  {} [{}]",
                f.policy,
                f.verdict.as_str(),
                f.item,
                f.reason,
                f.source
            );
        }
    }
    for n in &tls.notes {
        let _ = writeln!(out, "  note: {n}");
    }
    let _ = writeln!(out, "  {} connections, {} ms", r.connections, r.duration_ms);
    out
}
