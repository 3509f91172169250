//! List pagination: a bounded `limit` and an opaque cursor.
//!
//! Cursors are base64url text so clients treat them as opaque; inside they carry either a
//! keyset position (`created_at`, id) for lists in creation order, or a sequence number.

use crate::error::ServiceError;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 1000;

/// A validated page size, 1..=1000.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit(u32);

impl Limit {
    pub fn new(value: Option<u32>) -> Result<Self, ServiceError> {
        match value.unwrap_or(DEFAULT_LIMIT) {
            v @ 1..=MAX_LIMIT => Ok(Self(v)),
            _ => Err(ServiceError::invalid("limit", format!("must be between 1 and {MAX_LIMIT}"))),
        }
    }
    pub fn get(self) -> u32 {
        self.0
    }
}

impl Default for Limit {
    fn default() -> Self {
        Self(DEFAULT_LIMIT)
    }
}

/// A decoded position in a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "k")]
pub enum Position {
    /// After the item created at `t` with id `id`, in (created_at, id) order.
    #[serde(rename = "t")]
    Keyset { t: DateTime<Utc>, id: Uuid },
    /// After the item with this sequence number.
    #[serde(rename = "s")]
    Sequence { s: i64 },
    /// After skipping this many items (sorted queries).
    #[serde(rename = "o")]
    Offset { o: i64 },
    /// After the item with this key, in key order.
    #[serde(rename = "f")]
    Key { f: String },
}

impl Position {
    pub fn encode(&self) -> String {
        // Serialising this plain enum cannot fail; an empty cursor would simply restart.
        let json = serde_json::to_vec(self).unwrap_or_default();
        URL_SAFE_NO_PAD.encode(json)
    }

    pub fn decode(cursor: &str) -> Result<Self, ServiceError> {
        let invalid = || ServiceError::InvalidCursor("not a cursor issued by this server".into());
        let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
        serde_json::from_slice(&bytes).map_err(|_| invalid())
    }
}

/// What a list request asks for.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PageRequest {
    pub limit: Limit,
    pub after: Option<Position>,
}

impl PageRequest {
    pub fn parse(limit: Option<u32>, cursor: Option<&str>) -> Result<Self, ServiceError> {
        let limit = Limit::new(limit)?;
        let after = match cursor {
            Some(c) if !c.is_empty() => Some(Position::decode(c)?),
            _ => None,
        };
        Ok(Self { limit, after })
    }

    /// The keyset position, or an error when the cursor belongs to another kind of list.
    pub fn keyset(&self) -> Result<Option<(DateTime<Utc>, Uuid)>, ServiceError> {
        match &self.after {
            None => Ok(None),
            Some(Position::Keyset { t, id }) => Ok(Some((*t, *id))),
            Some(_) => Err(ServiceError::InvalidCursor("it belongs to another list".into())),
        }
    }
}

impl PageRequest {
    /// The key position of a key-ordered list, or an error for another kind of cursor.
    pub fn key(&self) -> Result<Option<&str>, ServiceError> {
        match &self.after {
            None => Ok(None),
            Some(Position::Key { f }) => Ok(Some(f)),
            Some(_) => Err(ServiceError::InvalidCursor("it belongs to another list".into())),
        }
    }
}

/// One page of results.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// Builds a page from up to `limit + 1` fetched items: the extra one only tells that
    /// another page exists.
    pub fn from_overfetch(
        mut items: Vec<T>,
        limit: Limit,
        position_of: impl Fn(&T) -> Position,
    ) -> Self {
        let limit = limit.get() as usize;
        let next_cursor = if items.len() > limit {
            items.truncate(limit);
            items.last().map(|last| position_of(last).encode())
        } else {
            None
        };
        Self { items, next_cursor }
    }

    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page { items: self.items.into_iter().map(f).collect(), next_cursor: self.next_cursor }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_bounds() {
        assert_eq!(Limit::new(None).map(Limit::get), Ok(50));
        assert_eq!(Limit::new(Some(1000)).map(Limit::get), Ok(1000));
        assert!(Limit::new(Some(0)).is_err());
        assert!(Limit::new(Some(1001)).is_err());
    }

    #[test]
    fn cursor_round_trip_and_garbage() {
        let pos = Position::Sequence { s: 42 };
        assert_eq!(Position::decode(&pos.encode()), Ok(pos));
        assert!(Position::decode("not-a-cursor!").is_err());
        assert!(Position::decode("e30").is_err()); // "{}"
    }

    #[test]
    fn overfetch_sets_cursor_only_when_more_exist() {
        let page = Page::from_overfetch(vec![1, 2, 3], Limit(2), |v| Position::Sequence { s: *v });
        assert_eq!(page.items, vec![1, 2]);
        assert_eq!(page.next_cursor, Some(Position::Sequence { s: 2 }.encode()));
        let page = Page::from_overfetch(vec![1, 2], Limit(2), |v| Position::Sequence { s: *v });
        assert_eq!(page.next_cursor, None);
    }
}
