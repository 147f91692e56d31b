//! Command-line definitions.
use clap::{Args, Parser, Subcommand, ValueEnum};

/// Prove or enforce FIPS-only cryptography on TLS and SSH.
#[derive(Debug, Parser)]
#[command(name = "fipsgate", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Top-level commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the version, the AWS-LC FIPS module version and whether FIPS mode is active.
    Version(FormatArg),
    /// Scan TLS endpoints and judge what they negotiate.
    Scan(Box<ScanArgs>),
    /// Judge a saved NDJSON scan again under other policies, offline (no network).
    Report(ReportArgs),
    /// List what changed between two NDJSON scans: endpoints that appeared or vanished, and
    /// changed verdicts or algorithms. Exit 0 when nothing changed, 1 otherwise.
    Diff(DiffArgs),
    /// Print the JSON Schema of the NDJSON report lines (docs/schema/report.schema.json).
    Schema,
    /// Terminate TLS with FIPS-validated crypto only and forward plaintext to backends
    /// (docs/proxy.md).
    Proxy(ProxyArgs),
    /// A Prometheus probe endpoint: /probe?target=HOST:PORT&policy=NAME scans one allowed
    /// target and answers with its FIPS metrics; /metrics has the exporter's own
    /// (docs/exporter.md).
    Exporter(ExporterArgs),
    /// Generated documentation: `usage` prints the command reference (docs/usage.md); `man DIR`
    /// writes the man pages into DIR (docs/man/, or /usr/local/share/man/man1 to install them).
    Docs {
        /// usage or man.
        #[arg(value_parser = ["usage", "man"])]
        what: String,
        /// Directory for the man pages.
        dir: Option<String>,
    },
    /// Start a legacy TLS server, a plaintext backend behind the FIPS proxy and (if installed)

    /// a legacy sshd on loopback, scan them all, and print the report.
    Demo(DemoArgs),
    /// Audit configurations against policies.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Query cipher-db: every TLS and SSH algorithm and its verdict under each policy.
    #[command(subcommand)]
    Db(DbCommand),
    /// Inspect and validate policies.
    #[command(subcommand)]
    Policy(PolicyCommand),
}

/// `fipsgate scan …`
#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Targets: HOST, HOST:PORT, [IPV6]:PORT, CIDR blocks (10.0.0.0/24, [fd00::/120]:22),
    /// ranges (10.0.0.1-20, 10.0.0.1-10.0.0.20:8443).
    #[arg(value_name = "TARGET")]
    pub targets: Vec<String>,
    /// Read targets from FILE (one or more per line, # comments; `-` for stdin). `-iL` works too.
    #[arg(long, value_name = "FILE")]
    pub input_list: Option<String>,
    /// Ports for targets that name none: 22,443,990,8000-8010 (default 443).
    #[arg(short = 'p', long, value_name = "LIST")]
    pub ports: Option<String>,
    /// Ports probed as SSH at once (comma-separated, ranges allowed; default 22). Elsewhere an
    /// SSH server is still recognised by its identification, after a TLS 1.2 and a TLS 1.3 hello.
    #[arg(long, value_name = "LIST", default_value = "22")]
    pub ssh_ports: String,
    /// Also report closed and filtered ports of ranges, blocks and port lists (status closed or
    /// filtered); without it they are only counted in scan_end. Every open port is reported.
    #[arg(long)]
    pub all_ports: bool,
    /// Addresses, blocks or ranges to leave out (comma-separated or repeated).

    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub exclude: Vec<String>,
    /// Scan even when the targets expand to more than 65,536 endpoints.
    #[arg(long)]
    pub yes: bool,
    /// Deadline for each connect and each read, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 5.0)]
    pub timeout: f64,
    /// SNI name to send (default: the target's host name; none for IP addresses).
    #[arg(long, value_name = "NAME")]
    pub sni: Option<String>,
    /// STARTTLS protocol for every target: smtp, imap, pop3, ftp, ldap, xmpp, postgres, or none
    /// for implicit TLS (default: by well-known port; implicit TLS elsewhere).
    #[arg(long, value_name = "PROTO")]
    pub starttls: Option<String>,
    /// Pause between connections to the same endpoint, in milliseconds (for servers that limit
    /// connection rates, such as mail servers).
    #[arg(long, value_name = "MS", default_value_t = 0)]
    pub delay: u64,
    /// Use ADDR for HOST instead of DNS (repeat for several addresses), like curl's --resolve.
    #[arg(long, value_name = "HOST:ADDR")]
    pub resolve: Vec<String>,
    /// For SSH endpoints: complete a real handshake with libssh2 offering only what the first
    /// SSH policy approves (no credentials are sent), proving a FIPS-only client can connect.
    #[arg(long)]
    pub confirm: bool,
    /// Endpoints scanned at once.
    #[arg(long, value_name = "N", default_value_t = 16)]
    pub concurrency: usize,
    /// Connections open at once to one address, across its endpoints; an endpoint asks its
    /// independent questions side by side within it (1: one connection at a time).
    #[arg(long, value_name = "N", default_value_t = 6)]
    pub per_host: usize,
    /// New connections per second across the whole scan (default: no limit).
    #[arg(long, value_name = "N")]
    pub rate: Option<u32>,
    /// Further attempts of a connect that timed out or was reset.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub retries: u32,
    /// Longest time one endpoint may take, all its connections included, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 300.0)]
    pub endpoint_timeout: f64,
    /// Scan only part I of N of the targets (I from 0), so N machines split one list.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
    /// Skip endpoints already in this NDJSON output of an earlier run; when -o names the same
    /// file, new lines are appended to it.
    #[arg(long, value_name = "FILE")]
    pub resume: Option<String>,
    /// Never show the progress bar (it is shown only when standard error is a terminal).
    #[arg(long)]
    pub no_progress: bool,
    #[command(flatten)]
    pub judge: JudgeArgs,
}

