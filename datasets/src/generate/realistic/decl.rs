//! One declaration of the realistic profile: its lines are drawn (tiers, heavy-tailed
//! prices, rounded quantities), labelled (one label at most per line), given the
//! unlabelled noise (KGM quantities, rounded values), shaded under a threshold when
//! the declaration qualifies, and written through the month's sink.

use super::{
    BUNCHING, CURRENCY, GOUGING_FACTOR, KGM_GROSS_MASS, KGM_WHOLE_KG, NOISE_CAP, NoiseCounts,
    ROUND_QUANTITY, ROUND_VALUE, ROUND_VALUE_MAX_SHARE, TIER_AFFINITY, VALUATION_FACTOR,
    WRONG_UNIT, World,
};
use crate::generate::catalogue::{FAM_MEDICAL_SUPPLIES, Unit, round_to};
use crate::generate::labels::{Label, LineLabel, Slip, SlipField};
use crate::generate::month::{Decl, Sink};
use crate::generate::rng::Rand;
use crate::generate::{GenerateError, PRICE_GOUGING_FRACTION};

/// Reused buffer of a declaration's lines.
#[derive(Debug, Default)]
pub(crate) struct Scratch {
    lines: Vec<Draft>,
}

/// A line before it is written.
#[derive(Debug, Clone, Copy)]
struct Draft {
    nat: u32,
    quantity: f64,
    mass: f64,
    value: f64,
    label: Option<Label>,
    slip: Option<Slip>,
}

/// Round `x > 0` to `digits` significant digits (the result prints exactly as the
/// rounded decimal: an integer divided, or multiplied, by a power of ten).
pub(crate) fn round_sig(x: f64, digits: i32) -> f64 {
    if !(x.is_finite() && x > 0.0) {
        return x;
    }
    let e = libm::floor(libm::log10(x)) as i32;
    let m = digits - 1 - e;
    if m >= 0 {
        let p = libm::pow(10.0, f64::from(m));
        libm::round(x * p) / p
    } else {
        let p = libm::pow(10.0, f64::from(-m));
        libm::round(x / p) * p
    }
}

/// A Student-t draw with `nu` degrees of freedom times `scale`, redrawn while its
/// absolute value exceeds [`NOISE_CAP`].
fn truncated_t(rng: &mut Rand, nu: u32, scale: f64) -> f64 {
    loop {
        let z = rng.normal();
        let mut chi = 0.0;
        for _ in 0..nu {
            let g = rng.normal();
            chi += g * g;
        }
        if chi <= 0.0 {
            continue;
        }
        let x = scale * z / libm::sqrt(chi / f64::from(nu));
        if x.abs() <= NOISE_CAP {
            return x;
        }
    }
}

