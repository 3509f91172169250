//! How each system measured side by side is set up and spoken to: ZeroDB's, Qdrant's and
//! Chroma's REST APIs, each with a collection of the same vectors and cosine similarity.

use crate::kit::BenchError;
use crate::kit::http::JsonConnection;
use hyper::header::{AUTHORIZATION, HeaderName, HeaderValue};
use hyper::{Method, StatusCode};
use serde_json::{Value, json};
use std::net::SocketAddr;
use uuid::Uuid;
use zerodb_client::{Client, NewNamespace};

const COLLECTION: &str = "bench";
const CHROMA_COLLECTIONS: &str =
    "/api/v2/tenants/default_tenant/databases/default_database/collections";

/// The HNSW settings every system is given (ZeroDB's come from its server settings).
#[derive(Debug, Clone, Copy)]
pub struct Hnsw {
    pub m: u32,
    pub ef_construct: u32,
    pub ef: u32,
}

enum Api {
    /// With `engine`, a ZeroDB whose vectors live in this Qdrant collection.
    ZeroDb {
        project: Uuid,
        engine: Option<(SocketAddr, String)>,
    },
    Qdrant {
        ef: u32,
    },
    Chroma {
        collection: String,
    },
}

/// One system, ready to take vectors and queries.
pub struct Target {
    pub name: &'static str,
    /// What it was configured with, for the table.
    pub config: String,
    pub addr: SocketAddr,
    pub headers: Vec<(HeaderName, HeaderValue)>,
    api: Api,
}

fn setup(e: impl std::fmt::Display) -> BenchError {
    BenchError::Setup(e.to_string())
}

fn socket(url: &str) -> Result<SocketAddr, BenchError> {
    let parsed = reqwest::Url::parse(url).map_err(setup)?;
    parsed
        .socket_addrs(|| Some(80))
        .map_err(setup)?
        .into_iter()
        .next()
        .ok_or_else(|| setup(format!("cannot resolve {url}")))
}

async fn call(
    addr: SocketAddr,
    headers: Vec<(HeaderName, HeaderValue)>,
    method: Method,
    path: &str,
    body: Value,
) -> Result<(StatusCode, Value), BenchError> {
    let mut connection = JsonConnection::open(addr, headers).await.map_err(setup)?;
    let body =
        if body.is_null() { Vec::new() } else { serde_json::to_vec(&body).map_err(setup)? };
    let (status, bytes) = connection.send(method, path, body).await.map_err(setup)?;
    Ok((status, serde_json::from_slice(&bytes).unwrap_or(Value::Null)))
}

fn expect_success(what: &str, (status, body): (StatusCode, Value)) -> Result<Value, BenchError> {
    if status.is_success() { Ok(body) } else { Err(setup(format!("{what}: {status} {body}"))) }
}

/// A fresh user, project and namespace on a running ZeroDB; `qdrant` is the Qdrant behind
/// it when its `vectors.backend` is `qdrant`.
pub async fn zerodb(
    url: &str,
    dimension: usize,
    qdrant: Option<&str>,
) -> Result<Target, BenchError> {
    let anonymous = Client::new(url);
    let email = format!("compare-{}@example.com", Uuid::new_v4().simple());
    anonymous.register(&email, "bench password").await?;
    let token = anonymous.login(&email, "bench password").await?.access_token;
    let client = anonymous.with_token(&token);
    let project =
        client.create_project(&format!("compare-{}", Uuid::new_v4().simple()), None).await?;
    client.enable_database(project.project_id).await?;
    let namespace = NewNamespace {
        namespace: COLLECTION.into(),
        metric: Some("cosine".into()),
        quantization: Some("none".into()),
        dimension: Some(dimension as u32),
        embedding_model: None,
    };
    client.create_namespace(project.project_id, &namespace).await?;
    let bearer = HeaderValue::from_str(&format!("Bearer {token}")).map_err(setup)?;
    let (name, config, engine) = match qdrant {
        None => {
            ("ZeroDB", "built-in HNSW m 16, ef_construct 64, ef 128 (server defaults), f32", None)
        }
        Some(q) => (
            "ZeroDB+Qdrant",
            "vectors.backend = qdrant: payload_m 16, ef_construct 64, ef 128 (defaults), f32",
            Some((socket(q)?, format!("zerodb_cosine_{dimension}_f32"))),
        ),
    };
    Ok(Target {
        name,
        config: config.into(),
        addr: socket(url)?,
        headers: vec![(AUTHORIZATION, bearer)],
        api: Api::ZeroDb { project: project.project_id, engine },
    })
}

