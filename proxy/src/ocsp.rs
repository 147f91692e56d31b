//! OCSP (RFC 6960) for client certificates, without I/O: the request for a certificate, and
//! what a response says about it once its signature, its signer and its times check out.
//! Signatures are verified with the FIPS provider's algorithms.
use der::asn1::{Null, OctetString};
use der::{Decode, Encode};
use rustls::crypto::CryptoProvider;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::AlgorithmIdentifierOwned;
use x509_ocsp::{
    BasicOcspResponse, CertId, CertStatus, OcspRequest, OcspResponse, OcspResponseStatus, Request,
    ResponderId, TbsRequest,
};
use x509_parser::certificate::X509Certificate;
use x509_parser::prelude::FromDer;

/// SHA-1, the CertID hash every responder answers (RFC 5019); here it only names a
/// certificate, it signs nothing.
const SHA1_OID: der::oid::ObjectIdentifier =
    der::oid::ObjectIdentifier::new_unwrap("1.3.14.3.2.26");
/// id-pkix-ocsp-basic.
const BASIC_OID: der::oid::ObjectIdentifier =
    der::oid::ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.1.1");
/// Clock skew allowed on thisUpdate and nextUpdate, as OpenSSL's default.
const SKEW_SECS: u64 = 300;

fn sha1(data: &[u8]) -> Vec<u8> {
    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, data)
        .as_ref()
        .to_vec()
}

/// A question about one certificate: its CertID and the DER request carrying it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    /// Which certificate, as responders name it.
    pub cert_id: CertId,
    /// The DER OCSPRequest.
    pub der: Vec<u8>,
}

impl Query {
    /// The request about `leaf`, issued by `issuer` (both DER).
    pub fn new(leaf: &[u8], issuer: &[u8]) -> Result<Self, String> {
        let (_, leaf) = X509Certificate::from_der(leaf)
            .map_err(|e| format!("the client certificate does not parse: {e}"))?;
        let (_, issuer) = X509Certificate::from_der(issuer)
            .map_err(|e| format!("its issuer's certificate does not parse: {e}"))?;
        let octets = |v: Vec<u8>| OctetString::new(v).map_err(|e| e.to_string());
        let cert_id = CertId {
            hash_algorithm: AlgorithmIdentifierOwned {
                oid: SHA1_OID,
                parameters: Some(Null.into()),
            },
            issuer_name_hash: octets(sha1(leaf.issuer().as_raw()))?,
            issuer_key_hash: octets(sha1(&issuer.public_key().subject_public_key.data))?,
            serial_number: SerialNumber::new(leaf.raw_serial()).map_err(|e| e.to_string())?,
        };
        let request = OcspRequest {
            tbs_request: TbsRequest {
                version: Default::default(),
                requestor_name: None,
                request_list: vec![Request {
                    req_cert: cert_id.clone(),
                    single_request_extensions: None,
                }],
                request_extensions: None,
            },
            optional_signature: None,
        };
        let der = request.to_der().map_err(|e| e.to_string())?;
        Ok(Self { cert_id, der })
    }
}

/// What a verified response says about the certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// Not revoked.
    Good,
    /// Revoked, with the time and the reason if given.
    Revoked(String),
    /// The responder does not know the certificate.
    Unknown,
}

/// A verified answer and until when it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The certificate's status.
    pub status: Status,
    /// nextUpdate, in seconds since the Unix epoch (none: newer information is always
    /// available, so the answer is not kept).
    pub next_update: Option<u64>,
}

/// Verifies `signature` over `message` with the public key bits of `signer`, by whichever of
/// the provider's algorithms has the AlgorithmIdentifier `alg` (its DER, tag and length
/// included).
fn verified(
    provider: &CryptoProvider,
    alg: &[u8],
    signer: &X509Certificate<'_>,
    message: &[u8],
    signature: &[u8],
) -> bool {
    let Some(alg_content) = der_content(alg) else {
        return false;
    };
    let key = &signer.public_key().subject_public_key.data;
    provider
        .signature_verification_algorithms
        .all
        .iter()
        .filter(|a| a.signature_alg_id().as_ref() == alg_content)
        .any(|a| a.verify_signature(key, message, signature).is_ok())
}

/// The first DER TLV of `bytes`, split into its contents and what follows it.
fn der_split(bytes: &[u8]) -> Option<(&[u8], &[u8])> {
    let (len, at) = crate::ber::length(bytes.get(1..)?, 4)?;
    let start = 1 + at;
    let end = start.checked_add(len)?;
    Some((bytes.get(start..end)?, bytes.get(end..)?))
}

/// The contents of a DER TLV (without its tag and length).
fn der_content(tlv: &[u8]) -> Option<&[u8]> {
    der_split(tlv).map(|(content, _)| content)
}

/// A certificate's signatureAlgorithm as it was encoded (the second element of its outer
/// SEQUENCE), tag and length included.
fn signature_algorithm(cert_der: &[u8]) -> Option<&[u8]> {
    let (fields, _) = der_split(cert_der)?;
    let (_, after_tbs) = der_split(fields)?;
    let (_, after_alg) = der_split(after_tbs)?;
    after_tbs.get(..after_tbs.len() - after_alg.len())
}

