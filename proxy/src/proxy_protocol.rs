//! PROXY protocol headers (HAProxy's specification), so a backend learns the client's address:
//! version 1 (text) and version 2 (binary), for TCP over IPv4 and IPv6.
use std::net::{IpAddr, SocketAddr};

/// The 12-byte signature that starts a version 2 header.
pub const V2_SIGNATURE: [u8; 12] = [
    0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A,
];

/// `PROXY TCP4 src dst sport dport\r\n` (TCP6 for IPv6; `UNKNOWN` when the families differ).
pub fn v1(client: SocketAddr, local: SocketAddr) -> Vec<u8> {
    let family = match (client.ip(), local.ip()) {
        (IpAddr::V4(_), IpAddr::V4(_)) => "TCP4",
        (IpAddr::V6(_), IpAddr::V6(_)) => "TCP6",
        _ => return b"PROXY UNKNOWN\r\n".to_vec(),
    };
    format!(
        "PROXY {family} {} {} {} {}\r\n",
        client.ip(),
        local.ip(),
        client.port(),
        local.port()
    )
    .into_bytes()
}

/// The binary header: signature, version 2 PROXY command, family, addresses and ports.
pub fn v2(client: SocketAddr, local: SocketAddr) -> Vec<u8> {
    let mut out = V2_SIGNATURE.to_vec();
    out.push(0x21); // version 2, PROXY
    let mut body = Vec::new();
    let family = match (client.ip(), local.ip()) {
        (IpAddr::V4(c), IpAddr::V4(l)) => {
            body.extend_from_slice(&c.octets());
            body.extend_from_slice(&l.octets());
            0x11 // TCP over IPv4
        }
        (c, l) => {
            let six = |ip: IpAddr| match ip {
                IpAddr::V4(v4) => v4.to_ipv6_mapped().octets(),
                IpAddr::V6(v6) => v6.octets(),
            };
            body.extend_from_slice(&six(c));
            body.extend_from_slice(&six(l));
            0x21 // TCP over IPv6
        }
    };
    body.extend_from_slice(&client.port().to_be_bytes());
    body.extend_from_slice(&local.port().to_be_bytes());
    out.push(family);
    out.extend_from_slice(&(body.len() as u16).to_be_bytes());
    out.extend_from_slice(&body);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(s: &str) -> SocketAddr {
        s.parse().unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn headers_as_the_specification_shows() {
        assert_eq!(
            v1(addr("192.168.0.1:56324"), addr("192.168.0.11:443")),
            b"PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n"
        );
        assert_eq!(
            v1(addr("[::1]:5000"), addr("[::1]:443")),
            b"PROXY TCP6 ::1 ::1 5000 443\r\n"
        );
        let h = v2(addr("10.0.0.1:1000"), addr("10.0.0.2:443"));
        assert_eq!(&h[..12], &V2_SIGNATURE);
        assert_eq!(&h[12..16], &[0x21, 0x11, 0x00, 12]);
        assert_eq!(
            &h[16..],
            &[10, 0, 0, 1, 10, 0, 0, 2, 0x03, 0xE8, 0x01, 0xBB]
        );
        assert_eq!(v2(addr("[::1]:1"), addr("[::1]:2")).len(), 16 + 36);
    }
}
