//! Ground-truth files in `OUT/_labels/`: `lines.csv`, `series.csv`, `generator.json`,
//! each written to a temporary name and renamed into place.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use super::catalogue::Catalogue;
use super::labels::LineLabel;
use super::month::decl_id_string;
use super::plan::{Plan, SeriesLabel};
use super::realistic::{self, CLASSES, NoiseCounts, Reclassification, SeriesCounts, World};
use super::{GenerateError, GeneratorConfig, Profile};
use crate::calendar::format_date;

/// Write `bytes` to `path` atomically (temporary file in the same directory, fsync,
/// rename).
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), GenerateError> {
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp"));
    let io = |p: &Path| {
        let p = p.to_path_buf();
        move |source| GenerateError::Io { path: p, source }
    };
    let mut f = std::fs::File::create(&tmp).map_err(io(&tmp))?;
    f.write_all(bytes).map_err(io(&tmp))?;
    f.sync_all().map_err(io(&tmp))?;
    drop(f);
    std::fs::rename(&tmp, path).map_err(io(path))
}

/// `lines.csv`: `declaration_id,line_no,label`, sorted by declaration id then line;
/// the realistic profile adds `factor,field` (empty where no column was multiplied).
pub(crate) fn lines_csv(labels: &[LineLabel], profile: Profile) -> String {
    let mut s = String::with_capacity(32 + labels.len() * 48);
    match profile {
        Profile::Clean => s.push_str("declaration_id,line_no,label\n"),
        Profile::Realistic => s.push_str("declaration_id,line_no,label,factor,field\n"),
    }
    for l in labels {
        let _ = write!(
            s,
            "{},{},{}",
            decl_id_string(l.yy, l.seq),
            l.line_no,
            l.label.name()
        );
        if profile == Profile::Realistic {
            match l.slip {
                Some(slip) => {
                    let _ = write!(s, ",{},{}", slip.factor, slip.field.name());
                }
                None => s.push_str(",,"),
            }
        }
        s.push('\n');
    }
    s
}

/// `series.csv`, rows sorted.
pub(crate) fn series_csv(series: &[SeriesLabel], cat: &Catalogue) -> String {
    let mut rows: Vec<String> = series
        .iter()
        .map(|s| {
            let hs6 = s
                .declared_hs6
                .unwrap_or_else(|| cat.hs6.get(s.hs6 as usize).map_or("", |h| h.code.as_str()));
            let importer = cat
                .parties
                .get(s.importer as usize)
                .map_or("", |p| p.as_str());
            format!(
                "{},hs6_importer,{hs6},{importer},,,week,{}",
                s.label.name(),
                format_date(s.week_monday)
            )
        })
        .collect();
    rows.sort();
    let mut out =
        String::from("label,series_key,hs6,importer_id,origin,office,period,period_start\n");
    for r in rows {
        out.push_str(&r);
        out.push('\n');
    }
    out
}

/// JSON string literal.
fn json_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A JSON object of counts.
fn json_counts(map: &BTreeMap<String, u64>) -> String {
    let body: Vec<String> = map
        .iter()
        .map(|(k, v)| format!("{}: {v}", json_str(k)))
        .collect();
    format!("{{{}}}", body.join(", "))
}

/// Everything `generator.json` reports.
pub(crate) struct RunSummary<'a> {
    pub cfg: &'a GeneratorConfig,
    pub cat: &'a Catalogue,
    pub plan: &'a Plan,
    pub rows: u64,
    pub files: &'a [PathBuf],
    pub out: &'a Path,
    pub line_labels: &'a BTreeMap<String, u64>,
    pub series_labels: &'a BTreeMap<String, u64>,
    /// The realistic models (`None` for the clean profile).
    pub world: Option<&'a World>,
    /// Unlabelled realistic noise counts.
    pub noise: &'a NoiseCounts,
}

