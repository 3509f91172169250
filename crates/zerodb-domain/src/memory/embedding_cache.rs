//! Caching embeddings of repeated texts: the `EmbeddingCache` port and `CachedEmbedder`, an
//! `EmbeddingProvider` that asks the cache first and the real provider only for misses.

use super::{EmbeddingError, EmbeddingProvider};
use crate::error::Cause;
use async_trait::async_trait;
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// A text's cache key: SHA-256 over the model, the dimension and the text, in hex, so a
/// different model or dimension never serves a stale vector.
pub fn embedding_key(model: &str, dimension: usize, text: &str) -> String {
    let digest = Sha256::new()
        .chain_update(model.as_bytes())
        .chain_update([0])
        .chain_update(dimension.to_le_bytes())
        .chain_update(text.as_bytes())
        .finalize();
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Stored vectors by key. A cache may lose entries at any time and may fail: it is never
/// the only copy of anything, so failures read as misses.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait EmbeddingCache: Send + Sync + 'static {
    /// One answer per key, in order.
    async fn get_many(&self, keys: &[String]) -> Vec<Option<Vec<f32>>>;
    async fn put_many(&self, entries: Vec<(String, Vec<f32>)>);
}

pub struct CachedEmbedder {
    inner: Arc<dyn EmbeddingProvider>,
    cache: Arc<dyn EmbeddingCache>,
}

impl CachedEmbedder {
    pub fn new(inner: Arc<dyn EmbeddingProvider>, cache: Arc<dyn EmbeddingCache>) -> Self {
        Self { inner, cache }
    }
}

#[async_trait]
impl EmbeddingProvider for CachedEmbedder {
    async fn embed(&self, texts: Vec<String>) -> Result<Vec<Vec<f32>>, EmbeddingError> {
        let (model, dimension) = (self.inner.model(), self.inner.dimension());
        let keys: Vec<String> = texts.iter().map(|t| embedding_key(&model, dimension, t)).collect();
        let mut found = self.cache.get_many(&keys).await;
        found.resize(texts.len(), None);
        // A cached vector of the wrong length (a corrupted entry) is a miss.
        let missing: Vec<usize> = (0..texts.len())
            .filter(|&i| found[i].as_ref().is_none_or(|v| v.len() != dimension))
            .collect();
        if !missing.is_empty() {
            let computed =
                self.inner.embed(missing.iter().map(|&i| texts[i].clone()).collect()).await?;
            if computed.len() != missing.len() {
                return Err(EmbeddingError::Unavailable(Cause::msg(format!(
                    "the provider answered {} embeddings for {} texts",
                    computed.len(),
                    missing.len()
                ))));
            }
            let mut fresh = Vec::with_capacity(missing.len());
            for (&i, vector) in missing.iter().zip(computed) {
                fresh.push((keys[i].clone(), vector.clone()));
                found[i] = Some(vector);
            }
            self.cache.put_many(fresh).await;
        }
        Ok(found.into_iter().map(Option::unwrap_or_default).collect())
    }

    fn model(&self) -> String {
        self.inner.model()
    }

    fn dimension(&self) -> usize {
        self.inner.dimension()
    }

    fn truncates(&self, text: &str) -> bool {
        self.inner.truncates(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::MockEmbeddingProvider;

    #[tokio::test]
    async fn only_misses_reach_the_provider_and_answers_keep_order() {
        let mut provider = MockEmbeddingProvider::new();
        provider.expect_model().return_const("m".to_owned());
        provider.expect_dimension().return_const(2usize);
        provider
            .expect_embed()
            .withf(|texts| texts == &vec!["b".to_owned()])
            .once()
            .returning(|_| Ok(vec![vec![2.0, 2.0]]));
        let mut cache = MockEmbeddingCache::new();
        let key_a = embedding_key("m", 2, "a");
        let key_b = embedding_key("m", 2, "b");
        let hit = key_a.clone();
        cache.expect_get_many().returning(move |keys| {
            keys.iter().map(|k| (k == &hit).then(|| vec![1.0, 1.0])).collect()
        });
        cache
            .expect_put_many()
            .withf(move |entries| entries == &vec![(key_b.clone(), vec![2.0, 2.0])])
            .once()
            .return_const(());
        let embedder = CachedEmbedder::new(Arc::new(provider), Arc::new(cache));
        let vectors = embedder.embed(vec!["a".into(), "b".into(), "a".into()]).await.unwrap();
        assert_eq!(vectors, vec![vec![1.0, 1.0], vec![2.0, 2.0], vec![1.0, 1.0]]);
        assert_ne!(key_a, embedding_key("other-model", 2, "a"));
        assert_ne!(key_a, embedding_key("m", 3, "a"));
    }

    #[tokio::test]
    async fn a_failing_cache_still_embeds() {
        let mut provider = MockEmbeddingProvider::new();
        provider.expect_model().return_const("m".to_owned());
        provider.expect_dimension().return_const(1usize);
        provider.expect_embed().returning(|texts| Ok(texts.iter().map(|_| vec![0.5]).collect()));
        let mut cache = MockEmbeddingCache::new();
        // An unreachable cache answers nothing: every text is a miss.
        cache.expect_get_many().returning(|_| Vec::new());
        cache.expect_put_many().return_const(());
        let embedder = CachedEmbedder::new(Arc::new(provider), Arc::new(cache));
        assert_eq!(embedder.embed(vec!["x".into(), "y".into()]).await.unwrap(), vec![vec![0.5]; 2]);
    }
}
