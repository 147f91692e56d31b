//! The proxy's TOML configuration: global limits, an optional admin listener, and listeners that
//! map addresses (and SNI names) to backends and certificates. Parsing checks everything that can
//! be checked without the files' contents; [`crate::tls`] then loads the keys and certificates.
use crate::pkcs11_uri::{PinSource, Pkcs11Uri};
use serde::Deserialize;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A configuration error, naming the file and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

fn default_max_connections() -> usize {
    10_000
}
fn default_handshake_timeout() -> f64 {
    10.0
}
fn default_idle_timeout() -> f64 {
    300.0
}
fn default_drain_timeout() -> f64 {
    30.0
}
fn default_true() -> bool {
    true
}

fn default_backend_retry() -> f64 {
    10.0
}

/// Settings for the whole process.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Global {
    /// Client connections open at once, over every listener; more wait to be accepted.
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
    /// Seconds a client may take to complete its handshake.
    #[serde(default = "default_handshake_timeout")]
    pub handshake_timeout: f64,
    /// Seconds a connection may stay silent in both directions.
    #[serde(default = "default_idle_timeout")]
    pub idle_timeout: f64,
    /// Seconds SIGTERM waits for open connections before closing them.
    #[serde(default = "default_drain_timeout")]
    pub drain_timeout: f64,
    /// Address of the admin listener (`/healthz`, `/metrics`); none when absent.
    #[serde(default)]
    pub admin: Option<SocketAddr>,
    /// One JSON line per connection on standard output.
    #[serde(default = "default_true")]
    pub log_connections: bool,
    /// Operational events (start, reloads, drain) as JSON lines on standard error.
    #[serde(default = "default_true")]
    pub log_events: bool,
}

impl Default for Global {
    fn default() -> Self {
        Self {
            max_connections: default_max_connections(),
            handshake_timeout: default_handshake_timeout(),
            idle_timeout: default_idle_timeout(),
            drain_timeout: default_drain_timeout(),
            admin: None,
            log_connections: true,
            log_events: true,
        }
    }
}

impl Global {
    /// The handshake deadline.
    pub fn handshake(&self) -> Duration {
        Duration::from_secs_f64(self.handshake_timeout)
    }
    /// The idle deadline.
    pub fn idle(&self) -> Duration {
        Duration::from_secs_f64(self.idle_timeout)
    }
    /// The drain deadline.
    pub fn drain(&self) -> Duration {
        Duration::from_secs_f64(self.drain_timeout)
    }
}

/// A certificate chain and its key.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertificateFiles {
    /// PEM chain, leaf first.
    pub chain: PathBuf,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1), or an RFC 7512 `pkcs11:` URI of a key kept in
    /// a token.
    pub key: KeySource,
    /// A DER OCSP response to staple.
    #[serde(default)]
    pub ocsp: Option<PathBuf>,
    /// The PKCS#11 library of a `pkcs11:` key (else the URI's `module-path`).
    #[serde(default)]
    pub pkcs11_module: Option<PathBuf>,
    /// The environment variable holding a `pkcs11:` key's token PIN (else the URI's
    /// `pin-source` or `pin-value`).
    #[serde(default)]
    pub pin_env: Option<String>,
}

/// Where a certificate's private key is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// A PEM file.
    File(PathBuf),
    /// A key in a PKCS#11 token; it never leaves the token.
    Token(Pkcs11Uri),
}

impl KeySource {
    /// A configured `key`: a `pkcs11:` URI or a file path.
    pub fn parse(text: &str) -> Result<Self, String> {
        if Pkcs11Uri::is_uri(text) {
            Pkcs11Uri::parse(text)
                .map(Self::Token)
                .map_err(|e| format!("key {text:?}: {e}"))
        } else {
            Ok(Self::File(PathBuf::from(text)))
        }
    }
}

impl fmt::Display for KeySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::File(p) => write!(f, "{}", p.display()),
            Self::Token(uri) => write!(f, "{uri}"),
        }
    }
}

impl<'de> Deserialize<'de> for KeySource {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// A token key, resolved: its URI, its module and where its PIN comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenKeyRef<'a> {
    /// The key's URI.
    pub uri: &'a Pkcs11Uri,
    /// The PKCS#11 library.
    pub module: &'a Path,
    /// The PIN's source.
    pub pin: PinSource,
}

