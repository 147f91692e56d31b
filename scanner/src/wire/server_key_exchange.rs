//! ServerKeyExchange of DHE and ECDHE suites: the group or prime the server chose, and its
//! signature scheme.
use super::{Reader, WireError};

/// The key-exchange parameters a server sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyExchangeParams {
    /// Finite-field DH: the prime and generator.
    Dh {
        /// Prime p, big-endian.
        prime: Vec<u8>,
        /// Generator g.
        generator: Vec<u8>,
    },
    /// Named-curve ECDH.
    Ecdh {
        /// supported_groups code of the curve.
        group: u16,
    },
}

/// A parsed ServerKeyExchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerKeyExchange {
    /// Parameters.
    pub params: KeyExchangeParams,
    /// Signature scheme (TLS 1.2 only; earlier versions imply it from the certificate).
    pub signature_scheme: Option<u16>,
}

/// Which layout to expect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyExchangeKind {
    /// DHE (also DH_anon).
    Dhe,
    /// ECDHE (also ECDH_anon).
    Ecdhe,
}

/// Parses a ServerKeyExchange body. `tls12` says whether a signature scheme precedes the
/// signature; `signed` is false for anonymous suites.
pub fn parse(
    body: &[u8],
    kind: KeyExchangeKind,
    tls12: bool,
    signed: bool,
) -> Result<ServerKeyExchange, WireError> {
    let mut r = Reader::new(body);
    let params = match kind {
        KeyExchangeKind::Dhe => {
            let prime = r.vec_u16("dh_p")?.to_vec();
            let generator = r.vec_u16("dh_g")?.to_vec();
            r.vec_u16("dh_Ys")?;
            if prime.is_empty() || generator.is_empty() {
                return Err(WireError::Invalid {
                    what: "ServerDHParams",
                    detail: "empty prime or generator".into(),
                });
            }
            KeyExchangeParams::Dh { prime, generator }
        }
        KeyExchangeKind::Ecdhe => {
            let curve_type = r.u8("ec curve_type")?;
            if curve_type != 3 {
                return Err(WireError::Invalid {
                    what: "ec curve_type",
                    detail: format!("{curve_type} (only named_curve is supported)"),
                });
            }
            let group = r.u16("named_curve")?;
            r.vec_u8("ec point")?;
            KeyExchangeParams::Ecdh { group }
        }
    };
    let signature_scheme = if signed {
        let scheme = if tls12 {
            Some(r.u16("signature scheme")?)
        } else {
            None
        };
        r.vec_u16("signature")?;
        scheme
    } else {
        None
    };
    r.finish("server_key_exchange")?;
    Ok(ServerKeyExchange {
        params,
        signature_scheme,
    })
}

impl KeyExchangeParams {
    /// Prime size in bits, for DH.
    pub fn dh_bits(&self) -> Option<u32> {
        match self {
            Self::Dh { prime, .. } => {
                let start = prime.iter().position(|b| *b != 0)?;
                let lead = prime[start];
                Some(((prime.len() - start) as u32) * 8 - lead.leading_zeros())
            }
            Self::Ecdh { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ecdhe_tls12_signed() {
        let body = [3, 0, 23, 1, 4, 0x08, 0x04, 0, 2, 0xAA, 0xBB];
        let ske = parse(&body, KeyExchangeKind::Ecdhe, true, true);
        assert_eq!(
            ske,
            Ok(ServerKeyExchange {
                params: KeyExchangeParams::Ecdh { group: 23 },
                signature_scheme: Some(0x0804)
            })
        );
        assert!(parse(&body[..8], KeyExchangeKind::Ecdhe, true, true).is_err());
    }

    #[test]
    fn dhe_tls10_and_bits() {
        let body = [0, 2, 0x01, 0xFF, 0, 1, 2, 0, 1, 9, 0, 1, 0xEE];
        let ske = parse(&body, KeyExchangeKind::Dhe, false, true);
        assert_eq!(ske.as_ref().map(|s| s.signature_scheme), Ok(None));
        assert_eq!(ske.map(|s| s.params.dh_bits()), Ok(Some(9)));
    }
}
