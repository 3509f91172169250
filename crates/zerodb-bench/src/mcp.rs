//! `zerodb-bench mcp`: the cost of the MCP layer. The same memory searches, alternately as
//! the REST call and as the `memory_search` tool over streamable HTTP (`/mcp`), on one
//! server with one key; p50/p95 of each and their ratio.

use crate::kit::server::BenchServer;
use crate::kit::{BenchError, percentile};
use rmcp::ServiceExt;
use rmcp::model::{
    CallToolRequestParams, ClientCapabilities, ClientConfig, Implementation, ProtocolVersion,
};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use serde_json::json;
use std::time::Instant;
use uuid::Uuid;
use zerodb_client::{MemorySearch, NewMemory};
use zerodb_server::config::Settings;

#[derive(Debug, Clone, clap::Args)]
pub struct McpBenchOptions {
    /// Memories stored before searching.
    #[arg(long, default_value_t = 5_000)]
    pub count: usize,
    /// Searches per path (REST and MCP alternate).
    #[arg(long, default_value_t = 1_000)]
    pub queries: usize,
}

const TOPICS: [&str; 12] = [
    "invoice", "deadline", "deploy", "refund", "password", "backup", "flight", "birthday",
    "contract", "incident", "recipe", "doctor",
];

pub async fn run_mcp(settings: Settings, options: McpBenchOptions) -> Result<(), BenchError> {
    let bench = BenchServer::start(settings, |_| {}).await?;
    let key = bench.client.create_api_key(bench.project, "bench", &["*"]).await?.api_key;
    let rest = bench.client.anonymous().with_api_key(&key);
    let agent = Uuid::now_v7();
    for chunk in (0..options.count).collect::<Vec<_>>().chunks(500) {
        let memories: Vec<NewMemory> = chunk
            .iter()
            .map(|i| {
                let text = format!(
                    "Note {i}: the {} needs attention before the {}",
                    TOPICS[i % 12],
                    TOPICS[(i * 5 + 1) % 12]
                );
                NewMemory::new(agent, agent, "user", &text)
            })
            .collect();
        rest.store_memories(bench.project, &memories).await?;
    }

    let config = StreamableHttpClientTransportConfig::with_uri(format!("{}/mcp", bench.url))
        .auth_header(key.clone());
    let info = ClientConfig::new(ClientCapabilities::default(), Implementation::new("bench", "1"))
        .with_protocol_version(ProtocolVersion::V_2025_06_18);
    let mcp = info
        .serve(StreamableHttpClientTransport::from_config(config))
        .await
        .map_err(|e| BenchError::Setup(format!("MCP initialize: {e}")))?;

    let query =
        |i: usize| format!("what about the {} and the {}", TOPICS[i % 12], TOPICS[(i * 7) % 12]);
    let (mut rest_ms, mut mcp_ms) = (Vec::new(), Vec::new());
    // A warm-up of each path, then alternate so that both meet the same machine noise.
    for i in 0..(options.queries + 50) {
        let search =
            MemorySearch { query: Some(query(i)), limit: Some(10), ..MemorySearch::default() };
        let sent = Instant::now();
        rest.search_memory(bench.project, &search).await?;
        let rest_elapsed = sent.elapsed().as_secs_f64() * 1000.0;
        let arguments = json!({"query": query(i), "limit": 10});
        let params = CallToolRequestParams::new("memory_search")
            .with_arguments(arguments.as_object().cloned().unwrap_or_default());
        let sent = Instant::now();
        let result = mcp
            .call_tool(params)
            .await
            .map_err(|e| BenchError::Setup(format!("tools/call: {e}")))?;
        let mcp_elapsed = sent.elapsed().as_secs_f64() * 1000.0;
        if result.is_error == Some(true) {
            return Err(BenchError::Setup(format!("memory_search failed: {:?}", result.content)));
        }
        if i >= 50 {
            rest_ms.push(rest_elapsed);
            mcp_ms.push(mcp_elapsed);
        }
    }
    rest_ms.sort_by(f64::total_cmp);
    mcp_ms.sort_by(f64::total_cmp);
    println!(
        "zerodb-bench mcp against {}: memory_search over {} memories, {} searches per path, one client, keep-alive",
        bench.url, options.count, options.queries
    );
    println!("{:<26} {:>9} {:>9} {:>9}", "path", "p50 ms", "p95 ms", "p99 ms");
    for (label, sorted) in [("REST memory/search", &rest_ms), ("MCP tools/call (HTTP)", &mcp_ms)] {
        println!(
            "{:<26} {:>9.2} {:>9.2} {:>9.2}",
            label,
            percentile(sorted, 50.0),
            percentile(sorted, 95.0),
            percentile(sorted, 99.0)
        );
    }
    println!(
        "MCP / REST: p50 {:.2}x, p95 {:.2}x",
        percentile(&mcp_ms, 50.0) / percentile(&rest_ms, 50.0),
        percentile(&mcp_ms, 95.0) / percentile(&rest_ms, 95.0)
    );
    mcp.cancel().await.ok();
    bench.stop().await;
    Ok(())
}
