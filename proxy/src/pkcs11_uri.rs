//! RFC 7512 PKCS#11 URIs naming a private key in a token: `pkcs11:token=web;object=tls?pin-source=file:/etc/pin`.
//! Parsing is pure; [`crate::token_key`] finds the token and the object they name.
use std::fmt;
use std::path::PathBuf;

/// Where the token's user PIN comes from.
#[derive(Clone, PartialEq, Eq)]
pub enum PinSource {
    /// `pin-value=…` in the URI.
    Value(String),
    /// `pin-source=file:…`: a file whose first line is the PIN.
    File(PathBuf),
    /// `pin_env = "NAME"` in the configuration: an environment variable.
    Env(String),
}

impl fmt::Debug for PinSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Value(_) => f.write_str("Value(<redacted>)"),
            Self::File(p) => write!(f, "File({p:?})"),
            Self::Env(n) => write!(f, "Env({n:?})"),
        }
    }
}

impl PinSource {
    /// Reads the PIN now (files and variables may change between reloads).
    pub fn read(&self) -> Result<String, String> {
        match self {
            Self::Value(v) => Ok(v.clone()),
            Self::File(p) => std::fs::read_to_string(p)
                .map(|t| t.lines().next().unwrap_or_default().to_owned())
                .map_err(|e| format!("PIN file {}: {e}", p.display())),
            Self::Env(n) => std::env::var(n)
                .map_err(|_| format!("the PIN variable {n} is not set in the environment")),
        }
    }
}

/// A parsed `pkcs11:` URI: which token, which private key in it, and optionally the PIN and
/// the module.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Pkcs11Uri {
    /// `token=`: the token label.
    pub token: Option<String>,
    /// `manufacturer=`: the token's manufacturer ID.
    pub manufacturer: Option<String>,
    /// `model=`: the token's model.
    pub model: Option<String>,
    /// `serial=`: the token's serial number.
    pub serial: Option<String>,
    /// `slot-id=`: the slot number.
    pub slot_id: Option<u64>,
    /// `object=`: the key's label (CKA_LABEL).
    pub object: Option<String>,
    /// `id=`: the key's CKA_ID bytes.
    pub id: Option<Vec<u8>>,
    /// `pin-value=` or `pin-source=`.
    pub pin: Option<PinSource>,
    /// `module-path=`: the PKCS#11 library.
    pub module_path: Option<PathBuf>,
}

/// The value of one attribute, percent-decoded.
fn decode(value: &str, attr: &str) -> Result<Vec<u8>, String> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| format!("{attr}: a % not followed by two hex digits"))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Ok(out)
}

fn text(value: &str, attr: &str) -> Result<String, String> {
    String::from_utf8(decode(value, attr)?).map_err(|_| format!("{attr}: not UTF-8"))
}

impl Pkcs11Uri {
    /// Whether a configured key names a PKCS#11 object rather than a file.
    pub fn is_uri(key: &str) -> bool {
        key.get(..7)
            .is_some_and(|scheme| scheme.eq_ignore_ascii_case("pkcs11:"))
    }

    /// Parses a URI; errors say which attribute is wrong.
    pub fn parse(uri: &str) -> Result<Self, String> {
        if !Self::is_uri(uri) {
            return Err("a PKCS#11 URI starts with pkcs11:".into());
        }
        let rest = &uri[7..];
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        let mut out = Self::default();
        let mut pin_source = None;
        let mut pin_value = None;
        let attrs = path
            .split(';')
            .map(|a| (a, false))
            .chain(query.split('&').map(|a| (a, true)));
        for (attr, in_query) in attrs.filter(|(a, _)| !a.is_empty()) {
            let (name, value) = attr
                .split_once('=')
                .ok_or_else(|| format!("{attr:?} is not NAME=VALUE"))?;
            let slot: &mut Option<String> = match (name, in_query) {
                ("token", false) => &mut out.token,
                ("manufacturer", false) => &mut out.manufacturer,
                ("model", false) => &mut out.model,
                ("serial", false) => &mut out.serial,
                ("object", false) => &mut out.object,
                ("pin-source", true) => &mut pin_source,
                ("pin-value", true) => &mut pin_value,
                ("slot-id", false) => {
                    let id = text(value, name)?;
                    out.slot_id = Some(
                        id.parse()
                            .map_err(|_| format!("slot-id {id:?} is not a decimal slot number"))?,
                    );
                    continue;
                }
                ("id", false) => {
                    out.id = Some(decode(value, name)?);
                    continue;
                }
                ("type", false) => {
                    let t = text(value, name)?;
                    if t != "private" {
                        return Err(format!(
                            "type={t}: the proxy needs a private key (type=private)"
                        ));
                    }
                    continue;
                }
                ("module-path", true) => {
                    out.module_path = Some(PathBuf::from(text(value, name)?));
                    continue;
                }
                _ => {
                    return Err(format!(
                        "attribute {name:?} is not supported here (path: token, manufacturer, \
                         model, serial, slot-id, object, id, type; query: pin-source, pin-value, \
                         module-path)"
                    ))
                }
            };
            if slot.is_some() {
                return Err(format!("{name} is given twice"));
            }
            *slot = Some(text(value, name)?);
        }
        out.pin = match (pin_source, pin_value) {
            (Some(_), Some(_)) => return Err("give pin-source or pin-value, not both".into()),
            (Some(s), None) => {
                let path = s.strip_prefix("file:").unwrap_or(&s);
                if path.is_empty() || s.contains("://") {
                    return Err(format!("pin-source {s:?}: only file:PATH is supported"));
                }
                Some(PinSource::File(PathBuf::from(path)))
            }
            (None, Some(v)) => Some(PinSource::Value(v)),
            (None, None) => None,
        };
        if out.object.is_none() && out.id.is_none() {
            return Err("name the key with object= (its label) or id=".into());
        }
        Ok(out)
    }
}

