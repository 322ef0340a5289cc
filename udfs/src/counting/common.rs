//! Pieces shared by the counting functions: country-code normalisation, a reusable per-row scratch
//! space, argument coercion and the constant-argument checks.

use std::ops::Range;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, GenericListArray, StringArray};
use arrow::datatypes::{DataType, Field};
use datafusion::common::{ScalarValue, exec_err, plan_err};
use datafusion::error::Result;
use datafusion::logical_expr::{ColumnarValue, DocSection};

/// The documentation section every bibflow counting function is listed under.
pub(crate) const DOC_SECTION: DocSection = DocSection {
    include: true,
    label: "Bibliometric Counting Functions",
    description: Some("Crediting papers to countries, collaboration types and networks."),
};

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

/// The type a "list of country codes" argument is coerced to: any list of any string type (or an
/// untyped NULL) becomes `List<Utf8>`; a `List<Utf8>` is kept as it is (whatever its field).
pub(crate) fn coerce_code_list(t: &DataType) -> Option<DataType> {
    match t {
        DataType::List(f) if f.data_type() == &DataType::Utf8 => Some(t.clone()),
        DataType::Null => Some(list_of_utf8()),
        _ => match list_element(t) {
            Some(e) if is_string(e) || e == &DataType::Null => Some(list_of_utf8()),
            _ => None,
        },
    }
}

