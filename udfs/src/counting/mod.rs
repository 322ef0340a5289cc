//! Country counting, collaboration and h-index functions.
//!
//! | SQL                                                   | returns                                        |
//! |-------------------------------------------------------|------------------------------------------------|
//! | `country_shares(author_countries, mode [, keep_hk_mo])` | `List<Struct<country Utf8, weight Float64>>` |
//! | `collab_type(countries [, keep_hk_mo])`               | `'single-country'`, `'international'`, `'unknown'` |
//! | `country_pairs(countries, mode [, keep_hk_mo])`       | `List<Struct<a Utf8, b Utf8, weight Float64>>` |
//! | `country_region(code)`, `country_name(code)`          | `Utf8` (NULL for an unknown code)              |
//! | `is_eu_member(code)`                                  | `Boolean` (NULL for an unknown code)           |
//! | `country_shares_agg(countries, mode [, keep_hk_mo])` (aggregate) | `country_shares` over one row per author |
//! | `h_index(citations)` (aggregate)                      | `Int64`                                        |
//!
//! The struct lists are meant to be unnested and summed. `unnest` of a list of structs gives one
//! struct per row; read its fields with `s['field']` in an outer query:
//!
//! ```sql
//! SELECT s['country'] AS country, sum(s['weight']) AS p
//! FROM (SELECT unnest(country_shares(array_agg(institution_countries ORDER BY author_position),
//!                                    'author')) AS s
//!       FROM authorships GROUP BY work_id)
//! GROUP BY 1
//! ```
//!
//! The per-paper country list for `collab_type` and `country_pairs` is
//! `flatten(array_agg(countries))` over the paper's authorships.

mod affiliation_country;
mod collab_type;
pub(crate) mod common;
mod country_name;
mod country_pairs;
mod country_region;
mod country_shares;
mod country_shares_agg;
mod country_table;
mod h_index;
mod is_eu_member;

pub use affiliation_country::AffiliationCountry;
pub use collab_type::CollabType;
pub use country_name::CountryName;
pub use country_pairs::{CountryPairs, PairMode};
pub use country_region::{CountryRegion, REGIONS};
pub use country_shares::{CountingMode, CountryShares};
pub use country_shares_agg::CountrySharesAgg;
pub use h_index::{HIndex, h_index_of};
pub use is_eu_member::IsEuMember;

use datafusion::error::Result;
use datafusion::logical_expr::{AggregateUDF, ScalarUDF};
use datafusion::prelude::SessionContext;

/// Lists scalar functions by type, so the list below is the single place that names them.
macro_rules! scalar_functions {
    ($($udf:ty),* $(,)?) => {
        /// Every scalar function of this module, freshly constructed.
        pub fn scalar_functions() -> Vec<ScalarUDF> {
            vec![$(ScalarUDF::from(<$udf>::default())),*]
        }
    };
}

scalar_functions!(
    CountryShares,
    CollabType,
    CountryPairs,
    CountryRegion,
    CountryName,
    IsEuMember,
    AffiliationCountry,
);

/// Every aggregate function of this module, freshly constructed.
pub fn aggregate_functions() -> Vec<AggregateUDF> {
    vec![
        AggregateUDF::from(HIndex::default()),
        AggregateUDF::from(CountrySharesAgg::default()),
    ]
}

/// Registers the functions of this module.
pub fn register(ctx: &SessionContext) -> Result<()> {
    for udf in scalar_functions() {
        ctx.register_udf(udf);
    }
    for udaf in aggregate_functions() {
        ctx.register_udaf(udaf);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn names_are_unique_and_documented() {
        let mut names = HashSet::new();
        for f in scalar_functions() {
            assert!(names.insert(f.name().to_string()), "{} twice", f.name());
            assert!(f.documentation().is_some(), "{} undocumented", f.name());
        }
        for f in aggregate_functions() {
            assert!(names.insert(f.name().to_string()), "{} twice", f.name());
            assert!(f.documentation().is_some(), "{} undocumented", f.name());
        }
        assert_eq!(names.len(), 9);
    }
}
