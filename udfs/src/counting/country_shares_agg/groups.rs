//! The group state of `country_shares_agg`: country codes interned as small integers, each
//! group's author weights, and DataFusion's two accumulator interfaces over them ([`Groups`] for
//! grouped aggregation, [`OneGroup`] for a single group and window frames).
//!
//! Weights are added as fixed-point integers ([`Fixed`], units of 2^-64), not as `f64`: a paper's
//! authorship rows reach the aggregate in an order that depends on the partitioning (and a paper
//! split over two partitions is merged from two partial states), and integer addition gives the
//! same result in any order, where `f64` addition changes the last bits. A share 1/k of an author
//! with k affiliations is the `f64` 1/k, which is a whole number of 2^-64 units for k < 2^11
//! (rounded down beyond: the same for every order); a sum is rounded to `f64` once, at the end.

use std::collections::HashMap;
use std::mem::size_of;
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Decimal128Array, ListArray, StringArray, StringBuilder,
    StructArray, UInt64Array,
};
use arrow::buffer::OffsetBuffer;
use arrow::datatypes::{DataType, Decimal128Type, UInt64Type};
use datafusion::common::{ScalarValue, exec_err};
use datafusion::error::Result;
use datafusion::logical_expr::function::AccumulatorArgs;
use datafusion::logical_expr::{Accumulator, EmitTo, GroupsAccumulator};

use super::super::country_codes::push_normalized;
use super::super::country_shares::{CountingMode, SharesBuilder};
use super::{NAME, constant_arg};
use crate::args::{constant_keep_hk_mo, constant_mode, row_range, str_at};

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

/// A weight in units of 2^-64: a whole author is `1 << 64`.
type Fixed = i128;
const ONE: Fixed = 1 << 64;

/// `share` (at most 1) in units of 2^-64: exact for the `f64` 1/k with k < 2^11.
fn fixed(share: f64) -> Fixed {
    (share * 18446744073709551616.0) as Fixed
}

/// A fixed-point weight as the nearest `f64`.
fn to_f64(w: Fixed) -> f64 {
    w as f64 / 18446744073709551616.0
}

/// The state's weights: a [`Fixed`] as a `Decimal128(38, 0)` (its i128, unscaled).
pub(super) fn fixed_type() -> DataType {
    DataType::Decimal128(38, 0)
}

/// The `shares` state: `List<Struct<country Utf8, weight Decimal128(38, 0)>>`.
pub(super) fn state_list_type() -> DataType {
    DataType::List(Arc::new(arrow::datatypes::Field::new_list_field(
        DataType::Struct(state_fields()),
        true,
    )))
}

fn state_fields() -> arrow::datatypes::Fields {
    arrow::datatypes::Fields::from(vec![
        arrow::datatypes::Field::new("country", DataType::Utf8, true),
        arrow::datatypes::Field::new("weight", fixed_type(), false),
    ])
}

/// One group's state: weights are unscaled (1 per author, split over the author's affiliations);
/// `author` mode divides them by the number of authors at the end.
#[derive(Debug, Clone)]
struct GroupState {
    authors: u64,
    dropped: Fixed,
    first: u32,
    first_weight: Fixed,
    rest: Vec<(u32, Fixed)>,
}

impl Default for GroupState {
    fn default() -> Self {
        Self {
            authors: 0,
            dropped: 0,
            first: NONE,
            first_weight: 0,
            rest: Vec::new(),
        }
    }
}

impl GroupState {
    fn add(&mut self, id: u32, weight: Fixed) {
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

    fn entries(&self) -> impl Iterator<Item = (u32, Fixed)> + '_ {
        (self.first != NONE)
            .then_some((self.first, self.first_weight))
            .into_iter()
            .chain(self.rest.iter().copied())
    }
}

/// The groups accumulator (and, with one group, the plain accumulator).
#[derive(Debug)]
pub(super) struct Groups {
    mode: CountingMode,
    keep_hk_mo: bool,
    interner: Interner,
    groups: Vec<GroupState>,
    /// Bytes held by the groups' overflow vectors, kept up to date because `size` is called often.
    heap_bytes: usize,
    buf: String,
}

