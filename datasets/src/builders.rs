//! Arrow builders for the canonical tables: readers of every source append rows here, and a part
//! writer turns them into record batches.

use std::sync::Arc;

use arrow::array::{
    ArrayBuilder, ArrayRef, BooleanBuilder, Date32Builder, Float64Builder, Int32Builder,
    Int64Builder, ListArray, ListBuilder, StringBuilder, StructBuilder,
    TimestampMicrosecondBuilder,
};
use arrow::datatypes::{DataType, Field};
use arrow::record_batch::RecordBatch;

use crate::error::{DatasetError, Result};
use crate::schema::{TABLE_COUNT, Table, mesh_qualifier_fields};

/// Declares a builder struct whose fields are the table's columns, in schema order.
macro_rules! table_builder {
    ($(#[$doc:meta])* $name:ident, $table:expr, { $($col:ident : $b:ty),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Default)]
        pub struct $name {
            $(pub $col: $b,)*
        }

        impl $name {
            /// The table these rows belong to.
            pub const TABLE: Table = $table;
            /// Column names in declaration order (checked against the schema in tests).
            pub const COLUMNS: &'static [&'static str] = &[$(stringify!($col)),*];

            /// Rows appended since the last `finish`.
            pub fn len(&self) -> usize {
                self.work_id.len()
            }

            /// Whether no row was appended since the last `finish`.
            pub fn is_empty(&self) -> bool {
                self.len() == 0
            }

            /// Takes the appended rows as a batch with the canonical schema.
            pub fn finish(&mut self) -> Result<RecordBatch> {
                let columns: Vec<ArrayRef> = vec![$(Arc::new(self.$col.finish()) as ArrayRef),*];
                RecordBatch::try_new($table.schema(), columns)
                    .map_err(|source| DatasetError::Arrow { table: $table.name(), source })
            }
        }
    };
}

table_builder!(
    /// Rows of `works`.
    WorksBuilder, Table::Works, {
    work_id: Int64Builder,
    openalex_id: Int64Builder,
    doi: StringBuilder,
    pmid: Int64Builder,
    pmcid: Int64Builder,
    mag_id: Int64Builder,
    title: StringBuilder,
    r#abstract: StringBuilder,
    publication_year: Int32Builder,
    publication_date: Date32Builder,
    r#type: StringBuilder,
    type_crossref: StringBuilder,
    language: StringBuilder,
    source_id: Int64Builder,
    source_name: StringBuilder,
    source_issn_l: StringBuilder,
    source_type: StringBuilder,
    journal_iso_abbrev: StringBuilder,
    journal_nlm_id: StringBuilder,
    is_oa: BooleanBuilder,
    oa_status: StringBuilder,
    cited_by_count: Int64Builder,
    referenced_works_count: Int64Builder,
    fwci: Float64Builder,
    citation_percentile: Float64Builder,
    is_top_1_percent: BooleanBuilder,
    is_top_10_percent: BooleanBuilder,
    primary_topic_id: Int64Builder,
    primary_topic_name: StringBuilder,
    subfield_id: Int32Builder,
    subfield_name: StringBuilder,
    field_id: Int32Builder,
    field_name: StringBuilder,
    domain_id: Int32Builder,
    domain_name: StringBuilder,
    authors_count: Int32Builder,
    countries_count: Int32Builder,
    is_retracted: BooleanBuilder,
    is_paratext: BooleanBuilder,
    updated_date: TimestampMicrosecondBuilder,
    source: StringBuilder,
    is_authors_truncated: BooleanBuilder,
    created_date: Date32Builder,
    is_xpac: BooleanBuilder,
    indexed_in: ListBuilder<StringBuilder>,
    biblio_volume: StringBuilder,
    biblio_issue: StringBuilder,
    biblio_first_page: StringBuilder,
    biblio_last_page: StringBuilder,
    apc_list_value: Int64Builder,
    apc_list_currency: StringBuilder,
    apc_list_usd: Int64Builder,
    apc_paid_value: Int64Builder,
    apc_paid_currency: StringBuilder,
    apc_paid_usd: Int64Builder,
    citation_percentile_year_min: Int32Builder,
    citation_percentile_year_max: Int32Builder,
    corresponding_author_ids: ListBuilder<Int64Builder>,
    corresponding_institution_ids: ListBuilder<Int64Builder>,
});

