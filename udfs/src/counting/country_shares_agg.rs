//! `country_shares_agg(countries, mode [, keep_hk_mo])`: [`country_shares`](super::CountryShares) as
//! an aggregate over one row per author.

use std::collections::HashMap;
use std::mem::size_of;
use std::sync::{Arc, LazyLock};

use arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Float64Array, StringArray, UInt64Array,
};
use arrow::datatypes::{DataType, Field, FieldRef, Float64Type, UInt64Type};
use datafusion::common::{ScalarValue, exec_err};
use datafusion::error::Result;
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::utils::format_state_name;
use datafusion::logical_expr::{
    Accumulator, AggregateUDFImpl, ColumnarValue, Documentation, EmitTo, GroupsAccumulator,
    Signature, Volatility,
};

use super::country_codes::push_normalized;
use super::country_shares::{CountingMode, SharesBuilder, share_list_type};
use crate::args::{
    coerce_codes_mode_keep, coerce_string_list, constant_keep_hk_mo, constant_mode, literal_arg,
    row_range, str_at,
};
use crate::doc_sections::DOC_SECTION_COUNTING;

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
                DataType::Float64,
                false,
            )),
            Arc::new(Field::new(
                format_state_name(args.name, "shares"),
                share_list_type(),
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

/// Country codes as small integers: two-letter codes through a direct table, others by hash.
#[derive(Debug)]
struct Interner {
    /// `id + 1` for the packed two bytes of a code, 0 when not seen yet.
    two_letter: Vec<u32>,
    other: HashMap<String, u32>,
    names: Vec<String>,
}

impl Default for Interner {
    fn default() -> Self {
        Self {
            two_letter: vec![0; 1 << 16],
            other: HashMap::new(),
            names: Vec::new(),
        }
    }
}

impl Interner {
    /// The id of a normalised code.
    fn id(&mut self, code: &str) -> u32 {
        let next = self.names.len() as u32;
        if let [a, b] = code.as_bytes() {
            let slot = &mut self.two_letter[(usize::from(*a) << 8) | usize::from(*b)];
            if *slot == 0 {
                *slot = next + 1;
                self.names.push(code.to_owned());
            }
            return *slot - 1;
        }
        if let Some(&id) = self.other.get(code) {
            return id;
        }
        self.other.insert(code.to_owned(), next);
        self.names.push(code.to_owned());
        next
    }

    /// Each id's position in the alphabetical order of the codes.
    fn ranks(&self) -> Vec<u32> {
        let mut order: Vec<u32> = (0..self.names.len() as u32).collect();
        order.sort_unstable_by(|&a, &b| self.names[a as usize].cmp(&self.names[b as usize]));
        let mut rank = vec![0; order.len()];
        for (r, &id) in order.iter().enumerate() {
            rank[id as usize] = r as u32;
        }
        rank
    }
}

/// No country in an inline slot.
const NONE: u32 = u32::MAX;

/// One group's state: weights are unscaled (1 per author, split over the author's affiliations);
/// `author` mode divides them by the number of authors at the end.
#[derive(Debug, Clone)]
struct GroupState {
    authors: u64,
    dropped: f64,
    first: u32,
    first_weight: f64,
    rest: Vec<(u32, f64)>,
}

impl Default for GroupState {
    fn default() -> Self {
        Self {
            authors: 0,
            dropped: 0.0,
            first: NONE,
            first_weight: 0.0,
            rest: Vec::new(),
        }
    }
}

impl GroupState {
    fn add(&mut self, id: u32, weight: f64) {
        if self.first == id {
            self.first_weight += weight;
        } else if self.first == NONE {
            self.first = id;
            self.first_weight = weight;
        } else if let Some(e) = self.rest.iter_mut().find(|e| e.0 == id) {
            e.1 += weight;
        } else {
            self.rest.push((id, weight));
        }
    }

    fn entries(&self) -> impl Iterator<Item = (u32, f64)> + '_ {
        (self.first != NONE)
            .then_some((self.first, self.first_weight))
            .into_iter()
            .chain(self.rest.iter().copied())
    }
}

/// The groups accumulator (and, with one group, the plain accumulator).
#[derive(Debug)]
struct Groups {
    mode: CountingMode,
    keep_hk_mo: bool,
    interner: Interner,
    groups: Vec<GroupState>,
    /// Bytes held by the groups' overflow vectors, kept up to date because `size` is called often.
    heap_bytes: usize,
    buf: String,
}

impl Groups {
    fn new(args: &AccumulatorArgs<'_>) -> Result<Self> {
        let Some(mode) = constant_arg(args, 1, "mode")? else {
            return exec_err!("{NAME}: expected a mode ('full', 'country' or 'author')");
        };
        let mode = constant_mode(NAME, &mode, CountingMode::parse)?;
        let keep_hk_mo = constant_keep_hk_mo(NAME, constant_arg(args, 2, "keep_hk_mo")?.as_ref())?;
        Ok(Self {
            mode,
            keep_hk_mo,
            interner: Interner::default(),
            groups: Vec::new(),
            heap_bytes: 0,
            buf: String::new(),
        })
    }

    fn empty_list() -> Result<ArrayRef> {
        let mut out = SharesBuilder::new(1);
        out.end_row(true)?;
        out.finish()
    }

    /// Adds `weight` for the raw code `raw` to group `g`; false when the code is blank.
    fn add_code(&mut self, g: usize, raw: &str, weight: f64) -> bool {
        self.buf.clear();
        if !push_normalized(&mut self.buf, raw, self.keep_hk_mo) {
            return false;
        }
        let id = self.interner.id(&self.buf);
        self.add_id(g, id, weight);
        true
    }

    /// Adds `weight` for country `id` to group `g`, keeping [`Self::heap_bytes`] up to date.
    fn add_id(&mut self, g: usize, id: u32, weight: f64) {
        let group = &mut self.groups[g];
        let before = group.rest.capacity();
        group.add(id, weight);
        self.heap_bytes += (group.rest.capacity() - before) * size_of::<(u32, f64)>();
    }

    fn update(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        opt_filter: Option<&BooleanArray>,
        total_num_groups: usize,
    ) -> Result<()> {
        self.groups
            .resize_with(total_num_groups, GroupState::default);
        let Some(authors) = values[0].as_list_opt::<i32>() else {
            return exec_err!("{NAME}: expected List<Utf8>, got {}", values[0].data_type());
        };
        let Some(codes) = authors.values().as_string_opt::<i32>() else {
            return exec_err!("{NAME}: expected List<Utf8>, got {}", values[0].data_type());
        };
        for (row, &g) in group_indices.iter().enumerate() {
            if opt_filter.is_some_and(|f| !f.is_valid(row) || !f.value(row)) {
                continue;
            }
            self.groups[g].authors += 1;
            let affiliations = row_range(authors, row);
            if affiliations.is_empty() {
                self.groups[g].dropped += 1.0;
                continue;
            }
            let share = 1.0 / affiliations.len() as f64;
            for i in affiliations {
                let known = str_at(codes, i).is_some_and(|raw| self.add_code(g, raw, share));
                if !known {
                    self.groups[g].dropped += share;
                }
            }
        }
        Ok(())
    }

    fn merge(
        &mut self,
        states: &[ArrayRef],
        group_indices: &[usize],
        total_num_groups: usize,
    ) -> Result<()> {
        self.groups
            .resize_with(total_num_groups, GroupState::default);
        let [authors, dropped, shares] = states else {
            return exec_err!("{NAME}: expected 3 state columns, got {}", states.len());
        };
        let authors = authors.as_primitive::<UInt64Type>();
        let dropped = dropped.as_primitive::<Float64Type>();
        let shares = shares.as_list::<i32>();
        let entries = shares.values().as_struct();
        let countries: &StringArray = entries.column(0).as_string::<i32>();
        let weights = entries.column(1).as_primitive::<Float64Type>();
        for (row, &g) in group_indices.iter().enumerate() {
            self.groups[g].authors += authors.value(row);
            self.groups[g].dropped += dropped.value(row);
            for i in row_range(shares, row) {
                if let Some(code) = str_at(countries, i) {
                    let id = self.interner.id(code);
                    self.add_id(g, id, weights.value(i));
                }
            }
        }
        Ok(())
    }

    fn take(&mut self, emit_to: EmitTo) -> Vec<GroupState> {
        let taken = emit_to.take_needed(&mut self.groups);
        let freed: usize = taken
            .iter()
            .map(|g| g.rest.capacity() * size_of::<(u32, f64)>())
            .sum();
        self.heap_bytes = self.heap_bytes.saturating_sub(freed);
        taken
    }

    /// A `List<Struct<country, weight>>` with one row per group; `entry_weight` maps a group and
    /// its unscaled weight to the output weight, `dropped` adds the dropped share last.
    fn list(
        &self,
        groups: &[GroupState],
        sorted: bool,
        entry_weight: impl Fn(&GroupState, f64, usize) -> f64,
        dropped: impl Fn(&GroupState) -> Option<f64>,
    ) -> Result<ArrayRef> {
        let ranks = if sorted {
            self.interner.ranks()
        } else {
            Vec::new()
        };
        let mut out = SharesBuilder::new(groups.len());
        let mut scratch: Vec<(u32, f64)> = Vec::new();
        for g in groups {
            scratch.clear();
            scratch.extend(g.entries());
            if sorted {
                scratch.sort_unstable_by_key(|e| ranks[e.0 as usize]);
            }
            let k = scratch.len();
            for &(id, w) in &scratch {
                out.push(
                    Some(&self.interner.names[id as usize]),
                    entry_weight(g, w, k),
                );
            }
            if let Some(d) = dropped(g) {
                out.push(None, d);
            }
            out.end_row(true)?;
        }
        out.finish()
    }

    fn evaluate_groups(&self, groups: &[GroupState]) -> Result<ArrayRef> {
        match self.mode {
            CountingMode::Full => self.list(groups, true, |_, _, _| 1.0, |_| None),
            CountingMode::Country => self.list(groups, true, |_, _, k| 1.0 / k as f64, |_| None),
            CountingMode::Author => self.list(
                groups,
                true,
                |g, w, _| w / g.authors as f64,
                |g| (g.dropped > 0.0).then(|| g.dropped / g.authors as f64),
            ),
        }
    }

    fn state_of(&self, groups: &[GroupState]) -> Result<Vec<ArrayRef>> {
        Ok(vec![
            Arc::new(groups.iter().map(|g| g.authors).collect::<UInt64Array>()),
            Arc::new(groups.iter().map(|g| g.dropped).collect::<Float64Array>()),
            self.list(groups, false, |_, w, _| w, |_| None)?,
        ])
    }
}

impl GroupsAccumulator for Groups {
    fn update_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        opt_filter: Option<&BooleanArray>,
        total_num_groups: usize,
    ) -> Result<()> {
        self.update(values, group_indices, opt_filter, total_num_groups)
    }

    fn merge_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        total_num_groups: usize,
    ) -> Result<()> {
        self.merge(values, group_indices, total_num_groups)
    }

    fn evaluate(&mut self, emit_to: EmitTo) -> Result<ArrayRef> {
        let groups = self.take(emit_to);
        self.evaluate_groups(&groups)
    }

    fn state(&mut self, emit_to: EmitTo) -> Result<Vec<ArrayRef>> {
        let groups = self.take(emit_to);
        self.state_of(&groups)
    }

    /// Each row as its own group (an author alone); filtered rows give empty states.
    fn convert_to_state(
        &self,
        values: &[ArrayRef],
        opt_filter: Option<&BooleanArray>,
    ) -> Result<Vec<ArrayRef>> {
        let mut rows = Groups {
            mode: self.mode,
            keep_hk_mo: self.keep_hk_mo,
            interner: Interner::default(),
            groups: Vec::new(),
            heap_bytes: 0,
            buf: String::new(),
        };
        let n = values.first().map_or(0, |v| v.len());
        let indices: Vec<usize> = (0..n).collect();
        rows.update(values, &indices, opt_filter, n)?;
        rows.state_of(&rows.groups)
    }

    fn size(&self) -> usize {
        size_of::<Self>()
            + self.groups.capacity() * size_of::<GroupState>()
            + self.heap_bytes
            + self.interner.two_letter.len() * size_of::<u32>()
    }
}

