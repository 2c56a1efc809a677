//! The world the declarations are drawn from: product catalogue (HS6 codes and their
//! national extensions, with units, price and quantity models), countries of origin,
//! customs offices, importers and declarants (customs brokers).
//!
//! Built once from the catalogue stream of the seed; read-only afterwards.

use std::collections::BTreeMap;
use std::ops::Range;

use super::rng::{Cdf, Rand, zipf_weights};
use crate::reference;

/// Number of HS6 codes sampled from the nomenclature besides the watch-list codes
/// (clean profile).
pub(crate) const SAMPLED_HS6: usize = 1_500;
/// Zipf-Mandelbrot exponent of HS6 popularity.
pub(crate) const HS6_ZIPF_EXPONENT: f64 = 1.1;
/// Zipf-Mandelbrot rank offset of HS6 popularity (keeps the top code near 2% of lines).
pub(crate) const HS6_ZIPF_OFFSET: f64 = 10.0;
/// Target share of lines per watch family, in `reference::FAMILIES` order.
pub(crate) const FAMILY_SHARES: [f64; 5] = [0.03, 0.02, 0.0015, 0.006, 0.02];
/// Expected lines a national code must have to receive planted price anomalies
/// (clean profile).
pub(crate) const MIN_LINES_FOR_PRICE_PLANTS: f64 = 50.0;
/// Share of declarations whose importer is drawn from the regular importers of the
/// first line's HS6 (the rest draw from all importers).
pub(crate) const REGULAR_IMPORTER_SHARE: f64 = 0.9;

/// Bit of a family in [`NatCode::families`] (index in `reference::FAMILIES`).
pub(crate) const FAM_MEDICAL_SUPPLIES: u8 = 1 << 0;
/// Bit of the `ied_precursors` family.
pub(crate) const FAM_IED_PRECURSORS: u8 = 1 << 3;

/// Countries of origin, most frequent first (Zipf over this order).
pub(crate) const ORIGINS: [&str; 60] = [
    "CN", "US", "DE", "GB", "TR", "IN", "CH", "JP", "KR", "VN", "TW", "NO", "BR", "MY", "TH", "ID",
    "IT", "FR", "BD", "MX", "CA", "SA", "ZA", "UA", "MA", "IL", "SG", "AE", "PK", "ES", "AU", "EG",
    "KZ", "NG", "AR", "CL", "PE", "CO", "LK", "TN", "PH", "HK", "RS", "NZ", "KH", "DZ", "QA", "ET",
    "KE", "GH", "CI", "EC", "UY", "IS", "BY", "AZ", "GE", "MD", "AL", "JO",
];

/// What differs between the profiles' catalogues. Everything else is drawn the same way
/// from the same stream.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Shape {
    /// HS6 codes sampled besides the watch-list codes (capped at the nomenclature).
    pub sampled_hs6: usize,
    /// Expected lines a national code needs to receive planted line anomalies.
    pub min_lines_for_price_plants: f64,
}

impl Shape {
    /// The catalogue shape of a profile.
    pub(crate) fn of(profile: super::Profile) -> Shape {
        match profile {
            super::Profile::Clean => Shape {
                sampled_hs6: SAMPLED_HS6,
                min_lines_for_price_plants: MIN_LINES_FOR_PRICE_PLANTS,
            },
            super::Profile::Realistic => Shape {
                sampled_hs6: super::realistic::SAMPLED_HS6,
                min_lines_for_price_plants: 0.0,
            },
        }
    }
}

/// WCO supplementary unit of a national code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unit {
    /// Kilograms (net mass).
    Kgm,
    /// Number of items (pieces).
    Nar,
    /// Pairs.
    Pr,
    /// Litres.
    Ltr,
    /// Square metres.
    Mtk,
    /// Cubic metres.
    Mtq,
    /// Grams.
    Grm,
}

impl Unit {
    /// The WCO unit code.
    pub(crate) fn code(self) -> &'static str {
        match self {
            Unit::Kgm => "KGM",
            Unit::Nar => "NAR",
            Unit::Pr => "PR",
            Unit::Ltr => "LTR",
            Unit::Mtk => "MTK",
            Unit::Mtq => "MTQ",
            Unit::Grm => "GRM",
        }
    }

    /// Round a raw quantity the way it would be declared in this unit.
    pub(crate) fn round_quantity(self, q: f64) -> f64 {
        match self {
            Unit::Nar | Unit::Pr => q.round().max(1.0),
            Unit::Kgm | Unit::Mtq => round_to(q, 1000.0).max(0.001),
            Unit::Ltr | Unit::Mtk | Unit::Grm => round_to(q, 100.0).max(0.01),
        }
    }
}

