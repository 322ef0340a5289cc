//! `ham_position(mesh_tree_numbers)`: a paper's Human / Animal / Molecular-Cellular position.

use std::sync::{Arc, LazyLock};

use arrow::array::{Array, ArrayRef, AsArray, Float64Builder, StringArray, StructArray};
use arrow::datatypes::{DataType, Field, Fields};
use datafusion::common::{exec_err, plan_err};
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

use crate::args::{as_string_list, coerce_string_list, from_array, row_range, str_at, to_arrays};
use crate::doc_sections::DOC_SECTION_CLASSIFY;

const NAME: &str = "ham_position";

/// The tree number of the heading Humans, which is Human although it sits under B01 (organisms).
pub const HUMANS_TREE: &str = "B01.050.150.900.649.313.988.400.112.400.400";

/// The trees of the Molecular/Cellular group.
pub const MOLECULAR_CELLULAR_TREES: [&str; 6] =
    ["A11", "B02", "B03", "B04", "G02.111.570", "G02.149"];

const HUMAN: u8 = 1;
const ANIMAL: u8 = 2;
const MOLECULAR_CELLULAR: u8 = 4;

static DOCUMENTATION: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        DOC_SECTION_CLASSIFY,
        "A paper's position in the triangle of biomedicine (Weber 2013, as NIH iCite uses it; \
         docs/indicators.md 'Clinical translation', 2) from the tree numbers of its MeSH \
         descriptors: Human = tree M01 or the heading Humans; Animal = other B01 organisms; \
         Molecular/Cellular = A11, B02-B04, G02.111.570, G02.149. A descriptor counts once for \
         each group any of its tree numbers falls in; descriptors in no group are ignored; each \
         share is the group's count over the sum of the three counts, so the shares add up to 1 \
         (this is the share of descriptors in each group whenever no descriptor falls in two \
         groups). All three fields are NULL when no descriptor falls in any group (also for a \
         NULL or empty list).",
        "ham_position(mesh_tree_numbers)",
    )
    .with_sql_example(
        r#"```sql
> SELECT work_id, ham_position(array_agg(mesh_tree_numbers(descriptor_ui))) AS p
  FROM work_mesh GROUP BY work_id;
> SELECT ham_position([['B01.050.150.900.649.313.988.400.112.400.400'], ['A11.251'], ['E05.200']]);
{human: 0.5, animal: 0.0, molecular_cellular: 0.5}
```"#,
    )
    .with_argument(
        "mesh_tree_numbers",
        "List<List<Utf8>>: one list of tree numbers per descriptor, as \
         `array_agg(mesh_tree_numbers(descriptor_ui))` gives. A List<Utf8> is read as one \
         element per descriptor, its tree numbers separated by '|' or ';'.",
    )
    .with_related_udf("mesh_tree_numbers")
    .build()
});

/// `ham_position(mesh_tree_numbers)` ->
/// `Struct<human Float64, animal Float64, molecular_cellular Float64>`.
///
/// Reading of "the share of its descriptors in each group": a descriptor with tree numbers in two
/// groups counts for both, and the shares are normalised by the total count so they sum to 1 and
/// give a point in the triangle.
///
/// ```
/// # use datafusion::prelude::SessionContext;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> datafusion::error::Result<()> {
/// let ctx = SessionContext::new();
/// bibflow_udfs::register_all(&ctx)?;
/// let sql = "SELECT ham_position([['M01.060.116'], ['B01.050'], ['B04'], ['B04.280']])['molecular_cellular'] AS m";
/// let batches = ctx.sql(sql).await?.collect().await?;
/// let m = arrow::array::AsArray::as_primitive::<arrow::datatypes::Float64Type>(batches[0].column(0));
/// assert_eq!(m.value(0), 0.5);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct HamPosition {
    signature: Signature,
}

