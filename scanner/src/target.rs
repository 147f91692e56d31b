//! Target specifications: `host`, `host:port`, `[v6addr]:port`, `v6addr`.
use std::fmt;
use std::net::IpAddr;

/// Port scanned when a target names none.
pub const DEFAULT_TLS_PORT: u16 = 443;

/// One target as the user wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetSpec {
    /// Host name or IP literal.
    pub host: String,
    /// Port.
    pub port: u16,
}

/// Why a target specification is invalid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetError {
    /// The specification.
    pub spec: String,
    /// What is wrong.
    pub reason: String,
}

impl fmt::Display for TargetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid target {:?}: {}", self.spec, self.reason)
    }
}

impl std::error::Error for TargetError {}

impl TargetSpec {
    /// Parses one specification; `default_port` applies when none is given.
    pub fn parse(spec: &str, default_port: u16) -> Result<Self, TargetError> {
        let err = |reason: &str| TargetError {
            spec: spec.to_owned(),
            reason: reason.to_owned(),
        };
        let s = spec.trim();
        if s.is_empty() {
            return Err(err("empty"));
        }
        let (host, port) = if let Some(rest) = s.strip_prefix('[') {
            let (addr, after) = rest
                .split_once(']')
                .ok_or_else(|| err("missing ']' after an IPv6 address"))?;
            let port = match after {
                "" => None,
                p => Some(
                    p.strip_prefix(':')
                        .ok_or_else(|| err("expected ':PORT' after ']'"))?,
                ),
            };
            if addr.parse::<std::net::Ipv6Addr>().is_err() {
                return Err(err("not an IPv6 address inside [ ]"));
            }
            (addr.to_owned(), port)
        } else if s.parse::<IpAddr>().is_ok() {
            (s.to_owned(), None)
        } else {
            match s.rsplit_once(':') {
                Some((h, p)) if !h.contains(':') => (h.to_owned(), Some(p)),
                Some(_) => {
                    return Err(err(
                        "an IPv6 address with a port must be written [ADDR]:PORT",
                    ))
                }
                None => (s.to_owned(), None),
            }
        };
        let port = match port {
            None => default_port,
            Some(p) => match p.parse::<u16>() {
                Ok(0) | Err(_) => return Err(err("the port must be a number from 1 to 65535")),
                Ok(p) => p,
            },
        };
        let valid_host = host.parse::<IpAddr>().is_ok()
            || (!host.is_empty()
                && host.len() <= 253
                && host.split('.').all(|l| {
                    !l.is_empty()
                        && l.len() <= 63
                        && l.chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
                }));
        if !valid_host {
            return Err(err("not a host name or IP address"));
        }
        Ok(Self { host, port })
    }

    /// Whether the host is an IP literal (no SNI is sent for those unless asked).
    pub fn is_ip(&self) -> bool {
        self.host.parse::<IpAddr>().is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_form() {
        let p = |s: &str| TargetSpec::parse(s, 443).map(|t| (t.host, t.port));
        assert_eq!(p("example.com"), Ok(("example.com".into(), 443)));
        assert_eq!(p("127.0.0.1:8443"), Ok(("127.0.0.1".into(), 8443)));
        assert_eq!(p("[::1]:993"), Ok(("::1".into(), 993)));
        assert_eq!(p("::1"), Ok(("::1".into(), 443)));
        assert_eq!(p("[::1]"), Ok(("::1".into(), 443)));
    }

    #[test]
    fn rejects_garbage_with_a_reason() {
        for bad in [
            "",
            "host:0",
            "host:99999",
            "host:x",
            "[::1",
            "[zz]:1",
            "::1:443x",
            "bad host",
            "a..b",
            "[::1]443",
        ] {
            assert!(TargetSpec::parse(bad, 443).is_err(), "{bad:?} was accepted");
        }
    }
}

/// Most endpoints a scan expands to without `--yes`.
pub const CONFIRM_ABOVE: u128 = 65_536;

/// What a pattern names.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Names {
    /// A host name or IP literal.
    Host(String),
    /// A CIDR block.
    Net(ipnet::IpNet),
    /// An inclusive address range.
    Range(IpAddr, IpAddr),
}

/// One target pattern as the user wrote it: `host`, `host:port`, `[v6]:port`, `10.0.0.0/24`,
/// `10.0.0.0/24:443`, `[fd00::/120]:443`, `10.0.0.1-20`, `10.0.0.1-10.0.0.20:8443`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetPattern {
    names: Names,
    port: Option<u16>,
}

