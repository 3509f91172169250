//! Handler tests: the real routes, extractors and error mapping over mocked ports.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use actix_web::middleware::from_fn;
use actix_web::{App, test, web};
use async_trait::async_trait;
use chrono::Utc;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use zerodb_domain::admin::MockAdminRepository;
use zerodb_domain::agent_logs::MockAgentLogRepository;
use zerodb_domain::api_keys::MockApiKeyRepository;
use zerodb_domain::database::DatabaseConfig;
use zerodb_domain::events::MockEventBus;
use zerodb_domain::files::{MockFileRepository, MockObjectStore};
use zerodb_domain::memory::{Embedders, MockEmbeddingProvider, MockMemoryStore};
use zerodb_domain::principal::Role;
use zerodb_domain::projects::{MockProjectRepository, Project, ProjectRepositoryError};
use zerodb_domain::rate_limit::{MockRateLimiter, RateDecision, RateLimit};
use zerodb_domain::rlhf::MockRlhfRepository;
use zerodb_domain::security::{MockPasswordHasher, TokenIssuer};
use zerodb_domain::services::{FileOptions, Ports, ServiceOptions, Services};
use zerodb_domain::tables::MockTableRepository;
use zerodb_domain::usage::MockUsageRepository;
use zerodb_domain::users::MockUserRepository;
use zerodb_domain::vectors::MockVectorStore;

struct CharCounter;

impl zerodb_domain::memory::TokenCounter for CharCounter {
    fn count(&self, text: &str) -> usize {
        text.len()
    }
    fn name(&self) -> &'static str {
        "chars"
    }
}
use zerodb_domain::{Cause, ProjectId, RepositoryError, UserId};
use zerodb_http::metrics::{HttpMetrics, MetricsSnapshot, MetricsSource};
use zerodb_http::{AppState, HttpLimits, ReadinessProbe};
use zerodb_security::JwtTokenIssuer;

struct Probe(bool);

#[async_trait]
impl ReadinessProbe for Probe {
    async fn check(&self) -> Result<(), String> {
        if self.0 { Ok(()) } else { Err("database down".into()) }
    }
}

const SECRET: &[u8] = b"handler-test-secret-handler-test-secret";

fn issuer() -> JwtTokenIssuer {
    JwtTokenIssuer::new(SECRET, "zerodb", Duration::from_secs(600))
}

fn bearer(user: UserId) -> (&'static str, String) {
    ("authorization", format!("Bearer {}", issuer().issue(user, Role::User).unwrap().token))
}

fn project(owner: UserId) -> Project {
    Project {
        id: ProjectId::new(),
        owner_id: owner,
        name: "p".into(),
        description: None,
        is_active: true,
        database_enabled: true,
        database_config: DatabaseConfig::default(),
        quotas: Default::default(),
        created_at: Utc::now(),
        updated_at: Utc::now(),
    }
}

struct NoMetrics;

#[async_trait]
impl MetricsSource for NoMetrics {
    async fn snapshot(&self) -> MetricsSnapshot {
        MetricsSnapshot::default()
    }
}

fn state(projects: MockProjectRepository, ready: bool) -> web::Data<AppState> {
    let mut limiter = MockRateLimiter::new();
    limiter.expect_check().returning(|_, _| RateDecision::Allowed);
    state_with(projects, ready, limiter)
}

fn state_with(
    projects: MockProjectRepository,
    ready: bool,
    limiter: MockRateLimiter,
) -> web::Data<AppState> {
    let mut usage = MockUsageRepository::new();
    usage.expect_add().returning(|_| Ok(()));
    let ports = Ports {
        users: Arc::new(MockUserRepository::new()),
        projects: Arc::new(projects),
        api_keys: Arc::new(MockApiKeyRepository::new()),
        tables: Arc::new(MockTableRepository::new()),
        rlhf: Arc::new(MockRlhfRepository::new()),
        agent_logs: Arc::new(MockAgentLogRepository::new()),
        admin: Arc::new(MockAdminRepository::new()),
        usage: Arc::new(usage),
        events: Arc::new(MockEventBus::new()),
        vectors: Arc::new(MockVectorStore::new()),
        memory: Arc::new(MockMemoryStore::new()),
        files: Arc::new(MockFileRepository::new()),
        objects: Arc::new(MockObjectStore::new()),
        embedders: Embedders::new(Arc::new(MockEmbeddingProvider::new()), Vec::new()),
        token_counter: Arc::new(CharCounter),
        password_hasher: Arc::new(MockPasswordHasher::new()),
        tokens: Arc::new(issuer()),
        quota_usage: Arc::new(zerodb_domain::quotas::MockQuotaUsage::new()),
        clock: Arc::new(zerodb_domain::clock::SystemClock),
    };
    let options = ServiceOptions {
        allow_registration: true,
        started_at: Utc::now(),
        version: "test",
        max_event_payload_bytes: 1024,
        vectors: Default::default(),
        files: FileOptions { max_file_bytes: 1024, link_key: vec![7; 32] },
        quotas: Default::default(),
        max_projects_per_user: None,
        project_rate_limit_ceiling: None,
    };
    web::Data::new(AppState {
        services: Services::new(ports, options),
        readiness: Arc::new(Probe(ready)),
        rate_limiter: Arc::new(limiter),
        default_rate_limit: Some(RateLimit { per_second: 10, burst: 10 }),
        metrics: HttpMetrics::new().unwrap(),
        metrics_source: Arc::new(NoMetrics),
        metrics_token: None,
        stream: Default::default(),
        open_streams: Default::default(),
        sign_in: Default::default(),
        public_url: None,
    })
}