impl WorksBuilder {
    /// Appends NULL to the columns only an OpenAlex work fills (`is_authors_truncated` and the
    /// details after it), for the row of a work from another source.
    pub fn append_no_openalex_details(&mut self) {
        self.is_authors_truncated.append_null();
        self.created_date.append_null();
        self.is_xpac.append_null();
        self.indexed_in.append(false);
        for c in [
            &mut self.biblio_volume,
            &mut self.biblio_issue,
            &mut self.biblio_first_page,
            &mut self.biblio_last_page,
            &mut self.apc_list_currency,
            &mut self.apc_paid_currency,
        ] {
            c.append_null();
        }
        for c in [
            &mut self.apc_list_value,
            &mut self.apc_list_usd,
            &mut self.apc_paid_value,
            &mut self.apc_paid_usd,
        ] {
            c.append_null();
        }
        self.citation_percentile_year_min.append_null();
        self.citation_percentile_year_max.append_null();
        self.corresponding_author_ids.append(false);
        self.corresponding_institution_ids.append(false);
    }
}

table_builder!(
    /// Rows of `authorships`.
    AuthorshipsBuilder, Table::Authorships, {
    work_id: Int64Builder,
    author_position: Int32Builder,
    author_position_tag: StringBuilder,
    author_id: Int64Builder,
    author_name: StringBuilder,
    orcid: StringBuilder,
    is_corresponding: BooleanBuilder,
    raw_affiliations: ListBuilder<StringBuilder>,
    affiliation_countries: ListBuilder<StringBuilder>,
    institution_ids: ListBuilder<Int64Builder>,
    institution_countries: ListBuilder<StringBuilder>,
    countries: ListBuilder<StringBuilder>,
});

table_builder!(
    /// Rows of `work_topics`.
    WorkTopicsBuilder, Table::WorkTopics, {
    work_id: Int64Builder,
    rank: Int32Builder,
    topic_id: Int64Builder,
    topic_name: StringBuilder,
    score: Float64Builder,
    subfield_id: Int32Builder,
    subfield_name: StringBuilder,
    field_id: Int32Builder,
    field_name: StringBuilder,
    domain_id: Int32Builder,
    domain_name: StringBuilder,
});

table_builder!(
    /// Rows of `work_mesh`.
    WorkMeshBuilder, Table::WorkMesh, {
    work_id: Int64Builder,
    descriptor_ui: StringBuilder,
    descriptor_name: StringBuilder,
    is_major_topic: BooleanBuilder,
    qualifiers: QualifierListBuilder,
});

table_builder!(
    /// Rows of `work_publication_types`.
    WorkPublicationTypesBuilder, Table::WorkPublicationTypes, {
    work_id: Int64Builder,
    publication_type: StringBuilder,
    ui: StringBuilder,
});

table_builder!(
    /// Rows of `work_references`.
    WorkReferencesBuilder, Table::WorkReferences, {
    work_id: Int64Builder,
    referenced_work_id: Int64Builder,
});

table_builder!(
    /// Rows of `work_citations_by_year`.
    WorkCitationsByYearBuilder, Table::WorkCitationsByYear, {
    work_id: Int64Builder,
    year: Int32Builder,
    cited_by_count: Int64Builder,
});

table_builder!(
    /// Rows of `work_keywords`.
    WorkKeywordsBuilder, Table::WorkKeywords, {
    work_id: Int64Builder,
    keyword: StringBuilder,
    is_major_topic: BooleanBuilder,
    owner: StringBuilder,
});

table_builder!(
    /// Rows of `work_chemicals`.
    WorkChemicalsBuilder, Table::WorkChemicals, {
    work_id: Int64Builder,
    substance_ui: StringBuilder,
    substance_name: StringBuilder,
    registry_number: StringBuilder,
});

table_builder!(
    /// Rows of `work_grants`.
    WorkGrantsBuilder, Table::WorkGrants, {
    work_id: Int64Builder,
    grant_id: StringBuilder,
    acronym: StringBuilder,
    agency: StringBuilder,
    country: StringBuilder,
});

table_builder!(
    /// Rows of `work_funders`.
    WorkFundersBuilder, Table::WorkFunders, {
    work_id: Int64Builder,
    funder_id: Int64Builder,
    funder_name: StringBuilder,
    ror: StringBuilder,
});

