//! The canonical bibflow dataset: its tables and their Arrow schemas.
//!
//! `docs/schema.md` documents every column; keep the two in step (a test checks that every column
//! named here appears there).
//!
//! Every table carries `work_id`, the one compact integer key that all joins use:
//! a positive `work_id` is the OpenAlex W-number (`W2741809807` -> `2741809807`); a negative one is a
//! work known only from PubMed, `-PMID`. Keys are therefore stable across re-ingests and need no
//! global dictionary while ingesting in parallel.

use std::sync::{Arc, LazyLock};

use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};

/// Version of the canonical schema, written into every manifest. Bump on any incompatible change.
pub const SCHEMA_VERSION: u32 = 1;

/// The canonical tables, in the order they are written and documented.
pub const TABLES: [Table; 17] = [
    Table::Works,
    Table::Authorships,
    Table::WorkTopics,
    Table::WorkMesh,
    Table::WorkPublicationTypes,
    Table::WorkReferences,
    Table::WorkCitationsByYear,
    Table::WorkKeywords,
    Table::WorkChemicals,
    Table::WorkGrants,
    Table::WorkFunders,
    Table::WorkAwards,
    Table::AuthorshipAffiliations,
    Table::WorkInstitutions,
    Table::WorkLocations,
    Table::WorkTags,
    Table::WorkRelatedWorks,
];

/// Number of canonical tables.
pub const TABLE_COUNT: usize = TABLES.len();

/// One canonical table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Table {
    Works,
    Authorships,
    WorkTopics,
    WorkMesh,
    WorkPublicationTypes,
    WorkReferences,
    WorkCitationsByYear,
    WorkKeywords,
    WorkChemicals,
    WorkGrants,
    WorkFunders,
    WorkAwards,
    AuthorshipAffiliations,
    WorkInstitutions,
    WorkLocations,
    WorkTags,
    WorkRelatedWorks,
}

impl Table {
    /// The table's folder name inside a dataset, and its SQL name.
    pub fn name(self) -> &'static str {
        match self {
            Table::Works => "works",
            Table::Authorships => "authorships",
            Table::WorkTopics => "work_topics",
            Table::WorkMesh => "work_mesh",
            Table::WorkPublicationTypes => "work_publication_types",
            Table::WorkReferences => "work_references",
            Table::WorkCitationsByYear => "work_citations_by_year",
            Table::WorkKeywords => "work_keywords",
            Table::WorkChemicals => "work_chemicals",
            Table::WorkGrants => "work_grants",
            Table::WorkFunders => "work_funders",
            Table::WorkAwards => "work_awards",
            Table::AuthorshipAffiliations => "authorship_affiliations",
            Table::WorkInstitutions => "work_institutions",
            Table::WorkLocations => "work_locations",
            Table::WorkTags => "work_tags",
            Table::WorkRelatedWorks => "work_related_works",
        }
    }

    /// The table's Arrow schema.
    pub fn schema(self) -> SchemaRef {
        match self {
            Table::Works => WORKS.clone(),
            Table::Authorships => AUTHORSHIPS.clone(),
            Table::WorkTopics => WORK_TOPICS.clone(),
            Table::WorkMesh => WORK_MESH.clone(),
            Table::WorkPublicationTypes => WORK_PUBLICATION_TYPES.clone(),
            Table::WorkReferences => WORK_REFERENCES.clone(),
            Table::WorkCitationsByYear => WORK_CITATIONS_BY_YEAR.clone(),
            Table::WorkKeywords => WORK_KEYWORDS.clone(),
            Table::WorkChemicals => WORK_CHEMICALS.clone(),
            Table::WorkGrants => WORK_GRANTS.clone(),
            Table::WorkFunders => WORK_FUNDERS.clone(),
            Table::WorkAwards => WORK_AWARDS.clone(),
            Table::AuthorshipAffiliations => AUTHORSHIP_AFFILIATIONS.clone(),
            Table::WorkInstitutions => WORK_INSTITUTIONS.clone(),
            Table::WorkLocations => WORK_LOCATIONS.clone(),
            Table::WorkTags => WORK_TAGS.clone(),
            Table::WorkRelatedWorks => WORK_RELATED_WORKS.clone(),
        }
    }

    /// Whether the table was added after datasets of this schema version were first written
    /// (`work_funders` and the tables after it): a dataset may lack its folder, and readers take it
    /// as empty.
    pub fn added_later(self) -> bool {
        self.index() >= Table::WorkFunders.index()
    }

    /// Position of the table in [`TABLES`].
    pub fn index(self) -> usize {
        self as usize
    }
}

