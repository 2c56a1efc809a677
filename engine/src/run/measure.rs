//! The measure stage, the first pass of a scan: every unit read in parallel; per line
//! its comparison key (a local group id) and ln measures (unit value, kg per unit),
//! with the reason when it has none; with volume detectors, the unit's series cells.

use rayon::prelude::*;

use super::Progress;
use crate::baseline::FineKey;
use crate::config::Denominator;
use crate::error::{Error, Result};
use crate::kernels::arrow_edge::{
    NULL_DATE, codes_into, date_days_into, f64_values_into, hs_codes_into,
};
use crate::kernels::codes::{Code, HsCode};
use crate::kernels::intern::KeyIndex;
use crate::kernels::unit_value::{SkipReason, basis, ln_kg_per_unit, ln_unit_value};
use crate::scan::{BatchColumns, ScanPlan, ScanUnit, column_error, read_unit};
use crate::schema::Col;
use crate::series::VolumeMeasure;
use crate::series::cells::{CellOptions, CellSymbols, InternError, LineColumns, UnitCells};

use crate::baseline::NO_GROUP;

/// Columns the measure pass can decode (see [`MeasureOptions::columns`]).
pub const MEASURE_COLUMNS: [Col; 7] = [
    Col::HsCode,
    Col::Origin,
    Col::Unit,
    Col::Quantity,
    Col::NetMassKg,
    Col::CustomsValue,
    Col::Date,
];

/// What the measure pass keeps of one unit: a group id and the ln measures per line
/// (none when no price detector runs).
#[derive(Debug, Default)]
pub struct UnitMeasures {
    /// Lines read.
    pub rows: u64,
    /// Local group id -> key (ids are first-appearance order within the unit).
    pub keys: Vec<FineKey>,
    /// Per line: local group id, or [`NO_GROUP`].
    pub gid: Vec<u32>,
    /// Per line: ln unit value (NaN when none).
    pub uv: Vec<f64>,
    /// Per line: ln kg per supplementary unit (NaN when none); empty when not needed.
    pub kgpu: Vec<f64>,
    /// Per line: why it has no unit value ([`SkipReason`] as `u8`), 0 when it has one.
    pub reason: Vec<u8>,
    /// Lines that are scored but carry a data-quality note, by [`Note`].
    pub notes: [u64; Note::ALL.len()],
    /// First line (within the unit) of each note.
    pub first_note: [Option<u64>; Note::ALL.len()],
    /// The unit's volume cells, when volume detectors run.
    pub cells: Option<UnitCells>,
    /// Per line: acceptance date ([`NULL_DATE`] when missing), with `keep_dates`.
    pub dates: Vec<i32>,
}

/// A data-quality note on a line that is still scored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Note {
    /// The unit is not a known UN/ECE Rec. 20 supplementary unit; the line is compared
    /// only with lines of the same unit.
    UnknownUnit,
    /// The acceptance date is null or unparseable.
    MissingDate,
}

impl Note {
    /// Every note, in report order.
    pub const ALL: [Note; 2] = [Note::UnknownUnit, Note::MissingDate];

    /// snake_case name used in summaries.
    pub fn name(self) -> &'static str {
        match self {
            Note::UnknownUnit => "unknown_unit",
            Note::MissingDate => "missing_date",
        }
    }

    /// The canonical column the note is about.
    pub fn column(self) -> &'static str {
        match self {
            Note::UnknownUnit => "unit",
            Note::MissingDate => "date",
        }
    }
}

impl UnitMeasures {
    fn skip(&mut self, reason: SkipReason) {
        self.reason.push(reason as u8);
    }

    /// Free the per-line measures once they are judged; keys, group ids and notes stay.
    pub fn release_measures(&mut self) {
        self.uv = Vec::new();
        self.kgpu = Vec::new();
        self.reason = Vec::new();
    }

    fn note(&mut self, note: Note, row: u64) {
        let i = note as usize;
        self.notes[i] += 1;
        if self.first_note[i].is_none() {
            self.first_note[i] = Some(row);
        }
    }
}