impl Default for HamPosition {
    fn default() -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

/// The result type.
pub fn ham_type() -> DataType {
    DataType::Struct(ham_fields())
}

pub(super) fn ham_fields() -> Fields {
    Fields::from(vec![
        Field::new("human", DataType::Float64, true),
        Field::new("animal", DataType::Float64, true),
        Field::new("molecular_cellular", DataType::Float64, true),
    ])
}

/// Whether `tree` is `root` or below it.
fn under(tree: &str, root: &str) -> bool {
    tree.strip_prefix(root)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
}

/// The groups one tree number falls in.
fn groups_of(tree: &str) -> u8 {
    let tree = tree.trim();
    let mut g = 0;
    if under(tree, "M01") || under(tree, HUMANS_TREE) {
        g |= HUMAN;
    } else if under(tree, "B01") {
        g |= ANIMAL;
    }
    if MOLECULAR_CELLULAR_TREES
        .iter()
        .any(|root| under(tree, root))
    {
        g |= MOLECULAR_CELLULAR;
    }
    g
}

/// The groups of one descriptor: those any of its tree numbers falls in.
pub(super) fn groups_of_trees<'a>(trees: impl IntoIterator<Item = &'a str>) -> u8 {
    trees.into_iter().fold(0, |g, t| g | groups_of(t))
}

/// The groups of one descriptor given as one string, tree numbers separated by '|' or ';'.
pub(super) fn groups_of_joined(trees: &str) -> u8 {
    groups_of_trees(trees.split(['|', ';']))
}

/// Counts per group over a paper's descriptors.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(super) struct Counts(pub(super) [u64; 3]);

impl Counts {
    pub(super) fn add(&mut self, groups: u8) {
        for (i, bit) in [HUMAN, ANIMAL, MOLECULAR_CELLULAR].into_iter().enumerate() {
            if groups & bit != 0 {
                self.0[i] += 1;
            }
        }
    }

    pub(super) fn append_to(&self, out: &mut [Float64Builder; 3]) {
        let total: u64 = self.0.iter().sum();
        for (b, &c) in out.iter_mut().zip(&self.0) {
            if total == 0 {
                b.append_null();
            } else {
                b.append_value(c as f64 / total as f64);
            }
        }
    }
}

impl ScalarUDFImpl for HamPosition {
    fn name(&self) -> &str {
        NAME
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let usage = "expected ham_position(mesh_tree_numbers List<List<Utf8>> or List<Utf8>)";
        let [t] = arg_types else {
            return plan_err!("{NAME}: {usage}, got {} arguments", arg_types.len());
        };
        let nested = match t {
            DataType::List(f)
            | DataType::LargeList(f)
            | DataType::FixedSizeList(f, _)
            | DataType::ListView(f)
            | DataType::LargeListView(f) => coerce_string_list(f.data_type())
                .filter(|_| f.data_type() != &DataType::Null)
                .map(|inner| DataType::List(Arc::new(Field::new_list_field(inner, true)))),
            _ => None,
        };
        match nested.or_else(|| coerce_string_list(t)) {
            Some(c) => Ok(vec![c]),
            None => plan_err!("{NAME}: {usage}; got {t}"),
        }
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(ham_type())
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        if args.args.len() != 1 {
            return exec_err!("{NAME}: expected 1 argument, got {}", args.args.len());
        }
        let (arrays, was_scalar) = to_arrays(&args.args, args.number_rows)?;
        let input = &arrays[0];
        let Some(papers) = input.as_list_opt::<i32>() else {
            return exec_err!("{NAME}: expected a list, got {}", input.data_type());
        };
        let rows = papers.len();
        let mut out: [Float64Builder; 3] =
            std::array::from_fn(|_| Float64Builder::with_capacity(rows));
        if matches!(papers.values().data_type(), DataType::List(_)) {
            // One inner list per descriptor.
            let (descriptors, trees) = as_string_list(NAME, "mesh_tree_numbers", papers.values())?;
            for row in 0..rows {
                let mut counts = Counts::default();
                for d in row_range(papers, row) {
                    counts.add(groups_of_trees(
                        row_range(descriptors, d).filter_map(|i| str_at(trees, i)),
                    ));
                }
                counts.append_to(&mut out);
            }
        } else {
            // One string per descriptor, tree numbers separated by '|' or ';'.
            let descriptors: &StringArray = match papers.values().as_string_opt::<i32>() {
                Some(s) => s,
                None => return exec_err!("{NAME}: expected strings, got {}", input.data_type()),
            };
            for row in 0..rows {
                let mut counts = Counts::default();
                for d in row_range(papers, row) {
                    if let Some(s) = str_at(descriptors, d) {
                        counts.add(groups_of_joined(s));
                    }
                }
                counts.append_to(&mut out);
            }
        }
        let columns: Vec<ArrayRef> = out
            .iter_mut()
            .map(|b| Arc::new(b.finish()) as ArrayRef)
            .collect();
        let result = StructArray::try_new(ham_fields(), columns, None)?;
        from_array(Arc::new(result), was_scalar)
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&DOCUMENTATION)
    }
}

