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

/// Embeddings arrive as JSON numbers and are kept as 32-bit floats: each array is read
/// element by element as serde_json parses it, every number converted to f32 and checked
/// to fit (422 naming its position when it does not). Measured on a batch of 500 × 384
/// numbers with the workspace's `float_roundtrip`: 9.4 ms, against 11.3 ms for taking the
/// array's raw text first and parsing its numbers apart (the text is scanned twice) and
/// 4.2 ms for the raw scan alone. The f64 step rounds twice; a number can only land on the
/// other f32 neighbour when it lies within about 2^-29 of a halfway point.
pub(crate) mod f32s {
    use serde::Deserializer;
    use serde::de::{DeserializeSeed, Error, SeqAccess, Visitor};
    use std::fmt;

    struct Array;

    impl<'de> Visitor<'de> for Array {
        type Value = Vec<f32>;

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("an array of numbers")
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<f32>, A::Error> {
            let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1 << 16));
            while let Some(x) = seq.next_element_seed(Element(out.len()))? {
                out.push(x);
            }
            Ok(out)
        }
    }

    /// The element at this index: any JSON number that fits a 32-bit float.
    struct Element(usize);

    impl<'de> DeserializeSeed<'de> for Element {
        type Value = f32;

        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<f32, D::Error> {
            d.deserialize_any(self)
        }
    }

    impl Element {
        fn not_a_number<E: Error>(&self) -> E {
            E::custom(format!("element {} is not a number", self.0))
        }
    }

    impl<'de> Visitor<'de> for Element {
        type Value = f32;

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            write!(f, "element {} to be a number", self.0)
        }

        fn visit_f64<E: Error>(self, v: f64) -> Result<f32, E> {
            let f = v as f32;
            if f.is_finite() {
                Ok(f)
            } else {
                Err(E::custom(format!(
                    "element {} ({v:e}) is outside the range of a 32-bit float",
                    self.0
                )))
            }
        }

        fn visit_i64<E: Error>(self, v: i64) -> Result<f32, E> {
            Ok(v as f32)
        }

        fn visit_u64<E: Error>(self, v: u64) -> Result<f32, E> {
            Ok(v as f32)
        }

        fn visit_str<E: Error>(self, _: &str) -> Result<f32, E> {
            Err(self.not_a_number())
        }

        fn visit_bool<E: Error>(self, _: bool) -> Result<f32, E> {
            Err(self.not_a_number())
        }

        fn visit_unit<E: Error>(self) -> Result<f32, E> {
            Err(self.not_a_number())
        }

        fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<f32, A::Error> {
            Err(self.not_a_number())
        }

        fn visit_map<A: serde::de::MapAccess<'de>>(self, _: A) -> Result<f32, A::Error> {
            Err(self.not_a_number())
        }
    }

    pub fn required<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f32>, D::Error> {
        d.deserialize_seq(Array)
    }

    struct Optional;

    impl<'de> Visitor<'de> for Optional {
        type Value = Option<Vec<f32>>;

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("an array of numbers or null")
        }

        fn visit_none<E: Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_unit<E: Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            required(d).map(Some)
        }
    }

    pub fn optional<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<f32>>, D::Error> {
        d.deserialize_option(Optional)
    }

    #[cfg(test)]
    mod tests {
        #[derive(Debug, serde::Deserialize)]
        struct Body {
            #[serde(deserialize_with = "super::required")]
            v: Vec<f32>,
        }

        #[derive(Debug, serde::Deserialize)]
        struct Maybe {
            #[serde(default, deserialize_with = "super::optional")]
            v: Option<Vec<f32>>,
        }

        #[test]
        fn optional_arrays_may_be_null_or_absent() {
            let read = |json: &str| serde_json::from_str::<Maybe>(json).map(|m| m.v);
            assert_eq!(read(r#"{"v": [1, 2.5]}"#).ok(), Some(Some(vec![1.0, 2.5])));
            assert_eq!(read(r#"{"v": null}"#).ok(), Some(None));
            assert_eq!(read("{}").ok(), Some(None));
            assert!(read(r#"{"v": ["x"]}"#).is_err_and(|e| e.is_data()));
        }

        fn read(json: &str) -> Result<Vec<f32>, String> {
            serde_json::from_slice::<Body>(json.as_bytes()).map(|b| b.v).map_err(|e| e.to_string())
        }

        #[test]
        fn numbers_are_read_as_f32_and_the_rest_refused() {
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
            // Beyond f64 it is not a number serde_json reads at all: a syntax error (400), as
            // in every other field.
            refused(r#"{"v": [-1e400]}"#, "number out of range");
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
            // Type errors are data errors (422); a cut-off array stays a syntax error (400).
            let data = serde_json::from_str::<Body>(r#"{"v": [1, "x"]}"#).expect_err("string");
            assert!(data.is_data());
            let eof = serde_json::from_str::<Body>(r#"{"v": [1, 2"#).expect_err("cut off");
            assert!(eof.is_eof());
        }
    }
}
