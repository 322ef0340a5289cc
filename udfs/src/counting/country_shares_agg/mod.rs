//! `country_shares_agg(countries, mode [, keep_hk_mo])`: [`country_shares`](super::CountryShares) as
//! an aggregate over one row per author.

use std::sync::{Arc, LazyLock};

use arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::ScalarValue;
use datafusion::error::Result;
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::utils::format_state_name;
use datafusion::logical_expr::{
    Accumulator, AggregateUDFImpl, ColumnarValue, Documentation, GroupsAccumulator, Signature,
    Volatility,
};

use super::country_shares::share_list_type;
use crate::args::{coerce_codes_mode_keep, coerce_string_list, literal_arg};
use crate::doc_sections::DOC_SECTION_COUNTING;

mod groups;

use groups::{Groups, OneGroup};

const NAME: &str = "country_shares_agg";

static DOCUMENTATION: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        DOC_SECTION_COUNTING,
        "`country_shares` as an aggregate: credits a group of authorship rows (one paper's, in \
         `GROUP BY work_id`) to countries, equal to `country_shares(array_agg(countries), mode)` \
         without building the per-paper list of lists. Each row is one author: the countries of \
         that author's affiliations. A NULL or empty row is an author without a known country \
         (its share is dropped); every row counts as an author. The result is the same list of \
         (country, weight) entries, sorted by country, with the dropped share last under a NULL \
         country in `author` mode; a group without rows gives an empty list.",
        "country_shares_agg(countries, mode [, keep_hk_mo])",
    )
    .with_sql_example(
        r#"```sql
> SELECT work_id, country_shares_agg(institution_countries, 'author') AS shares
  FROM authorships GROUP BY work_id;
> SELECT country_shares_agg(c, 'author') FROM (VALUES (['US', 'us']), (['DE', 'HK']), ([])) t(c);
[{country: CN, weight: 0.1666…}, {country: DE, weight: 0.1666…}, {country: US, weight: 0.3333…},
 {country: NULL, weight: 0.3333…}]
```"#,
    )
    .with_argument(
        "countries",
        "List<Utf8>: one author's affiliation countries (ISO 3166-1 alpha-2); NULL entries are \
         affiliations of unknown country.",
    )
    .with_argument("mode", "Constant string: 'full', 'country' or 'author'.")
    .with_argument(
        "keep_hk_mo",
        "Optional constant boolean; true keeps HK and MO apart from CN. Default false.",
    )
    .with_related_udf("country_shares")
    .build()
});

/// `country_shares_agg(countries, mode [, keep_hk_mo])` -> `List<Struct<country, weight>>`: the
/// aggregate form of [`country_shares`](super::CountryShares) for `GROUP BY work_id` over
/// `authorships`. Per group it keeps the number of authors, the dropped share and one
/// (country, weight) pair per country (inline for the first country), so a paper costs a few
/// dozen bytes instead of a list of lists.
///
/// ```
/// # use datafusion::prelude::SessionContext;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> datafusion::error::Result<()> {
/// let ctx = SessionContext::new();
/// bibflow_udfs::register_all(&ctx)?;
/// let sql = "SELECT unnest(country_shares_agg(c, 'author')) AS s \
///            FROM (VALUES (['US', 'DE']), ([])) t(c)";
/// // US 0.25, DE 0.25 and 0.5 dropped (the second author has no affiliation).
/// assert_eq!(ctx.sql(sql).await?.collect().await?[0].num_rows(), 3);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct CountrySharesAgg {
    signature: Signature,
}

impl Default for CountrySharesAgg {
    fn default() -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

impl AggregateUDFImpl for CountrySharesAgg {
    fn name(&self) -> &str {
        NAME
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let usage =
            "expected country_shares_agg(countries List<Utf8>, mode Utf8 [, keep_hk_mo Boolean])";
        coerce_codes_mode_keep(NAME, usage, arg_types, coerce_string_list)
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(share_list_type())
    }

    fn is_nullable(&self) -> bool {
        false
    }

    fn default_value(&self, _data_type: &DataType) -> Result<ScalarValue> {
        ScalarValue::try_from_array(&Groups::empty_list()?, 0)
    }

    fn state_fields(&self, args: StateFieldsArgs<'_>) -> Result<Vec<FieldRef>> {
        Ok(vec![
            Arc::new(Field::new(
                format_state_name(args.name, "authors"),
                DataType::UInt64,
                false,
            )),
            Arc::new(Field::new(
                format_state_name(args.name, "dropped"),
                groups::fixed_type(),
                false,
            )),
            Arc::new(Field::new(
                format_state_name(args.name, "shares"),
                groups::state_list_type(),
                false,
            )),
        ])
    }