/// One endpoint to probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// Host name or address as named.
    pub host: String,
    /// The port.
    pub port: u16,
    /// Whether the user named this endpoint itself (its errors are reported); endpoints from
    /// ranges, blocks and port lists that do not answer are left out of the report.
    pub explicit: bool,
}

fn err(spec: &str, reason: &str) -> TargetError {
    TargetError {
        spec: spec.to_owned(),
        reason: reason.to_owned(),
    }
}

fn port_of(spec: &str, p: &str) -> Result<u16, TargetError> {
    match p.parse::<u16>() {
        Ok(0) | Err(_) => Err(err(spec, "the port must be a number from 1 to 65535")),
        Ok(p) => Ok(p),
    }
}

/// Parses `a.b.c.d-e` or `a.b.c.d-w.x.y.z` (IPv4), or `v6-v6`.
fn parse_range(spec: &str, text: &str) -> Result<Option<(IpAddr, IpAddr)>, TargetError> {
    let Some((a, b)) = text.split_once('-') else {
        return Ok(None);
    };
    let Ok(start) = a.parse::<IpAddr>() else {
        return Ok(None);
    };
    let end = match (start, b.parse::<IpAddr>(), b.parse::<u8>()) {
        (_, Ok(end), _) => end,
        (IpAddr::V4(s), _, Ok(last)) => {
            let o = s.octets();
            IpAddr::V4(std::net::Ipv4Addr::new(o[0], o[1], o[2], last))
        }
        _ => return Err(err(spec, "a range is a.b.c.d-e or two addresses")),
    };
    let ordered = match (start, end) {
        (IpAddr::V4(s), IpAddr::V4(e)) => u32::from(s) <= u32::from(e),
        (IpAddr::V6(s), IpAddr::V6(e)) => u128::from(s) <= u128::from(e),
        _ => return Err(err(spec, "a range cannot mix IPv4 and IPv6")),
    };
    if !ordered {
        return Err(err(spec, "the range ends before it starts"));
    }
    Ok(Some((start, end)))
}

impl TargetPattern {
    /// Parses one pattern.
    pub fn parse(spec: &str) -> Result<Self, TargetError> {
        let s = spec.trim();
        // [v6 net or address]:port
        if let Some(rest) = s.strip_prefix('[') {
            if let Some((inner, after)) = rest.split_once(']') {
                if inner.contains('/') {
                    let net = inner
                        .parse::<ipnet::IpNet>()
                        .map_err(|_| err(spec, "not a CIDR block inside [ ]"))?;
                    let port = match after.strip_prefix(':') {
                        Some(p) => Some(port_of(spec, p)?),
                        None if after.is_empty() => None,
                        None => return Err(err(spec, "expected ':PORT' after ']'")),
                    };
                    return Ok(Self {
                        names: Names::Net(net),
                        port,
                    });
                }
            }
        }
        if s.contains('/') {
            // An IPv4 block may carry ":PORT"; an IPv6 block needs brackets for one.
            let (net, port) = match s.rsplit_once(':') {
                Some((n, p)) if !n.contains(':') => (n, Some(port_of(spec, p)?)),
                _ => (s, None),
            };
            let net = net
                .parse::<ipnet::IpNet>()
                .map_err(|_| err(spec, "not a CIDR block"))?;
            return Ok(Self {
                names: Names::Net(net),
                port,
            });
        }
        if !s.starts_with('[')
            && s.contains('-')
            && s.split(['-', ':'])
                .next()
                .is_some_and(|a| a.parse::<IpAddr>().is_ok())
        {
            let (range, port) = match s.split_once(':') {
                Some((r, p)) if s.matches(':').count() == 1 => (r, Some(port_of(spec, p)?)),
                _ => (s, None),
            };
            if let Some((a, b)) = parse_range(spec, range)? {
                return Ok(Self {
                    names: Names::Range(a, b),
                    port,
                });
            }
        }
        // host, host:port, [v6]:port, v6
        let has_port = s.starts_with('[') && s.contains("]:")
            || (!s.starts_with('[') && s.matches(':').count() == 1);
        let t = TargetSpec::parse(s, 443)?;
        Ok(Self {
            names: Names::Host(t.host),
            port: has_port.then_some(t.port),
        })
    }