/// Options of the measure pass.
#[derive(Debug, Clone)]
pub struct MeasureOptions {
    /// Denominator rule.
    pub denominator: Denominator,
    /// Date window (days since epoch), inclusive.
    pub window: (Option<i32>, Option<i32>),
    /// Whether kg per unit is needed (mass-per-unit detector on).
    pub kg_per_unit: bool,
    /// Rows per record batch.
    pub batch_size: usize,
    /// Volume cells to aggregate in the same pass, when volume detectors run.
    pub volume: Option<CellOptions>,
    /// Whether lines get their group key and price measures (price detectors or the
    /// random audit run); without, the pass only reads what the volume cells need.
    pub price: bool,
    /// Keep each line's acceptance date (`tradescan fit` stores it).
    pub keep_dates: bool,
}

impl MeasureOptions {
    /// The columns this pass needs: the price measures' (net mass only when a measure
    /// can use it), the date only with a date window or volume series, and what the
    /// volume cells keep. A column not decoded reads as missing (a line without a date
    /// then gets no `missing_date` note: nothing uses its date).
    pub fn columns(&self) -> Vec<Col> {
        let volume = self.volume.as_ref();
        let amount = |c: Col| {
            volume.is_some_and(|v| match v.measure {
                VolumeMeasure::Quantity => c == Col::Quantity,
                VolumeMeasure::NetMass => c == Col::NetMassKg,
                VolumeMeasure::Value | VolumeMeasure::Lines => false,
            })
        };
        let mut cols: Vec<Col> = MEASURE_COLUMNS
            .iter()
            .copied()
            .filter(|&c| match c {
                Col::HsCode | Col::CustomsValue => true,
                Col::Origin => self.price || volume.is_some_and(|v| v.dims.origin),
                Col::Unit => self.price,
                Col::Quantity => self.price || amount(c),
                Col::NetMassKg => {
                    (self.price && (self.denominator != Denominator::Quantity || self.kg_per_unit))
                        || amount(c)
                }
                Col::Date => self.window != (None, None) || volume.is_some() || self.keep_dates,
                _ => true,
            })
            .collect();
        if let Some(v) = volume {
            if v.dims.importer {
                cols.push(Col::ImporterId);
            }
            if v.dims.office {
                cols.push(Col::Office);
            }
        }
        cols
    }
}

/// Measure every unit of `plan` on `pool`. With `keep_going`, a unit that fails on
/// bad input drops its whole file from the plan (recorded as skipped) instead of
/// failing the run.
pub fn measure(
    plan: &mut ScanPlan,
    opts: &MeasureOptions,
    syms: &CellSymbols,
    keep_going: bool,
    pool: &rayon::ThreadPool,
    progress: &dyn Progress,
) -> Result<Vec<UnitMeasures>> {
    progress.stage("reading", plan.rows());
    let measured: Vec<Result<UnitMeasures>> = pool.install(|| {
        plan.units
            .par_iter()
            .enumerate()
            .map_init(MeasureScratch::default, |work, (ui, u)| {
                let m = measure_unit_with(plan, (ui, u), opts, syms, work);
                progress.advance(u.rows);
                m
            })
            .collect()
    });
    progress.finish();
    let mut units = Vec::with_capacity(measured.len());
    let mut failed = Vec::new();
    for (ui, m) in measured.into_iter().enumerate() {
        match m {
            Ok(m) => units.push(m),
            Err(e) if keep_going && e.skippable() => {
                failed.push((plan.units[ui].file, e.to_string()));
                units.push(UnitMeasures::default());
            }
            Err(e) => return Err(e),
        }
    }
    if !failed.is_empty() {
        // Every unit of a failed file goes: the file is skipped whole.
        let keep = plan.drop_files(&failed);
        let mut i = 0;
        units.retain(|_| {
            i += 1;
            keep[i - 1]
        });
    }
    Ok(units)
}

/// Read one unit and compute each line's key and measures.
pub fn measure_unit(
    plan: &ScanPlan,
    unit: (usize, &ScanUnit),
    opts: &MeasureOptions,
    syms: &CellSymbols,
) -> Result<UnitMeasures> {
    measure_unit_with(plan, unit, opts, syms, &mut MeasureScratch::default())
}