/// A certificate's key with everything needed to load it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyRef<'a> {
    /// A PEM file.
    File(&'a Path),
    /// A token key.
    Token(TokenKeyRef<'a>),
}

impl CertificateFiles {
    /// The key to load; an error when a token key's module or PIN is missing or given twice,
    /// or when PKCS#11 settings come with a key file.
    pub fn key_ref(&self) -> Result<KeyRef<'_>, String> {
        let uri = match &self.key {
            KeySource::File(path) => {
                if self.pkcs11_module.is_some() || self.pin_env.is_some() {
                    return Err(format!(
                        "pkcs11_module and pin_env are for pkcs11: keys, not the file {}",
                        path.display()
                    ));
                }
                return Ok(KeyRef::File(path));
            }
            KeySource::Token(uri) => uri,
        };
        let module = match (&self.pkcs11_module, &uri.module_path) {
            (Some(m), None) | (None, Some(m)) => m,
            (Some(_), Some(_)) => {
                return Err(format!(
                    "{uri}: give pkcs11_module or module-path in the URI, not both"
                ))
            }
            (None, None) => {
                return Err(format!(
                    "{uri}: which PKCS#11 library? Set pkcs11_module (--pkcs11-module)"
                ))
            }
        };
        let pin = match (&uri.pin, &self.pin_env) {
            (Some(p), None) => p.clone(),
            (None, Some(var)) => PinSource::Env(var.clone()),
            (Some(_), Some(_)) => {
                return Err(format!("{uri}: give pin_env or a PIN in the URI, not both"))
            }
            (None, None) => {
                return Err(format!(
                    "{uri}: no PIN: add pin-source=file:PATH to the URI, or set pin_env"
                ))
            }
        };
        Ok(KeyRef::Token(TokenKeyRef { uri, module, pin }))
    }
}

/// Where plaintext goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Backend {
    /// A TCP address (`host:port`).
    Tcp(String),
    /// A Unix socket (`unix:/path`).
    Unix(PathBuf),
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Tcp(a) => f.write_str(a),
            Self::Unix(p) => write!(f, "unix:{}", p.display()),
        }
    }
}

impl Backend {
    /// `host:port` or `unix:/path`.
    fn parse(s: &str) -> Result<Self, String> {
        if let Some(path) = s.strip_prefix("unix:") {
            if path.is_empty() {
                return Err("unix: needs a socket path".into());
            }
            return Ok(Self::Unix(PathBuf::from(path)));
        }
        let port = s.rsplit_once(':').and_then(|(h, p)| {
            (!h.is_empty()).then_some(())?;
            p.parse::<u16>().ok().filter(|p| *p != 0)
        });
        match port {
            Some(_) => Ok(Self::Tcp(s.to_owned())),
            None => Err(format!("backend {s:?}: expected HOST:PORT or unix:/path")),
        }
    }
}

impl<'de> Deserialize<'de> for Backend {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Self::parse(&String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// One backend or several (`"host:port"` or `["a:80", "b:80"]`), never none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backends(pub Vec<Backend>);

impl fmt::Display for Backends {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, b) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            b.fmt(f)?;
        }
        Ok(())
    }
}

impl<'de> Deserialize<'de> for Backends {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct OneOrMore;
        impl<'de> serde::de::Visitor<'de> for OneOrMore {
            type Value = Backends;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("HOST:PORT, unix:/path, or a list of them")
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Backends, E> {
                Ok(Backends(vec![Backend::parse(s).map_err(E::custom)?]))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Backends, A::Error> {
                let mut all = Vec::new();
                while let Some(b) = seq.next_element::<Backend>()? {
                    all.push(b);
                }
                if all.is_empty() {
                    return Err(serde::de::Error::custom("backend: the list is empty"));
                }
                Ok(Backends(all))
            }
        }
        d.deserialize_any(OneOrMore)
    }
}

/// How connections are spread over several backends.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Balance {
    /// Each in turn.
    #[default]
    RoundRobin,
    /// The one with the fewest open connections.
    LeastConnections,
    /// The first one that is up, in the order listed (the others are standbys).
    First,
}