/// A fresh collection on a running Qdrant (an earlier one of the same name is dropped).
pub async fn qdrant(url: &str, dimension: usize, hnsw: Hnsw) -> Result<Target, BenchError> {
    let addr = socket(url)?;
    let path = format!("/collections/{COLLECTION}");
    call(addr, vec![], Method::DELETE, &path, Value::Null).await?;
    let create = json!({
        "vectors": {"size": dimension, "distance": "Cosine"},
        "hnsw_config": {"m": hnsw.m, "ef_construct": hnsw.ef_construct},
    });
    expect_success(
        "creating the Qdrant collection",
        call(addr, vec![], Method::PUT, &path, create).await?,
    )?;
    Ok(Target {
        name: "Qdrant",
        config: format!(
            "HNSW m {}, ef_construct {}, ef {}, f32",
            hnsw.m, hnsw.ef_construct, hnsw.ef
        ),
        addr,
        headers: vec![],
        api: Api::Qdrant { ef: hnsw.ef },
    })
}

/// A fresh collection on a running Chroma (an earlier one of the same name is dropped).
pub async fn chroma(url: &str, hnsw: Hnsw) -> Result<Target, BenchError> {
    let addr = socket(url)?;
    call(addr, vec![], Method::DELETE, &format!("{CHROMA_COLLECTIONS}/{COLLECTION}"), Value::Null)
        .await?;
    let create = json!({
        "name": COLLECTION,
        "configuration": {"hnsw": {
            "space": "cosine",
            "max_neighbors": hnsw.m,
            "ef_construction": hnsw.ef_construct,
            "ef_search": hnsw.ef,
        }},
    });
    let created = expect_success(
        "creating the Chroma collection",
        call(addr, vec![], Method::POST, CHROMA_COLLECTIONS, create).await?,
    )?;
    let collection = created["id"]
        .as_str()
        .ok_or_else(|| setup(format!("Chroma answered no collection id: {created}")))?
        .to_owned();
    Ok(Target {
        name: "Chroma",
        config: format!(
            "HNSW max_neighbors {}, ef_construction {}, ef_search {}",
            hnsw.m, hnsw.ef_construct, hnsw.ef
        ),
        addr,
        headers: vec![],
        api: Api::Chroma { collection },
    })
}

impl Target {
    /// A durable insert of `vectors` under `ids`: (method, path, body).
    pub fn upsert(&self, ids: &[Uuid], vectors: &[Vec<f32>]) -> (Method, String, Vec<u8>) {
        let (method, path, body) = match &self.api {
            Api::ZeroDb { project, .. } => (
                Method::POST,
                format!("/api/v1/projects/{project}/database/vectors/upsert-batch"),
                json!({"vectors": ids.iter().zip(vectors).map(|(id, v)| json!({
                    "vector_id": id, "namespace": COLLECTION, "vector_embedding": v,
                })).collect::<Vec<_>>()}),
            ),
            Api::Qdrant { .. } => (
                Method::PUT,
                format!("/collections/{COLLECTION}/points?wait=true"),
                json!({"points": ids.iter().zip(vectors).map(|(id, v)| json!({"id": id, "vector": v}))
                    .collect::<Vec<_>>()}),
            ),
            Api::Chroma { collection } => (
                Method::POST,
                format!("{CHROMA_COLLECTIONS}/{collection}/add"),
                json!({"ids": ids, "embeddings": vectors}),
            ),
        };
        (method, path, serde_json::to_vec(&body).unwrap_or_default())
    }

