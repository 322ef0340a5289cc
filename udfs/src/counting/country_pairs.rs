//! `country_pairs(countries, mode [, keep_hk_mo])`: the country-pair links of one paper.

use std::sync::{Arc, LazyLock};

use arrow::array::builder::NullBufferBuilder;
use arrow::array::{Array, ArrayRef, Float64Array, ListArray, StringBuilder, StructArray};
use arrow::buffer::{OffsetBuffer, ScalarBuffer};
use arrow::datatypes::{DataType, Field, FieldRef, Fields};
use datafusion::common::exec_err;
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDFImpl, Signature,
    Volatility,
};

use super::country_codes::CountryScratch;
use crate::args::{
    as_code_list, bad_mode, check_mode_at_planning, coerce_codes_mode_keep, coerce_string_list,
    constant_keep_hk_mo, constant_mode, from_array, row_range, str_at, to_array,
};
use crate::doc_sections::DOC_SECTION_COUNTING;

const NAME: &str = "country_pairs";

/// How a pair of countries on one paper is weighted (`docs/indicators.md`, "Collaboration").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PairMode {
    /// Every pair gets 1.
    Full,
    /// Every pair gets 1 / (k - 1), so a country's links sum to its fractional count.
    Fractional,
}

impl PairMode {
    /// The names accepted in SQL, in the order of the variants.
    pub const NAMES: [&'static str; 2] = ["full", "fractional"];

    /// Parses a mode name (case-insensitive); the error lists the accepted names.
    pub fn parse(mode: Option<&str>) -> std::result::Result<Self, String> {
        match mode.map(str::trim) {
            Some(m) if m.eq_ignore_ascii_case("full") => Ok(Self::Full),
            Some(m) if m.eq_ignore_ascii_case("fractional") => Ok(Self::Fractional),
            _ => Err(bad_mode(mode, &Self::NAMES)),
        }
    }
}

/// The fields of one output entry: the pair `a < b` and its `weight`.
pub fn pair_fields() -> Fields {
    Fields::from(vec![
        Field::new("a", DataType::Utf8, false),
        Field::new("b", DataType::Utf8, false),
        Field::new("weight", DataType::Float64, false),
    ])
}

/// The return type: `List<Struct<a Utf8, b Utf8, weight Float64>>`.
pub fn pair_list_type() -> DataType {
    DataType::List(Arc::new(Field::new_list_field(
        DataType::Struct(pair_fields()),
        true,
    )))
}

static DOCUMENTATION: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        DOC_SECTION_COUNTING,
        "Every unordered pair of distinct countries of one paper, as (a, b, weight) with a < b, \
         sorted. With k distinct countries, `full` gives each pair 1 and `fractional` 1/(k - 1), \
         so that the k - 1 links of each country of the paper sum to 1, as in VOSviewer's \
         fractional counting. Papers with fewer than two countries give an empty list. \
         Codes are compared case-insensitively and returned upper-case; HK and MO count as CN \
         unless `keep_hk_mo`.",
        "country_pairs(countries, mode [, keep_hk_mo])",
    )
    .with_sql_example(
        r#"```sql
> SELECT p['a'] AS a, p['b'] AS b, sum(p['weight']) AS links
  FROM (SELECT unnest(country_pairs(flatten(array_agg(countries)), 'fractional')) AS p
        FROM authorships GROUP BY work_id)
  GROUP BY 1, 2;
```"#,
    )
    .with_argument(
        "countries",
        "List<Utf8>: the paper's country codes (duplicates, NULLs allowed).",
    )
    .with_argument("mode", "Constant string: 'full' or 'fractional'.")
    .with_argument(
        "keep_hk_mo",
        "Optional constant boolean; true keeps HK and MO apart from CN. Default false.",
    )
    .with_related_udf("country_shares")
    .with_related_udf("collab_type")
    .build()
});

/// `country_pairs(countries, mode [, keep_hk_mo])`: the country-pair links of one paper.
///
/// Returns `List<Struct<a Utf8, b Utf8, weight Float64>>`, one entry per unordered pair of
/// distinct countries with `a < b`, sorted; NULL for a NULL list.
///
/// ```
/// # use datafusion::prelude::SessionContext;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> datafusion::error::Result<()> {
/// let ctx = SessionContext::new();
/// bibflow_udfs::register_all(&ctx)?;
/// let sql = "SELECT unnest(country_pairs(['US', 'DE', 'CN', 'US'], 'fractional')) AS p";
/// // CN-DE, CN-US, DE-US, each 1/2.
/// assert_eq!(ctx.sql(sql).await?.count().await?, 3);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct CountryPairs {
    signature: Signature,
}