/// A protocol whose clients ask for TLS on its plaintext port (server-side STARTTLS).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Starttls {
    /// SMTP STARTTLS (RFC 3207).
    Smtp,
    /// IMAP STARTTLS (RFC 2595).
    Imap,
    /// POP3 STLS (RFC 2595).
    Pop3,
    /// LDAP StartTLS extended operation (RFC 4511).
    Ldap,
    /// PostgreSQL SSLRequest.
    Postgres,
    /// FTP AUTH TLS (RFC 4217), with the data connections.
    Ftp,
}

impl Starttls {
    /// The name in configurations and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Smtp => "smtp",
            Self::Imap => "imap",
            Self::Pop3 => "pop3",
            Self::Ldap => "ldap",
            Self::Postgres => "postgres",
            Self::Ftp => "ftp",
        }
    }

    /// The protocol named `s`.
    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Smtp,
            Self::Imap,
            Self::Pop3,
            Self::Ldap,
            Self::Postgres,
            Self::Ftp,
        ]
        .into_iter()
        .find(|p| p.as_str().eq_ignore_ascii_case(s))
    }
}

/// The PROXY protocol header sent to the backend first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProxyProtocol {
    /// The text header.
    V1,
    /// The binary header.
    V2,
}

/// Mutual TLS.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientAuth {
    /// PEM bundle of the CAs that issue client certificates.
    pub ca: PathBuf,
    /// Refuse clients without a certificate (else they are let through unauthenticated).
    #[serde(default = "default_true")]
    pub required: bool,
    /// Subject DNs allowed (`CN=partner,O=Example`); empty allows any the CA issued.
    #[serde(default)]
    pub allowed_subjects: Vec<String>,
    /// DNS names or addresses of subjectAltName allowed; empty allows any.
    #[serde(default)]
    pub allowed_sans: Vec<String>,
    /// CRL files (PEM or DER) every client certificate is checked against; empty: no check.
    #[serde(default)]
    pub crls: Vec<PathBuf>,
    /// Which certificates the CRLs must cover: the whole chain (default) or the leaf only.
    pub crl_scope: Option<ChainScope>,
    /// Let through a certificate no CRL covers (default: refuse it, as OpenSSL does).
    #[serde(default)]
    pub allow_unknown_revocation: bool,
    /// OCSP checks of client certificates.
    #[serde(default)]
    pub client_ocsp: OcspMode,
    /// The OCSP responder to ask (default: the one each certificate's AIA names).
    #[serde(default)]
    pub ocsp_responder: Option<String>,
    /// Seconds an OCSP responder has to answer.
    #[serde(default = "default_ocsp_timeout")]
    pub ocsp_timeout: f64,
    /// Which certificates OCSP checks: the client's own (default) or every one below the
    /// trust anchor.
    #[serde(default = "default_ocsp_scope")]
    pub ocsp_scope: ChainScope,
    /// Seconds a responder that gave no answer is not asked again (0: ask every time).
    #[serde(default = "default_ocsp_failure_hold")]
    pub ocsp_failure_hold: f64,
}

fn default_ocsp_timeout() -> f64 {
    5.0
}

fn default_ocsp_scope() -> ChainScope {
    ChainScope::Leaf
}

fn default_ocsp_failure_hold() -> f64 {
    30.0
}

/// What an OCSP answer other than "good" means for a client.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OcspMode {
    /// No OCSP checks.
    #[default]
    Off,
    /// Revoked clients are refused; an unknown status or no answer lets the client through.
    Soft,
    /// Only clients whose certificate the responder says is good are let through.
    Hard,
}

/// Which certificates of a client's chain a revocation check (CRL or OCSP) covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChainScope {
    /// Every certificate below the trust anchor (OpenSSL's CRL_CHECK_ALL, nginx's
    /// `ssl_ocsp on`).
    Chain,
    /// The client's own certificate only (OpenSSL's CRL_CHECK, nginx's `ssl_ocsp leaf`).
    Leaf,
}

