//! Route modules; each exposes `config(cfg)` and its handlers.

pub mod admin;
pub mod agent_logs;
pub mod api_keys;
pub mod auth;
pub mod database;
pub mod events;
pub mod files;
pub mod health;
pub mod memory;
pub mod projects;
pub mod rlhf;
pub mod tables;
pub mod vectors;

use crate::error::{ApiError, ErrorCode};
use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use zerodb_domain::ServiceError;
use zerodb_domain::pagination::{Page, PageRequest};

/// `limit` and `cursor` of every list endpoint.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    /// Page size, 1..=1000 (default 50).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
    /// Opaque cursor from a previous page's `next_cursor`.
    pub cursor: Option<String>,
}

impl ListParams {
    pub fn page(&self) -> Result<PageRequest, ServiceError> {
        PageRequest::parse(self.limit, self.cursor.as_deref())
    }
}

/// `{"items": [...], "next_cursor": "..." | null}`
#[derive(Debug, Serialize, ToSchema)]
pub struct ListResponse<T: ToSchema> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T: ToSchema> ListResponse<T> {
    pub fn from_page<U>(page: Page<U>, f: impl FnMut(U) -> T) -> Self {
        let page = page.map(f);
        Self { items: page.items, next_cursor: page.next_cursor }
    }
}

/// The methods each route pattern serves, for the `Allow` header of 405 answers (RFC 9110
/// requires it). Read from the OpenAPI document, which a test keeps equal to the routes.
pub struct AllowedMethods(std::collections::HashMap<String, String>);

impl AllowedMethods {
    pub fn from_openapi(doc: &utoipa::openapi::OpenApi) -> Self {
        let mut map = std::collections::HashMap::new();
        for (path, item) in &doc.paths.paths {
            let methods: Vec<&str> = [
                (item.get.is_some(), "GET"),
                (item.post.is_some(), "POST"),
                (item.put.is_some(), "PUT"),
                (item.patch.is_some(), "PATCH"),
                (item.delete.is_some(), "DELETE"),
            ]
            .into_iter()
            .filter_map(|(has, m)| has.then_some(m))
            .collect();
            map.insert(path.clone(), methods.join(", "));
        }
        Self(map)
    }
}

pub async fn method_not_allowed(req: actix_web::HttpRequest) -> HttpResponse {
    let allowed = req
        .match_pattern()
        .and_then(|p| {
            req.app_data::<web::Data<AllowedMethods>>().and_then(|m| m.0.get(&p).cloned())
        })
        .unwrap_or_default();
    let err = ApiError::new(ErrorCode::MethodNotAllowed, "method not allowed on this path");
    let mut response = actix_web::ResponseError::error_response(&err);
    if let Ok(value) = actix_web::http::header::HeaderValue::from_str(&allowed) {
        response.headers_mut().insert(actix_web::http::header::ALLOW, value);
    }
    response
}

pub async fn route_not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::new(ErrorCode::NotFound, "no such endpoint"))
}

/// A resource whose unsupported methods answer a JSON 405.
pub fn resource(path: &str) -> actix_web::Resource {
    web::resource(path).default_service(web::to(method_not_allowed))
}

/// Embeddings arrive as JSON numbers and are kept as 32-bit floats. The array is taken as
/// its JSON text (serde_json has already checked that it is valid JSON) and each element is
/// parsed straight to the nearest f32 by the standard library, an exact and fast algorithm.
/// Reading it element by element through serde cost three passes per number (serde_json's
/// exact f64 parser, kept for metadata, or a raw value per element with its own UTF-8
/// check), the largest share of an upsert's CPU; the f64 step also rounded twice. A number
/// outside the f32 range is refused with a validation error (422) naming its position.
/// Request bodies are read from their bytes, so the JSON text is at hand.
pub(crate) mod f32s {
    use serde::Deserialize;
    use serde::de::{Deserializer, Error};
    use serde_json::value::RawValue;

    fn skip_whitespace(bytes: &[u8], mut at: usize) -> usize {
        while matches!(bytes.get(at), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            at += 1;
        }
        at
    }

