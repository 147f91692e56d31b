//! Why a client connection ended: the `close_reason` of connection logs and the `reason` label
//! of `fipsgate_proxy_connection_failures_total`, one word each.
use serde::Serialize;
use std::fmt;

/// Why a client connection ended.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum CloseReason {
    /// Both sides ended the stream.
    #[default]
    Closed,
    /// The client ended the stream (with or without close_notify).
    ClientClosed,
    /// The backend ended the stream, or refused the PROXY header.
    BackendClosed,
    /// The client did not finish its handshake in time.
    HandshakeTimeout,
    /// The client offers nothing the FIPS configuration accepts.
    PeerIncompatible,
    /// The client's hello could not be read.
    BadClientHello,
    /// A STARTTLS listener's client sent a plaintext command other than the STARTTLS verb (or
    /// bytes that are not the protocol): it was refused before any credential could follow.
    StarttlsRefused,
    /// Client authentication is required and the client sent no certificate.
    ClientCertificateMissing,
    /// A CRL revokes the client's certificate.
    ClientCertificateRevoked,
    /// The client certificate's revocation status is unknown (no current CRL).
    ClientCertificateRevocationUnknown,
    /// The client certificate does not verify.
    ClientCertificateInvalid,
    /// The client sent an alert during the handshake.
    ClientAlert,
    /// The proxy could not complete its side of the handshake: its key (in a PKCS#11 token)
    /// could not sign.
    HandshakeFailed,
    /// Another TLS failure.
    TlsError,
    /// The client reset the connection.
    ClientReset,
    /// Another I/O failure during the handshake.
    IoError,
    /// The client certificate is not in `allowed_subjects`/`allowed_sans`.
    ClientNotAllowed,
    /// Every backend refused the connection.
    BackendUnreachable,
    /// No backend answered in time.
    BackendTimeout,
    /// TLS to the backend failed.
    BackendTlsFailed,
    /// No data either way for the idle timeout.
    IdleTimeout,
    /// The backend reset the connection mid-stream.
    BackendReset,
    /// A reset that neither side can be blamed for.
    Reset,
}

impl CloseReason {
    /// The word in logs and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Closed => "closed",
            Self::ClientClosed => "client_closed",
            Self::BackendClosed => "backend_closed",
            Self::HandshakeTimeout => "handshake_timeout",
            Self::PeerIncompatible => "peer_incompatible",
            Self::BadClientHello => "bad_client_hello",
            Self::StarttlsRefused => "starttls_refused",
            Self::ClientCertificateMissing => "client_certificate_missing",
            Self::ClientCertificateRevoked => "client_certificate_revoked",
            Self::ClientCertificateRevocationUnknown => "client_certificate_revocation_unknown",
            Self::ClientCertificateInvalid => "client_certificate_invalid",
            Self::ClientAlert => "client_alert",
            Self::HandshakeFailed => "handshake_failed",
            Self::TlsError => "tls_error",
            Self::ClientReset => "client_reset",
            Self::IoError => "io_error",
            Self::ClientNotAllowed => "client_not_allowed",
            Self::BackendUnreachable => "backend_unreachable",
            Self::BackendTimeout => "backend_timeout",
            Self::BackendTlsFailed => "backend_tls_failed",
            Self::IdleTimeout => "idle_timeout",
            Self::BackendReset => "backend_reset",
            Self::Reset => "reset",
        }
    }
}

impl Serialize for CloseReason {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl fmt::Display for CloseReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_word_and_the_metric_label_are_one() {
        for r in [
            CloseReason::Closed,
            CloseReason::ClientCertificateRevocationUnknown,
            CloseReason::BackendTlsFailed,
        ] {
            let logged = serde_json::to_value(r).ok();
            assert_eq!(logged.as_ref().and_then(|v| v.as_str()), Some(r.as_str()));
        }
    }
}