fn f(name: &str, dt: DataType, nullable: bool) -> Field {
    Field::new(name, dt, nullable)
}

/// The item field used by every list column (`item`, nullable), as Arrow's builders produce it.
pub fn list_of(dt: DataType) -> DataType {
    DataType::List(Arc::new(Field::new("item", dt, true)))
}

/// The struct of one MeSH qualifier inside `work_mesh.qualifiers`.
pub fn mesh_qualifier_fields() -> Vec<Field> {
    vec![
        f("qualifier_ui", DataType::Utf8, true),
        f("qualifier_name", DataType::Utf8, true),
        f("is_major_topic", DataType::Boolean, true),
    ]
}

static WORKS: LazyLock<SchemaRef> = LazyLock::new(|| {
    Arc::new(Schema::new(vec![
        f("work_id", DataType::Int64, false),
        f("openalex_id", DataType::Int64, true),
        f("doi", DataType::Utf8, true),
        f("pmid", DataType::Int64, true),
        f("pmcid", DataType::Int64, true),
        f("mag_id", DataType::Int64, true),
        f("title", DataType::Utf8, true),
        f("abstract", DataType::Utf8, true),
        f("publication_year", DataType::Int32, true),
        f("publication_date", DataType::Date32, true),
        f("type", DataType::Utf8, true),
        f("type_crossref", DataType::Utf8, true),
        f("language", DataType::Utf8, true),
        f("source_id", DataType::Int64, true),
        f("source_name", DataType::Utf8, true),
        f("source_issn_l", DataType::Utf8, true),
        f("source_type", DataType::Utf8, true),
        f("journal_iso_abbrev", DataType::Utf8, true),
        f("journal_nlm_id", DataType::Utf8, true),
        f("is_oa", DataType::Boolean, true),
        f("oa_status", DataType::Utf8, true),
        f("cited_by_count", DataType::Int64, true),
        f("referenced_works_count", DataType::Int64, true),
        f("fwci", DataType::Float64, true),
        f("citation_percentile", DataType::Float64, true),
        f("is_top_1_percent", DataType::Boolean, true),
        f("is_top_10_percent", DataType::Boolean, true),
        f("primary_topic_id", DataType::Int64, true),
        f("primary_topic_name", DataType::Utf8, true),
        f("subfield_id", DataType::Int32, true),
        f("subfield_name", DataType::Utf8, true),
        f("field_id", DataType::Int32, true),
        f("field_name", DataType::Utf8, true),
        f("domain_id", DataType::Int32, true),
        f("domain_name", DataType::Utf8, true),
        f("authors_count", DataType::Int32, false),
        f("countries_count", DataType::Int32, false),
        f("is_retracted", DataType::Boolean, true),
        f("is_paratext", DataType::Boolean, true),
        f(
            "updated_date",
            DataType::Timestamp(TimeUnit::Microsecond, None),
            true,
        ),
        f("source", DataType::Utf8, false),
        f("is_authors_truncated", DataType::Boolean, true),
        f("created_date", DataType::Date32, true),
        f("is_xpac", DataType::Boolean, true),
        f("indexed_in", list_of(DataType::Utf8), true),
        f("biblio_volume", DataType::Utf8, true),
        f("biblio_issue", DataType::Utf8, true),
        f("biblio_first_page", DataType::Utf8, true),
        f("biblio_last_page", DataType::Utf8, true),
        f("apc_list_value", DataType::Int64, true),
        f("apc_list_currency", DataType::Utf8, true),
        f("apc_list_usd", DataType::Int64, true),
        f("apc_paid_value", DataType::Int64, true),
        f("apc_paid_currency", DataType::Utf8, true),
        f("apc_paid_usd", DataType::Int64, true),
        f("citation_percentile_year_min", DataType::Int32, true),
        f("citation_percentile_year_max", DataType::Int32, true),
        f("corresponding_author_ids", list_of(DataType::Int64), true),
        f(
            "corresponding_institution_ids",
            list_of(DataType::Int64),
            true,
        ),
    ]))
});

