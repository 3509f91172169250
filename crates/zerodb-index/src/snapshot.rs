//! Snapshot files of one namespace's index, so that a restart loads instead of rebuilding.
//!
//! `<root>/<project>/ns-<namespace>/` holds `index.usearch` (usearch's own format),
//! `state.json` (quantizer, the change sequence the snapshot is consistent with, the
//! SHA-256 of the index file, how many entries there are, and the name of the
//! full-precision vector file in `<root>/<project>/originals-<namespace>/`, which is synced
//! before the state names it) and `entries.jsonl` (one line per live vector: key, id,
//! sequence, metadata, document, source). Entries are written and read one line at a time,
//! so neither a snapshot nor a start-up holds a second copy of every vector's metadata. A snapshot is written to a temporary directory and
//! renamed into place, so a crash never leaves half of one. It is trusted only if the
//! checksum, settings and sequence agree with PostgreSQL; the caller also compares the
//! vector count after catching up.

use crate::key_map::KeyMap;
use crate::namespace::{Entry, Inner, NamespaceIndex, install_metric, usearch_options};
use crate::originals::{self, Originals};
use crate::packed::{FieldNames, Packed};
use crate::postings::Postings;
use crate::quantize::Quantizer;
use crate::{IndexError, IndexSettings};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use usearch::Index;
use uuid::Uuid;
use zerodb_domain::ProjectId;
use zerodb_domain::vectors::{Namespace, NamespaceSpec, VectorId};

/// 2: full-precision vectors in their own file; documents and sources in the state.
/// 3: entries in `entries.jsonl`, one per line.
const FORMAT: u32 = 3;

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
    /// Lines in `entries.jsonl`.
    live: u64,
}

/// One live vector.
#[derive(Serialize, Deserialize)]
struct StateEntry {
    key: u64,
    id: VectorId,
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

/// Streamed: reading a large index whole would leave the process holding its size again
/// in freed-but-resident allocator pages.
fn sha256_file(path: &Path) -> Result<String, IndexError> {
    let mut hasher = Sha256::new();
    let mut file = std::io::BufReader::with_capacity(1 << 20, std::fs::File::open(path)?);
    std::io::copy(&mut file, &mut hasher)?;
    Ok(hasher.finalize().iter().map(|b| format!("{b:02x}")).collect())
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
        let mut lines = std::io::BufWriter::new(std::fs::File::create(tmp.join("entries.jsonl"))?);
        let mut live = 0u64;
        for (key, e) in inner.entries.iter().enumerate() {
            let Some(e) = e else { continue };
            let line = StateEntry {
                key: key as u64,
                id: e.id.clone(),
                seq: e.seq,
                metadata: e.metadata.to_map(&inner.names),
                document: e.document().map(str::to_owned),
                source: e.source().map(str::to_owned),
            };
            serde_json::to_writer(&mut lines, &line)
                .map_err(|e| IndexError::Snapshot(zerodb_domain::Cause::new(e)))?;
            lines.write_all(b"\n")?;
            live += 1;
        }
        lines.into_inner().map_err(|e| e.into_error())?.sync_data()?;
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
            live,
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
    let mut index = Index::new(&usearch_options(state.dimension, spec, &settings))
        .map_err(|e| IndexError::Snapshot(zerodb_domain::Cause::new(e)))?;
    index
        .load(path_str(&index_path)?)
        .map_err(|e| IndexError::Snapshot(zerodb_domain::Cause::new(e)))?;
    install_metric(&mut index, state.dimension, spec);
    index
        .reserve_capacity_and_threads(
            index.capacity().max(state.live as usize).max(1024),
            settings.threads,
        )
        .map_err(|e| IndexError::Snapshot(zerodb_domain::Cause::new(e)))?;
    if index.size() as u64 != state.live {
        return bad(format!("index holds {} vectors, state lists {}", index.size(), state.live));
    }
    if state.originals.contains(['/', '\\']) {
        return bad("the vector file name is not a file name".into());
    }
    let originals = Originals::open(
        originals_dir(root, project, &expected.name).join(&state.originals),
        state.keys,
        state.dimension,
    )?;
    let mut entries: Vec<Option<Entry>> = Vec::new();
    entries.resize_with(state.keys as usize, || None);
    let mut by_id = KeyMap::default();
    let mut names = FieldNames::default();
    let mut lines = std::io::BufReader::new(std::fs::File::open(dir.join("entries.jsonl"))?);
    let mut line = String::new();
    let mut read = 0u64;
    loop {
        line.clear();
        if lines.read_line(&mut line)? == 0 {
            break;
        }
        let e: StateEntry = serde_json::from_str(&line)
            .map_err(|e| IndexError::Snapshot(zerodb_domain::Cause::new(e)))?;
        read += 1;
        let key = e.key;
        if key >= state.keys || !index.contains(key) || entries[key as usize].is_some() {
            return bad(format!("key {key} is inconsistent"));
        }
        let metadata = Packed::pack(&e.metadata, &mut names);
        let (document, source) = (e.document.as_deref(), e.source.as_deref());
        entries[key as usize] = Some(Entry::new(e.id.clone(), e.seq, metadata, document, source));
        if !by_id.insert(key, &entries) {
            return bad(format!("vector {} is listed twice", e.id));
        }
    }
    if read != state.live {
        return bad(format!("entries.jsonl lists {read} vectors, state.json {}", state.live));
    }
    let mut inner = Inner {
        index,
        quantizer: state.quantizer,
        entries,
        by_id,
        names,
        postings: Postings::default(),
        text: crate::text::TextIndex::default(),
        originals,
        pending: Vec::new(),
        dirty: false,
    };
    inner.postings = inner.live_postings();
    inner.text = inner.live_text();
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
                id: VectorId::generate(),
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
            embedding_model: None,
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