    /// One pass over the array's text, which serde_json has already checked to be one valid
    /// JSON value: each element's number characters are taken and parsed to the nearest f32
    /// by the standard library, so there is no `f64` detour (serde_json's exact f64 parse
    /// was the slower path) and no per-element raw value. The first element that is not a
    /// number (a string, `null`, an array...) starts with none of them and is refused.
    fn parse<E: Error>(text: &str) -> Result<Vec<f32>, E> {
        let bytes = text.as_bytes();
        let mut at = skip_whitespace(bytes, 0);
        if bytes.get(at) != Some(&b'[') {
            return Err(E::custom("expected an array of numbers"));
        }
        at = skip_whitespace(bytes, at + 1);
        let mut out = Vec::with_capacity(bytes.len() / 8);
        if bytes.get(at) == Some(&b']') {
            return Ok(out);
        }
        loop {
            let i = out.len();
            let start = at;
            while matches!(bytes.get(at), Some(b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E')) {
                at += 1;
            }
            // The slice ends on an ASCII byte, so it is a valid `str`.
            let element = &text[start..at];
            let f: f32 = match element.parse() {
                Ok(f) => f,
                Err(_) => return Err(E::custom(format!("element {i} is not a number"))),
            };
            if !f.is_finite() {
                return Err(E::custom(format!(
                    "element {i} ({element}) is outside the range of a 32-bit float"
                )));
            }
            out.push(f);
            at = skip_whitespace(bytes, at);
            match bytes.get(at) {
                Some(b',') => at = skip_whitespace(bytes, at + 1),
                Some(b']') => return Ok(out),
                _ => return Err(E::custom(format!("element {} is not a number", i + 1))),
            }
        }
    }

    pub fn required<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f32>, D::Error> {
        parse(<&'de RawValue>::deserialize(d)?.get())
    }

    pub fn optional<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<f32>>, D::Error> {
        match Option::<&'de RawValue>::deserialize(d)? {
            Some(raw) => parse(raw.get()).map(Some),
            None => Ok(None),
        }
    }

    #[cfg(test)]
    mod tests {
        #[derive(Debug, serde::Deserialize)]
        struct Body {
            #[serde(deserialize_with = "super::required")]
            v: Vec<f32>,
        }

        fn read(json: &str) -> Result<Vec<f32>, String> {
            serde_json::from_slice::<Body>(json.as_bytes()).map(|b| b.v).map_err(|e| e.to_string())
        }

        #[test]
        fn numbers_are_read_to_the_nearest_f32_and_the_rest_refused() {
            assert_eq!(
                read(r#"{"v": [1, -2.5e-3, 0, 0.1, 3.4028235e38]}"#),
                Ok(vec![1.0, -2.5e-3, 0.0, 0.1, f32::MAX])
            );
            assert_eq!(read(r#"{"v": []}"#), Ok(vec![]));
            assert_eq!(read("{\"v\": [ 1 ,\n\t2\r\n ]}"), Ok(vec![1.0, 2.0]));
            assert_eq!(read(r#"{"v": [ ]}"#), Ok(vec![]));
            let refused = |json: &str, why: &str| {
                let e = read(json).expect_err(json);
                assert!(e.contains(why), "{json}: {e}");
            };
            refused(r#"{"v": [1, 1e39]}"#, "element 1 (1e39) is outside the range");
            refused(r#"{"v": [-1e400]}"#, "outside the range");
            refused(r#"{"v": ["1"]}"#, "element 0 is not a number");
            refused(r#"{"v": [null]}"#, "element 0 is not a number");
            refused(r#"{"v": [[1]]}"#, "element 0 is not a number");
            refused(r#"{"v": 1}"#, "an array of numbers");
            refused(r#"{"v": [NaN]}"#, "expected value");
            refused(r#"{"v": ["a,b", 1]}"#, "element 0 is not a number");
            refused(r#"{"v": [1, {"a": 1}]}"#, "element 1 is not a number");
            refused(r#"{"v": [1, true]}"#, "element 1 is not a number");
            refused(r#"{"v": [1, [2, 3]]}"#, "element 1 is not a number");
            refused(r#"{"v": null}"#, "an array of numbers");
        }
    }
}
