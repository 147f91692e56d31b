//! Private keys that never leave a PKCS#11 token: rustls asks for a signature, the token makes
//! it (through `cryptoki`), and everything else stays on the AWS-LC FIPS provider.
//!
//! A module is loaded and initialised once per process and shared by every key that names it.
//! Each key keeps one logged-in session. When the token goes away, signing fails with the
//! reason; every later signature first tries to find the token again, and at most once a
//! second the module is initialised afresh (SoftHSM2 and some tokens only see a token that
//! came back after `C_Finalize`/`C_Initialize`).
use crate::pkcs11_uri::{PinSource, Pkcs11Uri};
use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as P11Error, RvError};
use cryptoki::mechanism::rsa::{PkcsMgfType, PkcsPssParams};
use cryptoki::mechanism::{Mechanism, MechanismType};
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::AuthPin;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, SubjectPublicKeyInfoDer};
use rustls::sign::{Signer, SigningKey};
use rustls::{SignatureAlgorithm, SignatureScheme};
use serde::Serialize;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::{Duration, Instant};

/// Why the token could not sign: the handshake fails with this as its reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenError(pub String);

impl fmt::Display for TokenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TokenError {}

/// A PKCS#11 failure in words: the function and the return value's name.
fn why(e: &P11Error) -> String {
    match e {
        P11Error::Pkcs11(rv, function) => format!("C_{function:?}: {rv:?}"),
        other => other.to_string(),
    }
}

/// The shortest time between two re-initialisations of a module.
const RESET_INTERVAL: Duration = Duration::from_secs(1);

/// The module's context as of one initialisation.
struct Loaded {
    context: Pkcs11,
    /// Counts initialisations: a session from an earlier one is dead.
    generation: u64,
    reset_at: Instant,
    /// The slots this initialisation logged in to, with a digest of the PIN that worked. A
    /// token stays logged in for the whole process, so a later C_Login answers "already logged
    /// in" whatever the PIN: this is how a reload still tells a wrong PIN.
    logins: Mutex<Vec<(u64, Vec<u8>)>>,
}

/// A PKCS#11 library, loaded once and shared.
struct Module {
    path: PathBuf,
    loaded: RwLock<Loaded>,
}

impl fmt::Debug for Module {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Module({})", self.path.display())
    }
}

fn initialise(path: &Path) -> Result<Pkcs11, String> {
    let context = Pkcs11::new(path).map_err(|e| format!("{}: {e}", path.display()))?;
    match context.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
        Ok(()) | Err(P11Error::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => Ok(context),
        Err(e) => Err(format!("{}: {}", path.display(), why(&e))),
    }
}

/// Every module in use, so that keys naming the same library share one initialisation.
static MODULES: Mutex<Vec<Weak<Module>>> = Mutex::new(Vec::new());

impl Module {
    fn get(path: &Path) -> Result<Arc<Self>, String> {
        let path = path
            .canonicalize()
            .map_err(|e| format!("PKCS#11 module {}: {e}", path.display()))?;
        let mut modules = MODULES.lock().unwrap_or_else(|p| p.into_inner());
        modules.retain(|m| m.strong_count() > 0);
        if let Some(m) = modules
            .iter()
            .filter_map(Weak::upgrade)
            .find(|m| m.path == path)
        {
            return Ok(m);
        }
        let context = initialise(&path)?;
        let module = Arc::new(Self {
            path,
            loaded: RwLock::new(Loaded {
                context,
                generation: 0,
                reset_at: Instant::now(),
                logins: Mutex::new(Vec::new()),
            }),
        });
        modules.push(Arc::downgrade(&module));
        Ok(module)
    }

