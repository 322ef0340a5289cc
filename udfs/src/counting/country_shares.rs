//! `country_shares(author_countries, mode [, keep_hk_mo])`: how one paper is credited to countries.

use std::sync::{Arc, LazyLock};

use arrow::array::builder::NullBufferBuilder;
use arrow::array::{Array, ArrayRef, AsArray, Float64Array, ListArray, StringBuilder, StructArray};
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
    bad_mode, check_mode_at_planning, coerce_codes_mode_keep, coerce_string_list_list,
    constant_keep_hk_mo, constant_mode, from_array, row_range, str_at, to_array,
};
use crate::doc_sections::DOC_SECTION_COUNTING;

const NAME: &str = "country_shares";

/// How a paper is credited to countries (`docs/indicators.md`, "Counting").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CountingMode {
    /// Every distinct country on the paper gets 1.
    Full,
    /// Every distinct country gets 1 / (number of distinct countries).
    Country,
    /// Every author gets 1 / (number of authors), split equally over the author's affiliations.
    Author,
}

impl CountingMode {
    /// The names accepted in SQL, in the order of the variants.
    pub const NAMES: [&'static str; 3] = ["full", "country", "author"];

    /// Parses a mode name (case-insensitive); the error lists the accepted names.
    pub fn parse(mode: Option<&str>) -> std::result::Result<Self, String> {
        match mode.map(str::trim) {
            Some(m) if m.eq_ignore_ascii_case("full") => Ok(Self::Full),
            Some(m) if m.eq_ignore_ascii_case("country") => Ok(Self::Country),
            Some(m) if m.eq_ignore_ascii_case("author") => Ok(Self::Author),
            _ => Err(bad_mode(mode, &Self::NAMES)),
        }
    }
}

/// The fields of one output entry: `country` (NULL for the dropped share) and `weight`.
pub fn share_fields() -> Fields {
    Fields::from(vec![
        Field::new("country", DataType::Utf8, true),
        Field::new("weight", DataType::Float64, false),
    ])
}

/// The return type: `List<Struct<country Utf8, weight Float64>>`.
pub fn share_list_type() -> DataType {
    DataType::List(Arc::new(Field::new_list_field(
        DataType::Struct(share_fields()),
        true,
    )))
}

static DOCUMENTATION: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        DOC_SECTION_COUNTING,
        "Credits one paper to countries. Takes one list per author (in author order) of the \
         countries of that author's affiliations and returns one (country, weight) entry per \
         country, sorted by country. `full`: 1 per distinct country; `country`: 1/k per distinct \
         country; `author`: 1/n per author, split equally over the author's affiliations. Shares \
         of authors or affiliations without a country are dropped; in `author` mode the dropped \
         share is returned as one last entry with a NULL country. Codes are compared \
         case-insensitively and returned upper-case; HK and MO count as CN unless `keep_hk_mo`.",
        "country_shares(author_countries, mode [, keep_hk_mo])",
    )
    .with_sql_example(
        r#"```sql
> SELECT s['country'] AS country, sum(s['weight']) AS p
  FROM (SELECT unnest(country_shares(array_agg(institution_countries ORDER BY author_position),
                                     'author')) AS s
        FROM authorships GROUP BY work_id)
  GROUP BY 1;
> SELECT country_shares([['US', 'us'], ['DE', 'HK'], []], 'author');
[{country: CN, weight: 0.1666…}, {country: DE, weight: 0.1666…}, {country: US, weight: 0.3333…},
 {country: NULL, weight: 0.3333…}]
```"#,
    )
    .with_argument(
        "author_countries",
        "List<List<Utf8>>: per author, the country (ISO 3166-1 alpha-2) of each affiliation; \
         NULL = an affiliation of unknown country, an empty list = an author without affiliation.",
    )
    .with_argument("mode", "Constant string: 'full', 'country' or 'author'.")
    .with_argument(
        "keep_hk_mo",
        "Optional constant boolean; true keeps HK and MO apart from CN. Default false.",
    )
    .with_related_udf("country_pairs")
    .with_related_udf("collab_type")
    .build()
});

/// `country_shares(author_countries, mode [, keep_hk_mo])`: credits one paper to countries.
///
/// The result is `List<Struct<country Utf8, weight Float64>>`, sorted by country with the dropped
/// share (`author` mode only, when there is one) last, under a NULL country. A NULL
/// `author_countries` gives NULL; a paper with no authors gives an empty list.
///
/// ```
/// # use datafusion::prelude::SessionContext;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> datafusion::error::Result<()> {
/// let ctx = SessionContext::new();
/// ctx.register_udf(bibflow_udfs::counting::CountryShares::default().into());
/// let df = ctx
///     .sql("SELECT unnest(country_shares([['US', 'DE'], []], 'author')) AS s")
///     .await?;
/// // US 0.25, DE 0.25 and 0.5 dropped (the second author has no affiliation).
/// assert_eq!(df.collect().await?[0].num_rows(), 3);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct CountryShares {
    signature: Signature,
}

