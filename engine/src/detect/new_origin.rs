//! `new-origin` (V03): a watched HS6 arrives from an origin never seen before.
//!
//! **What it detects.** A new supply route for a watched good: precursors suddenly
//! shipped from a country that never supplied them, ammunition from a new origin (a
//! possible transhipment or false declaration of origin).
//!
//! **Method.** For each HS6 in a configured family and each origin, the first period
//! with a line; reported when it lies at least `burn_in` periods after the start of the
//! data and the amount of that (HS6, origin) in the period is at least `min_amount` and
//! at least `min_ratio` times the median of the HS6's non-zero (origin, period) cells.
//! Series key `hs6_origin`.
//!
//! **Score.** As `first-time-importer`: `3.5 + max(0, z)` with `z` the robust z of
//! `ln(amount)` against the ln amounts of the HS6's other non-zero (origin, period)
//! cells.
//!
//! **Parameters.** Those of `first-time-importer` ([`super::NoveltyConfig`]), under
//! `[detectors.new-origin]`; same defaults.
//!
//! **Known false positives.** Small trading partners that supply a good once in a
//! while, origin codes that changed (a country split, a code corrected by the
//! declarant), lines whose origin was mistyped.