/// Write the lines of one declaration.
pub(crate) fn write_declaration(
    world: &World,
    d: &Decl<'_>,
    rng: &mut Rand,
    sink: &mut Sink<'_>,
    scratch: &mut Scratch,
    noise: &mut NoiseCounts,
) -> Result<(), GenerateError> {
    let ctx = sink.ctx;
    let cat = ctx.cat;
    let h = d.header;
    let n_lines = d.n_lines();
    let origin = usize::from(h.origin);
    let lines = &mut scratch.lines;
    lines.clear();
    for line in 0..n_lines {
        let (nat_idx, raw_qty) = d.line_code(cat, line, rng);
        let nat = &cat.nats[nat_idx];
        let model = &world.codes[nat_idx];

        // Base values: rounded quantity, tier, heavy-tailed price.
        let raw = match raw_qty {
            Some(q) => q,
            None => {
                let q = libm::exp(rng.gauss(nat.qty_mu, nat.qty_sigma));
                if rng.chance(ROUND_QUANTITY) {
                    noise.rounded_quantity += 1;
                    round_sig(q, 2)
                } else {
                    q
                }
            }
        };
        let (quantity, mass) = nat.quantity_and_mass(raw, rng);
        let tier = if model.tiers.n == 1 {
            0
        } else if rng.chance(TIER_AFFINITY) {
            world.preferred_tier(h.importer, nat_idx)
        } else {
            model.tiers.at(rng.f64())
        };
        let ln_uv = nat.ln_unit_value
            + model.tiers.offset[tier]
            + cat.origin_offset[origin]
            + truncated_t(rng, model.class.params().nu, model.scale);
        let mut l = Draft {
            nat: nat_idx as u32,
            quantity,
            mass,
            value: libm::exp(ln_uv) * quantity,
            label: None,
            slip: None,
        };

        // Label: series lines keep theirs; other lines get at most one.
        l.label = match d.planted {
            Some(p) => p.label,
            None => {
                let u = rng.f64();
                if d.in_crisis && nat.families & FAM_MEDICAL_SUPPLIES != 0 {
                    (u < PRICE_GOUGING_FRACTION).then_some(Label::PriceGouging)
                } else {
                    let has_earlier = lines.iter().any(|e| e.label.is_none());
                    pick_label(world, model.class as usize, origin, has_earlier, u)
                }
            }
        };
        match l.label {
            Some(Label::UnderValuation) => {
                let f = rng.log_uniform(VALUATION_FACTOR.0, VALUATION_FACTOR.1);
                slip_value(&mut l, round_sig(1.0 / f, 4));
            }
            Some(Label::OverValuation) => {
                let f = rng.log_uniform(VALUATION_FACTOR.0, VALUATION_FACTOR.1);
                slip_value(&mut l, round_sig(f, 4));
            }
            Some(Label::PriceGouging) => {
                let f = rng.log_uniform(GOUGING_FACTOR.0, GOUGING_FACTOR.1);
                slip_value(&mut l, round_sig(f, 4));
            }
            Some(Label::CurrencySlip) => {
                let rate =
                    world.origin_rate[origin] * rng.uniform(CURRENCY.jitter.0, CURRENCY.jitter.1);
                let f = if rng.chance(CURRENCY.multiply_share) {
                    rate
                } else {
                    1.0 / rate
                };
                slip_value(&mut l, round_sig(f, 4));
            }
            Some(Label::WrongUnit) => wrong_unit(&mut l, rng),
            Some(Label::Duplicate) => {
                let earlier: Vec<usize> = (0..lines.len())
                    .filter(|&k| lines[k].label.is_none())
                    .collect();
                let src = lines[earlier[rng.index(earlier.len())]];
                l = Draft {
                    label: Some(Label::Duplicate),
                    slip: None,
                    ..src
                };
            }
            Some(
                Label::VolumeSurge
                | Label::FirstTimePrecursorImporter
                | Label::SeasonalPeak
                | Label::Reclassification,
            ) => {}
            None => unlabelled_noise(&mut l, nat.unit, rng, noise),
        }
        if world.codes[l.nat as usize].tiers.n > 1 {
            noise.lines_in_multi_tier_codes += 1;
        }
        lines.push(l);
    }
    if d.planted.is_none() && lines.iter().all(|l| l.label.is_none()) {
        bunch(lines, rng, noise);
    }

    for (k, l) in lines.iter().enumerate() {
        let line_no = k as u32 + 1;
        if let Some(label) = l.label {
            sink.labels.push(LineLabel {
                yy: d.yy,
                seq: d.seq,
                line_no,
                label,
                slip: l.slip,
            });
        }
        sink.push(d.id, line_no, h, l.nat, l.quantity, l.mass, l.value)?;
    }
    Ok(())
}

/// The label of a regular line outside the crisis rule, from one uniform draw `u`.
fn pick_label(
    world: &World,
    class: usize,
    origin: usize,
    has_earlier_unlabelled: bool,
    u: f64,
) -> Option<Label> {
    let mut t = world.p_under[class];
    if u < t {
        return Some(Label::UnderValuation);
    }
    t += world.p_over;
    if u < t {
        return Some(Label::OverValuation);
    }
    t += world.p_wrong_unit;
    if u < t {
        return Some(Label::WrongUnit);
    }
    if world.origin_rate[origin] > 0.0 {
        t += world.p_currency;
        if u < t {
            return Some(Label::CurrencySlip);
        }
    }
    if has_earlier_unlabelled {
        t += world.p_duplicate;
        if u < t {
            return Some(Label::Duplicate);
        }
    }
    None
}

/// Multiply the value by `factor` and record it.
fn slip_value(l: &mut Draft, factor: f64) {
    l.value *= factor;
    l.slip = Some(Slip {
        field: SlipField::CustomsValue,
        factor,
    });
}

