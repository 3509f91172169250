//! The local embedding provider end to end: memory search finds a paraphrase that shares
//! no word with the stored memory, which the built-in lexical embedder misses.

use crate::helpers::*;
use serde_json::json;
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

/// Each project embeds with the model its database config names, among those the server
/// offers; memory's namespace records the model, and a switch that would leave memories
/// unreadable is refused.
#[tokio::test]
async fn each_project_embeds_with_its_chosen_model() {
    let model_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../target/models/all-MiniLM-L6-v2");
    assert!(model_dir.is_dir(), "{} is missing: scripts/test unpacks it", model_dir.display());
    let app = spawn_app_with(|s| {
        s.embeddings.provider = EmbeddingProviderKind::Local;
        s.embeddings.local.model_dir = Some(model_dir);
    })
    .await;
    let owner = app.user("models@example.com").await;
    let neural = app.enabled_project(&owner, "neural").await;
    let lexical = app.enabled_project(&owner, "lexical").await;

    let status = owner.get_database(neural).await.expect("status");
    let default = status.embedding_model.clone().expect("the default model");
    let offered: Vec<&str> = status.embedding_models.iter().map(|m| m.model.as_str()).collect();
    assert_eq!(default.dimension, 384);
    assert_eq!(offered, [default.model.as_str(), "zerodb-builtin-hash-384"]);

    let unknown = owner
        .update_database_config(lexical, &json!({"embedding_model": "text-embedding-3-large"}))
        .await
        .expect_err("a model the server does not offer");
    assert_eq!((unknown.status(), unknown.code()), (Some(422), Some("validation_failed")));
    let chosen = owner
        .update_database_config(lexical, &json!({"embedding_model": "zerodb-builtin-hash-384"}))
        .await
        .expect("choose the lexical model");
    assert_eq!(chosen.embedding_model.map(|m| m.model).as_deref(), Some("zerodb-builtin-hash-384"));

    // The same memories and the same question, in both projects.
    let agent = Uuid::new_v4();
    let long = "the automobile needs repair ".repeat(200);
    let mut truncated = Vec::new();
    for project in [neural, lexical] {
        for text in STORED.iter().copied().chain([long.as_str()]) {
            let stored = owner
                .store_memory(project, &NewMemory::new(agent, agent, "user", text))
                .await
                .expect("store");
            truncated.push(stored.embedding_truncated);
        }
    }
    let t = Some(true);
    let f = Some(false);
    assert_eq!(truncated, [f, f, f, f, t, f, f, f, f, f], "only the model with a limit cuts");
    let search = MemorySearch {
        query: Some("my car broke down".into()),
        mode: Some("semantic".into()),
        agent_id: Some(agent),
        limit: Some(5),
        ..MemorySearch::default()
    };
    let similarity = |project| {
        let owner = &owner;
        let search = &search;
        async move {
            let found = owner.search_memory(project, search).await.expect("search");
            found
                .results
                .iter()
                .find(|h| h.memory.content == STORED[0])
                .map_or(0.0, |h| h.score_breakdown.similarity)
        }
    };
    let (by_meaning, by_words) = (similarity(neural).await, similarity(lexical).await);
    assert!(by_meaning > 0.4 && by_words < 0.1, "neural {by_meaning}, lexical {by_words}");
    let embedded = owner.generate_embeddings(lexical, &["tea"]).await.expect("embed");
    assert_eq!(embedded.model, "zerodb-builtin-hash-384");

    // Memory's namespace says which model made its vectors.
    let memory_model = |status: zerodb_client::DatabaseStatus| {
        status
            .vector_namespaces
            .into_iter()
            .find(|n| n.namespace == "__memory")
            .and_then(|n| n.embedding_model)
    };
    let status = owner.get_database(neural).await.expect("status");
    assert_eq!(memory_model(status), Some(default.model.clone()));
    let status = owner.get_database(lexical).await.expect("status");
    assert_eq!(memory_model(status).as_deref(), Some("zerodb-builtin-hash-384"));

    // Same dimension, other model: the stored memories could not be searched, so no.
    let switch = owner
        .update_database_config(neural, &json!({"embedding_model": "zerodb-builtin-hash-384"}))
        .await
        .expect_err("memories of another model");
    assert_eq!((switch.status(), switch.code()), (Some(409), Some("embedding_model_mismatch")));
    let status = owner.get_database(neural).await.expect("status");
    assert_eq!(status.embedding_model.map(|m| m.model), Some(default.model.clone()));

    // Once the memories are gone, the project may switch.
    let listed = owner.list_memory(neural, &Default::default()).await.expect("list");
    for memory in listed.items {
        owner.delete_memory(neural, memory.memory_id).await.expect("delete");
    }
    owner
        .update_database_config(neural, &json!({"embedding_model": "zerodb-builtin-hash-384"}))
        .await
        .expect("switch an empty memory");
    owner
        .store_memory(neural, &NewMemory::new(agent, agent, "user", STORED[1]))
        .await
        .expect("store with the new model");
    let status = owner.get_database(neural).await.expect("status");
    assert_eq!(memory_model(status).as_deref(), Some("zerodb-builtin-hash-384"));

    // A vector namespace named with its model keeps it; once it holds vectors, a client
    // naming another model is refused.
    let docs = |model: &str| zerodb_client::NewNamespace {
        namespace: "docs".into(),
        metric: None,
        quantization: None,
        dimension: Some(384),
        embedding_model: Some(model.into()),
    };
    let minilm = "sentence-transformers/all-MiniLM-L6-v2";
    let created = owner.create_namespace(neural, &docs(minilm)).await.expect("create");
    assert_eq!(created.embedding_model.as_deref(), Some(minilm));
    let vector = zerodb_client::NewVector {
        namespace: Some("docs".into()),
        vector_embedding: Some(embedded_384(&owner, neural).await),
        ..zerodb_client::NewVector::default()
    };
    owner.upsert_vector(neural, &vector).await.expect("upsert");
    owner.create_namespace(neural, &docs(minilm)).await.expect("the same model again");
    let other = owner.create_namespace(neural, &docs("BAAI/bge-small-en-v1.5")).await;
    let other = other.expect_err("another model");
    assert_eq!((other.status(), other.code()), (Some(409), Some("embedding_model_mismatch")));
}

async fn embedded_384(owner: &zerodb_client::Client, project: Uuid) -> Vec<f32> {
    let e = owner.generate_embeddings(project, &["a document"]).await.expect("embed");
    e.embeddings.into_iter().next().expect("one embedding")
}
