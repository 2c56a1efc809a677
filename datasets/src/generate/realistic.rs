//! The `realistic` profile: declaration data as messy as real data is known to be.
//!
//! On the clean profile a price detector looks nearly perfect, which measures the
//! generator more than the detector: Gaussian noise, one price per national code, and
//! anomalies planted only where a code has 50 lines to judge them against. This profile
//! keeps the schema, the catalogue construction, the calendar, the declarations and the
//! volume series of the clean profile, and changes the rest to what the literature and
//! customs practice report about real declarations. It was designed from those sources,
//! not from the detectors. Parameters marked *assumed* are our choice where no
//! published figure was found; change them here, each is a named constant.
//!
//! Select it with `tradescan generate --profile realistic` or
//! [`GeneratorConfig::profile`](super::GeneratorConfig::profile). The clean profile stays
//! the default and its output is unchanged.
//!
//! # What differs from the clean profile
//!
//! ## 1. Codes of every size; anomalies in small codes too
//!
//! Every level-6 code of the HS 2022 nomenclature is in the catalogue ([`SAMPLED_HS6`];
//! clean: 1,500 sampled), with the same Zipf-Mandelbrot popularity (exponent 1.1, offset
//! 10) and 1-4 national codes each. With 2,000,000 lines that gives about 11,000
//! national codes: roughly 1,800 with fewer than 10 expected lines, 4,700 with 10-50,
//! 4,200 with 50-500 and 600 above (`generator.json` reports the exact split under
//! `realistic.codes_by_expected_lines`). Line anomalies are planted on **every** code,
//! whatever its size, with the same per-line probability: fraud does not wait for a
//! comparison group to be large. A detector must fall back along the HS hierarchy to
//! catch those in small codes (the MISSION page's "groups are sparse").
//!
//! ## 2. Heavy-tailed line noise, heavier for differentiated goods
//!
//! ln unit value = code level + tier offset (2.) + origin offset N(0, 0.2) + `s * t_nu`,
//! where `t_nu` is a Student-t variable with `nu` degrees of freedom (a normal divided
//! by the root of an independent chi-square over `nu`), kept within `|s * t| <= ln 20`
//! by redrawing ([`NOISE_CAP`]: an honest line 20 times off its tier's price is a
//! mistake, and mistakes are labelled). `nu` and the scale `s` (uniform per national
//! code in the class range) depend on the goods class, after Rauch's (1999) split of
//! goods into homogeneous (traded on organised exchanges), reference-priced and
//! differentiated goods; the quality and price of differentiated goods are the hardest
//! to assess (Javorcik & Narciso 2008). The class of a code comes from its HS chapter
//! ([`goods_class`]: an *assumed* approximation of Rauch's SITC-based list).
//!
//! | class | chapters | `nu` | scale `s` | 2 tiers | 3 tiers | under-valuation weight |
//! |---|---|---|---|---|---|---|
//! | homogeneous | 01-15, 17, 25-27, 31, 47, 71 (not 7113-7117), 74-81 | 8 | 0.05-0.15 | 10% | 0% | 0.5 |
//! | reference-priced | 16, 18-24, 28-29, 32-40, 44-46, 48, 50-56, 68-70, 72-73 | 5 | 0.10-0.25 | 20% | 5% | 1 |
//! | differentiated | all others (30, 41-43, 49, 57-67, 7113-7117, 82-97, ...) | 3 | 0.15-0.35 | 30% | 10% | 2 |
//!
//! All numbers in this table are *assumed*. That real trade data are highly skewed,
//! with large errors in declared values and extreme net masses, is what the EU's Joint
//! Research Centre reports on 1.5 billion records of DG TAXUD's Surveillance database
//! (JRC138858, "Detecting extreme numerical outliers in trade data"), and why the
//! MISSION page asks for robust statistics; the Student-t shape is our choice.
//!
//! ## 3. Price tiers inside a national code
//!
//! A national code often covers several quality grades or brands. Riani, Cerioli,
//! Atkinson, Perrotta & Torti (2008, "Fitting mixtures of regression lines with the
//! forward search", JRC42676) separate the value-quantity points of one product into
//! several regression lines, that is several price populations in one code, a method
//! motivated by fraud detection in the EU Member States' trade data. Here a code has
//! 1, 2 or 3 tiers with the class probabilities above. Adjacent tiers differ by a price
//! ratio uniform in [2, 5] ([`TIER_RATIO`]), tier shares are uniform weights in
//! [0.2, 1] normalised (every tier at least ~9% of the code), and the share-weighted
//! mean ln offset is 0 so the code's level stays its typical price. An importer buys
//! mostly one grade: a line takes its importer's preferred tier (a hash of importer and
//! code, drawn by the shares) with probability 0.8 ([`TIER_AFFINITY`]) and a tier drawn
//! by the shares otherwise. All *assumed*.
//!
//! ## 4. Kilogram lines whose quantity is not the net mass
//!
//! The supplementary quantity and the net mass are separate fields: IMTS 2010 (para.
//! 5.5; IMTS Compilers Guide para. 15.2; UN Comtrade "supplementary quantity units")
//! asks for the WCO standard unit and the net weight on every transaction, and for
//! gross weight to be recorded when it is all there is. On KGM lines without a label,
//! the quantity is the *gross* mass (net mass times a packaging factor uniform in
//! [1.02, 1.15]) with probability 0.05, or the net mass rounded to whole kilograms (net
//! mass >= 10 kg) with probability 0.05 ([`KGM_GROSS_MASS`], [`KGM_WHOLE_KG`],
//! *assumed*). These are legitimate and unlabelled: they move the unit value per
//! quantity by at most 15%.
//!
//! ## 5. Wrong-unit slips on every unit, KGM included
//!
//! `wrong_unit` (0.3% of lines): on any unit, the quantity (70%) or the net mass (30%)
//! is multiplied by 10 (25%), 100 (25%) or 1000 (50%), upwards 75% of the time
//! (grams keyed as kilograms, items as if in thousands) and downwards otherwise (tonnes,
//! thousands of items). Value untouched. On a KGM line a quantity slip makes quantity
//! and net mass disagree by exactly the factor (up to the 3-decimal precision); a net
//! mass slip on a non-KGM line moves only the value per kilogram. The JRC work above
//! flags extreme net masses as a main data-quality problem; the shares are *assumed*.
//!
//! ## 6. Rounded and bunched values
//!
//! - Quantities are round more often than chance: a drawn quantity is rounded to two
//!   significant digits with probability 0.25 ([`ROUND_QUANTITY`]), before the value
//!   is computed (the price is unchanged, the quantity distribution gets lumpy).
//! - Values: an unlabelled line's value is rounded with probability 0.15
//!   ([`ROUND_VALUE`]) to the largest of 1, 10, 100, 1000 that is at most 1/20 of it
//!   (a change of at most 2.5%).
//! - Bunching just under thresholds: where a declaration without labelled lines totals
//!   between a threshold and 15% above it, with probability 0.3 its lines are scaled so
//!   the total lands uniformly in [0.95, 0.995] of the threshold ([`BUNCHING`]). The
//!   thresholds are EU ones where a consignment's treatment changes: EUR 150 (relief
//!   from import duty for consignments of negligible value, Council Regulation (EC) No
//!   1186/2009, Art. 23(1)) and EUR 20,000 (customs value particulars waived,
//!   Delegated Regulation (EU) 2016/341, Art. 6(5)(a)). Shares and band *assumed*.
//!
//! Rounding and shading leave first-digit traces: Cerioli, Barabesi, Cerasa, Menegatti &
//! Perrotta (2019, PNAS 116(1)) establish when genuine customs declarations of a trader
//! follow the Newcomb-Benford law, and Demir & Javorcik (2020, J. Dev. Econ. 144) detect
//! import duty evasion by deviations from it. Bunched and rounded lines are **not
//! labelled**: a shift of a few percent is no price anomaly, and a digit-based detector
//! would need its own label. Their counts are in `generator.json` under `noise`.
//!
//! ## 7. Currency slips
//!
//! `currency_slip` (0.1% of lines): the invoice amount in the exporter's currency is
//! declared as euros (value times the rate, 80%), or a euro amount is declared with the
//! foreign currency code and converted (value divided by the rate, 20%). The rate is
//! the ECB euro reference rate of 28 February 2025 for the origin's currency
//! ([`CURRENCY_RATES`], e.g. CNY 7.58, TRY 38.0, INR 91.0, JPY 157, KRW 1520) times a
//! jitter uniform in [0.95, 1.05] (rates move over the range). Only origins whose
//! currency's rate is above 3 carry slips: a slip in US dollars or Swiss francs (rate
//! ~1) is real but changes nothing a price check could see. Direction shares *assumed*.
//!
//! ## 8. Duplicated lines
//!
//! `duplicate` (0.2% of lines, *assumed*): a line repeats an earlier unlabelled line
//! of the same declaration in every goods field (code, quantity, unit, net mass,
//! value) under its own, later line number: a line keyed twice. It is labelled, on the
//! repeat, because the generator knows which line is the copy, and `eval` then reports
//! how many a detector finds (a price detector should find none: the price is normal;
//! recall per label type shows it). Rows repeated with the same `declaration_id` and
//! `line_no` (an extract loaded twice) are not generated: no label keyed by line could
//! tell the copy from the original, and a loader should drop them before scoring.
//!
//! ## 9. Anomaly mix, factors and shares
//!
//! Labels stay mutually exclusive per line. Shares of all lines
//! ([`LINE_LABEL_SHARES`]) add up to about 2%, near the 2.24% illicit share of the
//! test set of Nigerian import declarations in the WCO BACUDA project's DATE paper
//! (Kim et al., KDD 2020), which also names under-valuation as the most common customs
//! fraud; so it gets the largest share:
//!
//! - `under_valuation` 1.0%: value divided by a factor log-uniform in [2, 30]. Its
//!   probability is weighted by goods class (0.5 / 1 / 2, table above) because tariff
//!   evasion through misstated prices concentrates in differentiated goods (Javorcik &
//!   Narciso 2008: the trade gap responds about four times more to the tariff for
//!   differentiated than for homogeneous goods). Fisman & Wei (2004) also find
//!   evasion through misclassification into lower-taxed codes; that is not planted.
//! - `over_valuation` 0.25%: value multiplied by a factor log-uniform in [2, 30]
//!   (moving money out, transfer pricing: Ferrantino, Liu & Wang 2012 find
//!   indirect evidence of both in US-China trade).
//! - `price_gouging`: as in clean (30% of `medical_supplies` lines in the 8-week
//!   crisis window), factor log-uniform in [2, 15] (clean: [6, 15]).
//! - `wrong_unit` 0.3%, `currency_slip` 0.1%, `duplicate` 0.2%: above.
//! - `volume_surge` and `first_time_precursor_importer`: the clean profile's series
//!   events, unchanged (their lines get this profile's prices), and `volume_surge` on
//!   sparse importers too (10. below).
//!
//! ## 10. Volume: sparse importers that surge, newcomers, seasonal goods, code changes
//!
//! Surges are also planted on (HS6, importer) pairs that trade a few times a year (one
//! line every 2 to 26 weeks): 8 to 40 ordinary lines in one week, labelled
//! `volume_surge`, about 1 per 100,000 lines. In the 8 most traded watched national
//! codes, 2% of the lines are first purchases of ordinary size by importers new to the
//! code, unlabelled. The largest importers of nitrogen fertilisers (HS 3102) buy three
//! times their usual lines in the four weeks from the first Monday of March, every year,
//! labelled `benign_seasonal_peak` in `series.csv` (a known-benign event: a flag on it
//! is a false alarm). At the first 1 January of the range after 8 weeks (2026-01-01
//! for 24 months from January 2025), up to 8 HS6 codes that HS 2022 created out of a
//! deleted HS 2017 code change code: their lines before it carry the HS 2017
//! predecessor, from it on the HS 2022 code, and the old series' stop and the new
//! series' start of every importer that bought the code in the 26 weeks before are
//! labelled `benign_reclassification` for 8 weeks in `series.csv`. Counts, the date
//! and the codes in `generator.json` (`realistic.series`); sources and parameters:
//! `realistic/series.rs`.
//!
//! Factor ranges and the under/over split are *assumed*; factors are recorded per line
//! so recall can be measured by size (e.g. for factors of 5 or more).
//!
//! # Label files
//!
//! `lines.csv` has two more columns than in the clean profile:
//!
//! ```text
//! declaration_id,line_no,label,factor,field
//! D25-0000001234,2,under_valuation,0.1372,customs_value
//! D25-0000004321,1,wrong_unit,1000,quantity
//! D25-0000005555,3,duplicate,,
//! ```
//!
//! `field` is the column the anomaly multiplied and `factor` the multiplier (declared
//! = true x factor, up to the column's rounding: cents, 3 decimals); both are empty for
//! `duplicate` and the series labels. An under-valuation by 5 has factor 0.2: measure
//! size as `max(factor, 1 / factor)`. `generator.json` adds `"profile": "realistic"`,
//! the parameters of this page under `realistic` (with the class and tier counts of
//! the catalogue and the code-size split), and the unlabelled noise counts under
//! `noise`. The clean profile's files are unchanged (no such keys or columns).
//!
//! # Reproducibility and cost
//!
//! The per-code models (class, scale, tiers) come from ChaCha8 stream 3 of the seed;
//! lines use the same month streams as the clean profile. Output
//! is byte-identical across thread counts. Generation costs a few extra normal draws
//! per line (the chi-square of the t variable): 2,000,000 lines over 24 months take
//! about 1.5 s against 1.0 s for the clean profile (release build, 2 shared cores).
//!
//! # Sources
//!
//! - Rauch, J. E. (1999). Networks versus markets in international trade. *Journal of
//!   International Economics* 48, 7-35.
//! - Javorcik, B. S. & Narciso, G. (2008). Differentiated products and evasion of
//!   import tariffs. *Journal of International Economics* 76(2), 208-222.
//! - Fisman, R. & Wei, S.-J. (2004). Tax rates and tax evasion: evidence from "missing
//!   imports" in China. *Journal of Political Economy* 112(2), 471-500.
//! - Ferrantino, M. J., Liu, X. & Wang, Z. (2012). Evasion behaviors of exporters and
//!   importers: evidence from the U.S.-China trade data discrepancy. *Journal of
//!   International Economics* 86(1), 141-157.
//! - Riani, M., Cerioli, A., Atkinson, A. C., Perrotta, D. & Torti, F. (2008). Fitting
//!   mixtures of regression lines with the forward search. In *Mining Massive Data Sets
//!   for Security*, IOS Press (JRC42676).
//! - Cerioli, A., Barabesi, L., Cerasa, A., Menegatti, M. & Perrotta, D. (2019).
//!   Newcomb-Benford law and the detection of frauds in international trade. *PNAS*
//!   116(1), 106-115.
//! - Demir, B. & Javorcik, B. (2020). Trade policy changes, tax evasion and Benford's
//!   law. *Journal of Development Economics* 144, 102456.
//! - Kim, S., Tsai, Y.-C., Singh, K., Choi, Y., Ibok, E., Li, C.-T. & Cha, M. (2020).
//!   DATE: Dual Attentive Tree-aware Embedding for customs fraud detection. *KDD 2020*
//!   (WCO BACUDA project, Nigeria Customs Service data).
//! - European Commission, Joint Research Centre. Detecting extreme numerical outliers
//!   in trade data: a novel method for highly asymmetric distributions (JRC138858).
//! - United Nations, IMTS 2010 para. 5.5; IMTS 2010 Compilers Guide, ch. XV, para.
//!   15.2; UN Comtrade, "Supplementary quantity units" (WCO standard units of quantity
//!   and net weight on all transactions).
//! - Council Regulation (EC) No 1186/2009, Art. 23(1); Commission Delegated Regulation
//!   (EU) 2016/341, Art. 6(5)(a).
//! - European Central Bank, euro foreign exchange reference rates, 28 February 2025.

