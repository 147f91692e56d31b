//! Compact JSON for the HTML dashboard's embedded data. A fleet repeats itself: the same TLS
//! configuration, SSH lists and findings on thousands of endpoints, and the same field names in
//! every object. So every object is written as an array, its shape (the index of its key list,
//! as a negative number -1 - index) and then its values; and a value met a second time is stored
//! once as a part, written `{"$": n}` from then on (its first occurrence stays inline). The
//! page's script undoes both. Values are packed as endpoints arrive and only their text is kept,
//! so memory grows with the packed page, not with the reports.
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};

/// Packs values, remembering what it has seen.
#[derive(Default)]
pub struct Compactor {
    /// A 128-bit digest of each packed text seen → its part, once it has one.
    seen: HashMap<u128, Option<usize>>,
    parts: Vec<String>,
    shape_index: HashMap<Vec<String>, usize>,
    shapes: Vec<Vec<String>>,
}

impl Compactor {
    /// Texts shorter than this are never parts: a reference would save little.
    const SHORTEST: usize = 24;

    /// The value packed, innermost values first.
    pub fn pack(&mut self, value: &Value) -> Value {
        self.packed(value).0
    }

    /// The packed value, a digest of its text and that text's length. Digests are made from
    /// the children's, so no text is written until a part needs it.
    fn packed(&mut self, value: &Value) -> (Value, u128, usize) {
        let (packed, mut hasher, len) = match value {
            Value::Array(items) => {
                let mut h = Digest::new(b'[');
                let (mut out, mut len) = (Vec::with_capacity(items.len()), 2);
                for v in items {
                    let (p, d, l) = self.packed(v);
                    h.add(d);
                    out.push(p);
                    len += l + 1;
                }
                (Value::Array(out), h, len)
            }
            Value::Object(fields) => {
                let keys: Vec<String> = fields.keys().cloned().collect();
                let shape = -1 - self.shape(keys) as i64;
                let mut h = Digest::new(b'{');
                h.add(shape as u128);
                let (mut out, mut len) = (Vec::with_capacity(fields.len() + 1), 8);
                out.push(json!(shape));
                for v in fields.values() {
                    let (p, d, l) = self.packed(v);
                    h.add(d);
                    out.push(p);
                    len += l + 1;
                }
                (Value::Array(out), h, len)
            }
            scalar => {
                let text = scalar.to_string();
                let mut h = Digest::new(b's');
                h.text(&text);
                let len = text.len();
                return (scalar.clone(), h.finish(), len);
            }
        };
        hasher.add(len as u128);
        let digest = hasher.finish();
        if len < Self::SHORTEST {
            return (packed, digest, len);
        }
        let part = match self.seen.get_mut(&digest) {
            None => {
                self.seen.insert(digest, None);
                return (packed, digest, len);
            }
            Some(Some(n)) => *n,
            Some(slot @ None) => {
                self.parts.push(packed.to_string());
                *slot = Some(self.parts.len() - 1);
                self.parts.len() - 1
            }
        };
        // A reference is a value of its own: its digest is the part's.
        (json!({ "$": part }), digest, 8)
    }

    fn shape(&mut self, keys: Vec<String>) -> usize {
        if let Some(&n) = self.shape_index.get(&keys) {
            return n;
        }
        self.shapes.push(keys.clone());
        self.shape_index.insert(keys, self.shapes.len() - 1);
        self.shapes.len() - 1
    }

    /// The parts' texts, in their numbering.
    pub fn parts(&self) -> &[String] {
        &self.parts
    }

    /// The key list of every shape.
    pub fn shapes(&self) -> &[Vec<String>] {
        &self.shapes
    }
}

/// Two independent 64-bit SipHash states: distinct values of one page never share a digest.
struct Digest(DefaultHasher, DefaultHasher);

impl Digest {
    fn new(kind: u8) -> Self {
        let (mut a, mut b) = (DefaultHasher::new(), DefaultHasher::new());
        (1u8, kind).hash(&mut a);
        (2u8, kind).hash(&mut b);
        Self(a, b)
    }

    fn add(&mut self, digest: u128) {
        digest.hash(&mut self.0);
        digest.hash(&mut self.1);
    }

    fn text(&mut self, text: &str) {
        text.hash(&mut self.0);
        text.hash(&mut self.1);
    }

    fn finish(&self) -> u128 {
        (u128::from(self.0.finish()) << 64) | u128::from(self.1.finish())
    }
}

/// A packed value made whole again (what the page's script does), for tests.
pub fn unpack(value: &Value, parts: &[Value], shapes: &[Vec<String>]) -> Value {
    match value {
        Value::Object(o) => match o.get("$").and_then(Value::as_u64) {
            Some(n) => unpack(&parts[n as usize], parts, shapes),
            None => value.clone(),
        },
        Value::Array(items) => match items.first().and_then(Value::as_i64) {
            Some(s) if s < 0 => {
                let keys = &shapes[(-1 - s) as usize];
                let fields: Map<String, Value> = keys
                    .iter()
                    .zip(&items[1..])
                    .map(|(k, v)| (k.clone(), unpack(v, parts, shapes)))
                    .collect();
                Value::Object(fields)
            }
            _ => Value::Array(items.iter().map(|v| unpack(v, parts, shapes)).collect()),
        },
        scalar => scalar.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_values_unpack_to_themselves_with_repeats_stored_once() {
        let shared =
            json!({"groups": ["secp256r1", "secp384r1"], "versions": ["tls1.2", "tls1.3"]});
        let endpoints: Vec<Value> = (0..3)
            .map(|n| json!({"tls": shared, "sha256": format!("{n:064}"), "bits": [2048, 3072]}))
            .collect();
        let mut c = Compactor::default();
        let packed: Vec<Value> = endpoints.iter().map(|e| c.pack(e)).collect();
        let parts: Vec<Value> = c
            .parts()
            .iter()
            .map(|t| serde_json::from_str(t).unwrap_or_default())
            .collect();
        for (p, e) in packed.iter().zip(&endpoints) {
            assert_eq!(&unpack(p, &parts, c.shapes()), e);
        }
        // The shared TLS object became one part at its second sight; the groups inside it
        // did too, before it.
        assert_eq!(parts.len(), 2, "{parts:?}");
        assert!(
            !packed[0].to_string().contains("\"$\""),
            "first sight is inline"
        );
        assert!(packed[1].to_string().contains("\"$\""));
        assert!(
            !packed[0].to_string().contains("sha256"),
            "keys are in the shapes"
        );
    }
}