/// Round `x` to a multiple of `1 / scale`.
#[inline]
pub(crate) fn round_to(x: f64, scale: f64) -> f64 {
    (x * scale).round() / scale
}

/// A national tariff code (8 or 10 digits) with its models.
#[derive(Debug, Clone)]
pub(crate) struct NatCode {
    /// The code, digits only.
    pub code: String,
    /// Index of its HS6 in [`Catalogue::hs6`].
    pub hs6: u32,
    /// Supplementary unit.
    pub unit: Unit,
    /// ln of the median net mass per unit (0 for KGM).
    pub ln_mass_per_unit: f64,
    /// Standard deviation of ln mass per unit between lines.
    pub mass_sigma: f64,
    /// ln of the median unit value (per kg for KGM) before the origin offset.
    pub ln_unit_value: f64,
    /// Line noise of ln unit value.
    pub price_sigma: f64,
    /// ln of the median line quantity.
    pub qty_mu: f64,
    /// Standard deviation of ln line quantity.
    pub qty_sigma: f64,
    /// Watch-family bits (index in `reference::FAMILIES`).
    pub families: u8,
    /// Share of all lines.
    pub share: f64,
    /// Common enough (expected lines >= [`Shape::min_lines_for_price_plants`]) to
    /// receive planted line anomalies.
    pub eligible: bool,
}

impl NatCode {
    /// Mean of the line quantity distribution.
    pub(crate) fn mean_quantity(&self) -> f64 {
        libm::exp(self.qty_mu + 0.5 * self.qty_sigma * self.qty_sigma)
    }

    /// A line's declared quantity (`raw` rounded to the unit's precision) and net mass:
    /// the quantity itself on kilogram lines, else drawn per unit.
    pub(crate) fn quantity_and_mass(&self, raw: f64, rng: &mut Rand) -> (f64, f64) {
        let quantity = self.unit.round_quantity(raw);
        let mass = if self.unit == Unit::Kgm {
            quantity
        } else {
            let per_unit = libm::exp(rng.gauss(self.ln_mass_per_unit, self.mass_sigma));
            round_to(quantity * per_unit, 1000.0).max(0.001)
        };
        (quantity, mass)
    }
}

/// An HS6 code of the catalogue.
#[derive(Debug, Clone)]
pub(crate) struct Hs6 {
    /// Six digits.
    pub code: String,
    /// Share of all lines.
    pub share: f64,
    /// Its national codes (indices into [`Catalogue::nats`]).
    pub nats: Range<usize>,
    /// Distribution over `nats`.
    pub nat_cdf: Cdf,
    /// Regular importers (indices into [`Catalogue::importers`]).
    pub importers: Vec<u32>,
    /// Share of each regular importer among the declarations drawn for this HS6.
    pub importer_weights: Vec<f64>,
    /// Distribution over `importers`.
    pub importer_cdf: Cdf,
}

/// An importer's profile.
#[derive(Debug, Clone)]
pub(crate) struct Importer {
    /// Party index of the importer id.
    pub party: u32,
    /// Its usual origins (indices into [`ORIGINS`]), most frequent first.
    pub origins: [u16; 3],
    /// Number of valid entries in `origins` (1..=3).
    pub n_origins: u8,
    /// Home office.
    pub office: u16,
    /// Usual declarant (party index: a broker, or the importer itself).
    pub declarant: u32,
}

impl Importer {
    /// Draw one of the importer's usual origins.
    pub(crate) fn pick_origin(&self, rng: &mut Rand) -> u16 {
        let u = rng.f64();
        let i = match self.n_origins {
            3 if u >= 0.9 => 2,
            2 | 3 if u >= 0.65 => 1,
            _ => 0,
        };
        self.origins[i]
    }
}

