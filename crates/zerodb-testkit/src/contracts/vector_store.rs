//! What every `VectorStore` promises. The caller gives two projects that exist and hold no
//! vectors yet.

use serde_json::{Map, Value, json};
use zerodb_domain::ProjectId;
use zerodb_domain::vectors::{
    LexicalRequest, MetadataFilter, Metric, NamespaceName, NamespaceSpec, NewVector, Quantization,
    SearchPath, SearchRequest, VectorId, VectorSelector, VectorStore, VectorStoreError,
};

fn name(raw: &str) -> NamespaceName {
    NamespaceName::new(raw, "namespace").expect("a valid namespace name")
}

fn metadata(value: Value) -> Map<String, Value> {
    value.as_object().cloned().unwrap_or_default()
}

/// Unit vector `i` of a small orthogonal basis, tilted slightly toward the next one so
/// that every pair has a distinct, known similarity.
fn basis(i: usize, dimension: usize) -> Vec<f32> {
    let mut v = vec![0.0; dimension];
    v[i % dimension] = 1.0;
    v[(i + 1) % dimension] = 0.1;
    v
}

fn vector(id: VectorId, namespace: &str, embedding: Vec<f32>, meta: Value) -> NewVector {
    NewVector {
        document: Some(format!("document of {id}")),
        id,
        namespace: name(namespace),
        embedding,
        metadata: metadata(meta),
        source: Some("contract".into()),
    }
}

fn search(namespace: &str, query: Vec<f32>, limit: u32) -> SearchRequest {
    SearchRequest {
        namespace: name(namespace),
        query,
        limit,
        filter: None,
        min_score: None,
        include_vectors: false,
    }
}