/// A unit slip on the quantity or the net mass.
fn wrong_unit(l: &mut Draft, rng: &mut Rand) {
    let u = rng.f64();
    let mut acc = 0.0;
    let mut magnitude = WRONG_UNIT.magnitudes[WRONG_UNIT.magnitudes.len() - 1].0;
    for (m, w) in WRONG_UNIT.magnitudes {
        acc += w;
        if u < acc {
            magnitude = m;
            break;
        }
    }
    let factor = if rng.chance(WRONG_UNIT.up_share) {
        magnitude
    } else {
        1.0 / magnitude
    };
    let field = if rng.chance(WRONG_UNIT.quantity_share) {
        l.quantity = round_to(l.quantity * factor, 1000.0).max(0.001);
        SlipField::Quantity
    } else {
        l.mass = round_to(l.mass * factor, 1000.0).max(0.001);
        SlipField::NetMass
    };
    l.slip = Some(Slip { field, factor });
}

/// The legitimate noise of an unlabelled line: a KGM quantity that is not the net mass,
/// a rounded value.
fn unlabelled_noise(l: &mut Draft, unit: Unit, rng: &mut Rand, noise: &mut NoiseCounts) {
    if unit == Unit::Kgm {
        let u = rng.f64();
        if u < KGM_GROSS_MASS.0 {
            let (lo, hi) = KGM_GROSS_MASS.1;
            l.quantity = round_to(l.mass * rng.uniform(lo, hi), 1000.0).max(0.001);
            noise.kgm_quantity_gross_mass += 1;
        } else if u < KGM_GROSS_MASS.0 + KGM_WHOLE_KG && l.mass >= 10.0 {
            l.quantity = libm::round(l.mass);
            noise.kgm_quantity_whole_kg += 1;
        }
    }
    if rng.chance(ROUND_VALUE) {
        let step = [1000.0, 100.0, 10.0, 1.0]
            .into_iter()
            .find(|&s| s <= l.value * ROUND_VALUE_MAX_SHARE);
        if let Some(step) = step {
            l.value = libm::round(l.value / step) * step;
            noise.rounded_value += 1;
        }
    }
}

/// Shade a declaration whose total lies just above a threshold to just under it.
fn bunch(lines: &mut [Draft], rng: &mut Rand, noise: &mut NoiseCounts) {
    let total: f64 = lines.iter().map(|l| l.value).sum();
    let Some(&threshold) = BUNCHING
        .thresholds
        .iter()
        .find(|&&t| total > t && total <= t * (1.0 + BUNCHING.band))
    else {
        return;
    };
    if !rng.chance(BUNCHING.probability) {
        return;
    }
    let target = threshold * rng.uniform(BUNCHING.landing.0, BUNCHING.landing.1);
    let scale = target / total;
    for l in lines.iter_mut() {
        l.value *= scale;
    }
    noise.bunched_declarations += 1;
    noise.bunched_lines += lines.len() as u64;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_sig_prints_as_the_rounded_decimal() {
        assert_eq!(round_sig(0.137_249, 4).to_string(), "0.1372");
        assert_eq!(round_sig(17_228.17, 4).to_string(), "17230");
        assert_eq!(round_sig(1234.5, 2), 1200.0);
        assert_eq!(round_sig(0.5371, 2), 0.54);
        assert_eq!((1.0f64 / 1000.0).to_string(), "0.001");
        assert_eq!(round_sig(0.0, 2), 0.0);
    }

    #[test]
    fn truncated_t_respects_the_cap_and_has_heavy_tails() {
        let mut r = Rand::new(9, 0);
        let n = 100_000;
        let t3: Vec<f64> = (0..n).map(|_| truncated_t(&mut r, 3, 0.5)).collect();
        assert!(t3.iter().all(|x| x.abs() <= NOISE_CAP));
        assert!(t3.iter().any(|x| x.abs() > 0.9 * NOISE_CAP));
        // |t3| > 2.5 has probability 8.8% (8% after the cap at 6 scale units); a normal
        // of the same scale 1.2%.
        let beyond = t3.iter().filter(|x| x.abs() > 1.25).count() as f64 / n as f64;
        assert!(beyond > 0.06, "{beyond}");
        let gauss: Vec<f64> = (0..n).map(|_| 0.5 * r.normal()).collect();
        let g_beyond = gauss.iter().filter(|x| x.abs() > 1.25).count() as f64 / n as f64;
        assert!(g_beyond < 0.02, "{g_beyond}");
    }
}
