//! [`SelectLiteralExpr`]: `CASE WHEN p THEN a ELSE b END` for two non-NULL numeric literals,
//! computed a 64-bit word of the condition at a time.
//!
//! DataFusion evaluates this form with arrow's `zip`, which builds the output one element at a
//! time through the condition's iterator. The form is everywhere in bibliometric SQL
//! (`sum(CASE WHEN international THEN 1 ELSE 0 END)`, a 0/1 flag per paper), so bibflow computes
//! it from a table, made once per expression, of the eight output values for each of the 256
//! bytes a condition's bit word can hold: a row's output costs an eighth of one table copy, with
//! no branch. NULL conditions count as false, as in SQL's CASE.

use std::fmt;
use std::hash::Hash;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, ArrowPrimitiveType, AsArray, PrimitiveArray};
use arrow::buffer::{BooleanBuffer, Buffer, ScalarBuffer};
use arrow::datatypes::{
    DataType, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type, Schema,
    UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use arrow::record_batch::RecordBatch;
use datafusion::common::{Result, ScalarValue, exec_err};
use datafusion::logical_expr::ColumnarValue;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_expr::expressions::{CaseExpr, Literal};

/// `CASE WHEN when THEN then ELSE otherwise END` where `then` and `otherwise` are non-NULL
/// literals of one numeric type.
#[derive(Eq)]
pub struct SelectLiteralExpr {
    when: Arc<dyn PhysicalExpr>,
    then: ScalarValue,
    otherwise: ScalarValue,
    /// For each byte `k` of the condition, the eight outputs of its bits (least significant bit
    /// first), as native values of the literals' type: `256 * 8` values, made from `then` and
    /// `otherwise`.
    table: Buffer,
    /// [`select`] for the literals' type.
    select: SelectFn,
}

/// [`select`] for one native type.
type SelectFn = fn(&BooleanBuffer, &Buffer) -> ArrayRef;

impl fmt::Debug for SelectLiteralExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SelectLiteralExpr")
            .field("when", &self.when)
            .field("then", &self.then)
            .field("otherwise", &self.otherwise)
            .finish_non_exhaustive()
    }
}

impl PartialEq for SelectLiteralExpr {
    fn eq(&self, other: &Self) -> bool {
        self.when.eq(&other.when) && self.then == other.then && self.otherwise == other.otherwise
    }
}

impl Hash for SelectLiteralExpr {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.when.hash(state);
        self.then.hash(state);
        self.otherwise.hash(state);
    }
}

impl SelectLiteralExpr {
    /// The fast form of `case`, or `None` when `case` is not `CASE WHEN p THEN a ELSE b END` with
    /// `a` and `b` non-NULL literals of one supported numeric type.
    pub fn try_from_case(case: &CaseExpr) -> Option<Self> {
        if case.expr().is_some() {
            return None;
        }
        let [(when, then)] = case.when_then_expr() else {
            return None;
        };
        let then = then.downcast_ref::<Literal>()?.value();
        let otherwise = case.else_expr()?.downcast_ref::<Literal>()?.value();
        Self::try_new(Arc::clone(when), then.clone(), otherwise.clone()).ok()
    }

    /// `CASE WHEN when THEN then ELSE otherwise END`; an error unless `then` and `otherwise` are
    /// non-NULL values of one supported numeric type.
    pub fn try_new(
        when: Arc<dyn PhysicalExpr>,
        then: ScalarValue,
        otherwise: ScalarValue,
    ) -> Result<Self> {
        let (a, b) = (&then, &otherwise);
        if a.is_null() || b.is_null() || a.data_type() != b.data_type() {
            return exec_err!("CASE literals {a} and {b} are not two non-NULL values of one type");
        }
        let (table, select) = match a.data_type() {
            DataType::Int8 => typed::<Int8Type>(a, b),
            DataType::Int16 => typed::<Int16Type>(a, b),
            DataType::Int32 => typed::<Int32Type>(a, b),
            DataType::Int64 => typed::<Int64Type>(a, b),
            DataType::UInt8 => typed::<UInt8Type>(a, b),
            DataType::UInt16 => typed::<UInt16Type>(a, b),
            DataType::UInt32 => typed::<UInt32Type>(a, b),
            DataType::UInt64 => typed::<UInt64Type>(a, b),
            DataType::Float32 => typed::<Float32Type>(a, b),
            DataType::Float64 => typed::<Float64Type>(a, b),
            other => exec_err!("CASE literal of unsupported type {other}"),
        }?;
        Ok(Self {
            when,
            then,
            otherwise,
            table,
            select,
        })
    }

