//! The Certificate handshake message (TLS 1.0-1.2 and TLS 1.3 layouts).
use super::{Reader, WireError};

/// Most certificates a chain may hold before we call it hostile.
pub const MAX_CHAIN: usize = 32;

/// Parses a TLS 1.0-1.2 Certificate body: DER certificates, leaf first.
pub fn parse_tls12(body: &[u8]) -> Result<Vec<Vec<u8>>, WireError> {
    parse(body, false)
}

/// Parses a TLS 1.3 Certificate body: DER certificates, leaf first (entry extensions skipped).
pub fn parse_tls13(body: &[u8]) -> Result<Vec<Vec<u8>>, WireError> {
    parse(body, true)
}

/// TLS 1.3 adds a request context before the list and extensions after each certificate.
fn parse(body: &[u8], tls13: bool) -> Result<Vec<Vec<u8>>, WireError> {
    let mut r = Reader::new(body);
    if tls13 {
        r.vec_u8("certificate_request_context")?;
    }
    let mut list = Reader::new(r.vec_u24("certificate_list")?);
    r.finish("certificate")?;
    let mut chain = Vec::new();
    while !list.is_empty() {
        if chain.len() == MAX_CHAIN {
            return Err(WireError::TooLarge {
                what: "certificate chain",
                len: chain.len() + 1,
                max: MAX_CHAIN,
            });
        }
        let cert = list.vec_u24("certificate")?;
        if cert.is_empty() {
            return Err(WireError::Invalid {
                what: "certificate",
                detail: "empty certificate".into(),
            });
        }
        chain.push(cert.to_vec());
        if tls13 {
            list.vec_u16("certificate entry extensions")?;
        }
    }
    Ok(chain)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_layouts() {
        let tls12 = [0, 0, 8, 0, 0, 2, 0xAA, 0xBB, 0, 0, 0];
        assert!(
            parse_tls12(&tls12).is_err(),
            "an empty certificate is invalid"
        );
        let tls12 = [0, 0, 9, 0, 0, 2, 0xAA, 0xBB, 0, 0, 1, 0xCC];
        assert_eq!(parse_tls12(&tls12), Ok(vec![vec![0xAA, 0xBB], vec![0xCC]]));
        let tls13 = [0, 0, 0, 7, 0, 0, 2, 0xAA, 0xBB, 0, 0];
        assert_eq!(parse_tls13(&tls13), Ok(vec![vec![0xAA, 0xBB]]));
        assert!(parse_tls12(&[0, 0, 9, 0, 0, 2]).is_err());
    }
}
