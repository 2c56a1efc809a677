//! Pure functions on Arrow arrays and plain slices.
//!
//! Arrow arrays are unpacked at the edge ([`arrow_edge`]); the arithmetic cores work on
//! `&[f64]`, `&[u64]` and small state structs so that they vectorise and can serve
//! other hosts.

pub mod arrow_edge;
pub mod codes;
pub mod counts;
pub mod dates;
pub mod fixed;
pub mod hash;
pub mod intern;
pub mod order_stats;
pub mod prefetch;
pub mod rolling;
pub mod tail;
pub mod tiers;
pub mod unit_value;
