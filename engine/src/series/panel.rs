//! A panel of series x periods: dense (`ndarray`) when at least [`DENSE_MIN_FILL`] of
//! the cells are non-zero, sparse (per-series runs of (period, amount)) otherwise.

use ndarray::Array2;

/// Fill ratio from which a panel is stored dense.
pub const DENSE_MIN_FILL: f64 = 0.25;

/// Series x periods amounts; absent cells are zeros.
#[derive(Debug, Clone, PartialEq)]
pub enum Panel {
    /// One row per series.
    Dense(Array2<f64>),
    /// Series `s` owns entries `offsets[s]..offsets[s + 1]` of `periods` / `amounts`,
    /// periods ascending.
    Sparse {
        /// Periods.
        periods: usize,
        /// Run boundaries, `series + 1` entries.
        offsets: Vec<usize>,
        /// Period index of each entry.
        index: Vec<u32>,
        /// Amount of each entry.
        amounts: Vec<f64>,
    },
}

impl Panel {
    /// Build from entries `(series, period, amount)` sorted by series then period, one
    /// per (series, period), for `series` series of `periods` periods.
    pub fn build(series: usize, periods: usize, entries: &[(u32, u32, f64)]) -> Panel {
        let cells = series * periods;
        if cells > 0 && entries.len() as f64 >= DENSE_MIN_FILL * cells as f64 {
            let mut a = Array2::<f64>::zeros((series, periods));
            for &(s, p, v) in entries {
                a[(s as usize, p as usize)] = v;
            }
            return Panel::Dense(a);
        }
        let mut offsets = Vec::with_capacity(series + 1);
        offsets.push(0);
        let mut at = 0;
        for s in 0..series as u32 {
            while at < entries.len() && entries[at].0 == s {
                at += 1;
            }
            offsets.push(at);
        }
        Panel::Sparse {
            periods,
            offsets,
            index: entries.iter().map(|e| e.1).collect(),
            amounts: entries.iter().map(|e| e.2).collect(),
        }
    }

    /// Series in the panel.
    pub fn series(&self) -> usize {
        match self {
            Panel::Dense(a) => a.nrows(),
            Panel::Sparse { offsets, .. } => offsets.len().saturating_sub(1),
        }
    }

    /// Periods in the panel.
    pub fn periods(&self) -> usize {
        match self {
            Panel::Dense(a) => a.ncols(),
            Panel::Sparse { periods, .. } => *periods,
        }
    }

    /// Whether the panel is stored dense.
    pub fn is_dense(&self) -> bool {
        matches!(self, Panel::Dense(_))
    }

    /// Series `s` as a full row of amounts (zeros filled in), into `out`.
    pub fn row_into(&self, s: usize, out: &mut Vec<f64>) {
        out.clear();
        match self {
            Panel::Dense(a) => out.extend(a.row(s).iter().copied()),
            Panel::Sparse {
                periods,
                offsets,
                index,
                amounts,
            } => {
                out.resize(*periods, 0.0);
                for e in offsets[s]..offsets[s + 1] {
                    out[index[e] as usize] = amounts[e];
                }
            }
        }
    }

    /// Periods of series `s` with a non-zero amount.
    pub fn nonzero(&self, s: usize) -> usize {
        match self {
            Panel::Dense(a) => a.row(s).iter().filter(|&&v| v != 0.0).count(),
            Panel::Sparse {
                offsets, amounts, ..
            } => amounts[offsets[s]..offsets[s + 1]]
                .iter()
                .filter(|&&v| v != 0.0)
                .count(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dense_and_sparse_give_the_same_rows() {
        let entries = [(0, 1, 5.0), (0, 3, 1.0), (2, 0, 7.0)];
        let sparse = Panel::build(3, 10, &entries);
        assert!(!sparse.is_dense());
        let dense = Panel::build(3, 4, &entries);
        assert!(dense.is_dense());
        let (mut a, mut b) = (Vec::new(), Vec::new());
        for s in 0..3 {
            sparse.row_into(s, &mut a);
            dense.row_into(s, &mut b);
            assert_eq!(&a[..4], &b[..]);
            assert!(a[4..].iter().all(|&v| v == 0.0));
            assert_eq!(sparse.nonzero(s), dense.nonzero(s));
        }
        sparse.row_into(1, &mut a);
        assert!(a.iter().all(|&v| v == 0.0));
        assert_eq!((sparse.series(), sparse.periods()), (3, 10));
    }
}