#[cfg(test)]
mod tests {
    use arrow::array::{ListBuilder, StringBuilder};
    use arrow::datatypes::Float64Type;

    use super::*;
    use crate::test_util::{coerce_and_invoke_array, string_lists};

    /// Papers as lists of descriptors, each a list of tree numbers.
    fn nested(rows: &[Option<Vec<Vec<&str>>>]) -> ArrayRef {
        let mut b = ListBuilder::new(ListBuilder::new(StringBuilder::new()));
        for row in rows {
            match row {
                Some(descriptors) => {
                    for d in descriptors {
                        for t in d {
                            b.values().values().append_value(t);
                        }
                        b.values().append(true);
                    }
                    b.append(true);
                }
                None => b.append(false),
            }
        }
        Arc::new(b.finish())
    }

    fn positions(input: ArrayRef) -> Vec<[Option<f64>; 3]> {
        let out =
            coerce_and_invoke_array(&HamPosition::default(), vec![ColumnarValue::Array(input)]);
        let s = out.as_struct();
        (0..s.len())
            .map(|i| {
                std::array::from_fn(|c| {
                    let col = s.column(c).as_primitive::<Float64Type>();
                    (!col.is_null(i)).then(|| col.value(i))
                })
            })
            .collect()
    }

    #[test]
    fn groups_of_tree_numbers() {
        assert_eq!(groups_of(HUMANS_TREE), HUMAN);
        assert_eq!(groups_of("M01.060.116.100"), HUMAN);
        assert_eq!(groups_of("B01.050.150.900.649.313.992.635.505.500"), ANIMAL);
        assert_eq!(groups_of("B01.050.150.900.649.313.988.400.112.400"), ANIMAL);
        assert_eq!(groups_of("A11.251"), MOLECULAR_CELLULAR);
        assert_eq!(groups_of("B04.280.030"), MOLECULAR_CELLULAR);
        assert_eq!(groups_of("G02.111.570.820"), MOLECULAR_CELLULAR);
        assert_eq!(groups_of("G02.111.57"), 0);
        assert_eq!(groups_of("A110"), 0);
        assert_eq!(groups_of("E02.095.301"), 0);
    }

    #[test]
    fn shares_per_paper() {
        let humans = HUMANS_TREE;
        let got = positions(nested(&[
            // Humans, Mice, Cells Cultured, Genetic Therapy (no group): 1/3 each.
            Some(vec![
                vec![humans],
                vec!["B01.050.150.900.649.313.992.635.505.500"],
                vec!["A11.251"],
                vec!["E02.095.301"],
            ]),
            // Adult + Aged (human), T-Lymphocytes with three trees in A11 and A15: counts once.
            Some(vec![
                vec!["M01.060.116"],
                vec!["M01.060.116.100"],
                vec!["A11.118.637.555.567", "A15.145.229.637.555.567"],
            ]),
            // A descriptor in two groups counts for both: human 1, animal 1, m/c 1 + 1.
            Some(vec![
                vec!["M01.643", "A11.251"],
                vec!["B01.050"],
                vec!["B04"],
            ]),
            // No descriptor in any group, an empty paper, a NULL paper.
            Some(vec![vec!["E05.200"], vec![]]),
            Some(vec![]),
            None,
        ]));
        let third = 1.0 / 3.0;
        assert_eq!(got[0], [Some(third), Some(third), Some(third)]);
        assert_eq!(got[1], [Some(2.0 / 3.0), Some(0.0), Some(third)]);
        assert_eq!(got[2], [Some(0.25), Some(0.25), Some(0.5)]);
        for row in &got[3..] {
            assert_eq!(row, &[None, None, None]);
        }
    }

    #[test]
    fn flat_lists_one_string_per_descriptor() {
        let got = positions(string_lists(&[
            Some(vec![HUMANS_TREE, "A11.872.378|A15.378.316.580", "B01.050"]),
            Some(vec!["M01.060.116;A11.251"]),
        ]));
        let third = 1.0 / 3.0;
        assert_eq!(got[0], [Some(third), Some(third), Some(third)]);
        assert_eq!(got[1], [Some(0.5), Some(0.0), Some(0.5)]);
    }
}
