//! Posting lists from top-level string, number and boolean metadata values to index keys,
//! so an equality filter (`agent_id = X`, `bucket = 7`) visits its own matches instead of
//! every vector in the namespace.

use serde_json::Value;
use std::borrow::Borrow;
use std::collections::HashMap;

/// Longer strings are not listed (rarely filtered on by equality, and costly to keep).
pub(crate) const MAX_LISTED_VALUE: usize = 128;

/// A listed value. Numbers are keyed by their f64 value (with -0 as 0), which is how the
/// filter compares them, so `7` and `7.0` share a list.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Listed {
    Str(Box<str>),
    Num(u64),
    Bool(bool),
}

impl Listed {
    fn of(value: &Value) -> Option<Self> {
        match value {
            Value::String(v) if v.len() <= MAX_LISTED_VALUE => Some(Self::Str(v.as_str().into())),
            Value::Number(n) => {
                let f = n.as_f64()?;
                Some(Self::Num(if f == 0.0 { 0f64.to_bits() } else { f.to_bits() }))
            }
            Value::Bool(b) => Some(Self::Bool(*b)),
            _ => None,
        }
    }

    fn heap_bytes(&self) -> usize {
        match self {
            Self::Str(s) => s.len(),
            Self::Num(_) | Self::Bool(_) => 0,
        }
    }
}

/// The keys of one listed value, ascending. Most values of an id-like field are listed
/// once, so a single key is kept inline rather than in a vector of its own.
#[derive(Debug)]
enum Keys {
    One(u32),
    Many(Vec<u32>),
}

impl Keys {
    fn push(&mut self, key: u32) {
        match self {
            Self::One(first) => *self = Self::Many(vec![*first, key]),
            Self::Many(keys) => keys.push(key),
        }
    }

    fn as_slice(&self) -> &[u32] {
        match self {
            Self::One(key) => std::slice::from_ref(key),
            Self::Many(keys) => keys,
        }
    }

    fn heap_bytes(&self) -> usize {
        match self {
            Self::One(_) => 0,
            Self::Many(keys) => keys.capacity() * 4,
        }
    }
}

#[derive(Default)]
pub(crate) struct Postings {
    /// field -> value -> keys in ascending order (keys fit in 32 bits: they number the
    /// vectors ever written to one namespace).
    lists: HashMap<Box<str>, HashMap<Listed, Keys>>,
    /// Keys listed in total, and how many of them belong to removed entries. Removal is lazy
    /// (the caller re-checks every key), the lists are rebuilt when half of them are stale.
    listed: usize,
    stale: usize,
}

impl Postings {
    /// Keys must be added in ascending order.
    pub fn add<'a, V: Borrow<Value>>(
        &mut self,
        key: u64,
        fields: impl IntoIterator<Item = (&'a str, V)>,
    ) {
        let key = key as u32;
        for (field, value) in fields {
            let Some(value) = Listed::of(value.borrow()) else { continue };
            let values = match self.lists.get_mut(field) {
                Some(values) => values,
                None => self.lists.entry(field.into()).or_default(),
            };
            match values.get_mut(&value) {
                Some(keys) => keys.push(key),
                None => {
                    values.insert(value, Keys::One(key));
                }
            }
            self.listed += 1;
        }
    }

    /// Notes that the entry with these fields was removed.
    pub fn removed<'a, V: Borrow<Value>>(
        &mut self,
        fields: impl IntoIterator<Item = (&'a str, V)>,
    ) {
        self.stale += fields.into_iter().filter(|(_, v)| Listed::of(v.borrow()).is_some()).count();
    }

    pub fn needs_rebuild(&self) -> bool {
        self.stale > 4096 && self.stale * 2 > self.listed
    }

    /// The shortest list among `equalities` (each of which every match satisfies): a
    /// superset of the matching keys, ascending. `None` when none of them is listed.
    pub fn narrowest(&self, equalities: &[(&str, &Value)]) -> Option<&[u32]> {
        equalities
            .iter()
            .filter_map(|(field, value)| {
                let value = Listed::of(value)?;
                let keys = self.lists.get(*field).and_then(|v| v.get(&value));
                Some(keys.map_or(&[][..], Keys::as_slice))
            })
            .min_by_key(|keys| keys.len())
    }

    /// Approximate heap bytes.
    pub fn memory_bytes(&self) -> usize {
        let values: usize = self
            .lists
            .values()
            .flat_map(HashMap::iter)
            .map(|(v, keys)| v.heap_bytes() + 56 + keys.heap_bytes())
            .sum();
        values + self.lists.keys().map(|f| f.len() + 64).sum::<usize>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn meta(agent: &str, role: &str) -> Vec<(&'static str, Value)> {
        vec![("agent", json!(agent)), ("role", json!(role)), ("n", json!(1))]
    }

    #[test]
    fn the_narrowest_list_is_chosen_and_unknown_values_match_nothing() {
        let mut p = Postings::default();
        p.add(0, meta("a", "user"));
        p.add(1, meta("b", "user"));
        p.add(2, meta("a", "assistant"));
        let (user, b, z, x) = (json!("user"), json!("b"), json!("z"), json!("x"));
        assert_eq!(p.narrowest(&[("role", &user)]), Some(&[0, 1][..]));
        assert_eq!(p.narrowest(&[("role", &user), ("agent", &b)]), Some(&[1][..]));
        assert_eq!(p.narrowest(&[("agent", &z)]), Some(&[][..]));
        assert_eq!(p.narrowest(&[("missing", &x)]), Some(&[][..]));
        assert_eq!(p.narrowest(&[]), None);
        let long = json!("x".repeat(MAX_LISTED_VALUE + 1));
        assert_eq!(p.narrowest(&[("agent", &long)]), None);
        // Numbers are listed by value (1 and 1.0 alike), booleans too; arrays are not.
        assert_eq!(p.narrowest(&[("n", &json!(1.0))]), Some(&[0, 1, 2][..]));
        assert_eq!(p.narrowest(&[("n", &json!(2))]), Some(&[][..]));
        assert_eq!(p.narrowest(&[("flag", &json!(true))]), Some(&[][..]));
        assert_eq!(p.narrowest(&[("n", &json!([1]))]), None);
    }

    #[test]
    fn removals_are_counted_until_a_rebuild() {
        let mut p = Postings::default();
        let m = meta("a", "user");
        for key in 0..10_000 {
            p.add(key, m.clone());
        }
        for _ in 0..9_000 {
            p.removed(m.clone());
        }
        assert!(p.needs_rebuild());
        let mut rebuilt = Postings::default();
        for key in 9_000..10_000 {
            rebuilt.add(key, m.clone());
        }
        assert!(!rebuilt.needs_rebuild());
        assert_eq!(rebuilt.narrowest(&[("agent", &json!("a"))]).map(<[u32]>::len), Some(1_000));
    }
}