static AUTHORSHIPS: LazyLock<SchemaRef> = LazyLock::new(|| {
    Arc::new(Schema::new(vec![
        f("work_id", DataType::Int64, false),
        f("author_position", DataType::Int32, false),
        f("author_position_tag", DataType::Utf8, true),
        f("author_id", DataType::Int64, true),
        f("author_name", DataType::Utf8, true),
        f("orcid", DataType::Utf8, true),
        f("is_corresponding", DataType::Boolean, true),
        f("raw_affiliations", list_of(DataType::Utf8), false),
        f("affiliation_countries", list_of(DataType::Utf8), false),
        f("institution_ids", list_of(DataType::Int64), false),
        f("institution_countries", list_of(DataType::Utf8), false),
        f("countries", list_of(DataType::Utf8), false),
    ]))
});

static WORK_TOPICS: LazyLock<SchemaRef> = LazyLock::new(|| {
    Arc::new(Schema::new(vec![
        f("work_id", DataType::Int64, false),
        f("rank", DataType::Int32, false),
        f("topic_id", DataType::Int64, false),
        f("topic_name", DataType::Utf8, true),
        f("score", DataType::Float64, true),
        f("subfield_id", DataType::Int32, true),
        f("subfield_name", DataType::Utf8, true),
        f("field_id", DataType::Int32, true),
        f("field_name", DataType::Utf8, true),
        f("domain_id", DataType::Int32, true),
        f("domain_name", DataType::Utf8, true),
    ]))
});

static WORK_MESH: LazyLock<SchemaRef> = LazyLock::new(|| {
    Arc::new(Schema::new(vec![
        f("work_id", DataType::Int64, false),
        f("descriptor_ui", DataType::Utf8, false),
        f("descriptor_name", DataType::Utf8, true),
        f("is_major_topic", DataType::Boolean, false),
        f(
            "qualifiers",
            list_of(DataType::Struct(mesh_qualifier_fields().into())),
            false,
        ),
    ]))
});

static WORK_PUBLICATION_TYPES: LazyLock<SchemaRef> = LazyLock::new(|| {
    Arc::new(Schema::new(vec![
        f("work_id", DataType::Int64, false),
        f("publication_type", DataType::Utf8, false),
        f("ui", DataType::Utf8, true),
    ]))
});

static WORK_REFERENCES: LazyLock<SchemaRef> = LazyLock::new(|| {
    Arc::new(Schema::new(vec![
        f("work_id", DataType::Int64, false),
        f("referenced_work_id", DataType::Int64, false),
    ]))
});

static WORK_CITATIONS_BY_YEAR: LazyLock<SchemaRef> = LazyLock::new(|| {
    Arc::new(Schema::new(vec![
        f("work_id", DataType::Int64, false),
        f("year", DataType::Int32, false),
        f("cited_by_count", DataType::Int64, false),
    ]))
});

static WORK_KEYWORDS: LazyLock<SchemaRef> = LazyLock::new(|| {
    Arc::new(Schema::new(vec![
        f("work_id", DataType::Int64, false),
        f("keyword", DataType::Utf8, false),
        f("is_major_topic", DataType::Boolean, true),
        f("owner", DataType::Utf8, true),
    ]))
});

static WORK_CHEMICALS: LazyLock<SchemaRef> = LazyLock::new(|| {
    Arc::new(Schema::new(vec![
        f("work_id", DataType::Int64, false),
        f("substance_ui", DataType::Utf8, true),
        f("substance_name", DataType::Utf8, false),
        f("registry_number", DataType::Utf8, true),
    ]))
});

