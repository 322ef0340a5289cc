//! `mesh_tree_numbers(descriptor_ui)`: the MeSH tree numbers of a descriptor.

use std::sync::{Arc, LazyLock};

use arrow::array::{Array, ListBuilder, StringBuilder};
use arrow::datatypes::{DataType, Field};
use datafusion::common::{exec_err, plan_err};
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

use super::mesh_table::TREES;
use crate::args::{as_string, coerce_string, from_array, list_of_utf8, to_arrays};
use crate::doc_sections::DOC_SECTION_CLASSIFY;

const NAME: &str = "mesh_tree_numbers";

static DOCUMENTATION: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        DOC_SECTION_CLASSIFY,
        "The MeSH tree numbers of a descriptor UI, from the compact table shipped with bibflow \
         (`udfs/data/mesh_trees.tsv`: the check tags, the organisms, cells and persons the \
         Human/Animal/Molecular-Cellular groups need, and the descriptors of the modality rules). \
         NULL for a UI not in the table. For a whole corpus, load the full MeSH table as \
         described in udfs/rules/README.md and join it instead.",
        "mesh_tree_numbers(descriptor_ui)",
    )
    .with_sql_example(
        r#"```sql
> SELECT work_id, ham_position(array_agg(mesh_tree_numbers(descriptor_ui)))
  FROM work_mesh GROUP BY work_id;
> SELECT mesh_tree_numbers('D051379'), mesh_tree_numbers('D999999');
[B01.050.150.900.649.313.992.635.505.500] | NULL
```"#,
    )
    .with_argument(
        "descriptor_ui",
        "Utf8: a MeSH descriptor UI (D051379); case and spaces ignored.",
    )
    .with_related_udf("ham_position")
    .build()
});

/// `mesh_tree_numbers(descriptor_ui)` -> `List<Utf8>`, NULL for a UI not in the shipped table.
///
/// ```
/// # use datafusion::prelude::SessionContext;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> datafusion::error::Result<()> {
/// let ctx = SessionContext::new();
/// bibflow_udfs::register_all(&ctx)?;
/// let sql = "SELECT array_to_string(mesh_tree_numbers('d002478'), ',') AS t";
/// let batches = ctx.sql(sql).await?.collect().await?;
/// let t = arrow::compute::cast(batches[0].column(0), &arrow::datatypes::DataType::Utf8)?;
/// assert_eq!(arrow::array::AsArray::as_string::<i32>(&t).value(0), "A11.251");
/// # Ok(())
/// # }
/// ```
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct MeshTreeNumbers {
    signature: Signature,
}

impl Default for MeshTreeNumbers {
    fn default() -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for MeshTreeNumbers {
    fn name(&self) -> &str {
        NAME
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        match arg_types {
            [t] => match coerce_string(t) {
                Some(s) => Ok(vec![s]),
                None => plan_err!("{NAME}: expected a descriptor UI (Utf8), got {t}"),
            },
            _ => plan_err!("{NAME}: expected 1 argument, got {}", arg_types.len()),
        }
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(list_of_utf8())
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        if args.args.len() != 1 {
            return exec_err!("{NAME}: expected 1 argument, got {}", args.args.len());
        }
        let trees = match TREES.as_ref() {
            Ok(t) => t,
            Err(e) => return exec_err!("{NAME}: {e}"),
        };
        let (arrays, was_scalar) = to_arrays(&args.args, args.number_rows)?;
        let uis = as_string(NAME, "descriptor_ui", &arrays[0])?;
        let mut out = ListBuilder::with_capacity(StringBuilder::new(), uis.len())
            .with_field(Arc::new(Field::new_list_field(DataType::Utf8, true)));
        let mut key = String::new();
        for row in 0..uis.len() {
            if uis.is_null(row) {
                out.append_null();
                continue;
            }
            key.clear();
            key.extend(
                uis.value(row)
                    .trim()
                    .chars()
                    .map(|c| c.to_ascii_uppercase()),
            );
            match trees.get(key.as_str()) {
                Some(numbers) => {
                    for t in numbers {
                        out.values().append_value(t);
                    }
                    out.append(true);
                }
                None => out.append_null(),
            }
        }
        from_array(Arc::new(out.finish()), was_scalar)
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&DOCUMENTATION)
    }
}

#[cfg(test)]
mod tests {
    use arrow::array::{ArrayRef, AsArray, StringArray};

    use super::*;
    use crate::test_util::coerce_and_invoke_array;

    #[test]
    fn looks_up_uis() {
        let uis: ArrayRef = Arc::new(StringArray::from(vec![
            Some("D006412"),
            Some(" d051381 "),
            Some("D999999"),
            None,
        ]));
        let out =
            coerce_and_invoke_array(&MeshTreeNumbers::default(), vec![ColumnarValue::Array(uis)]);
        let out = out.as_list::<i32>();
        let got: Vec<Option<Vec<String>>> = (0..out.len())
            .map(|i| {
                (!out.is_null(i)).then(|| {
                    out.value(i)
                        .as_string::<i32>()
                        .iter()
                        .map(|v| v.unwrap().to_string())
                        .collect()
                })
            })
            .collect();
        assert_eq!(
            got,
            [
                Some(vec![
                    "A11.872.378".to_string(),
                    "A15.378.316.580".to_string()
                ]),
                Some(vec!["B01.050.150.900.649.313.992.635.505.700".to_string()]),
                None,
                None,
            ]
        );
    }
}
