//! The MCP server through real MCP clients: rmcp's client over streamable HTTP (`/mcp`)
//! and over stdio (`zerodb mcp`), and the official Python SDK over both. Every tool is
//! called once successfully and refused once for a missing scope and once for a stranger's
//! project; refusals change nothing.

use crate::helpers::*;
use rmcp::model::{
    CallToolRequestParams, CallToolResult, ClientCapabilities, ClientConfig, Implementation,
    JsonObject, ProtocolVersion, ReadResourceRequestParams,
};
use rmcp::service::RunningService;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::transport::{StreamableHttpClientTransport, TokioChildProcess};
use rmcp::{RoleClient, ServiceExt};
use serde_json::{Value, json};
use uuid::Uuid;

type McpClient = RunningService<RoleClient, ClientConfig>;

fn client_config(version: ProtocolVersion) -> ClientConfig {
    ClientConfig::new(ClientCapabilities::default(), Implementation::new("zerodb-e2e", "1"))
        .with_protocol_version(version)
}

async fn over_http(address: &str, token: &str, version: ProtocolVersion) -> McpClient {
    let config =
        StreamableHttpClientTransportConfig::with_uri(format!("{address}/mcp")).auth_header(token);
    let transport = StreamableHttpClientTransport::from_config(config);
    client_config(version).serve(transport).await.expect("MCP initialize over HTTP")
}

async fn over_stdio(address: &str, key: &str, project: Option<Uuid>) -> McpClient {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_zerodb"));
    command.arg("mcp").env("ZERODB_URL", address).env("ZERODB_API_KEY", key);
    command.env("ZERODB__LOG__LEVEL", "warn");
    if let Some(project) = project {
        command.args(["--project", &project.to_string()]);
    }
    let transport = TokioChildProcess::new(command).expect("spawn zerodb mcp");
    client_config(ProtocolVersion::V_2025_06_18)
        .serve(transport)
        .await
        .expect("MCP initialize over stdio")
}

fn object(value: Value) -> JsonObject {
    match value {
        Value::Object(map) => map,
        other => panic!("arguments must be an object: {other}"),
    }
}

async fn call(client: &McpClient, name: &str, args: Value) -> CallToolResult {
    let params = CallToolRequestParams::new(name.to_owned()).with_arguments(object(args));
    client.call_tool(params).await.unwrap_or_else(|e| panic!("{name}: protocol error {e}"))
}

/// The structured result of a call that must succeed.
fn ok(name: &str, result: &CallToolResult) -> Value {
    assert_ne!(result.is_error, Some(true), "{name} failed: {:?}", result.content);
    let structured = result.structured_content.clone().expect("structured content");
    let text = result.content[0].as_text().expect("text content").text.clone();
    assert!(text.starts_with(&structured.to_string()), "{name}: text and structure differ");
    structured
}

/// The error code of a call that must be refused.
fn refused(name: &str, result: &CallToolResult) -> (u64, String) {
    assert_eq!(result.is_error, Some(true), "{name} was not refused: {:?}", result.content);
    let error = &result.structured_content.as_ref().expect("structured error")["error"];
    let text = &result.content[0].as_text().expect("text content").text;
    let code = error["code"].as_str().expect("code").to_owned();
    assert!(text.contains(&code), "{name}: the text names the code: {text}");
    assert!(!text.contains("reqwest") && !text.contains("127.0.0.1"), "{name} leaks: {text}");
    (error["status"].as_u64().expect("status"), code)
}

