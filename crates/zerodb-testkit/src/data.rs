//! Reproducible test data.

/// `len` reproducible, incompressible bytes for `seed` (xorshift): file contents for the
/// end-to-end tests and the files benchmark.
pub fn pattern(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}
