//! `zerodb models pull`: a sentence-transformers model from the Hugging Face hub (or any
//! server that answers its API) into a local folder, each file checked against the hub's
//! digest before it takes its place: SHA-256 for files stored in LFS (the weights), the
//! git blob SHA-1 for the small files kept in git.

use futures_util::StreamExt;
use serde::Deserialize;
use sha1::Sha1;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use tokio::io::AsyncWriteExt;

/// Files of the sentence-transformers layout that are fetched when the model has them.
const WANTED: [&str; 10] = [
    "config.json",
    "tokenizer.json",
    "model.safetensors",
    "modules.json",
    "sentence_bert_config.json",
    "1_Pooling/config.json",
    "config_sentence_transformers.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "vocab.txt",
];
/// Without these the model cannot run.
const REQUIRED: [&str; 3] = ["config.json", "tokenizer.json", "model.safetensors"];

/// Why a pull failed; the destination keeps no partly written or unverified file.
#[derive(Debug, thiserror::Error)]
pub enum PullError {
    #[error("{0:?} is not a model name (owner/name, letters, digits, '-', '_', '.')")]
    InvalidName(String),
    #[error("the model hub did not answer: {0}")]
    Transport(#[from] reqwest::Error),
    #[error("the model hub answered {status} for {url}")]
    Status { status: u16, url: String },
    #[error(
        "{name} is not a sentence-transformers model with safetensors weights: {missing} is missing"
    )]
    NotSentenceTransformers { name: String, missing: String },
    #[error(
        "{file} does not match the hub's digest (expected {expected}, got {actual}); nothing was kept"
    )]
    DigestMismatch { file: String, expected: String, actual: String },
    #[error("{file}: the hub lists no digest for it")]
    NoDigest { file: String },
    #[error("writing {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
}

/// Where models come from.
#[derive(Debug, Clone)]
pub struct Hub {
    /// e.g. `https://huggingface.co` (the `HF_ENDPOINT` convention).
    pub endpoint: String,
    /// A branch, tag or commit; `main` by default.
    pub revision: String,
}

/// Told about each file as it downloads.
pub trait PullProgress: Send + Sync {
    fn file(&self, name: &str, size: u64);
    fn advanced(&self, bytes: u64);
}

/// What was fetched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pulled {
    pub dir: PathBuf,
    pub files: Vec<String>,
    pub bytes: u64,
}

#[derive(Deserialize)]
struct ModelInfo {
    #[serde(default)]
    siblings: Vec<Sibling>,
}

#[derive(Deserialize)]
struct Sibling {
    rfilename: String,
    size: Option<u64>,
    #[serde(rename = "blobId")]
    blob_id: Option<String>,
    lfs: Option<Lfs>,
}

#[derive(Deserialize)]
struct Lfs {
    sha256: String,
    size: u64,
}

fn valid_name(name: &str) -> bool {
    let ok = |part: &str| {
        !part.is_empty()
            && part != "."
            && part != ".."
            && part.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    match name.split_once('/') {
        Some((owner, model)) => ok(owner) && ok(model),
        None => ok(name),
    }
}

fn write_err(path: &Path) -> impl FnOnce(std::io::Error) -> PullError + '_ {
    move |source| PullError::Write { path: path.to_owned(), source }
}

