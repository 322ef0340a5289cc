//! `country_region(code)`: the world region of an ISO 3166-1 alpha-2 country code.

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
        "The world region of an ISO 3166-1 alpha-2 country code, from the table shipped with \
         bibflow (`udfs/data/countries.csv`): North America, Latin America and Caribbean, Europe, \
         East Asia, South Asia, Southeast Asia, Central Asia, Middle East and North Africa, \
         Sub-Saharan Africa or Oceania. Case and surrounding spaces are ignored; an unknown code \
         gives NULL. HK and MO are East Asia.",
        "country_region(code)",
    )
    .with_sql_example(
        r#"```sql
> SELECT country_region('de'), country_region('BR'), country_region('XX');
Europe | Latin America and Caribbean | NULL
```"#,
    )
    .with_argument("code", "ISO 3166-1 alpha-2 country code (Utf8).")
    .with_related_udf("country_name")
    .with_related_udf("is_eu_member")
    .build()
});

/// `country_region(code)`: the world region of a country code, NULL when the code is unknown.
///
/// ```
/// # use datafusion::prelude::SessionContext;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> datafusion::error::Result<()> {
/// let ctx = SessionContext::new();
/// bibflow_udfs::register_all(&ctx)?;
/// let batches = ctx.sql("SELECT country_region('jp') AS r").await?.collect().await?;
/// let r = arrow::compute::cast(batches[0].column(0), &arrow::datatypes::DataType::Utf8)?;
/// assert_eq!(arrow::array::AsArray::as_string::<i32>(&r).value(0), "East Asia");
/// # Ok(())
/// # }
/// ```
pub type CountryRegion = CountryLookup<RegionColumn>;

/// The `region` column of the country table (one of [`REGIONS`](super::REGIONS)), as
/// [`CountryRegion`] returns it.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct RegionColumn;

impl CountryColumn for RegionColumn {
    const NAME: &'static str = "country_region";

    fn return_type() -> DataType {
        DataType::Utf8
    }

    fn documentation() -> &'static Documentation {
        &DOCUMENTATION
    }

    fn column(rows: &mut dyn Iterator<Item = Option<&'static Country>>) -> ArrayRef {
        Arc::new(rows.map(|c| c.map(|c| c.region)).collect::<StringArray>())
    }
}

#[cfg(test)]
mod tests {
    use arrow::array::{Array, AsArray, LargeStringArray, StringViewArray};
    use datafusion::common::ScalarValue;
    use datafusion::logical_expr::ColumnarValue;

    use super::*;
    use crate::counting::country_table::REGIONS;
    use crate::test_util::{invoke, invoke_array};

    #[test]
    fn regions_of_codes() {
        let codes: ArrayRef = Arc::new(StringArray::from(vec![
            Some("US"),
            Some("br"),
            Some(" DE "),
            Some("HK"),
            Some("IN"),
            Some("VN"),
            Some("KZ"),
            Some("EG"),
            Some("NG"),
            Some("NZ"),
            Some("XX"),
            None,
            Some(""),
        ]));
        let out = invoke_array(&CountryRegion::default(), vec![ColumnarValue::Array(codes)]);
        let out = out.as_string::<i32>();
        let got: Vec<_> = out.iter().collect();
        let mut expected: Vec<_> = REGIONS.iter().map(|r| Some(*r)).collect();
        // North America, Latin America, Europe, East Asia, South Asia, Southeast Asia, Central
        // Asia, MENA, Sub-Saharan Africa, Oceania: one code each, then three unknowns.
        expected.extend([None, None, None]);
        assert_eq!(got, expected);
    }

    #[test]
    fn every_string_type_and_scalars() {
        for codes in [
            Arc::new(LargeStringArray::from(vec![Some("CA"), None])) as ArrayRef,
            Arc::new(StringViewArray::from(vec![Some("CA"), None])) as ArrayRef,
        ] {
            let out = invoke_array(&CountryRegion::default(), vec![ColumnarValue::Array(codes)]);
            let out = out.as_string::<i32>();
            assert_eq!(out.value(0), "North America");
            assert!(out.is_null(1));
        }
        let out = invoke(
            &CountryRegion::default(),
            vec![ColumnarValue::Scalar(ScalarValue::from("AU"))],
        )
        .unwrap();
        let ColumnarValue::Scalar(ScalarValue::Utf8(Some(r))) = out else {
            panic!("expected a Utf8 scalar, got {out:?}")
        };
        assert_eq!(r, "Oceania");
    }
}