    /// Initialises the module afresh, unless that was done less than [`RESET_INTERVAL`] ago.
    /// Sessions of the earlier initialisation are forgotten, not closed: their handles may be
    /// reused by the new one.
    fn reset_if_due(&self, seen: u64) {
        let mut loaded = self.loaded.write().unwrap_or_else(|p| p.into_inner());
        if loaded.generation != seen || loaded.reset_at.elapsed() < RESET_INTERVAL {
            return;
        }
        loaded.reset_at = Instant::now();
        let _ = loaded.context.clone().finalize();
        if let Ok(context) = initialise(&self.path) {
            loaded.context = context;
            loaded.generation += 1;
            loaded.logins = Mutex::new(Vec::new());
        }
    }
}

impl Drop for Module {
    fn drop(&mut self) {
        if let Ok(loaded) = self.loaded.get_mut() {
            let _ = loaded.context.clone().finalize();
        }
    }
}

/// What a token key is: for `--check` and the `starting` event.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct TokenKeyInfo {
    /// The key's URI, without the PIN.
    pub uri: String,
    /// The PKCS#11 library.
    pub module: String,
    /// The token's label.
    pub token: String,
    /// The token's manufacturer.
    pub manufacturer: String,
    /// The token's model.
    pub model: String,
    /// The token's serial number.
    pub serial: String,
    /// `RSA 2048`, `ECDSA P-256` …
    pub key: String,
    /// The signature schemes the token signs, strongest first.
    pub schemes: Vec<String>,
}

/// The key types the proxy serves, as the certificate says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyKind {
    Rsa,
    EcdsaP256,
    EcdsaP384,
}

/// DER OIDs of the named curves (id-ecPublicKey parameters).
const P256_OID: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
const P384_OID: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x22];

/// The certificate's key: its kind, its name (`RSA 2048`), its SubjectPublicKeyInfo and its
/// bare key bits.
fn certificate_key(
    leaf: &CertificateDer<'_>,
) -> Result<(KeyKind, String, Vec<u8>, Vec<u8>), String> {
    let (_, cert) = x509_parser::parse_x509_certificate(leaf)
        .map_err(|e| format!("the leaf certificate does not parse: {e}"))?;
    let spki = cert.public_key();
    let oid = spki.algorithm.algorithm.to_id_string();
    let (kind, name) = match oid.as_str() {
        "1.2.840.113549.1.1.1" => {
            let bits = match spki.parsed() {
                Ok(x509_parser::public_key::PublicKey::RSA(k)) => k.key_size(),
                _ => 0,
            };
            if bits < 2048 {
                return Err(format!(
                    "the certificate's RSA key has {bits} bits: FIPS needs at least 2048"
                ));
            }
            (KeyKind::Rsa, format!("RSA {bits}"))
        }
        "1.2.840.10045.2.1" => {
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.as_oid().ok());
            match curve.as_ref().map(|c| c.as_bytes()) {
                Some(P256_OID) => (KeyKind::EcdsaP256, "ECDSA P-256".to_owned()),
                Some(P384_OID) => (KeyKind::EcdsaP384, "ECDSA P-384".to_owned()),
                _ => return Err("the certificate's EC key is not on P-256 or P-384".into()),
            }
        }
        other => {
            return Err(format!(
                "the certificate's key ({other}) is neither RSA nor ECDSA"
            ))
        }
    };
    Ok((
        kind,
        name,
        spki.raw.to_vec(),
        spki.subject_public_key.data.to_vec(),
    ))
}