macro_rules! app {
    ($state:expr) => {
        test::init_service(
            App::new().wrap(from_fn(zerodb_http::request_id::observe_requests)).configure(
                zerodb_http::configure(
                    $state,
                    HttpLimits { max_body_bytes: 4096, max_vector_batch_bytes: 4096 },
                ),
            ),
        )
        .await
    };
}

async fn body<B: actix_web::body::MessageBody>(resp: actix_web::dev::ServiceResponse<B>) -> Value {
    serde_json::from_slice(&test::read_body(resp).await).unwrap_or(Value::Null)
}

#[actix_web::test]
async fn health_and_readiness() {
    let app = app!(state(MockProjectRepository::new(), false));
    let resp = test::call_service(&app, test::TestRequest::get().uri("/health").to_request()).await;
    assert_eq!(resp.status(), 200);
    assert!(resp.headers().contains_key("x-request-id"));
    let resp = test::call_service(&app, test::TestRequest::get().uri("/ready").to_request()).await;
    assert_eq!(resp.status(), 503);
}

#[actix_web::test]
async fn missing_credentials_are_401_with_request_id() {
    let app = app!(state(MockProjectRepository::new(), true));
    let resp =
        test::call_service(&app, test::TestRequest::get().uri("/api/v1/projects").to_request())
            .await;
    assert_eq!(resp.status(), 401);
    let header = resp.headers().get("x-request-id").unwrap().to_str().unwrap().to_owned();
    let body = body(resp).await;
    assert_eq!(body["error"]["code"], "unauthenticated");
    assert_eq!(body["error"]["request_id"], json!(header));
}

#[actix_web::test]
async fn body_errors_map_to_400_413_415_422() {
    let mut projects = MockProjectRepository::new();
    projects.expect_create().never();
    let app = app!(state(projects, true));
    let user = UserId::new();
    let cases = [
        ("application/json", "{not json".to_owned(), 400, "invalid_json"),
        ("text/plain", "{}".to_owned(), 415, "unsupported_media_type"),
        ("application/json", json!({"project_name": 1}).to_string(), 422, "validation_failed"),
        (
            "application/json",
            json!({"project_name": "x".repeat(5000)}).to_string(),
            413,
            "payload_too_large",
        ),
    ];
    for (content_type, payload, status, code) in cases {
        let req = test::TestRequest::post()
            .uri("/api/v1/projects")
            .insert_header(bearer(user))
            .insert_header(("content-type", content_type))
            .set_payload(payload)
            .to_request();
        let resp = test::call_service(&app, req).await;
        assert_eq!(resp.status(), status, "{code}");
        assert_eq!(body(resp).await["error"]["code"], code);
    }
}

#[actix_web::test]
async fn another_users_project_is_404() {
    let owned_by_someone_else = project(UserId::new());
    let id = owned_by_someone_else.id;
    let mut projects = MockProjectRepository::new();
    projects.expect_get().returning(move |_| Ok(owned_by_someone_else.clone()));
    projects.expect_delete().never();
    let app = app!(state(projects, true));
    let req = test::TestRequest::delete()
        .uri(&format!("/api/v1/projects/{id}"))
        .insert_header(bearer(UserId::new()))
        .to_request();
    let resp = test::call_service(&app, req).await;
    assert_eq!(resp.status(), 404);
}