static WORK_GRANTS: LazyLock<SchemaRef> = LazyLock::new(|| {
    Arc::new(Schema::new(vec![
        f("work_id", DataType::Int64, false),
        f("grant_id", DataType::Utf8, true),
        f("acronym", DataType::Utf8, true),
        f("agency", DataType::Utf8, true),
        f("country", DataType::Utf8, true),
    ]))
});

static WORK_FUNDERS: LazyLock<SchemaRef> = LazyLock::new(|| {
    Arc::new(Schema::new(vec![
        f("work_id", DataType::Int64, false),
        f("funder_id", DataType::Int64, true),
        f("funder_name", DataType::Utf8, true),
        f("ror", DataType::Utf8, true),
    ]))
});

static WORK_AWARDS: LazyLock<SchemaRef> = LazyLock::new(|| {
    Arc::new(Schema::new(vec![
        f("work_id", DataType::Int64, false),
        f("award_id", DataType::Int64, true),
        f("award_name", DataType::Utf8, true),
        f("funder_award_id", DataType::Utf8, true),
        f("funder_id", DataType::Int64, true),
        f("funder_name", DataType::Utf8, true),
    ]))
});

static AUTHORSHIP_AFFILIATIONS: LazyLock<SchemaRef> = LazyLock::new(|| {
    Arc::new(Schema::new(vec![
        f("work_id", DataType::Int64, false),
        f("author_position", DataType::Int32, false),
        f("raw_affiliation", DataType::Utf8, true),
        f("institution_ids", list_of(DataType::Int64), false),
    ]))
});

static WORK_INSTITUTIONS: LazyLock<SchemaRef> = LazyLock::new(|| {
    Arc::new(Schema::new(vec![
        f("work_id", DataType::Int64, false),
        f("institution_id", DataType::Int64, true),
        f("institution_name", DataType::Utf8, true),
        f("ror", DataType::Utf8, true),
        f("institution_type", DataType::Utf8, true),
        f("country_code", DataType::Utf8, true),
        f("lineage", list_of(DataType::Int64), false),
    ]))
});

static WORK_LOCATIONS: LazyLock<SchemaRef> = LazyLock::new(|| {
    Arc::new(Schema::new(vec![
        f("work_id", DataType::Int64, false),
        f("location_index", DataType::Int32, true),
        f("is_primary", DataType::Boolean, false),
        f("is_best_oa", DataType::Boolean, false),
        f("source_id", DataType::Int64, true),
        f("source_name", DataType::Utf8, true),
        f("source_type", DataType::Utf8, true),
        f("landing_page_url", DataType::Utf8, true),
        f("pdf_url", DataType::Utf8, true),
        f("is_oa", DataType::Boolean, true),
        f("license", DataType::Utf8, true),
        f("version", DataType::Utf8, true),
        f("is_accepted", DataType::Boolean, true),
        f("is_published", DataType::Boolean, true),
    ]))
});

static WORK_TAGS: LazyLock<SchemaRef> = LazyLock::new(|| {
    Arc::new(Schema::new(vec![
        f("work_id", DataType::Int64, false),
        f("scheme", DataType::Utf8, false),
        f("tag_id", DataType::Utf8, true),
        f("name", DataType::Utf8, true),
        f("score", DataType::Float64, true),
        f("level", DataType::Int32, true),
    ]))
});

static WORK_RELATED_WORKS: LazyLock<SchemaRef> = LazyLock::new(|| {
    Arc::new(Schema::new(vec![
        f("work_id", DataType::Int64, false),
        f("related_work_id", DataType::Int64, false),
    ]))
});

/// The tables of OpenAlex's other entities (`authors/`, `institutions/`, ... folders of the same
/// snapshot as the works): one row per entity, keyed by its own number (`author_id`, ...), the key
/// the work tables use for it. They are not keyed by `work_id`, hold no child rows (lists are list
/// columns) and are written sorted by their key. A dataset has one only when its snapshot held that
/// entity (readers take a missing one as empty).
pub const ENTITY_TABLES: [EntityTable; 8] = [
    EntityTable::Authors,
    EntityTable::Institutions,
    EntityTable::Sources,
    EntityTable::Funders,
    EntityTable::Topics,
    EntityTable::Subfields,
    EntityTable::Fields,
    EntityTable::Domains,
];

