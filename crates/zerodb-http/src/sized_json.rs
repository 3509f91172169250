//! A JSON body extractor that reads the body into a buffer sized from `Content-Length`.
//!
//! actix's `web::Json` starts every body at 8 KiB and doubles it as chunks arrive: a batch
//! of 500 embeddings (2–3 MB of JSON) was copied nine times into ever larger, freshly
//! faulted memory, which perf showed as 10–15 % of an ingest's server CPU (page zeroing
//! and `memmove`). Everything else (the content-type rule, the limits, the errors) is the
//! same as `web::Json` with [`crate::extract::json_error`].

use crate::extract::json_error;
use actix_web::dev::Payload;
use actix_web::error::JsonPayloadError;
use actix_web::http::header::CONTENT_LENGTH;
use actix_web::mime;
use actix_web::{FromRequest, HttpMessage, HttpRequest};
use bytes::BytesMut;
use futures_util::StreamExt;
use serde::de::DeserializeOwned;
use std::future::Future;
use std::pin::Pin;

/// The most bytes a body may have; route-level data overrides the application's.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

/// A JSON request body, deserialized.
pub struct SizedJson<T>(pub T);

impl<T> SizedJson<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for SizedJson<T> {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let limit = req.app_data::<BodyLimit>().map_or(2 << 20, |l| l.0);
        let is_json = matches!(
            req.mime_type(),
            Ok(Some(mime)) if mime.subtype() == mime::JSON || mime.suffix() == Some(mime::JSON)
        );
        let length = req
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        let req = req.clone();
        let mut payload = payload.take();
        Box::pin(async move {
            let fail = |e: JsonPayloadError| json_error(e, &req);
            if !is_json {
                return Err(fail(JsonPayloadError::ContentType));
            }
            if let Some(length) = length
                && length > limit
            {
                return Err(fail(JsonPayloadError::OverflowKnownLength { length, limit }));
            }
            let mut body = BytesMut::with_capacity(length.unwrap_or(8192).min(limit));
            while let Some(chunk) = payload.next().await {
                let chunk = chunk.map_err(|e| fail(JsonPayloadError::Payload(e)))?;
                if body.len() + chunk.len() > limit {
                    return Err(fail(JsonPayloadError::Overflow { limit }));
                }
                body.extend_from_slice(&chunk);
            }
            serde_json::from_slice(&body)
                .map(SizedJson)
                .map_err(|e| fail(JsonPayloadError::Deserialize(e)))
        })
    }
}