#[actix_web::test]
async fn storage_failures_are_503_or_opaque_500() {
    let mut projects = MockProjectRepository::new();
    projects
        .expect_get()
        .returning(|_| Err(RepositoryError::Unavailable(Cause::msg("pool timed out"))));
    projects.expect_list_by_owner().returning(|_, _| {
        Err(RepositoryError::Internal(Cause::msg("relation users does not exist at db:5432")))
    });
    let app = app!(state(projects, true));
    let user = UserId::new();
    let req = test::TestRequest::get()
        .uri(&format!("/api/v1/projects/{}", ProjectId::new()))
        .insert_header(bearer(user))
        .to_request();
    let resp = test::call_service(&app, req).await;
    assert_eq!(resp.status(), 503);
    assert_eq!(body(resp).await["error"]["code"], "service_unavailable");
    let req =
        test::TestRequest::get().uri("/api/v1/projects").insert_header(bearer(user)).to_request();
    let resp = test::call_service(&app, req).await;
    assert_eq!(resp.status(), 500);
    let text = body(resp).await.to_string();
    assert!(text.contains("internal_error") && !text.contains("5432"), "{text}");
}

#[actix_web::test]
async fn conflicts_map_to_stable_codes() {
    let mut projects = MockProjectRepository::new();
    projects.expect_create().returning(|_| Err(ProjectRepositoryError::NameTaken));
    let app = app!(state(projects, true));
    let req = test::TestRequest::post()
        .uri("/api/v1/projects")
        .insert_header(bearer(UserId::new()))
        .set_json(json!({"project_name": "taken"}))
        .to_request();
    let resp = test::call_service(&app, req).await;
    assert_eq!(resp.status(), 409);
    assert_eq!(body(resp).await["error"]["code"], "project_name_taken");
}

#[actix_web::test]
async fn rate_limited_callers_get_429_with_retry_after() {
    let mut limiter = MockRateLimiter::new();
    limiter
        .expect_check()
        .withf(|subject, limit| subject.starts_with("user:") && limit.per_second == 10)
        .returning(|_, _| RateDecision::Limited { retry_after: Duration::from_millis(1500) });
    let mut projects = MockProjectRepository::new();
    projects.expect_list_by_owner().never();
    let app = app!(state_with(projects, true, limiter));
    let req = test::TestRequest::get()
        .uri("/api/v1/projects")
        .insert_header(bearer(UserId::new()))
        .to_request();
    let resp = test::call_service(&app, req).await;
    assert_eq!(resp.status(), 429);
    assert_eq!(resp.headers().get("retry-after").unwrap(), "2");
    assert_eq!(body(resp).await["error"]["code"], "rate_limited");
    // Health checks never consult the limiter.
    let resp = test::call_service(&app, test::TestRequest::get().uri("/health").to_request()).await;
    assert_eq!(resp.status(), 200);
}

/// The route patterns an app serves, read from actix's own route table (its `Debug` form is
/// the only view actix gives of it): each `patterns: Single("…")` is a resource or a scope,
/// and a scope's nodes close with `}])`.
fn served_patterns(resource_map: &str) -> Vec<String> {
    let mut prefixes: Vec<String> = Vec::new();
    let mut served = Vec::new();
    let mut rest = resource_map;
    let mut pending: Option<String> = None;
    loop {
        let next_pattern = rest.find("patterns: Single(\"");
        let next_open = rest.find("nodes: Some([");
        let next_leaf = rest.find("nodes: None");
        let next_close = rest.find("}])");
        let candidates = [next_pattern, next_open, next_leaf, next_close];
        let Some(at) = candidates.iter().flatten().min().copied() else { break };
        if Some(at) == next_pattern {
            let start = at + "patterns: Single(\"".len();
            let end = rest[start..].find('"').map(|e| start + e).unwrap_or(rest.len());
            pending = Some(rest[start..end].to_owned());
            rest = &rest[end..];
        } else if Some(at) == next_open {
            prefixes.push(pending.take().unwrap_or_default());
            rest = &rest[at + "nodes: Some([".len()..];
        } else if Some(at) == next_leaf {
            if let Some(p) = pending.take() {
                served.push(format!("{}{p}", prefixes.concat()));
            }
            rest = &rest[at + "nodes: None".len()..];
        } else {
            prefixes.pop();
            rest = &rest[at + 3..];
        }
    }
    served
}

