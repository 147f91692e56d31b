//! TLS enumeration by elimination, the way the fastest tools do it: offer every candidate, record
//! the server's pick, remove it, repeat until the server refuses. Connections per version are
//! about (supported + 1); TLS 1.3 suites and groups come from HelloRetryRequests, so they need no
//! key exchange at all.
use super::ahead::Ahead;
use super::certs::{self, KeyFamily, Tls13Check};
use super::{Conn, ErrorKind, Failure, Heard, ProbeConfig, ProbeError, Slot};
use crate::observation::{
    CertificateChain, CodeName, DhInfo, SuiteRef, TlsObservation, Undetermined, VersionResult,
};
use crate::wire::alert::Alert;
use crate::wire::client_hello::{ext, sslv2_client_hello, ClientHello, Extension};
use crate::wire::flight::{Answer, Flight, FlightError, FlightReader};
use crate::wire::hello_rules;
use crate::wire::record::{classify, StreamKind};
use crate::wire::server_hello::{ServerHello, Sslv2ServerHello};
use crate::wire::server_key_exchange::{self, KeyExchangeKind, KeyExchangeParams};
use crate::wire::WireError;
use fipsgate_cipher_db::tls::{self, TlsVersion};
use futures_util::future::{join_all, maybe_done, select, Either, MaybeDone};
use futures_util::stream::{FuturesUnordered, StreamExt};
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};
use tokio::sync::oneshot;

/// Most suites offered in one hello after a server dropped a large hello.
const SPLIT_SUITES: usize = 64;
/// Hellos left unanswered (silence until the timeout) before a server that never answered is
/// given up as silent: the first, its split retry, and one more version.
const UNANSWERED_LIMIT: u32 = 3;

/// What offering a version's suites until the server refuses showed.
struct Elimination {
    /// The server's picks in order, with their ServerHello and flight.
    picks: Vec<(ServerHello, Flight)>,
    /// Nothing was picked, and the last hello met a reset or silence instead of an answer or
    /// an alert: the version's absence is not established.
    unanswered: bool,
}

/// A TLS 1.2 pick as the signature scheme eliminations need it, passed on as soon as the
/// suite elimination makes it.
struct SchemeSeed {
    suite: u16,
    /// The ServerKeyExchange body.
    key_exchange: Option<Vec<u8>>,
    /// The hello offered every signature scheme (not a minimal one).
    full_hello: bool,
}

impl SchemeSeed {
    /// The seed of a pick, answered to a full hello or a minimal one.
    fn of(hello: &ServerHello, flight: &Flight, full_hello: bool) -> Self {
        Self {
            suite: hello.cipher_suite,
            key_exchange: flight.key_exchange.clone(),
            full_hello,
        }
    }
}

/// The TLS 1.0-1.2 and SSL 3.0 versions a server accepts, each with its picks, best first.
type Legacy = Vec<(TlsVersion, Vec<(ServerHello, Flight)>)>;

/// TLS 1.2 down to SSL 3.0, in the order they are asked about and reported.
const LEGACY_VERSIONS: [TlsVersion; 4] = [
    TlsVersion::Tls12,
    TlsVersion::Tls11,
    TlsVersion::Tls10,
    TlsVersion::Ssl3,
];

/// What the first round showed of TLS 1.2 down to SSL 3.0.
#[derive(Default)]
struct LegacyVersions {
    /// The versions accepted, best first, with their picks.
    accepted: Legacy,
    /// The versions whose hellos went unanswered.
    unanswered: Vec<TlsVersion>,
    /// TLS 1.2 was found in that round, its flights read, and its picks passed on to the
    /// signature schemes' elimination.
    tls12_followed_up: bool,
    /// TLS 1.2's ECDHE groups were read in that round (there is no TLS 1.3 to read them from).
    groups_read: bool,
}

/// Runs `main` to its end while `side` makes progress beside it; `side` may end sooner or
/// later, and keeps its output for whoever awaits it next.
async fn beside<F: Future, S: Future>(main: F, side: Pin<&mut MaybeDone<S>>) -> F::Output {
    match select(Box::pin(main), side).await {
        Either::Left((out, _)) => out,
        Either::Right(((), main)) => main.await,
    }
}

/// Awaits a job that may not be there.
async fn optional<T>(job: Option<impl Future<Output = T>>) -> Option<T> {
    match job {
        Some(job) => Some(job.await),
        None => None,
    }
}

/// Extras of one hello beyond version and suites.
#[derive(Debug, Clone, Default)]
struct HelloOptions {
    groups: Option<Vec<u16>>,
    sigalgs: Option<Vec<u16>>,
    compression: Option<Vec<u8>>,
    fallback_scsv: bool,
    alpn: bool,
    /// The most conservative hello that can still negotiate: SNI, supported groups (the
    /// common curves unless `groups` says), point formats and, for TLS 1.2, signature schemes
    /// (the common ones unless `sigalgs` says), nothing else.
    minimal: bool,
}

impl HelloOptions {
    /// The same lists of groups and signature schemes in the most conservative hello.
    fn minimal(&self) -> Self {
        Self {
            groups: self.groups.clone(),
            sigalgs: self.sigalgs.clone(),
            minimal: true,
            ..Default::default()
        }
    }
}

/// The groups and signature schemes of a minimal hello: what every TLS stack has.
const MINIMAL_GROUPS: [u16; 4] = [0x0017, 0x0018, 0x0019, 0x001D];
const MINIMAL_SIGALGS: [u16; 8] = [
    0x0804, 0x0805, 0x0806, 0x0401, 0x0501, 0x0601, 0x0403, 0x0503,
];

/// A TLS probe of one address.
pub struct TlsProbe {
    addr: SocketAddr,
    cfg: ProbeConfig,
    /// Connections opened so far for hellos (those opened ahead are counted in `shared`).
    connections: u32,
    /// The hello being sent is a step of a chain of questions: the next step's connection is
    /// opened ahead while the answer is on its way.
    in_chain: bool,
    max_suites: Option<usize>,
    /// The hello being sent opens TLS 1.3's group chain, the longest: it goes beside the first
    /// hello once the port has taken a connection, and keeps its place for `passed_slot`.
    opens_longest_chain: bool,
    /// A place among the address's `--per-host` connections handed on by the hello before: the
    /// next fresh connection takes it instead of queueing for one.
    passed_slot: Option<Slot>,
    /// Which fork of the endpoint's probe this is (0 for the probe itself): a connection opened
    /// ahead beside one of its hellos is its own first.
    fork_id: u64,
    /// This fork asks the chain of questions that sets the endpoint's scan time (TLS 1.3's
    /// groups): it has a connection opened ahead of its own.
    critical: bool,
    /// The server refuses hellos that carry extensions: send none.
    without_extensions: bool,
    /// What every fork of this probe shares.
    shared: Arc<Shared>,
    /// The port accepted a TCP connection at least once.
    connected: bool,
    /// The server sent TLS records, or went through the STARTTLS dialogue, at least once.
    spoke: bool,
    /// An SSH server answered a hello with this identification line.
    ssh_identification: Option<String>,
    /// The first answer that broke the protocol (a suite or version that was not offered, a
    /// TLS 1.3 handshake that fails without an alert): the error if nothing else is accepted.
    violation: Option<String>,
    /// Connections the server closed or reset in the middle of a record or message.
    cut_short: u32,
    /// A real TLS 1.3 handshake completed.
    tls13_completed: bool,
    /// How a real TLS 1.3 handshake broke the protocol (not an alert: a misbehaving peer).
    tls13_violation: Option<String>,
    obs: TlsObservation,
}

/// What every fork of one endpoint's probe shares, so that a server that never answers, or
/// stops answering, costs one deadline however many forks are waiting on it.
#[derive(Debug, Default)]
struct Shared {
    /// The server has answered a hello at least once.
    reached: AtomicBool,
    /// Hellos that got no answer at all before the server ever answered one.
    unanswered: AtomicU32,
    /// The server stopped answering properly after it had answered: later probes are skipped.
    broken: AtomicBool,
    /// The server left a hello unanswered that was followed by a half-close: hellos are no
    /// longer followed by one.
    keep_open: AtomicBool,
    /// Held by the hello in flight while the server has not answered yet.
    first: Arc<tokio::sync::Mutex<()>>,
    /// The error that ended the probe: forks ask nothing more.
    failed: std::sync::Mutex<Option<ProbeError>>,
    /// Whether the scanner's TLS 1.3 hellos found TLS 1.3, once known.
    tls13: tokio::sync::watch::Sender<Option<bool>>,
    /// The port took a connection ready for a hello (its STARTTLS dialogue done), or the probe
    /// failed.
    ready: tokio::sync::watch::Sender<bool>,
    /// Connections opened ahead for the next steps of chains.
    ahead: Ahead,
    /// Forks made so far.
    forks: AtomicU64,
}

impl Shared {
    fn reached(&self) -> bool {
        self.reached.load(Ordering::Relaxed)
    }

    fn broken(&self) -> bool {
        self.broken.load(Ordering::Relaxed)
    }

    /// Says whether the TLS 1.3 hellos found TLS 1.3 (the first word stands). Found, real
    /// TLS 1.3 handshakes will follow, and they need the crypto library's randomness.
    fn tls13_found(&self, found: bool) {
        if found {
            super::warm_up_randomness();
        }
        self.tls13.send_if_modified(|known| {
            let first = known.is_none();
            known.get_or_insert(found);
            first
        });
    }

    /// Waits until the TLS 1.3 probe knows whether its hellos found TLS 1.3.
    async fn tls13_known(&self) -> bool {
        let mut known = self.tls13.subscribe();
        let found = known.wait_for(Option::is_some).await;
        found.is_ok_and(|f| *f == Some(true))
    }

