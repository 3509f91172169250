//! Snapshot files of one namespace's index, so that a restart loads instead of rebuilding.
//!
//! `<root>/<project>/ns-<namespace>/` holds `index.usearch` (usearch's own format) and
//! `state.json` (keys, ids, sequences, metadata, documents, sources, quantizer, the change
//! sequence the snapshot is consistent with, the SHA-256 of the index file, and the name of
//! the full-precision vector file in `<root>/<project>/originals-<namespace>/`, which is
//! synced before the state names it). A snapshot is written to a temporary directory and
//! renamed into place, so a crash never leaves half of one. It is trusted only if the
//! checksum, settings and sequence agree with PostgreSQL; the caller also compares the
//! vector count after catching up.

use crate::namespace::{Entry, Inner, NamespaceIndex, compact, usearch_options};
use crate::originals::{self, Originals};
use crate::quantize::Quantizer;
use crate::{IndexError, IndexSettings};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use usearch::Index;
use uuid::Uuid;
use zerodb_domain::ProjectId;
use zerodb_domain::vectors::{Namespace, NamespaceSpec};

/// 2: full-precision vectors in their own file; documents and sources in the state.
const FORMAT: u32 = 2;

#[derive(Serialize, Deserialize)]
struct State {
    format: u32,
    namespace: String,
    dimension: usize,
    spec_metric: String,
    spec_quantization: String,
    created_at: DateTime<Utc>,
    applied_seq: i64,
    quantizer: Option<Quantizer>,
    index_sha256: String,
    /// File name of the full-precision vectors, in the namespace's originals directory.
    originals: String,
    /// Keys handed out so far (the originals file holds this many vectors).
    keys: u64,
    entries: Vec<StateEntry>,
}

/// One live vector.
#[derive(Serialize, Deserialize)]
struct StateEntry {
    key: u64,
    id: Uuid,
    seq: i64,
    metadata: Map<String, Value>,
    document: Option<String>,
    source: Option<String>,
}

pub(crate) fn namespace_dir(root: &Path, project: ProjectId, namespace: &str) -> PathBuf {
    root.join(project.to_string()).join(format!("ns-{namespace}"))
}

/// Where a namespace's full-precision vector files live.
pub(crate) fn originals_dir(root: &Path, project: ProjectId, namespace: &str) -> PathBuf {
    root.join(project.to_string()).join(format!("originals-{namespace}"))
}

fn sha256_file(path: &Path) -> Result<String, IndexError> {
    let bytes = std::fs::read(path)?;
    Ok(Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect())
}

fn path_str(path: &Path) -> Result<&str, IndexError> {
    path.to_str().ok_or_else(|| {
        IndexError::Snapshot(zerodb_domain::Cause::msg("snapshot path is not UTF-8"))
    })
}