/// One call of every tool, in an order where each finds what the ones before made.
fn every_tool(agent: Uuid, session: Uuid, ids: &Ids) -> Vec<(&'static str, Value)> {
    vec![
        (
            "memory_store",
            json!({"agent_id": agent, "session_id": session, "role": "user",
                   "content": "The customer prefers invoices by email in March",
                   "memory_metadata": {"topic": "billing"}}),
        ),
        ("memory_search", json!({"query": "how does the customer want invoices", "limit": 5})),
        ("memory_context", json!({"agent_id": agent, "query": "invoices"})),
        ("memory_list", json!({"agent_id": agent, "limit": 10})),
        (
            "vector_upsert",
            json!({"vector_id": ids.vector, "namespace": "docs", "vector_embedding": [0.1, 0.9, 0.0, 0.2],
                   "document": "a vector", "vector_metadata": {"lang": "en"}}),
        ),
        (
            "vector_search",
            json!({"namespace": "docs", "query_vector": [0.1, 0.9, 0.0, 0.2], "limit": 3,
                   "filter": {"lang": "en"}}),
        ),
        ("vector_get", json!({"ids": [ids.vector], "include": ["metadata"]})),
        ("embed", json!({"texts": ["hello world", "automobile"]})),
        ("table_list", json!({})),
        ("table_describe", json!({"table_name": "notes"})),
        (
            "rows_insert",
            json!({"table_name": "notes", "rows": [{"title": "a", "stars": 1}, {"title": "b", "stars": 5}]}),
        ),
        (
            "rows_query",
            json!({"table_name": "notes", "filter": {"stars": {"$gte": 3}}, "count": true}),
        ),
        (
            "rows_update",
            json!({"table_name": "notes", "filter": {"title": "a"}, "set": {"stars": 2}}),
        ),
        ("rows_delete", json!({"table_name": "notes", "filter": {"title": "b"}})),
        ("events_publish", json!({"topic": "orders.created", "event_payload": {"order": 7}})),
        ("events_list", json!({"topic": "orders.created"})),
        (
            "file_upload",
            json!({"file_name": "notes.md", "content": "# Notes\nInvoices go by email.", "content_type": "text/markdown", "file_key": ids.file_key}),
        ),
        ("files_list", json!({"prefix": "mcp/"})),
        ("file_read", json!({"file_id": ids.file})),
        (
            "rlhf_log",
            json!({"session_id": session, "input_prompt": "2+2?", "model_output": "4", "rating": 5}),
        ),
        (
            "agent_log",
            json!({"agent_id": agent, "session_id": session, "log_level": "INFO", "log_message": "answered"}),
        ),
        ("vector_delete", json!({"vector_ids": [ids.vector]})),
        ("memory_delete", json!({"memory_id": ids.memory})),
    ]
}

/// Ids the calls refer to, filled in as the successful run makes the things they name.
struct Ids {
    vector: Uuid,
    memory: Uuid,
    file: Uuid,
    file_key: String,
}

async fn project_with_table(app: &TestApp, owner: &zerodb_client::Client, name: &str) -> Uuid {
    let project = app.enabled_project(owner, name).await;
    owner
        .create_table(
            project,
            "notes",
            &json!({"columns": {"title": "string", "stars": "integer"}}),
        )
        .await
        .expect("table");
    project
}

#[derive(Debug, Clone, Copy)]
enum Transport {
    Http,
    Stdio,
}

/// An MCP client over `transport` with `credential` (an API key or a user's token).
async fn connect(transport: Transport, address: &str, credential: &str) -> McpClient {
    match transport {
        Transport::Http => over_http(address, credential, ProtocolVersion::V_2025_06_18).await,
        Transport::Stdio => over_stdio(address, credential, None).await,
    }
}

#[tokio::test]
async fn every_tool_over_http_succeeds_and_is_refused_without_scope_or_for_a_stranger() {
    every_tool_succeeds_and_is_refused(Transport::Http).await;
}

#[tokio::test]
async fn every_tool_over_stdio_succeeds_and_is_refused_without_scope_or_for_a_stranger() {
    every_tool_succeeds_and_is_refused(Transport::Stdio).await;
}