/// One OpenAlex entity table (see [`ENTITY_TABLES`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EntityTable {
    Authors,
    Institutions,
    Sources,
    Funders,
    Topics,
    Subfields,
    Fields,
    Domains,
}

impl EntityTable {
    /// The table's folder and SQL name, which is also the entity's folder in an OpenAlex snapshot.
    pub fn name(self) -> &'static str {
        match self {
            EntityTable::Authors => "authors",
            EntityTable::Institutions => "institutions",
            EntityTable::Sources => "sources",
            EntityTable::Funders => "funders",
            EntityTable::Topics => "topics",
            EntityTable::Subfields => "subfields",
            EntityTable::Fields => "fields",
            EntityTable::Domains => "domains",
        }
    }

    /// The entity table named `name`, if any.
    pub fn from_name(name: &str) -> Option<Self> {
        ENTITY_TABLES.into_iter().find(|t| t.name() == name)
    }

    /// The key column: the entity's number, as the work tables store it.
    pub fn key(self) -> &'static str {
        match self {
            EntityTable::Authors => "author_id",
            EntityTable::Institutions => "institution_id",
            EntityTable::Sources => "source_id",
            EntityTable::Funders => "funder_id",
            EntityTable::Topics => "topic_id",
            EntityTable::Subfields => "subfield_id",
            EntityTable::Fields => "field_id",
            EntityTable::Domains => "domain_id",
        }
    }

    /// The table's Arrow schema; the first column is the key.
    pub fn schema(self) -> SchemaRef {
        match self {
            EntityTable::Authors => AUTHORS.clone(),
            EntityTable::Institutions => INSTITUTIONS.clone(),
            EntityTable::Sources => SOURCES.clone(),
            EntityTable::Funders => FUNDERS.clone(),
            EntityTable::Topics => TOPICS.clone(),
            EntityTable::Subfields => SUBFIELDS.clone(),
            EntityTable::Fields => FIELDS.clone(),
            EntityTable::Domains => DOMAINS.clone(),
        }
    }
}

/// The columns every entity table ends with: OpenAlex's counts and dates.
fn entity_tail(mut fields: Vec<Field>) -> SchemaRef {
    fields.extend([
        f("works_count", DataType::Int64, true),
        f("cited_by_count", DataType::Int64, true),
        f(
            "updated_date",
            DataType::Timestamp(TimeUnit::Microsecond, None),
            true,
        ),
        f("created_date", DataType::Date32, true),
    ]);
    Arc::new(Schema::new(fields))
}

static AUTHORS: LazyLock<SchemaRef> = LazyLock::new(|| {
    entity_tail(vec![
        f("author_id", DataType::Int64, false),
        f("orcid", DataType::Utf8, true),
        f("display_name", DataType::Utf8, true),
        f("h_index", DataType::Int64, true),
        f("i10_index", DataType::Int64, true),
        f("mean_citedness_2yr", DataType::Float64, true),
        f("last_known_institution_ids", list_of(DataType::Int64), true),
        f(
            "affiliation_institution_ids",
            list_of(DataType::Int64),
            true,
        ),
    ])
});

static INSTITUTIONS: LazyLock<SchemaRef> = LazyLock::new(|| {
    entity_tail(vec![
        f("institution_id", DataType::Int64, false),
        f("ror", DataType::Utf8, true),
        f("display_name", DataType::Utf8, true),
        f("institution_type", DataType::Utf8, true),
        f("country_code", DataType::Utf8, true),
        f("lineage", list_of(DataType::Int64), true),
        f("city", DataType::Utf8, true),
        f("h_index", DataType::Int64, true),
    ])
});

static SOURCES: LazyLock<SchemaRef> = LazyLock::new(|| {
    entity_tail(vec![
        f("source_id", DataType::Int64, false),
        f("issn_l", DataType::Utf8, true),
        f("issn", list_of(DataType::Utf8), true),
        f("display_name", DataType::Utf8, true),
        f("source_type", DataType::Utf8, true),
        f("publisher_id", DataType::Int64, true),
        f("host_institution_id", DataType::Int64, true),
        f("host_organization_name", DataType::Utf8, true),
        f("is_oa", DataType::Boolean, true),
        f("is_in_doaj", DataType::Boolean, true),
        f("is_core", DataType::Boolean, true),
        f("country_code", DataType::Utf8, true),
        f("apc_usd", DataType::Int64, true),
        f("h_index", DataType::Int64, true),
    ])
});