table_builder!(
    /// Rows of `work_awards`.
    WorkAwardsBuilder, Table::WorkAwards, {
    work_id: Int64Builder,
    award_id: Int64Builder,
    award_name: StringBuilder,
    funder_award_id: StringBuilder,
    funder_id: Int64Builder,
    funder_name: StringBuilder,
});

table_builder!(
    /// Rows of `authorship_affiliations`.
    AuthorshipAffiliationsBuilder, Table::AuthorshipAffiliations, {
    work_id: Int64Builder,
    author_position: Int32Builder,
    raw_affiliation: StringBuilder,
    institution_ids: ListBuilder<Int64Builder>,
});

table_builder!(
    /// Rows of `work_institutions`.
    WorkInstitutionsBuilder, Table::WorkInstitutions, {
    work_id: Int64Builder,
    institution_id: Int64Builder,
    institution_name: StringBuilder,
    ror: StringBuilder,
    institution_type: StringBuilder,
    country_code: StringBuilder,
    lineage: ListBuilder<Int64Builder>,
});

table_builder!(
    /// Rows of `work_locations`.
    WorkLocationsBuilder, Table::WorkLocations, {
    work_id: Int64Builder,
    location_index: Int32Builder,
    is_primary: BooleanBuilder,
    is_best_oa: BooleanBuilder,
    source_id: Int64Builder,
    source_name: StringBuilder,
    source_type: StringBuilder,
    landing_page_url: StringBuilder,
    pdf_url: StringBuilder,
    is_oa: BooleanBuilder,
    license: StringBuilder,
    version: StringBuilder,
    is_accepted: BooleanBuilder,
    is_published: BooleanBuilder,
});

table_builder!(
    /// Rows of `work_tags`.
    WorkTagsBuilder, Table::WorkTags, {
    work_id: Int64Builder,
    scheme: StringBuilder,
    tag_id: StringBuilder,
    name: StringBuilder,
    score: Float64Builder,
    level: Int32Builder,
});

table_builder!(
    /// Rows of `work_related_works`.
    WorkRelatedWorksBuilder, Table::WorkRelatedWorks, {
    work_id: Int64Builder,
    related_work_id: Int64Builder,
});

/// The `List<Struct<qualifier_ui, qualifier_name, is_major_topic>>` column of `work_mesh`.
#[derive(Debug)]
pub struct QualifierListBuilder(pub ListBuilder<StructBuilder>);

impl Default for QualifierListBuilder {
    fn default() -> Self {
        let fields = mesh_qualifier_fields();
        let inner = StructBuilder::from_fields(fields.clone(), 0);
        Self(ListBuilder::new(inner).with_field(Arc::new(Field::new(
            "item",
            DataType::Struct(fields.into()),
            true,
        ))))
    }
}

impl QualifierListBuilder {
    /// Appends one qualifier to the current list.
    pub fn push(&mut self, ui: Option<&str>, name: Option<&str>, major: Option<bool>) {
        let s = self.0.values();
        s.field_builder::<StringBuilder>(0)
            .expect("qualifier_ui")
            .append_option(ui);
        s.field_builder::<StringBuilder>(1)
            .expect("qualifier_name")
            .append_option(name);
        s.field_builder::<BooleanBuilder>(2)
            .expect("is_major_topic")
            .append_option(major);
        s.append(true);
    }

    /// Closes the current list (one row).
    pub fn end_row(&mut self) {
        self.0.append(true);
    }

    /// Rows appended so far.
    pub fn len(&self) -> usize {
        arrow::array::ArrayBuilder::len(&self.0)
    }

    /// Whether no row was appended.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn finish(&mut self) -> ListArray {
        self.0.finish()
    }
}

/// One builder per canonical table: what a reader fills for a run of records.
#[derive(Debug, Default)]
pub struct TableBuilders {
    pub works: WorksBuilder,
    pub authorships: AuthorshipsBuilder,
    pub work_topics: WorkTopicsBuilder,
    pub work_mesh: WorkMeshBuilder,
    pub work_publication_types: WorkPublicationTypesBuilder,
    pub work_references: WorkReferencesBuilder,
    pub work_citations_by_year: WorkCitationsByYearBuilder,
    pub work_keywords: WorkKeywordsBuilder,
    pub work_chemicals: WorkChemicalsBuilder,
    pub work_grants: WorkGrantsBuilder,
    pub work_funders: WorkFundersBuilder,
    pub work_awards: WorkAwardsBuilder,
    pub authorship_affiliations: AuthorshipAffiliationsBuilder,
    pub work_institutions: WorkInstitutionsBuilder,
    pub work_locations: WorkLocationsBuilder,
    pub work_tags: WorkTagsBuilder,
    pub work_related_works: WorkRelatedWorksBuilder,
}

