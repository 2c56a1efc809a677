//! Number formatting shared by every finding's explanation.

/// A number with four significant digits, without exponent for everyday magnitudes
/// (explanations).
pub fn sig(v: f64) -> String {
    Sig(v).to_string()
}

/// [`sig`] as a `Display` value, to write into a buffer without an intermediate string.
#[derive(Debug, Clone, Copy)]
pub struct Sig(pub f64);

impl std::fmt::Display for Sig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let v = self.0;
        if v != 0.0 && v.is_finite() && (v.abs() >= 1e6 || v.abs() < 1e-3) {
            write!(f, "{v:.3e}")
        } else if v == 0.0 || !v.is_finite() {
            write!(f, "{v}")
        } else {
            let digits = (3 - v.abs().log10().floor() as i32).clamp(0, 6) as usize;
            write!(f, "{v:.digits$}")
        }
    }
}

/// A measure name with spaces for underscores (`value per unit`), as explanations
/// print it.
pub fn spaced(measure: &str) -> std::borrow::Cow<'_, str> {
    match measure {
        "value_per_unit" => "value per unit".into(),
        "value_per_kg" => "value per kg".into(),
        "kg_per_unit" => "kg per unit".into(),
        other => other.replace('_', " ").into(),
    }
}
