//! The canonical declaration-line schema and the mapping of a user's columns onto it.
//!
//! | canonical | role | required | accepted physical types |
//! |---|---|---|---|
//! | `declaration_id` | text | yes | utf8, large utf8, utf8 view, dictionary of strings, integers |
//! | `line_no` | integer | no | any integer |
//! | `date` | date | yes | date32, date64, timestamp (any unit, read as UTC date), `YYYY-MM-DD` strings |
//! | `office` | text | no | as `declaration_id` |
//! | `declarant_id` | text | no | as `declaration_id` |
//! | `importer_id` | text | no | as `declaration_id` |
//! | `origin` | code | no | strings (ISO 3166 alpha-2 expected; up to 8 characters) |
//! | `hs_code` | HS code | yes | strings (leading zeros kept, dots and spaces ignored) or integers |
//! | `quantity` | number | one of the two | integers, floats, decimals |
//! | `unit` | code | no | strings (WCO unit codes; up to 8 characters) |
//! | `net_mass_kg` | number | one of the two | integers, floats, decimals |
//! | `customs_value` | number | yes | integers, floats, decimals |

use std::collections::BTreeMap;
use std::path::Path;

use arrow::datatypes::{DataType, Schema};

use crate::error::{Error, Result};

/// What a canonical column is used for, which decides the physical types accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Identifier or free text: strings of any encoding, or integers.
    Text,
    /// A short code (origin, unit): strings.
    Code,
    /// A whole number.
    Integer,
    /// A calendar date.
    Date,
    /// A commodity code.
    HsCode,
    /// A quantity or amount.
    Number,
}

impl Role {
    /// Human description of the accepted types, used in error messages.
    pub fn expected(self) -> &'static str {
        match self {
            Role::Text => "a string (utf8, large utf8, dictionary) or integer column",
            Role::Code => "a string column (utf8, large utf8, dictionary)",
            Role::Integer => "an integer column",
            Role::Date => "a date32, date64, timestamp or YYYY-MM-DD string column",
            Role::HsCode => "a string or integer column",
            Role::Number => "an integer, float or decimal column",
        }
    }

    /// Whether an Arrow type is usable for this role.
    pub fn accepts(self, dt: &DataType) -> bool {
        let string = is_string(dt);
        match self {
            Role::Text => string || dt.is_integer(),
            Role::Code => string,
            Role::Integer => dt.is_integer(),
            Role::Date => {
                matches!(
                    dt,
                    DataType::Date32 | DataType::Date64 | DataType::Timestamp(..)
                ) || string
            }
            Role::HsCode => string || dt.is_integer(),
            Role::Number => {
                dt.is_integer()
                    || dt.is_floating()
                    || matches!(
                        dt,
                        DataType::Decimal32(..)
                            | DataType::Decimal64(..)
                            | DataType::Decimal128(..)
                            | DataType::Decimal256(..)
                    )
            }
        }
    }
}

/// Whether a type holds strings (plain, large, view or dictionary-encoded).
pub fn is_string(dt: &DataType) -> bool {
    match dt {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => true,
        DataType::Dictionary(_, value) => is_string(value),
        _ => false,
    }
}

/// One canonical column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CanonicalColumn {
    /// Canonical name.
    pub name: &'static str,
    /// Its role.
    pub role: Role,
    /// Whether every file must have it.
    pub required: bool,
}

/// Identifies a canonical column by position in [`CANONICAL_COLUMNS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(usize)]
#[allow(missing_docs)]
pub enum Col {
    DeclarationId,
    LineNo,
    Date,
    Office,
    DeclarantId,
    ImporterId,
    Origin,
    HsCode,
    Quantity,
    Unit,
    NetMassKg,
    CustomsValue,
}

impl Col {
    /// Every canonical column in schema order.
    pub const ALL: [Col; 12] = [
        Col::DeclarationId,
        Col::LineNo,
        Col::Date,
        Col::Office,
        Col::DeclarantId,
        Col::ImporterId,
        Col::Origin,
        Col::HsCode,
        Col::Quantity,
        Col::Unit,
        Col::NetMassKg,
        Col::CustomsValue,
    ];