    /// The condition.
    pub fn when(&self) -> &Arc<dyn PhysicalExpr> {
        &self.when
    }

    /// The value where the condition holds.
    pub fn then(&self) -> &ScalarValue {
        &self.then
    }

    /// The value elsewhere (the condition false or NULL).
    pub fn otherwise(&self) -> &ScalarValue {
        &self.otherwise
    }
}

impl fmt::Display for SelectLiteralExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "CASE WHEN {} THEN {} ELSE {} END",
            self.when, self.then, self.otherwise
        )
    }
}

/// The byte table and the select function for literals `a` (bit set) and `b` of type `T`.
fn typed<T: ArrowPrimitiveType>(a: &ScalarValue, b: &ScalarValue) -> Result<(Buffer, SelectFn)> {
    Ok((table::<T>(a, b)?, select::<T>))
}

/// The byte table of [`SelectLiteralExpr::table`] for literals `a` (bit set) and `b`.
fn table<T: ArrowPrimitiveType>(a: &ScalarValue, b: &ScalarValue) -> Result<Buffer> {
    let (a, b) = (native::<T>(a)?, native::<T>(b)?);
    let values: Vec<T::Native> = (0..256 * 8)
        .map(|k| if (k / 8) >> (k % 8) & 1 == 1 { a } else { b })
        .collect();
    Ok(Buffer::from_vec(values))
}

/// The outputs for `mask`: the table's eight values for each byte of each bit word.
fn select<T: ArrowPrimitiveType>(mask: &BooleanBuffer, table: &Buffer) -> ArrayRef {
    let table = table.typed_data::<T::Native>();
    let eight = |byte: u8| {
        let k = usize::from(byte) * 8;
        &table[k..k + 8]
    };
    let chunks = mask.bit_chunks();
    let mut out: Vec<T::Native> = Vec::with_capacity(mask.len() + 8);
    for word in chunks.iter() {
        for byte in word.to_le_bytes() {
            out.extend_from_slice(eight(byte));
        }
    }
    let rest = chunks.remainder_bits().to_le_bytes();
    for &byte in &rest[..chunks.remainder_len().div_ceil(8)] {
        out.extend_from_slice(eight(byte));
    }
    out.truncate(mask.len());
    Arc::new(PrimitiveArray::<T>::new(ScalarBuffer::from(out), None))
}

fn native<T: ArrowPrimitiveType>(v: &ScalarValue) -> Result<T::Native> {
    let a = v.to_array_of_size(1)?;
    Ok(a.as_primitive::<T>().value(0))
}

impl PhysicalExpr for SelectLiteralExpr {
    fn data_type(&self, _input_schema: &Schema) -> Result<DataType> {
        Ok(self.then.data_type())
    }

    fn nullable(&self, _input_schema: &Schema) -> Result<bool> {
        Ok(false)
    }

