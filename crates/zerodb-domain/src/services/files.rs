//! Files: streamed uploads with a SHA-256 computed on the way, ranged downloads, signed
//! download links, and the sweep of objects that lost (or never got) their metadata.

use crate::access::{AccessPolicy, Permission};
use crate::clock::Clock;
use crate::error::{ConflictKind, FieldViolation, ServiceError};
use crate::files::{
    ByteStream, FILES_PREFIX, FileRecord, FileRepository, FileRepositoryError, FileStatus,
    MAX_FILE_METADATA_BYTES, ObjectLocation, ObjectStore, ObjectStoreError, validate_content_type,
    validate_file_key, validate_file_name,
};
use crate::ids::ProjectId;
use crate::pagination::{Page, PageRequest, Position};
use crate::principal::{Area, Operation, Principal};
use crate::quotas::QuotaPolicy;
use crate::storable::map_violations;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures_util::{Stream, StreamExt};
use hmac::{Hmac, Mac};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

const READ: Permission = Permission::Data(Area::Files, Operation::Read);
const WRITE: Permission = Permission::Data(Area::Files, Operation::Write);
/// S3 refuses presigned URLs valid for longer than a week; local links follow suit.
pub const MAX_LINK_SECS: u64 = 7 * 24 * 3600;
const DEFAULT_CONTENT_TYPE: &str = "application/octet-stream";

#[derive(Debug, Clone)]
pub struct FileOptions {
    /// Largest accepted file.
    pub max_file_bytes: u64,
    /// Key of the HMAC that signs download links of stores that cannot sign their own.
    pub link_key: Vec<u8>,
}

/// What an upload says about the bytes that follow.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UploadInput {
    /// Defaults to the file name.
    pub file_key: Option<String>,
    pub file_name: String,
    pub content_type: Option<String>,
    pub metadata: Option<Value>,
    /// Hex SHA-256 the content must have.
    pub checksum_sha256: Option<String>,
    /// The size announced by the client (`Content-Length`), checked before any byte is read.
    pub declared_size: Option<u64>,
}

/// The seed's metadata-only registration: no bytes are stored.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RegisterInput {
    pub file_key: Option<String>,
    pub file_name: String,
    pub content_type: Option<String>,
    pub size_bytes: Option<u64>,
    pub metadata: Option<Value>,
}

/// A requested byte range, as in an HTTP `Range` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ByteRange {
    /// `first-last`, inclusive.
    FromTo(u64, u64),
    /// `first-`
    From(u64),
    /// `-n`: the last `n` bytes.
    Suffix(u64),
}

impl ByteRange {
    /// The half-open range within `size` bytes, `None` when none of it is inside.
    pub fn resolve(self, size: u64) -> Option<std::ops::Range<u64>> {
        let (start, end) = match self {
            Self::FromTo(first, last) if first <= last => (first, last.saturating_add(1).min(size)),
            Self::FromTo(..) => return None,
            Self::From(first) => (first, size),
            Self::Suffix(0) => return None,
            Self::Suffix(n) => (size.saturating_sub(n), size),
        };
        (start < end).then_some(start..end)
    }
}

