//! tradescan-benches: criterion benchmarks for the tradescan kernels and end-to-end
//! scans, and the seeded fixtures they share.
//!
//! - `benches/kernels.rs`: one bench per kernel (`kernels/...`, `baseline/...`,
//!   `detect/...`) on in-memory fixtures from [`fixtures`].
//! - `benches/volume.rs`: the volume pass's kernels (`volume/panel/...`,
//!   `volume/rolling/...`, `volume/surge/...`, `volume/cells/...`) on in-memory
//!   fixtures from [`fixtures`].
//! - `benches/scan.rs`: `Engine::scan` on generated Parquet data (`scan/e2e/...`).
//! - `src/bin/e2e.rs` (binary `tradescan-e2e`): big end-to-end runs with wall time,
//!   rows/s, peak RSS and the "decode floor" ([`e2e::decode_floor`]), with the volume
//!   detectors on, off or both.
//!
//! Every fixture comes from a fixed seed on a ChaCha8 stream, so two runs of a bench
//! time the same work; benches assert a checksum inside the timed loop so the optimiser
//! cannot drop work and a broken kernel fails the bench instead of getting faster.
//!
//! ```no_run
//! use tradescan_benches::fixtures::{Rand, unit_value_inputs};
//! let mut rng = Rand::new(42, 0);
//! let inputs = unit_value_inputs(1_000, &mut rng);
//! assert_eq!(inputs.value.len(), 1_000);
//! ```

pub mod e2e;
pub mod fixtures;

/// Order-independent exact checksum of floats: the wrapping sum of their bit patterns.
/// NaN payloads count too, so a kernel that changes which slots are NaN changes it.
pub fn bits_sum(values: &[f64]) -> u64 {
    values
        .iter()
        .fold(0u64, |acc, v| acc.wrapping_add(v.to_bits()))
}