    fn accumulator(&self, args: AccumulatorArgs<'_>) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(OneGroup(Groups::new(&args)?)))
    }

    fn groups_accumulator_supported(&self, _args: AccumulatorArgs<'_>) -> bool {
        true
    }

    fn create_groups_accumulator(
        &self,
        args: AccumulatorArgs<'_>,
    ) -> Result<Box<dyn GroupsAccumulator>> {
        Ok(Box::new(Groups::new(&args)?))
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&DOCUMENTATION)
    }
}

/// A constant argument of the aggregate as a scalar value, `None` when it was not given.
fn constant_arg(
    args: &AccumulatorArgs<'_>,
    i: usize,
    argument: &str,
) -> Result<Option<ColumnarValue>> {
    args.exprs
        .get(i)
        .map(|e| literal_arg(NAME, argument, e).map(|v| ColumnarValue::Scalar(v.clone())))
        .transpose()
}

#[cfg(test)]
mod tests {
    use arrow::array::{Array, AsArray};
    use arrow::datatypes::Float64Type;
    use datafusion::prelude::SessionContext;
    use proptest::prelude::*;

    use super::super::country_shares::CountingMode;

    pub(super) type Shares = Vec<(Option<String>, f64)>;

    async fn per_group(ctx: &SessionContext, sql: &str) -> Vec<(i64, Shares)> {
        let batches = ctx.sql(sql).await.expect(sql).collect().await.expect(sql);
        let mut out = Vec::new();
        for b in &batches {
            let ids = b.column(0).as_primitive::<arrow::datatypes::Int64Type>();
            let lists = b.column(1).as_list::<i32>();
            for row in 0..b.num_rows() {
                let entries = lists.value(row);
                let s = entries.as_struct();
                let c = s.column(0).as_string::<i32>();
                let w = s.column(1).as_primitive::<Float64Type>();
                let shares = (0..s.len())
                    .map(|i| ((!c.is_null(i)).then(|| c.value(i).to_string()), w.value(i)))
                    .collect();
                out.push((ids.value(row), shares));
            }
        }
        out.sort_by_key(|r| r.0);
        out
    }

    fn session() -> SessionContext {
        let ctx = SessionContext::new();
        crate::register_all(&ctx).expect("register");
        ctx
    }

    pub(super) fn assert_shares(actual: &Shares, expected: &[(Option<&str>, f64)]) {
        assert_eq!(actual.len(), expected.len(), "{actual:?} vs {expected:?}");
        for ((c, w), (ec, ew)) in actual.iter().zip(expected) {
            assert_eq!(c.as_deref(), *ec, "{actual:?}");
            assert!((w - ew).abs() < 1e-12, "{actual:?} vs {expected:?}");
        }
    }