mod decl;
pub(crate) mod reclassification;
pub(crate) mod series;
#[cfg(test)]
mod tests;
mod world;

use std::collections::BTreeMap;

pub(crate) use self::decl::{Scratch, write_declaration};
pub(crate) use self::reclassification::Reclassification;
pub(crate) use self::series::SeriesCounts;
pub(crate) use self::world::World;

/// HS6 codes sampled besides the watch-list codes: all of them.
pub const SAMPLED_HS6: usize = usize::MAX;

/// Planted line-level label shares of the realistic profile: label name -> approximate
/// fraction of all lines (`price_gouging` for a 12-month range).
pub const LINE_LABEL_SHARES: &[(&str, f64)] = &[
    ("under_valuation", 0.010),
    ("over_valuation", 0.0025),
    ("wrong_unit", 0.003),
    ("currency_slip", 0.001),
    ("duplicate", 0.002),
    ("price_gouging", 0.0012),
];

/// Under- and over-valuation factors: log-uniform in this range.
pub const VALUATION_FACTOR: (f64, f64) = (2.0, 30.0);
/// Price gouging factors: log-uniform in this range.
pub const GOUGING_FACTOR: (f64, f64) = (2.0, 15.0);
/// Honest line noise is redrawn when `|s * t|` exceeds this (ln 20).
pub const NOISE_CAP: f64 = 2.995_732_273_553_991;
/// Price ratio between adjacent tiers: uniform in this range.
pub const TIER_RATIO: (f64, f64) = (2.0, 5.0);
/// Tier share weights: uniform in this range, then normalised.
pub const TIER_WEIGHT: (f64, f64) = (0.2, 1.0);
/// Probability that a line takes its importer's preferred tier.
pub const TIER_AFFINITY: f64 = 0.8;
/// Probability that a drawn quantity is rounded to two significant digits.
pub const ROUND_QUANTITY: f64 = 0.25;
/// Probability that an unlabelled line's value is rounded (to 1, 10, 100 or 1000).
pub const ROUND_VALUE: f64 = 0.15;
/// A value is rounded to the largest step that is at most this share of it.
pub const ROUND_VALUE_MAX_SHARE: f64 = 0.05;
/// Bunching under thresholds: (thresholds in EUR, band above a threshold, probability,
/// landing range as a share of the threshold).
pub const BUNCHING: Bunching = Bunching {
    thresholds: [150.0, 20_000.0],
    band: 0.15,
    probability: 0.3,
    landing: (0.95, 0.995),
};
/// Probability that an unlabelled KGM line declares its gross mass as quantity, and
/// the packaging factor range.
pub const KGM_GROSS_MASS: (f64, (f64, f64)) = (0.05, (1.02, 1.15));
/// Probability that an unlabelled KGM line of at least 10 kg declares its net mass in
/// whole kilograms as quantity.
pub const KGM_WHOLE_KG: f64 = 0.05;
/// Wrong-unit slips: share on the quantity (the rest on the net mass), magnitudes with
/// their weights, share upwards.
pub const WRONG_UNIT: WrongUnit = WrongUnit {
    quantity_share: 0.7,
    magnitudes: [(10.0, 0.25), (100.0, 0.25), (1000.0, 0.5)],
    up_share: 0.75,
};
/// Currency slips: share multiplied by the rate (the rest divided), rate jitter, and
/// the least rate that carries slips.
pub const CURRENCY: Currency = Currency {
    multiply_share: 0.8,
    jitter: (0.95, 1.05),
    min_rate: 3.0,
};

