//! Arguments of the bibflow functions, for every module: the coercions their `coerce_types` build
//! on (planning), the readers of constant arguments, and the conversions between `ColumnarValue`
//! arguments and the arrays their kernels work on (execution).
//!
//! Errors name the function and the argument, so that a user sees which call is wrong.

use std::ops::Range;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, GenericListArray, StringArray};
use arrow::datatypes::{DataType, Field};
use datafusion::common::{ScalarValue, exec_err, plan_err};
use datafusion::error::Result;
use datafusion::logical_expr::ColumnarValue;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_expr::expressions::Literal;

// ---- Types -------------------------------------------------------------------------------------

/// `List<Utf8>` with the default (nullable `item`) element field.
pub(crate) fn list_of_utf8() -> DataType {
    DataType::List(Arc::new(Field::new_list_field(DataType::Utf8, true)))
}

/// `List<List<Utf8>>` with default element fields.
pub(crate) fn list_of_list_of_utf8() -> DataType {
    DataType::List(Arc::new(Field::new_list_field(list_of_utf8(), true)))
}

/// Whether `t` is one of Arrow's string types.
pub(crate) fn is_string(t: &DataType) -> bool {
    matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
}

fn list_element(t: &DataType) -> Option<&DataType> {
    match t {
        DataType::List(f)
        | DataType::LargeList(f)
        | DataType::FixedSizeList(f, _)
        | DataType::ListView(f)
        | DataType::LargeListView(f) => Some(f.data_type()),
        _ => None,
    }
}

// ---- Coercion (planning) -----------------------------------------------------------------------

/// The type a string argument is coerced to: every string type (and NULL) becomes `Utf8`.
pub(crate) fn coerce_string(t: &DataType) -> Option<DataType> {
    (is_string(t) || t == &DataType::Null).then_some(DataType::Utf8)
}

/// Coerces an optional constant argument: strings stay strings, NULL becomes Utf8.
pub(crate) fn coerce_string_arg(t: &DataType) -> Option<DataType> {
    match t {
        t if is_string(t) => Some(t.clone()),
        DataType::Null => Some(DataType::Utf8),
        _ => None,
    }
}

/// Coerces the optional `keep_hk_mo` argument.
pub(crate) fn coerce_bool_arg(t: &DataType) -> Option<DataType> {
    match t {
        DataType::Boolean | DataType::Null => Some(DataType::Boolean),
        _ => None,
    }
}

/// The type a "list of strings" argument (country codes, MeSH names, publication types) is coerced
/// to: any list of any string type (or an untyped NULL) becomes `List<Utf8>`; a `List<Utf8>` is
/// kept as it is (whatever its field).
pub(crate) fn coerce_string_list(t: &DataType) -> Option<DataType> {
    match t {
        DataType::List(f) if f.data_type() == &DataType::Utf8 => Some(t.clone()),
        DataType::Null => Some(list_of_utf8()),
        _ => match list_element(t) {
            Some(e) if is_string(e) || e == &DataType::Null => Some(list_of_utf8()),
            _ => None,
        },
    }
}

/// Like [`coerce_string_list`], one level deeper: a list (per author) of lists of country codes.
pub(crate) fn coerce_string_list_list(t: &DataType) -> Option<DataType> {
    match t {
        DataType::List(f) if matches!(f.data_type(), DataType::List(g) if g.data_type() == &DataType::Utf8) => {
            Some(t.clone())
        }
        DataType::Null => Some(list_of_list_of_utf8()),
        _ => match list_element(t) {
            Some(e) if coerce_string_list(e).is_some() => Some(list_of_list_of_utf8()),
            _ => None,
        },
    }
}

/// Coerces a numeric (or NULL) argument to Float64, with an error naming the argument otherwise.
pub(crate) fn coerce_float64(function: &str, argument: &str, dt: &DataType) -> Result<DataType> {
    if dt.is_numeric() || dt.is_null() {
        Ok(DataType::Float64)
    } else {
        plan_err!("{function}: `{argument}` must be a number, got {dt}")
    }
}

/// Coerces an integer (or NULL) argument to `target`, with an error naming the argument otherwise.
pub(crate) fn coerce_integer(
    function: &str,
    argument: &str,
    dt: &DataType,
    target: DataType,
) -> Result<DataType> {
    if dt.is_integer() || dt.is_null() {
        Ok(target)
    } else {
        plan_err!("{function}: `{argument}` must be an integer, got {dt}")
    }
}