pub struct Download {
    pub record: FileRecord,
    /// The part of the content being sent (all of it without a range).
    pub range: std::ops::Range<u64>,
    /// Whether a range was asked for (HTTP 206).
    pub partial: bool,
    pub body: ByteStream,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DownloadLink {
    /// Signed by the storage itself (S3).
    Absolute(String),
    /// A path on this server carrying its own signature; the caller adds scheme and host.
    ServerPath(String),
}

pub struct FileService {
    files: Arc<dyn FileRepository>,
    objects: Arc<dyn ObjectStore>,
    access: Arc<AccessPolicy>,
    options: FileOptions,
    quotas: Arc<QuotaPolicy>,
    clock: Arc<dyn Clock>,
}

fn storage_error(e: ObjectStoreError) -> ServiceError {
    match e {
        ObjectStoreError::NotFound => ServiceError::not_found("file content"),
        ObjectStoreError::Unavailable(m) => ServiceError::Unavailable(m),
        ObjectStoreError::Internal(m) => ServiceError::Internal(m),
    }
}

fn taken() -> ServiceError {
    ServiceError::conflict(
        ConflictKind::FileKeyTaken,
        "the project already has a file with this key",
    )
}

fn metadata(value: Option<Value>, v: &mut Vec<FieldViolation>) -> Map<String, Value> {
    match value {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m))
            if serde_json::to_vec(&m).map_or(usize::MAX, |b| b.len())
                <= MAX_FILE_METADATA_BYTES =>
        {
            map_violations("file_metadata", &m, v);
            m
        }
        Some(_) => {
            v.push(FieldViolation::new("file_metadata", "must be a JSON object of at most 16 KiB"));
            Map::new()
        }
    }
}

