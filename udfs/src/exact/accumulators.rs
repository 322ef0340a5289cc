//! DataFusion's two accumulator interfaces over [`ExactSum`], shared by `fsum` and `favg`: one
//! `ExactSum` per group, its bytes as the partial-aggregate state.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, BinaryArray, BooleanArray, Float64Array};
use arrow::datatypes::Float64Type;
use datafusion::common::{ScalarValue, exec_err};
use datafusion::error::Result;
use datafusion::logical_expr::{Accumulator, EmitTo, GroupsAccumulator};

use super::exact_sum::ExactSum;

/// What an accumulator returns from its sum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Output {
    /// The sum rounded once; NULL without values (`fsum`).
    Sum,
    /// The rounded sum divided by the number of values; NULL without values (`favg`).
    Mean,
}

impl Output {
    fn of(self, s: &ExactSum) -> Option<f64> {
        match (self, s.count()) {
            (_, 0) => None,
            (Output::Sum, _) => Some(s.value()),
            (Output::Mean, n) => Some(s.value() / n as f64),
        }
    }
}

fn as_f64<'a>(name: &str, values: &'a [ArrayRef]) -> Result<&'a Float64Array> {
    match values
        .first()
        .and_then(|a| a.as_primitive_opt::<Float64Type>())
    {
        Some(a) => Ok(a),
        None => exec_err!("{name}: expected a Float64 argument"),
    }
}

fn as_state<'a>(name: &str, states: &'a [ArrayRef]) -> Result<&'a BinaryArray> {
    match states.first().and_then(|a| a.as_binary_opt::<i32>()) {
        Some(a) => Ok(a),
        None => exec_err!("{name}: expected a Binary state"),
    }
}

fn decode(name: &str, bytes: &[u8]) -> Result<ExactSum> {
    match ExactSum::from_bytes(bytes) {
        Some(s) => Ok(s),
        None => exec_err!(
            "{name}: a partial state of {} bytes is not an exact sum",
            bytes.len()
        ),
    }
}

/// One sum (a global aggregate, or a window frame: values can be removed again).
#[derive(Debug)]
pub(super) struct One {
    pub(super) name: &'static str,
    pub(super) output: Output,
    pub(super) sum: ExactSum,
}

impl Accumulator for One {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        as_f64(self.name, values)?
            .iter()
            .flatten()
            .for_each(|v| self.sum.add(v));
        Ok(())
    }

    fn retract_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        as_f64(self.name, values)?
            .iter()
            .flatten()
            .for_each(|v| self.sum.remove(v));
        Ok(())
    }

    fn supports_retract_batch(&self) -> bool {
        true
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        for bytes in as_state(self.name, states)?.iter().flatten() {
            self.sum.merge(&decode(self.name, bytes)?);
        }
        Ok(())
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(vec![ScalarValue::Binary(Some(self.sum.to_bytes()))])
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        Ok(ScalarValue::Float64(self.output.of(&self.sum)))
    }

    fn size(&self) -> usize {
        size_of::<Self>() + self.sum.heap_size()
    }
}

/// One sum per group.
#[derive(Debug)]
pub(super) struct Groups {
    pub(super) name: &'static str,
    pub(super) output: Output,
    pub(super) groups: Vec<ExactSum>,
    /// Heap bytes of all groups, kept up to date because `size` is called often.
    pub(super) heap: usize,
}

impl Groups {
    pub(super) fn new(name: &'static str, output: Output) -> Self {
        Self {
            name,
            output,
            groups: Vec::new(),
            heap: 0,
        }
    }

    fn take(&mut self, emit_to: EmitTo) -> Vec<ExactSum> {
        let taken = emit_to.take_needed(&mut self.groups);
        let freed: usize = taken.iter().map(ExactSum::heap_size).sum();
        self.heap = self.heap.saturating_sub(freed);
        taken
    }
}

fn keep(filter: Option<&BooleanArray>, row: usize) -> bool {
    filter.is_none_or(|f| f.is_valid(row) && f.value(row))
}

impl GroupsAccumulator for Groups {
    fn update_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        opt_filter: Option<&BooleanArray>,
        total_num_groups: usize,
    ) -> Result<()> {
        let values = as_f64(self.name, values)?;
        self.groups.resize_with(total_num_groups, ExactSum::new);
        for (row, &g) in group_indices.iter().enumerate() {
            if values.is_null(row) || !keep(opt_filter, row) {
                continue;
            }
            let group = &mut self.groups[g];
            let before = group.heap_size();
            group.add(values.value(row));
            self.heap += group.heap_size() - before;
        }
        Ok(())
    }

    fn merge_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        total_num_groups: usize,
    ) -> Result<()> {
        let states = as_state(self.name, values)?;
        self.groups.resize_with(total_num_groups, ExactSum::new);
        for (row, &g) in group_indices.iter().enumerate() {
            if states.is_null(row) {
                continue;
            }
            let other = decode(self.name, states.value(row))?;
            let group = &mut self.groups[g];
            let before = group.heap_size();
            group.merge(&other);
            self.heap = (self.heap + group.heap_size()).saturating_sub(before);
        }
        Ok(())
    }

    fn evaluate(&mut self, emit_to: EmitTo) -> Result<ArrayRef> {
        let groups = self.take(emit_to);
        let out: Float64Array = groups.iter().map(|s| self.output.of(s)).collect();
        Ok(Arc::new(out))
    }

    fn state(&mut self, emit_to: EmitTo) -> Result<Vec<ArrayRef>> {
        let groups = self.take(emit_to);
        let bytes: Vec<Vec<u8>> = groups.iter().map(ExactSum::to_bytes).collect();
        Ok(vec![Arc::new(BinaryArray::from_iter_values(bytes))])
    }

    fn convert_to_state(
        &self,
        values: &[ArrayRef],
        opt_filter: Option<&BooleanArray>,
    ) -> Result<Vec<ArrayRef>> {
        // Each row its own sum (an empty one when NULL or filtered out).
        let values = as_f64(self.name, values)?;
        let bytes = (0..values.len()).map(|row| {
            let mut s = ExactSum::new();
            if values.is_valid(row) && keep(opt_filter, row) {
                s.add(values.value(row));
            }
            s.to_bytes()
        });
        Ok(vec![Arc::new(BinaryArray::from_iter_values(bytes))])
    }

    fn size(&self) -> usize {
        size_of::<Self>() + self.groups.capacity() * size_of::<ExactSum>() + self.heap
    }
}
