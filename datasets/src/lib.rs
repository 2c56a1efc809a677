//! tradescan-datasets: the data tradescan ships and makes.
//!
//! - [`reference`](mod@reference): HS watch families and the HS 2022 nomenclature,
//!   compiled in, each watch-family row with its source.
//! - [`calendar`]: civil-date arithmetic on days since 1970-01-01 (Arrow `Date32`).
//! - [`generate`]: a seeded generator of synthetic declaration lines written as
//!   hive-style monthly Parquet partitions, with planted, labelled anomalies.

pub mod calendar;
pub mod generate;
pub mod reference;
