//! Data sets for the benchmarks: seeded synthetic clusters, TEXMEX `.fvecs` files projected
//! to any dimension, and exact top-10 ground truth.

use super::BenchError;
use std::path::Path;

/// xorshift64*: a small seeded generator so that data sets are reproducible.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn uniform(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32
    }
    /// Standard normal (Box-Muller).
    fn normal(&mut self) -> f32 {
        let (u, v) = (self.uniform().max(1e-7), self.uniform());
        (-2.0 * u.ln()).sqrt() * (std::f32::consts::TAU * v).cos()
    }
}

pub fn normalise(v: &mut [f32]) {
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if n > 0.0 {
        v.iter_mut().for_each(|x| *x /= n);
    }
}

/// Clustered data: `count` points around `count / 100` random centres, unit length.
pub fn synthetic(count: usize, dim: usize, seed: u64) -> Vec<Vec<f32>> {
    let mut rng = Rng(seed | 1);
    let centres: Vec<Vec<f32>> = (0..(count / 100).max(10))
        .map(|_| {
            let mut c: Vec<f32> = (0..dim).map(|_| rng.normal()).collect();
            normalise(&mut c);
            c
        })
        .collect();
    let spread = 0.6 / (dim as f32).sqrt();
    (0..count)
        .map(|_| {
            let c = &centres[(rng.next_u64() % centres.len() as u64) as usize];
            let mut v: Vec<f32> = c.iter().map(|x| x + rng.normal() * spread).collect();
            normalise(&mut v);
            v
        })
        .collect()
}

pub fn read_fvecs(path: &Path) -> Result<Vec<Vec<f32>>, BenchError> {
    let bytes = std::fs::read(path).map_err(|e| BenchError::Setup(format!("{path:?}: {e}")))?;
    let mut out = Vec::new();
    let mut at = 0;
    while at + 4 <= bytes.len() {
        let dim =
            u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]) as usize;
        at += 4;
        let end = at + dim * 4;
        if end > bytes.len() {
            return Err(BenchError::Setup("truncated .fvecs file".into()));
        }
        out.push(
            bytes[at..end]
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect(),
        );
        at = end;
    }
    Ok(out)
}

/// Real embeddings mapped to `dim` dimensions by a fixed random map (orthonormal rows when
/// widening), topped up with points jittered around corpus points to reach `count`.
pub fn from_dataset(base: &[Vec<f32>], count: usize, dim: usize, seed: u64) -> Vec<Vec<f32>> {
    let src = base[0].len();
    let mut rng = Rng(seed | 1);
    let map: Option<Vec<Vec<f32>>> = (dim != src).then(|| {
        // Gram-Schmidt on random rows gives orthonormal rows for dim <= src, and near
        // orthogonal ones otherwise; either way neighbourhoods survive the projection.
        let mut rows: Vec<Vec<f32>> = Vec::with_capacity(src);
        for _ in 0..src {
            let mut r: Vec<f32> = (0..dim).map(|_| rng.normal()).collect();
            for q in rows.iter().take(dim) {
                let d: f32 = r.iter().zip(q).map(|(a, b)| a * b).sum();
                r.iter_mut().zip(q).for_each(|(a, b)| *a -= d * b);
            }
            normalise(&mut r);
            rows.push(r);
        }
        rows
    });
    let project = |v: &[f32]| -> Vec<f32> {
        let mut out = match &map {
            None => v.to_vec(),
            Some(rows) => {
                let mut out = vec![0f32; dim];
                for (x, row) in v.iter().zip(rows) {
                    out.iter_mut().zip(row).for_each(|(o, r)| *o += x * r);
                }
                out
            }
        };
        normalise(&mut out);
        out
    };
    let projected: Vec<Vec<f32>> = base.iter().map(|v| project(v)).collect();
    let mut out: Vec<Vec<f32>> = projected.iter().take(count).cloned().collect();
    let spread = 0.15 / (dim as f32).sqrt();
    while out.len() < count {
        let p = &projected[(rng.next_u64() % projected.len() as u64) as usize];
        let mut v: Vec<f32> = p.iter().map(|x| x + rng.normal() * spread).collect();
        normalise(&mut v);
        out.push(v);
    }
    out
}

/// Exact top-10 by cosine (all vectors are unit length: dot product), on every core.
pub fn ground_truth(data: &[Vec<f32>], queries: &[Vec<f32>]) -> Vec<Vec<usize>> {
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let chunk = queries.len().div_ceil(threads).max(1);
    std::thread::scope(|s| {
        let handles: Vec<_> = queries
            .chunks(chunk)
            .map(|qs| {
                s.spawn(move || {
                    qs.iter()
                        .map(|q| {
                            let mut scored: Vec<(f32, usize)> = data
                                .iter()
                                .enumerate()
                                .map(|(i, v)| (q.iter().zip(v).map(|(a, b)| a * b).sum(), i))
                                .collect();
                            scored.select_nth_unstable_by(9, |a, b| b.0.total_cmp(&a.0));
                            scored.truncate(10);
                            scored.into_iter().map(|(_, i)| i).collect::<Vec<_>>()
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().unwrap_or_default()).collect()
    })
}