    fn evaluate(&self, batch: &RecordBatch) -> Result<ColumnarValue> {
        let when = match self.when.evaluate(batch)? {
            ColumnarValue::Scalar(ScalarValue::Boolean(b)) => {
                let v = if b == Some(true) {
                    &self.then
                } else {
                    &self.otherwise
                };
                return Ok(ColumnarValue::Scalar(v.clone()));
            }
            ColumnarValue::Scalar(other) => {
                return exec_err!("CASE WHEN condition is not Boolean: {other}");
            }
            ColumnarValue::Array(a) => a,
        };
        let Some(when) = when.as_boolean_opt() else {
            return exec_err!("CASE WHEN condition is not Boolean: {}", when.data_type());
        };
        // NULL counts as false.
        let mask = match when.nulls() {
            Some(n) if n.null_count() > 0 => when.values() & n.inner(),
            _ => when.values().clone(),
        };
        Ok(ColumnarValue::Array((self.select)(&mask, &self.table)))
    }

    fn children(&self) -> Vec<&Arc<dyn PhysicalExpr>> {
        vec![&self.when]
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn PhysicalExpr>>,
    ) -> Result<Arc<dyn PhysicalExpr>> {
        let [when] = <[_; 1]>::try_from(children).map_err(|c| {
            datafusion::common::DataFusionError::Internal(format!(
                "SelectLiteralExpr takes one child, got {}",
                c.len()
            ))
        })?;
        Ok(Arc::new(Self {
            when,
            then: self.then.clone(),
            otherwise: self.otherwise.clone(),
            table: self.table.clone(),
            select: self.select,
        }))
    }