/// Whether `cert` (and its DER) may sign OCSP responses for `issuer`'s certificates: `issuer`
/// itself, or a certificate `issuer` signed for id-kp-OCSPSigning (RFC 6960 4.2.2.2) that is
/// valid `now`.
fn may_sign(
    provider: &CryptoProvider,
    (cert_der, cert): (&[u8], &X509Certificate<'_>),
    issuer: &X509Certificate<'_>,
    now: u64,
) -> bool {
    if cert.tbs_certificate.as_ref() == issuer.tbs_certificate.as_ref() {
        return true;
    }
    let delegated = cert
        .extended_key_usage()
        .ok()
        .flatten()
        .is_some_and(|eku| eku.value.ocsp_signing);
    let now = now as i64;
    let valid = cert.validity().not_before.timestamp() <= now
        && now <= cert.validity().not_after.timestamp();
    let Some(alg) = signature_algorithm(cert_der) else {
        return false;
    };
    delegated
        && valid
        && cert.issuer().as_raw() == issuer.subject().as_raw()
        && verified(
            provider,
            alg,
            issuer,
            cert.tbs_certificate.as_ref(),
            &cert.signature_value.data,
        )
}

/// Whether `responder` identifies `cert`.
fn identifies(responder: &ResponderId, cert: &X509Certificate<'_>) -> bool {
    match responder {
        ResponderId::ByName(name) => name
            .to_der()
            .is_ok_and(|der| der == cert.subject().as_raw()),
        ResponderId::ByKey(hash) => {
            hash.as_bytes() == sha1(&cert.public_key().subject_public_key.data).as_slice()
        }
    }
}

/// What `response` (DER) says about `query`'s certificate, issued by `issuer` (DER), at `now`
/// (seconds since the Unix epoch): an error unless the response is successful, signed by the
/// issuer or a responder it delegated to, names the certificate, and is current.
pub fn evaluate(
    response: &[u8],
    query: &Query,
    issuer: &[u8],
    now: u64,
    provider: &CryptoProvider,
) -> Result<Answer, String> {
    let issuer_der = issuer;
    let (_, issuer) = X509Certificate::from_der(issuer_der)
        .map_err(|e| format!("the issuer's certificate does not parse: {e}"))?;
    let response = OcspResponse::from_der(response)
        .map_err(|e| format!("the response is not an OCSPResponse: {e}"))?;
    if response.response_status != OcspResponseStatus::Successful {
        return Err(format!(
            "the responder answered {:?}",
            response.response_status
        ));
    }
    let bytes = response
        .response_bytes
        .ok_or("a successful response without a body")?;
    if bytes.response_type != BASIC_OID {
        return Err(format!(
            "response type {} is not id-pkix-ocsp-basic",
            bytes.response_type
        ));
    }
    let basic = BasicOcspResponse::from_der(bytes.response.as_bytes())
        .map_err(|e| format!("the basic response does not parse: {e}"))?;
    let tbs = basic
        .tbs_response_data
        .to_der()
        .map_err(|e| e.to_string())?;
    let alg = basic
        .signature_algorithm
        .to_der()
        .map_err(|e| e.to_string())?;
    let signature = basic
        .signature
        .as_bytes()
        .ok_or("the signature is not a whole number of bytes")?;
    let included: Vec<Vec<u8>> = basic
        .certs
        .iter()
        .flatten()
        .filter_map(|c| c.to_der().ok())
        .collect();
    let responder = &basic.tbs_response_data.responder_id;
    let signed = std::iter::once(issuer_der)
        .chain(included.iter().map(Vec::as_slice))
        .filter_map(|der| Some((der, X509Certificate::from_der(der).ok()?.1)))
        .any(|(der, signer)| {
            identifies(responder, &signer)
                && may_sign(provider, (der, &signer), &issuer, now)
                && verified(provider, &alg, &signer, &tbs, signature)
        });
    if !signed {
        return Err(
            "the response is not signed by the issuer or a responder it delegated to".into(),
        );
    }
    let single = basic
        .tbs_response_data
        .responses
        .iter()
        .find(|r| r.cert_id == query.cert_id)
        .ok_or("the response does not name the certificate asked about")?;
    let this_update = single.this_update.0.to_unix_duration().as_secs();
    let next_update = single.next_update.map(|t| t.0.to_unix_duration().as_secs());
    if this_update > now + SKEW_SECS {
        return Err(format!(
            "thisUpdate is {} s in the future",
            this_update - now
        ));
    }
    if let Some(next) = next_update.filter(|n| n + SKEW_SECS < now) {
        return Err(format!(
            "the response expired {} s ago (nextUpdate)",
            now - next
        ));
    }
    let status = match &single.cert_status {
        CertStatus::Good(_) => Status::Good,
        CertStatus::Unknown(_) => Status::Unknown,
        CertStatus::Revoked(info) => {
            let at = info.revocation_time.0.to_unix_duration().as_secs();
            let at = fipsgate_cipher_db::time::rfc3339(at as i64);
            Status::Revoked(match info.revocation_reason {
                Some(reason) => format!("revoked at {at} ({reason:?})"),
                None => format!("revoked at {at}"),
            })
        }
    };
    Ok(Answer {
        status,
        next_update,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn der_lengths_short_and_long() {
        assert_eq!(
            der_content(&[0x30, 0x02, 0x05, 0x00]),
            Some(&[0x05, 0x00][..])
        );
        let mut long = vec![0x04, 0x81, 0x80];
        long.extend([7u8; 0x80]);
        assert_eq!(der_content(&long).map(<[u8]>::len), Some(0x80));
        assert_eq!(der_content(&[0x30, 0x05, 0x00]), None);
        assert_eq!(der_content(&[0x30]), None);
        assert_eq!(der_content(&[0x30, 0x89, 0xff]), None);
        // SEQUENCE { tbs, alg, sig }: the alg TLV whole.
        let cert = [
            0x30, 0x0a, 0x30, 0x01, 0x00, 0x30, 0x02, 0x05, 0x00, 0x03, 0x01, 0x00,
        ];
        assert_eq!(
            signature_algorithm(&cert),
            Some(&[0x30, 0x02, 0x05, 0x00][..])
        );
    }

    /// Responses `openssl ocsp` signed (as the CA, and as a delegated responder) about
    /// certificates of that CA, valid from 2026-11-30 for ten years.
    const ISSUER: &[u8] = include_bytes!("../testdata/ocsp/issuer.der");
    const LEAF: &[u8] = include_bytes!("../testdata/ocsp/leaf.der");
    const REVOKED_LEAF: &[u8] = include_bytes!("../testdata/ocsp/revoked-leaf.der");
    const GOOD: &[u8] = include_bytes!("../testdata/ocsp/good.der");
    const DELEGATED: &[u8] = include_bytes!("../testdata/ocsp/delegated.der");
    const REVOKED: &[u8] = include_bytes!("../testdata/ocsp/revoked.der");
    const NOW: u64 = 1_800_000_000;

    fn check(response: &[u8], leaf: &[u8], now: u64) -> Result<Answer, String> {
        let provider = rustls::crypto::default_fips_provider();
        let query = Query::new(leaf, ISSUER)?;
        evaluate(response, &query, ISSUER, now, &provider)
    }

    #[test]
    fn real_responses_verify_and_say_what_they_say() {
        let good = check(GOOD, LEAF, NOW).map(|a| a.status);
        assert_eq!(good, Ok(Status::Good));
        assert_eq!(
            check(DELEGATED, LEAF, NOW).map(|a| a.status),
            Ok(Status::Good)
        );
        let revoked = check(REVOKED, REVOKED_LEAF, NOW).map(|a| a.status);
        assert!(
            matches!(&revoked, Ok(Status::Revoked(why)) if why.contains("KeyCompromise")),
            "{revoked:?}"
        );
        let next = check(GOOD, LEAF, NOW).ok().and_then(|a| a.next_update);
        assert!(next.is_some_and(|n| n > NOW + 300 * 86_400), "{next:?}");
    }

    #[test]
    fn wrong_stale_early_and_forged_responses_are_refused() {
        let other = check(REVOKED, LEAF, NOW).err().unwrap_or_default();
        assert!(other.contains("does not name the certificate"), "{other}");
        let early = check(GOOD, LEAF, 1_700_000_000).err().unwrap_or_default();
        assert!(early.contains("thisUpdate is"), "{early}");
        let late = check(GOOD, LEAF, 2_200_000_000).err().unwrap_or_default();
        assert!(late.contains("expired"), "{late}");
        // producedAt moved by a day: the signature no longer covers what is said.
        let mut forged = GOOD.to_vec();
        let at = forged.windows(8).position(|w| w == b"20261130");
        if let Some(day) = at.and_then(|i| forged.get_mut(i + 6..i + 8)) {
            day.copy_from_slice(b"29");
        }
        let forged = check(&forged, LEAF, NOW).err().unwrap_or_default();
        assert!(forged.contains("not signed by the issuer"), "{forged}");
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        let provider = rustls::crypto::default_fips_provider();
        let query = Query {
            cert_id: CertId {
                hash_algorithm: AlgorithmIdentifierOwned {
                    oid: SHA1_OID,
                    parameters: None,
                },
                issuer_name_hash: OctetString::new(vec![0; 20]).unwrap_or_else(|_| unreachable!()),
                issuer_key_hash: OctetString::new(vec![0; 20]).unwrap_or_else(|_| unreachable!()),
                serial_number: SerialNumber::new(&[1]).unwrap_or_else(|_| unreachable!()),
            },
            der: Vec::new(),
        };
        for bytes in [&b""[..], b"\x30\x03\x0a\x01\x00", b"\x30\x80", &[0xff; 64]] {
            assert!(evaluate(bytes, &query, bytes, 0, &provider).is_err());
        }
    }
}