    /// How many addresses the pattern names (a host name counts as one).
    fn addresses(&self) -> u128 {
        match &self.names {
            Names::Host(_) => 1,
            Names::Net(net) => {
                1u128 << (u32::from(net.max_prefix_len()) - u32::from(net.prefix_len())).min(127)
            }
            Names::Range(IpAddr::V4(a), IpAddr::V4(b)) => {
                u128::from(u32::from(*b) - u32::from(*a)) + 1
            }
            Names::Range(IpAddr::V6(a), IpAddr::V6(b)) => {
                (u128::from(*b) - u128::from(*a)).saturating_add(1)
            }
            Names::Range(..) => 0,
        }
    }

    /// Whether an address is covered (for `--exclude`).
    fn covers(&self, ip: IpAddr) -> bool {
        match &self.names {
            Names::Host(h) => h.parse::<IpAddr>().is_ok_and(|x| x == ip),
            Names::Net(net) => net.contains(&ip),
            Names::Range(IpAddr::V4(a), IpAddr::V4(b)) => {
                matches!(ip, IpAddr::V4(x) if (u32::from(*a)..=u32::from(*b)).contains(&u32::from(x)))
            }
            Names::Range(IpAddr::V6(a), IpAddr::V6(b)) => {
                matches!(ip, IpAddr::V6(x) if (u128::from(*a)..=u128::from(*b)).contains(&u128::from(x)))
            }
            Names::Range(..) => false,
        }
    }

    /// The names the pattern expands to, lazily.
    fn hosts(&self) -> Box<dyn Iterator<Item = String> + Send + '_> {
        match &self.names {
            Names::Host(h) => Box::new(std::iter::once(h.clone())),
            Names::Net(net) => Box::new(net.hosts().map(|ip| ip.to_string())),
            Names::Range(IpAddr::V4(a), IpAddr::V4(b)) => Box::new(
                (u32::from(*a)..=u32::from(*b)).map(|v| std::net::Ipv4Addr::from(v).to_string()),
            ),
            Names::Range(IpAddr::V6(a), IpAddr::V6(b)) => Box::new(
                (u128::from(*a)..=u128::from(*b)).map(|v| std::net::Ipv6Addr::from(v).to_string()),
            ),
            Names::Range(..) => Box::new(std::iter::empty()),
        }
    }
}

/// Parses a port list: `22,443,8000-8010`.
pub fn parse_ports(list: &str) -> Result<Vec<u16>, TargetError> {
    let mut ports = Vec::new();
    for part in list.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (a, b) = part.split_once('-').unwrap_or((part, part));
        let (a, b) = (port_of(list, a)?, port_of(list, b)?);
        if a > b {
            return Err(err(list, "a port range ends before it starts"));
        }
        for p in a..=b {
            if !ports.contains(&p) {
                ports.push(p);
            }
        }
    }
    if ports.is_empty() {
        return Err(err(list, "no port"));
    }
    Ok(ports)
}

/// Everything a scan is asked to cover: patterns, the ports of those without one, exclusions.
#[derive(Debug, Clone)]
pub struct TargetList {
    patterns: Vec<TargetPattern>,
    ports: Vec<u16>,
    exclude: Vec<TargetPattern>,
}

impl TargetList {
    /// A list from parsed patterns; `ports` applies to patterns without a port.
    pub fn new(patterns: Vec<TargetPattern>, ports: Vec<u16>, exclude: Vec<TargetPattern>) -> Self {
        Self {
            patterns,
            ports,
            exclude,
        }
    }

    /// Endpoints before exclusions, to warn before huge scans.
    pub fn count(&self) -> u128 {
        self.patterns
            .iter()
            .map(|p| {
                p.addresses().saturating_mul(if p.port.is_some() {
                    1
                } else {
                    self.ports.len() as u128
                })
            })
            .sum()
    }

    /// The endpoints, generated lazily in the order given.
    pub fn endpoints(&self) -> impl Iterator<Item = Endpoint> + Send + '_ {
        self.patterns.iter().flat_map(move |p| {
            let ports: Vec<u16> = p.port.map_or_else(|| self.ports.clone(), |port| vec![port]);
            let explicit = matches!(p.names, Names::Host(_)) && ports.len() == 1;
            p.hosts()
                .filter(move |h| {
                    !h.parse::<IpAddr>()
                        .is_ok_and(|ip| self.exclude.iter().any(|x| x.covers(ip)))
                })
                .flat_map(move |host| {
                    ports.clone().into_iter().map(move |port| Endpoint {
                        host: host.clone(),
                        port,
                        explicit,
                    })
                })
        })
    }
}

