//! [`ObjectStore`](zerodb_domain::files::ObjectStore) adapters on the `object_store` crate:
//! the local filesystem (the default, under the data directory), memory (tests), and S3 or
//! any S3-compatible server (feature `s3`).

use async_trait::async_trait;
use bytes::Bytes;
use bytes::BytesMut;
use futures_util::{StreamExt, TryStreamExt};
use object_store::path::Path;
use object_store::{GetOptions, GetRange, MultipartUpload, ObjectStoreExt, PutPayload};
use std::ops::Range;
use std::sync::Arc;
use std::time::Duration;
use zerodb_domain::Cause;
use zerodb_domain::files::{
    ByteStream, ObjectInfo, ObjectLocation, ObjectStore, ObjectStoreError, ObjectUpload,
};

#[cfg(feature = "s3")]
mod s3;
#[cfg(feature = "test-support")]
pub mod testing;
#[cfg(feature = "s3")]
pub use s3::S3Settings;

/// Bytes buffered per part before it is sent (S3's minimum part size is 5 MiB).
const PART_BYTES: usize = 5 * 1024 * 1024;

/// One `object_store` backend behind the domain's port.
pub struct ObjectStoreAdapter {
    store: Arc<dyn object_store::ObjectStore>,
    backend: &'static str,
    #[cfg(feature = "s3")]
    signer: Option<Arc<dyn object_store::signer::Signer>>,
}

#[derive(Debug, thiserror::Error)]
pub enum ObjectSetupError {
    #[error("cannot prepare the object directory {0}")]
    Directory(String, #[source] std::io::Error),
    #[error("invalid object store configuration")]
    Config(#[source] object_store::Error),
}

fn map_err(e: object_store::Error) -> ObjectStoreError {
    match e {
        object_store::Error::NotFound { .. } => ObjectStoreError::NotFound,
        object_store::Error::Generic { store, source } => {
            ObjectStoreError::Unavailable(Cause::msg(format!("{store}: {source}")))
        }
        other => ObjectStoreError::Internal(Cause::new(other)),
    }
}

fn path(location: &ObjectLocation) -> Result<Path, ObjectStoreError> {
    Path::parse(location.as_str()).map_err(|e| ObjectStoreError::Internal(Cause::new(e)))
}

impl ObjectStoreAdapter {
    /// Files under `dir`, created if missing. Uploads are staged beside their target and
    /// renamed into place when complete.
    pub fn local(dir: &std::path::Path) -> Result<Self, ObjectSetupError> {
        std::fs::create_dir_all(dir)
            .map_err(|e| ObjectSetupError::Directory(dir.display().to_string(), e))?;
        let store = object_store::local::LocalFileSystem::new_with_prefix(dir)
            .map_err(ObjectSetupError::Config)?;
        Ok(Self::wrap(Arc::new(store), "local"))
    }

    /// Held in this process only: for tests.
    pub fn memory() -> Self {
        Self::wrap(Arc::new(object_store::memory::InMemory::new()), "memory")
    }

    fn wrap(store: Arc<dyn object_store::ObjectStore>, backend: &'static str) -> Self {
        Self {
            store,
            backend,
            #[cfg(feature = "s3")]
            signer: None,
        }
    }
}

/// Sends one part at a time, awaiting each: the client's upload waits for the store, and
/// an upload holds at most one part in memory. (object_store's `WriteMultipart` spawns its
/// part uploads as tasks, which stalled inside the HTTP server's per-worker runtimes.)
struct Upload {
    upload: Box<dyn MultipartUpload>,
    buffer: BytesMut,
}

impl Upload {
    async fn send_part(&mut self, len: usize) -> Result<(), ObjectStoreError> {
        let part = PutPayload::from(self.buffer.split_to(len).freeze());
        self.upload.put_part(part).await.map_err(map_err)
    }
}

#[async_trait]
impl ObjectUpload for Upload {
    async fn write(&mut self, chunk: Bytes) -> Result<(), ObjectStoreError> {
        self.buffer.extend_from_slice(&chunk);
        while self.buffer.len() >= PART_BYTES {
            self.send_part(PART_BYTES).await?;
        }
        Ok(())
    }

    async fn finish(mut self: Box<Self>) -> Result<(), ObjectStoreError> {
        if !self.buffer.is_empty() {
            self.send_part(self.buffer.len()).await?;
        }
        self.upload.complete().await.map(|_| ()).map_err(map_err)
    }

    async fn abort(mut self: Box<Self>) -> Result<(), ObjectStoreError> {
        self.upload.abort().await.map_err(map_err)
    }
}

#[async_trait]
impl ObjectStore for ObjectStoreAdapter {
    fn backend(&self) -> &'static str {
        self.backend
    }

    async fn begin_upload(
        &self,
        location: &ObjectLocation,
    ) -> Result<Box<dyn ObjectUpload>, ObjectStoreError> {
        let upload = self.store.put_multipart(&path(location)?).await.map_err(map_err)?;
        Ok(Box::new(Upload { upload, buffer: BytesMut::with_capacity(PART_BYTES) }))
    }

    async fn read(
        &self,
        location: &ObjectLocation,
        range: Option<Range<u64>>,
    ) -> Result<ByteStream, ObjectStoreError> {
        let options = GetOptions { range: range.map(GetRange::Bounded), ..GetOptions::default() };
        let result = self.store.get_opts(&path(location)?, options).await.map_err(map_err)?;
        Ok(Box::pin(result.into_stream().map_err(map_err)))
    }

    async fn delete(&self, location: &ObjectLocation) -> Result<(), ObjectStoreError> {
        match self.store.delete(&path(location)?).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(map_err(e)),
        }
    }

    async fn list(&self, prefix: &str) -> Result<Vec<ObjectInfo>, ObjectStoreError> {
        let prefix = Path::parse(prefix.trim_end_matches('/'))
            .map_err(|e| ObjectStoreError::Internal(Cause::new(e)))?;
        self.store
            .list(Some(&prefix))
            .map(|meta| {
                meta.map(|m| ObjectInfo {
                    location: m.location.to_string(),
                    size: m.size,
                    last_modified: m.last_modified,
                })
                .map_err(map_err)
            })
            .try_collect()
            .await
    }

    async fn presigned_url(
        &self,
        location: &ObjectLocation,
        expires_in: Duration,
    ) -> Result<Option<String>, ObjectStoreError> {
        #[cfg(feature = "s3")]
        if let Some(signer) = &self.signer {
            let url = signer
                .signed_url(object_store::signer::Method::GET, &path(location)?, expires_in)
                .await
                .map_err(map_err)?;
            return Ok(Some(url.to_string()));
        }
        let _ = (location, expires_in);
        Ok(None)
    }
}
