//! A vector's id: any UTF-8 string a client chooses ("1", "doc-42#3", a URL, a UUID).

use crate::error::ServiceError;
use std::cmp::Ordering;
use std::fmt;
use uuid::Uuid;

/// The longest id, in bytes.
pub const MAX_VECTOR_ID_BYTES: usize = 512;

/// 1..=512 bytes of UTF-8 without NUL or other control characters, compared byte for
/// byte and answered exactly as given. An id that is a UUID in its canonical lowercase
/// text form (every id the server makes, and memory's) is held as its 16 bytes: indexes
/// keep one id per vector in memory, and most ids are such UUIDs.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct VectorId(Repr);

#[derive(Clone, PartialEq, Eq, Hash)]
enum Repr {
    Uuid(Uuid),
    Text(Box<str>),
}

impl VectorId {
    /// Validates a client's id; `field` names it in the error.
    pub fn parse(raw: &str, field: &str) -> Result<Self, ServiceError> {
        Self::check(raw).map_err(|reason| ServiceError::invalid(field, reason))
    }

    /// Why `raw` is not an id, if it is not one.
    pub fn check(raw: &str) -> Result<Self, &'static str> {
        if raw.is_empty() || raw.len() > MAX_VECTOR_ID_BYTES {
            return Err("must be 1 to 512 bytes of UTF-8");
        }
        if raw.chars().any(char::is_control) {
            return Err("must not contain NUL or other control characters");
        }
        Ok(Self::from_stored(raw))
    }

    /// An id read back from storage, which only ever holds validated ids.
    pub fn from_stored(raw: &str) -> Self {
        match Uuid::try_parse(raw) {
            // Only the canonical form maps back to the same text.
            Ok(u) if u.hyphenated().to_string() == raw => Self(Repr::Uuid(u)),
            _ => Self(Repr::Text(raw.into())),
        }
    }

    pub fn from_uuid(id: Uuid) -> Self {
        Self(Repr::Uuid(id))
    }

    /// A fresh time-ordered id (UUIDv7), for a vector stored without one.
    pub fn generate() -> Self {
        Self(Repr::Uuid(Uuid::now_v7()))
    }

    /// The UUID this id is the canonical text of, if it is one.
    pub fn as_uuid(&self) -> Option<Uuid> {
        match &self.0 {
            Repr::Uuid(u) => Some(*u),
            Repr::Text(_) => None,
        }
    }

    /// Calls `f` with the id's text without allocating for the common UUID case.
    pub fn with_str<R>(&self, f: impl FnOnce(&str) -> R) -> R {
        match &self.0 {
            Repr::Uuid(u) => f(u.hyphenated().encode_lower(&mut Uuid::encode_buffer())),
            Repr::Text(t) => f(t),
        }
    }

    /// Bytes of heap this id holds (for index memory accounting).
    pub fn heap_bytes(&self) -> usize {
        match &self.0 {
            Repr::Uuid(_) => 0,
            Repr::Text(t) => t.len(),
        }
    }
}

impl fmt::Display for VectorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Repr::Uuid(u) => fmt::Display::fmt(&u.hyphenated(), f),
            Repr::Text(t) => f.write_str(t),
        }
    }
}

impl fmt::Debug for VectorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VectorId({self})")
    }
}

impl From<Uuid> for VectorId {
    fn from(id: Uuid) -> Self {
        Self::from_uuid(id)
    }
}

/// Byte order of the text, as PostgreSQL's `COLLATE "C"` lists them.
impl Ord for VectorId {
    fn cmp(&self, other: &Self) -> Ordering {
        match (&self.0, &other.0) {
            // Canonical lowercase UUID text sorts as the UUID's bytes do.
            (Repr::Uuid(a), Repr::Uuid(b)) => a.cmp(b),
            _ => self.with_str(|a| other.with_str(|b| a.as_bytes().cmp(b.as_bytes()))),
        }
    }
}

impl PartialOrd for VectorId {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl serde::Serialize for VectorId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.with_str(|t| s.serialize_str(t))
    }
}

impl<'de> serde::Deserialize<'de> for VectorId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Self::check(&raw).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_keep_their_exact_text_and_byte_order() {
        let u = Uuid::now_v7();
        let canonical = VectorId::check(&u.to_string()).unwrap();
        assert_eq!(canonical.as_uuid(), Some(u));
        let upper = VectorId::check(&u.to_string().to_uppercase()).unwrap();
        assert_eq!(upper.as_uuid(), None, "another spelling is another id");
        assert_ne!(canonical, upper);
        assert_eq!(upper.to_string(), u.to_string().to_uppercase());
        for raw in ["1", "search", "a/b?c#d%e", "naïve 🚀", &"x".repeat(512)] {
            assert_eq!(VectorId::check(raw).unwrap().to_string(), raw);
        }
        for bad in ["", "a\0b", "tab\there", &"x".repeat(513)] {
            assert!(VectorId::check(bad).is_err(), "{bad:?}");
        }
        let mut ids: Vec<VectorId> =
            ["b", "a", "B", &u.to_string(), "~"].iter().map(|s| VectorId::from_stored(s)).collect();
        ids.sort();
        let mut texts: Vec<String> = ids.iter().map(ToString::to_string).collect();
        let sorted = texts.clone();
        texts.sort();
        assert_eq!(texts, sorted);
    }
}