/// `fipsgate proxy …`
#[derive(Debug, Args)]
pub struct ProxyArgs {
    /// Run with this TOML configuration (reloaded on SIGHUP and when the file changes).
    #[arg(long, value_name = "FILE", conflicts_with = "check")]
    pub config: Option<String>,
    /// Check this configuration and the FIPS status, print what would run, and exit.
    #[arg(long, value_name = "FILE")]
    pub check: Option<String>,
    /// One-line form: the address to listen on.
    #[arg(long, value_name = "ADDR", requires_all = ["backend", "cert", "key"], conflicts_with_all = ["config", "check"])]
    pub listen: Option<std::net::SocketAddr>,
    /// One-line form: the backend, HOST:PORT or unix:/path.
    #[arg(long, value_name = "ADDR", requires = "listen")]
    pub backend: Option<String>,
    /// One-line form: the PEM certificate chain.
    #[arg(long, value_name = "FILE", requires = "listen")]
    pub cert: Option<String>,
    /// One-line form: the PEM private key, or an RFC 7512 `pkcs11:` URI of a key in a token.
    #[arg(long, value_name = "FILE|URI", requires = "listen")]
    pub key: Option<String>,
    /// One-line form: the PKCS#11 library holding a `pkcs11:` key.
    #[arg(long, value_name = "PATH", requires = "key")]
    pub pkcs11_module: Option<String>,
    /// One-line form: play the plaintext opening of this protocol before TLS (smtp, imap, pop3,
    /// ldap, postgres, ftp).
    #[arg(long, value_name = "PROTO", requires = "listen")]
    pub starttls: Option<String>,
    #[command(flatten)]
    pub format: FormatArg,
}

/// `fipsgate demo …`
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Report format: text or ndjson (any scan format works).
    #[arg(long, value_enum, default_value_t = ScanFormat::Text)]
    pub format: ScanFormat,
    /// Leave the servers running and print their addresses (until Ctrl-C).
    #[arg(long)]
    pub keep_running: bool,
}

/// `fipsgate exporter …`
#[derive(Debug, Args)]
pub struct ExporterArgs {
    /// Address to serve HTTP on, such as 127.0.0.1:9716.
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,
    /// A TOML file with the same settings (listen, allow, timeout, min_interval, max_probes,
    /// bearer_token_file, default_policies, policy_files); flags win, allow lists add up.
    #[arg(long, value_name = "FILE")]
    pub config: Option<String>,
    /// A network the exporter may scan (CIDR or address; repeatable). Other targets get 403
    /// before any connection; at least one is required.
    #[arg(long, value_name = "CIDR")]
    pub allow: Vec<String>,
    /// Longest time one probe may take, in seconds [default: 30].
    #[arg(long, value_name = "SECONDS")]
    pub timeout: Option<u64>,
    /// Reuse a target's result for this many seconds, whatever the scrape rate [default: 60].
    #[arg(long, value_name = "SECONDS")]
    pub min_interval: Option<u64>,
    /// Probes at once [default: 8].
    #[arg(long, value_name = "N")]
    pub max_probes: Option<usize>,
    /// Require `Authorization: Bearer TOKEN`, with TOKEN read from FILE.
    #[arg(long, value_name = "FILE")]
    pub bearer_token_file: Option<String>,
    /// Policies of a probe that names none (built-in names; comma-separated or repeated)
    /// [default: fips-140-3].
    #[arg(long = "policy", value_name = "P", value_delimiter = ',')]
    pub policies: Vec<String>,
}