/// Everything declarations are drawn from.
#[derive(Debug)]
pub(crate) struct Catalogue {
    /// HS6 codes, sorted by code.
    pub hs6: Vec<Hs6>,
    /// National codes, grouped by HS6.
    pub nats: Vec<NatCode>,
    /// Popularity of the national codes (equals HS6 then national share).
    pub nat_cdf: Cdf,
    /// Origin popularity.
    pub origin_cdf: Cdf,
    /// ln price offset per origin.
    pub origin_offset: Vec<f64>,
    /// Office codes.
    pub offices: Vec<String>,
    /// Office popularity.
    pub office_cdf: Cdf,
    /// Regular importers.
    pub importers: Vec<Importer>,
    /// Popularity of importers (for declarations not drawn from an HS6's regulars).
    pub importer_cdf: Cdf,
    /// Number of brokers (parties `0..n_brokers`).
    pub n_brokers: usize,
    /// Broker popularity.
    pub broker_cdf: Cdf,
    /// Party ids: brokers, then regular importers, then reserved brand-new importers.
    pub parties: Vec<String>,
    /// Party indices reserved for brand-new importers (never used by regular trade).
    pub new_importers: Range<usize>,
    /// Share of lines on eligible national codes.
    pub eligible_share: f64,
    /// Share of lines on eligible national codes with a non-KGM unit.
    pub eligible_non_kgm_share: f64,
}

/// Number of regular importers for a row count.
pub(crate) fn importer_count(rows: u64) -> usize {
    (rows / 100).clamp(2_000, 100_000) as usize
}

/// Number of brand-new precursor importers planted for a row count.
pub(crate) fn first_time_importer_count(rows: u64) -> usize {
    ((rows as f64 / 200_000.0).round() as usize).max(3)
}

/// Number of volume surges planted for a row count.
pub(crate) fn surge_count(rows: u64) -> usize {
    ((rows as f64 / 100_000.0).round() as usize).max(3)
}

impl Catalogue {
    /// The `j`-th regular importer of HS6 `h`.
    pub(crate) fn regular_importer(&self, h: usize, j: usize) -> Option<&Importer> {
        let &i = self.hs6.get(h)?.importers.get(j)?;
        self.importers.get(i as usize)
    }

    /// The expected lines per week of the `j`-th regular importer of HS6 `h`, with
    /// `lines_per_week` lines in all.
    pub(crate) fn pair_rate(&self, h: usize, j: usize, lines_per_week: f64) -> f64 {
        let hs = &self.hs6[h];
        lines_per_week * hs.share * REGULAR_IMPORTER_SHARE * hs.importer_weights[j]
    }

