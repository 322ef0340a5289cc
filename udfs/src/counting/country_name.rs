//! `country_name(code)`: the English short name of an ISO 3166-1 alpha-2 country code.

use std::sync::{Arc, LazyLock};

use arrow::array::{ArrayRef, StringArray};
use arrow::datatypes::DataType;
use datafusion::logical_expr::Documentation;

use super::country_lookup::{CountryColumn, CountryLookup};
use super::country_table::Country;
use crate::doc_sections::DOC_SECTION_COUNTING;

static DOCUMENTATION: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        DOC_SECTION_COUNTING,
        "The English short name of an ISO 3166-1 alpha-2 country code, from the table shipped \
         with bibflow (`udfs/data/countries.csv`). Case and surrounding spaces are ignored; an \
         unknown code gives NULL.",
        "country_name(code)",
    )
    .with_sql_example(
        r#"```sql
> SELECT country_name('gb'), country_name('CI');
United Kingdom | Côte d'Ivoire
```"#,
    )
    .with_argument("code", "ISO 3166-1 alpha-2 country code (Utf8).")
    .with_related_udf("country_region")
    .build()
});

/// `country_name(code)`: the English short name of a country code, NULL when the code is unknown.
///
/// ```
/// # use datafusion::prelude::SessionContext;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> datafusion::error::Result<()> {
/// let ctx = SessionContext::new();
/// bibflow_udfs::register_all(&ctx)?;
/// let batches = ctx.sql("SELECT country_name('NL') AS n").await?.collect().await?;
/// let n = arrow::compute::cast(batches[0].column(0), &arrow::datatypes::DataType::Utf8)?;
/// assert_eq!(arrow::array::AsArray::as_string::<i32>(&n).value(0), "Netherlands");
/// # Ok(())
/// # }
/// ```
pub type CountryName = CountryLookup<NameColumn>;

/// The `name` column of the country table, as [`CountryName`] returns it.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct NameColumn;

impl CountryColumn for NameColumn {
    const NAME: &'static str = "country_name";

    fn return_type() -> DataType {
        DataType::Utf8
    }

    fn documentation() -> &'static Documentation {
        &DOCUMENTATION
    }

    fn column(rows: &mut dyn Iterator<Item = Option<&'static Country>>) -> ArrayRef {
        Arc::new(rows.map(|c| c.map(|c| c.name)).collect::<StringArray>())
    }
}

#[cfg(test)]
mod tests {
    use arrow::array::AsArray;
    use datafusion::logical_expr::ColumnarValue;

    use super::*;
    use crate::test_util::invoke_array;

    #[test]
    fn names_of_codes() {
        let codes: ArrayRef = Arc::new(StringArray::from(vec![
            Some("US"),
            Some("ci"),
            Some("SH"),
            Some("XK"),
            Some("QQ"),
            None,
        ]));
        let out = invoke_array(&CountryName::default(), vec![ColumnarValue::Array(codes)]);
        let got: Vec<_> = out.as_string::<i32>().iter().collect();
        assert_eq!(
            got,
            [
                Some("United States"),
                Some("Côte d'Ivoire"),
                Some("Saint Helena, Ascension and Tristan da Cunha"),
                Some("Kosovo"),
                None,
                None
            ]
        );
    }
}
