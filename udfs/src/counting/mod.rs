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
//!
//! `country_name`, `country_region` and `is_eu_member` are one lookup in the compiled-in country
//! table under three names, each returning one column of the code's row and documented on its own.

mod affiliation_country;
mod collab_type;
mod country_codes;
mod country_lookup;
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
pub use country_region::CountryRegion;
pub use country_shares::{CountingMode, CountryShares};
pub use country_shares_agg::CountrySharesAgg;
pub use country_table::REGIONS;
pub use h_index::{HIndex, h_index_of};
pub use is_eu_member::IsEuMember;

functions! {
    scalar: [
        CountryShares,
        CollabType,
        CountryPairs,
        CountryRegion,
        CountryName,
        IsEuMember,
        AffiliationCountry,
    ],
    aggregate: [HIndex, CountrySharesAgg],
    window: [],
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