/// Coerces the arguments `(codes, mode [, keep_hk_mo])` shared by the counting functions whose
/// first argument `coerce_first` accepts; errors quote `usage`.
pub(crate) fn coerce_codes_mode_keep(
    function: &str,
    usage: &str,
    arg_types: &[DataType],
    coerce_first: fn(&DataType) -> Option<DataType>,
) -> Result<Vec<DataType>> {
    if !(2..=3).contains(&arg_types.len()) {
        return plan_err!("{function}: {usage}, got {} arguments", arg_types.len());
    }
    let Some(first) = coerce_first(&arg_types[0]) else {
        return plan_err!(
            "{function}: {usage}; the first argument is {}",
            arg_types[0]
        );
    };
    let Some(mode) = coerce_string_arg(&arg_types[1]) else {
        return plan_err!("{function}: {usage}; the mode is {}", arg_types[1]);
    };
    let mut out = vec![first, mode];
    if let Some(t) = arg_types.get(2) {
        let Some(keep) = coerce_bool_arg(t) else {
            return plan_err!("{function}: {usage}; keep_hk_mo is {t}");
        };
        out.push(keep);
    }
    Ok(out)
}

// ---- Constant arguments ------------------------------------------------------------------------

/// Checks, at planning time, the constant mode argument when the planner can see it.
///
/// An argument the planner cannot see as a literal is checked again at execution.
pub(crate) fn check_mode_at_planning<M>(
    function: &str,
    scalar: Option<&ScalarValue>,
    parse: impl Fn(Option<&str>) -> std::result::Result<M, String>,
) -> Result<()> {
    if let Some(s) = scalar {
        match s.try_as_str() {
            Some(v) => {
                if let Err(msg) = parse(v) {
                    return plan_err!("{function}: {msg}");
                }
            }
            None => {
                return plan_err!(
                    "{function}: the mode must be a string, got {}",
                    s.data_type()
                );
            }
        }
    }
    Ok(())
}

/// Reads a constant string argument (a mode) at execution time.
pub(crate) fn constant_str<'a>(
    function: &str,
    arg: &str,
    value: &'a ColumnarValue,
) -> Result<Option<&'a str>> {
    match value {
        ColumnarValue::Scalar(s) => match s.try_as_str() {
            Some(v) => Ok(v),
            None => exec_err!(
                "{function}: `{arg}` must be a string, got {}",
                s.data_type()
            ),
        },
        ColumnarValue::Array(_) => exec_err!(
            "{function}: `{arg}` must be a constant (a literal), not a column or an expression over columns"
        ),
    }
}

/// Reads and parses the constant mode argument at execution time.
pub(crate) fn constant_mode<M>(
    function: &str,
    value: &ColumnarValue,
    parse: impl Fn(Option<&str>) -> std::result::Result<M, String>,
) -> Result<M> {
    let mode = constant_str(function, "mode", value)?;
    match parse(mode) {
        Ok(m) => Ok(m),
        Err(msg) => exec_err!("{function}: {msg}"),
    }
}

/// Formats the error for a mode that is not one of `accepted`.
pub(crate) fn bad_mode(mode: Option<&str>, accepted: &[&str]) -> String {
    let accepted = accepted
        .iter()
        .map(|m| format!("'{m}'"))
        .collect::<Vec<_>>()
        .join(", ");
    match mode {
        Some(m) => format!("unknown mode '{m}'; expected one of {accepted}"),
        None => format!("the mode is NULL; expected one of {accepted}"),
    }
}

/// Reads the constant `keep_hk_mo` argument; absent or NULL means `false` (HK and MO count as CN).
pub(crate) fn constant_keep_hk_mo(function: &str, value: Option<&ColumnarValue>) -> Result<bool> {
    match value {
        None => Ok(false),
        Some(ColumnarValue::Scalar(ScalarValue::Boolean(b))) => Ok(b.unwrap_or(false)),
        Some(ColumnarValue::Scalar(ScalarValue::Null)) => Ok(false),
        Some(ColumnarValue::Scalar(s)) => exec_err!(
            "{function}: `keep_hk_mo` must be a boolean, got {}",
            s.data_type()
        ),
        Some(ColumnarValue::Array(_)) => {
            exec_err!("{function}: `keep_hk_mo` must be a constant (true or false), not a column")
        }
    }
}

/// The value of a constant argument of an aggregate or window function.
pub(crate) fn literal_arg<'a>(
    function: &str,
    argument: &str,
    expr: &'a Arc<dyn PhysicalExpr>,
) -> Result<&'a ScalarValue> {
    match expr.downcast_ref::<Literal>() {
        Some(lit) => Ok(lit.value()),
        None => exec_err!("{function}: `{argument}` must be a constant, got the expression {expr}"),
    }
}

// ---- Arrays (execution) ------------------------------------------------------------------------

/// Expands a constant first argument to a one-row array, so one code path serves both cases.
pub(crate) fn to_array(value: &ColumnarValue) -> Result<(ArrayRef, bool)> {
    match value {
        ColumnarValue::Array(a) => Ok((Arc::clone(a), false)),
        ColumnarValue::Scalar(s) => Ok((s.to_array_of_size(1)?, true)),
    }
}

/// Expands every argument to an array of `number_rows` rows; tells whether all were scalars.
pub(crate) fn to_arrays(
    args: &[ColumnarValue],
    number_rows: usize,
) -> Result<(Vec<ArrayRef>, bool)> {
    let all_scalar = args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_)));
    let rows = if all_scalar { 1 } else { number_rows };
    let arrays = args
        .iter()
        .map(|a| a.to_array(rows))
        .collect::<Result<Vec<_>>>()?;
    Ok((arrays, all_scalar))
}

