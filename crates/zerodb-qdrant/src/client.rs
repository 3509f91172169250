//! A thin client for the part of Qdrant's REST API ZeroDB uses.
//!
//! REST over reqwest rather than the official gRPC crate: reqwest is already in the build
//! (the OpenAI-compatible embedder uses it), while `qdrant-client` adds 27 crates (tonic,
//! prost, h2, rustls, ring, axum ...) for the same handful of calls, and measured search
//! latency was the same within noise (docs/architecture.md, "Qdrant backend").

use serde::Deserialize;
use serde_json::{Value, json};
use std::time::Duration;
use uuid::Uuid;
use zerodb_domain::Cause;
use zerodb_domain::vectors::{Metric, Quantization};

/// How ZeroDB talks to Qdrant and lays out its collections.
#[derive(Debug, Clone, PartialEq)]
pub struct QdrantSettings {
    /// The REST endpoint, e.g. `http://127.0.0.1:6333`.
    pub url: String,
    pub api_key: Option<String>,
    /// Per request.
    pub timeout: Duration,
    /// Collection names start with this.
    pub collection_prefix: String,
    pub shard_number: u32,
    pub replication_factor: u32,
    /// Keep full-precision vectors on disk (memory-mapped) rather than in RAM.
    pub on_disk: bool,
    /// Graph degree of each tenant's HNSW graph (`payload_m`).
    pub m: u32,
    pub ef_construct: u32,
    /// Candidate list size while searching (`hnsw_ef`).
    pub ef: u32,
    /// int8 collections rescore `limit * oversampling` candidates with full precision.
    pub oversampling: f32,
}

impl Default for QdrantSettings {
    fn default() -> Self {
        Self {
            url: "http://127.0.0.1:6333".into(),
            api_key: None,
            timeout: Duration::from_secs(5),
            collection_prefix: "zerodb_".into(),
            shard_number: 1,
            replication_factor: 1,
            on_disk: false,
            m: 16,
            ef_construct: 64,
            ef: 128,
            oversampling: 3.0,
        }
    }
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum QdrantError {
    /// Qdrant cannot be reached, timed out or failed on its side (5xx): try again later.
    #[error("Qdrant is unavailable")]
    Unavailable(#[source] Cause),
    /// The collection does not exist (Qdrant lost it, or it was never created).
    #[error("Qdrant collection {0} does not exist")]
    MissingCollection(String),
    /// Qdrant refused the request (4xx): retrying the same request will not help.
    #[error("Qdrant refused the request ({status}): {message}")]
    Rejected { status: u16, message: String },
    /// An answer this client cannot read.
    #[error("unexpected answer from Qdrant")]
    Protocol(#[source] Cause),
}

/// The collection that holds every namespace of one shape, over all projects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CollectionShape {
    pub dimension: u32,
    pub metric: Metric,
    pub quantization: Quantization,
}

/// One point to write.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    pub id: Uuid,
    pub vector: Vec<f32>,
    pub payload: Value,
}

/// One search answer: Qdrant's raw score (a distance for Euclid) and the payload.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ScoredPoint {
    pub id: Uuid,
    pub score: f32,
    #[serde(default)]
    pub payload: Value,
}

pub struct QdrantClient {
    http: reqwest::Client,
    settings: QdrantSettings,
}

#[derive(Deserialize)]
struct Envelope<T> {
    result: T,
}

#[derive(Deserialize)]
struct QueryResult {
    points: Vec<ScoredPoint>,
}

#[derive(Deserialize)]
struct CountResult {
    count: u64,
}

#[derive(Deserialize)]
struct Collections {
    collections: Vec<CollectionName>,
}

#[derive(Deserialize)]
struct CollectionName {
    name: String,
}