/// How the token makes one signature scheme: its mechanism, and whether we hash first.
fn mechanism(
    scheme: SignatureScheme,
) -> Option<(
    Mechanism<'static>,
    Option<&'static aws_lc_rs::digest::Algorithm>,
)> {
    use aws_lc_rs::digest::{SHA256, SHA384};
    let pss = |hash_alg, mgf, s_len: u64| PkcsPssParams {
        hash_alg,
        mgf,
        s_len: s_len.into(),
    };
    Some(match scheme {
        SignatureScheme::RSA_PSS_SHA512 => (
            Mechanism::Sha512RsaPkcsPss(pss(MechanismType::SHA512, PkcsMgfType::MGF1_SHA512, 64)),
            None,
        ),
        SignatureScheme::RSA_PSS_SHA384 => (
            Mechanism::Sha384RsaPkcsPss(pss(MechanismType::SHA384, PkcsMgfType::MGF1_SHA384, 48)),
            None,
        ),
        SignatureScheme::RSA_PSS_SHA256 => (
            Mechanism::Sha256RsaPkcsPss(pss(MechanismType::SHA256, PkcsMgfType::MGF1_SHA256, 32)),
            None,
        ),
        SignatureScheme::RSA_PKCS1_SHA512 => (Mechanism::Sha512RsaPkcs, None),
        SignatureScheme::RSA_PKCS1_SHA384 => (Mechanism::Sha384RsaPkcs, None),
        SignatureScheme::RSA_PKCS1_SHA256 => (Mechanism::Sha256RsaPkcs, None),
        // CKM_ECDSA signs a digest we make: tokens that have no hash-and-sign ECDSA
        // mechanism (SoftHSM2 among them) all have this one.
        SignatureScheme::ECDSA_NISTP256_SHA256 => (Mechanism::Ecdsa, Some(&SHA256)),
        SignatureScheme::ECDSA_NISTP384_SHA384 => (Mechanism::Ecdsa, Some(&SHA384)),
        _ => return None,
    })
}

/// The schemes a key kind can make, in rustls' order of preference.
fn candidate_schemes(kind: KeyKind) -> &'static [SignatureScheme] {
    match kind {
        KeyKind::Rsa => &[
            SignatureScheme::RSA_PSS_SHA512,
            SignatureScheme::RSA_PSS_SHA384,
            SignatureScheme::RSA_PSS_SHA256,
            SignatureScheme::RSA_PKCS1_SHA512,
            SignatureScheme::RSA_PKCS1_SHA384,
            SignatureScheme::RSA_PKCS1_SHA256,
        ],
        KeyKind::EcdsaP256 => &[SignatureScheme::ECDSA_NISTP256_SHA256],
        KeyKind::EcdsaP384 => &[SignatureScheme::ECDSA_NISTP384_SHA384],
    }
}

/// A PKCS#11 ECDSA signature (r ‖ s, each as long as the curve's order) as the DER
/// ECDSA-Sig-Value TLS carries.
fn ecdsa_der(raw: &[u8]) -> Result<Vec<u8>, String> {
    if raw.is_empty() || raw.len() % 2 != 0 || raw.len() > 132 {
        return Err(format!(
            "the token's ECDSA signature has {} bytes",
            raw.len()
        ));
    }
    let integer = |v: &[u8]| {
        let v = &v[v.iter().take_while(|&&b| b == 0).count().min(v.len() - 1)..];
        let pad = usize::from(v[0] & 0x80 != 0);
        let mut out = vec![0x02, (v.len() + pad) as u8];
        out.extend(std::iter::repeat_n(0, pad));
        out.extend_from_slice(v);
        out
    };
    let (r, s) = raw.split_at(raw.len() / 2);
    let body = [integer(r), integer(s)].concat();
    let mut out = vec![0x30];
    if body.len() >= 0x80 {
        out.push(0x81);
    }
    out.push(body.len() as u8);
    out.extend(body);
    Ok(out)
}

/// A logged-in session and the key's handle in it.
struct Open {
    generation: u64,
    session: Session,
    key: ObjectHandle,
}

/// Everything a signature needs; shared by the key and the signers it hands out.
struct Inner {
    module: Arc<Module>,
    uri: Pkcs11Uri,
    pin: PinSource,
    kind: KeyKind,
    open: Mutex<Option<Open>>,
}

impl fmt::Debug for Inner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TokenKey({} in {:?})", self.uri, self.module)
    }
}