    /// The `k` nearest neighbours of `query`: (method, path, body).
    pub fn search(&self, query: &[f32], k: usize) -> (Method, String, Vec<u8>) {
        let (path, body) = match &self.api {
            Api::ZeroDb { project, .. } => (
                format!("/api/v1/projects/{project}/database/vectors/search"),
                json!({"query_vector": query, "namespace": COLLECTION, "limit": k}),
            ),
            Api::Qdrant { ef } => (
                format!("/collections/{COLLECTION}/points/query"),
                json!({"query": query, "limit": k, "params": {"hnsw_ef": ef}}),
            ),
            Api::Chroma { collection } => (
                format!("{CHROMA_COLLECTIONS}/{collection}/query"),
                json!({"query_embeddings": [query], "n_results": k, "include": ["distances"]}),
            ),
        };
        (Method::POST, path, serde_json::to_vec(&body).unwrap_or_default())
    }

    /// The ids a search answered, best first.
    pub fn hits(&self, body: &[u8]) -> Result<Vec<Uuid>, String> {
        let value: Value = serde_json::from_slice(body).map_err(|e| e.to_string())?;
        let ids: Vec<&Value> = match &self.api {
            Api::ZeroDb { .. } => value["results"]
                .as_array()
                .map(|r| r.iter().map(|h| &h["vector_id"]).collect())
                .unwrap_or_default(),
            Api::Qdrant { .. } => value["result"]["points"]
                .as_array()
                .map(|r| r.iter().map(|h| &h["id"]).collect())
                .unwrap_or_default(),
            Api::Chroma { .. } => {
                value["ids"][0].as_array().map(|r| r.iter().collect()).unwrap_or_default()
            }
        };
        ids.into_iter()
            .map(|id| {
                id.as_str().and_then(|s| s.parse().ok()).ok_or_else(|| format!("bad id {id}"))
            })
            .collect()
    }

    /// Waits until what was inserted is in the graph, and answers how long that took.
    /// Qdrant optimises in the background, and ZeroDB's graph builder (or its relay to
    /// Qdrant) follows its writes (both search the rest exactly until then); Chroma indexes
    /// before it answers.
    pub async fn settle(&self) -> Result<std::time::Duration, BenchError> {
        let started = std::time::Instant::now();
        loop {
            let settled = match &self.api {
                Api::Chroma { .. } => return Ok(started.elapsed()),
                Api::Qdrant { .. } => {
                    let path = format!("/collections/{COLLECTION}");
                    let (_, info) =
                        call(self.addr, vec![], Method::GET, &path, Value::Null).await?;
                    info["result"]["status"] == "green"
                }
                Api::ZeroDb { project, engine } => {
                    let path = format!("/api/v1/projects/{project}/database/vector-namespaces");
                    let (_, info) =
                        call(self.addr, self.headers.clone(), Method::GET, &path, Value::Null)
                            .await?;
                    let applied = info.as_array().is_some_and(|all| {
                        all.iter().all(|ns| ns["graph_pending_vectors"].as_u64() == Some(0))
                    });
                    match engine {
                        Some((addr, collection)) if applied => {
                            let path = format!("/collections/{collection}");
                            let (_, info) =
                                call(*addr, vec![], Method::GET, &path, Value::Null).await?;
                            info["result"]["status"] == "green"
                        }
                        _ => applied,
                    }
                }
            };
            if settled {
                return Ok(started.elapsed());
            }
            if started.elapsed() > std::time::Duration::from_secs(600) {
                return Err(setup(format!("{} did not finish indexing in 600 s", self.name)));
            }
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
    }
}
