//! How memories are ranked: meaning, recency and importance, with the breakdown shown.

use serde::{Deserialize, Serialize};

/// Weights of the three signals and the recency half-life. Configured per project.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RankingWeights {
    pub similarity: f32,
    pub recency: f32,
    pub importance: f32,
    /// Age at which the recency signal halves, in hours.
    pub half_life_hours: f32,
}

impl Default for RankingWeights {
    fn default() -> Self {
        Self { similarity: 0.7, recency: 0.2, importance: 0.1, half_life_hours: 72.0 }
    }
}

/// A score and the terms it adds up from.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ScoreBreakdown {
    /// Relevance to the query in [0, 1] (see the search mode).
    pub similarity: f32,
    /// `0.5^(age / half_life)`, in (0, 1].
    pub recency: f32,
    pub importance: f32,
    /// `w_similarity·similarity + w_recency·recency + w_importance·importance`.
    pub score: f32,
}

impl RankingWeights {
    pub fn score(&self, similarity: f32, age_hours: f32, importance: f32) -> ScoreBreakdown {
        let recency = 0.5f32.powf(age_hours.max(0.0) / self.half_life_hours.max(f32::MIN_POSITIVE));
        let score =
            self.similarity * similarity + self.recency * recency + self.importance * importance;
        ScoreBreakdown { similarity, recency, importance, score }
    }
}

/// Reciprocal rank fusion constant (the usual 60).
pub const RRF_K: f32 = 60.0;

/// Fuses ranked lists: each item scores `Σ 1/(k + rank)` over the lists it appears in,
/// normalised to [0, 1] by the best possible score (first in every list).
pub fn reciprocal_rank_fusion<T: Copy + Eq + std::hash::Hash>(lists: &[Vec<T>]) -> Vec<(T, f32)> {
    let mut scores: std::collections::HashMap<T, f32> = std::collections::HashMap::new();
    let mut order = Vec::new();
    for list in lists {
        for (rank, item) in list.iter().enumerate() {
            let entry = scores.entry(*item).or_insert_with(|| {
                order.push(*item);
                0.0
            });
            *entry += 1.0 / (RRF_K + rank as f32 + 1.0);
        }
    }
    let best = lists.len().max(1) as f32 / (RRF_K + 1.0);
    let mut fused: Vec<(T, f32)> = order.into_iter().map(|i| (i, scores[&i] / best)).collect();
    fused.sort_by(|a, b| b.1.total_cmp(&a.1));
    fused
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recent_beats_old_and_importance_breaks_ties() {
        let w = RankingWeights::default();
        let recent = w.score(0.8, 1.0, 0.5);
        let old = w.score(0.8, 24.0 * 30.0, 0.5);
        assert!(recent.score > old.score);
        let important = w.score(0.8, 5.0, 0.9);
        let plain = w.score(0.8, 5.0, 0.1);
        assert!(important.score > plain.score);
        let b = w.score(0.6, 72.0, 0.3);
        assert!((b.recency - 0.5).abs() < 1e-6);
        let sum = w.similarity * b.similarity + w.recency * b.recency + w.importance * b.importance;
        assert!((b.score - sum).abs() < 1e-6);
    }

    #[test]
    fn fusion_rewards_agreement() {
        let fused = reciprocal_rank_fusion(&[vec![1, 2, 3], vec![2, 4, 5]]);
        assert_eq!(fused[0].0, 2);
        assert!(fused.iter().all(|(_, s)| *s > 0.0 && *s <= 1.0));
        let single = reciprocal_rank_fusion(&[vec![7]]);
        assert_eq!(single, vec![(7, 1.0)]);
    }
}