async fn every_tool_succeeds_and_is_refused(transport: Transport) {
    let app = spawn_app().await;
    let owner = app.user("mcp-owner@example.com").await;
    let project = project_with_table(&app, &owner, "agents").await;
    let key = owner.create_api_key(project, "agent", &["*"]).await.expect("key").api_key;
    let weak =
        owner.create_api_key(project, "weak", &["database:read"]).await.expect("key").api_key;
    let stranger = app.user("mcp-stranger@example.com").await;
    let stranger_login =
        app.client.login("mcp-stranger@example.com", "correct horse battery").await.unwrap();
    let owner_login =
        app.client.login("mcp-owner@example.com", "correct horse battery").await.unwrap();
    drop(stranger);

    let client = connect(transport, &app.address, &key).await;
    let tools = client.list_all_tools().await.expect("tools/list");
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    for (name, _) in every_tool(
        Uuid::nil(),
        Uuid::nil(),
        &Ids {
            vector: Uuid::nil(),
            memory: Uuid::nil(),
            file: Uuid::nil(),
            file_key: String::new(),
        },
    ) {
        assert!(names.contains(&name), "tools/list lacks {name}");
    }
    assert_eq!(tools.len(), 23, "{names:?}");
    for tool in &tools {
        let description = tool.description.as_deref().unwrap_or_default();
        assert!(description.len() > 80, "{} is described for a model: {description}", tool.name);
        assert!(
            tool.input_schema["properties"]["project_id"].is_object(),
            "{} takes project_id",
            tool.name
        );
        let hints = tool.annotations.as_ref().expect("annotations");
        let reads = matches!(
            tool.name.as_ref(),
            "memory_search"
                | "memory_context"
                | "memory_list"
                | "vector_search"
                | "vector_get"
                | "embed"
                | "table_list"
                | "table_describe"
                | "rows_query"
                | "events_list"
                | "files_list"
                | "file_read"
        );
        assert_eq!(hints.read_only_hint, Some(reads), "{}", tool.name);
        let destroys = tool.name.ends_with("_delete") || tool.name == "rows_update";
        assert_eq!(hints.destructive_hint, Some(destroys), "{}", tool.name);
    }

    let (agent, session) = (Uuid::new_v4(), Uuid::new_v4());
    let mut ids = Ids {
        vector: Uuid::new_v4(),
        memory: Uuid::nil(),
        file: Uuid::nil(),
        file_key: "mcp/notes.md".into(),
    };
    for index in 0..every_tool(agent, session, &ids).len() {
        let (name, args) = every_tool(agent, session, &ids).swap_remove(index);
        let result = ok(name, &call(&client, name, args).await);
        match name {
            "memory_store" => ids.memory = result["memory_id"].as_str().unwrap().parse().unwrap(),
            "memory_search" => {
                assert_eq!(result["results"][0]["memory_id"], ids.memory.to_string(), "{result}")
            }
            "vector_search" => {
                assert_eq!(result["results"][0]["vector_id"], ids.vector.to_string(), "{result}")
            }
            "vector_get" => {
                assert_eq!(result["items"][0]["vector_id"], ids.vector.to_string(), "{result}");
                assert_eq!(result["items"][0]["vector_metadata"]["lang"], "en", "{result}");
            }
            "embed" => assert_eq!(result["embeddings"].as_array().unwrap().len(), 2),
            "rows_query" => assert_eq!(result["total"], 1, "{result}"),
            "file_upload" => ids.file = result["file_id"].as_str().unwrap().parse().unwrap(),
            "file_read" => {
                assert_eq!(result["content"], "# Notes\nInvoices go by email.");
                assert_eq!(result["encoding"], "utf-8");
                assert_eq!(result["truncated"], false);
            }
            "memory_delete" => assert_eq!(result["deleted"], true),
            _ => {}
        }
    }

    // A key without the scopes: every tool refused, as its REST twin would be.
    let weak_client = connect(transport, &app.address, &weak).await;
    for (name, args) in every_tool(agent, session, &ids) {
        let (status, code) = refused(name, &call(&weak_client, name, args).await);
        assert_eq!((status, code.as_str()), (403, "insufficient_scope"), "{name}");
    }
    // Another user naming this project: it does not exist for them.
    let stranger_client = connect(transport, &app.address, &stranger_login.access_token).await;
    for (name, mut args) in every_tool(agent, session, &ids) {
        args["project_id"] = json!(project);
        let (status, code) = refused(name, &call(&stranger_client, name, args).await);
        assert_eq!((status, code.as_str()), (404, "not_found"), "{name}");
    }
    // A user must name the project; with it, the owner's token works.
    let owner_client = connect(transport, &app.address, &owner_login.access_token).await;
    let (_, code) = refused("memory_list", &call(&owner_client, "memory_list", json!({})).await);
    assert_eq!(code, "validation_failed");
    let listed = ok(
        "memory_list",
        &call(&owner_client, "memory_list", json!({"project_id": project})).await,
    );
    assert_eq!(listed["items"].as_array().unwrap().len(), 0, "the memory was deleted: {listed}");

    // Nothing the refused calls tried is there.
    let rows = owner.query_rows(project, "notes", &Default::default()).await.expect("rows");
    assert_eq!(rows.items.len(), 1, "{rows:?}");
    let events = ok("events_list", &call(&client, "events_list", json!({})).await);
    assert_eq!(events["items"].as_array().unwrap().len(), 1, "{events}");

    // Arguments that do not fit the schema are a tool error the model can correct.
    let (status, code) = refused(
        "memory_store",
        &call(&client, "memory_store", json!({"agent": "x", "content": "y"})).await,
    );
    assert_eq!((status, code.as_str()), (422, "validation_failed"));
    let (_, code) = refused(
        "table_describe",
        &call(&client, "table_describe", json!({"table_name": "../../../projects"})).await,
    );
    assert_eq!(code, "not_found");

    // Resources: the table and the namespace, with their schemas.
    let resources = client.list_all_resources().await.expect("resources/list");
    let uris: Vec<&str> = resources.iter().map(|r| r.uri.as_str()).collect();
    let table_uri = format!("zerodb://projects/{project}/tables/notes");
    assert!(uris.contains(&table_uri.as_str()), "{uris:?}");
    assert!(
        uris.contains(&format!("zerodb://projects/{project}/vectors/docs").as_str()),
        "{uris:?}"
    );
    let read = client.read_resource(ReadResourceRequestParams::new(table_uri)).await.expect("read");
    let text = match &read.contents[0] {
        rmcp::model::ResourceContents::TextResourceContents { text, .. } => text.clone(),
        other => panic!("{other:?}"),
    };
    let table: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(table["schema_definition"]["columns"]["stars"]["type"], "integer", "{table}");
    let foreign = format!("zerodb://projects/{}/tables/notes", Uuid::new_v4());
    assert!(stranger_client.read_resource(ReadResourceRequestParams::new(foreign)).await.is_err());

    for c in [client, weak_client, stranger_client, owner_client] {
        c.cancel().await.ok();
    }
}

