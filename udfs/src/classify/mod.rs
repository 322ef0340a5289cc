//! Clinical translation functions (`docs/indicators.md`, "Clinical translation" and "Modalities").
//!
//! | SQL                                                    | returns                                         |
//! |--------------------------------------------------------|-------------------------------------------------|
//! | `modalities(mesh_names, title, abstract [, rules])`    | `List<Utf8>`: 'HSCT', 'MSC', 'ex vivo GT', ...  |
//! | `clinical_stage(publication_types, mesh_names)`        | 'clinical trial', 'clinical (human)', 'basic'   |
//! | `ham_position(tree_numbers_per_descriptor)`            | `Struct<human, animal, molecular_cellular>`     |
//! | `mesh_tree_numbers(descriptor_ui)`                     | `List<Utf8>` (NULL for a UI not in the table)   |
//! | `ham_position_agg(tree_numbers)` (aggregate)           | `ham_position` over one row per descriptor      |
//!
//! The modality rules are data: `udfs/rules/modalities.tsv` (format in `udfs/rules/README.md`) is
//! compiled in as the default, and `modalities`' fourth argument takes the text of other rules.
//!
//! Per-paper lists come from `array_agg` over the one-row-per-descriptor tables; a paper without
//! MeSH gets a NULL list from the `LEFT JOIN`, which every function accepts:
//!
//! ```sql
//! SELECT w.work_id, w.publication_year,
//!        modalities(m.names, w.title, w.abstract)  AS modalities,
//!        clinical_stage(p.types, m.names)          AS stage,
//!        m.ham                                     AS ham
//! FROM works w
//! LEFT JOIN (SELECT work_id, array_agg(descriptor_name) AS names,
//!                   ham_position_agg(mesh_tree_numbers(descriptor_ui)) AS ham
//!            FROM work_mesh GROUP BY work_id) m USING (work_id)
//! LEFT JOIN (SELECT work_id, array_agg(publication_type) AS types
//!            FROM work_publication_types GROUP BY work_id) p USING (work_id)
//! ```
//!
//! Unnest `modalities` to count papers by modality and year.

mod clinical_stage;
mod ham_position;
mod ham_position_agg;
mod mesh_table;
mod mesh_tree_numbers;
mod modalities;
mod rules;
mod stage_text;
mod words;

pub use clinical_stage::{BASIC, CLINICAL_HUMAN, CLINICAL_TRIAL, CLINICAL_TYPES, ClinicalStage};
pub use ham_position::{HUMANS_TREE, HamPosition, MOLECULAR_CELLULAR_TREES, ham_type};
pub use ham_position_agg::HamPositionAgg;
pub use mesh_tree_numbers::MeshTreeNumbers;
pub use modalities::Modalities;
pub use rules::DEFAULT_RULES;

functions! {
    scalar: [Modalities, ClinicalStage, HamPosition, MeshTreeNumbers],
    aggregate: [HamPositionAgg],
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
        assert_eq!(names.len(), 5);
    }
}
