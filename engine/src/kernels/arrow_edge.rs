//! The one place where Arrow arrays are downcast: each function takes `&dyn Array` of
//! any accepted physical type and returns plain vectors for the slice kernels.
//!
//! # Nulls
//! Numeric outputs carry NaN in null slots; dates carry [`NULL_DATE`]; codes carry
//! [`Code::NONE`] / [`HsCode::NONE`]. Values under null slots are never read.

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::compute::{CastOptions, cast_with_options};
use arrow::datatypes::{DataType, Date32Type, Float64Type, Int64Type};
use arrow::error::ArrowError;

use super::codes::{Code, HsCode};

/// Marker for a null date in day vectors.
pub const NULL_DATE: i32 = i32::MIN;

fn cast(array: &dyn Array, to: &DataType) -> Result<ArrayRef, ArrowError> {
    // `safe: true`: a value that does not convert becomes null (and is then counted by
    // the caller), instead of failing the whole batch.
    cast_with_options(
        array,
        to,
        &CastOptions {
            safe: true,
            ..Default::default()
        },
    )
}

/// Numbers (integers, floats, decimals) as `f64`, NaN where null.
pub fn f64_values(array: &dyn Array) -> Result<Vec<f64>, ArrowError> {
    let mut out = Vec::new();
    f64_values_into(array, &mut out)?;
    Ok(out)
}

/// [`f64_values`] into a reused buffer (cleared first).
pub fn f64_values_into(array: &dyn Array, out: &mut Vec<f64>) -> Result<(), ArrowError> {
    let casted;
    let floats = if array.data_type() == &DataType::Float64 {
        array.as_primitive::<Float64Type>()
    } else {
        casted = cast(array, &DataType::Float64)?;
        casted.as_primitive::<Float64Type>()
    };
    out.clear();
    out.extend_from_slice(floats.values());
    if let Some(nulls) = floats.nulls() {
        // Whole 64-slot words at a time: words without nulls cost one comparison.
        let chunks = nulls.inner().bit_chunks();
        let mut base = 0;
        for word in chunks
            .iter()
            .chain(std::iter::once(chunks.remainder_bits()))
        {
            let mut missing = !word;
            while missing != 0 {
                let i = base + missing.trailing_zeros() as usize;
                if let Some(v) = out.get_mut(i) {
                    *v = f64::NAN;
                }
                missing &= missing - 1;
            }
            base += 64;
        }
    }
    Ok(())
}

/// Integers as `i64`, `None` where null.
pub fn i64_values(array: &dyn Array) -> Result<Vec<Option<i64>>, ArrowError> {
    let casted = cast(array, &DataType::Int64)?;
    Ok(casted.as_primitive::<Int64Type>().iter().collect())
}

/// Dates (date32, date64, timestamps, `YYYY-MM-DD` strings) as days since 1970-01-01,
/// [`NULL_DATE`] where null or unparseable. Timestamps are read as UTC dates.
pub fn date_days(array: &dyn Array) -> Result<Vec<i32>, ArrowError> {
    let mut out = Vec::new();
    date_days_into(array, &mut out)?;
    Ok(out)
}

/// [`date_days`] into a reused buffer (cleared first).
pub fn date_days_into(array: &dyn Array, out: &mut Vec<i32>) -> Result<(), ArrowError> {
    let casted;
    let dates = if array.data_type() == &DataType::Date32 {
        array.as_primitive::<Date32Type>()
    } else {
        let source: ArrayRef = match array.data_type() {
            // Timestamps with a zone would be cast to the zone's local date; read UTC.
            DataType::Timestamp(unit, Some(_)) => cast(array, &DataType::Timestamp(*unit, None))?,
            _ => arrow::array::make_array(array.to_data()),
        };
        casted = cast(source.as_ref(), &DataType::Date32)?;
        casted.as_primitive::<Date32Type>()
    };
    out.clear();
    out.extend(dates.iter().map(|d| d.unwrap_or(NULL_DATE)));
    Ok(())
}

/// Apply `f` to each string of a string-like array (utf8, large utf8, utf8 view or a
/// dictionary of those); `null` where the slot is null. A dictionary's values are mapped
/// once each, not once per row. Integer arrays are read as their decimal text.
pub fn map_strings<T: Copy>(
    array: &dyn Array,
    null: T,
    f: impl FnMut(&str) -> T,
) -> Result<Vec<T>, ArrowError> {
    let mut out = Vec::new();
    map_strings_into(array, null, f, &mut out)?;
    Ok(out)
}