    /// Until the server has answered once, connections go one at a time: a server that never
    /// answers costs what it did when the probe was sequential, not a deadline per fork. Waits
    /// for this caller's turn (held until the guard drops; none is needed once the server has
    /// answered), or returns the error that ended the probe meanwhile.
    async fn turn(&self) -> Result<Option<tokio::sync::OwnedMutexGuard<()>>, ProbeError> {
        let turn = if self.reached() {
            None
        } else {
            let turn = self.first.clone().lock_owned().await;
            (!self.reached()).then_some(turn)
        };
        self.still_going().map(|()| turn)
    }

    /// The error that ended the probe, if one did.
    fn still_going(&self) -> Result<(), ProbeError> {
        match self.failed.lock().ok().and_then(|f| f.clone()) {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// The turn of [`Self::turn`], or, once the port has taken a connection ready for a hello,
    /// no turn at all: for the one hello that may go beside the first.
    async fn turn_or_ready(&self) -> Result<Option<tokio::sync::OwnedMutexGuard<()>>, ProbeError> {
        let mut ready = self.ready.subscribe();
        tokio::select! {
            turn = self.turn() => turn,
            _ = ready.wait_for(|r| *r) => self.still_going().map(|()| None),
        }
    }

    fn fail(&self, e: &ProbeError) {
        if let Ok(mut failed) = self.failed.lock() {
            failed.get_or_insert_with(|| e.clone());
        }
        self.ready.send_replace(true);
    }

    /// Whether the server has left so many hellos unanswered, without ever answering one, that
    /// it is given up.
    fn silent(&self) -> bool {
        !self.reached() && self.unanswered.load(Ordering::Relaxed) >= UNANSWERED_LIMIT
    }
}

/// The groups a hello of this version offers: for TLS 1.3 none of RFC 8446's obsolete ones
/// (a strict server refuses a TLS 1.3-only hello that lists them).
fn groups_for(version: TlsVersion) -> Vec<u16> {
    tls::named_groups()
        .iter()
        .filter(|g| match version {
            TlsVersion::Tls13 => {
                !hello_rules::obsolete_in_tls13_group(g.code) && g.family != "explicit"
            }
            _ => {
                matches!(
                    g.family,
                    "ec-prime" | "ec-koblitz" | "ec-binary" | "brainpool" | "montgomery" | "ffdhe"
                ) && !g.name.ends_with("tls13")
            }
        })
        .map(|g| g.code)
        .collect()
}

fn all_sigalgs() -> Vec<u16> {
    tls::signature_schemes().iter().map(|s| s.code).collect()
}

/// The signature schemes a hello of this version offers: for TLS 1.3 none of RFC 8446's
/// obsolete ones.
fn sigalgs_for(version: TlsVersion, asked: Option<&[u16]>) -> Vec<u16> {
    let all = asked.map_or_else(all_sigalgs, <[u16]>::to_vec);
    if version == TlsVersion::Tls13 {
        all.into_iter()
            .filter(|s| !hello_rules::obsolete_in_tls13_sigalg(*s))
            .collect()
    } else {
        all
    }
}

fn suites_for(version: TlsVersion) -> Vec<u16> {
    tls::cipher_suites()
        .iter()
        .filter(|s| match version {
            TlsVersion::Tls13 => s.is_tls13(),
            TlsVersion::Tls12 => !s.is_tls13(),
            _ => !s.is_tls13() && s.min_version != "tls1.2",
        })
        .map(|s| s.code)
        .collect()
}

/// Random-looking bytes for hello randoms and session ids. A probe needs no secret randomness,
/// and the FIPS DRBG's first use costs milliseconds of self-tests, so std's per-process hasher
/// keys (seeded from the OS) are stretched with a counter instead.
fn random_bytes<const N: usize>() -> [u8; N] {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let state = std::collections::hash_map::RandomState::new();
    let mut b = [0u8; N];
    for chunk in b.chunks_mut(8) {
        let mut h = state.build_hasher();
        h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
        let v = h.finish().to_le_bytes();
        chunk.copy_from_slice(&v[..chunk.len()]);
    }
    b
}

fn malformed(e: WireError) -> ProbeError {
    ProbeError::new(ErrorKind::Malformed, e.to_string())
}

impl TlsProbe {
    /// A probe of `addr`.
    pub fn new(addr: SocketAddr, cfg: ProbeConfig) -> Self {
        Self {
            addr,
            cfg,
            connections: 0,
            in_chain: false,
            opens_longest_chain: false,
            fork_id: 0,
            critical: false,
            passed_slot: None,
            max_suites: None,
            without_extensions: false,
            shared: Arc::default(),
            connected: false,
            spoke: false,
            ssh_identification: None,
            violation: None,
            cut_short: 0,
            tls13_completed: false,
            tls13_violation: None,
            obs: TlsObservation::default(),
        }
    }

    /// A probe of the same endpoint for one line of questions asked beside others: it shares
    /// what the server did so far and keeps its own counts and observations, which
    /// [`Self::absorb`] takes back.
    fn fork(&self) -> Self {
        Self {
            max_suites: self.max_suites,
            without_extensions: self.without_extensions,
            fork_id: self.shared.forks.fetch_add(1, Ordering::Relaxed) + 1,
            shared: self.shared.clone(),
            ..Self::new(self.addr, self.cfg.clone())
        }
    }

    /// Takes back what a fork learned. Forks are absorbed in the order the sequential probe
    /// asked their questions, so the report does not depend on which answer came first.
    fn absorb(&mut self, fork: Self) {
        self.shared.ahead.release(fork.fork_id);
        self.connections += fork.connections;
        self.max_suites = self.max_suites.or(fork.max_suites);
        self.connected |= fork.connected;
        self.spoke |= fork.spoke;
        self.ssh_identification = self.ssh_identification.take().or(fork.ssh_identification);
        self.violation = self.violation.take().or(fork.violation);
        self.cut_short += fork.cut_short;
        self.tls13_completed |= fork.tls13_completed;
        self.tls13_violation = self.tls13_violation.take().or(fork.tls13_violation);
        self.obs.absorb(fork.obs);
    }

    /// A job run on a fork of this probe; the job hands the fork back, to be absorbed, with
    /// its result.
    fn forked<Job, Fut>(&self, job: Job) -> Fut
    where
        Job: FnOnce(Self) -> Fut,
    {
        job(self.fork())
    }

    fn hello(&self, version: TlsVersion, suites: &[u16], opt: &HelloOptions) -> Vec<u8> {
        let tls13 = version == TlsVersion::Tls13;
        let mut suites = suites.to_vec();
        if opt.fallback_scsv {
            suites.push(0x5600);
        }
        let mut extensions = Vec::new();
        if let Some(sni) = &self.cfg.sni {
            extensions.push(Extension::ServerName(sni.clone()));
        }
        if opt.minimal && !tls13 {
            extensions.push(Extension::SupportedGroups(
                opt.groups
                    .clone()
                    .unwrap_or_else(|| MINIMAL_GROUPS.to_vec()),
            ));
            extensions.push(Extension::EcPointFormats(vec![0]));
            if version >= TlsVersion::Tls12 {
                extensions.push(Extension::SignatureAlgorithms(
                    opt.sigalgs
                        .clone()
                        .unwrap_or_else(|| MINIMAL_SIGALGS.to_vec()),
                ));
            }
            return self.client_hello(version, suites, opt, Some(extensions));
        }
        extensions.push(Extension::SupportedGroups(
            opt.groups.clone().unwrap_or_else(|| groups_for(version)),
        ));
        // RFC 5246 7.4.1.4.1: not offered with versions before TLS 1.2.
        if version >= TlsVersion::Tls12 {
            extensions.push(Extension::SignatureAlgorithms(sigalgs_for(
                version,
                opt.sigalgs.as_deref(),
            )));
        }
        if tls13 {
            extensions.push(Extension::SupportedVersions(vec![0x0304]));
            extensions.push(Extension::KeyShare(Vec::new()));
            extensions.push(Extension::PskKeyExchangeModes(vec![1]));
        } else {
            extensions.push(Extension::EcPointFormats(vec![0, 1, 2]));
            extensions.push(Extension::ExtendedMasterSecret);
            extensions.push(Extension::EncryptThenMac);
            extensions.push(Extension::SessionTicket);
            // RFC 8446 4.2 defines no renegotiation_info for TLS 1.3.
            extensions.push(Extension::RenegotiationInfo);
        }
        extensions.push(Extension::StatusRequest);
        if opt.alpn {
            extensions.push(Extension::Alpn(vec![b"h2".to_vec(), b"http/1.1".to_vec()]));
        }
        let extensions = (!self.without_extensions).then_some(extensions);
        self.client_hello(version, suites, opt, extensions)
    }

    /// The hello's record bytes around its suites (signalling values added) and extensions.
    fn client_hello(
        &self,
        version: TlsVersion,
        suites: Vec<u16>,
        opt: &HelloOptions,
        extensions: Option<Vec<Extension>>,
    ) -> Vec<u8> {
        let tls13 = version == TlsVersion::Tls13;
        let wire_version = if tls13 { 0x0303 } else { version.wire() };
        ClientHello {
            record_version: if version == TlsVersion::Ssl3 {
                0x0300
            } else {
                0x0301
            },
            version: wire_version,
            random: random_bytes(),
            session_id: if tls13 {
                random_bytes::<32>().to_vec()
            } else {
                Vec::new()
            },
            cipher_suites: suites,
            compression_methods: opt.compression.clone().unwrap_or_else(|| vec![0]),
            extensions,
        }
        .encode()
    }

    /// Sends one hello on a new connection and reads the server's answer; for TLS 1.0-1.2 it
    /// reads on to ServerHelloDone to see the certificate and key exchange.
    /// Errors before the server ever answered end the probe; after that, the first error keeps
    /// what was learned (a note says so) and the remaining probes are skipped, so a server that
    /// stalls mid-scan costs one deadline, not one per probe.
    async fn exchange(&mut self, bytes: &[u8]) -> Result<Answer, ProbeError> {
        // Until the server has answered once, hellos go one at a time: a server that never
        // answers costs what it did when the probe was sequential, not a deadline per fork.
        let _turn = if self.opens_longest_chain {
            self.shared.turn_or_ready().await?
        } else {
            self.shared.turn().await?
        };
        if self.shared.broken() {
            return Ok(Answer::Silent);
        }
        if self.shared.silent() {
            return Err(self.silence());
        }
        let result = self.exchange_once(bytes).await;
        if let Err(e) = &result {
            self.shared.fail(e);
        }
        result
    }

    /// [`Self::exchange`] for a step of a chain of questions, whose next step will likely
    /// follow the answer.
    async fn exchange_in_chain(&mut self, bytes: &[u8]) -> Result<Answer, ProbeError> {
        self.in_chain = true;
        let answer = self.exchange(bytes).await;
        self.in_chain = false;
        answer
    }

    /// Connections this probe opened, with those opened ahead.
    fn connections_opened(&self) -> u32 {
        self.connections + self.shared.ahead.opened()
    }

    /// [`Self::exchange`] without the forks' bookkeeping.
    async fn exchange_once(&mut self, bytes: &[u8]) -> Result<Answer, ProbeError> {
        let half_close = !self.shared.keep_open.load(Ordering::Relaxed);
        let mut result = self.exchange_within_deadline(bytes, half_close).await;
        // A server that gives up at the end of the stream before it answers: the same hello
        // again with the connection left open, and every later one so. Silence counts only
        // from a server that has answered (a tarpit's costs a deadline each); a server silent
        // from the start keeps the connection open from its last allowed hello on.
        let closed = matches!(result, Ok(Answer::Closed));
        let silent = matches!(result, Ok(Answer::Silent));
        if half_close && (closed || silent && self.shared.reached()) {
            self.shared.keep_open.store(true, Ordering::Relaxed);
            result = self.exchange_within_deadline(bytes, false).await;
        } else if half_close
            && silent
            && self.shared.unanswered.load(Ordering::Relaxed) + 2 >= UNANSWERED_LIMIT
        {
            self.shared.keep_open.store(true, Ordering::Relaxed);
        }
        match result {
            Ok(answer) => {
                if matches!(answer, Answer::Hello(..) | Answer::Alert(_)) {
                    self.shared.reached.store(true, Ordering::Relaxed);
                }
                if matches!(answer, Answer::Silent) && !self.shared.reached() {
                    self.shared.unanswered.fetch_add(1, Ordering::Relaxed);
                    if self.shared.silent() {
                        // A tarpit or a service waiting for something else: stop paying a
                        // timeout per hello.
                        return Err(self.silence());
                    }
                }
                Ok(answer)
            }
            Err(e)
                if self.shared.reached()
                    && e.kind != ErrorKind::NotTls
                    && e.kind != ErrorKind::Malformed =>
            {
                self.shared.broken.store(true, Ordering::Relaxed);
                self.obs.notes.push(format!(
                    "partial result: the server stopped answering after it had answered ({e}); the remaining probes were skipped"
                ));
                Ok(Answer::Silent)
            }
            Err(e) => Err(e),
        }
    }

    /// One hello and its answer within the probe's overall deadline for an answer.
    async fn exchange_within_deadline(
        &mut self,
        bytes: &[u8],
        half_close: bool,
    ) -> Result<Answer, ProbeError> {
        let overall = self.cfg.timeout * 3;
        // A place kept by the critical chain goes to its connection opened ahead if that still
        // waits for one, else to the connection opened ahead beside this hello, or to this
        // hello's fresh connection. Another chain's place handed on is not needed by a
        // connection opened ahead: back to the others.
        let mut kept = self.kept_place();
        let ahead = self.shared.ahead.take(self.fork_id, &mut kept).await;
        if self.critical || ahead.is_some() {
            self.passed_slot = kept;
        }
        if let Some(mut conn) = ahead {
            // What connect() records for a connection it opens.
            self.connected = true;
            self.spoke |= self.cfg.starttls.is_some();
            let answer =
                tokio::time::timeout(overall, self.exchange_on(&mut conn, bytes, half_close)).await;
            // The critical chain keeps the place for the connection opened ahead beside its
            // next hello: freed now, it would go to a waiter of another chain, and that
            // connection would wait for a place a round trip, costing the chain one.
            if self.critical {
                self.passed_slot = Some(conn.into_slot());
            }
            // The server may have closed a connection that waited for its hello: only a fresh
            // connection's end is the server's word on the hello.
            if !matches!(answer, Ok(Ok(Answer::Closed))) {
                return answer.unwrap_or_else(|_| Err(Self::answer_timeout(overall)));
            }
            self.shared.ahead.wasted();
        }
        let slot = match self.passed_slot.take() {
            Some(slot) => slot,
            None => Slot::acquire_for(&self.cfg, self.critical).await,
        };
        match tokio::time::timeout(overall, self.exchange_inner(slot, bytes, half_close)).await {
            Ok(r) => r,
            Err(_) => Err(Self::answer_timeout(overall)),
        }
    }

    /// The place the critical chain kept from its last connection; none for the other chains,
    /// whose place handed on stays for their next fresh connection.
    fn kept_place(&mut self) -> Option<Slot> {
        let critical = self.critical;
        self.passed_slot.take_if(|_| critical)
    }

    fn answer_timeout(overall: std::time::Duration) -> ProbeError {
        ProbeError::new(
            ErrorKind::Timeout,
            format!("the server's answer did not complete within {overall:?}"),
        )
    }

    /// The error for a server that answered none of the hellos it was sent.
    fn silence(&self) -> ProbeError {
        ProbeError::new(
            ErrorKind::Timeout,
            format!(
                "the server answered none of {} ClientHellos within {:?}",
                self.shared.unanswered.load(Ordering::Relaxed),
                self.cfg.timeout
            ),
        )
    }

    /// Opens a connection ready for TLS, remembering that the port accepted one and that a
    /// STARTTLS server spoke its protocol.
    async fn connect(&mut self, slot: Slot) -> Result<Conn, ProbeError> {
        let mut conn = Conn::open_in(slot, self.addr, &self.cfg).await?;
        self.connected = true;
        match conn.start_tls(self.addr, &self.cfg).await {
            Ok(()) => {
                self.spoke |= self.cfg.starttls.is_some();
                self.shared.ready.send_replace(true);
            }
            Err(e) => {
                // A refusal in the protocol's own words still names the service.
                self.spoke |= e.kind == ErrorKind::Starttls;
                return Err(e);
            }
        }
        Ok(conn)
    }

    /// What the probe heard from the port, for a failure that ended it.
    fn heard(&self, error: &ProbeError) -> Heard {
        if let Some(id) = &self.ssh_identification {
            Heard::SshIdentification(id.clone())
        } else if self.spoke || self.shared.reached() {
            Heard::Protocol
        } else if self.connected {
            Heard::Nothing
        } else {
            Heard::at_connect(error)
        }
    }

    /// Sends one hello on a new connection and reads the answer. With `half_close` the sending
    /// side is closed right after the hello: the server answers and finds the end of the
    /// stream at once, instead of waiting a round trip for a client flight that never comes,
    /// so a server that serves one connection at a time is free for the next one sooner.
    async fn exchange_inner(
        &mut self,
        slot: Slot,
        bytes: &[u8],
        half_close: bool,
    ) -> Result<Answer, ProbeError> {
        self.connections += 1;
        let mut conn = self.connect(slot).await?;
        let answer = self.exchange_on(&mut conn, bytes, half_close).await;
        // On a slow path the critical chain keeps its place too (see exchange_within_deadline);
        // on a fast one nothing is opened ahead, and a freed place serves the others at once.
        if self.opens_longest_chain || (self.critical && self.shared.ahead.slow_path()) {
            self.passed_slot = Some(conn.into_slot());
        }
        answer
    }

    /// Sends one hello on an open connection and reads the answer.
    async fn exchange_on(
        &mut self,
        conn: &mut Conn,
        bytes: &[u8],
        half_close: bool,
    ) -> Result<Answer, ProbeError> {
        let sent = match conn.send(bytes).await {
            Ok(()) if half_close => conn.finish_sending().await,
            sent => sent,
        };
        if let Err(e) = sent {
            return if e.kind == ErrorKind::ConnectionReset {
                Ok(Answer::Closed)
            } else {
                Err(e)
            };
        }
        let mut beside = if self.in_chain {
            let place = self.kept_place();
            self.shared.ahead.open(
                self.addr,
                &self.cfg,
                self.fork_id,
                self.critical,
                conn.opened(),
                place,
            )
        } else {
            None
        };
        let sent_at = tokio::time::Instant::now();
        let mut reader = FlightReader::new(self.cfg.max_handshake_message);
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            let received = conn.recv(&mut buf).await;
            if reader.buffered() == 0 && matches!(received, Ok(n) if n > 0) {
                self.shared
                    .ahead
                    .answered_after(sent_at.elapsed(), conn.opened().elapsed());
                drop(beside.take());
            }
            if matches!(received, Ok(0) | Err(_)) && reader.buffered() > 0 {
                self.cut_short += 1;
            }
            let n = match received {
                Ok(0) => return Ok(reader.closed()),
                Ok(n) => n,
                Err(e) if e.kind == ErrorKind::Timeout => return Ok(reader.silent()),
                Err(e) if e.kind == ErrorKind::ConnectionReset => return Ok(reader.closed()),
                Err(e) => return Err(e),
            };
            let step = reader.push(&buf[..n]);
            self.spoke |= reader.spoke();
            match step {
                Ok(Some(answer)) => return Ok(answer),
                Ok(None) => {}
                Err(FlightError::Malformed(e)) => return Err(malformed(e)),
                Err(FlightError::NotTls(first)) => return Err(self.not_tls(&first)),
            }
        }
    }

    /// The error for a stream that opened with bytes that are not TLS; an SSH identification
    /// is remembered, so the scan probes SSH instead.
    fn not_tls(&mut self, first: &[u8]) -> ProbeError {
        if first.starts_with(b"SSH-") {
            let line = first.split(|b| *b == b'\n').next().unwrap_or_default();
            let id = String::from_utf8_lossy(line).trim_end().to_owned();
            let error = format!("the server speaks SSH: {id}");
            self.ssh_identification = Some(id);
            return ProbeError::new(ErrorKind::NotTls, error);
        }
        let shown: String = first[..first.len().min(40)]
            .iter()
            .map(|b| {
                if b.is_ascii_graphic() || *b == b' ' {
                    *b as char
                } else {
                    '.'
                }
            })
            .collect();
        ProbeError::new(
            ErrorKind::NotTls,
            format!("the server answered with non-TLS bytes: {shown:?}"),
        )
    }

    /// Offers `candidates` under `version` until the server refuses; each pick is passed on to
    /// `seeds`, if given, as soon as it is made.
    async fn eliminate(
        &mut self,
        version: TlsVersion,
        candidates: Vec<u16>,
        opt: &HelloOptions,
        seeds: Option<UnboundedSender<SchemeSeed>>,
    ) -> Result<Elimination, ProbeError> {
        let mut remaining = candidates;
        let mut picks = Vec::new();
        let mut unanswered = false;
        let mut opt = opt.clone();
        while !remaining.is_empty() {
            let window: Vec<u16> = remaining
                .iter()
                .copied()
                .take(self.max_suites.unwrap_or(usize::MAX))
                .collect();
            let hello = self.hello(version, &window, &opt);
            let answer = if picks.is_empty() {
                // The version's own absence is settled by settle_unanswered_versions.
                self.exchange_in_chain(&hello).await?
            } else {
                let minimal = HelloOptions::default().minimal();
                let retry = self.hello(version, &window, &minimal);
                let item = format!("{version} suites");
                let (answer, retried) = self
                    .exchange_or_settle(&hello, &retry, item, "only suites not yet seen")
                    .await?;
                if retried && !opt.minimal && matches!(answer, Answer::Hello(..)) {
                    self.obs.notes.push(format!(
                        "{version}: once {} of its suites were found, the server answered only minimal hellos (SNI, supported groups, point formats, signature algorithms); the rest of its suites were enumerated that way",
                        picks.len()
                    ));
                    opt = minimal;
                }
                answer
            };
            unanswered = answer.unanswered();
            match answer {
                Answer::Hello(h, flight) => {
                    let negotiated = h.negotiated_version().map_err(malformed)?;
                    if negotiated > version.wire() {
                        self.violated(format!(
                            "{version}: the server chose version 0x{negotiated:04X}, above the one offered; enumeration of this version stopped"
                        ));
                        break;
                    }
                    if negotiated != version.wire() {
                        break;
                    }
                    if !window.contains(&h.cipher_suite) {
                        self.violated(format!(
                            "{version}: the server chose suite 0x{:04X}, which was not offered; enumeration of this version stopped",
                            h.cipher_suite
                        ));
                        break;
                    }
                    remaining.retain(|c| *c != h.cipher_suite);
                    if let Some(seeds) = &seeds {
                        // The scheme eliminations may have ended on an error: they ask no more.
                        let _ = seeds.send(SchemeSeed::of(&h, &flight, !opt.minimal));
                    }
                    picks.push((*h, flight));
                }
                Answer::Closed | Answer::Silent
                    if picks.is_empty()
                        && self.max_suites.is_none()
                        && window.len() > SPLIT_SUITES =>
                {
                    // Some servers drop hellos with many suites: retry in smaller windows.
                    self.max_suites = Some(SPLIT_SUITES);
                    let again = self
                        .exchange(&self.hello(version, &window[..SPLIT_SUITES], &opt))
                        .await?;
                    if matches!(again, Answer::Hello(..) | Answer::Alert(_)) {
                        self.obs.notes.push(format!("the server drops ClientHellos offering {} suites; offered at most {SPLIT_SUITES} per hello", window.len()));
                    } else {
                        self.max_suites = None;
                        break;
                    }
                }
                _ if window.len() < remaining.len() => {
                    remaining.drain(..window.len());
                }
                _ => break,
            }
        }
        Ok(Elimination {
            unanswered: picks.is_empty() && unanswered,
            picks,
        })
    }

    /// Versions whose hellos met a reset or silence while the server answers others get one
    /// more try with minimal hellos (the most conservative form that can still negotiate):
    /// answered, the version is enumerated that way and a note says so; refused with an alert,
    /// it is absent; unanswered again, it is undetermined.
    async fn settle_unanswered_versions(
        &mut self,
        legacy: &mut Legacy,
        unanswered: Vec<TlsVersion>,
    ) -> Result<(), ProbeError> {
        let minimal = HelloOptions {
            minimal: true,
            ..Default::default()
        };
        for version in unanswered {
            if self.shared.broken() {
                break;
            }
            let found = self
                .eliminate(version, suites_for(version), &minimal, None)
                .await?;
            if !found.picks.is_empty() {
                self.obs.notes.push(format!(
                    "{version}: the server answers only minimal hellos (SNI, supported groups, point formats, signature algorithms); its suites were enumerated that way, and the features were read on the other versions"
                ));
                legacy.push((version, found.picks));
            } else if found.unanswered {
                self.obs.undetermined.push(Undetermined::new(
                    version.as_str(),
                    format!(
                        "every {version} hello, full and minimal, ended in a reset or silence instead of an answer or an alert: the server may not have {version}, or may refuse the scanner's hellos"
                    ),
                ));
            }
        }
        // The best legacy version comes first.
        legacy.sort_by_key(|(version, _)| std::cmp::Reverse(*version));
        Ok(())
    }

    /// Whether the server keeps its own order: offer the found suites reversed. The same hello
    /// can carry feature probes (`opt`): its answer is returned too.
    async fn server_preference(
        &mut self,
        version: TlsVersion,
        found: &[u16],
        opt: &HelloOptions,
    ) -> Result<(Option<bool>, Option<ServerHello>), ProbeError> {
        let reversed: Vec<u16> = found.iter().rev().copied().collect();
        Ok(
            match self.exchange(&self.hello(version, &reversed, opt)).await? {
                Answer::Hello(h, _) if found.len() < 2 => (None, Some(*h)),
                Answer::Hello(h, _) if h.cipher_suite == found[0] => (Some(true), Some(*h)),
                Answer::Hello(h, _) if h.cipher_suite == reversed[0] => (Some(false), Some(*h)),
                Answer::Hello(h, _) => (None, Some(*h)),
                _ => (None, None),
            },
        )
    }

    /// TLS 1.2 down to SSL 3.0, each version's elimination beside the others: the suites each
    /// version accepts and the versions whose hellos went unanswered. TLS 1.2's picks go to
    /// `tls12_seeds`, if given, as soon as they are made (its signature schemes are
    /// eliminated from them), and its flights are read once its elimination ends.
    async fn eliminate_legacy(
        &mut self,
        opt: &HelloOptions,
        mut tls12_seeds: Option<UnboundedSender<SchemeSeed>>,
    ) -> Result<LegacyVersions, ProbeError> {
        let jobs = LEGACY_VERSIONS.map(|version| {
            let opt = opt.clone();
            let seeds = if version == TlsVersion::Tls12 {
                tls12_seeds.take()
            } else {
                None
            };
            self.forked(move |mut p| async move {
                let wants_follow_up = seeds.is_some();
                let found = p.eliminate(version, suites_for(version), &opt, seeds).await;
                let follow_up = match &found {
                    Ok(f) if wants_follow_up && !f.picks.is_empty() => {
                        Some(p.tls12_follow_up(&f.picks).await)
                    }
                    _ => None,
                };
                (p, (found, follow_up))
            })
        });
        let mut done = LegacyVersions::default();
        let mut error = None;
        for (version, (fork, (found, follow_up))) in
            LEGACY_VERSIONS.into_iter().zip(join_all(jobs).await)
        {
            self.absorb(fork);
            match found {
                Ok(found) if found.unanswered => done.unanswered.push(version),
                Ok(found) if !found.picks.is_empty() => done.accepted.push((version, found.picks)),
                Ok(_) => {}
                Err(e) => {
                    error.get_or_insert(e);
                }
            }
            match follow_up {
                Some(Ok(groups_read)) => {
                    done.tls12_followed_up = true;
                    done.groups_read = groups_read;
                }
                Some(Err(e)) => {
                    error.get_or_insert(e);
                }
                None => {}
            }
        }
        match error {
            Some(e) => Err(e),
            None => Ok(done),
        }
    }

    /// Runs the whole enumeration in two rounds of questions asked side by side: first every
    /// version, then what depends on the versions found (server order, features, TLS 1.0-1.2
    /// groups, fallback SCSV, TLS 1.3 certificates). The two long chains, TLS 1.3's groups and
    /// TLS 1.2's signature schemes, run beside both rounds from as soon as what they need is
    /// known. Connections to the address stay within `--per-host`, and what each line of
    /// questions learned is taken back in a fixed order.
    pub async fn run(&mut self) -> Result<TlsObservation, ProbeError> {
        let default = HelloOptions::default();
        let (first_pick, picked) = oneshot::channel();
        let tls13_job = self.forked(|mut p| async move {
            let found = p.eliminate_tls13(first_pick).await;
            // Whatever ended it, nobody waits for its word any longer.
            p.shared.tls13_found(matches!(found, Ok(Some(_))));
            (p, found)
        });
        // TLS 1.3's groups run through both rounds: the second round needs nothing of them.
        // Whatever is awaited until the chains are taken back runs beside them, so that they
        // never stall (a server that serves one connection at a time would wait on their hello).
        let tls13_groups_job = self.forked(|mut p| async move {
            p.critical = true;
            let found = match picked.await {
                Ok((suite, first_group, place)) => {
                    p.passed_slot = place;
                    p.tls13_groups(suite, first_group).await
                }
                Err(_) => Ok(()),
            };
            // The chain's place is of no use once it has ended.
            p.passed_slot = None;
            (p, found)
        });
        // TLS 1.2's signature schemes, from its first picks on: the second round waits for
        // whether there are any, not for all of them.
        let (scheme_seeds, seeded) = unbounded_channel();
        let (any_scheme, tls12_signs) = oneshot::channel();
        let tls12_schemes_job = self.forked(|mut p| async move {
            let found = p.tls12_signature_schemes(seeded, Some(any_scheme)).await;
            (p, found)
        });
        // The long chains run through both rounds. Boxed, as is what runs beside them: both
        // are large, and debug builds' worker stacks are not.
        let mut chains = Box::pin(maybe_done(async {
            tokio::join!(tls13_groups_job, tls12_schemes_job)
        }));
        let sslv2_job = self.forked(|mut p| async move {
            let found = p.probe_sslv2().await;
            (p, found)
        });
        let (legacy, (tls13_fork, tls13), (sslv2_fork, sslv2)) = beside(
            async {
                tokio::join!(
                    self.eliminate_legacy(&default, Some(scheme_seeds)),
                    tls13_job,
                    sslv2_job
                )
            },
            chains.as_mut(),
        )
        .await;
        self.absorb(tls13_fork);
        self.absorb(sslv2_fork);
        let mut found = legacy?;
        let tls13 = tls13?;
        sslv2?;
        if found.accepted.is_empty() && tls13.is_none() && self.obs.versions.is_empty() {
            // Old stacks reset on any extension: try once more with bare hellos.
            self.without_extensions = true;
            found = beside(self.eliminate_legacy(&default, None), chains.as_mut()).await?;
            if found.accepted.is_empty() {
                self.without_extensions = false;
            } else {
                self.obs.notes.push(
                    "the server refuses ClientHellos that carry extensions: scanned with bare hellos, so suites that need extensions (ECDHE without supported_groups), groups, signature schemes and extension-based features (EMS, renegotiation, encrypt-then-MAC, OCSP, tickets, ALPN) could not be tested"
                        .to_owned(),
                );
            }
        }
        let LegacyVersions {
            accepted: mut legacy,
            unanswered,
            tls12_followed_up,
            groups_read,
        } = found;
        if legacy.is_empty() && tls13.is_none() && self.obs.versions.is_empty() {
            return Err(self.nothing_accepted());
        }
        // Only a server that answers some TLS version shows that its silence is a choice.
        let answers_some_version = !legacy.is_empty() || tls13.is_some();
        if answers_some_version && !self.without_extensions {
            beside(
                self.settle_unanswered_versions(&mut legacy, unanswered),
                chains.as_mut(),
            )
            .await?;
        }
        if self.cut_short > 0 {
            self.obs.notes.push(format!(
                "the server closed {} connections in the middle of a record or message; what those answers held was not read",
                self.cut_short
            ));
        }
        // TLS 1.2's flights were read already where its first-round follow-up ran.
        for (version, picks) in &legacy {
            if !(tls12_followed_up && *version == TlsVersion::Tls12) {
                self.learn_from_flights(*version, picks);
            }
        }
        let best = legacy.first().filter(|_| !self.without_extensions);
        let mut bound_groups = None;
        if let Some((version, picks)) = best {
            self.features_from_hello(&picks[0].0);
            self.encrypt_then_mac(picks);
            // TLS 1.2 found only by the minimal retry has its signature schemes read now.
            if *version == TlsVersion::Tls12 && !tls12_followed_up {
                let (seeds, found) = unbounded_channel();
                for (h, flight) in picks {
                    let _ = seeds.send(SchemeSeed::of(h, flight, false));
                }
                drop(seeds);
                let schemes =
                    beside(self.tls12_signature_schemes(found, None), chains.as_mut()).await?;
                self.set_signature_schemes(&schemes);
            }
            if tls13.is_none() && !groups_read {
                bound_groups = self.legacy_group_plan(picks).map(|plan| (*version, plan));
            }
        }

        // The second round.
        let features = HelloOptions {
            compression: Some(vec![1, 0]),
            alpn: true,
            ..Default::default()
        };
        let pref_jobs: Vec<_> = legacy
            .iter()
            .enumerate()
            .map(|(i, (version, picks))| {
                let version = *version;
                let found: Vec<u16> = picks.iter().map(|(h, _)| h.cipher_suite).collect();
                // The best legacy version's check also offers compression and ALPN.
                let opt = if i == 0 {
                    features.clone()
                } else {
                    default.clone()
                };
                self.forked(move |mut p| async move {
                    let pref = if i == 0 || found.len() > 1 {
                        p.server_preference(version, &found, &opt).await.map(Some)
                    } else {
                        Ok(None)
                    };
                    (p, pref)
                })
            })
            .collect();
        let groups_job = bound_groups.map(|(version, (suites, bound))| {
            self.forked(move |mut p| async move {
                let groups = p.legacy_groups(version, &suites, bound).await;
                (p, groups)
            })
        });
        // TLS_FALLBACK_SCSV is offered below the server's best version.
        let lower = if tls13.is_some() {
            legacy.first()
        } else {
            legacy.get(1)
        };
        let fallback_job = lower.map(|(version, picks)| {
            let version = *version;
            let suites: Vec<u16> = picks.iter().map(|(h, _)| h.cipher_suite).collect();
            self.forked(move |mut p| async move {
                let refused = p.fallback_scsv(version, &suites).await;
                (p, refused)
            })
        });
        // A server that refuses every extension cannot speak TLS 1.3, which needs them.
        let confirm_job = (tls13.is_none() && !self.shared.broken() && !self.without_extensions)
            .then(|| {
                self.forked(|mut p| async move {
                    p.confirm_no_tls13().await;
                    (p, ())
                })
            });
        let readable = match &tls13 {
            Some((suites, _)) => !self.shared.broken() && self.tls13_readable(suites),
            None => false,
        };
        // Where the chains' elimination has TLS 1.2's schemes, whether it has any is known
        // from its first picks on.
        let tls12_signs = tls12_followed_up.then_some(tls12_signs);
        let no_tls12_schemes = self.obs.signature_schemes.is_empty();
        let have: Vec<String> = self
            .obs
            .certificates
            .iter()
            .map(|c| c.key_type.clone())
            .collect();
        let tls13_job = readable.then(|| {
            self.forked(move |mut p| async move {
                let read_schemes = match tls12_signs {
                    Some(signs) => !signs.await.unwrap_or(false),
                    None => no_tls12_schemes,
                };
                if read_schemes {
                    p.tls13_signature_schemes().await;
                } else {
                    p.tls13_certificates(&have).await;
                }
                (p, ())
            })
        });
        let (prefs, groups, fallback, confirm, tls13_read, ()) = tokio::join!(
            join_all(pref_jobs),
            optional(groups_job),
            optional(fallback_job),
            optional(confirm_job),
            optional(tls13_job),
            chains.as_mut(),
        );
        let mut error = None;
        for (i, ((version, picks), (fork, pref))) in legacy.iter().zip(prefs).enumerate() {
            self.absorb(fork);
            let (pref, answer) = match pref {
                Ok(Some(checked)) => checked,
                Ok(None) => (None, None),
                Err(e) => {
                    error.get_or_insert(e);
                    (None, None)
                }
            };
            if let Some(h) = answer.filter(|_| i == 0) {
                self.obs.features.judged.compression = Some(h.compression != 0);
                self.obs.features.alpn = h
                    .alpn()
                    .ok()
                    .flatten()
                    .map(|p| String::from_utf8_lossy(&p).into_owned());
            }
            self.obs.versions.push(VersionResult {
                version: *version,
                cipher_suites: picks
                    .iter()
                    .map(|(h, _)| SuiteRef::tls(h.cipher_suite))
                    .collect(),
                server_preference: pref,
            });
        }
        if let Some((fork, groups)) = groups {
            self.absorb(fork);
            if let Err(e) = groups {
                error.get_or_insert(e);
            }
        }
        if let Some((fork, refused)) = fallback {
            self.absorb(fork);
            match refused {
                Ok(refused) => self.obs.features.judged.fallback_scsv = refused,
                Err(e) => {
                    error.get_or_insert(e);
                }
            }
        }
        for (fork, ()) in [confirm, tls13_read].into_iter().flatten() {
            self.absorb(fork);
        }
        if let Some(((groups_fork, groups), (schemes_fork, schemes))) =
            chains.as_mut().take_output()
        {
            self.absorb(groups_fork);
            if let Err(e) = groups {
                error.get_or_insert(e);
            }
            self.absorb(schemes_fork);
            match schemes {
                // A TLS 1.3 handshake read schemes only where TLS 1.2 has none.
                Ok(schemes) if tls12_followed_up && !schemes.is_empty() => {
                    self.set_signature_schemes(&schemes);
                }
                Ok(_) => {}
                Err(e) => {
                    error.get_or_insert(e);
                }
            }
        }
        if let Some(e) = error {
            return Err(e);
        }
        if let Some((suites, pref)) = &tls13 {
            self.obs.versions.push(VersionResult {
                version: TlsVersion::Tls13,
                cipher_suites: suites.iter().map(|c| SuiteRef::tls(*c)).collect(),
                server_preference: *pref,
            });
        }
        self.obs.versions.sort_by_key(|v| v.version);
        if let Some(why) = self.tls13_broken() {
            // HelloRetryRequests alone do not prove TLS 1.3: no real handshake completed.
            self.obs.versions.retain(|v| v.version != TlsVersion::Tls13);
            if legacy.is_empty() {
                return Err(ProbeError::new(ErrorKind::Malformed, why));
            }
            self.obs.groups.clear();
            self.obs
                .notes
                .push(format!("TLS 1.3 left out, and its groups with it: {why}"));
        }
        Ok(std::mem::take(&mut self.obs))
    }

    /// A server whose TLS 1.3 the hand-built hellos did not find gets one real TLS 1.3
    /// handshake: only a refusal in the server's own words makes the absence certain; anything
    /// else leaves TLS 1.3 undetermined, with what happened.
    async fn confirm_no_tls13(&mut self) {
        self.connections += 1;
        let note = match certs::check_tls13(self.addr, &self.cfg).await {
            Tls13Check::Refused => return,
            Tls13Check::Completed(code) => format!(
                "a real TLS 1.3 handshake completed ({}), but the server refused every TLS 1.3 hello of the scanner: its TLS 1.3 suites and groups are not known",
                tls::suite_by_code(code).map_or("an unknown suite", |s| s.iana)
            ),
            Tls13Check::Unclear(why) => format!(
                "no TLS 1.3 hello of the scanner was answered, and a real TLS 1.3 handshake failed without the server refusing TLS 1.3: {why}"
            ),
        };
        self.obs
            .undetermined
            .push(Undetermined::new(TlsVersion::Tls13.as_str(), note));
    }

    /// A hello of a list elimination (suites, groups, signature schemes) of a version the
    /// server answers, sent once more as `retry` (its most conservative form) when it meets a
    /// reset or silence: a refusal ends the list, but a second silence leaves `item`
    /// undetermined, never "not accepted". Also says whether the answer came from the retry.
    async fn exchange_or_settle(
        &mut self,
        hello: &[u8],
        retry: &[u8],
        item: String,
        offering: &str,
    ) -> Result<(Answer, bool), ProbeError> {
        let first = self.exchange_in_chain(hello).await?;
        if !first.unanswered() || self.shared.broken() {
            return Ok((first, false));
        }
        let again = self.exchange_in_chain(retry).await?;
        if again.unanswered()
            && !self.shared.broken()
            && !self.obs.undetermined.iter().any(|u| u.item == item)
        {
            self.obs.undetermined.push(Undetermined::new(
                item.clone(),
                format!(
                    "a hello offering {offering} ended in a reset or silence, twice (the second in its most conservative form): the {item} listed may not be all the server accepts"
                ),
            ));
        }
        Ok((again, true))
    }

    /// Keeps the first protocol violation, and notes each.
    fn violated(&mut self, what: String) {
        self.violation.get_or_insert_with(|| what.clone());
        self.obs.notes.push(what);
    }

    /// The error when no hello was accepted: a protocol violation if the server committed one,
    /// a reset if it cut its answers short, otherwise a refusal.
    fn nothing_accepted(&self) -> ProbeError {
        if let Some(v) = &self.violation {
            ProbeError::new(ErrorKind::Malformed, v.clone())
        } else if self.cut_short > 0 {
            ProbeError::new(
                ErrorKind::ConnectionReset,
                format!(
                    "the server closed {} connections in the middle of its answer, and answered no ClientHello in full",
                    self.cut_short
                ),
            )
        } else {
            ProbeError::new(
                ErrorKind::TlsAlert,
                "the server refused every ClientHello (no version or suite in common)",
            )
        }
    }

    /// Why TLS 1.3 must be left out: the server answered TLS 1.3 hellos, but a real handshake
    /// broke the protocol and none completed.
    fn tls13_broken(&self) -> Option<String> {
        match &self.tls13_violation {
            Some(v) if !self.tls13_completed => Some(format!(
                "the server answers TLS 1.3 ClientHellos, but no real TLS 1.3 handshake completed: {v}"
            )),
            _ => None,
        }
    }

    /// TLS 1.3 suites from HelloRetryRequests; returns the suites and preference. The first
    /// answer names a suite and, when it was a HelloRetryRequest, the server's group: both go to
    /// `first_pick` at once, so the elimination of the groups (the longest chain of questions
    /// a scan asks) starts beside the rest of the suites.
    async fn eliminate_tls13(
        &mut self,
        first_pick: oneshot::Sender<(u16, Option<u16>, Option<Slot>)>,
    ) -> Result<Option<(Vec<u16>, Option<bool>)>, ProbeError> {
        let all = suites_for(TlsVersion::Tls13);
        let hello = self.hello(TlsVersion::Tls13, &all, &HelloOptions::default());
        // The version's own absence is settled by a real handshake (confirm_no_tls13). The
        // longest chain of questions starts here: its hello does not wait for the first answer.
        self.opens_longest_chain = true;
        let answer = self.exchange(&hello).await;
        self.opens_longest_chain = false;
        // The group chain's next hello goes on at once, in the first hello's place, not behind
        // every other line of questions that the first answers started.
        let place = self.passed_slot.take();
        let first = match answer? {
            Answer::Hello(h, _)
                if h.negotiated_version().ok() == Some(0x0304) && all.contains(&h.cipher_suite) =>
            {
                h
            }
            _ => {
                self.shared.tls13_found(false);
                return Ok(None);
            }
        };
        self.shared.tls13_found(true);
        let mut first_group = None;
        if first.is_hello_retry_request() {
            self.obs.features.hello_retry_request = Some(true);
            first_group = first.key_share_group().ok().flatten();
        }
        // The groups' job may have ended already (the probe failed): nothing waits then.
        let _ = first_pick.send((first.cipher_suite, first_group, place));
        self.tls13_suites_after(first.cipher_suite).await.map(Some)
    }

    /// The TLS 1.3 suites after the first (`first`), by elimination, and whether the server
    /// keeps its own order among them.
    async fn tls13_suites_after(
        &mut self,
        first: u16,
    ) -> Result<(Vec<u16>, Option<bool>), ProbeError> {
        let default = HelloOptions::default();
        let mut remaining = suites_for(TlsVersion::Tls13);
        remaining.retain(|c| *c != first);
        let mut suites = vec![first];
        while !remaining.is_empty() {
            let hello = self.hello(TlsVersion::Tls13, &remaining, &default);
            let item = format!("{} suites", TlsVersion::Tls13);
            let (answer, _) = self
                .exchange_or_settle(&hello, &hello, item, "only suites not yet seen")
                .await?;
            match answer {
                Answer::Hello(h, _)
                    if h.negotiated_version().ok() == Some(0x0304)
                        && remaining.contains(&h.cipher_suite) =>
                {
                    if h.is_hello_retry_request() {
                        self.obs.features.hello_retry_request = Some(true);
                    }
                    remaining.retain(|c| *c != h.cipher_suite);
                    suites.push(h.cipher_suite);
                }
                _ => break,
            }
        }
        let pref = if suites.len() > 1 {
            self.server_preference(TlsVersion::Tls13, &suites.clone(), &default)
                .await?
                .0
        } else {
            None
        };
        Ok((suites, pref))
    }

    /// TLS 1.3 groups by elimination over HelloRetryRequests, offering one suite the server
    /// accepts; the first group is known from the first answer, when it was a
    /// HelloRetryRequest.
    async fn tls13_groups(
        &mut self,
        suite: u16,
        first_group: Option<u16>,
    ) -> Result<(), ProbeError> {
        let mut groups_left = groups_for(TlsVersion::Tls13);
        let mut groups = Vec::new();
        if let Some(g) = first_group {
            groups.push(g);
            groups_left.retain(|x| *x != g);
        }
        while !groups_left.is_empty() {
            let opt = HelloOptions {
                groups: Some(groups_left.clone()),
                ..Default::default()
            };
            let hello = self.hello(TlsVersion::Tls13, &[suite], &opt);
            let item = format!("{} groups", TlsVersion::Tls13);
            match self
                .exchange_or_settle(&hello, &hello, item, "only groups not yet seen")
                .await?
                .0
            {
                Answer::Hello(h, _) if h.is_hello_retry_request() => {
                    match h.key_share_group().map_err(malformed)? {
                        Some(g) if groups_left.contains(&g) => {
                            groups_left.retain(|x| *x != g);
                            groups.push(g);
                        }
                        _ => break,
                    }
                }
                _ => break,
            }
        }
        self.obs.groups = groups.iter().map(|g| CodeName::group(*g)).collect();
        Ok(())
    }

    async fn probe_sslv2(&mut self) -> Result<(), ProbeError> {
        if self.shared.broken() {
            return Ok(());
        }
        let specs: Vec<u32> = tls::sslv2_ciphers().iter().map(|c| c.code).collect();
        let _turn = self.shared.turn().await?;
        self.connections += 1;
        let mut conn = match self.connect(Slot::acquire(&self.cfg).await).await {
            Ok(c) => c,
            Err(e) if self.shared.reached() => {
                self.obs.notes.push(format!("SSL 2.0 not tested: {e}"));
                return Ok(());
            }
            Err(e) => return Err(e),
        };
        if conn
            .send(&sslv2_client_hello(&specs, &random_bytes()))
            .await
            .is_err()
        {
            return Ok(());
        }
        // As for TLS hellos (see exchange_inner): a server that has answered half-closed
        // hellos is told at once that no more comes, so it is free for the next connection.
        if !self.shared.keep_open.load(Ordering::Relaxed) && conn.finish_sending().await.is_err() {
            return Ok(());
        }
        let mut buf = Vec::new();
        let mut chunk = vec![0u8; 16 * 1024];
        loop {
            match conn.recv(&mut chunk).await {
                Ok(0) | Err(_) => return Ok(()),
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
            if classify(&buf) != StreamKind::Sslv2 {
                return Ok(());
            }
            match Sslv2ServerHello::parse_record(&buf) {
                Ok(None) if buf.len() < 64 * 1024 => continue,
                Ok(Some(h)) if !h.cipher_specs.is_empty() => {
                    self.obs.versions.push(VersionResult {
                        version: TlsVersion::Ssl2,
                        cipher_suites: h.cipher_specs.iter().map(|c| SuiteRef::sslv2(*c)).collect(),
                        server_preference: None,
                    });
                    if let Some(info) = certs::summarize(&h.certificate) {
                        self.obs.certificates.push(CertificateChain {
                            key_type: info.key_type.clone(),
                            version: TlsVersion::Ssl2,
                            chain: vec![info],
                        });
                    }
                    return Ok(());
                }
                _ => return Ok(()),
            }
        }
    }

    /// Certificates and DHE primes from the flights of the elimination.
    fn learn_from_flights(&mut self, version: TlsVersion, picks: &[(ServerHello, Flight)]) {
        for (hello, flight) in picks {
            if let Some(chain) = &flight.certificates {
                self.add_chain(version, chain);
            }
            let Some(suite) = tls::suite_by_code(hello.cipher_suite) else {
                continue;
            };
            if suite.kx != "DHE" {
                continue;
            }
            let Some(ske) = &flight.key_exchange else {
                continue;
            };
            let signed = suite.auth != "anon";
            if let Ok(parsed) = server_key_exchange::parse(
                ske,
                KeyExchangeKind::Dhe,
                version == TlsVersion::Tls12,
                signed,
            ) {
                if let KeyExchangeParams::Dh { prime, .. } = &parsed.params {
                    let info = DhInfo {
                        bits: parsed.params.dh_bits().unwrap_or(0),
                        named_group: tls::dh_group_by_prime(prime).map(|g| g.name.to_owned()),
                    };
                    if !self.obs.dh_params.contains(&info) {
                        self.obs.dh_params.push(info);
                    }
                }
            }
        }
    }

    fn add_chain(&mut self, version: TlsVersion, chain: &[Vec<u8>]) {
        let infos: Vec<_> = chain
            .iter()
            .filter_map(|der| certs::summarize(der))
            .collect();
        let Some(leaf) = infos.first() else { return };
        if self
            .obs
            .certificates
            .iter()
            .any(|c| c.chain.first().map(|l| &l.sha256) == Some(&leaf.sha256))
        {
            return;
        }
        self.obs.certificates.push(CertificateChain {
            key_type: leaf.key_type.clone(),
            version,
            chain: infos,
        });
    }

    fn features_from_hello(&mut self, h: &ServerHello) {
        let f = &mut self.obs.features;
        f.judged.extended_master_secret = Some(h.has_extension(ext::EXTENDED_MASTER_SECRET));
        f.judged.secure_renegotiation = Some(h.has_extension(ext::RENEGOTIATION_INFO));
        f.session_ticket = Some(h.has_extension(ext::SESSION_TICKET));
        f.judged.ocsp_stapling = Some(h.has_extension(ext::STATUS_REQUEST));
    }

    fn encrypt_then_mac(&mut self, picks: &[(ServerHello, Flight)]) {
        let cbc = picks
            .iter()
            .find(|(h, _)| tls::suite_by_code(h.cipher_suite).is_some_and(|s| s.mode == "CBC"));
        if let Some((h, _)) = cbc {
            self.obs.features.judged.encrypt_then_mac =
                Some(h.has_extension(ext::ENCRYPT_THEN_MAC));
        }
    }

    /// What the TLS 1.0-1.2 group elimination offers: the ECDHE suites of one key type, and,
    /// with an ECDSA certificate, the certificate's curve, which the server needs among the
    /// client's groups (RFC 4492), so it stays offered, last, once found. RSA suites have no
    /// such bond and are preferred. None when no ECDHE suite was picked.
    fn legacy_group_plan(
        &self,
        picks: &[(ServerHello, Flight)],
    ) -> Option<(Vec<u16>, Option<u16>)> {
        let ecdhe = |auth: &str| -> Vec<u16> {
            picks
                .iter()
                .map(|(h, _)| h.cipher_suite)
                .filter(|c| {
                    tls::suite_by_code(*c).is_some_and(|s| s.kx == "ECDHE" && s.auth == auth)
                })
                .collect()
        };
        match (ecdhe("RSA"), ecdhe("ECDSA")) {
            (rsa, _) if !rsa.is_empty() => Some((rsa, None)),
            (_, ecdsa) if !ecdsa.is_empty() => {
                let curve = self
                    .obs
                    .certificates
                    .iter()
                    .find(|c| c.key_type == "ec")
                    .and_then(|c| c.chain.first())
                    .and_then(|l| l.curve.clone());
                Some((
                    ecdsa,
                    curve.and_then(|c| tls::group_by_name(&c)).map(|g| g.code),
                ))
            }
            _ => None,
        }
    }

    /// ECDHE groups of TLS 1.0-1.2 servers (from ServerKeyExchange), when TLS 1.3 cannot tell,
    /// offering these suites and keeping the certificate's curve (`bound_curve`) once found.
    async fn legacy_groups(
        &mut self,
        version: TlsVersion,
        suites: &[u16],
        bound_curve: Option<u16>,
    ) -> Result<(), ProbeError> {
        let mut left: Vec<u16> = groups_for(version)
            .into_iter()
            .filter(|g| tls::group_by_code(*g).is_some_and(|x| x.family != "ffdhe"))
            .collect();
        let mut groups = Vec::new();
        while !left.is_empty() {
            let mut offered = left.clone();
            if let Some(bound) = bound_curve.filter(|b| groups.contains(b)) {
                offered.push(bound);
            }
            let opt = HelloOptions {
                groups: Some(offered),
                ..Default::default()
            };
            let hello = self.hello(version, suites, &opt);
            let retry = self.hello(version, suites, &opt.minimal());
            let item = format!("{version} groups");
            let (Answer::Hello(h, flight), _) = self
                .exchange_or_settle(&hello, &retry, item, "only groups not yet seen")
                .await?
            else {
                break;
            };
            let signed = tls::suite_by_code(h.cipher_suite).is_some_and(|s| s.auth != "anon");
            let parsed = flight.key_exchange.as_deref().map(|b| {
                server_key_exchange::parse(
                    b,
                    KeyExchangeKind::Ecdhe,
                    version == TlsVersion::Tls12,
                    signed,
                )
            });
            match parsed {
                Some(Ok(ske)) => match ske.params {
                    KeyExchangeParams::Ecdh { group } if left.contains(&group) => {
                        left.retain(|g| *g != group);
                        groups.push(group);
                    }
                    _ => break,
                },
                Some(Err(e)) => return Err(malformed(e)),
                None => break,
            }
        }
        self.obs.groups = groups.iter().map(|g| CodeName::group(*g)).collect();
        Ok(())
    }

    /// What TLS 1.2's suites let start once they are all known: its certificates, and, once
    /// the TLS 1.3 probe has found no TLS 1.3, its ECDHE groups. Returns whether the groups
    /// were read.
    async fn tls12_follow_up(
        &mut self,
        picks: &[(ServerHello, Flight)],
    ) -> Result<bool, ProbeError> {
        // The certificates, for the curve an ECDSA key binds the groups to.
        self.learn_from_flights(TlsVersion::Tls12, picks);
        match self.legacy_group_plan(picks) {
            Some((suites, bound)) if !self.shared.tls13_known().await => self
                .legacy_groups(TlsVersion::Tls12, &suites, bound)
                .await
                .map(|()| true),
            _ => Ok(false),
        }
    }

    /// TLS 1.2 signature schemes, from the ServerKeyExchange of each key type's (EC)DHE suite,
    /// one elimination per key type side by side, each started as soon as the suite
    /// elimination's picks (`seeds`) show the key type. A pick that answered a hello offering
    /// every scheme already shows its elimination's first scheme; a pick of a minimal hello,
    /// which offers a few common schemes, does not.
    async fn tls12_signature_schemes(
        &mut self,
        mut seeds: UnboundedReceiver<SchemeSeed>,
        mut any: Option<oneshot::Sender<bool>>,
    ) -> Result<Vec<u16>, ProbeError> {
        let mut key_types: Vec<&str> = Vec::new();
        let mut running = FuturesUnordered::new();
        let mut done = Vec::new();
        let mut seeding = true;
        while seeding || !running.is_empty() {
            tokio::select! {
                seed = seeds.recv(), if seeding => {
                    let Some(seed) = seed else {
                        seeding = false;
                        continue;
                    };
                    let Some(s) = tls::suite_by_code(seed.suite) else {
                        continue;
                    };
                    let kind = match s.kx {
                        "ECDHE" => KeyExchangeKind::Ecdhe,
                        "DHE" => KeyExchangeKind::Dhe,
                        _ => continue,
                    };
                    if !matches!(s.auth, "RSA" | "ECDSA" | "DSS") || key_types.contains(&s.auth) {
                        continue;
                    }
                    let first = seed
                        .key_exchange
                        .as_deref()
                        .filter(|_| seed.full_hello)
                        .and_then(|b| server_key_exchange::parse(b, kind, true, true).ok())
                        .and_then(|ske| ske.signature_scheme);
                    // Its elimination starts from that scheme: there will be one at least. On
                    // a fast path the word waits for the chain's end all the same: there is no
                    // round trip to save, and the real handshake it lets start would hold a
                    // server that serves one connection at a time while the chain keeps the
                    // scanner busy.
                    if first.is_some() && self.shared.ahead.slow_path() {
                        if let Some(any) = any.take() {
                            let _ = any.send(true);
                        }
                    }
                    let index = key_types.len();
                    key_types.push(s.auth);
                    let mut fork = self.fork();
                    running.push(async move {
                        let found = fork.eliminate_signature_schemes(s.code, kind, first).await;
                        (index, fork, found)
                    });
                }
                Some(finished) = running.next(), if !running.is_empty() => done.push(finished),
            }
        }
        // Taken back in the order the key types were found, whichever finished first.
        done.sort_by_key(|(index, ..)| *index);
        let mut schemes: Vec<u16> = Vec::new();
        let mut error = None;
        for (_, fork, found) in done {
            self.absorb(fork);
            match found {
                Ok(found) => {
                    for s in found {
                        if !schemes.contains(&s) {
                            schemes.push(s);
                        }
                    }
                }
                Err(e) => {
                    error.get_or_insert(e);
                }
            }
        }
        if let Some(any) = any {
            let _ = any.send(!schemes.is_empty());
        }
        match error {
            Some(e) => Err(e),
            None => Ok(schemes),
        }
    }

    /// The schemes a TLS 1.2 server signs this suite's key exchange with, by elimination,
    /// starting from the one it chose when offered every scheme (`first`), if known.
    async fn eliminate_signature_schemes(
        &mut self,
        suite: u16,
        kind: KeyExchangeKind,
        first: Option<u16>,
    ) -> Result<Vec<u16>, ProbeError> {
        let version = TlsVersion::Tls12;
        let mut left = all_sigalgs();
        let mut schemes = Vec::new();
        if let Some(s) = first.filter(|s| left.contains(s)) {
            left.retain(|x| *x != s);
            schemes.push(s);
        }
        while !left.is_empty() {
            let opt = HelloOptions {
                sigalgs: Some(left.clone()),
                ..Default::default()
            };
            let hello = self.hello(version, &[suite], &opt);
            let retry = self.hello(version, &[suite], &opt.minimal());
            let item = format!("{version} signature schemes");
            let offering = "only signature schemes not yet seen";
            let (Answer::Hello(_, flight), _) = self
                .exchange_or_settle(&hello, &retry, item, offering)
                .await?
            else {
                break;
            };
            let Some(Ok(ske)) = flight
                .key_exchange
                .as_deref()
                .map(|b| server_key_exchange::parse(b, kind, true, true))
            else {
                break;
            };
            match ske.signature_scheme {
                Some(s) if left.contains(&s) => {
                    left.retain(|x| *x != s);
                    schemes.push(s);
                }
                _ => break,
            }
        }
        Ok(schemes)
    }

    /// TLS_FALLBACK_SCSV: a hello of a version below the server's best must be refused
    /// (Some(true)); None when the server neither refused nor answered.
    async fn fallback_scsv(
        &mut self,
        version: TlsVersion,
        suites: &[u16],
    ) -> Result<Option<bool>, ProbeError> {
        let opt = HelloOptions {
            fallback_scsv: true,
            ..Default::default()
        };
        Ok(
            match self.exchange(&self.hello(version, suites, &opt)).await? {
                Answer::Alert(a) if a.description == Alert::INAPPROPRIATE_FALLBACK => Some(true),
                Answer::Hello(..) => Some(false),
                _ => None,
            },
        )
    }

    /// Whether a real TLS 1.3 handshake can succeed: rustls (and aws-lc-rs) implement AES-GCM
    /// and ChaCha20-Poly1305 only, not AES-CCM. Says so in a note when not.
    fn tls13_readable(&mut self, suites: &[u16]) -> bool {
        if suites.iter().any(|s| matches!(s, 0x1301..=0x1303)) {
            return true;
        }
        if self.obs.certificates.is_empty() {
            self.obs.notes.push(
                "TLS 1.3 certificates and signature schemes not read: the server accepts only TLS 1.3 suites the scanner cannot decrypt (AES-CCM and others outside AES-GCM and ChaCha20-Poly1305)"
                    .to_owned(),
            );
        }
        false
    }

    /// Records what a real TLS 1.3 handshake showed: its chain, and whether OCSP was stapled.
    fn learn_tls13_handshake(&mut self, got: &certs::Tls13Certificates) {
        self.tls13_completed = true;
        self.add_chain(TlsVersion::Tls13, &got.chain);
        if self.obs.features.judged.ocsp_stapling.is_none() {
            self.obs.features.judged.ocsp_stapling = got.ocsp_stapled;
        }
    }

    /// TLS 1.3-only servers: signature schemes by elimination over real handshakes (the server
    /// names the one it signed CertificateVerify with); each handshake also shows the
    /// certificate it used, so dual-certificate servers show both chains.
    async fn tls13_signature_schemes(&mut self) {
        let mut left: Vec<rustls::SignatureScheme> = certs::TLS13_SCHEMES.to_vec();
        let mut schemes = Vec::new();
        let mut retried = false;
        while !left.is_empty() {
            self.connections += 1;
            let got = match certs::handshake_tls13(self.addr, &self.cfg, left.clone()).await {
                Ok(got) => got,
                Err(e) if e.kind == ErrorKind::TlsAlert => break,
                Err(e) if e.kind == ErrorKind::Malformed => {
                    self.tls13_violation.get_or_insert(e.message);
                    break;
                }
                // A reset or silence is not a refusal: once more, then undetermined.
                Err(_) if !retried => {
                    retried = true;
                    continue;
                }
                Err(e) => {
                    self.obs.undetermined.push(Undetermined::new(
                        format!("{} signature schemes", TlsVersion::Tls13),
                        format!(
                            "a real TLS 1.3 handshake offering only signature schemes not yet seen failed twice without a refusal ({}): the schemes listed may not be all the server accepts",
                            e.message
                        ),
                    ));
                    break;
                }
            };
            self.learn_tls13_handshake(&got);
            match got.signature_scheme {
                Some(code) if left.iter().any(|s| u16::from(*s) == code) => {
                    left.retain(|s| u16::from(*s) != code);
                    schemes.push(code);
                }
                _ => break,
            }
        }
        self.set_signature_schemes(&schemes);
    }

    /// The endpoint's signature schemes, by code.
    fn set_signature_schemes(&mut self, schemes: &[u16]) {
        self.obs.signature_schemes = schemes.iter().map(|s| CodeName::sigalg(*s)).collect();
    }

    /// TLS 1.3 certificates need a real handshake: one per key family the server holds, but
    /// those whose chains (`have`) were read already. Each handshake accepts every family not
    /// yet seen, so a server without another certificate costs one.
    async fn tls13_certificates(&mut self, have: &[String]) {
        let mut wanted: Vec<_> = [
            (KeyFamily::Ecdsa, "ec"),
            (KeyFamily::Rsa, "rsa"),
            (KeyFamily::Ed25519, "ed25519"),
        ]
        .into_iter()
        .filter(|(_, key_type)| !have.iter().any(|k| k == key_type))
        .collect();
        while !wanted.is_empty() {
            self.connections += 1;
            let families: Vec<KeyFamily> = wanted.iter().map(|(family, _)| *family).collect();
            match certs::fetch_tls13(self.addr, &self.cfg, &families).await {
                Ok(got) => {
                    self.learn_tls13_handshake(&got);
                    let family = got.signature_scheme.and_then(KeyFamily::of_scheme);
                    let before = wanted.len();
                    wanted.retain(|(f, _)| Some(*f) != family);
                    if wanted.len() == before {
                        break;
                    }
                }
                Err(e) if e.kind == ErrorKind::TlsAlert => break,
                Err(e) if e.kind == ErrorKind::Malformed => {
                    self.tls13_violation.get_or_insert(e.message);
                    break;
                }
                Err(e) => {
                    let key_types: Vec<&str> = wanted.iter().map(|(_, k)| *k).collect();
                    self.obs.notes.push(format!(
                        "TLS 1.3 certificate fetch ({}): {}",
                        key_types.join(", "),
                        e.message
                    ));
                    break;
                }
            }
        }
    }
}

/// Probes one TLS endpoint: what it saw, or why it failed, with the connections it made.
pub async fn probe(addr: SocketAddr, cfg: ProbeConfig) -> Result<(TlsObservation, u32), Failure> {
    let mut probe = TlsProbe::new(addr, cfg);
    // Boxed: the enumeration's state is large, and a worker's stack is 2 MiB.
    match Box::pin(probe.run()).await {
        Ok(obs) => Ok((obs, probe.connections_opened())),
        Err(error) => Err(Failure {
            heard: probe.heard(&error),
            error,
            connections: probe.connections_opened(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::hello_rules::{sslv2_violations, violations, HelloView};

    /// Every hello this probe can build for a version, as the probe's steps build them.
    fn hellos(probe: &TlsProbe, version: TlsVersion) -> Vec<(String, Vec<u8>)> {
        let suites = suites_for(version);
        let mut options = vec![
            ("default".to_owned(), HelloOptions::default()),
            (
                "fallback SCSV".to_owned(),
                HelloOptions {
                    fallback_scsv: true,
                    ..Default::default()
                },
            ),
            (
                "each signature scheme".to_owned(),
                HelloOptions {
                    sigalgs: Some(all_sigalgs()),
                    ..Default::default()
                },
            ),
        ];
        if version != TlsVersion::Tls13 {
            options.push((
                "minimal".to_owned(),
                HelloOptions {
                    minimal: true,
                    ..Default::default()
                },
            ));
            options.push((
                "minimal, each signature scheme".to_owned(),
                HelloOptions {
                    sigalgs: Some(all_sigalgs()),
                    ..Default::default()
                }
                .minimal(),
            ));
            options.push((
                "compression and ALPN".to_owned(),
                HelloOptions {
                    compression: Some(vec![1, 0]),
                    alpn: true,
                    ..Default::default()
                },
            ));
        }
        let groups = groups_for(version);
        for i in 0..groups.len() {
            let opt = HelloOptions {
                groups: Some(groups[i..].to_vec()),
                ..Default::default()
            };
            options.push((
                format!("minimal, groups from 0x{:04X}", groups[i]),
                opt.minimal(),
            ));
            options.push((format!("groups from 0x{:04X}", groups[i]), opt));
        }
        options
            .into_iter()
            .map(|(name, opt)| (name, probe.hello(version, &suites, &opt)))
            .collect()
    }

    #[test]
    fn every_hello_the_probe_builds_keeps_the_rules_of_what_it_offers() {
        let addr = SocketAddr::from(([127, 0, 0, 1], 443));
        let named = ProbeConfig {
            sni: Some("fips.example".into()),
            ..ProbeConfig::default()
        };
        for cfg in [ProbeConfig::default(), named] {
            let mut probe = TlsProbe::new(addr, cfg);
            for bare in [false, true] {
                probe.without_extensions = bare;
                for version in TlsVersion::ALL {
                    if version == TlsVersion::Ssl2 {
                        continue;
                    }
                    for (name, bytes) in hellos(&probe, version) {
                        let view = HelloView::parse_record(&bytes)
                            .unwrap_or_else(|e| panic!("{version} {name}: {e}"));
                        let broken = violations(&view);
                        assert!(
                            broken.is_empty(),
                            "{version} {name} (bare: {bare}) breaks {broken:#?}"
                        );
                    }
                }
            }
        }
        let specs: Vec<u32> = tls::sslv2_ciphers().iter().map(|c| c.code).collect();
        let sslv2 = sslv2_client_hello(&specs, &random_bytes());
        assert!(sslv2_violations(&sslv2).is_empty());
    }
}