impl Groups {
    pub(super) fn new(args: &AccumulatorArgs<'_>) -> Result<Self> {
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

    pub(super) fn empty_list() -> Result<ArrayRef> {
        let mut out = SharesBuilder::new(1);
        out.end_row(true)?;
        out.finish()
    }

    /// Adds `weight` for the raw code `raw` to group `g`; false when the code is blank.
    fn add_code(&mut self, g: usize, raw: &str, weight: Fixed) -> bool {
        self.buf.clear();
        if !push_normalized(&mut self.buf, raw, self.keep_hk_mo) {
            return false;
        }
        let id = self.interner.id(&self.buf);
        self.add_id(g, id, weight);
        true
    }

    /// Adds `weight` for country `id` to group `g`, keeping [`Self::heap_bytes`] up to date.
    fn add_id(&mut self, g: usize, id: u32, weight: Fixed) {
        let group = &mut self.groups[g];
        let before = group.rest.capacity();
        group.add(id, weight);
        self.heap_bytes += (group.rest.capacity() - before) * size_of::<(u32, Fixed)>();
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
                self.groups[g].dropped += ONE;
                continue;
            }
            let share = fixed(1.0 / affiliations.len() as f64);
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
        let dropped = dropped.as_primitive::<Decimal128Type>();
        let shares = shares.as_list::<i32>();
        let entries = shares.values().as_struct();
        let countries: &StringArray = entries.column(0).as_string::<i32>();
        let weights = entries.column(1).as_primitive::<Decimal128Type>();
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
            .map(|g| g.rest.capacity() * size_of::<(u32, Fixed)>())
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
        entry_weight: impl Fn(&GroupState, Fixed, usize) -> f64,
        dropped: impl Fn(&GroupState) -> Option<f64>,
    ) -> Result<ArrayRef> {
        let ranks = if sorted {
            self.interner.ranks()
        } else {
            Vec::new()
        };
        let mut out = SharesBuilder::new(groups.len());
        let mut scratch: Vec<(u32, Fixed)> = Vec::new();
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
                |g, w, _| to_f64(w) / g.authors as f64,
                |g| (g.dropped > 0).then(|| to_f64(g.dropped) / g.authors as f64),
            ),
        }
    }

    /// The partial state: authors, the dropped weight and the (country, weight) list, weights as
    /// [`Fixed`] integers so that merging states is exact too.
    fn state_of(&self, groups: &[GroupState]) -> Result<Vec<ArrayRef>> {
        let dropped = Decimal128Array::from_iter_values(groups.iter().map(|g| g.dropped))
            .with_data_type(fixed_type());
        let mut countries = StringBuilder::new();
        let mut weights = Vec::new();
        let mut lengths = Vec::with_capacity(groups.len());
        for g in groups {
            let before = weights.len();
            for (id, w) in g.entries() {
                countries.append_value(&self.interner.names[id as usize]);
                weights.push(w);
            }
            lengths.push(weights.len() - before);
        }
        let entries = StructArray::try_new(
            state_fields(),
            vec![
                Arc::new(countries.finish()),
                Arc::new(Decimal128Array::from(weights).with_data_type(fixed_type())),
            ],
            None,
        )?;
        let DataType::List(item) = state_list_type() else {
            unreachable!("state_list_type is a list")
        };
        let shares = ListArray::try_new(
            item,
            OffsetBuffer::from_lengths(lengths),
            Arc::new(entries),
            None,
        )?;
        Ok(vec![
            Arc::new(groups.iter().map(|g| g.authors).collect::<UInt64Array>()),
            Arc::new(dropped),
            Arc::new(shares),
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
pub(super) struct OneGroup(pub(super) Groups);

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
    use arrow::datatypes::Float64Type;

    use super::super::tests::assert_shares;
    use super::*;

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
}