/// [`map_strings`] into a reused buffer (cleared first).
pub fn map_strings_into<T: Copy>(
    array: &dyn Array,
    null: T,
    mut f: impl FnMut(&str) -> T,
    out: &mut Vec<T>,
) -> Result<(), ArrowError> {
    out.clear();
    match array.data_type() {
        DataType::Utf8 => {
            out.extend(
                array
                    .as_string::<i32>()
                    .iter()
                    .map(|s| s.map_or(null, &mut f)),
            );
        }
        DataType::LargeUtf8 => {
            out.extend(
                array
                    .as_string::<i64>()
                    .iter()
                    .map(|s| s.map_or(null, &mut f)),
            );
        }
        DataType::Utf8View => {
            out.extend(
                array
                    .as_string_view()
                    .iter()
                    .map(|s| s.map_or(null, &mut f)),
            );
        }
        DataType::Dictionary(_, _) => {
            let dict = array
                .as_any_dictionary_opt()
                .ok_or_else(|| ArrowError::CastError("not a dictionary array".into()))?;
            let mapped = map_strings(dict.values().as_ref(), null, f)?;
            out.extend(
                dict.normalized_keys()
                    .iter()
                    .map(|&k| mapped.get(k).copied().unwrap_or(null)),
            );
            if let Some(nulls) = array.logical_nulls() {
                for (slot, valid) in out.iter_mut().zip(nulls.iter()) {
                    if !valid {
                        *slot = null;
                    }
                }
            }
        }
        dt if dt.is_integer() => {
            let text = cast(array, &DataType::Utf8)?;
            map_strings_into(text.as_ref(), null, f, out)?;
        }
        other => {
            return Err(ArrowError::CastError(format!(
                "cannot read {other} as strings ({} rows)",
                array.len()
            )));
        }
    }
    Ok(())
}

/// Short codes (origin, unit) packed as [`Code`].
pub fn codes(array: &dyn Array, unit: bool) -> Result<Vec<Code>, ArrowError> {
    let mut out = Vec::new();
    codes_into(array, unit, &mut out)?;
    Ok(out)
}

/// [`codes`] into a reused buffer (cleared first).
pub fn codes_into(array: &dyn Array, unit: bool, out: &mut Vec<Code>) -> Result<(), ArrowError> {
    let parse = if unit { Code::parse_unit } else { Code::parse };
    map_strings_into(array, Code::NONE, parse, out)
}

/// HS codes from strings or integers; [`HsCode::NONE`] where null or unparseable.
pub fn hs_codes(array: &dyn Array) -> Result<Vec<HsCode>, ArrowError> {
    let mut out = Vec::new();
    hs_codes_into(array, &mut out)?;
    Ok(out)
}

/// [`hs_codes`] into a reused buffer (cleared first).
pub fn hs_codes_into(array: &dyn Array, out: &mut Vec<HsCode>) -> Result<(), ArrowError> {
    if array.data_type().is_integer() {
        out.clear();
        out.extend(
            i64_values(array)?
                .into_iter()
                .map(|v| v.and_then(HsCode::from_int).unwrap_or(HsCode::NONE)),
        );
        return Ok(());
    }
    map_strings_into(
        array,
        HsCode::NONE,
        |s| HsCode::parse(s).unwrap_or(HsCode::NONE),
        out,
    )
}