impl Default for CountryPairs {
    fn default() -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for CountryPairs {
    fn name(&self) -> &str {
        NAME
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let usage =
            "expected country_pairs(countries List<Utf8>, mode Utf8 [, keep_hk_mo Boolean])";
        coerce_codes_mode_keep(NAME, usage, arg_types, coerce_string_list)
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(pair_list_type())
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs<'_>) -> Result<FieldRef> {
        check_mode_at_planning(
            NAME,
            args.scalar_arguments.get(1).copied().flatten(),
            PairMode::parse,
        )?;
        Ok(Arc::new(Field::new(NAME, pair_list_type(), true)))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        if !(2..=3).contains(&args.args.len()) {
            return exec_err!("{NAME}: expected 2 or 3 arguments, got {}", args.args.len());
        }
        let mode = constant_mode(NAME, &args.args[1], PairMode::parse)?;
        let keep_hk_mo = constant_keep_hk_mo(NAME, args.args.get(2))?;
        let (input, was_scalar) = to_array(&args.args[0])?;
        let result = country_pairs(&input, mode, keep_hk_mo)?;
        from_array(result, was_scalar)
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&DOCUMENTATION)
    }
}

fn country_pairs(input: &ArrayRef, mode: PairMode, keep_hk_mo: bool) -> Result<ArrayRef> {
    let (lists, codes) = as_code_list(NAME, input)?;
    let rows = lists.len();
    let mut offsets = Vec::with_capacity(rows + 1);
    offsets.push(0i32);
    let mut a = StringBuilder::with_capacity(rows, rows * 2);
    let mut b = StringBuilder::with_capacity(rows, rows * 2);
    let mut weights = Vec::with_capacity(rows);
    let mut validity = NullBufferBuilder::new(rows);
    let mut scratch = CountryScratch::default();

    for row in 0..rows {
        if lists.is_null(row) {
            offsets.push(offsets[row]);
            validity.append_null();
            continue;
        }
        scratch.clear();
        for i in row_range(lists, row) {
            if let Some(code) = str_at(codes, i) {
                scratch.push(code, keep_hk_mo, 0.0);
            }
        }
        scratch.merge();
        let k = scratch.len();
        let weight = match mode {
            PairMode::Full => 1.0,
            PairMode::Fractional => 1.0 / (k as f64 - 1.0),
        };
        for i in 0..k {
            for j in i + 1..k {
                a.append_value(scratch.get(i).0);
                b.append_value(scratch.get(j).0);
                weights.push(weight);
            }
        }
        let Ok(end) = i32::try_from(weights.len()) else {
            return exec_err!("{NAME}: more than 2^31 pairs in one batch; use smaller batches");
        };
        offsets.push(end);
        validity.append_non_null();
    }

    let values = StructArray::try_new(
        pair_fields(),
        vec![
            Arc::new(a.finish()),
            Arc::new(b.finish()),
            Arc::new(Float64Array::from(weights)),
        ],
        None,
    )?;
    let DataType::List(item) = pair_list_type() else {
        unreachable!("pair_list_type is a list")
    };
    Ok(Arc::new(ListArray::try_new(
        item,
        OffsetBuffer::new(ScalarBuffer::from(offsets)),
        Arc::new(values),
        validity.finish(),
    )?))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use arrow::array::AsArray;
    use arrow::datatypes::Float64Type;
    use datafusion::common::ScalarValue;
    use proptest::prelude::*;

    use super::*;
    use crate::counting::country_shares::CountryShares;
    use crate::test_util::{assert_close, code_lists, invoke, invoke_array};

    type Pairs = Option<Vec<(String, String, f64)>>;

    fn pairs(rows: &[Option<Vec<Option<&str>>>], mode: &str, keep: Option<bool>) -> Vec<Pairs> {
        let mut args = vec![
            ColumnarValue::Array(code_lists(rows)),
            ColumnarValue::Scalar(ScalarValue::from(mode)),
        ];
        if let Some(k) = keep {
            args.push(ColumnarValue::Scalar(ScalarValue::Boolean(Some(k))));
        }
        let out = invoke_array(&CountryPairs::default(), args);
        let list = out.as_list::<i32>();
        (0..list.len())
            .map(|r| {
                if list.is_null(r) {
                    return None;
                }
                let v = list.value(r);
                let s = v.as_struct();
                let a = s.column(0).as_string::<i32>();
                let b = s.column(1).as_string::<i32>();
                let w = s.column(2).as_primitive::<Float64Type>();
                Some(
                    (0..s.len())
                        .map(|i| (a.value(i).to_string(), b.value(i).to_string(), w.value(i)))
                        .collect(),
                )
            })
            .collect()
    }

    fn names(p: &Pairs) -> Vec<(&str, &str)> {
        p.as_ref()
            .unwrap()
            .iter()
            .map(|(a, b, _)| (a.as_str(), b.as_str()))
            .collect()
    }

    #[test]
    fn three_countries() {
        let rows = [Some(vec![
            Some("us"),
            Some("DE"),
            None,
            Some("HK"),
            Some("US"),
        ])];
        let full = pairs(&rows, "full", None);
        assert_eq!(names(&full[0]), [("CN", "DE"), ("CN", "US"), ("DE", "US")]);
        assert!(full[0].as_ref().unwrap().iter().all(|p| p.2 == 1.0));
        let frac = pairs(&rows, "fractional", None);
        assert_eq!(names(&frac[0]), names(&full[0]));
        for p in frac[0].as_ref().unwrap() {
            assert_close(p.2, 0.5);
        }
    }

    #[test]
    fn fewer_than_two_countries_and_nulls() {
        let rows = [
            Some(vec![Some("US"), Some("us")]),
            Some(vec![]),
            Some(vec![None]),
            None,
            Some(vec![Some("CN"), Some("MO")]),
        ];
        let out = pairs(&rows, "fractional", None);
        assert_eq!(out[0], Some(vec![]));
        assert_eq!(out[1], Some(vec![]));
        assert_eq!(out[2], Some(vec![]));
        assert_eq!(out[3], None);
        assert_eq!(out[4], Some(vec![]));
        let kept = pairs(&rows[4..], "fractional", Some(true));
        assert_eq!(kept[0], Some(vec![("CN".into(), "MO".into(), 1.0)]));
    }

    #[test]
    fn bad_mode() {
        let err = invoke(
            &CountryPairs::default(),
            vec![
                ColumnarValue::Array(code_lists(&[Some(vec![Some("US")])])),
                ColumnarValue::Scalar(ScalarValue::from("author")),
            ],
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("expected one of 'full', 'fractional'"),
            "{err}"
        );
    }

    fn arb_codes() -> impl Strategy<Value = Vec<Option<String>>> {
        let code = prop_oneof![
            Just("US"),
            Just("DE"),
            Just("de"),
            Just("CN"),
            Just("HK"),
            Just("BR"),
            Just("ZA"),
            Just("IN"),
        ]
        .prop_map(str::to_string);
        prop::collection::vec(prop::option::weighted(0.9, code), 0..12)
    }

    proptest! {
        #[test]
        fn a_countrys_fractional_links_sum_to_one(codes in arb_codes()) {
            let row: Vec<Option<&str>> = codes.iter().map(|c| c.as_deref()).collect();
            let out = pairs(&[Some(row.clone())], "fractional", None).remove(0).unwrap();
            let mut per_country: BTreeMap<String, f64> = BTreeMap::new();
            for (a, b, w) in &out {
                prop_assert!(a < b);
                *per_country.entry(a.clone()).or_default() += w;
                *per_country.entry(b.clone()).or_default() += w;
            }
            // The distinct countries, as country_shares sees them with one author per code.
            let as_authors = crate::test_util::author_code_lists(&[Some(
                row.iter().map(|c| Some(vec![*c])).collect(),
            )]);
            let shares = invoke_array(
                &CountryShares::default(),
                vec![
                    ColumnarValue::Array(as_authors),
                    ColumnarValue::Scalar(ScalarValue::from("country")),
                ],
            );
            let k = shares.as_list::<i32>().value(0).len();
            prop_assert_eq!(out.len(), k * k.saturating_sub(1) / 2);
            if k >= 2 {
                prop_assert_eq!(per_country.len(), k);
                for w in per_country.values() {
                    // Each country's k - 1 links on the paper sum to 1 (VOSviewer).
                    prop_assert!((w - 1.0).abs() < 1e-9, "{out:?}");
                }
            } else {
                prop_assert!(out.is_empty());
            }
        }
    }
}
