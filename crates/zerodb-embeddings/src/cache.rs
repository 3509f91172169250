//! `InProcessEmbeddingCache`: the default `EmbeddingCache`, a bounded in-memory cache
//! (`quick_cache`, CLOCK-Pro eviction) private to this process.

use async_trait::async_trait;
use quick_cache::sync::Cache;
use std::sync::Arc;
use zerodb_domain::memory::EmbeddingCache;

pub struct InProcessEmbeddingCache {
    entries: Cache<String, Arc<Vec<f32>>>,
}

impl InProcessEmbeddingCache {
    /// Holds up to `capacity` vectors.
    pub fn new(capacity: usize) -> Self {
        Self { entries: Cache::new(capacity.max(1)) }
    }
}

#[async_trait]
impl EmbeddingCache for InProcessEmbeddingCache {
    async fn get_many(&self, keys: &[String]) -> Vec<Option<Vec<f32>>> {
        keys.iter().map(|k| self.entries.get(k).map(|v| v.as_ref().clone())).collect()
    }

    async fn put_many(&self, entries: Vec<(String, Vec<f32>)>) {
        for (key, vector) in entries {
            self.entries.insert(key, Arc::new(vector));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn stores_and_bounds() {
        let cache = InProcessEmbeddingCache::new(10);
        cache.put_many(vec![("a".into(), vec![1.0]), ("b".into(), vec![2.0])]).await;
        assert_eq!(
            cache.get_many(&["b".into(), "x".into(), "a".into()]).await,
            vec![Some(vec![2.0]), None, Some(vec![1.0])]
        );
        cache.put_many((0..100).map(|i| (format!("k{i}"), vec![i as f32])).collect()).await;
        let held = cache
            .get_many(&(0..100).map(|i| format!("k{i}")).collect::<Vec<_>>())
            .await
            .into_iter()
            .flatten()
            .count();
        assert!(held <= 10, "{held} entries held by a cache of 10");
    }
}
