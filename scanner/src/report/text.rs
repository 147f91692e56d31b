//! The human report: one block per endpoint, verdicts coloured on terminals.
use super::format::{Render, Settings};
use super::{EndpointReport, ScanBegin, ScanEnd, Status};
use crate::observation::{SshObservation, TlsObservation};
use fipsgate_cipher_db::negotiate::TlsNegotiation;
use fipsgate_cipher_db::negotiate::{Choice, SshNegotiation};
use fipsgate_cipher_db::policy::Policy;
use fipsgate_cipher_db::EndpointVerdict;
use fipsgate_cipher_db::Item;
use std::fmt::Write as _;

fn yes_no(v: Option<bool>) -> &'static str {
    match v {
        Some(true) => "yes",
        Some(false) => "no",
        None => "not tested",
    }
}

/// An endpoint verdict, in its ANSI colour when `color`.
fn paint(v: EndpointVerdict, color: bool) -> String {
    let code = match v {
        EndpointVerdict::FipsOnly => "32",
        EndpointVerdict::FipsCapable => "33",
        EndpointVerdict::NotFipsCapable => "31",
    };
    if color {
        format!("\x1b[{code}m{}\x1b[0m", v.as_str())
    } else {
        v.as_str().to_owned()
    }
}

/// The text renderer.
pub struct TextRender {
    settings: Settings,
}

impl TextRender {
    /// A renderer.
    pub fn new(settings: Settings) -> Self {
        Self { settings }
    }
}

impl Render for TextRender {
    fn begin(&mut self, _: &ScanBegin) -> String {
        String::new()
    }

    fn endpoint(&mut self, report: &EndpointReport) -> String {
        let mut out = render(report, &self.settings.policies, self.settings.color);
        out.push('\n');
        out
    }

    fn end(&mut self, end: &ScanEnd) -> String {
        let color = self.settings.color;
        let counts: Vec<String> = end
            .verdicts
            .iter()
            .map(|c| {
                format!(
                    "{}: {} {}, {} {}, {} {}",
                    c.policy,
                    c.fips_only,
                    paint(EndpointVerdict::FipsOnly, color),
                    c.fips_capable,
                    paint(EndpointVerdict::FipsCapable, color),
                    c.not_fips_capable,
                    paint(EndpointVerdict::NotFipsCapable, color)
                )
            })
            .collect();
        // Closed and filtered ports of ranges are worth a word only where there were some.
        let ports = match (end.closed, end.filtered) {
            (0, 0) => String::new(),
            (c, f) => format!(", {c} ports closed, {f} filtered"),
        };
        format!(
            "{} endpoints, {} not scanned{ports}; {}; {} connections, {} ms\n",
            end.endpoints,
            end.errors,
            counts.join("; "),
            end.connections,
            end.duration_ms
        )
    }
}

/// Renders one endpoint; `policies` supplies the per-suite verdict column (the first policy).
pub fn render(r: &EndpointReport, policies: &[Policy], color: bool) -> String {
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
    if r.status != Status::Ok {
        if let Some(e) = &r.error {
            let kind = format!("{}: {:?}", r.status.as_str(), e.kind);
            let kind = if color {
                format!("\x1b[31m{kind}\x1b[0m")
            } else {
                kind
            };
            let _ = writeln!(out, "  {kind}: {}", e.message);
        }
        return out;
    }
    for v in &r.verdicts {
        let _ = writeln!(out, "  {:<24} {}", v.policy, paint(v.verdict, color));
        if let Some(note) = &v.note {
            let _ = writeln!(out, "  {:<24} ({note})", "");
        }
    }
    if let Some(tls) = &r.tls {
        render_tls(&mut out, tls, policies);
    }
    if let Some(ssh) = &r.ssh {
        render_ssh(&mut out, ssh);
    }
    let quantum_safe = match r.quantum_safe_kex.as_slice() {
        [] => "none".to_owned(),
        kex => kex.join(" "),
    };
    let _ = writeln!(out, "  quantum-safe key exchange: {quantum_safe}");
    for n in &r.negotiations {
        let outcome = match (&n.tls, &n.ssh) {
            (Some(TlsNegotiation::Chosen { version, suite, .. }), _) => {
                format!("would negotiate {suite} over {}", version.display_name())
            }
            (Some(TlsNegotiation::NoCommon), _) => "no common suite: transfers fail".to_owned(),
            (Some(TlsNegotiation::Unconstrained), _) => "does not constrain TLS suites".to_owned(),
            (None, Some(ssh)) => describe_ssh(ssh),
            (None, None) => continue,
        };
        let _ = writeln!(out, "  {} in FIPS mode {outcome}", n.policy);
    }
    let notable: Vec<_> = r.notable_findings().collect();
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
    let notes = r
        .tls
        .as_ref()
        .map(|t| &t.notes)
        .into_iter()
        .chain(r.ssh.as_ref().map(|s| &s.notes))
        .flatten();
    for n in notes {
        let _ = writeln!(out, "  note: {n}");
    }
    let _ = writeln!(out, "  {} connections, {} ms", r.connections, r.duration_ms);
    out
}