/// Any text-role column (strings or integers) as owned strings, `None` where null.
pub fn strings(array: &dyn Array) -> Result<Vec<Option<String>>, ArrowError> {
    let text = cast(array, &DataType::Utf8)?;
    Ok(text
        .as_string::<i32>()
        .iter()
        .map(|s| s.map(str::to_string))
        .collect())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use arrow::array::{
        Date64Array, Decimal128Array, DictionaryArray, Float64Array, Int32Array, Int64Array,
        LargeStringArray, StringArray, TimestampMillisecondArray,
    };
    use arrow::buffer::{NullBuffer, ScalarBuffer};
    use arrow::datatypes::Int8Type;
    use std::sync::Arc;

    #[test]
    fn numbers_from_every_type_with_garbage_under_nulls() {
        // 99.0 sits under a null slot: it must come out as NaN.
        let f = Float64Array::new(
            ScalarBuffer::from(vec![1.5, 99.0, -2.0]),
            Some(NullBuffer::from(vec![true, false, true])),
        );
        let v = f64_values(&f).unwrap();
        assert_eq!(v[0], 1.5);
        assert!(v[1].is_nan());
        assert_eq!(v[2], -2.0);
        let d = Decimal128Array::from(vec![Some(12345), None])
            .with_precision_and_scale(10, 2)
            .unwrap();
        let v = f64_values(&d).unwrap();
        assert_eq!(v[0], 123.45);
        assert!(v[1].is_nan());
        assert_eq!(f64_values(&Int32Array::from(vec![7])).unwrap(), vec![7.0]);
        assert!(
            f64_values(&Float64Array::from(Vec::<f64>::new()))
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn nulls_across_word_boundaries() {
        let n = 200;
        let valid: Vec<bool> = (0..n).map(|i| i % 7 != 3 && i != 64 && i != 199).collect();
        // Garbage under every null slot.
        let f = Float64Array::new(
            ScalarBuffer::from((0..n).map(|i| i as f64).collect::<Vec<_>>()),
            Some(NullBuffer::from(valid.clone())),
        );
        let mut buf = vec![42.0; 3];
        f64_values_into(&f, &mut buf).unwrap();
        assert_eq!(buf.len(), n);
        for (i, v) in buf.iter().enumerate() {
            assert_eq!(v.is_nan(), !valid[i], "slot {i}");
            if valid[i] {
                assert_eq!(*v, i as f64);
            }
        }
        // A sliced array: validity offsets must follow the slice.
        let sliced = f.slice(5, 100);
        let v = f64_values(&sliced).unwrap();
        for (i, x) in v.iter().enumerate() {
            assert_eq!(x.is_nan(), !valid[i + 5], "sliced slot {i}");
        }
    }

    #[test]
    fn dates_from_every_type() {
        let day = 20_000; // 2024-10-04
        let ms = i64::from(day) * 86_400_000 + 3_600_000;
        assert_eq!(date_days(&Date64Array::from(vec![ms])).unwrap(), vec![day]);
        let ts = TimestampMillisecondArray::from(vec![Some(ms), None]).with_timezone("+05:00");
        assert_eq!(date_days(&ts).unwrap(), vec![day, NULL_DATE]);
        let s = StringArray::from(vec![Some("2024-10-04"), Some("nonsense"), None]);
        assert_eq!(date_days(&s).unwrap(), vec![day, NULL_DATE, NULL_DATE]);
    }

    #[test]
    fn strings_from_dictionaries_and_large_utf8() {
        let dict: DictionaryArray<Int8Type> = vec![Some("cn"), None, Some("DE"), Some("cn")]
            .into_iter()
            .collect();
        let c = codes(&dict, false).unwrap();
        assert_eq!(
            c.iter().map(|c| c.to_text()).collect::<Vec<_>>(),
            vec!["CN", "", "DE", "CN"]
        );
        let large = LargeStringArray::from(vec!["kg", "NAR"]);
        assert_eq!(
            codes(&large, true).unwrap(),
            vec![Code::KGM, Code::parse("NAR")]
        );
        let ids = Int64Array::from(vec![Some(42), None]);
        assert_eq!(strings(&ids).unwrap(), vec![Some("42".to_string()), None]);
        let dict_arr: ArrayRef = Arc::new(dict);
        assert_eq!(
            strings(dict_arr.as_ref()).unwrap()[2].as_deref(),
            Some("DE")
        );
    }

    #[test]
    fn hs_codes_from_strings_and_integers() {
        let s = StringArray::from(vec![Some("071080"), Some("84.71"), Some("ABC123"), None]);
        let got: Vec<String> = hs_codes(&s).unwrap().iter().map(|c| c.to_text()).collect();
        assert_eq!(got, vec!["071080", "8471", "", ""]);
        let i = Int64Array::from(vec![71080, 8471300000]);
        let got: Vec<String> = hs_codes(&i).unwrap().iter().map(|c| c.to_text()).collect();
        assert_eq!(got, vec!["071080", "8471300000"]);
    }
}
