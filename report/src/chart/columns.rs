//! Reading a chart's columns out of a query result, as numbers or as labels.

use arrow::array::{Array, AsArray};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Float64Type, SchemaRef};
use arrow::record_batch::RecordBatch;

use crate::error::{ReportError, Result};

/// The columns of a result, looked up by name for the chart `what` (e.g. `line chart "Growth"`).
#[derive(Debug)]
pub(crate) struct Columns<'a> {
    batches: &'a [RecordBatch],
    schema: SchemaRef,
    what: String,
}

impl<'a> Columns<'a> {
    /// `None` when there is no batch at all (then there is no schema to check names against).
    pub(crate) fn new(batches: &'a [RecordBatch], what: String) -> Option<Self> {
        let schema = batches.first()?.schema();
        Some(Self {
            batches,
            schema,
            what,
        })
    }

    /// Number of rows over all batches.
    pub(crate) fn rows(&self) -> usize {
        self.batches.iter().map(RecordBatch::num_rows).sum()
    }

    /// The index of column `name`, given for the spec field `field`; the error names the column
    /// and lists the available ones.
    fn index(&self, field: &str, name: &str) -> Result<usize> {
        self.schema.index_of(name).map_err(|_| {
            let available: Vec<&str> = self
                .schema
                .fields()
                .iter()
                .map(|f| f.name().as_str())
                .collect();
            ReportError::Usage(format!(
                "{}: no column {name:?} (given as `{field}`); available columns: {}",
                self.what,
                available.join(", ")
            ))
        })
    }

    /// The type of column `name`.
    pub(crate) fn data_type(&self, field: &str, name: &str) -> Result<DataType> {
        let i = self.index(field, name)?;
        Ok(self.schema.field(i).data_type().clone())
    }

    /// Whether column `name` holds numbers.
    pub(crate) fn is_numeric(&self, field: &str, name: &str) -> Result<bool> {
        Ok(is_numeric(&self.data_type(field, name)?))
    }

    /// Column `name` as numbers (`None` for NULL and NaN); an error if it is not numeric.
    pub(crate) fn numbers(&self, field: &str, name: &str) -> Result<Vec<Option<f64>>> {
        let i = self.index(field, name)?;
        let dt = self.schema.field(i).data_type();
        if !is_numeric(dt) {
            return Err(ReportError::Usage(format!(
                "{}: column {name:?} (given as `{field}`) is {dt}, not a number",
                self.what
            )));
        }
        let mut out = Vec::with_capacity(self.rows());
        for b in self.batches {
            let a = cast(b.column(i), &DataType::Float64)?;
            let a = a.as_primitive::<Float64Type>();
            out.extend(
                (0..a.len()).map(|r| (a.is_valid(r) && a.value(r).is_finite()).then(|| a.value(r))),
            );
        }
        Ok(out)
    }

    /// Column `name` as labels (`None` for NULL): strings as they are, numbers and dates as text.
    pub(crate) fn labels(&self, field: &str, name: &str) -> Result<Vec<Option<String>>> {
        let i = self.index(field, name)?;
        let dt = self.schema.field(i).data_type();
        let mut out = Vec::with_capacity(self.rows());
        for b in self.batches {
            let a = cast(b.column(i), &DataType::Utf8).map_err(|_| {
                ReportError::Usage(format!(
                    "{}: column {name:?} (given as `{field}`) is {dt}, which cannot be a label",
                    self.what
                ))
            })?;
            let a = a.as_string::<i32>();
            out.extend((0..a.len()).map(|r| a.is_valid(r).then(|| a.value(r).to_string())));
        }
        Ok(out)
    }
}

/// Whether `dt` is a number type (integers, floats, decimals).
fn is_numeric(dt: &DataType) -> bool {
    dt.is_numeric() || matches!(dt, DataType::Dictionary(_, v) if v.is_numeric())
}

/// The distinct values of `labels` in order of first appearance (NULL shown as `"NULL"`), and each
/// row's index into them.
pub(crate) fn groups(labels: &[Option<String>]) -> (Vec<String>, Vec<usize>) {
    let mut names: Vec<String> = Vec::new();
    let mut seen: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    let index = labels
        .iter()
        .map(|l| {
            let l = l.as_deref().unwrap_or("NULL");
            *seen.entry(l.to_string()).or_insert_with(|| {
                names.push(l.to_string());
                names.len() - 1
            })
        })
        .collect();
    (names, index)
}