impl Inner {
    /// The one slot whose token the URI names.
    fn slot(&self, context: &Pkcs11) -> Result<Slot, String> {
        let u = &self.uri;
        let slots = context
            .get_slots_with_initialized_token()
            .map_err(|e| format!("listing the slots: {}", why(&e)))?;
        let matching: Vec<Slot> = slots
            .into_iter()
            .filter(|slot| u.slot_id.is_none_or(|id| slot.id() == id))
            .filter(|slot| {
                let Ok(t) = context.get_token_info(*slot) else {
                    return false;
                };
                let is = |want: &Option<String>, have: &str| {
                    want.as_deref().is_none_or(|w| w == have.trim_end())
                };
                is(&u.token, t.label())
                    && is(&u.manufacturer, t.manufacturer_id())
                    && is(&u.model, t.model())
                    && is(&u.serial, t.serial_number())
            })
            .collect();
        match matching[..] {
            [slot] => Ok(slot),
            [] => Err(format!("no token present matches {u}")),
            _ => Err(format!(
                "{} tokens match {u}: add token=, serial= or slot-id=",
                matching.len()
            )),
        }
    }

    /// Opens a session, logs in and finds the private key.
    fn open(&self, loaded: &Loaded) -> Result<Open, String> {
        let pin = self.pin.read()?;
        let pin_digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, pin.as_bytes());
        let pin = AuthPin::from(pin);
        let context = &loaded.context;
        let slot = self.slot(context)?;
        let session = context.open_ro_session_no_drop(slot).map_err(|e| why(&e))?;
        let login = (slot.id(), pin_digest.as_ref().to_vec());
        let found = self.login_and_find(&session, &pin, login, &loaded.logins);
        match found {
            Ok(key) => Ok(Open {
                generation: loaded.generation,
                session,
                key,
            }),
            Err(e) => {
                let _ = session.close();
                Err(e)
            }
        }
    }

    fn login_and_find(
        &self,
        session: &Session,
        pin: &AuthPin,
        login: (u64, Vec<u8>),
        logins: &Mutex<Vec<(u64, Vec<u8>)>>,
    ) -> Result<ObjectHandle, String> {
        let mut logins = logins.lock().unwrap_or_else(|p| p.into_inner());
        match session.login(UserType::User, Some(pin)) {
            Ok(()) => {
                logins.retain(|(slot, _)| *slot != login.0);
                logins.push(login);
            }
            Err(P11Error::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => {
                if !logins.contains(&login) {
                    return Err(
                        "the token is logged in with another PIN, so this one cannot be \
                                checked without logging out the keys in use: restart the proxy \
                                to change the PIN"
                            .into(),
                    );
                }
            }
            Err(e) => return Err(why(&e)),
        }
        drop(logins);
        let mut template = vec![Attribute::Class(ObjectClass::PRIVATE_KEY)];
        if let Some(label) = &self.uri.object {
            template.push(Attribute::Label(label.as_bytes().to_vec()));
        }
        if let Some(id) = &self.uri.id {
            template.push(Attribute::Id(id.clone()));
        }
        let keys = session
            .find_objects(&template)
            .map_err(|e| format!("finding the key: {}", why(&e)))?;
        let key = match keys[..] {
            [key] => key,
            [] => return Err(format!("no private key in the token matches {}", self.uri)),
            _ => {
                return Err(format!(
                    "{} private keys match {}: add id=",
                    keys.len(),
                    self.uri
                ))
            }
        };
        let token_type = session
            .get_attributes(key, &[AttributeType::KeyType])
            .map_err(|e| format!("reading the key's type: {}", why(&e)))?;
        let is_rsa = self.kind == KeyKind::Rsa;
        let matches = token_type.iter().any(|a| {
            matches!(a, Attribute::KeyType(t)
                if (*t == KeyType::RSA && is_rsa) || (*t == KeyType::EC && !is_rsa))
        });
        if !matches {
            return Err(format!(
                "{} is not an {} key, as the certificate's is",
                self.uri,
                if is_rsa { "RSA" } else { "EC" }
            ));
        }
        Ok(key)
    }

    /// Signs with the session open (opening it first), once more on a fresh session when the
    /// first try fails, and after re-initialising the module when the token cannot be found.
    fn sign(&self, scheme: SignatureScheme, message: &[u8]) -> Result<Vec<u8>, String> {
        let (mech, prehash) = mechanism(scheme)
            .ok_or_else(|| format!("{scheme:?} is not a scheme this key signs"))?;
        let digest;
        let input = match prehash {
            Some(alg) => {
                digest = aws_lc_rs::digest::digest(alg, message);
                digest.as_ref()
            }
            None => message,
        };
        let mut failure = String::new();
        for _ in 0..2 {
            let loaded = self.module.loaded.read().unwrap_or_else(|p| p.into_inner());
            let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(stale) = open.take() {
                if stale.generation == loaded.generation {
                    *open = Some(stale);
                }
            }
            if open.is_none() {
                match self.open(&loaded) {
                    Ok(o) => *open = Some(o),
                    Err(e) => {
                        let seen = loaded.generation;
                        drop(open);
                        drop(loaded);
                        self.module.reset_if_due(seen);
                        failure = e;
                        continue;
                    }
                }
            }
            let Some(o) = open.as_ref() else { continue };
            match o.session.sign(&mech, o.key, input) {
                Ok(sig) if prehash.is_some() => return ecdsa_der(&sig),
                Ok(sig) => return Ok(sig),
                Err(e) => {
                    failure = why(&e);
                    if let Some(o) = open.take() {
                        let _ = o.session.close();
                    }
                }
            }
        }
        Err(failure)
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        let loaded = self.module.loaded.read().unwrap_or_else(|p| p.into_inner());
        if let Some(o) = self.open.get_mut().ok().and_then(Option::take) {
            if o.generation == loaded.generation {
                let _ = o.session.close();
            }
        }
    }
}