/// Origin -> (currency, units per euro): ECB euro foreign exchange reference rates of
/// 28 February 2025. Origins not listed invoice in a currency near parity with the euro
/// (USD, GBP, CHF, ...) or one the ECB does not quote, and carry no currency slips.
pub const CURRENCY_RATES: &[(&str, &str, f64)] = &[
    ("CN", "CNY", 7.5782),
    ("TR", "TRY", 38.0186),
    ("IN", "INR", 90.9710),
    ("JP", "JPY", 156.96),
    ("KR", "KRW", 1519.92),
    ("NO", "NOK", 11.7245),
    ("BR", "BRL", 6.0712),
    ("MY", "MYR", 4.6459),
    ("TH", "THB", 35.567),
    ("ID", "IDR", 17228.17),
    ("MX", "MXN", 21.2191),
    ("ZA", "ZAR", 19.1917),
    ("IL", "ILS", 3.7457),
    ("PH", "PHP", 60.355),
    ("HK", "HKD", 8.0980),
];

/// Parameters of the bunching under thresholds.
#[derive(Debug, Clone, Copy)]
pub struct Bunching {
    /// Thresholds (EUR, per declaration).
    pub thresholds: [f64; 2],
    /// A declaration totalling up to `threshold * (1 + band)` may be shaded.
    pub band: f64,
    /// Probability that such a declaration is shaded.
    pub probability: f64,
    /// The shaded total, as a share of the threshold: uniform in this range.
    pub landing: (f64, f64),
}