/// Checks key, name and type; returns the key (defaulting to the name) and the type.
fn names(
    file_key: Option<String>,
    file_name: &str,
    content_type: Option<String>,
    v: &mut Vec<FieldViolation>,
) -> (String, String) {
    if let Err(reason) = validate_file_name(file_name) {
        v.push(FieldViolation::new("file_name", reason));
    }
    let key = file_key.unwrap_or_else(|| file_name.to_owned());
    if let Err(reason) = validate_file_key(&key) {
        v.push(FieldViolation::new("file_key", reason));
    }
    let content_type = content_type.unwrap_or_else(|| DEFAULT_CONTENT_TYPE.to_owned());
    if let Err(reason) = validate_content_type(&content_type) {
        v.push(FieldViolation::new("content_type", reason));
    }
    (key, content_type)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl FileService {
    pub fn new(
        files: Arc<dyn FileRepository>,
        objects: Arc<dyn ObjectStore>,
        access: Arc<AccessPolicy>,
        options: FileOptions,
        quotas: Arc<QuotaPolicy>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self { files, objects, access, options, quotas, clock }
    }

    pub fn backend(&self) -> &'static str {
        self.objects.backend()
    }

    /// Streams `body` into storage and records the file. The bytes are hashed and counted
    /// as they pass; nothing is kept when the upload fails, exceeds the size limit or does
    /// not match the announced checksum.
    pub async fn upload<S, E>(
        &self,
        who: &Principal,
        project_id: ProjectId,
        input: UploadInput,
        mut body: S,
    ) -> Result<FileRecord, ServiceError>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let project = self.access.enabled_project(who, project_id, WRITE).await?;
        let mut v = Vec::new();
        let (file_key, content_type) =
            names(input.file_key, &input.file_name, input.content_type, &mut v);
        let metadata = metadata(input.metadata, &mut v);
        let expected = input.checksum_sha256.map(|c| c.trim().to_ascii_lowercase());
        if expected
            .as_ref()
            .is_some_and(|c| c.len() != 64 || !c.bytes().all(|b| b.is_ascii_hexdigit()))
        {
            v.push(FieldViolation::new("checksum", "must be a hex SHA-256 (64 characters)"));
        }
        if !v.is_empty() {
            return Err(ServiceError::InvalidInput(v));
        }
        let limit = self.options.max_file_bytes;
        let too_large = || ServiceError::TooLarge { field: "file".into(), limit: limit as usize };
        if input.declared_size.is_some_and(|n| n > limit) {
            return Err(too_large());
        }
        // The project's file-bytes quota caps this upload too; bytes past it are refused
        // and nothing is kept.
        let quota = self.quotas.effective(&project).max_file_bytes;
        let left = self.quotas.file_bytes_left(&project).await?;
        let over_quota = || {
            let q = quota.unwrap_or_default();
            crate::quotas::exceeded(
                crate::quotas::QuotaResource::FileBytes,
                q,
                q - left.unwrap_or_default(),
            )
        };
        if left.is_some_and(|left| input.declared_size.unwrap_or(1) > left) {
            return Err(over_quota());
        }
        if self.files.key_taken(project_id, &file_key).await? {
            return Err(taken());
        }

        let id = Uuid::now_v7();
        let location = ObjectLocation::for_file(project_id, id);
        let mut upload = self.objects.begin_upload(&location).await.map_err(storage_error)?;
        let mut hasher = Sha256::new();
        let mut size: u64 = 0;
        let failure = loop {
            match body.next().await {
                None => break None,
                Some(Err(e)) => {
                    break Some(ServiceError::invalid("file", format!("upload interrupted: {e}")));
                }
                Some(Ok(chunk)) => {
                    size += chunk.len() as u64;
                    if size > limit {
                        break Some(too_large());
                    }
                    if left.is_some_and(|left| size > left) {
                        break Some(over_quota());
                    }
                    hasher.update(&chunk);
                    if let Err(e) = upload.write(chunk).await {
                        break Some(storage_error(e));
                    }
                }
            }
        };
        if let Some(e) = failure {
            if let Err(abort) = upload.abort().await {
                tracing::warn!(error = %abort, "aborting a failed upload failed; the sweep removes it");
            }
            return Err(e);
        }
        upload.finish().await.map_err(storage_error)?;
        let sha256 = hex(&hasher.finalize());
        if let Some(expected) = expected
            && expected != sha256
        {
            self.remove_object(&location).await;
            return Err(ServiceError::ChecksumMismatch { expected, actual: sha256 });
        }
        let record = FileRecord {
            id,
            file_key,
            file_name: input.file_name,
            content_type,
            size_bytes: Some(size),
            metadata,
            sha256: Some(sha256),
            status: FileStatus::Stored,
            created_at: self.clock.now(),
        };
        if let Err(e) = self.files.insert(project_id, record.clone()).await {
            self.remove_object(&location).await;
            return Err(match e {
                FileRepositoryError::KeyTaken => taken(),
                FileRepositoryError::Storage(e) => ServiceError::from_repo(e, "project"),
            });
        }
        Ok(record)
    }

    async fn remove_object(&self, location: &ObjectLocation) {
        if let Err(e) = self.objects.delete(location).await {
            tracing::warn!(error = %e, "removing an unwanted object failed; the sweep removes it");
        }
    }

    /// Records metadata only, as the earlier system did; marked `registered`.
    pub async fn register(
        &self,
        who: &Principal,
        project_id: ProjectId,
        input: RegisterInput,
    ) -> Result<FileRecord, ServiceError> {
        let project = self.access.enabled_project(who, project_id, WRITE).await?;
        let mut v = Vec::new();
        let (file_key, content_type) =
            names(input.file_key, &input.file_name, input.content_type, &mut v);
        let metadata = metadata(input.metadata, &mut v);
        if !v.is_empty() {
            return Err(ServiceError::InvalidInput(v));
        }
        // A declared size counts toward the file-bytes quota like stored content.
        if let Some(size) = input.size_bytes {
            self.quotas.check_add(&project, crate::quotas::QuotaResource::FileBytes, size).await?;
        }
        let record = FileRecord {
            id: Uuid::now_v7(),
            file_key,
            file_name: input.file_name,
            content_type,
            size_bytes: input.size_bytes,
            metadata,
            sha256: None,
            status: FileStatus::Registered,
            created_at: self.clock.now(),
        };
        self.files.insert(project_id, record.clone()).await.map_err(|e| match e {
            FileRepositoryError::KeyTaken => taken(),
            FileRepositoryError::Storage(e) => ServiceError::from_repo(e, "project"),
        })?;
        Ok(record)
    }

    pub async fn get(
        &self,
        who: &Principal,
        project_id: ProjectId,
        id: Uuid,
    ) -> Result<FileRecord, ServiceError> {
        self.access.enabled_project(who, project_id, READ).await?;
        self.files.get(project_id, id).await.map_err(|e| ServiceError::from_repo(e, "file"))
    }

    /// In key order, optionally only keys under `prefix`.
    pub async fn list(
        &self,
        who: &Principal,
        project_id: ProjectId,
        prefix: Option<String>,
        page: PageRequest,
    ) -> Result<Page<FileRecord>, ServiceError> {
        self.access.enabled_project(who, project_id, READ).await?;
        if prefix.as_ref().is_some_and(|p| p.len() > 1024 || p.contains('\0')) {
            return Err(ServiceError::invalid("prefix", "must be at most 1024 bytes without NUL"));
        }
        let after = page.key()?.map(str::to_owned);
        let records = self.files.list(project_id, prefix, after, page.limit.get() + 1).await?;
        Ok(Page::from_overfetch(records, page.limit, |r| Position::Key { f: r.file_key.clone() }))
    }

    /// The content (or the asked-for part of it).
    pub async fn download(
        &self,
        who: &Principal,
        project_id: ProjectId,
        id: Uuid,
        range: Option<ByteRange>,
    ) -> Result<Download, ServiceError> {
        let record = self.get(who, project_id, id).await?;
        self.open(project_id, record, range).await
    }

    async fn open(
        &self,
        project_id: ProjectId,
        record: FileRecord,
        range: Option<ByteRange>,
    ) -> Result<Download, ServiceError> {
        let (FileStatus::Stored, Some(size)) = (record.status, record.size_bytes) else {
            return Err(ServiceError::not_found("file content"));
        };
        let (range, partial) = match range {
            None => (0..size, false),
            Some(r) => (r.resolve(size).ok_or(ServiceError::RangeNotSatisfiable { size })?, true),
        };
        let location = ObjectLocation::for_file(project_id, record.id);
        let body: ByteStream = if range.is_empty() {
            Box::pin(futures_util::stream::empty())
        } else {
            self.objects.read(&location, Some(range.clone())).await.map_err(storage_error)?
        };
        Ok(Download { record, range, partial, body })
    }

    pub async fn delete(
        &self,
        who: &Principal,
        project_id: ProjectId,
        id: Uuid,
    ) -> Result<(), ServiceError> {
        self.access.enabled_project(who, project_id, WRITE).await?;
        let record = self
            .files
            .delete(project_id, id)
            .await
            .map_err(|e| ServiceError::from_repo(e, "file"))?;
        if record.status == FileStatus::Stored {
            // The record is gone, so the file is; bytes left behind by a failure are swept.
            self.remove_object(&ObjectLocation::for_file(project_id, id)).await;
        }
        Ok(())
    }

    /// A download link valid for `expires_in` that needs no other credentials.
    pub async fn link(
        &self,
        who: &Principal,
        project_id: ProjectId,
        id: Uuid,
        expires_in: Option<u64>,
    ) -> Result<(DownloadLink, DateTime<Utc>), ServiceError> {
        let expires_in = expires_in.unwrap_or(3600);
        if !(1..=MAX_LINK_SECS).contains(&expires_in) {
            return Err(ServiceError::invalid("expires_in", "must be 1 to 604800 seconds"));
        }
        let record = self.get(who, project_id, id).await?;
        if record.status != FileStatus::Stored {
            return Err(ServiceError::not_found("file content"));
        }
        let expires_at = self.clock.now() + chrono::Duration::seconds(expires_in as i64);
        let location = ObjectLocation::for_file(project_id, id);
        let presigned = self
            .objects
            .presigned_url(&location, Duration::from_secs(expires_in))
            .await
            .map_err(storage_error)?;
        let link = match presigned {
            Some(url) => DownloadLink::Absolute(url),
            None => {
                let expires = expires_at.timestamp();
                let signature = self.signature(project_id, id, expires);
                DownloadLink::ServerPath(format!(
                    "/api/v1/files/{id}/download?project_id={}&expires={expires}&signature={signature}",
                    project_id.as_uuid()
                ))
            }
        };
        Ok((link, expires_at))
    }

    fn mac(&self, project_id: ProjectId, id: Uuid, expires: i64) -> Hmac<Sha256> {
        // HMAC accepts keys of any length, so this cannot fail.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.options.link_key)
            .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
        mac.update(format!("{}:{id}:{expires}", project_id.as_uuid()).as_bytes());
        mac
    }

    fn signature(&self, project_id: ProjectId, id: Uuid, expires: i64) -> String {
        hex(&self.mac(project_id, id, expires).finalize().into_bytes())
    }

    /// Serves a link made by [`Self::link`]: the signature must match and be unexpired.
    pub async fn download_signed(
        &self,
        project_id: ProjectId,
        id: Uuid,
        expires: i64,
        signature: &str,
        range: Option<ByteRange>,
    ) -> Result<Download, ServiceError> {
        let bytes: Option<Vec<u8>> = (signature.len() == 64)
            .then(|| {
                (0..32).map(|i| u8::from_str_radix(&signature[i * 2..i * 2 + 2], 16).ok()).collect()
            })
            .flatten();
        let valid =
            bytes.is_some_and(|b| self.mac(project_id, id, expires).verify_slice(&b).is_ok());
        if !valid {
            return Err(ServiceError::Forbidden {
                reason: "invalid download link signature".into(),
            });
        }
        if self.clock.now().timestamp() > expires {
            return Err(ServiceError::Forbidden { reason: "the download link has expired".into() });
        }
        let record =
            self.files.get(project_id, id).await.map_err(|e| ServiceError::from_repo(e, "file"))?;
        self.open(project_id, record, range).await
    }

    /// Deletes stored objects that have no file record and are older than `grace`: bytes
    /// of uploads cut short by a crash, of failed deletes, and of deleted projects.
    pub async fn sweep_orphans(&self, grace: Duration) -> Result<usize, ServiceError> {
        let cutoff = self.clock.now() - chrono::Duration::from_std(grace).unwrap_or_default();
        let objects = self.objects.list(FILES_PREFIX).await.map_err(storage_error)?;
        let candidates: Vec<(String, Uuid)> = objects
            .into_iter()
            .filter(|o| o.last_modified < cutoff)
            .filter_map(|o| ObjectLocation::file_id(&o.location).map(|id| (o.location, id)))
            .collect();
        let mut removed = 0;
        for chunk in candidates.chunks(1000) {
            let known = self.files.existing(chunk.iter().map(|(_, id)| *id).collect()).await?;
            for (location, id) in chunk {
                if !known.contains(id) {
                    self.objects
                        .delete(&ObjectLocation::raw(location.clone()))
                        .await
                        .map_err(storage_error)?;
                    removed += 1;
                }
            }
        }
        Ok(removed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_resolve_like_http() {
        assert_eq!(ByteRange::FromTo(0, 9).resolve(100), Some(0..10));
        assert_eq!(ByteRange::FromTo(90, 200).resolve(100), Some(90..100));
        assert_eq!(ByteRange::FromTo(100, 200).resolve(100), None);
        assert_eq!(ByteRange::FromTo(5, 4).resolve(100), None);
        assert_eq!(ByteRange::From(95).resolve(100), Some(95..100));
        assert_eq!(ByteRange::From(100).resolve(100), None);
        assert_eq!(ByteRange::Suffix(10).resolve(100), Some(90..100));
        assert_eq!(ByteRange::Suffix(500).resolve(100), Some(0..100));
        assert_eq!(ByteRange::Suffix(0).resolve(100), None);
        assert_eq!(ByteRange::From(0).resolve(0), None);
    }

    #[test]
    fn locations_round_trip_and_nothing_else_parses() {
        let (project, file) = (ProjectId::from_uuid(Uuid::now_v7()), Uuid::now_v7());
        let location = ObjectLocation::for_file(project, file);
        assert_eq!(ObjectLocation::file_id(location.as_str()), Some(file));
        for other in ["projects/x/files/y", "other/thing", "projects/", ""] {
            assert_eq!(ObjectLocation::file_id(other), None);
        }
    }
}