    /// Its definition.
    pub fn def(self) -> &'static CanonicalColumn {
        &CANONICAL_COLUMNS[self as usize]
    }

    /// Canonical name.
    pub fn name(self) -> &'static str {
        self.def().name
    }
}

/// The canonical schema, in [`Col`] order.
pub const CANONICAL_COLUMNS: [CanonicalColumn; 12] = [
    CanonicalColumn {
        name: "declaration_id",
        role: Role::Text,
        required: true,
    },
    CanonicalColumn {
        name: "line_no",
        role: Role::Integer,
        required: false,
    },
    CanonicalColumn {
        name: "date",
        role: Role::Date,
        required: true,
    },
    CanonicalColumn {
        name: "office",
        role: Role::Text,
        required: false,
    },
    CanonicalColumn {
        name: "declarant_id",
        role: Role::Text,
        required: false,
    },
    CanonicalColumn {
        name: "importer_id",
        role: Role::Text,
        required: false,
    },
    CanonicalColumn {
        name: "origin",
        role: Role::Code,
        required: false,
    },
    CanonicalColumn {
        name: "hs_code",
        role: Role::HsCode,
        required: true,
    },
    CanonicalColumn {
        name: "quantity",
        role: Role::Number,
        required: false,
    },
    CanonicalColumn {
        name: "unit",
        role: Role::Code,
        required: false,
    },
    CanonicalColumn {
        name: "net_mass_kg",
        role: Role::Number,
        required: false,
    },
    CanonicalColumn {
        name: "customs_value",
        role: Role::Number,
        required: true,
    },
];

/// Canonical name -> the user's column name, with defaults (identity) filled in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnMapping {
    names: [String; 12],
    explicit: [bool; 12],
}

impl ColumnMapping {
    /// Build from the `[columns]` table; unknown keys are checked by the config.
    pub fn new(columns: &BTreeMap<String, String>) -> Self {
        let names = Col::ALL.map(|c| {
            columns
                .get(c.name())
                .cloned()
                .unwrap_or_else(|| c.name().into())
        });
        let explicit = Col::ALL.map(|c| columns.contains_key(c.name()));
        ColumnMapping { names, explicit }
    }

    /// The user's name for a canonical column.
    pub fn name(&self, col: Col) -> &str {
        &self.names[col as usize]
    }

    /// Resolve the mapping against one file's schema.
    ///
    /// A required column, or an optional one the user mapped explicitly, must be
    /// present; an optional column that is neither mapped nor present is absent.
    /// Every present column must have a type its role accepts.
    pub fn resolve(&self, path: &Path, schema: &Schema) -> Result<FileColumns> {
        let mut index = [None; 12];
        for col in Col::ALL {
            let def = col.def();
            let name = self.name(col);
            match schema.index_of(name) {
                Ok(i) => {
                    let dt = schema.field(i).data_type();
                    if !def.role.accepts(dt) {
                        return Err(Error::WrongType {
                            path: path.to_path_buf(),
                            canonical: def.name,
                            column: name.to_string(),
                            expected: def.role.expected(),
                            found: dt.to_string(),
                        });
                    }
                    index[col as usize] = Some(i);
                }
                Err(_) if def.required || self.explicit[col as usize] => {
                    return Err(Error::MissingColumn {
                        path: path.to_path_buf(),
                        canonical: def.name,
                        column: name.to_string(),
                        available: schema.fields().iter().map(|f| f.name().clone()).collect(),
                    });
                }
                Err(_) => {}
            }
        }
        if index[Col::Quantity as usize].is_none() && index[Col::NetMassKg as usize].is_none() {
            return Err(Error::MissingColumn {
                path: path.to_path_buf(),
                canonical: "quantity",
                column: format!(
                    "{} (or {})",
                    self.name(Col::Quantity),
                    self.name(Col::NetMassKg)
                ),
                available: schema.fields().iter().map(|f| f.name().clone()).collect(),
            });
        }
        Ok(FileColumns { index })
    }
}

/// Where each canonical column is in one file (Arrow field index), if present.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileColumns {
    index: [Option<usize>; 12],
}

impl FileColumns {
    /// Arrow field index of a canonical column in this file.
    pub fn get(&self, col: Col) -> Option<usize> {
        self.index[col as usize]
    }
}