pub async fn vector_store_contract(store: &dyn VectorStore, project: ProjectId, other: ProjectId) {
    let cosine = NamespaceSpec { metric: Metric::Cosine, quantization: Quantization::None };
    let dot = NamespaceSpec { metric: Metric::Dot, quantization: Quantization::None };

    // Namespaces: creating again with the same settings is the same namespace; other
    // settings are refused.
    let created = store.create_namespace(project, &name("docs"), cosine, Some(4)).await.unwrap();
    assert_eq!((created.name.as_str(), created.dimension), ("docs", Some(4)));
    let again = store.create_namespace(project, &name("docs"), cosine, Some(4)).await.unwrap();
    assert_eq!(again.name, "docs", "idempotent");
    assert!(matches!(
        store.create_namespace(project, &name("docs"), dot, Some(4)).await,
        Err(VectorStoreError::NamespaceSettings { .. })
    ));

    // Upserts: new ids are created, known ids replaced; all or nothing.
    let ids: Vec<VectorId> = (0..4).map(|_| VectorId::generate()).collect();
    let batch = ids
        .iter()
        .enumerate()
        .map(|(i, id)| vector(id.clone(), "docs", basis(i, 4), json!({"i": i, "even": i % 2 == 0})))
        .collect();
    let outcomes = store.upsert(project, batch, cosine).await.unwrap();
    assert!(outcomes.iter().all(|o| o.created), "new ids are created");
    let replaced =
        vector(ids[0].clone(), "docs", basis(0, 4), json!({"i": 0, "even": true, "v": 2}));
    let outcome = store.upsert(project, vec![replaced], cosine).await.unwrap();
    assert!(!outcome[0].created, "a known id is replaced");
    assert_eq!(store.get(project, &ids[0]).await.unwrap().metadata["v"], 2);
    let wrong_length = vector(VectorId::generate(), "docs", vec![1.0; 3], json!({}));
    let fresh = VectorId::generate();
    assert!(matches!(
        store
            .upsert(
                project,
                vec![vector(fresh.clone(), "docs", basis(1, 4), json!({})), wrong_length],
                cosine
            )
            .await,
        Err(VectorStoreError::DimensionMismatch { expected: 4, got: 3, .. })
    ));
    assert_eq!(
        store.get(project, &fresh).await.err(),
        Some(VectorStoreError::NotFound),
        "a refused batch writes nothing"
    );
    assert!(matches!(
        store.upsert(project, vec![vector(ids[1].clone(), "other", basis(1, 4), json!({}))], cosine).await,
        Err(VectorStoreError::IdInOtherNamespace(id)) if id == ids[1]
    ));

    embedding_models_are_recorded(store, project, other).await;

    // Reads: a record as written; another project sees nothing of it.
    let record = store.get(project, &ids[2]).await.unwrap();
    assert_eq!((record.namespace.as_str(), record.metadata["i"].as_u64()), ("docs", Some(2)));
    assert_eq!(record.document, Some(format!("document of {}", ids[2])));
    assert_eq!(store.get(other, &ids[2]).await.err(), Some(VectorStoreError::NotFound));

    // Lists page by id.
    let first = store.list(project, Some(name("docs")), None, 3, false).await.unwrap();
    let rest =
        store.list(project, None, first.last().map(|r| r.id.clone()), 3, true).await.unwrap();
    let listed: Vec<VectorId> = first.iter().chain(&rest).map(|r| r.id.clone()).collect();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(listed, sorted, "every vector once, by id");
    assert!(rest.iter().all(|r| r.embedding.len() == 4), "embeddings when asked for");

    // Search: exact neighbours best first, the limit, filters, and clear errors.
    let found = store.search(project, &search("docs", basis(2, 4), 4)).await.unwrap();
    assert_eq!(found.path, SearchPath::Index, "a healthy store answers from its index");
    let hits = found.hits;
    assert_eq!(hits[0].id, ids[2], "the vector itself first");
    assert!((hits[0].score - 1.0).abs() < 1e-3, "cosine of a vector with itself");
    assert!(hits.windows(2).all(|w| w[0].score >= w[1].score), "best first");
    assert_eq!(store.search(project, &search("docs", basis(2, 4), 2)).await.unwrap().hits.len(), 2);
    let mut odd = search("docs", basis(0, 4), 10);
    odd.filter = Some(MetadataFilter::parse(&json!({"even": false})).unwrap());
    let odd_hits = store.search(project, &odd).await.unwrap().hits;
    let mut odd_ids: Vec<VectorId> = odd_hits.iter().map(|h| h.id.clone()).collect();
    odd_ids.sort();
    let mut expected = vec![ids[1].clone(), ids[3].clone()];
    expected.sort();
    assert_eq!(odd_ids, expected, "only matching vectors, all of them");
    assert_eq!(
        store.search(project, &search("nowhere", basis(0, 4), 3)).await.err(),
        Some(VectorStoreError::NamespaceNotFound)
    );
    assert!(matches!(
        store.search(project, &search("docs", vec![1.0; 5], 3)).await,
        Err(VectorStoreError::DimensionMismatch { expected: 4, got: 5, .. })
    ));
    assert_eq!(
        store.search(other, &search("docs", basis(0, 4), 3)).await.err(),
        Some(VectorStoreError::NamespaceNotFound),
        "another project has no such namespace"
    );

    // Ranges, thresholds, and the stored vectors returned as written.
    let mut ranged = search("docs", basis(3, 4), 10);
    ranged.filter = Some(MetadataFilter::parse(&json!({"i": {"$gte": 2}})).unwrap());
    ranged.include_vectors = true;
    let ranged_hits = store.search(project, &ranged).await.unwrap().hits;
    assert_eq!(
        ranged_hits.iter().map(|h| h.id.clone()).collect::<Vec<_>>(),
        vec![ids[3].clone(), ids[2].clone()]
    );
    assert_eq!(ranged_hits[0].embedding.as_deref(), Some(&basis(3, 4)[..]), "the original vector");
    let mut strict = search("docs", basis(3, 4), 10);
    strict.min_score = Some(0.5);
    let strict_hits = store.search(project, &strict).await.unwrap().hits;
    assert_eq!(strict_hits.iter().map(|h| h.id.clone()).collect::<Vec<_>>(), vec![ids[3].clone()]);

    // Euclidean scores are 1 / (1 + distance), higher is closer.
    let euclidean = NamespaceSpec { metric: Metric::Euclidean, quantization: Quantization::None };
    let far = VectorId::generate();
    let near = VectorId::generate();
    store
        .upsert(
            project,
            vec![
                vector(near.clone(), "places", vec![1.0, 1.0], json!({})),
                vector(far.clone(), "places", vec![4.0, 5.0], json!({})),
            ],
            euclidean,
        )
        .await
        .unwrap();
    let places = store.search(project, &search("places", vec![1.0, 1.0], 2)).await.unwrap().hits;
    assert_eq!(
        places.iter().map(|h| h.id.clone()).collect::<Vec<_>>(),
        vec![near.clone(), far.clone()]
    );
    assert!((places[0].score - 1.0).abs() < 1e-4 && (places[1].score - 1.0 / 6.0).abs() < 1e-4);

    // Deletes answer how many went, and what went is gone from reads and searches at once.
    let deleted = store
        .delete(project, &VectorSelector::Ids(vec![ids[0].clone(), VectorId::generate()]))
        .await
        .unwrap();
    assert_eq!(deleted, 1);
    assert_eq!(store.get(project, &ids[0]).await.err(), Some(VectorStoreError::NotFound));
    let hits = store.search(project, &search("docs", basis(0, 4), 10)).await.unwrap().hits;
    assert!(hits.iter().all(|h| h.id != ids[0]), "a deleted vector is never found");
    let by_filter = VectorSelector::Filter {
        namespace: name("docs"),
        filter: MetadataFilter::parse(&json!({"even": false})).unwrap(),
    };
    assert_eq!(store.delete(project, &by_filter).await.unwrap(), 2);
    let left = store.list(project, Some(name("docs")), None, 10, false).await.unwrap();
    assert_eq!(left.iter().map(|r| r.id.clone()).collect::<Vec<_>>(), vec![ids[2].clone()]);

    // The dot product scores unnormalised vectors by length too.
    let dot_ids = [VectorId::generate(), VectorId::generate()];
    store
        .upsert(
            project,
            vec![
                vector(dot_ids[0].clone(), "dots", vec![1.0, 0.0], json!({})),
                vector(dot_ids[1].clone(), "dots", vec![3.0, 0.5], json!({})),
            ],
            dot,
        )
        .await
        .unwrap();
    let dots = store.search(project, &search("dots", vec![2.0, 1.0], 2)).await.unwrap().hits;
    assert_eq!(
        dots.iter().map(|h| h.id.clone()).collect::<Vec<_>>(),
        vec![dot_ids[1].clone(), dot_ids[0].clone()]
    );
    assert!((dots[0].score - 6.5).abs() < 1e-4 && (dots[1].score - 2.0).abs() < 1e-4);

    filters_match_an_exact_reference(store, project).await;
    string_ids_and_text_search(store, project, other).await;

    // Statistics per namespace, and a project's forgetting is idempotent.
    let stats = store.namespaces(project).await.unwrap();
    let docs = stats.iter().find(|s| s.namespace.name == "docs").expect("docs listed");
    assert_eq!(docs.namespace.vector_count, 1);
    store.drop_project(other).await.unwrap();
    store.drop_project(other).await.unwrap();
}

