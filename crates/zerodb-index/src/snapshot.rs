//! Snapshot files of one namespace's index, so that a restart loads instead of rebuilding.
//!
//! `<root>/<project>/ns-<namespace>/` holds `index.usearch` (usearch's own format) and
//! `state.json` (keys, ids, sequences, metadata, quantizer, the change sequence the snapshot
//! is consistent with, and the SHA-256 of the index file). A snapshot is written to a
//! temporary directory and renamed into place, so a crash never leaves half of one. It is
//! trusted only if the checksum, settings and sequence agree with PostgreSQL; the caller
//! also compares the vector count after catching up.

use crate::namespace::{Entry, Inner, NamespaceIndex, compact, usearch_options};
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

const FORMAT: u32 = 1;

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
    /// `(key, vector id, sequence, metadata)` of every live vector.
    entries: Vec<(u64, Uuid, i64, Map<String, Value>)>,
}

pub(crate) fn namespace_dir(root: &Path, project: ProjectId, namespace: &str) -> PathBuf {
    root.join(project.to_string()).join(format!("ns-{namespace}"))
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
        let inner = ns.read();
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
            entries: inner
                .entries
                .iter()
                .enumerate()
                .filter_map(|(key, e)| {
                    let e = e.as_ref()?;
                    let metadata =
                        e.metadata.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
                    Some((key as u64, e.id, e.seq, metadata))
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
    let max_key = state.entries.iter().map(|e| e.0).max().map_or(0, |k| k + 1);
    let mut entries: Vec<Option<Entry>> = Vec::new();
    entries.resize_with(max_key as usize, || None);
    let mut by_id = HashMap::with_capacity(state.entries.len());
    for (key, id, seq, metadata) in state.entries {
        if !index.contains(key) || by_id.insert(id, key).is_some() {
            return bad(format!("key {key} is inconsistent"));
        }
        entries[key as usize] = Some(Entry { id, seq, metadata: compact(metadata) });
    }
    let postings = Inner::live_postings(&entries);
    let inner = Inner { index, quantizer: state.quantizer, entries, by_id, postings, dirty: false };
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
    use zerodb_domain::vectors::{Metric, Quantization, VectorChange};

    #[test]
    fn snapshots_round_trip_and_corruption_is_detected() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let project = ProjectId::new();
        let spec = NamespaceSpec { metric: Metric::Dot, quantization: Quantization::Int8 };
        let created = Utc::now();
        let settings = IndexSettings::default();
        let ns = NamespaceIndex::new("docs".into(), 3, spec, created, settings)
            .unwrap_or_else(|e| panic!("{e}"));
        let changes: Vec<VectorChange> = (0..50)
            .map(|i| VectorChange::Upserted {
                seq: i + 1,
                namespace: "docs".into(),
                id: Uuid::now_v7(),
                embedding: vec![i as f32, 1.0, -2.0],
                metadata: Map::new(),
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
