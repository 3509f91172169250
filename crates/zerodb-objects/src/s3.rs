//! S3 and S3-compatible servers (MinIO, moto, ...).

use crate::{ObjectSetupError, ObjectStoreAdapter};
use object_store::aws::AmazonS3Builder;
use std::sync::Arc;

#[derive(Clone, PartialEq, Eq)]
pub struct S3Settings {
    pub bucket: String,
    pub region: String,
    /// For S3-compatible servers, e.g. `http://127.0.0.1:9000`; AWS when absent.
    pub endpoint: Option<String>,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
    /// `bucket` in the path instead of the host name, as most S3-compatible servers want.
    pub path_style: bool,
    /// Accept `http://` endpoints.
    pub allow_http: bool,
}

impl std::fmt::Debug for S3Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Settings")
            .field("bucket", &self.bucket)
            .field("region", &self.region)
            .field("endpoint", &self.endpoint)
            .field("access_key_id", &self.access_key_id.as_ref().map(|_| "[redacted]"))
            .field("secret_access_key", &self.secret_access_key.as_ref().map(|_| "[redacted]"))
            .field("path_style", &self.path_style)
            .finish()
    }
}

impl ObjectStoreAdapter {
    pub fn s3(settings: &S3Settings) -> Result<Self, ObjectSetupError> {
        let mut builder = AmazonS3Builder::new()
            .with_bucket_name(&settings.bucket)
            .with_region(&settings.region)
            .with_allow_http(settings.allow_http)
            .with_virtual_hosted_style_request(!settings.path_style);
        if let Some(endpoint) = &settings.endpoint {
            builder = builder.with_endpoint(endpoint);
        }
        if let Some(key) = &settings.access_key_id {
            builder = builder.with_access_key_id(key);
        }
        if let Some(secret) = &settings.secret_access_key {
            builder = builder.with_secret_access_key(secret);
        }
        let store = Arc::new(builder.build().map_err(ObjectSetupError::Config)?);
        let mut adapter = Self::wrap(store.clone(), "s3");
        adapter.signer = Some(store);
        Ok(adapter)
    }
}