    /// Build the catalogue for `rows` lines from the catalogue stream.
    pub(crate) fn build(rows: u64, shape: &Shape, rng: &mut Rand) -> Catalogue {
        let (codes, families) = select_hs6(shape.sampled_hs6, rng);
        let shares = hs6_shares(&families, rng);

        // Countries, offices.
        let origin_cdf = Cdf::zipf(ORIGINS.len(), 1.0, 0.0);
        let origin_offset: Vec<f64> = (0..ORIGINS.len()).map(|_| rng.gauss(0.0, 0.2)).collect();
        let mut offices: Vec<String> = (1..=5)
            .flat_map(|region| (1..=5).map(move |o| format!("BE{region:02}{o:02}")))
            .collect();
        rng.shuffle(&mut offices);
        let office_cdf = Cdf::zipf(offices.len(), 1.0, 0.5);

        // Parties: brokers, importers, reserved new importers.
        let n_importers = importer_count(rows);
        let n_new = first_time_importer_count(rows);
        let n_brokers = (n_importers / 10).clamp(100, 5_000);
        let mut parties = Vec::with_capacity(n_brokers + n_importers + n_new);
        let mut used = vec![false; 1_000_000];
        for _ in 0..n_brokers {
            parties.push(format!("DC{:06}", fresh_number(&mut used, rng)));
        }
        let mut used = vec![false; 1_000_000];
        for _ in 0..(n_importers + n_new) {
            parties.push(format!("IM{:06}", fresh_number(&mut used, rng)));
        }
        let new_importers = (n_brokers + n_importers)..(n_brokers + n_importers + n_new);
        let broker_cdf = Cdf::zipf(n_brokers, 1.0, 2.0);
        let importer_cdf = Cdf::zipf(n_importers, 1.0, 3.0);
        let importers: Vec<Importer> = (0..n_importers)
            .map(|i| {
                let party = (n_brokers + i) as u32;
                let n_origins = 1 + rng.index(3) as u8;
                let mut origins = [0u16; 3];
                let mut k = 0;
                let mut tries = 0;
                while k < usize::from(n_origins) && tries < 50 {
                    let o = origin_cdf.sample(rng) as u16;
                    tries += 1;
                    if !origins[..k].contains(&o) {
                        origins[k] = o;
                        k += 1;
                    }
                }
                let office = office_cdf.sample(rng) as u16;
                let declarant = if rng.chance(0.25) {
                    party
                } else {
                    broker_cdf.sample(rng) as u32
                };
                Importer {
                    party,
                    origins,
                    n_origins: k.max(1) as u8,
                    office,
                    declarant,
                }
            })
            .collect();

        // HS6 and national codes.
        let mut hs6 = Vec::with_capacity(codes.len());
        let mut nats = Vec::with_capacity(codes.len() * 2);
        for (h, code) in codes.iter().enumerate() {
            let share = shares[h];
            let fam = families[h];
            let unit = unit_for(code, rng);
            let ln_price_per_kg = chapter_ln_price(code) + rng.gauss(0.0, 1.0);
            let n_ext = match rng.f64() {
                u if u < 0.4 => 1,
                u if u < 0.7 => 2,
                u if u < 0.9 => 3,
                _ => 4,
            };
            let ten_digits = rng.chance(0.8);
            let mut raw: Vec<f64> = (0..n_ext).map(|_| -libm::log(rng.open01())).collect();
            raw.sort_by(|a, b| b.total_cmp(a));
            let total: f64 = raw.iter().sum();
            let suffixes = extension_suffixes(n_ext, rng);
            let start = nats.len();
            for (j, suffix) in suffixes.iter().enumerate() {
                let national = if ten_digits {
                    format!("{code}{suffix}00")
                } else {
                    format!("{code}{suffix}")
                };
                let nat_share = share * raw[j] / total;
                let (ln_mpu, mass_sigma) = mass_per_unit(code, unit, rng);
                let ln_unit_value = ln_price_per_kg + rng.gauss(0.0, 0.3) + ln_mpu;
                let qty_mu = quantity_mu(unit, ln_price_per_kg, ln_unit_value, rng);
                nats.push(NatCode {
                    code: national,
                    hs6: h as u32,
                    unit,
                    ln_mass_per_unit: ln_mpu,
                    mass_sigma,
                    ln_unit_value,
                    price_sigma: rng.uniform(0.15, 0.35),
                    qty_mu,
                    qty_sigma: rng.uniform(0.8, 1.3),
                    families: fam,
                    share: nat_share,
                    eligible: rows as f64 * nat_share >= shape.min_lines_for_price_plants,
                });
            }
            let nat_cdf = Cdf::new(&raw);
            let (imps, weights) = regular_importers(rows, share, &importer_cdf, rng);
            hs6.push(Hs6 {
                code: code.clone(),
                share,
                nats: start..nats.len(),
                nat_cdf,
                importer_cdf: Cdf::new(&weights),
                importers: imps,
                importer_weights: weights,
            });
        }
        let nat_cdf = Cdf::new(&nats.iter().map(|n| n.share).collect::<Vec<_>>());
        let eligible_share = nats.iter().filter(|n| n.eligible).map(|n| n.share).sum();
        let eligible_non_kgm_share = nats
            .iter()
            .filter(|n| n.eligible && n.unit != Unit::Kgm)
            .map(|n| n.share)
            .sum();

        Catalogue {
            hs6,
            nats,
            nat_cdf,
            origin_cdf,
            origin_offset,
            offices,
            office_cdf,
            importers,
            importer_cdf,
            n_brokers,
            broker_cdf,
            parties,
            new_importers,
            eligible_share,
            eligible_non_kgm_share,
        }
    }

    /// Draw a national code of the given HS6.
    #[inline]
    pub(crate) fn nat_of_hs6(&self, h: usize, rng: &mut Rand) -> usize {
        let hs = &self.hs6[h];
        hs.nats.start + hs.nat_cdf.sample(rng)
    }
}

/// A number in 1..=999_999 not used before (falls back to a linear probe when the
/// space is crowded).
fn fresh_number(used: &mut [bool], rng: &mut Rand) -> usize {
    let n = used.len();
    let mut x = 1 + rng.index(n - 1);
    let mut probes = 0;
    while used[x] && probes < n {
        x = if x + 1 >= n { 1 } else { x + 1 };
        probes += 1;
    }
    used[x] = true;
    x
}