/// TLS towards the backends (stunnel's client mode), with the same FIPS-only settings.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackendTls {
    /// PEM bundle of the CAs that issue the backends' certificates.
    pub ca: PathBuf,
    /// The name the backends' certificates must carry, also sent as SNI (default: the backend's
    /// host; required for Unix-socket backends).
    #[serde(default)]
    pub server_name: Option<String>,
}

/// An SNI route inside a listener: names served with their own backend and certificates.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Route {
    /// Host names (`a.example`, or `*.example` for one label).
    pub names: Vec<String>,
    /// Backend for these names (default: the listener's).
    #[serde(default)]
    pub backend: Option<Backends>,
    /// Certificates for these names (default: the listener's).
    #[serde(default)]
    pub certificate: Vec<CertificateFiles>,
}

/// One TLS listener.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Listener {
    /// Name in logs and metrics.
    pub name: String,
    /// Addresses to listen on.
    pub listen: Vec<SocketAddr>,
    /// Where plaintext goes: one backend, or several balanced.
    pub backend: Backends,
    /// How connections are spread over several backends.
    #[serde(default)]
    pub balance: Balance,
    /// Seconds between active TCP checks of every backend (none: failed connections alone mark
    /// a backend down).
    #[serde(default)]
    pub health_check_interval: Option<f64>,
    /// Seconds a backend that failed stays out of turn when there are no active checks.
    #[serde(default = "default_backend_retry")]
    pub backend_retry: f64,
    /// Certificates (RSA and ECDSA may both be given: the client's signature algorithms pick).
    pub certificate: Vec<CertificateFiles>,
    /// SNI routes.
    #[serde(default)]
    pub route: Vec<Route>,
    /// Protocol versions, narrowed from tls1.2 and tls1.3.
    #[serde(default)]
    pub versions: Vec<String>,
    /// Cipher suites (IANA names), narrowed from the FIPS set.
    #[serde(default)]
    pub cipher_suites: Vec<String>,
    /// Key exchange groups, narrowed from the FIPS set, in preference order.
    #[serde(default)]
    pub groups: Vec<String>,
    /// Offer the X25519MLKEM768 hybrid (its ML-KEM part is FIPS 203).
    #[serde(default = "default_true")]
    pub pq_hybrid_x25519: bool,
    /// ALPN protocols, in preference order.
    #[serde(default)]
    pub alpn: Vec<String>,
    /// Session resumption (tickets from a FIPS-approved ticketer, and a session cache).
    #[serde(default = "default_true")]
    pub session_resumption: bool,
    /// PROXY protocol header to the backend.
    #[serde(default)]
    pub proxy_protocol: Option<ProxyProtocol>,
    /// Mutual TLS.
    #[serde(default)]
    pub client_auth: Option<ClientAuth>,
    /// TLS towards the backends (default: plaintext).
    #[serde(default)]
    pub backend_tls: Option<BackendTls>,
    /// Client connections open at once on this listener.
    #[serde(default)]
    pub max_connections: Option<usize>,
    /// The protocol whose plaintext opening the proxy plays before TLS (none: TLS at once).
    #[serde(default)]
    pub starttls: Option<Starttls>,
}

/// The whole configuration.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Process-wide settings.
    #[serde(default)]
    pub proxy: Global,
    /// Listeners.
    #[serde(default)]
    pub listener: Vec<Listener>,
}

impl Config {
    /// Parses and checks a configuration text; relative paths are taken from `base`.
    pub fn parse(text: &str, origin: &str, base: &Path) -> Result<Self, ConfigError> {
        let mut cfg: Self = toml::from_str(text).map_err(|e| {
            let at = e
                .span()
                .map(|s| {
                    let line = text[..s.start.min(text.len())].matches('\n').count() + 1;
                    format!(":{line}")
                })
                .unwrap_or_default();
            ConfigError(format!("{origin}{at}: {}", e.message()))
        })?;
        cfg.resolve_paths(base);
        cfg.check()
            .map_err(|e| ConfigError(format!("{origin}: {e}")))?;
        Ok(cfg)
    }