    fn fmt_sql(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CASE WHEN ")?;
        self.when.fmt_sql(f)?;
        write!(f, " THEN {} ELSE {} END", self.then, self.otherwise)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{BooleanArray, Float64Array, Int64Array};
    use arrow::datatypes::Field;
    use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
    use datafusion::physical_expr::expressions::{col, lit};
    use datafusion::physical_plan::displayable;
    use datafusion::physical_plan::projection::ProjectionExec;

    /// 200 conditions (three bit words and a remainder), every third NULL, as a slice at offset 3
    /// so that the bit words do not start at a byte boundary.
    fn batch() -> RecordBatch {
        let all: BooleanArray = (0..203)
            .map(|i| (i % 3 != 0).then_some(i % 7 < 3))
            .collect();
        let p = all.slice(3, 200);
        let schema = Arc::new(Schema::new(vec![Field::new("p", DataType::Boolean, true)]));
        RecordBatch::try_new(schema, vec![Arc::new(p)]).unwrap()
    }

    fn case(then: ScalarValue, otherwise: Option<ScalarValue>) -> CaseExpr {
        let b = batch();
        CaseExpr::try_new(
            None,
            vec![(col("p", &b.schema()).unwrap(), lit(then))],
            otherwise.map(lit),
        )
        .unwrap()
    }

    #[test]
    fn agrees_with_datafusions_case_on_every_row() {
        let b = batch();
        let pairs = [
            (ScalarValue::Int64(Some(1)), ScalarValue::Int64(Some(0))),
            (
                ScalarValue::Int32(Some(-7)),
                ScalarValue::Int32(Some(i32::MAX)),
            ),
            (ScalarValue::UInt8(Some(255)), ScalarValue::UInt8(Some(3))),
            (
                ScalarValue::Float64(Some(1.0)),
                ScalarValue::Float64(Some(0.25)),
            ),
        ];
        for (a, o) in pairs {
            let c = case(a.clone(), Some(o.clone()));
            let fast = SelectLiteralExpr::try_from_case(&c).expect("the literal form");
            let want = c.evaluate(&b).unwrap().into_array(b.num_rows()).unwrap();
            let got = fast.evaluate(&b).unwrap().into_array(b.num_rows()).unwrap();
            assert_eq!(got.data_type(), want.data_type());
            assert_eq!(got.null_count(), 0);
            assert_eq!(&got, &want, "THEN {a} ELSE {o}");
        }
    }

    #[test]
    fn every_length_and_offset_of_a_partial_byte_and_word() {
        let all: BooleanArray = (0..200).map(|i| Some((i * 7919) % 5 < 2)).collect();
        let e = SelectLiteralExpr::try_new(
            col("p", &batch().schema()).unwrap(),
            ScalarValue::Int16(Some(-3)),
            ScalarValue::Int16(Some(9)),
        )
        .unwrap();
        let schema = batch().schema();
        for offset in 0..9 {
            for len in 0..=131 {
                let p = all.slice(offset, len);
                let want: Vec<i16> = p
                    .iter()
                    .map(|v| if v == Some(true) { -3 } else { 9 })
                    .collect();
                let b = RecordBatch::try_new(Arc::clone(&schema), vec![Arc::new(p)]).unwrap();
                let got = e.evaluate(&b).unwrap().into_array(len).unwrap();
                let got = got.as_primitive::<Int16Type>();
                assert_eq!(
                    got.values().as_ref(),
                    want.as_slice(),
                    "offset {offset}, {len} rows"
                );
            }
        }
    }

    #[test]
    fn other_forms_stay_datafusions() {
        let int = |v| ScalarValue::Int64(Some(v));
        // No ELSE (NULL for false), a NULL literal, a string.
        assert!(SelectLiteralExpr::try_from_case(&case(int(1), None)).is_none());
        assert!(
            SelectLiteralExpr::try_from_case(&case(int(1), Some(ScalarValue::Int64(None))))
                .is_none()
        );
        assert!(
            SelectLiteralExpr::try_from_case(&case(
                ScalarValue::from("a"),
                Some(ScalarValue::from("b"))
            ))
            .is_none()
        );
    }

    #[test]
    fn scalar_conditions_pick_one_literal() {
        let b = batch();
        let when = |v: Option<bool>| {
            SelectLiteralExpr::try_new(
                lit(ScalarValue::Boolean(v)),
                ScalarValue::Int64(Some(1)),
                ScalarValue::Int64(Some(0)),
            )
            .unwrap()
        };
        for (v, want) in [(Some(true), 1), (Some(false), 0), (None, 0)] {
            let got = when(v).evaluate(&b).unwrap().into_array(1).unwrap();
            assert_eq!(got.as_primitive::<Int64Type>().value(0), want, "{v:?}");
        }
    }

    #[tokio::test]
    async fn sql_results_match_plain_datafusion() {
        let sql = "SELECT k, CASE WHEN x > 2 THEN 1 ELSE 0 END AS a, \
                          CASE WHEN x IS NULL OR x < 0 THEN 2.5 ELSE -1.0 END AS f, \
                          sum(CASE WHEN x % 2 = 0 THEN 1 ELSE 0 END) OVER (PARTITION BY k) AS s \
                   FROM t ORDER BY k, x NULLS FIRST";
        let setup = "CREATE TABLE t (k INT, x BIGINT) AS VALUES \
                     (1, 1), (1, 3), (1, NULL), (2, -4), (2, 2), (2, 8), (3, NULL)";
        let (out, plan) = crate::plan::ours_and_plain(setup, sql).await;
        assert_eq!(out[0].num_rows(), 7);
        // bibflow's plan computes the two CASEs of the projection the fast way.
        let mut fast = 0;
        plan.apply(|n| {
            if let Some(p) = n.downcast_ref::<ProjectionExec>() {
                fast += p
                    .expr()
                    .iter()
                    .filter(|e| e.expr.is::<SelectLiteralExpr>())
                    .count();
            }
            Ok(TreeNodeRecursion::Continue)
        })
        .unwrap();
        assert_eq!(fast, 2, "{}", displayable(plan.as_ref()).indent(true));
        for i in 0..4 {
            assert_eq!(out[0].column(i), out[1].column(i), "column {i}");
        }
        let a = out[0]
            .column(1)
            .as_any()
            .downcast_ref::<Int64Array>()
            .unwrap();
        assert_eq!(a.values().iter().sum::<i64>(), 2);
        let f = out[0]
            .column(2)
            .as_any()
            .downcast_ref::<Float64Array>()
            .unwrap();
        assert_eq!(f.values().iter().filter(|v| **v == 2.5).count(), 3);
    }
}