#[tokio::test]
async fn versions_are_negotiated_and_sessions_carry_an_id() {
    let app = spawn_app().await;
    let owner = app.user("mcp-versions@example.com").await;
    let project = app.enabled_project(&owner, "versions").await;
    let key = owner.create_api_key(project, "agent", &["*"]).await.expect("key").api_key;

    for version in [
        ProtocolVersion::V_2024_11_05,
        ProtocolVersion::V_2025_06_18,
        ProtocolVersion::V_2025_11_25,
    ] {
        let client = over_http(&app.address, &key, version.clone()).await;
        let server = client.peer_info().expect("server info");
        assert_eq!(server.protocol_version, version);
        assert_eq!(server.server_info.as_ref().map(|i| i.name.as_str()), Some("zerodb"));
        let result = call(&client, "table_list", json!({})).await;
        ok("table_list", &result);
        client.cancel().await.ok();
    }

    // Raw HTTP: initialize answers a session id, later requests use it, DELETE ends it.
    let http = reqwest::Client::new();
    let url = format!("{}/mcp", app.address);
    let initialize = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {},
        "clientInfo": {"name": "raw", "version": "1"}}});
    let response = http
        .post(&url)
        .bearer_auth(&key)
        .header("accept", "application/json, text/event-stream")
        .json(&initialize)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let session = response
        .headers()
        .get("mcp-session-id")
        .expect("Mcp-Session-Id")
        .to_str()
        .unwrap()
        .to_owned();
    let body = response.text().await.unwrap();
    assert!(body.contains("\"protocolVersion\":\"2025-06-18\""), "{body}");
    // A version the server does not know: it answers with one it supports.
    let mut unknown = initialize.clone();
    unknown["params"]["protocolVersion"] = json!("1999-01-01");
    let body = http
        .post(&url)
        .header("x-api-key", &key)
        .header("accept", "application/json, text/event-stream")
        .json(&unknown)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!body.contains("1999-01-01") && body.contains("protocolVersion"), "{body}");
    // The session is its opener's: another caller who learns its id is refused.
    let other = owner.create_api_key(project, "other", &["*"]).await.expect("key").api_key;
    let list = json!({"jsonrpc": "2.0", "id": 3, "method": "tools/list"});
    let hijack = http
        .post(&url)
        .bearer_auth(&other)
        .header("accept", "application/json, text/event-stream")
        .header("mcp-session-id", &session)
        .header("mcp-protocol-version", "2025-06-18")
        .json(&list)
        .send()
        .await
        .unwrap();
    assert_eq!(hijack.status(), 404);
    assert_eq!(hijack.json::<Value>().await.unwrap()["error"]["code"], "not_found");
    let ended = http
        .delete(&url)
        .bearer_auth(&key)
        .header("mcp-session-id", &session)
        .send()
        .await
        .unwrap();
    assert!(ended.status().is_success(), "{}", ended.status());
    let after = http
        .post(&url)
        .bearer_auth(&key)
        .header("accept", "application/json, text/event-stream")
        .header("mcp-session-id", &session)
        .header("mcp-protocol-version", "2025-06-18")
        .json(&json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}))
        .send()
        .await
        .unwrap();
    assert_eq!(after.status(), 404, "an ended session is gone");
}

