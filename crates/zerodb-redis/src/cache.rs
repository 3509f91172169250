//! `RedisEmbeddingCache`: vectors as little-endian `f32` bytes under
//! `<prefix>emb:<key>`, with a time to live; `MGET` to read, one pipeline to write.

use crate::connection::RedisConnection;
use async_trait::async_trait;
use std::time::Duration;
use zerodb_domain::memory::EmbeddingCache;

pub struct RedisEmbeddingCache {
    connection: RedisConnection,
    ttl: Duration,
}

impl RedisEmbeddingCache {
    pub fn new(connection: RedisConnection, ttl: Duration) -> Self {
        Self { connection, ttl }
    }
}

fn encode(vector: &[f32]) -> Vec<u8> {
    vector.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn decode(bytes: &[u8]) -> Option<Vec<f32>> {
    if !bytes.len().is_multiple_of(4) {
        return None;
    }
    Some(bytes.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect())
}

#[async_trait]
impl EmbeddingCache for RedisEmbeddingCache {
    async fn get_many(&self, keys: &[String]) -> Vec<Option<Vec<f32>>> {
        if keys.is_empty() {
            return Vec::new();
        }
        let keys: Vec<String> = keys.iter().map(|k| self.connection.key("emb", k)).collect();
        let mut manager = self.connection.manager.clone();
        let found: Result<Vec<Option<Vec<u8>>>, _> =
            redis::cmd("MGET").arg(&keys).query_async(&mut manager).await;
        match found {
            Ok(values) => values.into_iter().map(|v| v.and_then(|b| decode(&b))).collect(),
            Err(e) => {
                tracing::warn!(error = %e, "Redis embedding cache unavailable; computing");
                vec![None; keys.len()]
            }
        }
    }

    async fn put_many(&self, entries: Vec<(String, Vec<f32>)>) {
        if entries.is_empty() {
            return;
        }
        let ttl_ms = u64::try_from(self.ttl.as_millis()).unwrap_or(u64::MAX).max(1);
        let mut pipe = redis::pipe();
        for (key, vector) in &entries {
            pipe.cmd("SET")
                .arg(self.connection.key("emb", key))
                .arg(encode(vector))
                .arg("PX")
                .arg(ttl_ms)
                .ignore();
        }
        let mut manager = self.connection.manager.clone();
        if let Err(e) = pipe.query_async::<()>(&mut manager).await {
            tracing::warn!(error = %e, "could not store embeddings in Redis");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vectors_round_trip_and_garbage_is_a_miss() {
        let v = vec![1.5, -0.25, 3.0e-8];
        assert_eq!(decode(&encode(&v)), Some(v));
        assert_eq!(decode(&[1, 2, 3]), None);
    }
}