/// `generator.json` (hand-written, stable key order).
pub(crate) fn generator_json(r: &RunSummary<'_>) -> String {
    let cfg = r.cfg;
    let files: Vec<String> = r
        .files
        .iter()
        .map(|f| {
            let rel = f.strip_prefix(r.out).unwrap_or(f);
            let parts: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            json_str(&parts.join("/"))
        })
        .collect();
    let shares: Vec<String> = cfg
        .profile
        .line_label_shares()
        .iter()
        .map(|(k, v)| format!("{}: {v}", json_str(k)))
        .collect();
    let crisis = match r.plan.crisis {
        Some((s, e)) => format!(
            "{{\"start\": {}, \"end_exclusive\": {}}}",
            json_str(&format_date(s)),
            json_str(&format_date(e))
        ),
        None => "null".to_string(),
    };
    let eligible = r.cat.nats.iter().filter(|n| n.eligible).count();
    let mut s = String::new();
    s.push_str("{\n");
    let _ = writeln!(
        s,
        "  \"generator\": {},",
        json_str(concat!("tradescan-datasets ", env!("CARGO_PKG_VERSION")))
    );
    // The clean profile's file predates profiles and stays byte-identical: no key.
    if cfg.profile != Profile::Clean {
        let _ = writeln!(s, "  \"profile\": {},", json_str(cfg.profile.name()));
    }
    let _ = writeln!(
        s,
        "  \"config\": {{\"rows\": {}, \"seed\": {}, \"start_year\": {}, \"start_month\": {}, \"months\": {}, \"row_group_rows\": {}}},",
        cfg.rows, cfg.seed, cfg.start_year, cfg.start_month, cfg.months, cfg.row_group_rows
    );
    let _ = writeln!(s, "  \"rows\": {},", r.rows);
    let _ = writeln!(s, "  \"files\": [{}],", files.join(", "));
    let _ = writeln!(
        s,
        "  \"range\": {{\"start\": {}, \"end\": {}}},",
        json_str(&format_date(r.plan.range_start)),
        json_str(&format_date(r.plan.range_end))
    );
    let _ = writeln!(s, "  \"crisis_window\": {crisis},");
    let _ = writeln!(
        s,
        "  \"catalogue\": {{\"hs6_codes\": {}, \"national_codes\": {}, \"national_codes_eligible_for_price_plants\": {eligible}, \"importers\": {}, \"declarant_brokers\": {}, \"offices\": {}, \"origins\": {}}},",
        r.cat.hs6.len(),
        r.cat.nats.len(),
        r.cat.importers.len(),
        r.cat.n_brokers,
        r.cat.offices.len(),
        r.cat.origin_offset.len()
    );
    let _ = writeln!(s, "  \"line_label_shares\": {{{}}},", shares.join(", "));
    let _ = writeln!(s, "  \"line_labels\": {},", json_counts(r.line_labels));
    match r.world {
        None => {
            let _ = writeln!(s, "  \"series_labels\": {}", json_counts(r.series_labels));
        }
        Some(world) => {
            let _ = writeln!(s, "  \"series_labels\": {},", json_counts(r.series_labels));
            let _ = writeln!(
                s,
                "  \"realistic\": {},",
                realistic_json(world, r.plan, r.cat)
            );
            let _ = writeln!(s, "  \"noise\": {}", json_counts(&r.noise.to_map()));
        }
    }
    s.push_str("}\n");
    s
}

/// A JSON pair of numbers.
fn pair(p: (f64, f64)) -> String {
    format!("[{}, {}]", p.0, p.1)
}

/// The realistic volume scenarios' counts, with the nomenclature update's date and
/// codes (HS 2022 -> HS 2017 predecessor).
fn series_json(
    series: &SeriesCounts,
    reclass: Option<&Reclassification>,
    cat: &Catalogue,
) -> String {
    let (update, codes) = match reclass {
        Some(r) => {
            let codes: Vec<String> = r
                .codes
                .iter()
                .map(|&(h, old)| {
                    let new = cat.hs6.get(h as usize).map_or("", |c| c.code.as_str());
                    format!("{}: {}", json_str(new), json_str(old))
                })
                .collect();
            (json_str(&format_date(r.date)), codes.join(", "))
        }
        None => ("null".to_string(), String::new()),
    };
    format!(
        "{{\"irregular_surges\": {}, \"newcomers\": {}, \"seasonal_peaks\": {}, \"nomenclature_update\": {update}, \"reclassified_codes\": {}, \"reclassified_series_weeks\": {}, \"reclassified\": {{{codes}}}}}",
        series.irregular_surges,
        series.newcomers,
        series.seasonal_peaks,
        series.reclassified_codes,
        series.reclassified_series_weeks
    )
}