/// A private key in a PKCS#11 token, as rustls signs with it.
#[derive(Debug)]
pub struct TokenKey {
    inner: Arc<Inner>,
    schemes: Vec<SignatureScheme>,
    spki: Vec<u8>,
}

impl TokenKey {
    /// Opens the key `uri` names in `module`, checks by a test signature (verified with the
    /// FIPS provider against `leaf`'s public key) that it is the certificate's key, and says
    /// what it is.
    pub fn open(
        uri: &Pkcs11Uri,
        module: &Path,
        pin: PinSource,
        leaf: &CertificateDer<'_>,
        provider: &CryptoProvider,
    ) -> Result<(Self, TokenKeyInfo), String> {
        let (kind, key, spki, public_key) = certificate_key(leaf)?;
        let module = Module::get(module)?;
        let inner = Inner {
            module: module.clone(),
            uri: uri.clone(),
            pin,
            kind,
            open: Mutex::new(None),
        };
        let (mechanisms, info) = {
            let loaded = module.loaded.read().unwrap_or_else(|p| p.into_inner());
            let opened = inner.open(&loaded)?;
            let slot = opened.session.get_session_info().map(|i| i.slot_id());
            *inner.open.lock().unwrap_or_else(|p| p.into_inner()) = Some(opened);
            let slot = slot.map_err(|e| why(&e))?;
            let mechanisms = loaded
                .context
                .get_mechanism_list(slot)
                .map_err(|e| format!("listing the token's mechanisms: {}", why(&e)))?;
            let info = loaded.context.get_token_info(slot).map_err(|e| why(&e))?;
            (mechanisms, info)
        };
        let schemes: Vec<SignatureScheme> = candidate_schemes(kind)
            .iter()
            .copied()
            .filter(|s| {
                mechanism(*s).is_some_and(|(m, _)| mechanisms.contains(&m.mechanism_type()))
            })
            .collect();
        let Some(&first) = schemes.first() else {
            return Err(format!(
                "the token has no signing mechanism for {kind:?} that TLS can use"
            ));
        };
        let probe = b"fipsgate: does the token hold the certificate's key?";
        let signature = inner.sign(first, probe)?;
        let verifies = provider
            .signature_verification_algorithms
            .mapping
            .iter()
            .filter(|(s, _)| *s == first)
            .flat_map(|(_, algs)| algs.iter())
            .any(|alg| alg.verify_signature(&public_key, probe, &signature).is_ok());
        if !verifies {
            return Err(format!(
                "{uri} is not the key of the certificate: a signature it made does not verify \
                 with the certificate's public key"
            ));
        }
        let info = TokenKeyInfo {
            uri: uri.to_string(),
            module: module.path.display().to_string(),
            token: info.label().trim_end().to_owned(),
            manufacturer: info.manufacturer_id().trim_end().to_owned(),
            model: info.model().trim_end().to_owned(),
            serial: info.serial_number().trim_end().to_owned(),
            key,
            schemes: schemes
                .iter()
                .map(|s| {
                    let code = u16::from(*s);
                    fipsgate_cipher_db::tls::sigalg_by_code(code)
                        .map_or_else(|| format!("0x{code:04X}"), |d| d.name.to_owned())
                })
                .collect(),
        };
        Ok((
            Self {
                inner: Arc::new(inner),
                schemes,
                spki,
            },
            info,
        ))
    }
}

