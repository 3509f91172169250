//! Vector metadata packed into one byte string per vector, with field names interned per
//! namespace.
//!
//! Filters must see every vector's metadata without leaving memory, so it stays resident.
//! As `serde_json` values it cost about 370 bytes per vector for three small numeric fields
//! (a 32-byte `Value` and a key allocation per field, measured at 100,000 vectors), a
//! quarter of an int8 vector of 1,536 dimensions. Packed, the same fields take about
//! 12 bytes. A filter decodes only the fields it asks for; no library packs a JSON object
//! for lookup by key without decoding the whole of it, hence this small format:
//! per field, `varint(field id) tag payload`, where the payload is a zigzag varint (i64),
//! a varint (u64 beyond i64), 8 little-endian bytes (f64), `varint(len) bytes` (a string),
//! or `varint(len) JSON text` (arrays and objects).

use serde_json::{Map, Number, Value};
use std::borrow::Cow;
use std::collections::HashMap;
use zerodb_domain::vectors::MetadataView;

const NULL: u8 = 0;
const FALSE: u8 = 1;
const TRUE: u8 = 2;
const INT: u8 = 3;
const UINT: u8 = 4;
const FLOAT: u8 = 5;
const STRING: u8 = 6;
const JSON: u8 = 7;

/// The top-level field names a namespace has seen, each with a small id. Names are never
/// forgotten; they are bounded by what the namespace's writers sent.
#[derive(Default)]
pub(crate) struct FieldNames {
    names: Vec<Box<str>>,
    ids: HashMap<Box<str>, u32>,
}

impl FieldNames {
    fn intern(&mut self, name: &str) -> u32 {
        if let Some(&id) = self.ids.get(name) {
            return id;
        }
        let id = self.names.len() as u32;
        self.names.push(name.into());
        self.ids.insert(name.into(), id);
        id
    }

    fn id(&self, name: &str) -> Option<u32> {
        self.ids.get(name).copied()
    }

    fn name(&self, id: u32) -> &str {
        self.names.get(id as usize).map_or("", |n| n)
    }

    pub fn memory_bytes(&self) -> usize {
        self.names.iter().map(|n| 2 * n.len() + 64).sum()
    }
}

/// One vector's metadata, packed.
#[derive(Default)]
pub(crate) struct Packed(Box<[u8]>);

impl Packed {
    pub fn pack(metadata: &Map<String, Value>, names: &mut FieldNames) -> Self {
        let mut out = Vec::new();
        for (name, value) in metadata {
            put_varint(&mut out, u64::from(names.intern(name)));
            put_value(&mut out, value);
        }
        Self(out.into_boxed_slice())
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Every field, decoded, in stored order.
    pub fn fields<'a>(&'a self, names: &'a FieldNames) -> impl Iterator<Item = (&'a str, Value)> {
        let mut rest = &self.0[..];
        std::iter::from_fn(move || {
            let id = take_varint(&mut rest)?;
            let value = take_value(&mut rest)?;
            Some((names.name(id as u32), value))
        })
    }

    pub fn to_map(&self, names: &FieldNames) -> Map<String, Value> {
        self.fields(names).map(|(k, v)| (k.to_owned(), v)).collect()
    }

    /// The value of one field, decoding nothing else.
    fn get(&self, field: u32) -> Option<Value> {
        let mut rest = &self.0[..];
        while !rest.is_empty() {
            let id = take_varint(&mut rest)?;
            if id == u64::from(field) {
                return take_value(&mut rest);
            }
            skip_value(&mut rest)?;
        }
        None
    }
}

/// A packed metadata seen through its namespace's field names, for filters.
pub(crate) struct View<'a> {
    pub names: &'a FieldNames,
    pub packed: &'a Packed,
}

impl MetadataView for View<'_> {
    fn top(&self, key: &str) -> Option<Cow<'_, Value>> {
        self.packed.get(self.names.id(key)?).map(Cow::Owned)
    }
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn take_varint(rest: &mut &[u8]) -> Option<u64> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let (&byte, tail) = rest.split_first()?;
        *rest = tail;
        v |= u64::from(byte & 0x7f) << shift;
        if byte < 0x80 {
            return Some(v);
        }
    }
    None
}

fn take_bytes<'a>(rest: &mut &'a [u8], len: usize) -> Option<&'a [u8]> {
    if rest.len() < len {
        return None;
    }
    let (bytes, tail) = rest.split_at(len);
    *rest = tail;
    Some(bytes)
}