    /// Reads and checks a configuration file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError(format!("{}: {e}", path.display())))?;
        let base = path.parent().unwrap_or_else(|| Path::new("."));
        Self::parse(&text, &path.display().to_string(), base)
    }

    fn resolve_paths(&mut self, base: &Path) {
        let fix = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        };
        for l in &mut self.listener {
            let certs = l
                .certificate
                .iter_mut()
                .chain(l.route.iter_mut().flat_map(|r| r.certificate.iter_mut()));
            for c in certs {
                fix(&mut c.chain);
                match &mut c.key {
                    KeySource::File(p) => fix(p),
                    KeySource::Token(uri) => {
                        if let Some(PinSource::File(p)) = uri.pin.as_mut() {
                            fix(p);
                        }
                        uri.module_path.iter_mut().for_each(fix);
                    }
                }
                c.ocsp
                    .iter_mut()
                    .chain(c.pkcs11_module.iter_mut())
                    .for_each(fix);
            }
            if let Some(b) = l.backend_tls.as_mut() {
                fix(&mut b.ca);
            }
            if let Some(a) = l.client_auth.as_mut() {
                fix(&mut a.ca);
                a.crls.iter_mut().for_each(fix);
            }
        }
    }

    fn check(&self) -> Result<(), String> {
        let g = &self.proxy;
        for (name, v) in [
            ("handshake_timeout", g.handshake_timeout),
            ("idle_timeout", g.idle_timeout),
            ("drain_timeout", g.drain_timeout),
        ] {
            if !(v.is_finite() && v > 0.0 && v <= 86_400.0) {
                return Err(format!(
                    "proxy.{name} must be seconds above 0 and at most 86400"
                ));
            }
        }
        if g.max_connections == 0 {
            return Err("proxy.max_connections must be at least 1".into());
        }
        if self.listener.is_empty() {
            return Err("no [[listener]]".into());
        }
        let mut addresses = std::collections::HashSet::new();
        for l in &self.listener {
            let at = format!("listener {:?}", l.name);
            if l.listen.is_empty() {
                return Err(format!("{at}: listen is empty"));
            }
            for a in &l.listen {
                if !addresses.insert(*a) || g.admin == Some(*a) {
                    return Err(format!("{at}: {a} is used twice"));
                }
            }
            if l.certificate.is_empty() {
                return Err(format!("{at}: no [[listener.certificate]]"));
            }
            for c in l
                .certificate
                .iter()
                .chain(l.route.iter().flat_map(|r| &r.certificate))
            {
                c.key_ref().map_err(|e| format!("{at}: {e}"))?;
            }
            if l.max_connections == Some(0) {
                return Err(format!("{at}: max_connections must be at least 1"));
            }
            for r in &l.route {
                if r.names.is_empty() {
                    return Err(format!("{at}: a route without names"));
                }
                for n in &r.names {
                    let bare = n.strip_prefix("*.").unwrap_or(n);
                    if bare.is_empty() || bare.contains('*') || bare.contains(char::is_whitespace) {
                        return Err(format!("{at}: route name {n:?} is not a host name"));
                    }
                }
            }
            if let Some(a) = &l.client_auth {
                if a.client_ocsp == OcspMode::Off && a.ocsp_responder.is_some() {
                    return Err(format!("{at}: ocsp_responder needs client_ocsp"));
                }
                if let Some(url) = &a.ocsp_responder {
                    crate::ocsp_check::http_url(url)
                        .map_err(|e| format!("{at}: ocsp_responder: {e}"))?;
                }
                if !(0.05..=60.0).contains(&a.ocsp_timeout) {
                    return Err(format!(
                        "{at}: ocsp_timeout must be seconds from 0.05 to 60"
                    ));
                }
                if !(0.0..=3600.0).contains(&a.ocsp_failure_hold) {
                    return Err(format!(
                        "{at}: ocsp_failure_hold must be seconds from 0 to 3600"
                    ));
                }
            }
            if let Some(a) = l.client_auth.as_ref().filter(|a| a.crls.is_empty()) {
                if a.crl_scope.is_some() || a.allow_unknown_revocation {
                    return Err(format!(
                        "{at}: crl_scope and allow_unknown_revocation need crls"
                    ));
                }
            }
            for (name, v) in [
                ("health_check_interval", l.health_check_interval),
                ("backend_retry", Some(l.backend_retry)),
            ] {
                if v.is_some_and(|v| !(0.05..=86_400.0).contains(&v)) {
                    return Err(format!("{at}: {name} must be seconds from 0.05 to 86400"));
                }
            }
            if l.starttls == Some(Starttls::Ftp) {
                let backends = l.backend.0.iter().chain(
                    l.route
                        .iter()
                        .filter_map(|r| r.backend.as_ref())
                        .flat_map(|b| &b.0),
                );
                for b in backends {
                    if matches!(b, Backend::Unix(_)) {
                        return Err(format!(
                            "{at}: starttls = \"ftp\" needs TCP backends (its data connections)"
                        ));
                    }
                }
                if l.backend_tls.is_some() {
                    return Err(format!(
                        "{at}: starttls = \"ftp\" relays data connections in plaintext to the \
                         backend; it does not go with backend_tls"
                    ));
                }
            }
            for p in &l.alpn {
                if p.is_empty() || p.len() > 255 {
                    return Err(format!("{at}: ALPN protocol {p:?} must be 1 to 255 bytes"));
                }
            }
        }
        Ok(())
    }

    /// The configuration of the one-line form: one listener, one certificate, one backend.
    pub fn simple(
        listen: SocketAddr,
        backend: &str,
        chain: PathBuf,
        key: &str,
        pkcs11_module: Option<PathBuf>,
        starttls: Option<Starttls>,
    ) -> Result<Self, ConfigError> {
        let key = KeySource::parse(key).map_err(|e| ConfigError(format!("--{e}")))?;
        let backend = Backends::deserialize(toml::Value::String(backend.to_owned()))
            .map_err(|e| ConfigError(format!("--backend: {e}")))?;
        let cfg = Self {
            proxy: Global::default(),
            listener: vec![Listener {
                name: "default".into(),
                listen: vec![listen],
                backend,
                balance: Balance::default(),
                health_check_interval: None,
                backend_retry: default_backend_retry(),
                certificate: vec![CertificateFiles {
                    chain,
                    key,
                    ocsp: None,
                    pkcs11_module,
                    pin_env: None,
                }],
                route: Vec::new(),
                versions: Vec::new(),
                cipher_suites: Vec::new(),
                groups: Vec::new(),
                pq_hybrid_x25519: true,
                alpn: Vec::new(),
                session_resumption: true,
                proxy_protocol: None,
                client_auth: None,
                backend_tls: None,
                max_connections: None,
                starttls,
            }],
        };
        cfg.check().map_err(ConfigError)?;
        Ok(cfg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(text, "t.toml", Path::new("/etc/fipsgate"))
    }

    const MINIMAL: &str = r#"
[[listener]]
name = "web"
listen = ["127.0.0.1:8443"]
backend = "127.0.0.1:8080"
[[listener.certificate]]
chain = "web.pem"
key = "/keys/web.key"
"#;

    #[test]
    fn minimal_config_gets_defaults_and_absolute_paths() {
        let c = parse(MINIMAL).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.proxy, Global::default());
        let l = &c.listener[0];
        assert_eq!(
            l.certificate[0].chain,
            PathBuf::from("/etc/fipsgate/web.pem")
        );
        assert_eq!(
            l.certificate[0].key,
            KeySource::File("/keys/web.key".into())
        );
        assert!(l.pq_hybrid_x25519 && l.session_resumption);
        assert_eq!(l.backend.0, [Backend::Tcp("127.0.0.1:8080".into())]);
    }

    #[test]
    fn token_keys_need_a_module_and_one_pin_and_take_relative_paths() {
        let token = |lines: &str| {
            parse(&MINIMAL.replace("key = \"/keys/web.key\"", lines)).map_err(|e| e.0)
        };
        let c = token(
            "key = \"pkcs11:token=t;object=k?pin-source=file:pin.txt\"\npkcs11_module = \"p11.so\"",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let files = &c.listener[0].certificate[0];
        match files.key_ref() {
            Ok(KeyRef::Token(t)) => {
                assert_eq!(t.module, Path::new("/etc/fipsgate/p11.so"));
                assert_eq!(t.pin, PinSource::File("/etc/fipsgate/pin.txt".into()));
                assert_eq!(t.uri.to_string(), "pkcs11:token=t;object=k");
            }
            other => panic!("{other:?}"),
        }
        for (lines, says) in [
            (
                "key = \"pkcs11:object=k?pin-value=1\"",
                "which PKCS#11 library",
            ),
            (
                "key = \"pkcs11:object=k?module-path=/a.so\"\npkcs11_module = \"/b.so\"",
                "not both",
            ),
            ("key = \"pkcs11:object=k?module-path=/a.so\"", "no PIN"),
            (
                "key = \"pkcs11:object=k?module-path=/a.so&pin-value=1\"\npin_env = \"P\"",
                "pin_env or a PIN in the URI, not both",
            ),
            ("key = \"k.pem\"\npin_env = \"P\"", "for pkcs11: keys"),
            ("key = \"pkcs11:token=t\"", "object= (its label) or id="),
        ] {
            let e = token(lines).err().unwrap_or_default();
            assert!(e.contains(says), "{lines}: {e}");
        }
    }

    #[test]
    fn starttls_protocols_and_what_ftp_needs() {
        let with = |lines: &str| {
            parse(&MINIMAL.replace("backend = \"127.0.0.1:8080\"", lines)).map_err(|e| e.0)
        };
        let c = with("backend = \"127.0.0.1:8080\"\nstarttls = \"postgres\"")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.listener[0].starttls, Some(Starttls::Postgres));
        assert_eq!(Starttls::parse("IMAP"), Some(Starttls::Imap));
        for (lines, says) in [
            ("backend = \"a:1\"\nstarttls = \"xmpp\"", "unknown variant"),
            (
                "backend = \"unix:/run/f\"\nstarttls = \"ftp\"",
                "needs TCP backends",
            ),
            (
                "backend = \"a:1\"\nstarttls = \"ftp\"\n[listener.backend_tls]\nca = \"c\"",
                "does not go with backend_tls",
            ),
        ] {
            let e = with(lines).err().unwrap_or_default();
            assert!(e.contains(says), "{lines}: {e}");
        }
    }

    #[test]
    fn errors_name_the_line_or_the_listener() {
        let e = parse(&MINIMAL.replace("backend = \"127.0.0.1:8080\"", "backend = \"nowhere\""))
            .err()
            .map(|e| e.0)
            .unwrap_or_default();
        assert!(e.starts_with("t.toml:5:") && e.contains("HOST:PORT"), "{e}");
        let e = parse(&MINIMAL.replace("name = \"web\"", "name = \"web\"\ncolour = 1"))
            .err()
            .map(|e| e.0)
            .unwrap_or_default();
        assert!(e.contains("unknown field `colour`"), "{e}");
        let twice = format!("{MINIMAL}{}", MINIMAL.replace("\"web\"", "\"web2\""));
        let e = parse(&twice).err().map(|e| e.0).unwrap_or_default();
        assert!(e.contains("127.0.0.1:8443 is used twice"), "{e}");
        assert!(parse("").is_err());
        assert!(parse("[proxy]\nidle_timeout = -1\n").is_err());
        for (bad, says) in [
            ("backend = []", "the list is empty"),
            ("backend = [\"a:1\", \"nowhere\"]", "HOST:PORT"),
            ("backend = \"a:1\"\nbalance = \"random\"", "unknown variant"),
            (
                "backend = \"a:1\"\nhealth_check_interval = 0",
                "health_check_interval",
            ),
        ] {
            let e = parse(&MINIMAL.replace("backend = \"127.0.0.1:8080\"", bad))
                .err()
                .map(|e| e.0)
                .unwrap_or_default();
            assert!(e.contains(says), "{bad}: {e}");
        }
        let several = MINIMAL.replace(
            "backend = \"127.0.0.1:8080\"",
            "backend = [\"a:1\", \"unix:/run/b.sock\"]\nbalance = \"least-connections\"",
        );
        let c = parse(&several).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.listener[0].backend.to_string(), "a:1, unix:/run/b.sock");
        assert_eq!(c.listener[0].balance, Balance::LeastConnections);
        let unix = MINIMAL.replace("127.0.0.1:8080", "unix:/run/app.sock");
        let c = parse(&unix).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            c.listener[0].backend.0,
            [Backend::Unix("/run/app.sock".into())]
        );
    }
}