impl Default for CountryShares {
    fn default() -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for CountryShares {
    fn name(&self) -> &str {
        NAME
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let usage = "expected country_shares(author_countries List<List<Utf8>>, mode Utf8 [, keep_hk_mo Boolean])";
        coerce_codes_mode_keep(NAME, usage, arg_types, coerce_string_list_list)
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(share_list_type())
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs<'_>) -> Result<FieldRef> {
        check_mode_at_planning(
            NAME,
            args.scalar_arguments.get(1).copied().flatten(),
            CountingMode::parse,
        )?;
        Ok(Arc::new(Field::new(NAME, share_list_type(), true)))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        if !(2..=3).contains(&args.args.len()) {
            return exec_err!("{NAME}: expected 2 or 3 arguments, got {}", args.args.len());
        }
        let mode = constant_mode(NAME, &args.args[1], CountingMode::parse)?;
        let keep_hk_mo = constant_keep_hk_mo(NAME, args.args.get(2))?;
        let (input, was_scalar) = to_array(&args.args[0])?;
        let result = country_shares(&input, mode, keep_hk_mo)?;
        from_array(result, was_scalar)
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&DOCUMENTATION)
    }
}

/// Builds a `List<Struct<country, weight>>` array row by row (also for `country_shares_agg`).
pub(super) struct SharesBuilder {
    offsets: Vec<i32>,
    countries: StringBuilder,
    weights: Vec<f64>,
    validity: NullBufferBuilder,
}

impl SharesBuilder {
    pub(super) fn new(rows: usize) -> Self {
        let mut offsets = Vec::with_capacity(rows + 1);
        offsets.push(0);
        Self {
            offsets,
            countries: StringBuilder::with_capacity(rows * 2, rows * 4),
            weights: Vec::with_capacity(rows * 2),
            validity: NullBufferBuilder::new(rows),
        }
    }

    pub(super) fn push(&mut self, country: Option<&str>, weight: f64) {
        self.countries.append_option(country);
        self.weights.push(weight);
    }

    pub(super) fn end_row(&mut self, valid: bool) -> Result<()> {
        let Ok(end) = i32::try_from(self.weights.len()) else {
            return exec_err!("{NAME}: more than 2^31 entries in one batch; use smaller batches");
        };
        self.offsets.push(end);
        self.validity.append(valid);
        Ok(())
    }

    pub(super) fn finish(mut self) -> Result<ArrayRef> {
        let values = StructArray::try_new(
            share_fields(),
            vec![
                Arc::new(self.countries.finish()),
                Arc::new(Float64Array::from(self.weights)),
            ],
            None,
        )?;
        let DataType::List(item) = share_list_type() else {
            unreachable!("share_list_type is a list")
        };
        Ok(Arc::new(ListArray::try_new(
            item,
            OffsetBuffer::new(ScalarBuffer::from(self.offsets)),
            Arc::new(values),
            self.validity.finish(),
        )?))
    }
}