/// `fipsgate diff …`

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The earlier scan (NDJSON).
    pub old: String,
    /// The later scan (NDJSON).
    pub new: String,
    #[command(flatten)]
    pub format: FormatArg,
}

/// `fipsgate report …`

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// A scan saved with `fipsgate scan --format ndjson` (`-` for stdin).
    pub file: String,
    #[command(flatten)]
    pub judge: JudgeArgs,
}

/// `--policy`, shared by every command that judges.
#[derive(Debug, Clone, Args)]
pub struct PoliciesArg {
    /// Policies to judge under (name or file; comma-separated or repeated).
    #[arg(
        long = "policy",
        value_name = "P",
        value_delimiter = ',',
        default_value = "fips-140-3"
    )]
    pub names: Vec<String>,
}

/// How `scan` and `report` judge and print endpoints.
#[derive(Debug, Clone, Args)]
pub struct JudgeArgs {
    #[command(flatten)]
    pub policies: PoliciesArg,
    /// Judge TLS servers as citizen-facing (SP 800-52r2 3.1): TLS 1.0 and 1.1 are deprecated
    /// instead of disallowed and discouraged.
    #[arg(long)]
    pub citizen_facing: bool,
    /// Judge on this day (YYYY-MM-DD) instead of today: dated rules (the transitional items of
    /// cnsa-2.0) are disallowed after their date.
    #[arg(long, value_name = "DATE")]
    pub as_of: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ScanFormat::Text)]
    pub format: ScanFormat,
    /// Write the report to FILE instead of standard output.
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<String>,
    /// Exit 1 when an endpoint's verdict is this or worse.
    #[arg(long, value_enum, default_value_t = FailOn::NotFipsCapable)]
    pub fail_on: FailOn,
    /// Colours in the text format.
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = ColorWhen::Auto)]
    pub color: ColorWhen,
    /// With --format html: an earlier scan (NDJSON) to compare with, judged by the same
    /// policies; the page gets a view of what changed (new, gone, better, worse endpoints and
    /// the findings that appeared or were fixed).
    #[arg(long, value_name = "OLD.ndjson")]
    pub baseline: Option<String>,
    #[command(flatten)]
    pub deliver: DeliverArgs,
}

/// Where reports go besides standard output and `-o`.
#[derive(Debug, Clone, Args)]
pub struct DeliverArgs {
    /// Send every event to syslog: udp://HOST:PORT or tcp://HOST:PORT (RFC 5424; octet
    /// counting over TCP). Text and HTML formats send the NDJSON lines.
    #[arg(long, value_name = "URL")]
    pub syslog: Vec<String>,
    /// POST the events in batches to URL (http:// or https://): NDJSON, or Splunk HEC envelopes
    /// with --format splunk-hec.
    #[arg(long, value_name = "URL")]
    pub http_post: Vec<String>,
    /// A header for --http-post, such as "Authorization: Splunk TOKEN" (repeatable).
    #[arg(long, value_name = "NAME: VALUE")]
    pub http_header: Vec<String>,
    /// CA bundle trusted for https:// receivers (default: the system's).
    #[arg(long, value_name = "FILE")]
    pub http_ca: Option<String>,
}

/// When the text format uses colours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorWhen {
    /// When standard output is a terminal and NO_COLOR is not set.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

/// Report formats of `scan` and `report` (docs/report.md, docs/siem.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ScanFormat {
    /// One block per endpoint.
    Text,
    /// One JSON object per line: the canonical format (docs/report.md).
    Ndjson,
    /// Elastic Common Schema documents, one per endpoint.
    Ecs,
    /// OCSF Compliance Finding (class 2003) events, one per endpoint and policy.
    Ocsf,
    /// Splunk HTTP Event Collector envelopes.
    SplunkHec,
    /// ArcSight CEF lines, one per finding and endpoint verdict.
    Cef,
    /// QRadar LEEF 1.0 lines, one per finding and endpoint verdict.
    Leef,
    /// One self-contained HTML dashboard (docs/dashboard.md).
    Html,
    /// SARIF 2.1.0 for code-scanning dashboards: a rule per policy, item and verdict, a result
    /// per finding.
    Sarif,
    /// JUnit XML for CI: a testsuite per policy, a testcase per endpoint, failing at --fail-on.
    Junit,
    /// CycloneDX 1.6 Cryptography Bill of Materials: endpoints as services, their protocols,
    /// algorithms, certificates and keys as cryptographic assets.
    Cbom,
}

/// Threshold of `--fail-on`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    /// Fail unless every endpoint is fips-only.
    FipsCapable,
    /// Fail when an endpoint is not FIPS-capable.
    NotFipsCapable,
}

