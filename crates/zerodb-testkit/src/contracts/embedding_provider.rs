//! What every `EmbeddingProvider` promises.

use zerodb_domain::memory::EmbeddingProvider;

pub async fn embedding_provider_contract(provider: &dyn EmbeddingProvider) {
    let dimension = provider.dimension();
    assert!(dimension > 0, "a dimension");
    assert!(!provider.model().is_empty(), "a model name");
    assert!(provider.embed(vec![]).await.expect("no texts").is_empty(), "no texts, no vectors");

    // One vector per text, in order, each of the provider's dimension, all finite; more
    // texts than one request usually carries.
    let texts: Vec<String> =
        (0..37).map(|i| format!("text number {i} about topic {}", i % 5)).collect();
    let vectors = provider.embed(texts.clone()).await.expect("embed");
    assert_eq!(vectors.len(), texts.len(), "one vector per text");
    for (i, v) in vectors.iter().enumerate() {
        assert_eq!(v.len(), dimension, "vector {i} has the provider's dimension");
        assert!(v.iter().all(|x| x.is_finite()), "vector {i} is finite");
    }

    // The same text gives the same vector, in one call and across calls, wherever it sits.
    let mut reversed = texts.clone();
    reversed.reverse();
    let mut again = provider.embed(reversed).await.expect("embed reversed");
    again.reverse();
    assert_eq!(again, vectors, "order follows the texts; a text's vector does not change");
    let twice = provider.embed(vec![texts[3].clone(), texts[3].clone()]).await.expect("twice");
    assert_eq!((&twice[0], &twice[1]), (&vectors[3], &vectors[3]), "repeated text");

    // Different texts are told apart.
    assert_ne!(vectors[0], vectors[1], "different texts, different vectors");
}