/// Reproducible pseudo-random numbers in [-1, 1).
fn noise(seed: u64, n: usize) -> Vec<f32> {
    crate::pattern(n * 2, seed)
        .chunks_exact(2)
        .map(|b| f32::from(u16::from_le_bytes([b[0], b[1]])) / 32768.0 - 1.0)
        .collect()
}

/// Every filter operator, on 1,000 vectors, against a brute-force reference: the same
/// matches when the limit covers them all, and the same best ten otherwise; a filter
/// matching 2 % still fills the limit.
async fn filters_match_an_exact_reference(store: &dyn VectorStore, project: ProjectId) {
    let spec = NamespaceSpec::default();
    let records: Vec<NewVector> = (0..1000usize)
        .map(|i| {
            let tag = ["red", "green", "blue"][i % 3];
            let mut meta = json!({
                "i": i,
                "bucket": i % 50,
                "tag": tag,
                "score": i as f64 * 0.5,
                "flag": i % 2 == 0,
                "tags": ["all", format!("t{}", i % 5)],
                "name": format!("item-{i}"),
                "nested": {"k": i % 7},
            });
            if i % 10 == 0 {
                meta["rare"] = json!(null);
            }
            vector(VectorId::generate(), "filtered", noise(i as u64 + 1, 8), meta)
        })
        .collect();
    for chunk in records.chunks(250) {
        store.upsert(project, chunk.to_vec(), spec).await.unwrap();
    }
    let query = noise(999_999, 8);
    let filters = [
        json!({"tag": "red"}),
        json!({"tag": {"$eq": "green"}, "flag": true}),
        json!({"bucket": 7}),
        json!({"tag": {"$ne": "red"}}),
        json!({"score": {"$gt": 100}}),
        json!({"score": {"$gte": 100.5, "$lt": 140}}),
        json!({"i": {"$lte": 30}}),
        json!({"name": {"$gt": "item-9"}}),
        json!({"tag": {"$in": ["red", "blue"]}}),
        json!({"bucket": {"$nin": [1, 2, 3]}}),
        json!({"rare": {"$exists": true}}),
        json!({"rare": {"$exists": false}, "bucket": {"$lt": 3}}),
        json!({"tags": {"$contains": "t3"}}),
        json!({"name": {"$contains": "-99"}}),
        json!({"nested.k": 3}),
        json!({"$or": [{"bucket": 1}, {"nested.k": {"$gte": 6}}]}),
        json!({"$and": [{"flag": false}, {"$not": {"tag": "blue"}}]}),
        json!({"$not": {"i": {"$gte": 5}}}),
        json!({"bucket": 1000}),
    ];
    for raw in filters {
        let filter = MetadataFilter::parse(&raw).unwrap();
        let mut expected: Vec<(f32, VectorId)> = records
            .iter()
            .filter(|r| filter.matches(&r.metadata))
            .map(|r| (Metric::Cosine.score(&query, &r.embedding), r.id.clone()))
            .collect();
        expected.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        for limit in [10u32, 1000] {
            let mut request = search("filtered", query.clone(), limit);
            request.filter = Some(filter.clone());
            let hits = store.search(project, &request).await.unwrap().hits;
            let want: Vec<VectorId> =
                expected.iter().take(limit as usize).map(|e| e.1.clone()).collect();
            let got: Vec<VectorId> = hits.iter().map(|h| h.id.clone()).collect();
            assert_eq!(got, want, "filter {raw} with limit {limit}");
            for (hit, (score, _)) in hits.iter().zip(&expected) {
                assert!((hit.score - score).abs() < 1e-4, "filter {raw}: score {}", hit.score);
            }
        }
    }
}

