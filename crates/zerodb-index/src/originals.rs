//! The full-precision vectors of one namespace, by index key, for exact rescoring and for
//! answering `include_vectors`.
//!
//! With a data directory they live in a file (`<dimension> × f32` per key, keys never
//! reused), read and written with positioned I/O. The kernel's page cache keeps the hot
//! ones in memory, but they do not count against the process's resident memory the way a
//! heap copy (or touched pages of a memory map) would, so an int8 namespace keeps only its
//! quantized vectors resident. Positioned reads rather than a memory map: the file grows
//! while searches run, and a map would have to be replaced under them. Without a data
//! directory they are kept on the heap.

use crate::IndexError;
use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

pub(crate) enum Originals {
    Heap(Vec<f32>),
    File { file: File, path: PathBuf },
}

impl Originals {
    /// A new, empty store: on the heap, or a new file under `dir`.
    pub fn create(dir: Option<&Path>) -> Result<Self, IndexError> {
        let Some(dir) = dir else { return Ok(Self::Heap(Vec::new())) };
        std::fs::create_dir_all(dir)?;
        let path = dir.join(format!("{}.f32", uuid::Uuid::now_v7()));
        let file = OpenOptions::new().read(true).write(true).create_new(true).open(&path)?;
        Ok(Self::File { file, path })
    }

    /// Opens a file written earlier (named by a snapshot); it must hold `keys` vectors.
    pub fn open(path: PathBuf, keys: u64, dimension: usize) -> Result<Self, IndexError> {
        let file = OpenOptions::new().read(true).write(true).open(&path)?;
        let needed = keys * row_bytes(dimension);
        if file.metadata()?.len() < needed {
            return Err(IndexError::Snapshot(zerodb_domain::Cause::msg(format!(
                "{} is shorter than the {keys} vectors the snapshot lists",
                path.display()
            ))));
        }
        Ok(Self::File { file, path })
    }

    /// The file's path, when there is one.
    pub fn path(&self) -> Option<&Path> {
        match self {
            Self::Heap(_) => None,
            Self::File { path, .. } => Some(path),
        }
    }

    /// Stores the vector of `key` (keys arrive in increasing order, possibly with gaps).
    pub fn put(&mut self, key: u64, vector: &[f32]) -> Result<(), IndexError> {
        match self {
            Self::Heap(all) => {
                let start = key as usize * vector.len();
                if all.len() < start + vector.len() {
                    all.resize(start + vector.len(), 0.0);
                }
                all[start..start + vector.len()].copy_from_slice(vector);
                Ok(())
            }
            Self::File { file, .. } => {
                let bytes: Vec<u8> = vector.iter().flat_map(|x| x.to_le_bytes()).collect();
                file.write_all_at(&bytes, key * row_bytes(vector.len()))?;
                Ok(())
            }
        }
    }

    /// Reads the vector of `key` into `out` (whose length is the dimension).
    pub fn get(&self, key: u64, out: &mut [f32]) -> Result<(), IndexError> {
        match self {
            Self::Heap(all) => {
                let start = key as usize * out.len();
                let row = all.get(start..start + out.len()).ok_or_else(|| missing(key))?;
                out.copy_from_slice(row);
                Ok(())
            }
            Self::File { file, .. } => {
                let mut bytes = vec![0u8; out.len() * 4];
                file.read_exact_at(&mut bytes, key * row_bytes(out.len()))?;
                for (x, b) in out.iter_mut().zip(bytes.chunks_exact(4)) {
                    *x = f32::from_le_bytes([b[0], b[1], b[2], b[3]]);
                }
                Ok(())
            }
        }
    }

    /// Makes everything written so far durable (before a snapshot names the file).
    pub fn sync(&self) -> Result<(), IndexError> {
        match self {
            Self::Heap(_) => Ok(()),
            Self::File { file, .. } => Ok(file.sync_data()?),
        }
    }

    /// Bytes the heap copy holds (a file's pages belong to the kernel's cache).
    pub fn heap_bytes(&self) -> usize {
        match self {
            Self::Heap(all) => all.capacity() * 4,
            Self::File { .. } => 0,
        }
    }
}

/// Removes the vector files under `dir` older than `keep`: those of indexes it replaced.
/// Names are time-ordered UUIDs, so a file a rebuild is writing right now (newer) stays.
pub(crate) fn remove_older(dir: &Path, keep: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().is_some_and(|e| e == "f32") && path.file_name() < keep.file_name() {
            let _ = std::fs::remove_file(path);
        }
    }
}

fn row_bytes(dimension: usize) -> u64 {
    dimension as u64 * 4
}

fn missing(key: u64) -> IndexError {
    IndexError::Index(zerodb_domain::Cause::msg(format!("no stored vector for key {key}")))
}