/// The document is valid OpenAPI 3.1 for a real parser, declares every path parameter, gives
/// every operation its error responses, and lists exactly the routes the app serves, each
/// with exactly the methods it serves.
#[actix_web::test]
async fn openapi_document_matches_the_served_routes() {
    use utoipa::OpenApi as _;
    let document = serde_json::to_string(&zerodb_http::openapi::ApiDoc::openapi()).unwrap();
    let spec = oas3::from_json(&document).expect("a valid OpenAPI 3.1 document");
    assert!(spec.openapi.starts_with("3.1"), "{}", spec.openapi);
    let mut documented: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for (path, method, operation) in spec.operations() {
        let name = format!("{method} {path}");
        let params: Vec<oas3::spec::Parameter> =
            operation.parameters.iter().map(|p| p.resolve(&spec).unwrap()).collect();
        for segment in path.split('/') {
            if let Some(param) = segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                let declared = params
                    .iter()
                    .find(|p| p.name == param && p.location == oas3::spec::ParameterIn::Path);
                let declared = declared.unwrap_or_else(|| panic!("{name}: {{{param}}} undeclared"));
                assert_eq!(declared.required, Some(true), "{name}: {param} must be required");
                assert!(declared.schema.is_some(), "{name}: {param} has no type");
            }
        }
        let responses = operation.responses.clone().unwrap_or_default();
        assert!(responses.keys().any(|s| s.starts_with('2')), "{name}: no success response");
        let mut expected = vec![];
        if operation.security.iter().any(|s| !s.0.is_empty()) {
            expected.extend(["401", "403", "404", "429", "503"]);
        }
        if operation.request_body.is_some() {
            expected.extend(["400", "413", "415", "422"]);
        }
        if path.contains('{') {
            expected.extend(["400", "404"]);
        }
        for status in expected {
            let response = responses
                .get(status)
                .unwrap_or_else(|| panic!("{name}: no {status} response"))
                .resolve(&spec)
                .unwrap();
            let json = response.content.get("application/json");
            assert!(json.is_some_and(|m| m.schema.is_some()), "{name}: {status} has no envelope");
        }
        documented.entry(path.clone()).or_default().push(method.to_string());
    }

    // The routes actix serves, read from its route table.
    let app = test::init_service(
        App::new()
            .configure(zerodb_http::configure(
                state(MockProjectRepository::new(), true),
                HttpLimits { max_body_bytes: 4096, max_vector_batch_bytes: 4096 },
            ))
            .route(
                "/__routes",
                web::get().to(|req: actix_web::HttpRequest| async move {
                    format!("{:?}", req.resource_map())
                }),
            ),
    )
    .await;
    let resp =
        test::call_service(&app, test::TestRequest::get().uri("/__routes").to_request()).await;
    let table = String::from_utf8(test::read_body(resp).await.to_vec()).unwrap();
    let not_api = [
        "/__routes",
        "/docs",
        "/docs/{_:.*}",
        "/api/v1/openapi.json",
        "/console",
        "/console/{path:.*}",
    ];
    let served: std::collections::BTreeSet<String> =
        served_patterns(&table).into_iter().filter(|p| !not_api.contains(&p.as_str())).collect();
    let listed: std::collections::BTreeSet<String> = documented.keys().cloned().collect();
    assert!(served.len() > 50, "route table not read: {served:?}");
    assert_eq!(
        served.difference(&listed).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "served but not documented"
    );
    assert_eq!(
        listed.difference(&served).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "documented but not served"
    );

    // Each path serves exactly its documented methods: the others answer 405. Requests carry
    // no credentials and no body, so no handler body (and no mocked port) runs.
    for (path, methods) in &documented {
        let concrete = path
            .split('/')
            .map(|s| {
                if s == "{table_name}" || s == "{group}" {
                    "t".to_owned()
                } else if s.starts_with('{') {
                    uuid::Uuid::nil().to_string()
                } else {
                    s.to_owned()
                }
            })
            .collect::<Vec<_>>()
            .join("/");
        // A fixed POST route just below `vectors/` ("search", "get", ...) is also the id of
        // a vector to GET or DELETE: those two methods belong to `vectors/{vector_id}`.
        let vector_route = path
            .strip_prefix("/api/v1/projects/{project_id}/database/vectors/")
            .is_some_and(|rest| !rest.contains('/') && rest != "{vector_id}");
        for method in ["GET", "POST", "PUT", "PATCH", "DELETE"] {
            if vector_route && (method == "GET" || method == "DELETE") {
                continue;
            }
            let req = test::TestRequest::default()
                .method(actix_web::http::Method::from_bytes(method.as_bytes()).unwrap())
                .uri(&concrete)
                .to_request();
            let resp = test::call_service(&app, req).await;
            let status = resp.status().as_u16();
            if status == 405 {
                // RFC 9110: a 405 lists what the resource does serve.
                let allow = resp.headers().get("allow").map(|v| v.to_str().unwrap().to_owned());
                let mut listed: Vec<String> =
                    allow.unwrap_or_default().split(", ").map(str::to_owned).collect();
                let mut want = methods.clone();
                listed.sort();
                want.sort();
                assert_eq!(listed, want, "Allow of {concrete}");
            }
            let code = body(resp).await["error"].clone();
            let serves = !(status == 405 || code["message"] == json!("no such endpoint"));
            assert_eq!(
                serves,
                methods.contains(&method.to_owned()),
                "{method} {concrete} answered {status} {code}; documented: {methods:?}"
            );
        }
    }
}
