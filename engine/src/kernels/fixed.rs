//! Order-independent sums: values are put on a fixed-point grid of 2^-32 and added as
//! 128-bit integers. Integer addition is associative, so a sum does not depend on the
//! order of its terms (threads, batch sizes, row-group layout): the volume series are
//! the same bits however the input is cut. Each term is rounded to the nearest
//! multiple of 2^-32 (about 2.3e-10); magnitudes up to 2^90 are exact to that grid.

/// A fixed-point sum.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct FixedSum {
    // An i128 as two words, so the struct needs only 8-byte alignment.
    lo: u64,
    hi: u64,
}

const SCALE: f64 = 4_294_967_296.0; // 2^32
const LIMIT: f64 = 1.237_940_039_285_380_3e27; // 2^90
const I64_RANGE: f64 = 9_223_372_036_854_775_808.0; // 2^63

impl FixedSum {
    /// The sum holding one finite value (NaN counts as 0, magnitudes clamp at 2^90).
    pub fn of(v: f64) -> FixedSum {
        let v = if v.is_nan() {
            0.0
        } else {
            v.clamp(-LIMIT, LIMIT)
        };
        let scaled = (v * SCALE).round();
        // Most amounts fit 63 bits scaled; converting through i64 is one instruction,
        // through i128 a library call (2% of a volume scan).
        if scaled.abs() < I64_RANGE {
            FixedSum::from_i128(i128::from(scaled as i64))
        } else {
            FixedSum::from_i128(scaled as i128)
        }
    }

    /// Add another sum.
    #[inline]
    pub fn add(&mut self, o: FixedSum) {
        *self = FixedSum::from_i128(self.to_i128().wrapping_add(o.to_i128()));
    }

    /// The raw words (low, high) of the 128-bit sum, for storage.
    pub fn to_parts(self) -> (u64, u64) {
        (self.lo, self.hi)
    }

    /// A sum from words written by [`FixedSum::to_parts`].
    pub fn from_parts(lo: u64, hi: u64) -> FixedSum {
        FixedSum { lo, hi }
    }

    /// The sum as the nearest `f64`.
    pub fn value(self) -> f64 {
        self.to_i128() as f64 / SCALE
    }

    #[inline]
    fn to_i128(self) -> i128 {
        (i128::from(self.hi as i64) << 64) | i128::from(self.lo)
    }

    #[inline]
    fn from_i128(v: i128) -> FixedSum {
        FixedSum {
            lo: v as u64,
            hi: (v >> 64) as u64,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn order_does_not_matter(
            mut v in prop::collection::vec(prop_oneof![0.0f64..1e6, -1e3f64..1e3, 0.0f64..1e15], 0..60),
            split in 0usize..60,
        ) {
            let sum = |xs: &[f64]| {
                let mut s = FixedSum::default();
                for &x in xs {
                    s.add(FixedSum::of(x));
                }
                s
            };
            let forward = sum(&v);
            // Cut anywhere, sum the halves separately, in reverse order.
            let cut = split.min(v.len());
            let (a, b) = v.split_at(cut);
            let mut halves = sum(b);
            halves.add(sum(a));
            prop_assert_eq!(forward, halves);
            v.reverse();
            prop_assert_eq!(forward, sum(&v));
            let exact: f64 = v.iter().sum();
            prop_assert!((forward.value() - exact).abs() <= 1e-6 * exact.abs().max(1.0));
        }
    }

    proptest! {
        #[test]
        fn the_i64_path_converts_as_the_i128_path(
            v in prop_oneof![-1e10f64..1e10, -1e30f64..1e30, -3e9f64..3e9],
        ) {
            let direct = (v.clamp(-LIMIT, LIMIT) * SCALE).round() as i128;
            prop_assert_eq!(FixedSum::of(v), FixedSum::from_i128(direct));
        }
    }

    #[test]
    fn values_round_trip_on_the_grid() {
        for v in [0.0, 1.0, 0.5, 123_456.75, -3.25, 1e15] {
            assert_eq!(FixedSum::of(v).value(), v);
        }
        assert_eq!(FixedSum::of(f64::NAN).value(), 0.0);
    }
}
