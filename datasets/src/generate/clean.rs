//! The lines of a declaration in the clean profile: Gaussian price noise around one
//! price level per national code and origin, and the clean labels (module docs of
//! [`generate`](super)). What this file draws, and in which order, is frozen: the clean
//! profile's output for a seed must not change (`clean_profile_output_is_unchanged`).

use super::catalogue::{Catalogue, FAM_MEDICAL_SUPPLIES, NatCode, Unit};
use super::labels::{Label, LineLabel};
use super::month::{Decl, Sink};
use super::rng::Rand;
use super::{GenerateError, PRICE_GOUGING_FRACTION};

/// Raw line values before any planted anomaly: (quantity, net mass, customs value).
#[inline]
fn line_values(
    cat: &Catalogue,
    nat: &NatCode,
    origin: u16,
    raw_quantity: Option<f64>,
    rng: &mut Rand,
) -> (f64, f64, f64) {
    let raw = match raw_quantity {
        Some(q) => q,
        None => libm::exp(rng.gauss(nat.qty_mu, nat.qty_sigma)),
    };
    let (quantity, mass) = nat.quantity_and_mass(raw, rng);
    let ln_uv = nat.ln_unit_value
        + cat.origin_offset[usize::from(origin)]
        + rng.gauss(0.0, nat.price_sigma);
    (quantity, mass, libm::exp(ln_uv) * quantity)
}

/// Write the lines of one declaration.
pub(crate) fn write_declaration(
    d: &Decl<'_>,
    rng: &mut Rand,
    sink: &mut Sink<'_>,
) -> Result<(), GenerateError> {
    let (h, planted, id, yy, seq, in_crisis) =
        (d.header, d.planted, d.id, d.yy, d.seq, d.in_crisis);
    let ctx = sink.ctx;
    let cat = ctx.cat;
    for line in 0..d.n_lines() {
        let line_no = line as u32 + 1;
        let (nat_idx, raw_qty) = d.line_code(cat, line, rng);
        let nat = &cat.nats[nat_idx];
        let (mut quantity, mass, mut value) = line_values(cat, nat, h.origin, raw_qty, rng);
        let label = match planted {
            Some(p) => p.label,
            None => {
                let u = rng.f64();
                if !nat.eligible {
                    None
                } else if in_crisis && nat.families & FAM_MEDICAL_SUPPLIES != 0 {
                    (u < PRICE_GOUGING_FRACTION).then_some(Label::PriceGouging)
                } else if u < ctx.p_under {
                    Some(Label::UnderValuation)
                } else if u < ctx.p_under + ctx.p_over {
                    Some(Label::OverValuation)
                } else if nat.unit != Unit::Kgm && u < ctx.p_under + ctx.p_over + ctx.p_wrong_unit {
                    Some(Label::WrongUnit)
                } else {
                    None
                }
            }
        };
        match label {
            Some(Label::UnderValuation) => value /= rng.log_uniform(6.0, 30.0),
            Some(Label::OverValuation) => value *= rng.log_uniform(6.0, 30.0),
            Some(Label::PriceGouging) => value *= rng.log_uniform(6.0, 15.0),
            Some(Label::WrongUnit) => quantity *= 1000.0,
            _ => {}
        }
        if let Some(label) = label {
            sink.labels.push(LineLabel {
                yy,
                seq,
                line_no,
                label,
                slip: None,
            });
        }
        sink.push(id, line_no, h, nat_idx as u32, quantity, mass, value)?;
    }
    Ok(())
}
