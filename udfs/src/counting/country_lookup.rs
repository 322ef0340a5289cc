//! The one implementation of the country lookups `country_name(code)`, `country_region(code)` and
//! `is_eu_member(code)`: a code looked up in the country table (`udfs/data/countries.csv`), one
//! column of its row returned. Each name is a [`CountryColumn`] in its own file, with its own
//! documentation and tests.

use std::fmt::Debug;
use std::hash::Hash;
use std::marker::PhantomData;

use arrow::array::{Array, ArrayRef, AsArray, StringArrayType};
use arrow::datatypes::DataType;
use datafusion::common::{exec_err, plan_err};
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

use super::country_table::{Country, CountryTable, table};
use crate::args::{from_array, to_array};

/// One column of the country table as a function: its SQL name, its type and documentation, and
/// how a batch of looked-up rows becomes a result array.
pub trait CountryColumn: Debug + PartialEq + Eq + Hash + Send + Sync + 'static {
    /// The name of the function in SQL.
    const NAME: &'static str;

    /// The type of the result.
    fn return_type() -> DataType;

    /// The function's documentation.
    fn documentation() -> &'static Documentation;

    /// The result for a batch of codes, from the row of each code (`None` for an unknown code or
    /// NULL).
    fn column(rows: &mut dyn Iterator<Item = Option<&'static Country>>) -> ArrayRef;
}

/// `C::NAME(code)`: column `C` of the country table for an ISO 3166-1 alpha-2 code, NULL when the
/// code is unknown. Case and surrounding spaces are ignored.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct CountryLookup<C: CountryColumn> {
    signature: Signature,
    column: PhantomData<C>,
}

impl<C: CountryColumn> Default for CountryLookup<C> {
    fn default() -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Immutable),
            column: PhantomData,
        }
    }
}

impl<C: CountryColumn> ScalarUDFImpl for CountryLookup<C> {
    fn name(&self) -> &str {
        C::NAME
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        coerce_code_arg(C::NAME, arg_types)
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(C::return_type())
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        map_codes(C::NAME, &args.args, C::column)
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(C::documentation())
    }
}

/// Coerces the `code` argument: any string type is kept, an untyped NULL becomes Utf8.
fn coerce_code_arg(function: &str, arg_types: &[DataType]) -> Result<Vec<DataType>> {
    match arg_types {
        [t @ (DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)] => Ok(vec![t.clone()]),
        [DataType::Null] => Ok(vec![DataType::Utf8]),
        _ => plan_err!(
            "{function}: expected one string argument (an ISO 3166-1 alpha-2 code), got {arg_types:?}"
        ),
    }
}

/// Applies `lookup` to each code of the single argument, whatever its string type, building the
/// result with `finish` from an iterator of optional country rows.
fn map_codes(
    function: &str,
    args: &[ColumnarValue],
    finish: impl Fn(&mut dyn Iterator<Item = Option<&'static Country>>) -> ArrayRef,
) -> Result<ColumnarValue> {
    let [arg] = args else {
        return exec_err!("{function}: expected one argument, got {}", args.len());
    };
    let table = table()?;
    let (array, was_scalar) = to_array(arg)?;
    fn run<'a>(
        codes: impl StringArrayType<'a>,
        table: &'static CountryTable,
        finish: &dyn Fn(&mut dyn Iterator<Item = Option<&'static Country>>) -> ArrayRef,
    ) -> ArrayRef {
        finish(&mut codes.iter().map(|c| c.and_then(|c| table.get(c))))
    }
    let result = match array.data_type() {
        DataType::Utf8 => run(array.as_string::<i32>(), table, &finish),
        DataType::LargeUtf8 => run(array.as_string::<i64>(), table, &finish),
        DataType::Utf8View => run(array.as_string_view(), table, &finish),
        DataType::Null => run(
            &arrow::array::StringArray::new_null(array.len()),
            table,
            &finish,
        ),
        other => return exec_err!("{function}: expected a string code, got {other}"),
    };
    from_array(result, was_scalar)
}