/// The plain accumulator: the groups accumulator with one group.
#[derive(Debug)]
struct OneGroup(Groups);

impl Accumulator for OneGroup {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let n = values[0].len();
        self.0.update(values, &vec![0; n], None, 1)
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let n = states[0].len();
        self.0.merge(states, &vec![0; n], 1)
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        self.0.groups.resize_with(1, GroupState::default);
        self.0
            .state_of(&self.0.groups)?
            .iter()
            .map(|a| ScalarValue::try_from_array(a, 0))
            .collect()
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        self.0.groups.resize_with(1, GroupState::default);
        ScalarValue::try_from_array(&self.0.evaluate_groups(&self.0.groups)?, 0)
    }

    fn size(&self) -> usize {
        GroupsAccumulator::size(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use datafusion::prelude::SessionContext;
    use proptest::prelude::*;

    use super::*;

    type Shares = Vec<(Option<String>, f64)>;

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

    fn assert_shares(actual: &Shares, expected: &[(Option<&str>, f64)]) {
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

    #[test]
    fn state_round_trip_across_partitions() -> Result<()> {
        // Two partial accumulators, each seeing part of one paper's authors, merged into a final
        // one: the result equals one accumulator seeing all of them.
        let rows = |codes: &[&[Option<&str>]]| -> ArrayRef {
            let rows: Vec<Option<Vec<Option<&str>>>> =
                codes.iter().map(|r| Some(r.to_vec())).collect();
            crate::test_util::code_lists(&rows)
        };
        let new = || Groups {
            mode: CountingMode::Author,
            keep_hk_mo: false,
            interner: Interner::default(),
            groups: Vec::new(),
            heap_bytes: 0,
            buf: String::new(),
        };
        let a_rows = rows(&[&[Some("US"), Some("FR")], &[Some("FR")]]);
        let b_rows = rows(&[&[], &[Some("DE"), Some("US"), Some("US")]]);
        let (mut a, mut b, mut fin, mut all) = (new(), new(), new(), new());
        a.update(std::slice::from_ref(&a_rows), &[0, 0], None, 1)?;
        b.update(std::slice::from_ref(&b_rows), &[0, 0], None, 1)?;
        fin.merge(&GroupsAccumulator::state(&mut b, EmitTo::All)?, &[0], 1)?;
        fin.merge(&GroupsAccumulator::state(&mut a, EmitTo::All)?, &[0], 1)?;
        // The same authors passed on row by row (as when the partial aggregation is skipped).
        let mut by_row = new();
        by_row.merge(
            &a.convert_to_state(std::slice::from_ref(&a_rows), None)?,
            &[0, 0],
            1,
        )?;
        by_row.merge(
            &b.convert_to_state(std::slice::from_ref(&b_rows), None)?,
            &[0, 0],
            1,
        )?;
        all.update(std::slice::from_ref(&a_rows), &[0, 0], None, 1)?;
        all.update(std::slice::from_ref(&b_rows), &[0, 0], None, 1)?;
        let merged = GroupsAccumulator::evaluate(&mut fin, EmitTo::All)?;
        let direct = GroupsAccumulator::evaluate(&mut all, EmitTo::All)?;
        assert_eq!(merged.len(), 1);
        let s = merged.as_list::<i32>().value(0);
        let s = s.as_struct();
        let names: Vec<_> = (0..s.len())
            .map(|i| {
                s.column(0)
                    .as_string::<i32>()
                    .is_valid(i)
                    .then(|| s.column(0).as_string::<i32>().value(i))
            })
            .collect();
        // Four authors, 1/4 each: US 1/8 + 1/6, FR 1/8 + 1/4, DE 1/12; 1/4 dropped.
        assert_eq!(names, [Some("DE"), Some("FR"), Some("US"), None]);
        let w = s.column(1).as_primitive::<Float64Type>();
        let expected = [1.0 / 12.0, 1.0 / 8.0 + 0.25, 1.0 / 8.0 + 1.0 / 6.0, 0.25];
        for (i, e) in expected.iter().enumerate() {
            assert!((w.value(i) - e).abs() < 1e-12, "{i}: {} vs {e}", w.value(i));
        }
        let by_row = GroupsAccumulator::evaluate(&mut by_row, EmitTo::All)?;
        let entries = |a: &ArrayRef| -> Vec<(Option<String>, f64)> {
            let l = a.as_list::<i32>().value(0);
            let s = l.as_struct();
            let c = s.column(0).as_string::<i32>();
            let w = s.column(1).as_primitive::<Float64Type>();
            (0..s.len())
                .map(|i| (c.is_valid(i).then(|| c.value(i).to_string()), w.value(i)))
                .collect()
        };
        for other in [&direct, &by_row] {
            let expected: Vec<_> = entries(other);
            let expected: Vec<_> = expected.iter().map(|(c, w)| (c.as_deref(), *w)).collect();
            assert_shares(&entries(&merged), &expected);
        }
        Ok(())
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