#[tokio::test]
async fn the_endpoint_checks_credentials_origin_size_and_rate() {
    let app = spawn_app_with(|s| {
        s.mcp.allowed_origins = vec!["https://app.example.com".into()];
        s.mcp.max_body_bytes = 64 * 1024;
        s.rate_limit.requests_per_second = 1;
        s.rate_limit.burst = 12;
    })
    .await;
    let owner = app.user("mcp-guard@example.com").await;
    let project = app.enabled_project(&owner, "guarded").await;
    let key = owner.create_api_key(project, "agent", &["*"]).await.expect("key").api_key;
    let http = reqwest::Client::new();
    let url = format!("{}/mcp", app.address);
    let ping = json!({"jsonrpc": "2.0", "id": 1, "method": "ping"});
    let post = |body: &Value| {
        http.post(&url).header("accept", "application/json, text/event-stream").json(body)
    };

    let none = post(&ping).send().await.unwrap();
    assert_eq!(none.status(), 401);
    assert_eq!(none.json::<Value>().await.unwrap()["error"]["code"], "unauthenticated");
    let forged = post(&ping).bearer_auth("zdb_forged").send().await.unwrap();
    assert_eq!(forged.status(), 401);
    assert_eq!(forged.json::<Value>().await.unwrap()["error"]["code"], "invalid_credentials");
    let rebinding =
        post(&ping).bearer_auth(&key).header("origin", "http://evil.example").send().await.unwrap();
    assert_eq!(rebinding.status(), 403);
    assert_eq!(rebinding.json::<Value>().await.unwrap()["error"]["code"], "forbidden");
    let huge = json!({"jsonrpc": "2.0", "id": 1, "method": "ping", "params": {"pad": "x".repeat(100 * 1024)}});
    let too_large = post(&huge).bearer_auth(&key).send().await.unwrap();
    assert_eq!(too_large.status(), 413);

    // The allowed origin passes, and the tools share the REST rate limit.
    let client = {
        let mut headers = std::collections::HashMap::new();
        headers.insert(
            http_header("origin"),
            reqwest::header::HeaderValue::from_static("https://app.example.com"),
        );
        let config = StreamableHttpClientTransportConfig::with_uri(url.clone())
            .auth_header(key.clone())
            .custom_headers(headers);
        client_config(ProtocolVersion::V_2025_06_18)
            .serve(StreamableHttpClientTransport::from_config(config))
            .await
            .expect("initialize from the allowed origin")
    };
    let mut limited = None;
    for attempt in 0..30 {
        let result = call(&client, "table_list", json!({})).await;
        if result.is_error == Some(true) {
            limited = Some((attempt, refused("table_list", &result)));
            break;
        }
    }
    let (attempt, (status, code)) = limited.expect("the rate limit applies to tool calls");
    assert_eq!((status, code.as_str()), (429, "rate_limited"));
    assert!(attempt >= 5, "a burst of 12 allows several calls first ({attempt})");
    client.cancel().await.ok();
}

fn http_header(name: &'static str) -> reqwest::header::HeaderName {
    reqwest::header::HeaderName::from_static(name)
}

#[tokio::test]
async fn large_results_are_cut_and_say_so() {
    let app = spawn_app_with(|s| s.mcp.max_result_bytes = 4096).await;
    let owner = app.user("mcp-large@example.com").await;
    let project = app.enabled_project(&owner, "large").await;
    let key = owner.create_api_key(project, "agent", &["*"]).await.expect("key").api_key;
    let client = over_http(&app.address, &key, ProtocolVersion::V_2025_06_18).await;
    let agent = Uuid::new_v4();
    for i in 0..40 {
        let content = format!("memory number {i}: {}", "lorem ipsum ".repeat(20));
        let args =
            json!({"agent_id": agent, "session_id": agent, "role": "user", "content": content});
        ok("memory_store", &call(&client, "memory_store", args).await);
    }
    let result = call(&client, "memory_list", json!({"agent_id": agent, "limit": 40})).await;
    let listed = ok("memory_list", &result);
    let kept = listed["truncated"]["kept"].as_u64().expect("truncated") as usize;
    assert_eq!(listed["truncated"]["total"], 40);
    assert!(kept > 0 && kept < 40);
    assert_eq!(listed["items"].as_array().unwrap().len(), kept);
    let text = &result.content[0].as_text().unwrap().text;
    assert!(text.contains(&format!("Truncated: {kept} of 40 items")), "{text}");
    assert!(serde_json::to_vec(&listed).unwrap().len() <= 4096);
    client.cancel().await.ok();
}