/// Parameters of the wrong-unit slips.
#[derive(Debug, Clone, Copy)]
pub struct WrongUnit {
    /// Share of slips on the quantity (the rest on the net mass).
    pub quantity_share: f64,
    /// Magnitudes and their weights.
    pub magnitudes: [(f64, f64); 3],
    /// Share of slips that multiply (the rest divide).
    pub up_share: f64,
}

/// Parameters of the currency slips.
#[derive(Debug, Clone, Copy)]
pub struct Currency {
    /// Share of slips that multiply the value by the rate (the rest divide).
    pub multiply_share: f64,
    /// The rate is multiplied by a factor uniform in this range.
    pub jitter: (f64, f64),
    /// Origins whose rate is below this carry no slips.
    pub min_rate: f64,
}

/// Rauch-style goods class of a national code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum GoodsClass {
    /// Traded on organised exchanges (grains, metals, ores, fuels).
    Homogeneous,
    /// With a published reference price (chemicals, plastics, yarns).
    ReferencePriced,
    /// Brands and qualities (machines, apparel, medicines).
    Differentiated,
}

/// Line noise, tier and under-valuation parameters of a goods class.
#[derive(Debug, Clone, Copy)]
pub struct ClassParams {
    /// Name in `generator.json`.
    pub name: &'static str,
    /// Degrees of freedom of the Student-t noise.
    pub nu: u32,
    /// Range of the noise scale `s` (uniform per national code).
    pub scale: (f64, f64),
    /// Probability that a national code has two price tiers.
    pub p_two_tiers: f64,
    /// Probability that a national code has three price tiers.
    pub p_three_tiers: f64,
    /// Relative under-valuation rate.
    pub under_weight: f64,
}

