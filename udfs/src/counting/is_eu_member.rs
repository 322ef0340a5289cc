//! `is_eu_member(code)`: whether a country is one of the 27 member states of the European Union.

use std::sync::{Arc, LazyLock};

use arrow::array::{ArrayRef, BooleanArray};
use arrow::datatypes::DataType;
use datafusion::logical_expr::Documentation;

use super::country_lookup::{CountryColumn, CountryLookup};
use super::country_table::Country;
use crate::doc_sections::DOC_SECTION_COUNTING;

static DOCUMENTATION: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        DOC_SECTION_COUNTING,
        "Whether an ISO 3166-1 alpha-2 country code is one of the 27 current member states of \
         the European Union (`udfs/data/countries.csv`). Case and surrounding spaces are \
         ignored; an unknown code gives NULL, a known non-member false.",
        "is_eu_member(code)",
    )
    .with_sql_example(
        r#"```sql
> SELECT is_eu_member('fr'), is_eu_member('GB'), is_eu_member('XX');
true | false | NULL
```"#,
    )
    .with_argument("code", "ISO 3166-1 alpha-2 country code (Utf8).")
    .with_related_udf("country_region")
    .build()
});

/// `is_eu_member(code)`: `true` for the 27 EU member states, `false` for other known codes, NULL
/// for unknown codes.
///
/// ```
/// # use datafusion::prelude::SessionContext;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> datafusion::error::Result<()> {
/// let ctx = SessionContext::new();
/// bibflow_udfs::register_all(&ctx)?;
/// let batches = ctx.sql("SELECT is_eu_member('PL') AS eu").await?.collect().await?;
/// assert!(arrow::array::AsArray::as_boolean(batches[0].column(0)).value(0));
/// # Ok(())
/// # }
/// ```
pub type IsEuMember = CountryLookup<EuMemberColumn>;

/// The `eu_member` column of the country table, as [`IsEuMember`] returns it.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct EuMemberColumn;

impl CountryColumn for EuMemberColumn {
    const NAME: &'static str = "is_eu_member";

    fn return_type() -> DataType {
        DataType::Boolean
    }

    fn documentation() -> &'static Documentation {
        &DOCUMENTATION
    }

    fn column(rows: &mut dyn Iterator<Item = Option<&'static Country>>) -> ArrayRef {
        Arc::new(
            rows.map(|c| c.map(|c| c.eu_member))
                .collect::<BooleanArray>(),
        )
    }
}

#[cfg(test)]
mod tests {
    use arrow::array::{AsArray, StringArray};
    use datafusion::logical_expr::ColumnarValue;

    use super::*;
    use crate::test_util::invoke_array;

    #[test]
    fn membership() {
        let codes: ArrayRef = Arc::new(StringArray::from(vec![
            Some("DE"),
            Some("hr"),
            Some("GB"),
            Some("CH"),
            Some("AX"),
            Some("XX"),
            None,
        ]));
        let out = invoke_array(&IsEuMember::default(), vec![ColumnarValue::Array(codes)]);
        let got: Vec<_> = out.as_boolean().iter().collect();
        assert_eq!(
            got,
            [
                Some(true),
                Some(true),
                Some(false),
                Some(false),
                Some(false),
                None,
                None
            ]
        );
    }
}