impl SigningKey for TokenKey {
    fn choose_scheme(&self, offered: &[SignatureScheme]) -> Option<Box<dyn Signer>> {
        let scheme = self.schemes.iter().find(|s| offered.contains(s))?;
        Some(Box::new(TokenSigner {
            inner: self.inner.clone(),
            scheme: *scheme,
        }))
    }

    fn public_key(&self) -> Option<SubjectPublicKeyInfoDer<'_>> {
        Some(SubjectPublicKeyInfoDer::from(self.spki.as_slice()))
    }

    fn algorithm(&self) -> SignatureAlgorithm {
        match self.inner.kind {
            KeyKind::Rsa => SignatureAlgorithm::RSA,
            KeyKind::EcdsaP256 | KeyKind::EcdsaP384 => SignatureAlgorithm::ECDSA,
        }
    }
}

/// One handshake's signature, made in the token.
#[derive(Debug)]
struct TokenSigner {
    inner: Arc<Inner>,
    scheme: SignatureScheme,
}

impl Signer for TokenSigner {
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, rustls::Error> {
        self.inner.sign(self.scheme, message).map_err(|e| {
            rustls::Error::Other(rustls::OtherError(Arc::new(TokenError(format!(
                "the PKCS#11 token could not sign ({}): {e}",
                self.inner.uri
            )))))
        })
    }

    fn scheme(&self) -> SignatureScheme {
        self.scheme
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_ecdsa_signatures_become_der() {
        let mut raw = vec![0u8; 64];
        raw[31] = 1;
        raw[32] = 0x80;
        let der = ecdsa_der(&raw).unwrap_or_default();
        assert_eq!(&der[..5], &[0x30, 0x26, 0x02, 0x01, 0x01]);
        assert_eq!(&der[5..8], &[0x02, 0x21, 0x00]);
        assert_eq!(der.len(), 2 + 3 + 35);
        let p384 = ecdsa_der(&[0xff; 96]).unwrap_or_default();
        assert_eq!(&p384[..4], &[0x30, 0x66, 0x02, 0x31]);
        let long = ecdsa_der(&[0xff; 132]).unwrap_or_default();
        assert_eq!(&long[..3], &[0x30, 0x81, 0x8a]);
        assert!(ecdsa_der(&[1, 2, 3]).is_err());
        assert!(ecdsa_der(&[]).is_err());
    }
}
