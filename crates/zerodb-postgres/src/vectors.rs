//! `PgVectorRecords`: vectors in `zerodb_vectors`, the source of truth from which in-process
//! indexes are derived, with a per-project change sequence and LISTEN/NOTIFY fan-out.
//!
//! Every write takes the project's row in `zerodb_vector_sequences` first; its lock orders
//! the project's writers across processes, so sequence numbers grow in commit order and an
//! index that has applied everything up to `s` can catch up with `seq > s`. Deletes leave
//! tombstones carrying their sequence. Commits send `NOTIFY zerodb_vectors, '<project>:<seq>'`.

use crate::error::{map_diesel, map_pool};
use crate::pool::PgPool;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::result::Error as DieselError;
use diesel::sql_types::{
    Array, BigInt, Binary, Bool, Integer, Jsonb, Nullable, Text, Timestamptz, Uuid as SqlUuid,
};
use diesel::{QueryableByName, sql_query};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use futures_util::StreamExt;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use uuid::Uuid;
use zerodb_domain::Cause;
use zerodb_domain::vectors::{
    ChangeListener, LexicalMatch, LexicalRequest, Namespace, NamespaceName, NamespaceSpec,
    NewVector, SearchHit, UpsertOutcome, VectorChange, VectorId, VectorRecord, VectorRecords,
    VectorSelector, VectorStoreError,
};
use zerodb_domain::{ProjectId, RepositoryError};

pub(crate) const CHANNEL: &str = "zerodb_vectors";

