//! What every `EmbeddingCache` promises (besides that it may forget: nothing here fills it
//! past a handful of entries).

use zerodb_domain::memory::EmbeddingCache;

pub async fn embedding_cache_contract(cache: &dyn EmbeddingCache) {
    let key = |name: &str| super::unique(name);
    let (a, b, unknown) = (key("a"), key("b"), key("unknown"));

    assert!(cache.get_many(&[]).await.is_empty(), "no keys, no answers");
    assert_eq!(cache.get_many(std::slice::from_ref(&a)).await, vec![None], "a miss");

    // Stored vectors come back exactly (bit for bit), one answer per key, in order.
    let va = vec![0.1_f32, -2.5, f32::MIN_POSITIVE, 1e30];
    let vb = vec![3.0_f32; 384];
    cache.put_many(vec![(a.clone(), va.clone()), (b.clone(), vb.clone())]).await;
    assert_eq!(
        cache.get_many(&[b.clone(), unknown.clone(), a.clone(), b.clone()]).await,
        vec![Some(vb.clone()), None, Some(va.clone()), Some(vb)],
        "hits and misses answer in the keys' order"
    );

    // A key written again holds the newer vector.
    let newer = vec![9.0_f32, 8.0, 7.0, 6.0];
    cache.put_many(vec![(a.clone(), newer.clone())]).await;
    assert_eq!(cache.get_many(&[a]).await, vec![Some(newer)], "overwritten");
}
