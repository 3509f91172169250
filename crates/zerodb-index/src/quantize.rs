//! What the index stores per vector: float32, or int8 scalar quantization.
//!
//! Cosine vectors are normalised first, so their components lie in [-1, 1] and int8 keeps
//! `round(x * 127)`. Dot and euclidean vectors keep their magnitude: they are scaled by
//! `127 / clip`, where `clip` is the largest absolute component of the vectors the index
//! was built from; later outliers saturate, and exact rescoring from full precision keeps
//! the final scores right.

use serde::{Deserialize, Serialize};
use zerodb_domain::vectors::{Metric, Quantization};

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Quantizer {
    pub metric: Metric,
    pub quantization: Quantization,
    /// Multiplier applied before rounding to int8 (unused for float32).
    pub scale: f32,
}

/// A vector in the index's storage type.
pub enum Stored {
    F32(Vec<f32>),
    I8(Vec<i8>),
}

impl Quantizer {
    /// A quantizer for a namespace whose first vectors are `sample`.
    pub fn fit<'a>(
        metric: Metric,
        quantization: Quantization,
        sample: impl Iterator<Item = &'a [f32]>,
    ) -> Self {
        let scale = match metric {
            Metric::Cosine => 127.0,
            Metric::Dot | Metric::Euclidean => {
                let clip = sample
                    .flat_map(|v| v.iter())
                    .fold(0f32, |m, x| m.max(x.abs()))
                    .max(f32::MIN_POSITIVE);
                127.0 / clip
            }
        };
        Self { metric, quantization, scale }
    }

    /// Prepares a vector (stored or query) for the index.
    pub fn encode(&self, v: &[f32]) -> Stored {
        let normalised;
        let v = if self.metric == Metric::Cosine {
            let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
            normalised = if norm > 0.0 { v.iter().map(|x| x / norm).collect() } else { v.to_vec() };
            &normalised[..]
        } else {
            v
        };
        match self.quantization {
            Quantization::None => Stored::F32(v.to_vec()),
            Quantization::Int8 => Stored::I8(
                v.iter().map(|x| (x * self.scale).round().clamp(-127.0, 127.0) as i8).collect(),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn int8_keeps_direction() {
        let q = Quantizer::fit(Metric::Cosine, Quantization::Int8, std::iter::empty());
        let Stored::I8(v) = q.encode(&[3.0, 4.0]) else { panic!("int8 expected") };
        assert_eq!(v, vec![76, 102]);
        let d = Quantizer::fit(Metric::Dot, Quantization::Int8, [&[2.0f32, -4.0][..]].into_iter());
        let Stored::I8(v) = d.encode(&[2.0, -4.0, 8.0]) else { panic!("int8 expected") };
        assert_eq!(v, vec![64, -127, 127]);
    }
}