/// Packs an embedding as little-endian float32.
pub fn encode_embedding(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// Unpacks a little-endian float32 embedding.
pub fn decode_embedding(bytes: &[u8]) -> Vec<f32> {
    bytes.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect()
}

pub struct PgVectorRecords {
    pool: PgPool,
    listeners: Arc<Mutex<Vec<ChangeListener>>>,
    /// The notification listener, until the owner takes it to stop it.
    listener_task: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl PgVectorRecords {
    /// Starts the notification listener on its own connection (reconnecting with backoff).
    pub fn start(pool: PgPool, database_url: String) -> Self {
        let listeners: Arc<Mutex<Vec<ChangeListener>>> = Arc::default();
        let task = tokio::spawn(listen(database_url, listeners.clone()));
        Self { pool, listeners, listener_task: Mutex::new(Some(task)) }
    }

    /// The notification listener task, for the owner to stop when it shuts down.
    pub fn take_task(&self) -> Option<tokio::task::JoinHandle<()>> {
        self.listener_task.lock().unwrap_or_else(PoisonError::into_inner).take()
    }
}

async fn listen(database_url: String, listeners: Arc<Mutex<Vec<ChangeListener>>>) {
    let mut backoff = Duration::from_millis(100);
    loop {
        match AsyncPgConnection::establish(&database_url).await {
            Ok(mut conn) => {
                if sql_query(format!("LISTEN {CHANNEL}")).execute(&mut conn).await.is_ok() {
                    backoff = Duration::from_millis(100);
                    let mut notifications = std::pin::pin!(conn.notifications_stream());
                    while let Some(Ok(n)) = notifications.next().await {
                        let project = n.payload.split(':').next().and_then(|p| p.parse().ok());
                        if let Some(project) = project {
                            let current: Vec<ChangeListener> =
                                listeners.lock().unwrap_or_else(PoisonError::into_inner).clone();
                            for listener in current {
                                listener(project);
                            }
                        }
                    }
                }
                tracing::warn!("vector notification connection lost; reconnecting");
            }
            Err(e) => tracing::warn!(error = %e, "cannot listen for vector notifications"),
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(5));
    }
}

fn store_err(e: RepositoryError) -> VectorStoreError {
    match e {
        RepositoryError::NotFound => VectorStoreError::NotFound,
        RepositoryError::Unavailable(m) => VectorStoreError::Unavailable(m),
        RepositoryError::TimedOut => {
            VectorStoreError::Unavailable(Cause::msg("statement timed out"))
        }
        RepositoryError::InvalidValue(cause) | RepositoryError::Internal(cause) => {
            VectorStoreError::Internal(cause)
        }
    }
}

/// A namespace setting stored in a form this version cannot read.
fn stored_setting(message: String) -> VectorStoreError {
    VectorStoreError::Internal(Cause::msg(format!("stored namespace setting: {message}")))
}

fn db_err(e: DieselError) -> VectorStoreError {
    store_err(map_diesel(e))
}

/// A transaction's failure: a domain outcome to report, or a database error.
enum TxError {
    Store(VectorStoreError),
    Db(DieselError),
}

impl From<DieselError> for TxError {
    fn from(e: DieselError) -> Self {
        Self::Db(e)
    }
}

impl From<TxError> for VectorStoreError {
    fn from(e: TxError) -> Self {
        match e {
            TxError::Store(s) => s,
            TxError::Db(d) => db_err(d),
        }
    }
}

#[derive(QueryableByName)]
struct NamespaceRow {
    #[diesel(sql_type = Text)]
    namespace: String,
    #[diesel(sql_type = Nullable<Integer>)]
    dimension: Option<i32>,
    #[diesel(sql_type = Text)]
    metric: String,
    #[diesel(sql_type = Text)]
    quantization: String,
    #[diesel(sql_type = Nullable<Text>)]
    embedding_model: Option<String>,
    #[diesel(sql_type = Timestamptz)]
    created_at: DateTime<Utc>,
    #[diesel(sql_type = BigInt)]
    vector_count: i64,
}

impl NamespaceRow {
    fn into_namespace(self) -> Result<Namespace, VectorStoreError> {
        Ok(Namespace {
            name: self.namespace,
            dimension: self.dimension.map(|d| d as u32),
            spec: NamespaceSpec {
                metric: self.metric.parse().map_err(stored_setting)?,
                quantization: self.quantization.parse().map_err(stored_setting)?,
            },
            embedding_model: self.embedding_model,
            vector_count: self.vector_count.max(0) as u64,
            created_at: self.created_at,
        })
    }
}

#[derive(QueryableByName)]
struct VectorRow {
    #[diesel(sql_type = Text)]
    vector_id: String,
    #[diesel(sql_type = Text)]
    namespace: String,
    #[diesel(sql_type = Binary)]
    embedding: Vec<u8>,
    #[diesel(sql_type = Jsonb)]
    vector_metadata: Value,
    #[diesel(sql_type = Nullable<Text>)]
    document: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    source: Option<String>,
    #[diesel(sql_type = Timestamptz)]
    created_at: DateTime<Utc>,
    #[diesel(sql_type = Timestamptz)]
    updated_at: DateTime<Utc>,
}

fn into_map(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

impl From<VectorRow> for VectorRecord {
    fn from(r: VectorRow) -> Self {
        VectorRecord {
            id: VectorId::from_stored(&r.vector_id),
            namespace: r.namespace,
            embedding: decode_embedding(&r.embedding),
            metadata: into_map(r.vector_metadata),
            document: r.document,
            source: r.source,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

#[derive(QueryableByName)]
struct ChangeRow {
    #[diesel(sql_type = BigInt)]
    seq: i64,
    #[diesel(sql_type = Text)]
    namespace: String,
    #[diesel(sql_type = Text)]
    vector_id: String,
    #[diesel(sql_type = Nullable<Binary>)]
    embedding: Option<Vec<u8>>,
    #[diesel(sql_type = Nullable<Jsonb>)]
    vector_metadata: Option<Value>,
    #[diesel(sql_type = Nullable<Text>)]
    document: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    source: Option<String>,
}

impl From<ChangeRow> for VectorChange {
    fn from(r: ChangeRow) -> Self {
        let id = VectorId::from_stored(&r.vector_id);
        match r.embedding {
            Some(bytes) => VectorChange::Upserted {
                seq: r.seq,
                namespace: r.namespace,
                id,
                embedding: decode_embedding(&bytes),
                metadata: into_map(r.vector_metadata.unwrap_or(Value::Null)),
                document: r.document,
                source: r.source,
            },
            None => VectorChange::Deleted { seq: r.seq, namespace: r.namespace, id },
        }
    }
}

#[derive(QueryableByName)]
struct Seq {
    #[diesel(sql_type = BigInt)]
    last_seq: i64,
}

const NAMESPACE_SQL: &str = "\
    SELECT n.namespace, n.dimension, n.metric, n.quantization, n.embedding_model, n.created_at, \
           (SELECT count(*) FROM zerodb_vectors v \
            WHERE v.project_id = n.project_id AND v.namespace = n.namespace) AS vector_count \
    FROM zerodb_vector_namespaces n WHERE n.project_id = $1";

/// Locks the project's sequence row (creating it) and answers its last value.
async fn lock_sequence(conn: &mut AsyncPgConnection, project: Uuid) -> Result<i64, DieselError> {
    let seq: Seq = sql_query(
        "INSERT INTO zerodb_vector_sequences (project_id, last_seq) VALUES ($1, 0) \
         ON CONFLICT (project_id) DO UPDATE SET last_seq = zerodb_vector_sequences.last_seq \
         RETURNING last_seq",
    )
    .bind::<SqlUuid, _>(project)
    .get_result(conn)
    .await?;
    Ok(seq.last_seq)
}

async fn advance_sequence(
    conn: &mut AsyncPgConnection,
    project: Uuid,
    last_seq: i64,
) -> Result<(), DieselError> {
    // One round trip: the writer holds the project's sequence lock until it commits.
    sql_query(
        "WITH advanced AS (UPDATE zerodb_vector_sequences SET last_seq = $2 \
                           WHERE project_id = $1 RETURNING project_id) \
         SELECT pg_notify($3, $4) FROM advanced",
    )
    .bind::<SqlUuid, _>(project)
    .bind::<BigInt, _>(last_seq)
    .bind::<Text, _>(CHANNEL)
    .bind::<Text, _>(format!("{project}:{last_seq}"))
    .execute(conn)
    .await?;
    Ok(())
}

async fn namespace_row(
    conn: &mut AsyncPgConnection,
    project: Uuid,
    name: &str,
) -> Result<Option<Namespace>, TxError> {
    // Without the count: writers call this on every batch.
    let rows: Vec<NamespaceRow> = sql_query(
        "SELECT namespace, dimension, metric, quantization, embedding_model, created_at, \
                0::bigint AS vector_count \
         FROM zerodb_vector_namespaces WHERE project_id = $1 AND namespace = $2",
    )
    .bind::<SqlUuid, _>(project)
    .bind::<Text, _>(name)
    .load(conn)
    .await?;
    rows.into_iter().next().map(NamespaceRow::into_namespace).transpose().map_err(TxError::Store)
}

/// The namespace, created if absent and its dimension fixed if still open; with
/// `strict_spec`, refused when it exists with other settings.
async fn ensure_namespace(
    conn: &mut AsyncPgConnection,
    project: Uuid,
    name: &str,
    spec: NamespaceSpec,
    dimension: Option<u32>,
    strict_spec: bool,
) -> Result<Namespace, TxError> {
    // Most writes go to a namespace whose dimension is already fixed: one read settles it.
    let existing = namespace_row(conn, project, name).await?;
    let ns = match existing {
        Some(ns) if ns.dimension.is_some() || dimension.is_none() => ns,
        _ => create_or_fix_namespace(conn, project, name, spec, dimension).await?,
    };
    if strict_spec && ns.spec != spec {
        return Err(TxError::Store(VectorStoreError::NamespaceSettings {
            namespace: ns.name,
            spec: ns.spec,
        }));
    }
    Ok(ns)
}

/// A namespace transaction's failure; a missing project (the foreign key) reads as a
/// missing namespace.
fn namespace_tx_error(e: TxError) -> VectorStoreError {
    match e {
        TxError::Db(DieselError::DatabaseError(
            diesel::result::DatabaseErrorKind::ForeignKeyViolation,
            _,
        )) => VectorStoreError::NamespaceNotFound,
        other => other.into(),
    }
}

#[derive(QueryableByName)]
struct Holds {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    holds: bool,
}

async fn namespace_holds_vectors(
    conn: &mut AsyncPgConnection,
    project: Uuid,
    name: &str,
) -> Result<bool, DieselError> {
    let row: Holds = sql_query(
        "SELECT EXISTS (SELECT 1 FROM zerodb_vectors WHERE project_id = $1 AND namespace = $2) \
         AS holds",
    )
    .bind::<SqlUuid, _>(project)
    .bind::<Text, _>(name)
    .get_result(conn)
    .await?;
    Ok(row.holds)
}

/// Creates the namespace if absent and fixes its dimension if still open; answers it.
async fn create_or_fix_namespace(
    conn: &mut AsyncPgConnection,
    project: Uuid,
    name: &str,
    spec: NamespaceSpec,
    dimension: Option<u32>,
) -> Result<Namespace, TxError> {
    sql_query(
        "INSERT INTO zerodb_vector_namespaces (project_id, namespace, dimension, metric, quantization) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (project_id, namespace) DO NOTHING",
    )
    .bind::<SqlUuid, _>(project)
    .bind::<Text, _>(name)
    .bind::<Nullable<Integer>, _>(dimension.map(|d| d as i32))
    .bind::<Text, _>(spec.metric.as_str())
    .bind::<Text, _>(spec.quantization.as_str())
    .execute(conn)
    .await?;
    if let Some(d) = dimension {
        sql_query(
            "UPDATE zerodb_vector_namespaces SET dimension = $3 \
             WHERE project_id = $1 AND namespace = $2 AND dimension IS NULL",
        )
        .bind::<SqlUuid, _>(project)
        .bind::<Text, _>(name)
        .bind::<Integer, _>(d as i32)
        .execute(conn)
        .await?;
    }
    namespace_row(conn, project, name)
        .await?
        .ok_or(TxError::Store(VectorStoreError::NamespaceNotFound))
}

#[async_trait]
impl VectorRecords for PgVectorRecords {
    async fn create_namespace(
        &self,
        project_id: ProjectId,
        name: &NamespaceName,
        spec: NamespaceSpec,
        dimension: Option<u32>,
    ) -> Result<Namespace, VectorStoreError> {
        let mut conn = self.pool.get().await.map_err(|e| store_err(map_pool(e)))?;
        let project = project_id.as_uuid();
        let name = name.as_str().to_owned();
        let result = conn
            .transaction::<_, TxError, _>(async |conn| {
                lock_sequence(conn, project).await?;
                let ns = ensure_namespace(conn, project, &name, spec, dimension, true).await?;
                match (dimension, ns.dimension) {
                    (Some(want), Some(have)) if want != have => {
                        Err(TxError::Store(VectorStoreError::NamespaceSettings {
                            namespace: ns.name,
                            spec: ns.spec,
                        }))
                    }
                    _ => Ok(ns),
                }
            })
            .await;
        let ns = result.map_err(namespace_tx_error)?;
        // The answer carries the namespace's current count.
        let counted = self.namespaces(project_id).await?;
        Ok(counted.into_iter().find(|n| n.name == ns.name).unwrap_or(ns))
    }

    async fn record_embedding_model(
        &self,
        project_id: ProjectId,
        name: &NamespaceName,
        model: &str,
        dimension: Option<u32>,
    ) -> Result<Namespace, VectorStoreError> {
        let mut conn = self.pool.get().await.map_err(|e| store_err(map_pool(e)))?;
        let project = project_id.as_uuid();
        let (name, model) = (name.as_str().to_owned(), model.to_owned());
        let spec = NamespaceSpec::default();
        conn.transaction::<_, TxError, _>(async |conn| {
            lock_sequence(conn, project).await?;
            let ns = ensure_namespace(conn, project, &name, spec, dimension, false).await?;
            if let (Some(want), Some(have)) = (dimension, ns.dimension)
                && want != have
            {
                return Err(TxError::Store(VectorStoreError::DimensionMismatch {
                    namespace: ns.name,
                    expected: have,
                    got: want,
                }));
            }
            match ns.embedding_model.clone() {
                Some(recorded) if recorded == model => Ok(ns),
                Some(recorded) if namespace_holds_vectors(conn, project, &name).await? => {
                    Err(TxError::Store(VectorStoreError::ModelMismatch {
                        namespace: ns.name,
                        recorded,
                        got: model,
                    }))
                }
                _ => {
                    sql_query(
                        "UPDATE zerodb_vector_namespaces SET embedding_model = $3 \
                         WHERE project_id = $1 AND namespace = $2",
                    )
                    .bind::<SqlUuid, _>(project)
                    .bind::<Text, _>(&name)
                    .bind::<Text, _>(&model)
                    .execute(conn)
                    .await?;
                    Ok(Namespace { embedding_model: Some(model), ..ns })
                }
            }
        })
        .await
        .map_err(namespace_tx_error)
    }

    async fn namespace_model(
        &self,
        project_id: ProjectId,
        name: &NamespaceName,
    ) -> Result<Option<String>, VectorStoreError> {
        let mut conn = self.pool.get().await.map_err(|e| store_err(map_pool(e)))?;
        let ns = namespace_row(&mut conn, project_id.as_uuid(), name.as_str()).await?;
        Ok(ns.and_then(|n| n.embedding_model))
    }

    async fn namespaces(&self, project_id: ProjectId) -> Result<Vec<Namespace>, VectorStoreError> {
        let mut conn = self.pool.get().await.map_err(|e| store_err(map_pool(e)))?;
        let rows: Vec<NamespaceRow> = sql_query(format!("{NAMESPACE_SQL} ORDER BY n.namespace"))
            .bind::<SqlUuid, _>(project_id.as_uuid())
            .load(&mut conn)
            .await
            .map_err(db_err)?;
        rows.into_iter().map(NamespaceRow::into_namespace).collect()
    }

    async fn upsert(
        &self,
        project_id: ProjectId,
        vectors: Vec<NewVector>,
        default_spec: NamespaceSpec,
    ) -> Result<(Vec<UpsertOutcome>, Vec<VectorChange>), VectorStoreError> {
        #[derive(QueryableByName)]
        struct Written {
            #[diesel(sql_type = Text)]
            vector_id: String,
            #[diesel(sql_type = Bool)]
            created: bool,
        }
        let mut conn = self.pool.get().await.map_err(|e| store_err(map_pool(e)))?;
        let project = project_id.as_uuid();
        let vectors = &vectors;
        let (written, first_seq) = conn
            .transaction::<_, TxError, _>(async |conn| {
                {
                    let last = lock_sequence(conn, project).await?;
                    let mut dims: BTreeMap<&str, u32> = BTreeMap::new();
                    for v in vectors.iter() {
                        dims.entry(v.namespace.as_str()).or_insert(v.embedding.len() as u32);
                    }
                    for (name, first_dim) in &dims {
                        let ns =
                            ensure_namespace(conn, project, name, default_spec, Some(*first_dim), false)
                                .await?;
                        let expected = ns.dimension.unwrap_or(*first_dim);
                        if let Some(bad) = vectors.iter().find(|v| {
                            v.namespace.as_str() == *name && v.embedding.len() as u32 != expected
                        }) {
                            return Err(TxError::Store(VectorStoreError::DimensionMismatch {
                                namespace: ns.name,
                                expected,
                                got: bad.embedding.len() as u32,
                            }));
                        }
                    }
                    let written: Vec<Written> = sql_query(
                        "INSERT INTO zerodb_vectors (vector_id, project_id, namespace, embedding, \
                             vector_metadata, document, source, seq) \
                         SELECT u.id, $1, u.ns, u.emb, u.meta, u.doc, u.src, $2 + u.ord \
                         FROM unnest($3::text[], $4::text[], $5::bytea[], $6::jsonb[], $7::text[], $8::text[]) \
                              WITH ORDINALITY AS u(id, ns, emb, meta, doc, src, ord) \
                         ON CONFLICT (project_id, vector_id) DO UPDATE SET embedding = EXCLUDED.embedding, \
                             vector_metadata = EXCLUDED.vector_metadata, document = EXCLUDED.document, \
                             source = EXCLUDED.source, seq = EXCLUDED.seq, updated_at = now() \
                         WHERE zerodb_vectors.namespace = EXCLUDED.namespace \
                         RETURNING vector_id, (xmax = 0) AS created",
                    )
                    .bind::<SqlUuid, _>(project)
                    .bind::<BigInt, _>(last)
                    .bind::<Array<Text>, _>(vectors.iter().map(|v| v.id.to_string()).collect::<Vec<_>>())
                    .bind::<Array<Text>, _>(
                        vectors.iter().map(|v| v.namespace.as_str().to_owned()).collect::<Vec<_>>(),
                    )
                    .bind::<Array<Binary>, _>(
                        vectors.iter().map(|v| encode_embedding(&v.embedding)).collect::<Vec<_>>(),
                    )
                    .bind::<Array<Jsonb>, _>(
                        vectors.iter().map(|v| Value::Object(v.metadata.clone())).collect::<Vec<_>>(),
                    )
                    .bind::<Array<Nullable<Text>>, _>(
                        vectors.iter().map(|v| v.document.clone()).collect::<Vec<_>>(),
                    )
                    .bind::<Array<Nullable<Text>>, _>(
                        vectors.iter().map(|v| v.source.clone()).collect::<Vec<_>>(),
                    )
                    .load(conn)
                    .await?;
                    if written.len() < vectors.len() {
                        let done: std::collections::HashSet<VectorId> =
                            written.iter().map(|w| VectorId::from_stored(&w.vector_id)).collect();
                        let taken = vectors.iter().find(|v| !done.contains(&v.id)).map(|v| v.id.clone());
                        return Err(TxError::Store(VectorStoreError::IdInOtherNamespace(
                            taken.unwrap_or_else(|| VectorId::from_uuid(Uuid::nil())),
                        )));
                    }
                    advance_sequence(conn, project, last + vectors.len() as i64).await?;
                    Ok((written, last + 1))
                }
            })
            .await?;
        let created: std::collections::HashMap<VectorId, bool> =
            written.into_iter().map(|w| (VectorId::from_stored(&w.vector_id), w.created)).collect();
        let outcomes = vectors
            .iter()
            .map(|v| UpsertOutcome {
                id: v.id.clone(),
                created: created.get(&v.id).copied().unwrap_or(false),
            })
            .collect();
        let changes = vectors
            .iter()
            .enumerate()
            .map(|(i, v)| VectorChange::Upserted {
                seq: first_seq + i as i64,
                namespace: v.namespace.as_str().to_owned(),
                id: v.id.clone(),
                embedding: v.embedding.clone(),
                metadata: v.metadata.clone(),
                document: v.document.clone(),
                source: v.source.clone(),
            })
            .collect();
        Ok((outcomes, changes))
    }

    async fn get(
        &self,
        project_id: ProjectId,
        id: &VectorId,
    ) -> Result<VectorRecord, VectorStoreError> {
        let mut records = self.fetch(project_id, std::slice::from_ref(id)).await?;
        records.pop().ok_or(VectorStoreError::NotFound)
    }

    async fn lexical(
        &self,
        project_id: ProjectId,
        request: &LexicalRequest,
    ) -> Result<Vec<LexicalMatch>, VectorStoreError> {
        #[derive(QueryableByName)]
        struct Ranked {
            #[diesel(embed)]
            vector: VectorRow,
            #[diesel(sql_type = diesel::sql_types::Float)]
            rank: f32,
        }
        let mut conn = self.pool.get().await.map_err(|e| store_err(map_pool(e)))?;
        let project = project_id.as_uuid();
        if namespace_row(&mut conn, project, request.namespace.as_str()).await?.is_none() {
            return Err(VectorStoreError::NamespaceNotFound);
        }
        let Some(tsquery) = crate::memory::or_query(&request.query) else {
            return Ok(Vec::new());
        };
        let limit = i64::from(request.limit);
        // The filter language is evaluated in Rust (one implementation with the index), so
        // a filtered search reads more ranked matches than it needs, and all of them when
        // the first read did not find enough.
        let mut ask = if request.filter.is_some() { limit.saturating_mul(8) } else { limit };
        loop {
            let rows: Vec<Ranked> = sql_query(
                "SELECT vector_id, namespace, ''::bytea AS embedding, vector_metadata, document, \
                        source, created_at, updated_at, ts_rank_cd(document_tsv, q)::real AS rank \
                 FROM zerodb_vectors, to_tsquery('english', $3) AS q \
                 WHERE project_id = $1 AND namespace = $2 AND document_tsv @@ q \
                 ORDER BY rank DESC, vector_id LIMIT $4",
            )
            .bind::<SqlUuid, _>(project)
            .bind::<Text, _>(request.namespace.as_str())
            .bind::<Text, _>(&tsquery)
            .bind::<BigInt, _>(ask)
            .load(&mut conn)
            .await
            .map_err(db_err)?;
            let complete = (rows.len() as i64) < ask;
            let matches: Vec<LexicalMatch> = rows
                .into_iter()
                .map(|r| {
                    let v = VectorRecord::from(r.vector);
                    let hit = SearchHit {
                        id: v.id,
                        score: r.rank,
                        namespace: v.namespace,
                        document: v.document,
                        metadata: v.metadata,
                        source: v.source,
                        embedding: None,
                    };
                    LexicalMatch { hit, rank: r.rank }
                })
                .filter(|m| request.filter.as_ref().is_none_or(|f| f.matches(&m.hit.metadata)))
                .take(request.limit as usize)
                .collect();
            if complete || matches.len() as i64 >= limit {
                return Ok(matches);
            }
            ask = i64::MAX;
        }
    }

    async fn list(
        &self,
        project_id: ProjectId,
        namespace: Option<NamespaceName>,
        after: Option<VectorId>,
        limit: u32,
        with_embeddings: bool,
    ) -> Result<Vec<VectorRecord>, VectorStoreError> {
        let embedding = if with_embeddings { "embedding" } else { "''::bytea AS embedding" };
        let mut conn = self.pool.get().await.map_err(|e| store_err(map_pool(e)))?;
        let rows: Vec<VectorRow> = sql_query(format!(
            "SELECT vector_id, namespace, {embedding}, vector_metadata, document, source, \
                    created_at, updated_at \
             FROM zerodb_vectors WHERE project_id = $1 \
               AND (namespace = $2 OR ($2::text IS NULL AND left(namespace, 2) <> '__')) \
               AND ($3::text IS NULL OR vector_id > $3) \
             ORDER BY vector_id LIMIT $4"
        ))
        .bind::<SqlUuid, _>(project_id.as_uuid())
        .bind::<Nullable<Text>, _>(namespace.map(|n| n.as_str().to_owned()))
        .bind::<Nullable<Text>, _>(after.map(|a| a.to_string()))
        .bind::<BigInt, _>(i64::from(limit))
        .load(&mut conn)
        .await
        .map_err(db_err)?;
        Ok(rows.into_iter().map(VectorRecord::from).collect())
    }

    async fn fetch(
        &self,
        project_id: ProjectId,
        ids: &[VectorId],
    ) -> Result<Vec<VectorRecord>, VectorStoreError> {
        let mut conn = self.pool.get().await.map_err(|e| store_err(map_pool(e)))?;
        let rows: Vec<VectorRow> = sql_query(
            // A join over the ids makes every lookup a primary-key probe, whatever the
            // statistics say about the project (a new project's estimate can otherwise
            // send the planner scanning all of its rows).
            "SELECT v.vector_id, v.namespace, v.embedding, v.vector_metadata, v.document, \
                    v.source, v.created_at, v.updated_at \
             FROM unnest($2::text[]) AS ids(id) \
             JOIN zerodb_vectors v ON v.project_id = $1 AND v.vector_id = ids.id",
        )
        .bind::<SqlUuid, _>(project_id.as_uuid())
        .bind::<Array<Text>, _>(ids.iter().map(ToString::to_string).collect::<Vec<_>>())
        .load(&mut conn)
        .await
        .map_err(db_err)?;
        Ok(rows.into_iter().map(VectorRecord::from).collect())
    }

    async fn delete(
        &self,
        project_id: ProjectId,
        selector: &VectorSelector,
    ) -> Result<Vec<VectorChange>, VectorStoreError> {
        #[derive(QueryableByName)]
        struct Candidate {
            #[diesel(sql_type = Text)]
            vector_id: String,
            #[diesel(sql_type = Jsonb)]
            vector_metadata: Value,
        }
        #[derive(QueryableByName)]
        struct Gone {
            #[diesel(sql_type = Text)]
            vector_id: String,
            #[diesel(sql_type = Text)]
            namespace: String,
        }
        let mut conn = self.pool.get().await.map_err(|e| store_err(map_pool(e)))?;
        let project = project_id.as_uuid();
        let changes = conn
            .transaction::<_, TxError, _>(async |conn| {
                {
                    let last = lock_sequence(conn, project).await?;
                    let user_only = matches!(selector, VectorSelector::UserIds(_));
                    let ids: Vec<String> = match selector {
                        VectorSelector::Ids(ids) | VectorSelector::UserIds(ids) => {
                            ids.iter().map(ToString::to_string).collect()
                        }
                        VectorSelector::Filter { namespace, filter } => {
                            // The filter language is evaluated in Rust, the one implementation
                            // shared with the index, so both always agree on what matches.
                            let rows: Vec<Candidate> = sql_query(
                                "SELECT vector_id, vector_metadata FROM zerodb_vectors \
                                 WHERE project_id = $1 AND namespace = $2",
                            )
                            .bind::<SqlUuid, _>(project)
                            .bind::<Text, _>(namespace.as_str())
                            .load(conn)
                            .await?;
                            rows.into_iter()
                                .filter(|r| match &r.vector_metadata {
                                    Value::Object(m) => filter.matches(m),
                                    _ => filter.matches(&Map::new()),
                                })
                                .map(|r| r.vector_id)
                                .collect()
                        }
                    };
                    if ids.is_empty() {
                        return Ok(Vec::new());
                    }
                    let gone: Vec<Gone> = sql_query(
                        "DELETE FROM zerodb_vectors WHERE project_id = $1 AND vector_id = ANY($2) \
                           AND NOT ($3 AND left(namespace, 2) = '__') \
                         RETURNING vector_id, namespace",
                    )
                    .bind::<SqlUuid, _>(project)
                    .bind::<Array<Text>, _>(ids)
                    .bind::<diesel::sql_types::Bool, _>(user_only)
                    .load(conn)
                    .await?;
                    if gone.is_empty() {
                        return Ok(Vec::new());
                    }
                    let changes: Vec<VectorChange> = gone
                        .into_iter()
                        .enumerate()
                        .map(|(i, g)| VectorChange::Deleted {
                            seq: last + 1 + i as i64,
                            namespace: g.namespace,
                            id: VectorId::from_stored(&g.vector_id),
                        })
                        .collect();
                    let (mut seqs, mut namespaces, mut ids) = (Vec::new(), Vec::new(), Vec::new());
                    for c in &changes {
                        if let VectorChange::Deleted { seq, namespace, id } = c {
                            seqs.push(*seq);
                            namespaces.push(namespace.clone());
                            ids.push(id.to_string());
                        }
                    }
                    sql_query(
                        "INSERT INTO zerodb_vector_tombstones (project_id, seq, namespace, vector_id) \
                         SELECT $1, u.seq, u.ns, u.id FROM unnest($2::bigint[], $3::text[], $4::text[]) \
                         AS u(seq, ns, id)",
                    )
                    .bind::<SqlUuid, _>(project)
                    .bind::<Array<BigInt>, _>(seqs)
                    .bind::<Array<Text>, _>(namespaces)
                    .bind::<Array<Text>, _>(ids)
                    .execute(conn)
                    .await?;
                    advance_sequence(conn, project, last + changes.len() as i64).await?;
                    Ok(changes)
                }
            })
            .await?;
        Ok(changes)
    }

    async fn changes_since(
        &self,
        project_id: ProjectId,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<VectorChange>, VectorStoreError> {
        let mut conn = self.pool.get().await.map_err(|e| store_err(map_pool(e)))?;
        let rows: Vec<ChangeRow> = sql_query(
            "SELECT * FROM ( \
                SELECT seq, namespace, vector_id, embedding, vector_metadata, document, source \
                FROM zerodb_vectors WHERE project_id = $1 AND seq > $2 \
              UNION ALL \
                SELECT seq, namespace, vector_id, NULL::bytea, NULL::jsonb, NULL::text, NULL::text \
                FROM zerodb_vector_tombstones WHERE project_id = $1 AND seq > $2 \
             ) c ORDER BY seq LIMIT $3",
        )
        .bind::<SqlUuid, _>(project_id.as_uuid())
        .bind::<BigInt, _>(after_seq)
        .bind::<BigInt, _>(i64::from(limit))
        .load(&mut conn)
        .await
        .map_err(db_err)?;
        Ok(rows.into_iter().map(VectorChange::from).collect())
    }

    async fn live_vectors(
        &self,
        project_id: ProjectId,
        namespace: &str,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<VectorChange>, VectorStoreError> {
        let mut conn = self.pool.get().await.map_err(|e| store_err(map_pool(e)))?;
        let rows: Vec<ChangeRow> = sql_query(
            "SELECT seq, namespace, vector_id, embedding, vector_metadata, document, source \
             FROM zerodb_vectors WHERE project_id = $1 AND namespace = $2 AND seq > $3 ORDER BY seq LIMIT $4",
        )
        .bind::<SqlUuid, _>(project_id.as_uuid())
        .bind::<Text, _>(namespace)
        .bind::<BigInt, _>(after_seq)
        .bind::<BigInt, _>(i64::from(limit))
        .load(&mut conn)
        .await
        .map_err(db_err)?;
        Ok(rows.into_iter().map(VectorChange::from).collect())
    }

    async fn current_seq(&self, project_id: ProjectId) -> Result<i64, VectorStoreError> {
        let mut conn = self.pool.get().await.map_err(|e| store_err(map_pool(e)))?;
        let rows: Vec<Seq> = diesel_async::RunQueryDsl::load(
            sql_query("SELECT last_seq FROM zerodb_vector_sequences WHERE project_id = $1")
                .bind::<SqlUuid, _>(project_id.as_uuid()),
            &mut conn,
        )
        .await
        .map_err(db_err)?;
        Ok(<[Seq]>::first(&rows).map_or(0, |r| r.last_seq))
    }

    async fn all_seqs(&self) -> Result<Vec<(ProjectId, i64)>, VectorStoreError> {
        #[derive(QueryableByName)]
        struct ProjectSeq {
            #[diesel(sql_type = SqlUuid)]
            project_id: Uuid,
            #[diesel(sql_type = BigInt)]
            last_seq: i64,
        }
        let mut conn = self.pool.get().await.map_err(|e| store_err(map_pool(e)))?;
        let rows: Vec<ProjectSeq> =
            sql_query("SELECT project_id, last_seq FROM zerodb_vector_sequences")
                .load(&mut conn)
                .await
                .map_err(db_err)?;
        Ok(rows.into_iter().map(|r| (ProjectId::from_uuid(r.project_id), r.last_seq)).collect())
    }

    fn subscribe(&self, listener: ChangeListener) {
        self.listeners.lock().unwrap_or_else(PoisonError::into_inner).push(listener);
    }
}