fn put_value(out: &mut Vec<u8>, value: &Value) {
    match value {
        Value::Null => out.push(NULL),
        Value::Bool(false) => out.push(FALSE),
        Value::Bool(true) => out.push(TRUE),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                out.push(INT);
                put_varint(out, ((i << 1) ^ (i >> 63)) as u64);
            } else if let Some(u) = n.as_u64() {
                out.push(UINT);
                put_varint(out, u);
            } else {
                out.push(FLOAT);
                out.extend_from_slice(&n.as_f64().unwrap_or(0.0).to_le_bytes());
            }
        }
        Value::String(s) => {
            out.push(STRING);
            put_varint(out, s.len() as u64);
            out.extend_from_slice(s.as_bytes());
        }
        Value::Array(_) | Value::Object(_) => {
            let text = serde_json::to_vec(value).unwrap_or_default();
            out.push(JSON);
            put_varint(out, text.len() as u64);
            out.extend_from_slice(&text);
        }
    }
}

fn take_value(rest: &mut &[u8]) -> Option<Value> {
    let (&tag, tail) = rest.split_first()?;
    *rest = tail;
    Some(match tag {
        NULL => Value::Null,
        FALSE => Value::Bool(false),
        TRUE => Value::Bool(true),
        INT => {
            let z = take_varint(rest)?;
            Value::from(((z >> 1) as i64) ^ -((z & 1) as i64))
        }
        UINT => Value::from(take_varint(rest)?),
        FLOAT => {
            let bytes: [u8; 8] = take_bytes(rest, 8)?.try_into().ok()?;
            Number::from_f64(f64::from_le_bytes(bytes)).map_or(Value::Null, Value::Number)
        }
        STRING => {
            let len = take_varint(rest)? as usize;
            Value::String(String::from_utf8(take_bytes(rest, len)?.to_vec()).ok()?)
        }
        JSON => {
            let len = take_varint(rest)? as usize;
            serde_json::from_slice(take_bytes(rest, len)?).ok()?
        }
        _ => return None,
    })
}

fn skip_value(rest: &mut &[u8]) -> Option<()> {
    let (&tag, tail) = rest.split_first()?;
    *rest = tail;
    match tag {
        NULL | FALSE | TRUE => {}
        INT | UINT => {
            take_varint(rest)?;
        }
        FLOAT => {
            take_bytes(rest, 8)?;
        }
        STRING | JSON => {
            let len = take_varint(rest)? as usize;
            take_bytes(rest, len)?;
        }
        _ => return None,
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_kind_of_value_comes_back_as_it_went_in() {
        let metadata = json!({
            "i": 12345, "neg": -7, "min": i64::MIN, "big": u64::MAX, "f": 1.5, "tiny": 1e-300,
            "s": "agent-ü", "empty": "", "t": true, "n": null, "arr": [1, "x", {"y": 2}],
            "obj": {"a": [true]}
        });
        let metadata = metadata.as_object().cloned().unwrap_or_default();
        let mut names = FieldNames::default();
        let packed = Packed::pack(&metadata, &mut names);
        assert_eq!(packed.to_map(&names), metadata);
        let view = View { names: &names, packed: &packed };
        for (key, value) in &metadata {
            assert_eq!(view.top(key).as_deref(), Some(value), "{key}");
        }
        assert_eq!(view.top("missing"), None);
        // Three small numbers take a dozen bytes.
        let small = json!({"i": 99_999, "bucket": 99, "decile": 9});
        let small = Packed::pack(small.as_object().unwrap_or(&Map::new()), &mut names);
        assert!(small.len() <= 12, "{}", small.len());
    }

    #[test]
    fn names_are_shared_between_vectors() {
        let mut names = FieldNames::default();
        let a = Packed::pack(json!({"k": 1}).as_object().unwrap_or(&Map::new()), &mut names);
        let b =
            Packed::pack(json!({"k": "v", "j": 2}).as_object().unwrap_or(&Map::new()), &mut names);
        assert_eq!(names.names.len(), 2);
        assert_eq!(View { names: &names, packed: &a }.top("k").as_deref(), Some(&json!(1)));
        assert_eq!(View { names: &names, packed: &b }.top("k").as_deref(), Some(&json!("v")));
        assert_eq!(View { names: &names, packed: &a }.top("j"), None);
    }
}