/// `fipsgate audit …`
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check an sshd_config: Ciphers, MACs, KexAlgorithms, HostKeyAlgorithms,
    /// PubkeyAcceptedAlgorithms, CASignatureAlgorithms, HostbasedAcceptedAlgorithms (Match blocks
    /// each on their own), HostKey files, RequiredRSASize and Protocol, with Include and the
    /// +, -, ^ list modifiers resolved against the installed OpenSSH's defaults. Exit 0
    /// compliant, 1 findings, 2 unreadable or invalid file.
    Sshd {
        /// The configuration file.
        #[arg(default_value = "/etc/ssh/sshd_config")]
        file: String,
        #[command(flatten)]
        policies: PoliciesArg,
        /// Audit what sshd will really use: the output of `sshd -T -f FILE`.
        #[arg(long)]
        effective: bool,
        #[command(flatten)]
        format: FormatArg,
    },
}

/// `fipsgate db …`
#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// List algorithms, optionally of one kind, with their verdicts.
    List {
        /// Only this kind.
        #[arg(long, value_name = "KIND")]
        kind: Option<KindArg>,
        #[command(flatten)]
        policies: PoliciesArg,
        #[command(flatten)]
        format: FormatArg,
    },
    /// Show one algorithm (name, OpenSSL name, alias or 0xNNNN code): names, components and the
    /// verdict under every built-in policy with reason and source.
    Show {
        /// Name or code.
        name: String,
        /// Only this kind (a code like 0x0017 is both a suite and a group).
        #[arg(long, value_name = "KIND")]
        kind: Option<KindArg>,
        #[command(flatten)]
        format: FormatArg,
    },
    /// Judge a pasted list: an sshd `Ciphers` line, an OpenSSL cipher list, IANA names.
    /// Separators: commas, colons, spaces. Exit 0 if all are allowed, 1 otherwise.
    Check {
        /// Policy to judge under (name or file).
        #[arg(long, value_name = "P", default_value = "fips-140-3")]
        policy: String,
        /// Only look names up in this kind.
        #[arg(long, value_name = "KIND")]
        kind: Option<KindArg>,
        /// Names; a leading sshd directive (Ciphers, MACs, KexAlgorithms …) sets the kind.
        #[arg(required = true, value_name = "NAME")]
        names: Vec<String>,
        /// Judge TLS servers as citizen-facing (SP 800-52r2 3.1): TLS 1.0 and 1.1 are deprecated
        /// instead of disallowed and discouraged.
        #[arg(long)]
        citizen_facing: bool,
        #[command(flatten)]
        format: FormatArg,
    },
}

/// `fipsgate policy …`
#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// List the built-in policies.
    List(FormatArg),
    /// Show a policy (built-in name or file) with its rules, requirements and profile lists.
    Show {
        /// Built-in name or file path.
        policy: String,
        /// Show dated rules as judged on this day (YYYY-MM-DD) instead of today.
        #[arg(long, value_name = "DATE")]
        as_of: Option<String>,
        #[command(flatten)]
        format: FormatArg,
    },
    /// Check a policy file; errors name the file, the line and what is wrong.
    Validate {
        /// Policy file.
        file: String,
        #[command(flatten)]
        format: FormatArg,
    },
}

/// `--format`.
#[derive(Debug, Clone, Copy, Args)]
pub struct FormatArg {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// Output formats of the query commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A readable table.
    Text,
    /// One JSON document (stable, see docs/cipher-db.md).
    Json,
}

/// Algorithm kinds, as spelled on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KindArg {
    /// TLS cipher suites.
    TlsSuite,
    /// TLS supported groups.
    TlsGroup,
    /// TLS signature schemes.
    TlsSigalg,
    /// TLS protocol versions.
    TlsVersion,
    /// SSL 2.0 cipher specs.
    Sslv2Cipher,
    /// SSH key exchange methods.
    SshKex,
    /// SSH host key and signature algorithms.
    SshHostkey,
    /// SSH ciphers.
    SshCipher,
    /// SSH MACs.
    SshMac,
    /// SSH compression methods.
    SshCompression,
}

impl From<KindArg> for fipsgate_cipher_db::Kind {
    fn from(k: KindArg) -> Self {
        use fipsgate_cipher_db::Kind;
        match k {
            KindArg::TlsSuite => Kind::TlsSuite,
            KindArg::TlsGroup => Kind::TlsGroup,
            KindArg::TlsSigalg => Kind::TlsSigalg,
            KindArg::TlsVersion => Kind::TlsVersion,
            KindArg::Sslv2Cipher => Kind::Sslv2Cipher,
            KindArg::SshKex => Kind::SshKex,
            KindArg::SshHostkey => Kind::SshHostkey,
            KindArg::SshCipher => Kind::SshCipher,
            KindArg::SshMac => Kind::SshMac,
            KindArg::SshCompression => Kind::SshCompression,
        }
    }
}
