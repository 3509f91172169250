//! Per-request observability: a request id on every request (taken from a sane incoming
//! `X-Request-Id` or generated, echoed on the response, attached to the log span and to
//! error bodies), request metrics, and one log line per request.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use std::time::Instant;
use tracing::Instrument;

pub const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

tokio::task_local! {
    static REQUEST_ID: String;
}

/// The id of the request being handled, when called inside one.
pub fn current_request_id() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}

fn acceptable(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// The method as a metric label: the standard methods by name, anything else as `OTHER`,
/// so a client inventing methods cannot grow the label set without bound.
fn method_label(method: &actix_web::http::Method) -> &'static str {
    use actix_web::http::Method;
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}

pub async fn observe_requests(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let id = req
        .headers()
        .get(&X_REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| acceptable(v))
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let span = tracing::info_span!("request", request_id = %id, method = %req.method(), path = %req.path());
    let started = Instant::now();
    // Handlers and extractors turn their errors into responses inside this scope, so error
    // bodies carry the id. (The request must not be cloned here: routing mutates it.)
    let mut response = REQUEST_ID
        .scope(id.clone(), next.call(req).instrument(span.clone()))
        .await?
        .map_into_boxed_body();
    let elapsed = started.elapsed();
    if let Some(state) = response.request().app_data::<actix_web::web::Data<crate::AppState>>() {
        let route = response.request().match_pattern().unwrap_or_else(|| "unmatched".into());
        let method = method_label(response.request().method());
        state.metrics.observe(method, &route, response.status().as_u16(), elapsed.as_secs_f64());
    }
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(X_REQUEST_ID, value);
    }
    span.in_scope(|| {
        tracing::info!(
            status = response.status().as_u16(),
            elapsed_ms = elapsed.as_secs_f64() * 1000.0,
            "request finished"
        );
    });
    Ok(response)
}