/// The URI again, without the PIN: for logs and `--check`.
impl fmt::Display for Pkcs11Uri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let esc = |v: &[u8]| {
            v.iter()
                .map(|&b| {
                    if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                        (b as char).to_string()
                    } else {
                        format!("%{b:02X}")
                    }
                })
                .collect::<String>()
        };
        let mut parts = Vec::new();
        for (name, v) in [
            ("token", &self.token),
            ("manufacturer", &self.manufacturer),
            ("model", &self.model),
            ("serial", &self.serial),
        ] {
            if let Some(v) = v {
                parts.push(format!("{name}={}", esc(v.as_bytes())));
            }
        }
        if let Some(s) = self.slot_id {
            parts.push(format!("slot-id={s}"));
        }
        if let Some(o) = &self.object {
            parts.push(format!("object={}", esc(o.as_bytes())));
        }
        if let Some(id) = &self.id {
            parts.push(format!(
                "id={}",
                id.iter().map(|b| format!("%{b:02X}")).collect::<String>()
            ));
        }
        write!(f, "pkcs11:{}", parts.join(";"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_7512_examples_parse() {
        let u = Pkcs11Uri::parse(
            "pkcs11:token=The%20Software%20PKCS%2311%20Softtoken;manufacturer=Snake%20Oil,%20Inc.;\
             model=1.0;object=my-certificate;type=private;id=%69%95%3E%5C%F4%BD%EC%91\
             ?pin-source=file:/etc/token_pin",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(u.token.as_deref(), Some("The Software PKCS#11 Softtoken"));
        assert_eq!(u.manufacturer.as_deref(), Some("Snake Oil, Inc."));
        assert_eq!(
            u.id,
            Some(vec![0x69, 0x95, 0x3e, 0x5c, 0xf4, 0xbd, 0xec, 0x91])
        );
        assert_eq!(u.pin, Some(PinSource::File("/etc/token_pin".into())));
        let v = Pkcs11Uri::parse("pkcs11:object=k?pin-value=12%334&module-path=/usr/lib/p11.so")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(v.pin, Some(PinSource::Value("1234".into())));
        assert_eq!(v.module_path, Some(PathBuf::from("/usr/lib/p11.so")));
    }

    #[test]
    fn the_pin_never_shows() {
        let u = Pkcs11Uri::parse("pkcs11:token=a%20b;object=k;id=%01?pin-value=secret")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(u.to_string(), "pkcs11:token=a%20b;object=k;id=%01");
        assert!(!format!("{u:?}").contains("secret"));
        assert_eq!(
            Pkcs11Uri::parse(&u.to_string()).ok().map(|p| p.token),
            Some(u.token)
        );
    }

    #[test]
    fn bad_uris_say_what_is_wrong() {
        for (uri, says) in [
            ("pkcs11:token=t", "object= (its label) or id="),
            ("pkcs11:object=a;object=b", "object is given twice"),
            ("pkcs11:object=a;type=cert", "type=private"),
            ("pkcs11:object=a%2", "two hex digits"),
            ("pkcs11:object=a;colour=red", "\"colour\" is not supported"),
            ("pkcs11:object=a?pin-value=1&pin-source=file:/p", "not both"),
            ("pkcs11:object=a?pin-source=https://x/pin", "only file:PATH"),
            ("pkcs11:slot-id=x;object=a", "decimal slot number"),
            ("pkcs11:object", "is not NAME=VALUE"),
            ("/etc/key.pem", "starts with pkcs11:"),
            // A multi-byte character across the scheme's length (found by the fuzzer).
            ("pkcs1é:object=a", "starts with pkcs11:"),
        ] {
            let e = Pkcs11Uri::parse(uri).err().unwrap_or_default();
            assert!(e.contains(says), "{uri}: {e}");
        }
    }
}