/// Computes the shares of every row of a coerced `List<List<Utf8>>` array.
fn country_shares(input: &ArrayRef, mode: CountingMode, keep_hk_mo: bool) -> Result<ArrayRef> {
    let Some(papers) = input.as_list_opt::<i32>() else {
        return exec_err!(
            "{NAME}: expected List<List<Utf8>>, got {}",
            input.data_type()
        );
    };
    let Some(authors) = papers.values().as_list_opt::<i32>() else {
        return exec_err!(
            "{NAME}: expected List<List<Utf8>>, got {}",
            input.data_type()
        );
    };
    let Some(codes) = authors.values().as_string_opt::<i32>() else {
        return exec_err!(
            "{NAME}: expected List<List<Utf8>>, got {}",
            input.data_type()
        );
    };

    let mut out = SharesBuilder::new(papers.len());
    let mut scratch = CountryScratch::default();
    for row in 0..papers.len() {
        if papers.is_null(row) {
            out.end_row(false)?;
            continue;
        }
        scratch.clear();
        let author_range = row_range(papers, row);
        let n_authors = author_range.len();
        let mut dropped = 0.0;
        for author in author_range {
            let affiliations = row_range(authors, author);
            let author_share = 1.0 / n_authors as f64;
            if affiliations.is_empty() {
                dropped += author_share;
                continue;
            }
            let affiliation_share = author_share / affiliations.len() as f64;
            for i in affiliations {
                let known = str_at(codes, i)
                    .is_some_and(|code| scratch.push(code, keep_hk_mo, affiliation_share));
                if !known {
                    dropped += affiliation_share;
                }
            }
        }
        scratch.merge();
        match mode {
            CountingMode::Full => scratch.set_all_weights(1.0),
            CountingMode::Country => scratch.set_all_weights(1.0 / scratch.len() as f64),
            CountingMode::Author => {}
        }
        for i in 0..scratch.len() {
            let (country, weight) = scratch.get(i);
            out.push(Some(country), weight);
        }
        if mode == CountingMode::Author && dropped > 0.0 {
            out.push(None, dropped);
        }
        out.end_row(true)?;
    }
    out.finish()
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use arrow::array::{Array, AsArray};
    use arrow::datatypes::Float64Type;
    use datafusion::common::ScalarValue;
    use datafusion::logical_expr::ColumnarValue;
    use datafusion::prelude::SessionContext;
    use proptest::prelude::*;

    use super::*;
    use crate::test_util::{Paper, assert_close, author_code_lists, invoke, invoke_array};

    type Shares = Option<Vec<(Option<String>, f64)>>;

    fn shares(rows: &[Paper<'_>], mode: &str, keep: Option<bool>) -> Vec<Shares> {
        let mut args = vec![
            ColumnarValue::Array(author_code_lists(rows)),
            ColumnarValue::Scalar(ScalarValue::from(mode)),
        ];
        if let Some(k) = keep {
            args.push(ColumnarValue::Scalar(ScalarValue::Boolean(Some(k))));
        }
        let out = invoke_array(&CountryShares::default(), args);
        decode(&out)
    }

    fn decode(out: &ArrayRef) -> Vec<Shares> {
        let list = out.as_list::<i32>();
        (0..list.len())
            .map(|r| {
                if list.is_null(r) {
                    return None;
                }
                let v = list.value(r);
                let s = v.as_struct();
                let c = s.column(0).as_string::<i32>();
                let w = s.column(1).as_primitive::<Float64Type>();
                Some(
                    (0..s.len())
                        .map(|i| {
                            let country = (!c.is_null(i)).then(|| c.value(i).to_string());
                            (country, w.value(i))
                        })
                        .collect(),
                )
            })
            .collect()
    }

    fn assert_shares(actual: &Shares, expected: &[(Option<&str>, f64)]) {
        let actual = actual.as_ref().expect("non-NULL row");
        assert_eq!(actual.len(), expected.len(), "{actual:?} vs {expected:?}");
        for ((ac, aw), (ec, ew)) in actual.iter().zip(expected) {
            assert_eq!(ac.as_deref(), *ec, "{actual:?} vs {expected:?}");
            assert_close(*aw, *ew);
        }
    }

    /// Paper 1: author A at US and DE, author B at US, author C at HK.
    fn paper1() -> Paper<'static> {
        Some(vec![
            Some(vec![Some("US"), Some("DE")]),
            Some(vec![Some("us")]),
            Some(vec![Some("HK")]),
        ])
    }

    #[test]
    fn full_counting() {
        let out = shares(&[paper1()], "full", None);
        assert_shares(
            &out[0],
            &[(Some("CN"), 1.0), (Some("DE"), 1.0), (Some("US"), 1.0)],
        );
    }

    #[test]
    fn fractional_by_country() {
        let out = shares(&[paper1()], "country", None);
        let third = 1.0 / 3.0;
        assert_shares(
            &out[0],
            &[
                (Some("CN"), third),
                (Some("DE"), third),
                (Some("US"), third),
            ],
        );
    }

    #[test]
    fn author_level_fractional() {
        // 3 authors: A's 1/3 splits 1/6 US + 1/6 DE; B's 1/3 to US; C's 1/3 to HK -> CN.
        let out = shares(&[paper1()], "author", None);
        assert_shares(
            &out[0],
            &[
                (Some("CN"), 1.0 / 3.0),
                (Some("DE"), 1.0 / 6.0),
                (Some("US"), 0.5),
            ],
        );
    }

    #[test]
    fn keep_hk_mo_keeps_them_apart() {
        let paper = Some(vec![
            Some(vec![Some("hk")]),
            Some(vec![Some("MO"), Some("CN")]),
        ]);
        let out = shares(std::slice::from_ref(&paper), "author", Some(true));
        assert_shares(
            &out[0],
            &[(Some("CN"), 0.25), (Some("HK"), 0.5), (Some("MO"), 0.25)],
        );
        let out = shares(&[paper], "author", Some(false));
        assert_shares(&out[0], &[(Some("CN"), 1.0)]);
    }

    #[test]
    fn dropped_shares_in_author_mode() {
        // 4 authors: A at FR; B without affiliation; C at an unknown-country institution and at
        // GB; D NULL (treated as no affiliation). Dropped: 1/4 + 1/8 + 1/4 = 5/8.
        let paper = Some(vec![
            Some(vec![Some("FR")]),
            Some(vec![]),
            Some(vec![None, Some("GB")]),
            None,
        ]);
        let out = shares(std::slice::from_ref(&paper), "author", None);
        assert_shares(
            &out[0],
            &[(Some("FR"), 0.25), (Some("GB"), 0.125), (None, 0.625)],
        );
        // Other modes drop the unknowns silently.
        let out = shares(std::slice::from_ref(&paper), "country", None);
        assert_shares(&out[0], &[(Some("FR"), 0.5), (Some("GB"), 0.5)]);
        let out = shares(&[paper], "full", None);
        assert_shares(&out[0], &[(Some("FR"), 1.0), (Some("GB"), 1.0)]);
    }

    #[test]
    fn papers_without_countries() {
        let rows = [
            Some(vec![]),                                           // no authors
            Some(vec![Some(vec![]), Some(vec![None, Some("  ")])]), // authors, no known country
            None,                                                   // NULL paper
        ];
        let out = shares(&rows, "author", None);
        assert_shares(&out[0], &[]);
        assert_shares(&out[1], &[(None, 1.0)]);
        assert_eq!(out[2], None);
        let out = shares(&rows, "country", None);
        assert_shares(&out[0], &[]);
        assert_shares(&out[1], &[]);
        assert_eq!(out[2], None);
        let out = shares(&rows, "full", None);
        assert_shares(&out[1], &[]);
    }

    #[test]
    fn one_author_two_countries_in_author_mode() {
        let paper = Some(vec![Some(vec![Some("JP"), Some("KR")])]);
        let out = shares(&[paper], "author", None);
        assert_shares(&out[0], &[(Some("JP"), 0.5), (Some("KR"), 0.5)]);
    }

    #[test]
    fn rows_are_independent() {
        let rows = [paper1(), Some(vec![Some(vec![Some("BR")])]), None, paper1()];
        let out = shares(&rows, "author", None);
        assert_shares(&out[1], &[(Some("BR"), 1.0)]);
        assert_eq!(out[2], None);
        assert_eq!(out[0], out[3]);
    }

    #[test]
    fn scalar_input_gives_scalar() {
        let input = author_code_lists(&[paper1()]);
        let scalar = ScalarValue::try_from_array(&input, 0).unwrap();
        let out = invoke(
            &CountryShares::default(),
            vec![
                ColumnarValue::Scalar(scalar),
                ColumnarValue::Scalar(ScalarValue::from("full")),
            ],
        )
        .unwrap();
        let ColumnarValue::Scalar(s) = out else {
            panic!("expected a scalar")
        };
        assert_eq!(decode(&s.to_array().unwrap())[0].as_ref().unwrap().len(), 3);
    }

    #[test]
    fn bad_mode_is_an_error_listing_the_modes() {
        let err = invoke(
            &CountryShares::default(),
            vec![
                ColumnarValue::Array(author_code_lists(&[paper1()])),
                ColumnarValue::Scalar(ScalarValue::from("fractional")),
            ],
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("'full', 'country', 'author'"), "{err}");
        assert!(err.contains("fractional"), "{err}");
    }

    #[test]
    fn mode_must_be_constant() {
        let modes: ArrayRef = Arc::new(arrow::array::StringArray::from(vec!["full"]));
        let err = invoke(
            &CountryShares::default(),
            vec![
                ColumnarValue::Array(author_code_lists(&[paper1()])),
                ColumnarValue::Array(modes),
            ],
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("constant"), "{err}");
    }

    async fn sql_rows(ctx: &SessionContext, sql: &str) -> Result<Vec<(Option<String>, f64)>> {
        let batches = ctx.sql(sql).await?.collect().await?;
        let mut rows = Vec::new();
        for b in batches {
            let c = arrow::compute::cast(b.column(0), &DataType::Utf8)?;
            let c = c.as_string::<i32>();
            let w = b.column(1).as_primitive::<Float64Type>();
            for i in 0..b.num_rows() {
                rows.push(((!c.is_null(i)).then(|| c.value(i).to_string()), w.value(i)));
            }
        }
        Ok(rows)
    }

    /// The documented SQL pattern: aggregate the author rows of each work in author order, unnest
    /// the shares, and sum per country.
    #[tokio::test]
    async fn documented_sql_pattern_works() -> Result<()> {
        let ctx = SessionContext::new();
        crate::register_all(&ctx)?;
        ctx.sql(
            "CREATE TABLE authorships (work_id BIGINT, author_position INT, \
             institution_countries VARCHAR[]) AS VALUES \
             (1, 1, ['US']), (1, 0, ['US', 'DE']), (1, 2, ['HK']), \
             (2, 0, ['FR']), (2, 1, []), \
             (3, 0, [])",
        )
        .await?
        .collect()
        .await?;
        let sql = "SELECT s['country'], sum(s['weight']) FROM (\
                   SELECT unnest(country_shares(array_agg(institution_countries ORDER BY author_position), 'author')) AS s \
                   FROM authorships GROUP BY work_id) GROUP BY 1 ORDER BY 1 NULLS LAST";
        let rows = sql_rows(&ctx, sql).await?;
        // Work 1: US 1/2, DE 1/6, CN 1/3. Work 2: FR 1/2, dropped 1/2. Work 3: dropped 1.
        let expected: HashMap<Option<&str>, f64> = [
            (Some("CN"), 1.0 / 3.0),
            (Some("DE"), 1.0 / 6.0),
            (Some("FR"), 0.5),
            (Some("US"), 0.5),
            (None, 1.5),
        ]
        .into_iter()
        .collect();
        assert_eq!(rows.len(), expected.len(), "{rows:?}");
        for (c, w) in &rows {
            assert_close(*w, expected[&c.as_deref()]);
        }
        Ok(())
    }

    #[tokio::test]
    async fn bad_mode_fails_at_planning() {
        let ctx = SessionContext::new();
        crate::register_all(&ctx).unwrap();
        let err = ctx
            .sql("SELECT country_shares([['US']], 'fractional')")
            .await
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("expected one of 'full', 'country', 'author'"),
            "{err}"
        );
    }

    fn arb_paper() -> impl Strategy<Value = Vec<Vec<Option<String>>>> {
        let code = prop_oneof![
            Just("US"),
            Just("us"),
            Just("DE"),
            Just("CN"),
            Just("HK"),
            Just("MO"),
            Just("BR"),
            Just("ZA"),
        ]
        .prop_map(str::to_string);
        prop::collection::vec(
            prop::collection::vec(prop::option::weighted(0.9, code), 0..4),
            0..8,
        )
    }

    fn run(paper: &[Vec<Option<String>>], mode: &str) -> Vec<(Option<String>, f64)> {
        let row: Paper<'_> = Some(
            paper
                .iter()
                .map(|a| Some(a.iter().map(|c| c.as_deref()).collect()))
                .collect(),
        );
        shares(&[row], mode, None).remove(0).unwrap()
    }

    proptest! {
        #[test]
        fn fractional_weights_sum_to_one_when_every_author_has_a_country(
            paper in arb_paper()
        ) {
            let all_known = !paper.is_empty()
                && paper.iter().all(|a| !a.is_empty() && a.iter().all(Option::is_some));
            for mode in ["country", "author"] {
                let out = run(&paper, mode);
                let known: f64 = out.iter().filter(|(c, _)| c.is_some()).map(|(_, w)| w).sum();
                let total: f64 = out.iter().map(|(_, w)| w).sum();
                if all_known {
                    prop_assert!((known - 1.0).abs() < 1e-9, "{mode}: {out:?}");
                }
                if mode == "author" && !paper.is_empty() {
                    // Known plus dropped is always the whole paper.
                    prop_assert!((total - 1.0).abs() < 1e-9, "{out:?}");
                }
                prop_assert!(known <= 1.0 + 1e-9);
            }
        }

        #[test]
        fn modes_agree_on_the_countries(paper in arb_paper()) {
            let full = run(&paper, "full");
            let country = run(&paper, "country");
            let author = run(&paper, "author");
            let k = full.len();
            // Full: 1 per distinct country, so it sums to k.
            prop_assert!(full.iter().all(|(c, w)| c.is_some() && *w == 1.0));
            // Country: the same countries, each 1/k.
            prop_assert_eq!(country.len(), k);
            for ((fc, _), (cc, cw)) in full.iter().zip(&country) {
                prop_assert_eq!(fc, cc);
                prop_assert!((cw - 1.0 / k as f64).abs() < 1e-12);
            }
            // Author: the same countries, each with a positive weight, then at most the dropped
            // share; no country credited more than fully.
            let known: Vec<_> = author.iter().filter(|(c, _)| c.is_some()).collect();
            prop_assert_eq!(known.len(), k);
            for ((fc, _), (ac, aw)) in full.iter().zip(&known) {
                prop_assert_eq!(fc, ac);
                prop_assert!(*aw > 0.0 && *aw <= 1.0 + 1e-12);
            }
            prop_assert!(author.len() <= k + 1);
            // Sorted by country, NULL last.
            let names: Vec<_> = full.iter().map(|(c, _)| c.clone().unwrap()).collect();
            let mut sorted = names.clone();
            sorted.sort();
            prop_assert_eq!(names, sorted);
        }
    }
}