/// Sample the HS6 codes: `sampled` level-6 codes outside the watch lists (all of them
/// if there are fewer), plus every watch-list code present in the nomenclature; sorted
/// by code, with their family bits.
fn select_hs6(sampled: usize, rng: &mut Rand) -> (Vec<String>, Vec<u8>) {
    let mut watch: BTreeMap<&str, u8> = BTreeMap::new();
    for entry in reference::watchlist() {
        if let Some(bit) = reference::FAMILIES.iter().position(|f| *f == entry.family) {
            *watch.entry(entry.hs_prefix.as_str()).or_insert(0) |= 1 << bit;
        }
    }
    let mut level6: Vec<&str> = reference::hs2022()
        .iter()
        .filter(|e| e.level == 6 && e.code.len() == 6)
        .map(|e| e.code.as_str())
        .collect();
    level6.sort_unstable();
    level6.dedup();
    let mut others: Vec<&str> = level6
        .iter()
        .copied()
        .filter(|c| !watch.contains_key(c))
        .collect();
    let take = sampled.min(others.len());
    for i in 0..take {
        let j = i + rng.index(others.len() - i);
        others.swap(i, j);
    }
    others.truncate(take);
    let mut chosen: Vec<(&str, u8)> = others.into_iter().map(|c| (c, 0)).collect();
    for c in &level6 {
        if let Some(&bits) = watch.get(c) {
            chosen.push((c, bits));
        }
    }
    chosen.sort_unstable();
    (
        chosen.iter().map(|(c, _)| (*c).to_string()).collect(),
        chosen.iter().map(|(_, b)| *b).collect(),
    )
}

/// HS6 shares: Zipf-Mandelbrot over a random ranking, then scaled (iterative
/// proportional fitting) so each watch family gets its target share of lines.
fn hs6_shares(families: &[u8], rng: &mut Rand) -> Vec<f64> {
    let n = families.len();
    let mut ranks: Vec<usize> = (0..n).collect();
    rng.shuffle(&mut ranks);
    let zipf = zipf_weights(n, HS6_ZIPF_EXPONENT, HS6_ZIPF_OFFSET);
    let mut w: Vec<f64> = ranks.iter().map(|&r| zipf[r]).collect();
    for _ in 0..60 {
        for (bit, &target) in FAMILY_SHARES.iter().enumerate() {
            let mask = 1u8 << bit;
            let total: f64 = w.iter().sum();
            let fam: f64 = w
                .iter()
                .zip(families)
                .filter(|(_, f)| **f & mask != 0)
                .map(|(x, _)| x)
                .sum();
            if fam <= 0.0 || fam >= total {
                continue;
            }
            let c = target * (total - fam) / (fam * (1.0 - target));
            for (x, f) in w.iter_mut().zip(families) {
                if f & mask != 0 {
                    *x *= c;
                }
            }
        }
    }
    let total: f64 = w.iter().sum();
    w.iter().map(|x| x / total).collect()
}

/// National extension digits (2 each) for `n` extensions of one HS6.
fn extension_suffixes(n: usize, rng: &mut Rand) -> Vec<&'static str> {
    const SUB: [&str; 8] = ["10", "20", "30", "40", "50", "60", "70", "80"];
    if n <= 1 {
        return vec!["00"];
    }
    let mut pool: Vec<&'static str> = SUB.to_vec();
    rng.shuffle(&mut pool);
    let mut picked: Vec<&'static str> = pool.into_iter().take(n - 1).collect();
    picked.sort_unstable();
    picked.push("90");
    picked
}

/// Supplementary unit of an HS6 code, by chapter (and a few headings).
fn unit_for(code: &str, rng: &mut Rand) -> Unit {
    let chapter = code.get(..2).unwrap_or("00");
    let heading = code.get(..4).unwrap_or("0000");
    match (chapter, heading) {
        (_, "4403" | "4406" | "4407" | "4408" | "4412") => Unit::Mtq,
        (_, "7106" | "7108" | "7110") => Unit::Grm,
        ("22", _) => Unit::Ltr,
        ("30", _) if rng.chance(0.3) => Unit::Nar,
        ("57", _) => Unit::Mtk,
        ("61" | "62" | "65", _) => Unit::Nar,
        ("63", _) if rng.chance(0.6) => Unit::Nar,
        ("64", _) => Unit::Pr,
        ("84" | "85", _) if rng.chance(0.65) => Unit::Nar,
        ("87", _) if rng.chance(0.85) => Unit::Nar,
        ("90" | "91" | "92" | "93", _) if rng.chance(0.75) => Unit::Nar,
        ("95", _) if rng.chance(0.7) => Unit::Nar,
        _ => Unit::Kgm,
    }
}