/// Parameters by class, in [`GoodsClass`] order (all *assumed*).
pub const CLASSES: [ClassParams; 3] = [
    ClassParams {
        name: "homogeneous",
        nu: 8,
        scale: (0.05, 0.15),
        p_two_tiers: 0.10,
        p_three_tiers: 0.0,
        under_weight: 0.5,
    },
    ClassParams {
        name: "reference_priced",
        nu: 5,
        scale: (0.10, 0.25),
        p_two_tiers: 0.20,
        p_three_tiers: 0.05,
        under_weight: 1.0,
    },
    ClassParams {
        name: "differentiated",
        nu: 3,
        scale: (0.15, 0.35),
        p_two_tiers: 0.30,
        p_three_tiers: 0.10,
        under_weight: 2.0,
    },
];

impl GoodsClass {
    /// The class's parameters.
    pub fn params(self) -> &'static ClassParams {
        &CLASSES[self as usize]
    }
}

/// Goods class of an HS code by chapter (and the jewellery headings of chapter 71): an
/// approximation of Rauch's (1999) classification, which is defined on SITC codes.
pub fn goods_class(code: &str) -> GoodsClass {
    let chapter: u32 = code.get(..2).and_then(|c| c.parse().ok()).unwrap_or(0);
    let heading: u32 = code.get(..4).and_then(|c| c.parse().ok()).unwrap_or(0);
    match chapter {
        71 if (7113..=7117).contains(&heading) => GoodsClass::Differentiated,
        1..=15 | 17 | 25..=27 | 31 | 47 | 71 | 74..=81 => GoodsClass::Homogeneous,
        16 | 18..=24 | 28 | 29 | 32..=40 | 44..=46 | 48 | 50..=56 | 68..=70 | 72 | 73 => {
            GoodsClass::ReferencePriced
        }
        _ => GoodsClass::Differentiated,
    }
}

