//! BER lengths (X.690 8.1.3) for the few structures the proxy reads by hand: an LDAP StartTLS
//! request, and the signatureAlgorithm of an OCSP responder's certificate.

/// The definite length at the start of `b`, whose long form may take at most `max_octets`
/// octets after the first: (length, octets the length took).
pub(crate) fn length(b: &[u8], max_octets: usize) -> Option<(usize, usize)> {
    let first = *b.first()?;
    if first < 0x80 {
        return Some((usize::from(first), 1));
    }
    let n = usize::from(first & 0x7f);
    if n == 0 || n > max_octets {
        return None;
    }
    let len = b
        .get(1..1 + n)?
        .iter()
        .fold(0usize, |a, x| (a << 8) | usize::from(*x));
    Some((len, 1 + n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_long_indefinite_and_overlong_lengths() {
        assert_eq!(length(&[0x05], 2), Some((5, 1)));
        assert_eq!(length(&[0x81, 0x80], 2), Some((0x80, 2)));
        assert_eq!(length(&[0x82, 0x01, 0x00], 2), Some((0x100, 3)));
        assert_eq!(length(&[0x83, 0x01, 0x00, 0x00], 2), None);
        assert_eq!(length(&[0x83, 0x01, 0x00, 0x00], 4), Some((0x10000, 4)));
        assert_eq!(length(&[0x80], 4), None);
        assert_eq!(length(&[0x82, 0x01], 2), None);
        assert_eq!(length(&[], 2), None);
    }
}
