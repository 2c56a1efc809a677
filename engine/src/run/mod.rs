//! The stages of a run, one file each, in call order. The run record's `timings_ms`
//! names them the same way.
//!
//! A scan ([`crate::Engine::scan`]):
//!
//! 1. `plan` ([`crate::scan`]): discover the files, read their footers, cut them into
//!    units of work (file, row groups), prune row groups outside the date window.
//! 2. [`measure`]: read every unit in parallel; per line its comparison key (a local
//!    group id) and ln measures; with volume detectors, the unit's series cells.
//! 3. [`volume`] (`volume_merge`, `volume`): merge the cells in unit order into shards
//!    by HS6, and run the volume detectors over each panel.
//! 4. [`merge`]: local group ids become global ids, in unit order.
//! 5. [`baseline`]: exact group statistics per fallback level and measure (or the
//!    stored baseline's), and the local groups of the fallback check.
//! 6. [`score`]: every line judged by every price detector, in parallel per unit; the
//!    random audit drawn ([`audit`]).
//! 7. [`details`]: the flagged lines read back, their findings built and sorted with
//!    the volume findings; the inspection budget applied ([`budget`]).
//! 8. [`fingerprint`]: every input's content fingerprint.
//! 9. [`summary`]: the run record.
//!
//! A fit ([`crate::Engine::fit`]) plans and measures the same way, then [`fit`]
//! reduces the history to what a stored baseline keeps.
//!
//! Stages take the settings they need ([`crate::settings`]) and the engine's pool;
//! within a stage, workers build partial results per unit and partials merge in unit
//! order, so the output does not depend on the thread count.

pub mod audit;
pub mod baseline;
pub mod budget;
pub mod details;
pub mod events;
pub mod fingerprint;
pub mod fit;
pub mod measure;
pub mod merge;
pub mod score;
pub mod summary;
pub mod volume;

use std::collections::BTreeMap;
use std::time::Instant;

/// Wall time per stage, milliseconds (the run record's `timings_ms`).
#[derive(Debug, Default)]
pub struct Timings(BTreeMap<String, u64>);

impl Timings {
    /// Record stage `name` as having run since `since`.
    pub fn lap(&mut self, name: &str, since: Instant) {
        self.set(name, since.elapsed().as_millis() as u64);
    }

    /// Record stage `name` as `ms` milliseconds.
    pub fn set(&mut self, name: &str, ms: u64) {
        self.0.insert(name.to_string(), ms);
    }

    /// The recorded timings.
    pub fn into_map(self) -> BTreeMap<String, u64> {
        self.0
    }
}

/// Receives progress of long stages; the CLI draws a bar, the library never prints.
pub trait Progress: Sync {
    /// A stage starts, covering `total` rows.
    fn stage(&self, _name: &str, _total: u64) {}
    /// `rows` more rows are done.
    fn advance(&self, _rows: u64) {}
    /// The stage is over.
    fn finish(&self) {}
}

/// Progress that goes nowhere.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;
impl Progress for NoProgress {}