/// Like [`coerce_code_list`], one level deeper: a list (per author) of lists of country codes.
pub(crate) fn coerce_code_list_list(t: &DataType) -> Option<DataType> {
    match t {
        DataType::List(f) if matches!(f.data_type(), DataType::List(g) if g.data_type() == &DataType::Utf8) => {
            Some(t.clone())
        }
        DataType::Null => Some(list_of_list_of_utf8()),
        _ => match list_element(t) {
            Some(e) if coerce_code_list(e).is_some() => Some(list_of_list_of_utf8()),
            _ => None,
        },
    }
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

/// Expands a constant first argument to a one-row array, so one code path serves both cases.
pub(crate) fn to_array(value: &ColumnarValue) -> Result<(ArrayRef, bool)> {
    match value {
        ColumnarValue::Array(a) => Ok((Arc::clone(a), false)),
        ColumnarValue::Scalar(s) => Ok((s.to_array_of_size(1)?, true)),
    }
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

/// Downcasts a coerced `List<Utf8>` argument.
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

/// The value range of row `row` of a list array; a NULL row is empty.
pub(crate) fn row_range(list: &GenericListArray<i32>, row: usize) -> Range<usize> {
    if list.is_null(row) {
        return 0..0;
    }
    let offsets = list.value_offsets();
    offsets[row] as usize..offsets[row + 1] as usize
}

/// Value `i` of a string array, `None` when NULL.
pub(crate) fn code_at(codes: &StringArray, i: usize) -> Option<&str> {
    if codes.is_null(i) {
        None
    } else {
        Some(codes.value(i))
    }
}

/// Appends the normalised form of a raw country code to `buf`: trimmed, ASCII upper-case, HK and MO
/// as CN unless `keep_hk_mo`. Returns `false` (and appends nothing) when the code is blank, which
/// counts as an unknown country.
pub(crate) fn push_normalized(buf: &mut String, raw: &str, keep_hk_mo: bool) -> bool {
    let code = raw.trim();
    if code.is_empty() {
        return false;
    }
    if !keep_hk_mo && (code.eq_ignore_ascii_case("HK") || code.eq_ignore_ascii_case("MO")) {
        buf.push_str("CN");
    } else {
        buf.extend(code.chars().map(|c| c.to_ascii_uppercase()));
    }
    true
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    start: usize,
    end: usize,
    weight: f64,
}

/// Per-row scratch space for the countries of one paper, reused across rows so that a batch
/// allocates only while its largest paper grows the buffers.
#[derive(Debug, Default)]
pub(crate) struct CountryScratch {
    buf: String,
    entries: Vec<Entry>,
}

impl CountryScratch {
    /// Forgets the previous row.
    pub(crate) fn clear(&mut self) {
        self.buf.clear();
        self.entries.clear();
    }

    /// Records `weight` for the country `raw`; returns `false` when the code is blank (unknown).
    pub(crate) fn push(&mut self, raw: &str, keep_hk_mo: bool, weight: f64) -> bool {
        let start = self.buf.len();
        if !push_normalized(&mut self.buf, raw, keep_hk_mo) {
            return false;
        }
        self.entries.push(Entry {
            start,
            end: self.buf.len(),
            weight,
        });
        true
    }

    /// Sorts by country and sums the weights of equal countries, leaving one entry per country.
    pub(crate) fn merge(&mut self) {
        let buf = &self.buf;
        self.entries
            .sort_unstable_by(|a, b| buf[a.start..a.end].cmp(&buf[b.start..b.end]));
        let mut kept = 0;
        for i in 0..self.entries.len() {
            let e = self.entries[i];
            if kept > 0 {
                let last = &mut self.entries[kept - 1];
                if buf[last.start..last.end] == buf[e.start..e.end] {
                    last.weight += e.weight;
                    continue;
                }
            }
            self.entries[kept] = e;
            kept += 1;
        }
        self.entries.truncate(kept);
    }

    /// Number of entries (distinct countries once [`Self::merge`]d).
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Entry `i`: its country and weight.
    pub(crate) fn get(&self, i: usize) -> (&str, f64) {
        let e = self.entries[i];
        (&self.buf[e.start..e.end], e.weight)
    }

    /// Sets the weight of every entry.
    pub(crate) fn set_all_weights(&mut self, weight: f64) {
        for e in &mut self.entries {
            e.weight = weight;
        }
    }
}

/// Helpers for the unit tests of the functions of this module.
#[cfg(test)]
pub(crate) mod test_util {
    use std::sync::Arc;

    use arrow::array::{ArrayRef, ListBuilder, StringBuilder};
    use arrow::datatypes::Field;
    use datafusion::common::config::ConfigOptions;
    use datafusion::error::Result;
    use datafusion::logical_expr::{
        ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDFImpl,
    };

    /// Invokes `udf` the way the planner would: coerced argument types, return field from the
    /// constant arguments, then the call.
    pub(crate) fn invoke(
        udf: &dyn ScalarUDFImpl,
        args: Vec<ColumnarValue>,
    ) -> Result<ColumnarValue> {
        let arg_fields: Vec<_> = args
            .iter()
            .enumerate()
            .map(|(i, a)| Arc::new(Field::new(format!("a{i}"), a.data_type(), true)))
            .collect();
        let scalars: Vec<_> = args
            .iter()
            .map(|a| match a {
                ColumnarValue::Scalar(s) => Some(s),
                ColumnarValue::Array(_) => None,
            })
            .collect();
        let return_field = udf.return_field_from_args(ReturnFieldArgs {
            arg_fields: &arg_fields,
            scalar_arguments: &scalars,
        })?;
        let number_rows = args
            .iter()
            .find_map(|a| match a {
                ColumnarValue::Array(a) => Some(a.len()),
                ColumnarValue::Scalar(_) => None,
            })
            .unwrap_or(1);
        udf.invoke_with_args(ScalarFunctionArgs {
            args,
            arg_fields,
            number_rows,
            return_field,
            config_options: Arc::new(ConfigOptions::default()),
        })
    }

    /// Invokes `udf` and expects an array back.
    pub(crate) fn invoke_array(udf: &dyn ScalarUDFImpl, args: Vec<ColumnarValue>) -> ArrayRef {
        match invoke(udf, args).expect("invoke") {
            ColumnarValue::Array(a) => a,
            ColumnarValue::Scalar(s) => s.to_array().expect("scalar to array"),
        }
    }

    /// A `List<Utf8>` array, one row per paper.
    pub(crate) fn code_lists(rows: &[Option<Vec<Option<&str>>>]) -> ArrayRef {
        let mut b = ListBuilder::new(StringBuilder::new());
        for row in rows {
            match row {
                Some(codes) => {
                    for c in codes {
                        b.values().append_option(*c);
                    }
                    b.append(true);
                }
                None => b.append(false),
            }
        }
        Arc::new(b.finish())
    }

    /// One paper's authors, each with the codes of its affiliations (`None`: NULL).
    pub(crate) type Paper<'a> = Option<Vec<Option<Vec<Option<&'a str>>>>>;

    /// A `List<List<Utf8>>` array, one row per paper, one inner list per author.
    pub(crate) fn author_code_lists(rows: &[Paper<'_>]) -> ArrayRef {
        let mut b = ListBuilder::new(ListBuilder::new(StringBuilder::new()));
        for row in rows {
            match row {
                Some(authors) => {
                    for author in authors {
                        match author {
                            Some(codes) => {
                                for c in codes {
                                    b.values().values().append_option(*c);
                                }
                                b.values().append(true);
                            }
                            None => b.values().append(false),
                        }
                    }
                    b.append(true);
                }
                None => b.append(false),
            }
        }
        Arc::new(b.finish())
    }

    /// Asserts two weights are equal up to floating-point rounding.
    pub(crate) fn assert_close(actual: f64, expected: f64) {
        assert!(
            (actual - expected).abs() < 1e-12,
            "expected {expected}, got {actual}"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_case_blank_and_hk_mo() {
        let mut s = CountryScratch::default();
        assert!(s.push(" us", false, 1.0));
        assert!(s.push("HK", false, 1.0));
        assert!(s.push("mo", true, 1.0));
        assert!(!s.push("  ", false, 1.0));
        assert!(s.push("cn", false, 0.5));
        s.merge();
        assert_eq!(s.len(), 3);
        assert_eq!(s.get(0), ("CN", 1.5));
        assert_eq!(s.get(1), ("MO", 1.0));
        assert_eq!(s.get(2), ("US", 1.0));
    }

    #[test]
    fn coercions() {
        let view_list = DataType::List(Arc::new(Field::new_list_field(DataType::Utf8View, true)));
        assert_eq!(coerce_code_list(&view_list), Some(list_of_utf8()));
        assert_eq!(coerce_code_list(&DataType::Null), Some(list_of_utf8()));
        assert_eq!(coerce_code_list(&DataType::Utf8), None);
        let nested = DataType::LargeList(Arc::new(Field::new_list_field(view_list, true)));
        assert_eq!(coerce_code_list_list(&nested), Some(list_of_list_of_utf8()));
        assert_eq!(coerce_code_list_list(&list_of_utf8()), None);
    }
}