/// Working memory of [`measure_unit_with`], reused from unit to unit by one worker.
///
/// A unit interns tens of thousands of keys: a fresh map per unit regrows its table
/// several times, and every regrowth lands on fresh pages the kernel must fault in and
/// zero. A worker's map is cleared between units and keeps its capacity.
#[derive(Default)]
pub struct MeasureScratch {
    local: KeyIndex<FineKey>,
    columns: Scratch,
    /// Keys of the worker's previous unit: the next unit's key list starts that large.
    last_keys: usize,
}

/// [`measure_unit`] with reused working memory (same result).
pub fn measure_unit_with(
    plan: &ScanPlan,
    (ui, unit): (usize, &ScanUnit),
    opts: &MeasureOptions,
    syms: &CellSymbols,
    work: &mut MeasureScratch,
) -> Result<UnitMeasures> {
    let mut out = UnitMeasures {
        rows: unit.rows,
        ..Default::default()
    };
    let cap = unit.rows as usize;
    if opts.price {
        out.gid.reserve(cap);
        out.uv.reserve(cap);
        out.reason.reserve(cap);
        if opts.kg_per_unit {
            out.kgpu.reserve(cap);
        }
        out.keys.reserve(work.last_keys);
    }
    let MeasureScratch {
        local,
        columns: scratch,
        last_keys,
    } = work;
    local.clear();
    let windowed = opts.window != (None, None);
    let mut row: u64 = 0;
    let columns = opts.columns();
    let dates_read = columns.contains(&Col::Date);
    if opts.volume.is_some() {
        out.cells = Some(UnitCells::with_rows(cap, ui));
    }
    read_unit(
        plan,
        unit,
        &columns,
        opts.batch_size,
        None,
        |b: &BatchColumns| {
            let n = b.num_rows();
            let arrow_err = |col: Col, e| column_error(plan, unit, row, col, e);
            let Scratch {
                hs,
                origin,
                units,
                value,
                qty,
                mass,
                dates,
                keys,
                at,
                ids,
            } = &mut *scratch;
            keys.clear();
            at.clear();
            ids.clear();
            hs_codes_into(required(b, Col::HsCode)?.as_ref(), hs)
                .map_err(|e| arrow_err(Col::HsCode, e))?;
            let fill_codes = |col: Col, unit: bool, buf: &mut Vec<Code>| -> Result<()> {
                match b.get(col) {
                    Some(a) => codes_into(a.as_ref(), unit, buf).map_err(|e| arrow_err(col, e)),
                    None => {
                        fill(buf, Code::NONE, n);
                        Ok(())
                    }
                }
            };
            fill_codes(Col::Origin, false, origin)?;
            fill_codes(Col::Unit, true, units)?;
            let fill_numbers = |col: Col, buf: &mut Vec<f64>| -> Result<()> {
                match b.get(col) {
                    Some(a) => f64_values_into(a.as_ref(), buf).map_err(|e| arrow_err(col, e)),
                    None => {
                        fill(buf, f64::NAN, n);
                        Ok(())
                    }
                }
            };
            fill_numbers(Col::CustomsValue, value)?;
            fill_numbers(Col::Quantity, qty)?;
            fill_numbers(Col::NetMassKg, mass)?;
            match b.get(Col::Date) {
                Some(a) => {
                    date_days_into(a.as_ref(), dates).map_err(|e| arrow_err(Col::Date, e))?
                }
                None => fill(dates, NULL_DATE, n),
            }
            if let (Some(cells), Some(vo)) = (out.cells.as_mut(), opts.volume.as_ref()) {
                let lines = LineColumns {
                    hs: hs.as_slice(),
                    origin: origin.as_slice(),
                    dates: dates.as_slice(),
                    quantity: qty.as_slice(),
                    mass: mass.as_slice(),
                    value: value.as_slice(),
                    importer: b.get(Col::ImporterId),
                    office: b.get(Col::Office),
                };
                cells.add_batch(&lines, vo, syms).map_err(|e| match e {
                    InternError::Importer(e) => arrow_err(Col::ImporterId, e),
                    InternError::Office(e) => arrow_err(Col::Office, e),
                })?;
            }
            if !opts.price {
                if opts.keep_dates {
                    out.dates.extend_from_slice(dates);
                }
                row += n as u64;
                return Ok(());
            }
            for i in 0..n {
                let r = row + i as u64;
                let d = dates[i];
                if opts.keep_dates {
                    out.dates.push(d);
                }
                if windowed
                    && (d == NULL_DATE
                        || opts.window.0.is_some_and(|f| d < f)
                        || opts.window.1.is_some_and(|t| d > t))
                {
                    out.skip(SkipReason::OutsideDateWindow);
                    push_none(&mut out, opts.kg_per_unit);
                    continue;
                }
                if d == NULL_DATE && dates_read {
                    out.note(Note::MissingDate, r);
                }
                let bad = if hs[i] == HsCode::NONE {
                    Some(SkipReason::BadHsCode)
                } else if origin[i] == Code::INVALID {
                    Some(SkipReason::BadOrigin)
                } else if units[i] == Code::INVALID {
                    Some(SkipReason::BadUnit)
                } else {
                    None
                };
                if let Some(reason) = bad {
                    out.skip(reason);
                    push_none(&mut out, opts.kg_per_unit);
                    continue;
                }
                let mass_unit = units[i] == Code::KGM || units[i] == Code::NONE;
                if !units[i].is_none() && !units[i].is_known_unit() {
                    out.note(Note::UnknownUnit, r);
                }
                let basis = basis(opts.denominator, mass_unit);
                let key = FineKey {
                    hs: hs[i],
                    origin: origin[i],
                    unit: units[i],
                    basis,
                };
                // The group id is filled in below, once the batch's keys are interned.
                keys.push(key);
                at.push(out.gid.len());
                out.gid.push(NO_GROUP);
                match ln_unit_value(value[i], qty[i], mass[i], basis) {
                    Ok(v) => {
                        out.uv.push(v);
                        out.reason.push(0);
                    }
                    Err(reason) => {
                        out.skip(reason);
                        out.uv.push(f64::NAN);
                    }
                }
                if opts.kg_per_unit {
                    // Kilogram lines too: their quantity should be their net mass.
                    out.kgpu.push(if units[i].is_none() {
                        f64::NAN
                    } else {
                        ln_kg_per_unit(qty[i], mass[i])
                    });
                }
            }
            local.intern(keys, &mut out.keys, ids);
            for (&i, &id) in at.iter().zip(ids.iter()) {
                out.gid[i] = id;
            }
            row += n as u64;
            Ok(())
        },
    )?;
    if let Some(cells) = out.cells.as_mut() {
        cells.finish();
    }
    *last_keys = out.keys.len();
    Ok(out)
}

/// Per-batch column buffers, reused across the batches of a unit.
#[derive(Default)]
struct Scratch {
    hs: Vec<HsCode>,
    origin: Vec<Code>,
    units: Vec<Code>,
    value: Vec<f64>,
    qty: Vec<f64>,
    mass: Vec<f64>,
    dates: Vec<i32>,
    /// The keyed lines' keys, their positions in `UnitMeasures::gid` and their ids.
    keys: Vec<FineKey>,
    at: Vec<usize>,
    ids: Vec<u32>,
}

fn fill<T: Copy>(buf: &mut Vec<T>, v: T, n: usize) {
    buf.clear();
    buf.resize(n, v);
}

fn push_none(out: &mut UnitMeasures, kgpu: bool) {
    out.gid.push(NO_GROUP);
    out.uv.push(f64::NAN);
    if kgpu {
        out.kgpu.push(f64::NAN);
    }
}

fn required(b: &BatchColumns, col: Col) -> Result<&arrow::array::ArrayRef> {
    b.get(col)
        .ok_or_else(|| Error::Internal(format!("column {} was not decoded", col.name())))
}
