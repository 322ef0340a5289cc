//! `modalities(mesh_names, title, abstract [, rules])`: the therapy modalities of a paper.

use std::sync::{Arc, LazyLock};

use arrow::array::{Array, ListBuilder, StringBuilder};
use arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::{ScalarValue, exec_err, plan_err};
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDFImpl, Signature,
    Volatility,
};

use super::rules::{Rules, Scratch, rules_for};
use crate::args::{
    as_string, as_string_list, coerce_string, coerce_string_list, from_array, list_of_utf8,
    row_range, str_at, to_arrays,
};
use crate::doc_sections::DOC_SECTION_CLASSIFY;

const NAME: &str = "modalities";

static DOCUMENTATION: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        DOC_SECTION_CLASSIFY,
        "The therapy modalities of a paper (multi-label), from its MeSH descriptor names and the \
         words of its title and abstract, by rules that are data: 'HSCT', 'MSC', 'ex vivo GT', \
         'in vivo GT', 'GT unspecified' with the default rules (`udfs/rules/modalities.tsv`). \
         A gene therapy paper with a cell-engineering marker is 'ex vivo GT'; otherwise, with a \
         directly administered vector, 'in vivo GT'; otherwise 'GT unspecified'. Text matching is \
         case-insensitive and by whole words ('HSCT' is not found inside another word; 'ex vivo' \
         and 'ex-vivo' are alike); British spellings are listed in the rules. Labels come in the \
         order of the rules file; a paper without any is an empty list; NULL only when MeSH, \
         title and abstract are all NULL. A NULL MeSH list (a paper without MeSH) is classified \
         by its text alone.",
        "modalities(mesh_names, title, abstract [, rules])",
    )
    .with_sql_example(
        r#"```sql
> SELECT w.work_id, modalities(m.names, w.title, w.abstract)
  FROM works w
  LEFT JOIN (SELECT work_id, array_agg(descriptor_name) AS names
             FROM work_mesh GROUP BY work_id) m USING (work_id);
> SELECT modalities(['Genetic Therapy', 'Dependovirus'], 'AAV9 gene therapy', NULL);
[in vivo GT]
```"#,
    )
    .with_argument(
        "mesh_names",
        "List<Utf8>: the paper's MeSH descriptor names (or UIs); NULL for none.",
    )
    .with_argument("title", "Utf8: the title; NULL for none.")
    .with_argument("abstract", "Utf8: the abstract; NULL for none.")
    .with_argument(
        "rules",
        "Optional constant Utf8: the TEXT of a rules file (LABEL<TAB>KIND<TAB>TERM lines, see \
         udfs/rules/README.md) replacing the default rules; NULL means the default.",
    )
    .with_related_udf("clinical_stage")
    .build()
});

/// `modalities(mesh_names, title, abstract [, rules])` -> `List<Utf8>` of modality labels.
///
/// The rules are data: the default is `udfs/rules/modalities.tsv`, compiled in; a fourth,
/// constant argument gives the text of other rules, compiled once per distinct text (the function
/// itself holds no state, so it can be rebuilt by name).
///
/// ```
/// # use datafusion::prelude::SessionContext;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> datafusion::error::Result<()> {
/// let ctx = SessionContext::new();
/// bibflow_udfs::register_all(&ctx)?;
/// let sql = "SELECT array_to_string(modalities(NULL, 'CAR-T cells for lymphoma', NULL), ',') AS m";
/// let batches = ctx.sql(sql).await?.collect().await?;
/// let m = arrow::compute::cast(batches[0].column(0), &arrow::datatypes::DataType::Utf8)?;
/// assert_eq!(arrow::array::AsArray::as_string::<i32>(&m).value(0), "ex vivo GT");
/// # Ok(())
/// # }
/// ```
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct Modalities {
    signature: Signature,
}

impl Default for Modalities {
    fn default() -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

/// Reads the optional constant rules argument.
fn rules_arg(value: Option<&ColumnarValue>) -> Result<Arc<Rules>> {
    let text = match value {
        None => None,
        Some(ColumnarValue::Scalar(s)) => match s.try_as_str() {
            Some(t) => t,
            None => return exec_err!("{NAME}: `rules` must be a string, got {}", s.data_type()),
        },
        Some(ColumnarValue::Array(_)) => {
            return exec_err!(
                "{NAME}: `rules` must be a constant (the text of a rules file), not a column"
            );
        }
    };
    match rules_for(text) {
        Ok(r) => Ok(r),
        Err(e) => exec_err!("{NAME}: rules {e}"),
    }
}

impl ScalarUDFImpl for Modalities {
    fn name(&self) -> &str {
        NAME
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let usage =
            "expected modalities(mesh_names List<Utf8>, title Utf8, abstract Utf8 [, rules Utf8])";
        if !(3..=4).contains(&arg_types.len()) {
            return plan_err!("{NAME}: {usage}, got {} arguments", arg_types.len());
        }
        let Some(list) = coerce_string_list(&arg_types[0]) else {
            return plan_err!("{NAME}: {usage}; mesh_names is {}", arg_types[0]);
        };
        let mut out = vec![list];
        for (t, arg) in arg_types[1..].iter().zip(["title", "abstract", "rules"]) {
            let Some(s) = coerce_string(t) else {
                return plan_err!("{NAME}: {usage}; {arg} is {t}");
            };
            out.push(s);
        }
        Ok(out)
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(list_of_utf8())
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs<'_>) -> Result<FieldRef> {
        // Rules given as a literal are compiled (and cached) here, so a bad file fails at planning.
        if let Some(Some(s)) = args.scalar_arguments.get(3) {
            let text = match s {
                ScalarValue::Null => None,
                s => match s.try_as_str() {
                    Some(t) => t,
                    None => {
                        return plan_err!(
                            "{NAME}: `rules` must be a string, got {}",
                            s.data_type()
                        );
                    }
                },
            };
            if let Err(e) = rules_for(text) {
                return plan_err!("{NAME}: rules {e}");
            }
        }
        Ok(Arc::new(Field::new(NAME, list_of_utf8(), true)))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        if !(3..=4).contains(&args.args.len()) {
            return exec_err!("{NAME}: expected 3 or 4 arguments, got {}", args.args.len());
        }
        let rules = rules_arg(args.args.get(3))?;
        let (arrays, was_scalar) = to_arrays(&args.args[..3], args.number_rows)?;
        let (mesh, names) = as_string_list(NAME, "mesh_names", &arrays[0])?;
        let title = as_string(NAME, "title", &arrays[1])?;
        let abstract_ = as_string(NAME, "abstract", &arrays[2])?;

        let rows = mesh.len();
        let mut out = ListBuilder::with_capacity(StringBuilder::new(), rows)
            .with_field(Arc::new(Field::new_list_field(DataType::Utf8, true)));
        let mut scratch = Scratch::default();
        for row in 0..rows {
            if mesh.is_null(row) && title.is_null(row) && abstract_.is_null(row) {
                out.append_null();
                continue;
            }
            rules.start(&mut scratch);
            for i in row_range(mesh, row) {
                if let Some(name) = str_at(names, i) {
                    rules.scan_mesh(&mut scratch, name);
                }
            }
            for text in [str_at(title, row), str_at(abstract_, row)]
                .into_iter()
                .flatten()
            {
                rules.scan_text(&mut scratch, text);
            }
            rules.finish(&scratch, |label| out.values().append_value(label));
            out.append(true);
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
    use crate::test_util::{coerce_and_invoke, coerce_and_invoke_array, string_lists};

    type Paper<'a> = (Option<Vec<&'a str>>, Option<&'a str>, Option<&'a str>);

    fn labels_with(papers: &[Paper<'_>], rules: Option<&str>) -> Vec<Option<Vec<String>>> {
        let mesh = string_lists(&papers.iter().map(|p| p.0.clone()).collect::<Vec<_>>());
        let title: ArrayRef = Arc::new(papers.iter().map(|p| p.1).collect::<StringArray>());
        let abstract_: ArrayRef = Arc::new(papers.iter().map(|p| p.2).collect::<StringArray>());
        let mut args = vec![
            ColumnarValue::Array(mesh),
            ColumnarValue::Array(title),
            ColumnarValue::Array(abstract_),
        ];
        if let Some(r) = rules {
            args.push(ColumnarValue::Scalar(ScalarValue::Utf8(Some(r.into()))));
        }
        let out = coerce_and_invoke_array(&Modalities::default(), args);
        let out = out.as_list::<i32>();
        (0..out.len())
            .map(|i| {
                (!out.is_null(i)).then(|| {
                    out.value(i)
                        .as_string::<i32>()
                        .iter()
                        .map(|v| v.unwrap().to_string())
                        .collect()
                })
            })
            .collect()
    }

    fn labels(paper: Paper<'_>) -> Vec<String> {
        labels_with(&[paper], None).remove(0).unwrap()
    }

    #[test]
    fn car_t_is_ex_vivo() {
        let p = (
            Some(vec!["Humans", "Receptors, Chimeric Antigen", "Lymphoma"]),
            Some("CD19-directed CAR-T cells in relapsed lymphoma"),
            Some("Patients received an AAV-free, lentiviral product."),
        );
        // An in vivo word (AAV) does not win over the cell-engineering marker.
        assert_eq!(labels(p), ["ex vivo GT"]);
        // Before the MeSH descriptor existed: text alone.
        assert_eq!(
            labels((None, Some("T cells with a chimeric antigen receptor"), None)),
            ["ex vivo GT"]
        );
    }

    #[test]
    fn aav_without_ex_vivo_marker_is_in_vivo() {
        let p = (
            Some(vec!["Genetic Therapy", "Dependovirus", "Mice"]),
            Some("Systemic AAV9 delivery corrects the phenotype"),
            None,
        );
        assert_eq!(labels(p), ["in vivo GT"]);
        assert_eq!(
            labels((
                None,
                Some("Adeno-associated virus gene therapy for hemophilia B"),
                None
            )),
            ["in vivo GT"]
        );
        // AAV as a lab tool, without gene therapy, is no modality.
        assert!(
            labels((
                None,
                Some("AAV-mediated knockdown in the hippocampus"),
                None
            ))
            .is_empty()
        );
    }

    #[test]
    fn gene_therapy_alone_is_unspecified() {
        assert_eq!(
            labels((None, Some("Gene therapy: promises and pitfalls"), None)),
            ["GT unspecified"]
        );
        assert_eq!(
            labels((Some(vec!["genetic therapy"]), None, None)),
            ["GT unspecified"]
        );
    }

    #[test]
    fn hsct_needs_transplantation_and_whole_words() {
        assert!(
            labels((
                None,
                Some("Bone marrow stromal niches"),
                Some("bone marrow aspirates")
            ))
            .is_empty()
        );
        assert_eq!(
            labels((
                None,
                Some("Outcomes after bone marrow transplantation"),
                None
            )),
            ["HSCT"]
        );
        assert_eq!(
            labels((
                None,
                None,
                Some("Allogeneic haematopoietic stem-cell transplantation in AML")
            )),
            ["HSCT"]
        );
        assert_eq!(
            labels((None, Some("Relapse after allo-HSCT"), None)),
            ["HSCT"]
        );
        assert!(labels((None, Some("The pHSCTx plasmid and HSCT1 gene"), None)).is_empty());
        assert!(labels((None, Some("bone marrow. Transplantation outcomes"), None)).is_empty());
        assert_eq!(
            labels((Some(vec!["Bone Marrow Transplantation"]), None, None)),
            ["HSCT"]
        );
    }

    #[test]
    fn multi_label_and_msc_context() {
        let p = (
            Some(vec![
                "Mesenchymal Stem Cells",
                "Hematopoietic Stem Cell Transplantation",
            ]),
            Some("Co-infusion of mesenchymal stromal cells with HSCT"),
            None,
        );
        assert_eq!(labels(p), ["HSCT", "MSC"]);
        // The descriptor alone needs a therapy context.
        assert!(
            labels((
                Some(vec!["Mesenchymal Stem Cells"]),
                Some("Osteogenic differentiation"),
                None
            ))
            .is_empty()
        );
        assert_eq!(
            labels((
                Some(vec!["Mesenchymal Stem Cells"]),
                Some("Intravenous injection in rats"),
                None
            )),
            ["MSC"]
        );
        // Gene-modified HSCs: both HSCT and ex vivo gene therapy.
        assert_eq!(
            labels((
                Some(vec!["Genetic Therapy", "Hematopoietic Stem Cells"]),
                Some("Lentiviral gene therapy with autologous stem cell transplantation"),
                None
            )),
            ["HSCT", "ex vivo GT"]
        );
    }

    #[test]
    fn nulls() {
        let got = labels_with(
            &[
                (None, None, None),
                (Some(vec![]), None, None),
                (None, Some(""), None),
            ],
            None,
        );
        assert_eq!(got, [None, Some(vec![]), Some(vec![])]);
    }

    #[test]
    fn custom_rules_change_the_result() {
        let p = (None, Some("Gene therapy with CRISPR base editors"), None);
        assert_eq!(labels(p.clone()), ["GT unspecified"]);
        let rules = "# my rules\nediting\ttext\tbase|prime editor*\nediting\ttext\tcrispr\n";
        assert_eq!(
            labels_with(&[p], Some(rules)),
            [Some(vec!["editing".to_string()])]
        );
        let bad = coerce_and_invoke(
            &Modalities::default(),
            vec![
                ColumnarValue::Scalar(ScalarValue::Null),
                ColumnarValue::Scalar(ScalarValue::Utf8(Some("x".into()))),
                ColumnarValue::Scalar(ScalarValue::Null),
                ColumnarValue::Scalar(ScalarValue::Utf8(Some("A\tbogus\tx".into()))),
            ],
        )
        .unwrap_err();
        assert!(
            bad.to_string()
                .contains("rules line 1: unknown kind 'bogus'"),
            "{bad}"
        );
    }

    #[test]
    fn scalars_give_a_scalar() {
        let out = coerce_and_invoke(
            &Modalities::default(),
            vec![
                ColumnarValue::Scalar(ScalarValue::Null),
                ColumnarValue::Scalar(ScalarValue::Utf8(Some("CAR-NK cells".into()))),
                ColumnarValue::Scalar(ScalarValue::Null),
            ],
        )
        .unwrap();
        let ColumnarValue::Scalar(ScalarValue::List(l)) = out else {
            panic!("expected a list scalar, got {out:?}");
        };
        assert_eq!(l.value(0).as_string::<i32>().value(0), "ex vivo GT");
    }
}
