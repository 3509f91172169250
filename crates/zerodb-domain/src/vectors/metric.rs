//! Similarity metrics and the exact scores every search reports.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// How a namespace compares vectors. Every score is "higher is more similar".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Metric {
    /// Cosine similarity in [-1, 1].
    #[default]
    Cosine,
    /// Inner product.
    Dot,
    /// `1 / (1 + euclidean distance)`, in (0, 1].
    Euclidean,
}

/// What the in-process index keeps in memory per vector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Quantization {
    /// float32, 4 bytes per dimension.
    #[default]
    None,
    /// Scalar int8, 1 byte per dimension; results are rescored from full precision.
    Int8,
}

impl Metric {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Cosine => "cosine",
            Self::Dot => "dot",
            Self::Euclidean => "euclidean",
        }
    }

    /// The exact score of `a` against `b` (same length).
    pub fn score(self, a: &[f32], b: &[f32]) -> f32 {
        match self {
            Self::Cosine => {
                let (mut dot, mut na, mut nb) = (0f32, 0f32, 0f32);
                for (x, y) in a.iter().zip(b) {
                    dot += x * y;
                    na += x * x;
                    nb += y * y;
                }
                let norm = (na * nb).sqrt();
                if norm > 0.0 { dot / norm } else { 0.0 }
            }
            Self::Dot => a.iter().zip(b).map(|(x, y)| x * y).sum(),
            Self::Euclidean => {
                let d2: f32 = a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum();
                1.0 / (1.0 + d2.sqrt())
            }
        }
    }
}

impl Quantization {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Int8 => "int8",
        }
    }
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for Quantization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Metric {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "cosine" => Ok(Self::Cosine),
            "dot" => Ok(Self::Dot),
            "euclidean" => Ok(Self::Euclidean),
            other => Err(format!("unknown metric '{other}'")),
        }
    }
}

impl FromStr for Quantization {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "none" => Ok(Self::None),
            "int8" => Ok(Self::Int8),
            other => Err(format!("unknown quantization '{other}'")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_are_higher_for_closer_vectors() {
        let q = [1.0, 0.0];
        for m in [Metric::Cosine, Metric::Dot, Metric::Euclidean] {
            assert!(m.score(&q, &[0.9, 0.1]) > m.score(&q, &[0.1, 0.9]), "{m}");
        }
        assert!((Metric::Cosine.score(&q, &[2.0, 0.0]) - 1.0).abs() < 1e-6);
        assert!((Metric::Euclidean.score(&q, &[1.0, 0.0]) - 1.0).abs() < 1e-6);
        assert_eq!(Metric::Cosine.score(&q, &[0.0, 0.0]), 0.0);
    }
}
