//! The fallback: an exact scan of one namespace's records in PostgreSQL.

use std::sync::Arc;
use zerodb_domain::ProjectId;
use zerodb_domain::vectors::{
    Metric, SearchHit, SearchRequest, VectorChange, VectorRecords, VectorStoreError,
};

/// Records read per round trip.
const PAGE: u32 = 1000;

/// The best `request.limit` vectors of the namespace by exact score, reading every live
/// vector of it once, page by page, and keeping only the best in memory.
pub async fn search(
    records: &Arc<dyn VectorRecords>,
    project_id: ProjectId,
    metric: Metric,
    request: &SearchRequest,
) -> Result<Vec<SearchHit>, VectorStoreError> {
    let limit = request.limit as usize;
    let namespace = request.namespace.as_str();
    let mut best: Vec<SearchHit> = Vec::new();
    let mut after = 0;
    loop {
        let page = records.live_vectors(project_id, namespace, after, PAGE).await?;
        let full = page.len() == PAGE as usize;
        for change in page {
            let VectorChange::Upserted { seq, id, embedding, metadata, document, source, .. } =
                change
            else {
                continue;
            };
            after = seq;
            if request.filter.as_ref().is_some_and(|f| !f.matches(&metadata)) {
                continue;
            }
            let score = metric.score(&request.query, &embedding);
            if request.min_score.is_some_and(|min| score < min) {
                continue;
            }
            best.push(SearchHit {
                id,
                score,
                namespace: namespace.to_owned(),
                document,
                metadata,
                source,
                embedding: request.include_vectors.then_some(embedding),
            });
        }
        if best.len() > limit.max(256) * 4 {
            rank(&mut best, limit);
        }
        if !full {
            break;
        }
    }
    rank(&mut best, limit);
    Ok(best)
}

/// Best first (ties by id, as the built-in index orders them), at most `limit`.
pub fn rank(hits: &mut Vec<SearchHit>, limit: usize) {
    hits.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.id.cmp(&b.id)));
    hits.truncate(limit);
}