fn describe_ssh(n: &SshNegotiation) -> String {
    let pick = |c: &Choice| match c {
        Choice::Chosen { name } => name.clone(),
        Choice::NoCommon => "NONE IN COMMON".to_owned(),
        Choice::Unconstrained { server_first } => format!(
            "{} (not constrained by the profile)",
            server_first.as_deref().unwrap_or("-")
        ),
        Choice::Implicit => "implicit (AEAD cipher)".to_owned(),
    };
    let lists = format!(
        "kex {}, host key {}, cipher {}/{}, MAC {}/{}",
        pick(&n.kex),
        pick(&n.host_key),
        pick(&n.cipher_client_to_server),
        pick(&n.cipher_server_to_client),
        pick(&n.mac_client_to_server),
        pick(&n.mac_server_to_client)
    );
    if n.succeeds() {
        format!("would use {lists}")
    } else {
        format!("cannot connect: the transfer fails ({lists})")
    }
}

fn render_ssh(out: &mut String, s: &SshObservation) {
    let _ = writeln!(out, "  banner: {}", s.banner);
    let lists = [
        ("kex", &s.kex),
        ("kex markers", &s.kex_markers),
        ("host key algorithms", &s.host_key_algorithms),
        ("ciphers c->s", &s.ciphers_client_to_server),
        ("ciphers s->c", &s.ciphers_server_to_client),
        ("MACs c->s", &s.macs_client_to_server),
        ("MACs s->c", &s.macs_server_to_client),
        ("compression", &s.compression_client_to_server),
        ("languages c->s", &s.languages_client_to_server),
        ("languages s->c", &s.languages_server_to_client),
    ];
    for (name, list) in lists {
        let _ = writeln!(out, "  {name}: {}", list.join(","));
    }
    for k in &s.host_keys {
        let curve = k
            .curve
            .as_deref()
            .map(|c| format!(" {c}"))
            .unwrap_or_default();
        let proof = if k.signature_verified {
            "signature verified"
        } else {
            "signature NOT verified"
        };
        let _ = writeln!(
            out,
            "  host key {} ({} {} bits{curve}): {}  {proof}",
            k.algorithm, k.key_type, k.bits, k.fingerprint_sha256
        );
    }
    for k in &s.host_keys {
        if let Some(c) = &k.certificate {
            let _ = writeln!(
                out,
                "    {} certificate {:?} serial {} for {} valid {} .. {}, signed by CA {} {}",
                c.cert_type,
                c.key_id,
                c.serial,
                c.principals.join(","),
                c.valid_after,
                c.valid_before,
                c.ca_key_type,
                c.ca_fingerprint_sha256
            );
        }
    }
    if let Some(c) = &s.confirm {
        if c.ok {
            let used: Vec<String> = c
                .negotiated
                .iter()
                .map(|(k, v)| format!("{k} {v}"))
                .collect();
            let _ = writeln!(
                out,
                "  confirmed: a client offering only what {} approves connected ({})",
                c.policy,
                used.join(", ")
            );
        } else {
            let _ = writeln!(
                out,
                "  NOT confirmed: a client offering only what {} approves failed: {}",
                c.policy,
                c.error.as_deref().unwrap_or("unknown error")
            );
        }
    }
    if !s.gex_moduli_bits.is_empty() {
        let sizes: Vec<String> = s.gex_moduli_bits.iter().map(u32::to_string).collect();
        let _ = writeln!(out, "  group-exchange moduli: {} bits", sizes.join(", "));
    }
}

fn render_tls(out: &mut String, tls: &TlsObservation, policies: &[Policy]) {
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
        yes_no(f.judged.extended_master_secret),
        yes_no(f.judged.secure_renegotiation),
        yes_no(f.judged.fallback_scsv),
        yes_no(f.judged.encrypt_then_mac),
        yes_no(f.judged.ocsp_stapling),
        yes_no(f.judged.compression),
        yes_no(f.session_ticket),
        yes_no(f.hello_retry_request),
        f.alpn.as_deref().unwrap_or("none")
    );
}