/// The realistic profile's parameters and catalogue counts (one JSON object).
fn realistic_json(world: &World, plan: &Plan, cat: &Catalogue) -> String {
    let counts = world.class_counts();
    let classes: Vec<String> = CLASSES
        .iter()
        .enumerate()
        .map(|(i, c)| {
            format!(
                "{}: {{\"nu\": {}, \"scale\": {}, \"p_two_tiers\": {}, \"p_three_tiers\": {}, \"under_valuation_weight\": {}, \"national_codes\": {}, \"line_share\": {:.4}}}",
                json_str(c.name),
                c.nu,
                pair(c.scale),
                c.p_two_tiers,
                c.p_three_tiers,
                c.under_weight,
                counts[i],
                world.class_share[i]
            )
        })
        .collect();
    let tiers = world.tier_counts();
    let sizes = world.codes_by_size;
    let wu = realistic::WRONG_UNIT;
    let magnitudes: Vec<String> = wu
        .magnitudes
        .iter()
        .map(|(m, w)| format!("\"{m}\": {w}"))
        .collect();
    let cur = realistic::CURRENCY;
    let rates: Vec<String> = realistic::CURRENCY_RATES
        .iter()
        .map(|(o, c, r)| format!("{}: [{}, {r}]", json_str(o), json_str(c)))
        .collect();
    let b = realistic::BUNCHING;
    let (p_gross, packaging) = realistic::KGM_GROSS_MASS;
    [
        "{\"hs6_sampled\": \"all\"".to_string(),
        format!("\"goods_classes\": {{{}}}", classes.join(", ")),
        format!(
            "\"tiers\": {{\"ratio\": {}, \"weight\": {}, \"importer_affinity\": {}, \"national_codes_with_1_2_3_tiers\": [{}, {}, {}]}}",
            pair(realistic::TIER_RATIO),
            pair(realistic::TIER_WEIGHT),
            realistic::TIER_AFFINITY,
            tiers[0],
            tiers[1],
            tiers[2]
        ),
        format!("\"noise_cap_ln\": {}", realistic::NOISE_CAP),
        format!(
            "\"series\": {}",
            series_json(
                &plan.realistic_series,
                plan.reclassification.as_ref(),
                cat
            )
        ),
        format!(
            "\"codes_by_expected_lines\": {{\"under_10\": {}, \"10_to_50\": {}, \"50_to_500\": {}, \"500_or_more\": {}}}",
            sizes[0], sizes[1], sizes[2], sizes[3]
        ),
        format!(
            "\"factors\": {{\"valuation\": {}, \"price_gouging\": {}}}",
            pair(realistic::VALUATION_FACTOR),
            pair(realistic::GOUGING_FACTOR)
        ),
        format!(
            "\"wrong_unit\": {{\"quantity_share\": {}, \"magnitudes\": {{{}}}, \"up_share\": {}}}",
            wu.quantity_share,
            magnitudes.join(", "),
            wu.up_share
        ),
        format!(
            "\"currency\": {{\"multiply_share\": {}, \"jitter\": {}, \"min_rate\": {}, \"rates_ecb_2025_02_28\": {{{}}}}}",
            cur.multiply_share,
            pair(cur.jitter),
            cur.min_rate,
            rates.join(", ")
        ),
        format!(
            "\"rounding\": {{\"quantity_two_significant_digits\": {}, \"value\": {}, \"value_max_step_share\": {}}}",
            realistic::ROUND_QUANTITY,
            realistic::ROUND_VALUE,
            realistic::ROUND_VALUE_MAX_SHARE
        ),
        format!(
            "\"bunching\": {{\"thresholds_eur\": [{}, {}], \"band\": {}, \"probability\": {}, \"landing\": {}}}",
            b.thresholds[0],
            b.thresholds[1],
            b.band,
            b.probability,
            pair(b.landing)
        ),
        format!(
            "\"kgm_quantity\": {{\"gross_mass\": {p_gross}, \"packaging_factor\": {}, \"whole_kg\": {}}}}}",
            pair(packaging),
            realistic::KGM_WHOLE_KG
        ),
    ]
    .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_strings_are_escaped() {
        assert_eq!(json_str("a\"b\\c\n"), "\"a\\\"b\\\\c\\n\"");
        assert_eq!(json_str("\u{1}"), "\"\\u0001\"");
    }
}