/// A namespace records the model that made its vectors; another model is refused while it
/// holds any, and may take over an empty one of the same dimension.
async fn embedding_models_are_recorded(
    store: &dyn VectorStore,
    project: ProjectId,
    other: ProjectId,
) {
    let spec = NamespaceSpec::default();
    let ns = name("by-model");
    assert_eq!(store.namespace_model(project, &ns).await.unwrap(), None, "absent: no model");
    let recorded = store.record_embedding_model(project, &ns, "model-a", Some(3)).await.unwrap();
    assert_eq!(
        (recorded.embedding_model.as_deref(), recorded.dimension),
        (Some("model-a"), Some(3)),
        "created with its model and dimension"
    );
    assert_eq!(store.namespace_model(project, &ns).await.unwrap().as_deref(), Some("model-a"));
    assert_eq!(store.namespace_model(other, &ns).await.unwrap(), None, "per project");
    store.record_embedding_model(project, &ns, "model-a", Some(3)).await.expect("idempotent");
    // Empty: another model of the same dimension takes over; of another dimension, not.
    store.record_embedding_model(project, &ns, "model-b", Some(3)).await.expect("empty");
    assert!(matches!(
        store.record_embedding_model(project, &ns, "model-c", Some(5)).await,
        Err(VectorStoreError::DimensionMismatch { expected: 3, got: 5, .. })
    ));
    let id = VectorId::generate();
    store
        .upsert(project, vec![vector(id.clone(), "by-model", vec![1.0, 0.0, 0.0], json!({}))], spec)
        .await
        .unwrap();
    assert!(matches!(
        store.record_embedding_model(project, &ns, "model-a", Some(3)).await,
        Err(VectorStoreError::ModelMismatch { recorded, got, .. })
            if recorded == "model-b" && got == "model-a"
    ));
    let listed = store.namespaces(project).await.unwrap();
    let listed = listed.iter().find(|n| n.namespace.name == "by-model").map(|n| &n.namespace);
    assert_eq!(listed.and_then(|n| n.embedding_model.as_deref()), Some("model-b"));
    store.delete(project, &VectorSelector::Ids(vec![id])).await.unwrap();
    // A namespace without a model takes the first one named.
    store.create_namespace(project, &name("unnamed"), spec, None).await.unwrap();
    let named = store.record_embedding_model(project, &name("unnamed"), "model-a", None).await;
    assert_eq!(named.unwrap().embedding_model.as_deref(), Some("model-a"));
}

