//! `collab_type(countries [, keep_hk_mo])`: single-country, international or unknown.

use std::sync::{Arc, LazyLock};

use arrow::array::{Array, StringBuilder};
use arrow::datatypes::DataType;
use datafusion::common::{exec_err, plan_err};
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

use super::country_codes::push_normalized;
use crate::args::{
    as_code_list, coerce_bool_arg, coerce_string_list, constant_keep_hk_mo, from_array, row_range,
    str_at, to_array,
};
use crate::doc_sections::DOC_SECTION_COUNTING;

const NAME: &str = "collab_type";

/// The value for a paper whose known countries are all the same.
pub const SINGLE_COUNTRY: &str = "single-country";
/// The value for a paper with two or more distinct countries.
pub const INTERNATIONAL: &str = "international";
/// The value for a paper without any known country.
pub const UNKNOWN: &str = "unknown";

static DOCUMENTATION: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        DOC_SECTION_COUNTING,
        "The collaboration type of a paper from the country codes of its authorships (duplicates \
         and NULLs allowed): 'single-country' when all known countries are equal, \
         'international' for two or more distinct countries, 'unknown' when no country is known \
         (an empty or NULL list). Codes are compared case-insensitively; HK and MO count as CN \
         unless `keep_hk_mo`.",
        "collab_type(countries [, keep_hk_mo])",
    )
    .with_sql_example(
        r#"```sql
> SELECT work_id, collab_type(flatten(array_agg(countries))) FROM authorships GROUP BY work_id;
> SELECT collab_type(['CN', 'HK', NULL]), collab_type(['US', 'de']), collab_type([]);
single-country | international | unknown
```"#,
    )
    .with_argument("countries", "List<Utf8>: the paper's country codes.")
    .with_argument(
        "keep_hk_mo",
        "Optional constant boolean; true keeps HK and MO apart from CN. Default false.",
    )
    .with_related_udf("country_pairs")
    .build()
});

/// `collab_type(countries [, keep_hk_mo])`: `'single-country'`, `'international'` or
/// `'unknown'` for one paper's list of country codes.
///
/// A NULL list is `'unknown'` too: no country is known.
///
/// ```
/// # use datafusion::prelude::SessionContext;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> datafusion::error::Result<()> {
/// let ctx = SessionContext::new();
/// bibflow_udfs::register_all(&ctx)?;
/// let batches = ctx.sql("SELECT collab_type(['US', NULL, 'us']) AS t").await?.collect().await?;
/// let t = arrow::compute::cast(batches[0].column(0), &arrow::datatypes::DataType::Utf8)?;
/// assert_eq!(arrow::array::AsArray::as_string::<i32>(&t).value(0), "single-country");
/// # Ok(())
/// # }
/// ```
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct CollabType {
    signature: Signature,
}

impl Default for CollabType {
    fn default() -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for CollabType {
    fn name(&self) -> &str {
        NAME
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let usage = "expected collab_type(countries List<Utf8> [, keep_hk_mo Boolean])";
        let (first, rest) = match arg_types {
            [first] => (first, None),
            [first, keep] => (first, Some(keep)),
            _ => return plan_err!("{NAME}: {usage}, got {} arguments", arg_types.len()),
        };
        let Some(list) = coerce_string_list(first) else {
            return plan_err!("{NAME}: {usage}; the first argument is {first}");
        };
        let mut out = vec![list];
        if let Some(t) = rest {
            let Some(keep) = coerce_bool_arg(t) else {
                return plan_err!("{NAME}: {usage}; keep_hk_mo is {t}");
            };
            out.push(keep);
        }
        Ok(out)
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let Some(first) = args.args.first() else {
            return exec_err!("{NAME}: expected 1 or 2 arguments, got none");
        };
        let keep_hk_mo = constant_keep_hk_mo(NAME, args.args.get(1))?;
        let (input, was_scalar) = to_array(first)?;
        let (lists, codes) = as_code_list(NAME, &input)?;

        let mut out = StringBuilder::with_capacity(lists.len(), lists.len() * 14);
        // The first known country of the paper, and the one being compared with it.
        let (mut first_code, mut code) = (String::new(), String::new());
        for row in 0..lists.len() {
            first_code.clear();
            let mut kind = UNKNOWN;
            for i in row_range(lists, row) {
                let Some(raw) = str_at(codes, i) else {
                    continue;
                };
                if kind == UNKNOWN {
                    if push_normalized(&mut first_code, raw, keep_hk_mo) {
                        kind = SINGLE_COUNTRY;
                    }
                    continue;
                }
                code.clear();
                if push_normalized(&mut code, raw, keep_hk_mo) && code != first_code {
                    kind = INTERNATIONAL;
                    break;
                }
            }
            out.append_value(kind);
        }
        from_array(Arc::new(out.finish()), was_scalar)
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&DOCUMENTATION)
    }
}

#[cfg(test)]
mod tests {
    use arrow::array::AsArray;
    use datafusion::common::ScalarValue;

    use super::*;
    use crate::test_util::{code_lists, invoke_array};

    fn kinds(rows: &[Option<Vec<Option<&str>>>], keep: Option<bool>) -> Vec<String> {
        let mut args = vec![ColumnarValue::Array(code_lists(rows))];
        if let Some(k) = keep {
            args.push(ColumnarValue::Scalar(ScalarValue::Boolean(Some(k))));
        }
        let out = invoke_array(&CollabType::default(), args);
        out.as_string::<i32>()
            .iter()
            .map(|v| v.unwrap().to_string())
            .collect()
    }

    #[test]
    fn classifies_papers() {
        let rows = [
            Some(vec![Some("US"), Some("us"), None]),
            Some(vec![Some("US"), Some("DE")]),
            Some(vec![None, None]),
            Some(vec![]),
            None,
            Some(vec![Some("CN"), Some("HK"), Some("mo")]),
            Some(vec![
                None,
                Some(" "),
                Some("FR"),
                None,
                Some("fr "),
                Some("BE"),
            ]),
        ];
        assert_eq!(
            kinds(&rows, None),
            [
                SINGLE_COUNTRY,
                INTERNATIONAL,
                UNKNOWN,
                UNKNOWN,
                UNKNOWN,
                SINGLE_COUNTRY,
                INTERNATIONAL
            ]
        );
        assert_eq!(kinds(&rows[5..6], Some(true)), [INTERNATIONAL]);
    }
}