/// Unlabelled realistic noise: how many lines (or declarations) each kind touched.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct NoiseCounts {
    /// Lines whose drawn quantity was rounded to two significant digits.
    pub rounded_quantity: u64,
    /// Lines whose value was rounded to 1, 10, 100 or 1000.
    pub rounded_value: u64,
    /// Declarations shaded just under a threshold.
    pub bunched_declarations: u64,
    /// Lines of those declarations.
    pub bunched_lines: u64,
    /// KGM lines declaring the gross mass as quantity.
    pub kgm_quantity_gross_mass: u64,
    /// KGM lines declaring whole kilograms as quantity.
    pub kgm_quantity_whole_kg: u64,
    /// Lines of national codes with two or three tiers.
    pub lines_in_multi_tier_codes: u64,
}

impl NoiseCounts {
    /// Add another month's counts.
    pub(crate) fn add(&mut self, o: &NoiseCounts) {
        self.rounded_quantity += o.rounded_quantity;
        self.rounded_value += o.rounded_value;
        self.bunched_declarations += o.bunched_declarations;
        self.bunched_lines += o.bunched_lines;
        self.kgm_quantity_gross_mass += o.kgm_quantity_gross_mass;
        self.kgm_quantity_whole_kg += o.kgm_quantity_whole_kg;
        self.lines_in_multi_tier_codes += o.lines_in_multi_tier_codes;
    }

    /// Name -> count, for the report and `generator.json`.
    pub(crate) fn to_map(self) -> BTreeMap<String, u64> {
        [
            ("bunched_declarations", self.bunched_declarations),
            ("bunched_lines", self.bunched_lines),
            ("kgm_quantity_gross_mass", self.kgm_quantity_gross_mass),
            ("kgm_quantity_whole_kg", self.kgm_quantity_whole_kg),
            ("lines_in_multi_tier_codes", self.lines_in_multi_tier_codes),
            ("rounded_quantity", self.rounded_quantity),
            ("rounded_value", self.rounded_value),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }
}