static FUNDERS: LazyLock<SchemaRef> = LazyLock::new(|| {
    entity_tail(vec![
        f("funder_id", DataType::Int64, false),
        f("display_name", DataType::Utf8, true),
        f("ror", DataType::Utf8, true),
        f("country_code", DataType::Utf8, true),
        f("awards_count", DataType::Int64, true),
        f("crossref_funder_id", DataType::Utf8, true),
    ])
});

static TOPICS: LazyLock<SchemaRef> = LazyLock::new(|| {
    entity_tail(vec![
        f("topic_id", DataType::Int64, false),
        f("display_name", DataType::Utf8, true),
        f("subfield_id", DataType::Int32, true),
        f("subfield_name", DataType::Utf8, true),
        f("field_id", DataType::Int32, true),
        f("field_name", DataType::Utf8, true),
        f("domain_id", DataType::Int32, true),
        f("domain_name", DataType::Utf8, true),
        f("keywords", list_of(DataType::Utf8), true),
    ])
});

static SUBFIELDS: LazyLock<SchemaRef> = LazyLock::new(|| {
    entity_tail(vec![
        f("subfield_id", DataType::Int32, false),
        f("display_name", DataType::Utf8, true),
        f("field_id", DataType::Int32, true),
        f("field_name", DataType::Utf8, true),
        f("domain_id", DataType::Int32, true),
        f("domain_name", DataType::Utf8, true),
    ])
});

static FIELDS: LazyLock<SchemaRef> = LazyLock::new(|| {
    entity_tail(vec![
        f("field_id", DataType::Int32, false),
        f("display_name", DataType::Utf8, true),
        f("domain_id", DataType::Int32, true),
        f("domain_name", DataType::Utf8, true),
    ])
});

static DOMAINS: LazyLock<SchemaRef> = LazyLock::new(|| {
    entity_tail(vec![
        f("domain_id", DataType::Int32, false),
        f("display_name", DataType::Utf8, true),
    ])
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_table_starts_with_work_id() {
        for t in TABLES {
            let s = t.schema();
            assert_eq!(s.field(0).name(), "work_id", "{}", t.name());
            assert_eq!(s.field(0).data_type(), &DataType::Int64);
        }
    }

    #[test]
    fn every_entity_table_starts_with_its_key() {
        for t in ENTITY_TABLES {
            assert_eq!(t.schema().field(0).name(), t.key(), "{}", t.name());
            assert!(!t.schema().field(0).is_nullable());
            assert_eq!(EntityTable::from_name(t.name()), Some(t));
            assert!(TABLES.iter().all(|w| w.name() != t.name()));
        }
    }

    #[test]
    fn table_index_matches_order() {
        for (i, t) in TABLES.iter().enumerate() {
            assert_eq!(t.index(), i);
        }
    }
}

#[cfg(test)]
mod doc_tests {
    use super::TABLES;

    /// `docs/schema.md` documents every column of every table.
    #[test]
    fn every_column_is_documented() {
        let doc = include_str!("../../docs/schema.md");
        let tables = TABLES
            .iter()
            .map(|t| (t.name(), t.schema()))
            .chain(super::ENTITY_TABLES.iter().map(|t| (t.name(), t.schema())));
        for (name, schema) in tables {
            let heading = format!("## `{name}`");
            let start = doc
                .find(&heading)
                .unwrap_or_else(|| panic!("docs/schema.md has no section {heading}"));
            let section = &doc[start + heading.len()..];
            let section = &section[..section.find("\n## ").unwrap_or(section.len())];
            for field in schema.fields() {
                let row = format!("\n| {} |", field.name());
                assert!(
                    section.contains(&row),
                    "docs/schema.md: column {name}.{} is not documented",
                    field.name()
                );
            }
        }
    }
}
