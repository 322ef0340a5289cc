//! `affiliation_country(text)`: the ISO 3166-1 alpha-2 country of a free-text affiliation.

use std::sync::{Arc, LazyLock};

use arrow::array::{Array, AsArray, StringBuilder};
use arrow::datatypes::DataType;
use bibflow_affiliation::resolve;
use datafusion::common::{exec_err, plan_err};
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

use crate::args::{from_array, to_array};
use crate::doc_sections::DOC_SECTION_COUNTING;

const NAME: &str = "affiliation_country";

static DOCUMENTATION: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        DOC_SECTION_COUNTING,
        "The country (ISO 3166-1 alpha-2) of a free-text affiliation such as PubMed's, resolved \
         from the tables shipped with bibflow (country names and variants, US states and other \
         subdivisions, large cities, e-mail domains), the same resolver `bibflow ingest pubmed` \
         uses for `authorships.affiliation_countries`. NULL when nothing resolves. Measured \
         precision and coverage: docs/affiliation-countries.md.",
        "affiliation_country(text)",
    )
    .with_sql_example(
        r#"```sql
> SELECT affiliation_country('Dept. of Medicine, Boston, MA 02115, USA. Electronic address: x@y.edu');
US
```"#,
    )
    .with_argument("text", "An affiliation string (Utf8).")
    .with_related_udf("country_region")
    .build()
});

/// `affiliation_country(text)`: the country of an affiliation string, or NULL.
///
/// ```
/// # use datafusion::prelude::SessionContext;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> datafusion::error::Result<()> {
/// let ctx = SessionContext::new();
/// bibflow_udfs::register_all(&ctx)?;
/// let batches = ctx.sql("SELECT affiliation_country('Kyoto University, Kyoto, Japan.') AS c")
///     .await?.collect().await?;
/// let c = arrow::compute::cast(batches[0].column(0), &arrow::datatypes::DataType::Utf8)?;
/// assert_eq!(arrow::array::AsArray::as_string::<i32>(&c).value(0), "JP");
/// # Ok(())
/// # }
/// ```
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct AffiliationCountry {
    signature: Signature,
}

impl Default for AffiliationCountry {
    fn default() -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for AffiliationCountry {
    fn name(&self) -> &str {
        NAME
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        match arg_types {
            [DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Null] => {
                Ok(vec![DataType::Utf8])
            }
            _ => plan_err!("{NAME}: expected one string argument, got {arg_types:?}"),
        }
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let [arg] = args.args.as_slice() else {
            return exec_err!("{NAME}: expected one argument, got {}", args.args.len());
        };
        let (array, was_scalar) = to_array(arg)?;
        let texts = array.as_string::<i32>();
        let mut out = StringBuilder::with_capacity(texts.len(), texts.len() * 2);
        for t in texts.iter() {
            out.append_option(t.and_then(resolve).map(|r| r.country));
        }
        from_array(Arc::new(out.finish()), was_scalar)
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&DOCUMENTATION)
    }
}

#[cfg(test)]
mod tests {
    use arrow::array::{ArrayRef, StringArray};

    use super::*;
    use crate::test_util::invoke_array;

    #[test]
    fn resolves_like_the_ingest() {
        let texts: ArrayRef = Arc::new(StringArray::from(vec![
            Some(
                "Division of Cancer Epidemiology, National Cancer Institute, Rockville, Maryland, USA.",
            ),
            Some(
                "Dipartimento di Scienze Ambientali, Universit\u{e0} della Tuscia, 01100 Viterbo, Italy.",
            ),
            Some("Department of Hematology, Peking University, Beijing 100871, PR China"),
            Some("no place at all"),
            None,
        ]));
        let out = invoke_array(
            &AffiliationCountry::default(),
            vec![ColumnarValue::Array(texts)],
        );
        let got: Vec<_> = out.as_string::<i32>().iter().collect();
        assert_eq!(got, vec![Some("US"), Some("IT"), Some("CN"), None, None]);
    }
}