/// One part of a deterministic partition of a target list (`--shard I/N`): the endpoints whose
/// position in the list is I modulo N, so N machines given the same targets cover each endpoint
/// exactly once. I counts from 0, like a Kubernetes Indexed Job's completion index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// This part, 0 ≤ index < count.
    pub index: u64,
    /// Number of parts.
    pub count: u64,
}

impl Shard {
    /// Parses `I/N`.
    pub fn parse(s: &str) -> Result<Self, TargetError> {
        let bad = |why: &str| err(s, why);
        let (i, n) = s
            .split_once('/')
            .ok_or_else(|| bad("expected I/N, such as 0/4"))?;
        let index: u64 = i.trim().parse().map_err(|_| bad("I is not a number"))?;
        let count: u64 = n.trim().parse().map_err(|_| bad("N is not a number"))?;
        if count == 0 || index >= count {
            return Err(bad("I must be at least 0 and below N"));
        }
        Ok(Self { index, count })
    }

    /// Whether the endpoint at this position of the list is in this part.
    pub fn holds(&self, position: u64) -> bool {
        position % self.count == self.index
    }
}

#[cfg(test)]
mod list_tests {
    use super::*;

    fn list(patterns: &[&str], ports: &str, exclude: &[&str]) -> Vec<(String, u16, bool)> {
        let p = patterns
            .iter()
            .map(|s| TargetPattern::parse(s))
            .collect::<Result<Vec<_>, _>>()
            .unwrap_or_default();
        let x = exclude
            .iter()
            .map(|s| TargetPattern::parse(s))
            .collect::<Result<Vec<_>, _>>()
            .unwrap_or_default();
        let t = TargetList::new(p, parse_ports(ports).unwrap_or_default(), x);
        t.endpoints()
            .map(|e| (e.host, e.port, e.explicit))
            .collect()
    }

    #[test]
    fn blocks_ranges_ports_and_exclusions() {
        assert_eq!(
            list(&["127.0.0.1"], "443", &[]),
            [("127.0.0.1".into(), 443, true)]
        );
        assert_eq!(
            list(&["127.0.0.1:22"], "443,8443", &[]),
            [("127.0.0.1".into(), 22, true)]
        );
        assert_eq!(
            list(&["127.0.0.8/30"], "443", &[]).len(),
            2,
            "network and broadcast addresses are left out"
        );
        let r = list(&["127.0.0.1-4:443"], "1", &["127.0.0.2", "127.0.0.4/32"]);
        assert_eq!(
            r,
            [
                ("127.0.0.1".into(), 443, false),
                ("127.0.0.3".into(), 443, false)
            ]
        );
        assert_eq!(list(&["[::1/127]:22"], "1", &[]).len(), 2);
        assert_eq!(
            list(&["host.example"], "22,443", &[]),
            [
                ("host.example".into(), 22, false),
                ("host.example".into(), 443, false)
            ]
        );
        assert_eq!(
            parse_ports("8000-8002,22,8001").ok(),
            Some(vec![8000, 8001, 8002, 22])
        );
    }

    #[test]
    fn counts_and_errors() {
        let t = TargetList::new(
            vec![TargetPattern::parse("10.0.0.0/8").unwrap_or_else(|e| panic!("{e}"))],
            vec![443, 22],
            vec![],
        );
        assert_eq!(t.count(), 2 * (1 << 24));
        for bad in [
            "10.0.0.9-1",
            "10.0.0.0/33",
            "10.0.0.1-::1",
            "[fd00::/200]:1",
            "10.0.0.0/8:0",
        ] {
            assert!(TargetPattern::parse(bad).is_err(), "{bad} was accepted");
        }
        assert!(
            parse_ports("0").is_err() && parse_ports("90-80").is_err() && parse_ports("").is_err()
        );
        for bad in ["1/1", "0/0", "x/2", "3", "-1/2"] {
            assert!(Shard::parse(bad).is_err(), "{bad} was accepted");
        }
    }

    #[test]
    fn shards_partition_the_list() {
        let shards: Vec<Shard> = (0..3)
            .map(|i| Shard::parse(&format!("{i}/3")).unwrap_or_else(|e| panic!("{e}")))
            .collect();
        for position in 0..100 {
            assert_eq!(shards.iter().filter(|s| s.holds(position)).count(), 1);
        }
    }
}