/// Median ln price per kg by chapter (EUR/kg).
fn chapter_ln_price(code: &str) -> f64 {
    let chapter: u32 = code.get(..2).and_then(|c| c.parse().ok()).unwrap_or(0);
    let per_kg = match chapter {
        1..=24 => 3.0,
        25..=27 => 0.5,
        28 | 29 => 3.0,
        30 => 60.0,
        31..=40 => 4.0,
        41..=43 => 15.0,
        44..=49 => 2.0,
        50..=60 => 10.0,
        61..=67 => 25.0,
        68..=70 => 2.0,
        71 => 2_000.0,
        72..=83 => 3.0,
        84 | 85 => 30.0,
        86..=89 => 15.0,
        90..=92 => 80.0,
        93 => 60.0,
        94..=96 => 10.0,
        _ => 500.0,
    };
    libm::log(per_kg)
}

/// ln median mass per unit and its line-to-line sigma for a national code.
fn mass_per_unit(code: &str, unit: Unit, rng: &mut Rand) -> (f64, f64) {
    let chapter = code.get(..2).unwrap_or("00");
    let (median, sigma) = match unit {
        Unit::Kgm => return (0.0, 0.0),
        Unit::Grm => return (libm::log(0.001), 0.0),
        Unit::Pr => (0.9, 0.3),
        Unit::Ltr => (1.05, 0.1),
        Unit::Mtk => (1.5, 0.6),
        Unit::Mtq => (550.0, 0.3),
        Unit::Nar => match chapter {
            "84" | "85" => (3.0, 1.6),
            "87" => (40.0, 1.5),
            "90" | "91" | "92" => (1.5, 1.5),
            "93" => (1.2, 1.0),
            "95" => (0.5, 1.2),
            "61" | "62" | "63" | "65" => (0.25, 0.6),
            "30" => (0.08, 0.8),
            _ => (1.0, 1.0),
        },
    };
    (rng.gauss(libm::log(median), sigma), 0.08)
}

/// ln median line quantity of a national code.
fn quantity_mu(unit: Unit, ln_price_per_kg: f64, ln_unit_value: f64, rng: &mut Rand) -> f64 {
    let (mu, lo, hi) = match unit {
        Unit::Kgm => (
            rng.gauss(libm::log(400.0), 1.0) - 0.3 * (ln_price_per_kg - libm::log(5.0)),
            0.5,
            50_000.0,
        ),
        Unit::Nar | Unit::Pr => (
            rng.gauss(libm::log(60.0), 0.9) - 0.25 * (ln_unit_value - libm::log(50.0)),
            1.5,
            50_000.0,
        ),
        Unit::Ltr => (rng.gauss(libm::log(800.0), 1.0), 1.0, 100_000.0),
        Unit::Mtk => (rng.gauss(libm::log(300.0), 1.0), 1.0, 100_000.0),
        Unit::Mtq => (rng.gauss(libm::log(25.0), 0.8), 0.1, 5_000.0),
        Unit::Grm => (rng.gauss(libm::log(500.0), 1.2), 1.0, 1_000_000.0),
    };
    mu.clamp(libm::log(lo), libm::log(hi))
}

/// The regular importers of an HS6 and their weights (Zipf by draw order).
fn regular_importers(
    rows: u64,
    share: f64,
    importer_cdf: &Cdf,
    rng: &mut Rand,
) -> (Vec<u32>, Vec<f64>) {
    let expected_lines = rows as f64 * share;
    let cap = (importer_cdf.len() / 4).max(3);
    let m = ((libm::sqrt(expected_lines) / 2.0).round() as usize).clamp(3, 400.min(cap));
    let mut picked: Vec<u32> = Vec::with_capacity(m);
    let mut tries = 0;
    while picked.len() < m && tries < 50 * m {
        tries += 1;
        let i = importer_cdf.sample(rng) as u32;
        if !picked.contains(&i) {
            picked.push(i);
        }
    }
    let weights = zipf_weights(picked.len(), 1.0, 1.0);
    let total: f64 = weights.iter().sum();
    (picked, weights.iter().map(|w| w / total).collect())
}
