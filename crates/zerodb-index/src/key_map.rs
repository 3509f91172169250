//! Vector id → index key. Each slot holds the 4-byte key alone and the id is read back
//! from the entry it names, so the map costs about 5 bytes per vector instead of a map that
//! stores a second copy of every id beside an 8-byte key.

use crate::namespace::Entry;
use hashbrown::HashTable;
use std::hash::{BuildHasher, RandomState};
use zerodb_domain::vectors::VectorId;

#[derive(Default)]
pub(crate) struct KeyMap {
    table: HashTable<u32>,
    hasher: RandomState,
}

fn id_at(entries: &[Option<Entry>], key: u32) -> Option<&VectorId> {
    Some(&entries.get(key as usize)?.as_ref()?.id)
}

impl KeyMap {
    pub fn len(&self) -> usize {
        self.table.len()
    }

    pub fn capacity(&self) -> usize {
        self.table.capacity()
    }

    pub fn get(&self, id: &VectorId, entries: &[Option<Entry>]) -> Option<u64> {
        let hash = self.hasher.hash_one(id);
        self.table.find(hash, |&k| id_at(entries, k) == Some(id)).map(|&k| u64::from(k))
    }

    /// Maps the id of `entries[key]` (which must be live) to `key`; answers false when the
    /// id was mapped already.
    pub fn insert(&mut self, key: u64, entries: &[Option<Entry>]) -> bool {
        let Some(id) = id_at(entries, key as u32) else { return false };
        if self.get(id, entries).is_some() {
            return false;
        }
        let hasher = &self.hasher;
        let rehash = |&k: &u32| id_at(entries, k).map_or(0, |id| hasher.hash_one(id));
        self.table.insert_unique(hasher.hash_one(id), key as u32, rehash);
        true
    }

    /// Forgets `id`; call while its entry is still in `entries`.
    pub fn remove(&mut self, id: &VectorId, entries: &[Option<Entry>]) {
        let hash = self.hasher.hash_one(id);
        if let Ok(slot) = self.table.find_entry(hash, |&k| id_at(entries, k) == Some(id)) {
            slot.remove();
        }
    }
}