impl TableBuilders {
    /// Rows appended since the last `finish`, per table in [`crate::schema::TABLES`] order.
    pub fn lens(&self) -> [usize; TABLE_COUNT] {
        [
            self.works.len(),
            self.authorships.len(),
            self.work_topics.len(),
            self.work_mesh.len(),
            self.work_publication_types.len(),
            self.work_references.len(),
            self.work_citations_by_year.len(),
            self.work_keywords.len(),
            self.work_chemicals.len(),
            self.work_grants.len(),
            self.work_funders.len(),
            self.work_awards.len(),
            self.authorship_affiliations.len(),
            self.work_institutions.len(),
            self.work_locations.len(),
            self.work_tags.len(),
            self.work_related_works.len(),
        ]
    }

    /// Takes all appended rows, one batch per table in [`crate::schema::TABLES`] order.
    pub fn finish(&mut self) -> Result<[RecordBatch; TABLE_COUNT]> {
        Ok([
            self.works.finish()?,
            self.authorships.finish()?,
            self.work_topics.finish()?,
            self.work_mesh.finish()?,
            self.work_publication_types.finish()?,
            self.work_references.finish()?,
            self.work_citations_by_year.finish()?,
            self.work_keywords.finish()?,
            self.work_chemicals.finish()?,
            self.work_grants.finish()?,
            self.work_funders.finish()?,
            self.work_awards.finish()?,
            self.authorship_affiliations.finish()?,
            self.work_institutions.finish()?,
            self.work_locations.finish()?,
            self.work_tags.finish()?,
            self.work_related_works.finish()?,
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(columns: &[&str], table: Table) {
        let schema = table.schema();
        let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
        let declared: Vec<&str> = columns.iter().map(|c| c.trim_start_matches("r#")).collect();
        assert_eq!(declared, names, "builder columns of {}", table.name());
    }

    #[test]
    fn builders_follow_the_schemas() {
        check(WorksBuilder::COLUMNS, Table::Works);
        check(AuthorshipsBuilder::COLUMNS, Table::Authorships);
        check(WorkTopicsBuilder::COLUMNS, Table::WorkTopics);
        check(WorkMeshBuilder::COLUMNS, Table::WorkMesh);
        check(
            WorkPublicationTypesBuilder::COLUMNS,
            Table::WorkPublicationTypes,
        );
        check(WorkReferencesBuilder::COLUMNS, Table::WorkReferences);
        check(
            WorkCitationsByYearBuilder::COLUMNS,
            Table::WorkCitationsByYear,
        );
        check(WorkKeywordsBuilder::COLUMNS, Table::WorkKeywords);
        check(WorkChemicalsBuilder::COLUMNS, Table::WorkChemicals);
        check(WorkGrantsBuilder::COLUMNS, Table::WorkGrants);
        check(WorkFundersBuilder::COLUMNS, Table::WorkFunders);
        check(WorkAwardsBuilder::COLUMNS, Table::WorkAwards);
        check(
            AuthorshipAffiliationsBuilder::COLUMNS,
            Table::AuthorshipAffiliations,
        );
        check(WorkInstitutionsBuilder::COLUMNS, Table::WorkInstitutions);
        check(WorkLocationsBuilder::COLUMNS, Table::WorkLocations);
        check(WorkTagsBuilder::COLUMNS, Table::WorkTags);
        check(WorkRelatedWorksBuilder::COLUMNS, Table::WorkRelatedWorks);
    }

    #[test]
    fn empty_batches_have_the_canonical_types() {
        let batches = TableBuilders::default().finish().unwrap();
        for (b, t) in batches.iter().zip(crate::schema::TABLES) {
            assert_eq!(b.schema(), t.schema());
            assert_eq!(b.num_rows(), 0);
        }
    }
}