/// Wraps a result back into a scalar when every argument was one.
pub(crate) fn from_array(result: ArrayRef, was_scalar: bool) -> Result<ColumnarValue> {
    if was_scalar {
        Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(
            &result, 0,
        )?))
    } else {
        Ok(ColumnarValue::Array(result))
    }
}

/// Runs an array kernel over scalar-function arguments.
///
/// Scalars are broadcast to `number_rows` (one allocation per batch, not per row); when every
/// argument is a scalar the kernel runs on one row and the result is a scalar again.
pub(crate) fn invoke_arrays(
    args: &[ColumnarValue],
    number_rows: usize,
    kernel: impl FnOnce(&[ArrayRef]) -> Result<ArrayRef>,
) -> Result<ColumnarValue> {
    let (arrays, all_scalar) = to_arrays(args, number_rows)?;
    let out = kernel(&arrays)?;
    debug_assert!(!all_scalar || out.len() == 1);
    from_array(out, all_scalar)
}

/// Checks that every array has `len` rows (guards kernels indexing several arrays in lockstep).
pub(crate) fn check_lengths(function: &str, arrays: &[ArrayRef]) -> Result<usize> {
    let len = arrays.first().map_or(0, |a| a.len());
    if arrays.iter().any(|a| a.len() != len) {
        return exec_err!("{function}: arguments have different lengths");
    }
    Ok(len)
}

/// Downcasts a coerced `List<Utf8>` argument of country codes.
pub(crate) fn as_code_list<'a>(
    function: &str,
    array: &'a ArrayRef,
) -> Result<(&'a GenericListArray<i32>, &'a StringArray)> {
    let Some(list) = array.as_list_opt::<i32>() else {
        return exec_err!(
            "{function}: expected a list of country codes, got {}",
            array.data_type()
        );
    };
    let Some(codes) = list.values().as_string_opt::<i32>() else {
        return exec_err!(
            "{function}: expected a list of country codes, got {}",
            array.data_type()
        );
    };
    Ok((list, codes))
}

/// Downcasts a coerced `List<Utf8>` argument.
pub(crate) fn as_string_list<'a>(
    function: &str,
    arg: &str,
    array: &'a ArrayRef,
) -> Result<(&'a GenericListArray<i32>, &'a StringArray)> {
    match array.as_list_opt::<i32>() {
        Some(list) => match list.values().as_string_opt::<i32>() {
            Some(values) => Ok((list, values)),
            None => exec_err!(
                "{function}: `{arg}` must be a list of strings, got {}",
                array.data_type()
            ),
        },
        None => exec_err!(
            "{function}: `{arg}` must be a list of strings, got {}",
            array.data_type()
        ),
    }
}

/// Downcasts a coerced `Utf8` argument.
pub(crate) fn as_string<'a>(
    function: &str,
    arg: &str,
    array: &'a ArrayRef,
) -> Result<&'a StringArray> {
    match array.as_string_opt::<i32>() {
        Some(s) => Ok(s),
        None => exec_err!(
            "{function}: `{arg}` must be a string, got {}",
            array.data_type()
        ),
    }
}

/// The value range of row `row` of a list array; a NULL row is empty.
pub(crate) fn row_range(list: &GenericListArray<i32>, row: usize) -> Range<usize> {
    if list.is_null(row) {
        return 0..0;
    }
    let offsets = list.value_offsets();
    offsets[row] as usize..offsets[row + 1] as usize
}

/// Value `i` of a string array, `None` when NULL.
pub(crate) fn str_at(strings: &StringArray, i: usize) -> Option<&str> {
    if strings.is_null(i) {
        None
    } else {
        Some(strings.value(i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_coercions() {
        let view_list = DataType::List(Arc::new(Field::new_list_field(DataType::Utf8View, true)));
        assert_eq!(coerce_string_list(&view_list), Some(list_of_utf8()));
        assert_eq!(coerce_string_list(&DataType::Null), Some(list_of_utf8()));
        assert_eq!(coerce_string_list(&DataType::Utf8), None);
        let nested = DataType::LargeList(Arc::new(Field::new_list_field(view_list, true)));
        assert_eq!(
            coerce_string_list_list(&nested),
            Some(list_of_list_of_utf8())
        );
        assert_eq!(coerce_string_list_list(&list_of_utf8()), None);
    }

    #[test]
    fn string_coercions() {
        let view_list = DataType::List(Arc::new(Field::new_list_field(DataType::Utf8View, true)));
        assert_eq!(coerce_string_list(&view_list), Some(list_of_utf8()));
        assert_eq!(coerce_string_list(&DataType::Null), Some(list_of_utf8()));
        assert_eq!(coerce_string_list(&DataType::Utf8), None);
        assert_eq!(coerce_string(&DataType::LargeUtf8), Some(DataType::Utf8));
        assert_eq!(coerce_string(&DataType::Int64), None);
    }
}
