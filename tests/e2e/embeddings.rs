//! The local embedding provider end to end: memory search finds a paraphrase that shares
//! no word with the stored memory, which the built-in lexical embedder misses.

use crate::helpers::*;
use uuid::Uuid;
use zerodb_client::{MemorySearch, NewMemory};
use zerodb_server::config::EmbeddingProviderKind;

const STORED: [&str; 4] = [
    "the automobile needs repair",
    "I bought fresh bread at the bakery",
    "the quarterly meeting moved to Thursday",
    "remember to water the garden plants",
];

/// The memory's similarity to "my car broke down" and the stored text ranked first.
async fn search_paraphrase(provider: EmbeddingProviderKind) -> (f32, String) {
    let model_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../target/models/all-MiniLM-L6-v2");
    assert!(model_dir.is_dir(), "{} is missing: scripts/test unpacks it", model_dir.display());
    let app = spawn_app_with(|s| {
        s.embeddings.provider = provider;
        s.embeddings.local.model_dir = Some(model_dir);
    })
    .await;
    let owner = app.user("meaning@example.com").await;
    let project = app.enabled_project(&owner, "meaning").await;
    let agent = Uuid::new_v4();
    for text in STORED {
        owner
            .store_memory(project, &NewMemory::new(agent, agent, "user", text))
            .await
            .expect("store");
    }
    let search = MemorySearch {
        query: Some("my car broke down".into()),
        mode: Some("semantic".into()),
        agent_id: Some(agent),
        limit: Some(4),
        ..MemorySearch::default()
    };
    let found = owner.search_memory(project, &search).await.expect("search");
    // Texts over the model's limit are embedded from their beginning, and the answer says so.
    let long = "the automobile needs repair ".repeat(200);
    let embedded = owner.generate_embeddings(project, &["short", &long]).await.expect("embed");
    match provider {
        EmbeddingProviderKind::Local => assert_eq!(embedded.truncated, vec![1]),
        _ => assert!(embedded.truncated.is_empty()),
    }
    let automobile = found
        .results
        .iter()
        .find(|h| h.memory.content == STORED[0])
        .map_or(0.0, |h| h.score_breakdown.similarity);
    (automobile, found.results[0].memory.content.clone())
}

#[tokio::test]
async fn a_paraphrase_with_no_shared_word_is_found_by_meaning() {
    let (similarity, first) = search_paraphrase(EmbeddingProviderKind::Local).await;
    assert_eq!(first, STORED[0], "the neural model ranks the paraphrase first");
    assert!(similarity > 0.4, "similarity {similarity}");

    let (lexical, lexical_first) = search_paraphrase(EmbeddingProviderKind::Builtin).await;
    println!("similarity of the paraphrase: neural {similarity:.3}, lexical {lexical:.3}");
    assert!(
        lexical < 0.1 && lexical < similarity / 4.0,
        "the lexical embedder sees no likeness ({lexical}; first: {lexical_first:?})"
    );
}