    /// Paper 1: US+us / DE+HK / no affiliation (the scalar's documented example); paper 2: one
    /// author with a blank and a NULL country next to JP; paper 3: NULL author row only.
    const PAPERS: &str = "(VALUES
        (1, ['US', 'us']), (1, ['DE', 'HK']), (1, []),
        (2, ['JP', ' ', NULL]), (2, ['jp']),
        (3, NULL)) t(work_id, c)";

    #[tokio::test]
    async fn author_mode_worked_by_hand() {
        let got = per_group(
            &session(),
            &format!("SELECT work_id, country_shares_agg(c, 'author') FROM {PAPERS} GROUP BY 1"),
        )
        .await;
        // Paper 1: three authors, 1/3 each; US 1/3, DE 1/6, HK as CN 1/6; 1/3 dropped.
        assert_shares(
            &got[0].1,
            &[
                (Some("CN"), 1.0 / 6.0),
                (Some("DE"), 1.0 / 6.0),
                (Some("US"), 1.0 / 3.0),
                (None, 1.0 / 3.0),
            ],
        );
        // Paper 2: two authors, 1/2 each; the first split in three: JP 1/6 + 1/2, dropped 2/6.
        assert_shares(
            &got[1].1,
            &[(Some("JP"), 1.0 / 6.0 + 0.5), (None, 1.0 / 3.0)],
        );
        // Paper 3: one author without countries: all dropped.
        assert_shares(&got[2].1, &[(None, 1.0)]);
    }

    #[tokio::test]
    async fn country_and_full_modes_and_keep_hk_mo() {
        let ctx = session();
        let country = per_group(
            &ctx,
            &format!("SELECT work_id, country_shares_agg(c, 'country') FROM {PAPERS} GROUP BY 1"),
        )
        .await;
        let third = 1.0 / 3.0;
        assert_shares(
            &country[0].1,
            &[
                (Some("CN"), third),
                (Some("DE"), third),
                (Some("US"), third),
            ],
        );
        assert_shares(&country[1].1, &[(Some("JP"), 1.0)]);
        assert_shares(&country[2].1, &[]);
        let full = per_group(
            &ctx,
            &format!(
                "SELECT work_id, country_shares_agg(c, 'FULL', true) FROM {PAPERS} GROUP BY 1"
            ),
        )
        .await;
        assert_shares(
            &full[0].1,
            &[(Some("DE"), 1.0), (Some("HK"), 1.0), (Some("US"), 1.0)],
        );
    }

    #[tokio::test]
    async fn equals_the_scalar_over_array_agg_in_every_mode() {
        let ctx = session();
        for mode in CountingMode::NAMES {
            let agg = per_group(
                &ctx,
                &format!(
                    "SELECT work_id, country_shares_agg(c, '{mode}') FROM {PAPERS} GROUP BY 1"
                ),
            )
            .await;
            let scalar = per_group(
                &ctx,
                &format!(
                    "SELECT work_id, country_shares(array_agg(c), '{mode}') FROM {PAPERS} GROUP BY 1"
                ),
            )
            .await;
            assert_eq!(agg.len(), scalar.len());
            for (a, s) in agg.iter().zip(&scalar) {
                let expected: Vec<_> = s.1.iter().map(|(c, w)| (c.as_deref(), *w)).collect();
                assert_shares(&a.1, &expected);
            }
        }
    }

    #[tokio::test]
    async fn no_group_by_filter_and_empty_input() {
        let ctx = session();
        let got = per_group(
            &ctx,
            &format!(
                "SELECT 0::BIGINT, country_shares_agg(c, 'author') FILTER (WHERE work_id = 2) FROM {PAPERS}"
            ),
        )
        .await;
        assert_shares(
            &got[0].1,
            &[(Some("JP"), 1.0 / 6.0 + 0.5), (None, 1.0 / 3.0)],
        );
        let empty = per_group(
            &ctx,
            &format!(
                "SELECT 0::BIGINT, country_shares_agg(c, 'author') FROM {PAPERS} WHERE work_id > 9"
            ),
        )
        .await;
        assert_shares(&empty[0].1, &[]);
    }

    #[tokio::test]
    async fn bad_mode_is_a_clear_error() {
        let err = session()
            .sql(&format!(
                "SELECT country_shares_agg(c, 'authors') FROM {PAPERS}"
            ))
            .await
            .expect("plans")
            .collect()
            .await
            .expect_err("bad mode");
        assert!(err.to_string().contains("unknown mode 'authors'"), "{err}");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// On random papers the aggregate equals the scalar over `array_agg`, in every mode.
        #[test]
        fn equals_the_scalar(papers in prop::collection::vec(
            prop::collection::vec(
                prop::option::weighted(0.9, prop::collection::vec(
                    prop::option::weighted(0.85, prop::sample::select(vec!["US", "de", "HK", "CN", " ", "JP", "ABC"])),
                    0..4)),
                1..6),
            1..8)) {
            let mut values = Vec::new();
            for (p, authors) in papers.iter().enumerate() {
                for a in authors {
                    let list = match a {
                        None => "NULL".to_string(),
                        Some(codes) => format!("[{}]", codes.iter().map(|c| match c {
                            None => "NULL::VARCHAR".to_string(),
                            Some(c) => format!("'{c}'"),
                        }).collect::<Vec<_>>().join(", ")),
                    };
                    values.push(format!("({p}, arrow_cast({list}, 'List(Utf8)'))"));
                }
            }
            let table = format!("(VALUES {}) t(work_id, c)", values.join(", "));
            let rt = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
            let ctx = session();
            for mode in CountingMode::NAMES {
                let agg = rt.block_on(per_group(&ctx, &format!(
                    "SELECT work_id::BIGINT, country_shares_agg(c, '{mode}') FROM {table} GROUP BY 1")));
                let scalar = rt.block_on(per_group(&ctx, &format!(
                    "SELECT work_id::BIGINT, country_shares(array_agg(c), '{mode}') FROM {table} GROUP BY 1")));
                prop_assert_eq!(agg.len(), scalar.len());
                for (a, s) in agg.iter().zip(&scalar) {
                    prop_assert_eq!(a.1.len(), s.1.len());
                    for ((ac, aw), (sc, sw)) in a.1.iter().zip(&s.1) {
                        prop_assert_eq!(ac, sc);
                        prop_assert!((aw - sw).abs() < 1e-12);
                    }
                }
            }
        }
    }
}
