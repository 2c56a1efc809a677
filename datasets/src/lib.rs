//! tradescan-datasets: the data tradescan ships and makes.
//!
//! - [`reference`]: HS watch families and the HS 2022 nomenclature, compiled in, each
//!   watch-family row with its source.
//! - [`generate`]: a seeded generator of synthetic declaration lines written as
//!   hive-style monthly Parquet partitions, with planted, labelled anomalies.

pub mod generate;
pub mod reference;