/// Downloads `name` (e.g. `sentence-transformers/all-MiniLM-L6-v2`) into `dir`.
pub async fn pull(
    hub: &Hub,
    name: &str,
    dir: &Path,
    progress: &dyn PullProgress,
) -> Result<Pulled, PullError> {
    if !valid_name(name) {
        return Err(PullError::InvalidName(name.to_owned()));
    }
    let client = &reqwest::Client::new();
    let endpoint = hub.endpoint.trim_end_matches('/');
    let info_url = format!("{endpoint}/api/models/{name}/revision/{}?blobs=true", hub.revision);
    let response = client.get(&info_url).send().await?;
    if !response.status().is_success() {
        return Err(PullError::Status { status: response.status().as_u16(), url: info_url });
    }
    let info: ModelInfo = response.json().await?;
    let files: Vec<&Sibling> =
        info.siblings.iter().filter(|s| WANTED.contains(&s.rfilename.as_str())).collect();
    if let Some(missing) = REQUIRED.iter().find(|r| !files.iter().any(|f| f.rfilename == **r)) {
        return Err(PullError::NotSentenceTransformers {
            name: name.to_owned(),
            missing: (*missing).to_owned(),
        });
    }
    tokio::fs::create_dir_all(dir).await.map_err(write_err(dir))?;
    let mut pulled = Pulled { dir: dir.to_owned(), files: Vec::new(), bytes: 0 };
    for file in files {
        let url = format!("{endpoint}/{name}/resolve/{}/{}", hub.revision, file.rfilename);
        let size = file.lfs.as_ref().map(|l| l.size).or(file.size).unwrap_or(0);
        progress.file(&file.rfilename, size);
        let target = dir.join(&file.rfilename);
        if let Some(parent) = target.parent() {
            tokio::fs::create_dir_all(parent).await.map_err(write_err(parent))?;
        }
        let partial = target.with_extension("part");
        let result = fetch(client, &url, &partial, file, progress).await;
        if let Err(e) = result {
            let _ = tokio::fs::remove_file(&partial).await;
            return Err(e);
        }
        tokio::fs::rename(&partial, &target).await.map_err(write_err(&target))?;
        pulled.bytes += result.unwrap_or(0);
        pulled.files.push(file.rfilename.clone());
    }
    Ok(pulled)
}

/// Streams `url` into `path`, hashing on the way; answers the bytes written once the
/// digest matches.
async fn fetch(
    client: &reqwest::Client,
    url: &str,
    path: &Path,
    file: &Sibling,
    progress: &dyn PullProgress,
) -> Result<u64, PullError> {
    let response = client.get(url).send().await?;
    if !response.status().is_success() {
        return Err(PullError::Status { status: response.status().as_u16(), url: url.to_owned() });
    }
    let mut out = tokio::fs::File::create(path).await.map_err(write_err(path))?;
    let mut sha256 = Sha256::new();
    let mut content = Vec::new();
    let keep_for_blob = file.lfs.is_none();
    let mut written = 0u64;
    let mut body = response.bytes_stream();
    while let Some(chunk) = body.next().await {
        let chunk = chunk?;
        sha256.update(&chunk);
        if keep_for_blob {
            content.extend_from_slice(&chunk);
        }
        out.write_all(&chunk).await.map_err(write_err(path))?;
        written += chunk.len() as u64;
        progress.advanced(chunk.len() as u64);
    }
    out.flush().await.map_err(write_err(path))?;
    out.sync_all().await.map_err(write_err(path))?;
    let (expected, actual) = match (&file.lfs, &file.blob_id) {
        (Some(lfs), _) => (lfs.sha256.to_ascii_lowercase(), hex(&sha256.finalize())),
        (None, Some(blob)) => {
            // git's object id of a file: SHA-1 over "blob <size>\0" and the bytes.
            let mut sha1 = Sha1::new();
            sha1.update(format!("blob {}\0", content.len()).as_bytes());
            sha1.update(&content);
            (blob.to_ascii_lowercase(), hex(&sha1.finalize()))
        }
        (None, None) => return Err(PullError::NoDigest { file: file.rfilename.clone() }),
    };
    if expected != actual {
        return Err(PullError::DigestMismatch { file: file.rfilename.clone(), expected, actual });
    }
    Ok(written)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_cannot_leave_the_hub_path() {
        assert!(valid_name("sentence-transformers/all-MiniLM-L6-v2"));
        assert!(valid_name("all-MiniLM-L6-v2"));
        for bad in ["../etc", "a/../../b", "a/b/c", "", "a/", "a b/c", "a/b?x=1"] {
            assert!(!valid_name(bad), "{bad}");
        }
    }

    #[test]
    fn the_git_blob_digest_is_gits() {
        // `printf hello | git hash-object --stdin`
        let mut sha1 = Sha1::new();
        sha1.update(b"blob 5\0hello");
        assert_eq!(hex(&sha1.finalize()), "b6fc4c620b67d95f953a5c1c1230aaab5db5a1b0");
    }
}