impl QdrantClient {
    pub fn new(settings: QdrantSettings) -> Result<Self, QdrantError> {
        let mut headers = reqwest::header::HeaderMap::new();
        if let Some(key) = &settings.api_key {
            let mut value = reqwest::header::HeaderValue::from_str(key).map_err(|_| {
                QdrantError::Rejected { status: 0, message: "api_key is not a valid header".into() }
            })?;
            value.set_sensitive(true);
            headers.insert("api-key", value);
        }
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout.min(Duration::from_secs(2)))
            .pool_idle_timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| QdrantError::Protocol(Cause::new(e)))?;
        Ok(Self { http, settings })
    }

    pub fn settings(&self) -> &QdrantSettings {
        &self.settings
    }

    /// `zerodb_cosine_384_f32`: one collection per shape.
    pub fn collection_name(&self, shape: CollectionShape) -> String {
        let precision = match shape.quantization {
            Quantization::None => "f32",
            Quantization::Int8 => "int8",
        };
        format!(
            "{}{}_{}_{}",
            self.settings.collection_prefix,
            shape.metric.as_str(),
            shape.dimension,
            precision
        )
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.settings.url.trim_end_matches('/'))
    }

    async fn call<T: serde::de::DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
        collection: Option<&str>,
    ) -> Result<T, QdrantError> {
        let response = request.send().await.map_err(|e| QdrantError::Unavailable(Cause::new(e)))?;
        let status = response.status();
        let body = response.bytes().await.map_err(|e| QdrantError::Unavailable(Cause::new(e)))?;
        if status.is_success() {
            let envelope: Envelope<T> =
                serde_json::from_slice(&body).map_err(|e| QdrantError::Protocol(Cause::new(e)))?;
            return Ok(envelope.result);
        }
        let message = serde_json::from_slice::<Value>(&body)
            .ok()
            .and_then(|v| v["status"]["error"].as_str().map(str::to_owned))
            .unwrap_or_else(|| String::from_utf8_lossy(&body).chars().take(300).collect());
        match (status.as_u16(), collection) {
            (404, Some(name)) => Err(QdrantError::MissingCollection(name.to_owned())),
            (code, _) if status.is_server_error() || code == 429 => {
                Err(QdrantError::Unavailable(Cause::msg(format!("{code}: {message}"))))
            }
            (code, _) => Err(QdrantError::Rejected { status: code, message }),
        }
    }

    /// Creates the collection of this shape with its tenant indexes, unless it exists.
    pub async fn ensure_collection(&self, shape: CollectionShape) -> Result<String, QdrantError> {
        let name = self.collection_name(shape);
        let s = &self.settings;
        let distance = match shape.metric {
            Metric::Cosine => "Cosine",
            Metric::Dot => "Dot",
            Metric::Euclidean => "Euclid",
        };
        // Multitenancy as Qdrant advises it: no global graph (m 0), one graph per tenant
        // (payload_m) built along the `is_tenant` index of project_id. Every search filters
        // on the project, so a global graph would only cost memory and build time.
        let mut body = json!({
            "vectors": {"size": shape.dimension, "distance": distance, "on_disk": s.on_disk},
            "hnsw_config": {"m": 0, "payload_m": s.m, "ef_construct": s.ef_construct},
            "shard_number": s.shard_number,
            "replication_factor": s.replication_factor,
        });
        if shape.quantization == Quantization::Int8 {
            body["quantization_config"] = json!({"scalar": {"type": "int8", "always_ram": true}});
        }
        let created: Result<Value, QdrantError> = self
            .call(self.http.put(self.url(&format!("/collections/{name}"))).json(&body), None)
            .await;
        match created {
            Ok(_) => {}
            // Another process created it first.
            Err(QdrantError::Rejected { status: 400 | 409, message })
                if message.contains("already exists") => {}
            Err(e) => return Err(e),
        }
        for (field, schema) in [
            ("project_id", json!({"type": "keyword", "is_tenant": true})),
            ("namespace", json!({"type": "keyword"})),
        ] {
            let index = json!({"field_name": field, "field_schema": schema});
            let _: Value = self
                .call(
                    self.http
                        .put(self.url(&format!("/collections/{name}/index?wait=true")))
                        .json(&index),
                    Some(&name),
                )
                .await?;
        }
        Ok(name)
    }

    /// Every collection whose name starts with the configured prefix.
    pub async fn collections(&self) -> Result<Vec<String>, QdrantError> {
        let all: Collections = self.call(self.http.get(self.url("/collections")), None).await?;
        Ok(all
            .collections
            .into_iter()
            .map(|c| c.name)
            .filter(|n| n.starts_with(&self.settings.collection_prefix))
            .collect())
    }

    pub async fn drop_collection(&self, name: &str) -> Result<(), QdrantError> {
        let _: Value =
            self.call(self.http.delete(self.url(&format!("/collections/{name}"))), None).await?;
        Ok(())
    }

    /// Writes the points and returns once they are applied (`wait=true`).
    pub async fn upsert(&self, collection: &str, points: &[Point]) -> Result<(), QdrantError> {
        if points.is_empty() {
            return Ok(());
        }
        let points: Vec<Value> = points
            .iter()
            .map(|p| json!({"id": p.id, "vector": p.vector, "payload": p.payload}))
            .collect();
        let url = self.url(&format!("/collections/{collection}/points?wait=true"));
        let _: Value = self
            .call(self.http.put(url).json(&json!({"points": points})), Some(collection))
            .await?;
        Ok(())
    }

    /// Deletes points by id, or every point matching `filter`; returns once applied.
    pub async fn delete(&self, collection: &str, selector: Value) -> Result<(), QdrantError> {
        let url = self.url(&format!("/collections/{collection}/points/delete?wait=true"));
        let _: Value = self.call(self.http.post(url).json(&selector), Some(collection)).await?;
        Ok(())
    }

    /// The `limit` best points matching `filter`.
    pub async fn query(
        &self,
        collection: &str,
        vector: &[f32],
        limit: usize,
        filter: Value,
        rescore: bool,
    ) -> Result<Vec<ScoredPoint>, QdrantError> {
        let mut params = json!({"hnsw_ef": self.settings.ef.max(limit as u32)});
        if rescore {
            params["quantization"] =
                json!({"rescore": true, "oversampling": self.settings.oversampling});
        }
        let body = json!({
            "query": vector, "limit": limit, "filter": filter, "params": params,
            "with_payload": true, "with_vector": false,
        });
        let url = self.url(&format!("/collections/{collection}/points/query"));
        let found: QueryResult =
            self.call(self.http.post(url).json(&body), Some(collection)).await?;
        Ok(found.points)
    }

    /// How many points match `filter`, exactly.
    pub async fn count(&self, collection: &str, filter: Value) -> Result<u64, QdrantError> {
        let url = self.url(&format!("/collections/{collection}/points/count"));
        let body = json!({"filter": filter, "exact": true});
        let counted: CountResult =
            self.call(self.http.post(url).json(&body), Some(collection)).await?;
        Ok(counted.count)
    }
}
