//! The web console at `/console`: static ES modules, HTML and CSS compiled into the binary.
//! It is a client of the public REST API with the signed-in user's bearer token, so it
//! never has more power than that user.

use crate::error::{ApiError, ErrorCode};
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use include_dir::{Dir, include_dir};

static ASSETS: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/console");

/// Scripts only from this origin (no inline script), no framing, no plugins, and requests
/// only to this origin's API.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; \
     base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/console").route(web::get().to(index)))
        .service(web::resource("/console/{path:.*}").route(web::get().to(asset)));
}

async fn index() -> HttpResponse {
    serve("index.html")
}

async fn asset(req: HttpRequest) -> HttpResponse {
    let path = req.match_info().get("path").unwrap_or_default();
    serve(if path.is_empty() { "index.html" } else { path })
}

fn serve(path: &str) -> HttpResponse {
    let Some(file) = ASSETS.get_file(path) else {
        let missing = ApiError::new(ErrorCode::NotFound, "no such console asset");
        return missing.error_response();
    };
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, content_type(path)))
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-cache")))
        .insert_header(("Content-Security-Policy", CONTENT_SECURITY_POLICY))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header(("X-Frame-Options", "DENY"))
        .insert_header(("Referrer-Policy", "no-referrer"))
        .body(file.contents())
}

/// The console ships four kinds of file; a MIME-guessing crate would be a dependency for
/// a five-line table.
fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next() {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        _ => "application/octet-stream",
    }
}