/// Any string is an id, kept exactly; text search ranks documents, filters and all.
async fn string_ids_and_text_search(store: &dyn VectorStore, project: ProjectId, other: ProjectId) {
    let spec = NamespaceSpec::default();
    let long = "é".repeat(256);
    let raw = ["1", "2", "search", "a/b?c#d%2F", "with space", "🚀 rocket", long.as_str()];
    let ids: Vec<VectorId> = raw.iter().map(|r| VectorId::check(r).unwrap()).collect();
    let docs = [
        "the quick brown fox jumps over the lazy dog",
        "a slow green turtle",
        "foxes are quick and clever animals",
        "nothing to see here",
        "the dog sleeps all day",
        "rocket launches to orbit",
        "brown bears and brown foxes",
    ];
    let batch: Vec<NewVector> = ids
        .iter()
        .zip(docs)
        .enumerate()
        .map(|(i, (id, doc))| {
            let mut v =
                vector(id.clone(), "strings", basis(i, 8), json!({"i": i, "even": i % 2 == 0}));
            v.document = Some(doc.to_owned());
            v
        })
        .collect();
    store.upsert(project, batch, spec).await.unwrap();
    // The same ids in another project are other vectors.
    store
        .upsert(other, vec![vector(ids[0].clone(), "strings", basis(0, 8), json!({}))], spec)
        .await
        .unwrap();
    for (id, text) in ids.iter().zip(raw) {
        let record = store.get(project, id).await.unwrap();
        assert_eq!(record.id.to_string(), text, "answered exactly as given");
    }
    assert_eq!(store.get_many(project, &ids).await.unwrap().len(), ids.len());
    let listed = store.list(project, Some(name("strings")), None, 100, false).await.unwrap();
    let texts: Vec<String> = listed.iter().map(|r| r.id.to_string()).collect();
    let mut sorted: Vec<String> = raw.iter().map(|r| (*r).to_owned()).collect();
    sorted.sort();
    assert_eq!(texts, sorted, "listed in byte order");
    let hits = store.search(project, &search("strings", basis(3, 8), 1)).await.unwrap().hits;
    assert_eq!(hits[0].id, ids[3]);

    let lexical = |query: &str, filter: Option<Value>| LexicalRequest {
        namespace: name("strings"),
        query: query.to_owned(),
        limit: 10,
        filter: filter.map(|f| MetadataFilter::parse(&f).unwrap()),
    };
    let found = store.lexical(project, &lexical("quick fox", None)).await.unwrap();
    let found_ids: Vec<String> = found.iter().map(|m| m.hit.id.to_string()).collect();
    assert!(found_ids.len() >= 2 && found_ids[..2].contains(&"1".to_owned()), "{found_ids:?}");
    assert!(found_ids.contains(&"search".to_owned()), "stemmed: foxes ~ fox: {found_ids:?}");
    assert!(found.windows(2).all(|w| w[0].rank >= w[1].rank), "best first");
    assert!(!found_ids.contains(&"2".to_owned()), "no shared word");
    let even = store.lexical(project, &lexical("brown fox", Some(json!({"even": true})))).await;
    let even_ids: Vec<String> = even.unwrap().iter().map(|m| m.hit.id.to_string()).collect();
    assert_eq!(even_ids.len(), 3, "1, search, and the long id: {even_ids:?}");
    assert!(!even_ids.contains(&"a/b?c#d%2F".to_owned()));
    assert!(store.lexical(project, &lexical("!!!", None)).await.unwrap().is_empty());
    let mut nowhere = lexical("fox", None);
    nowhere.namespace = name("nowhere");
    assert_eq!(
        store.lexical(project, &nowhere).await.err(),
        Some(VectorStoreError::NamespaceNotFound)
    );

    // Deleting by string ids; what went is gone from text search at once.
    let two = VectorSelector::Ids(vec![ids[0].clone(), ids[2].clone()]);
    assert_eq!(store.delete(project, &two).await.unwrap(), 2);
    let after = store.lexical(project, &lexical("quick fox", None)).await.unwrap();
    assert!(after.iter().all(|m| m.hit.id != ids[0] && m.hit.id != ids[2]));
    assert_eq!(store.get(other, &ids[0]).await.unwrap().id, ids[0], "another project's own");
}