#[tokio::test]
async fn the_stdio_proxy_serves_the_same_tools_with_the_same_refusals() {
    let app = spawn_app().await;
    let owner = app.user("mcp-stdio@example.com").await;
    let project = app.enabled_project(&owner, "desktop").await;
    let other = app.enabled_project(&owner, "other").await;
    let key = owner.create_api_key(project, "desktop", &["*"]).await.expect("key").api_key;
    let reader =
        owner.create_api_key(project, "reader", &["memory:read"]).await.expect("key").api_key;

    let client = over_stdio(&app.address, &key, None).await;
    assert_eq!(
        client.peer_info().expect("server info").protocol_version,
        ProtocolVersion::V_2025_06_18
    );
    assert_eq!(client.list_all_tools().await.unwrap().len(), 23);
    let agent = Uuid::new_v4();
    let stored = ok(
        "memory_store",
        &call(
            &client,
            "memory_store",
            json!({"agent_id": agent, "session_id": agent, "role": "user",
            "content": "My daughter's birthday is on the fourth of July"}),
        )
        .await,
    );
    let found = ok(
        "memory_search",
        &call(&client, "memory_search", json!({"query": "when is the birthday"})).await,
    );
    assert_eq!(found["results"][0]["memory_id"], stored["memory_id"]);
    // The key's own project is used; another project, even the same owner's, is not this key's.
    let (status, code) =
        refused("memory_list", &call(&client, "memory_list", json!({"project_id": other})).await);
    assert_eq!((status, code.as_str()), (404, "not_found"));
    client.cancel().await.ok();

    let reading = over_stdio(&app.address, &reader, Some(project)).await;
    ok("memory_search", &call(&reading, "memory_search", json!({"query": "birthday"})).await);
    let (status, code) = refused(
        "memory_store",
        &call(
            &reading,
            "memory_store",
            json!({"agent_id": agent, "session_id": agent, "role": "user", "content": "x"}),
        )
        .await,
    );
    assert_eq!((status, code.as_str()), (403, "insufficient_scope"));
    reading.cancel().await.ok();

    // A dead server is a tool error, not a crash, and names no internals.
    let dead = over_stdio("http://127.0.0.1:9", &key, Some(project)).await;
    let (status, code) = refused("memory_list", &call(&dead, "memory_list", json!({})).await);
    assert_eq!((status, code.as_str()), (503, "service_unavailable"));
    dead.cancel().await.ok();
}

/// The official Python SDK (PyPI `mcp`, installed by scripts/test into target/mcp-venv)
/// drives `zerodb mcp` over stdio and `/mcp` over HTTP.
#[tokio::test]
async fn the_python_sdk_stores_and_finds_over_both_transports() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let python = root.join("target/mcp-venv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: scripts/test installs the MCP Python SDK",
        python.display()
    );
    let app = spawn_app().await;
    let owner = app.user("mcp-python@example.com").await;
    let project = app.enabled_project(&owner, "python").await;
    let key = owner.create_api_key(project, "python", &["*"]).await.expect("key").api_key;
    let output = tokio::process::Command::new(&python)
        .arg(root.join("tests/e2e/mcp_python_client.py"))
        .env("ZERODB_URL", &app.address)
        .env("ZERODB_API_KEY", &key)
        .env("ZERODB_BIN", env!("CARGO_BIN_EXE_zerodb"))
        .env("ZERODB__LOG__LEVEL", "warn")
        .output()
        .await
        .expect("run the Python client");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "stdout:\n{stdout}\nstderr:\n{stderr}");
    for transport in ["stdio", "http"] {
        assert!(stdout.contains(&format!("{transport}: ok")), "{stdout}");
    }
}