/// Writes the namespace's snapshot, consistent with every change up to `applied_seq`.
pub(crate) fn save(
    root: &Path,
    project: ProjectId,
    ns: &NamespaceIndex,
    applied_seq: i64,
) -> Result<(), IndexError> {
    let dir = namespace_dir(root, project, &ns.name);
    let parent =
        dir.parent().ok_or_else(|| IndexError::Snapshot(zerodb_domain::Cause::msg("no parent")))?;
    std::fs::create_dir_all(parent)?;
    let tmp = parent.join(format!(".tmp-{}-{}", ns.name, Uuid::now_v7()));
    std::fs::create_dir_all(&tmp)?;
    let result = (|| {
        // The file holds the graph only: everything pending goes into it first.
        ns.build_all_pending()?;
        let inner = ns.read();
        if !inner.pending.is_empty() {
            return Err(IndexError::Snapshot(zerodb_domain::Cause::msg(
                "writes arrived while the snapshot was taken; it is retried",
            )));
        }
        let Some(originals_path) = inner.originals.path().map(Path::to_path_buf) else {
            return Err(IndexError::Snapshot(zerodb_domain::Cause::msg(
                "vectors are held on the heap; nothing to snapshot against",
            )));
        };
        inner.originals.sync()?;
        let index_path = tmp.join("index.usearch");
        inner
            .index
            .save(path_str(&index_path)?)
            .map_err(|e| IndexError::Snapshot(zerodb_domain::Cause::new(e)))?;
        let state = State {
            format: FORMAT,
            namespace: ns.name.clone(),
            dimension: ns.dimension,
            spec_metric: ns.spec.metric.to_string(),
            spec_quantization: ns.spec.quantization.to_string(),
            created_at: ns.created_at,
            applied_seq,
            quantizer: inner.quantizer,
            index_sha256: sha256_file(&index_path)?,
            originals: originals_path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default()
                .to_owned(),
            keys: inner.entries.len() as u64,
            entries: inner
                .entries
                .iter()
                .enumerate()
                .filter_map(|(key, e)| {
                    let e = e.as_ref()?;
                    Some(StateEntry {
                        key: key as u64,
                        id: e.id,
                        seq: e.seq,
                        metadata: e
                            .metadata
                            .iter()
                            .map(|(k, v)| (k.to_string(), v.clone()))
                            .collect(),
                        document: e.document.as_deref().map(str::to_owned),
                        source: e.source.as_deref().map(str::to_owned),
                    })
                })
                .collect(),
        };
        drop(inner);
        let file = std::fs::File::create(tmp.join("state.json"))?;
        serde_json::to_writer(std::io::BufWriter::new(file), &state)
            .map_err(|e| IndexError::Snapshot(zerodb_domain::Cause::new(e)))?;
        if dir.exists() {
            std::fs::remove_dir_all(&dir)?;
        }
        std::fs::rename(&tmp, &dir)?;
        if let Some(originals_dir) = originals_path.parent() {
            originals::remove_older(originals_dir, &originals_path);
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&tmp);
    }
    result
}

/// Loads a snapshot if one exists and agrees with `expected`; answers the namespace index
/// and the sequence it is consistent with. `Ok(None)` means there is no snapshot; an error
/// means there is one that must not be trusted.
pub(crate) fn load(
    root: &Path,
    project: ProjectId,
    expected: &Namespace,
    settings: IndexSettings,
    current_seq: i64,
) -> Result<Option<(NamespaceIndex, i64)>, IndexError> {
    let dir = namespace_dir(root, project, &expected.name);
    let state_path = dir.join("state.json");
    if !state_path.exists() {
        return Ok(None);
    }
    let bad = |why: String| Err(IndexError::Snapshot(zerodb_domain::Cause::msg(why)));
    let file = std::fs::File::open(&state_path)?;
    let state: State = serde_json::from_reader(std::io::BufReader::new(file))
        .map_err(|e| IndexError::Snapshot(zerodb_domain::Cause::new(e)))?;
    let spec = NamespaceSpec {
        metric: state
            .spec_metric
            .parse()
            .map_err(|e: String| IndexError::Snapshot(zerodb_domain::Cause::msg(e)))?,
        quantization: state
            .spec_quantization
            .parse()
            .map_err(|e: String| IndexError::Snapshot(zerodb_domain::Cause::msg(e)))?,
    };
    if state.format != FORMAT
        || state.namespace != expected.name
        || Some(state.dimension as u32) != expected.dimension
        || spec != expected.spec
        || state.created_at != expected.created_at
    {
        return bad("settings differ from the database's namespace".into());
    }
    if state.applied_seq > current_seq {
        return bad(format!(
            "snapshot is ahead of the database (sequence {} > {current_seq})",
            state.applied_seq
        ));
    }
    let index_path = dir.join("index.usearch");
    if sha256_file(&index_path)? != state.index_sha256 {
        return bad("index file checksum mismatch".into());
    }
    let index = Index::new(&usearch_options(state.dimension, spec, &settings))
        .map_err(|e| IndexError::Snapshot(zerodb_domain::Cause::new(e)))?;
    index
        .load(path_str(&index_path)?)
        .map_err(|e| IndexError::Snapshot(zerodb_domain::Cause::new(e)))?;
    index
        .reserve_capacity_and_threads(
            index.capacity().max(state.entries.len()).max(1024),
            settings.threads,
        )
        .map_err(|e| IndexError::Snapshot(zerodb_domain::Cause::new(e)))?;
    if index.size() != state.entries.len() {
        return bad(format!(
            "index holds {} vectors, state lists {}",
            index.size(),
            state.entries.len()
        ));
    }
    let max_key = state.entries.iter().map(|e| e.key).max().map_or(0, |k| k + 1);
    if max_key > state.keys || state.originals.contains(['/', '\\']) {
        return bad("the vector file does not match the entries".into());
    }
    let originals = Originals::open(
        originals_dir(root, project, &expected.name).join(&state.originals),
        state.keys,
        state.dimension,
    )?;
    let mut entries: Vec<Option<Entry>> = Vec::new();
    entries.resize_with(state.keys as usize, || None);
    let mut by_id = HashMap::with_capacity(state.entries.len());
    for e in state.entries {
        let key = e.key;
        if !index.contains(key) || by_id.insert(e.id, key).is_some() {
            return bad(format!("key {key} is inconsistent"));
        }
        entries[key as usize] = Some(Entry {
            id: e.id,
            seq: e.seq,
            metadata: compact(e.metadata),
            document: e.document.map(String::into_boxed_str),
            source: e.source.map(String::into_boxed_str),
        });
    }
    let postings = Inner::live_postings(&entries);
    let inner = Inner {
        index,
        quantizer: state.quantizer,
        entries,
        by_id,
        postings,
        originals,
        pending: Vec::new(),
        dirty: false,
    };
    let ns = NamespaceIndex::from_parts(
        expected.name.clone(),
        state.dimension,
        spec,
        expected.created_at,
        settings,
        inner,
    );
    Ok(Some((ns, state.applied_seq)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::namespace::Query;
    use zerodb_domain::vectors::{Metric, Quantization, VectorChange};

    #[test]
    fn snapshots_round_trip_and_corruption_is_detected() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let project = ProjectId::new();
        let spec = NamespaceSpec { metric: Metric::Dot, quantization: Quantization::Int8 };
        let created = Utc::now();
        let settings = IndexSettings::default();
        let originals = Originals::create(Some(&originals_dir(dir.path(), project, "docs")))
            .unwrap_or_else(|e| panic!("{e}"));
        let ns = NamespaceIndex::new("docs".into(), 3, spec, created, settings, originals)
            .unwrap_or_else(|e| panic!("{e}"));
        let changes: Vec<VectorChange> = (0..50)
            .map(|i| VectorChange::Upserted {
                seq: i + 1,
                namespace: "docs".into(),
                id: Uuid::now_v7(),
                embedding: vec![i as f32, 1.0, -2.0],
                metadata: Map::new(),
                document: Some(format!("doc {i}")),
                source: None,
            })
            .collect();
        ns.apply(&changes.iter().collect::<Vec<_>>()).unwrap_or_else(|e| panic!("{e}"));
        save(dir.path(), project, &ns, 50).unwrap_or_else(|e| panic!("{e}"));
        let meta = Namespace {
            name: "docs".into(),
            dimension: Some(3),
            spec,
            vector_count: 50,
            created_at: created,
        };
        let loaded =
            load(dir.path(), project, &meta, settings, 50).unwrap_or_else(|e| panic!("{e}"));
        let (loaded, seq) = loaded.unwrap_or_else(|| panic!("snapshot missing"));
        assert_eq!((loaded.len(), seq), (50, 50));
        // Documents and full-precision vectors come back with the snapshot.
        let query = Query {
            vector: &[7.0, 1.0, -2.0],
            limit: 1,
            filter: None,
            min_score: None,
            include_vectors: true,
        };
        let best = loaded.search(&query).unwrap_or_default();
        assert_eq!(best.len(), 1);
        assert_eq!(best[0].document.as_deref(), Some("doc 49"));
        assert_eq!(best[0].embedding.as_deref(), Some(&[49.0, 1.0, -2.0][..]));
        assert_eq!(best[0].score, 49.0 * 7.0 + 1.0 + 4.0);
        // Ahead of the database: refused.
        assert!(load(dir.path(), project, &meta, settings, 49).is_err());
        // Other settings: refused.
        let other = Namespace { spec: NamespaceSpec::default(), ..meta.clone() };
        assert!(load(dir.path(), project, &other, settings, 50).is_err());
        // A flipped byte: refused.
        let file = namespace_dir(dir.path(), project, "docs").join("index.usearch");
        let mut bytes = std::fs::read(&file).unwrap_or_default();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        std::fs::write(&file, bytes).unwrap_or_else(|e| panic!("{e}"));
        assert!(load(dir.path(), project, &meta, settings, 50).is_err());
        // No snapshot at all is not an error.
        let absent = Namespace { name: "absent".into(), ..meta };
        assert!(matches!(load(dir.path(), project, &absent, settings, 50), Ok(None)));
    }
}
