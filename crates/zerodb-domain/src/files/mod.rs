//! Files: objects with metadata. The bytes live behind [`ObjectStore`], the metadata in
//! [`FileRepository`]; a file is visible only once its metadata row exists.

mod names;

pub use names::{validate_content_type, validate_file_key, validate_file_name};

use crate::ProjectId;
use crate::error::Cause;
use crate::error::RepositoryError;
use async_trait::async_trait;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures_util::Stream;
use serde_json::{Map, Value};
use std::collections::HashSet;
use std::ops::Range;
use std::pin::Pin;
use std::time::Duration;
use uuid::Uuid;

pub const MAX_FILE_METADATA_BYTES: usize = 16 * 1024;

/// Whether a file's bytes are stored, or only its metadata was registered (the seed's form).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileStatus {
    Stored,
    Registered,
}

impl FileStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Stored => "stored",
            Self::Registered => "registered",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "stored" => Some(Self::Stored),
            "registered" => Some(Self::Registered),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct FileRecord {
    pub id: Uuid,
    /// The client's name for the file, unique in the project; never a storage path.
    pub file_key: String,
    pub file_name: String,
    pub content_type: String,
    pub size_bytes: Option<u64>,
    pub metadata: Map<String, Value>,
    /// Lowercase hex; computed while the bytes streamed in.
    pub sha256: Option<String>,
    pub status: FileStatus,
    pub created_at: DateTime<Utc>,
}

/// How recording a new file fails.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileRepositoryError {
    #[error("the project already has a file under this key")]
    KeyTaken,
    #[error(transparent)]
    Storage(#[from] RepositoryError),
}

#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait FileRepository: Send + Sync + 'static {
    /// MUST return `KeyTaken` when the project has a file with this key, `Storage(NotFound)`
    /// when the project does not exist.
    async fn insert(
        &self,
        project_id: ProjectId,
        record: FileRecord,
    ) -> Result<(), FileRepositoryError>;
    /// MUST return `NotFound` when the project has no such file.
    async fn get(&self, project_id: ProjectId, id: Uuid) -> Result<FileRecord, RepositoryError>;
    async fn key_taken(&self, project_id: ProjectId, key: &str) -> Result<bool, RepositoryError>;
    /// In key order, keys starting with `prefix`, strictly after `after`, at most `limit`.
    async fn list(
        &self,
        project_id: ProjectId,
        prefix: Option<String>,
        after: Option<String>,
        limit: u32,
    ) -> Result<Vec<FileRecord>, RepositoryError>;
    /// Removes and returns the record. MUST return `NotFound` when there is none.
    async fn delete(&self, project_id: ProjectId, id: Uuid) -> Result<FileRecord, RepositoryError>;
    /// Which of `ids` have a record in any project (for the orphan sweep).
    async fn existing(&self, ids: Vec<Uuid>) -> Result<HashSet<Uuid>, RepositoryError>;
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ObjectStoreError {
    #[error("object not found")]
    NotFound,
    /// The storage could not be reached or timed out.
    #[error("object storage unavailable")]
    Unavailable(#[source] Cause),
    #[error("object storage failure")]
    Internal(#[source] Cause),
}

/// Bytes as they stream out of storage.
pub type ByteStream = Pin<Box<dyn Stream<Item = Result<Bytes, ObjectStoreError>> + Send>>;

/// Where a file's bytes live: derived from ids only, so no client input reaches a path.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ObjectLocation(String);

pub const FILES_PREFIX: &str = "projects/";

impl ObjectLocation {
    pub fn for_file(project_id: ProjectId, file_id: Uuid) -> Self {
        Self(format!("{FILES_PREFIX}{}/files/{}", project_id.as_uuid(), file_id))
    }

    /// The prefix of every object location of a project's files.
    pub fn project_prefix(project_id: ProjectId) -> String {
        format!("{FILES_PREFIX}{}/", project_id.as_uuid())
    }

    /// The file id of a location this type made, `None` for anything else.
    pub fn file_id(location: &str) -> Option<Uuid> {
        let rest = location.strip_prefix(FILES_PREFIX)?;
        let (project, file) = rest.split_once("/files/")?;
        Uuid::parse_str(project).ok()?;
        Uuid::parse_str(file).ok()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A location for the contract tests of adapters.
    pub fn raw(location: impl Into<String>) -> Self {
        Self(location.into())
    }
}

/// An upload in progress; nothing is visible at its location before `finish`.
#[async_trait]
pub trait ObjectUpload: Send {
    /// Appends bytes; may wait while earlier parts are still being sent (back-pressure).
    async fn write(&mut self, chunk: Bytes) -> Result<(), ObjectStoreError>;
    async fn finish(self: Box<Self>) -> Result<(), ObjectStoreError>;
    /// Drops what was written.
    async fn abort(self: Box<Self>) -> Result<(), ObjectStoreError>;
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectInfo {
    pub location: String,
    pub size: u64,
    pub last_modified: DateTime<Utc>,
}

#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait ObjectStore: Send + Sync + 'static {
    /// `local`, `memory`, `s3`: for logs and status.
    fn backend(&self) -> &'static str;
    async fn begin_upload(
        &self,
        location: &ObjectLocation,
    ) -> Result<Box<dyn ObjectUpload>, ObjectStoreError>;
    /// The bytes in `range` (all when `None`). MUST return `NotFound` for a missing object.
    async fn read(
        &self,
        location: &ObjectLocation,
        range: Option<Range<u64>>,
    ) -> Result<ByteStream, ObjectStoreError>;
    /// Succeeds when the object is already gone.
    async fn delete(&self, location: &ObjectLocation) -> Result<(), ObjectStoreError>;
    /// Every object whose location starts with `prefix`.
    async fn list(&self, prefix: &str) -> Result<Vec<ObjectInfo>, ObjectStoreError>;
    /// A URL that downloads the object with no other credentials until `expires_in` has
    /// passed, when the backend signs its own (S3); `None` when it cannot.
    async fn presigned_url(
        &self,
        location: &ObjectLocation,
        expires_in: Duration,
    ) -> Result<Option<String>, ObjectStoreError>;
}
