//! The documentation sections the bibflow functions are listed under (in `docs/functions.md` and
//! in DataFusion's own function listings), one per module.

use datafusion::logical_expr::DocSection;

/// The documentation section every bibflow counting function is listed under.
pub(crate) const DOC_SECTION_COUNTING: DocSection = DocSection {
    include: true,
    label: "Bibliometric Counting Functions",
    description: Some("Crediting papers to countries, collaboration types and networks."),
};

/// Documentation section shared by the impact functions.
pub(crate) const DOC_SECTION_IMPACT: DocSection = DocSection {
    include: true,
    label: "Bibliometric Impact Functions",
    description: Some(
        "Field-normalised citation impact, as defined in bibflow's docs/indicators.md.",
    ),
};

/// The documentation section every bibflow classification function is listed under.
pub(crate) const DOC_SECTION_CLASSIFY: DocSection = DocSection {
    include: true,
    label: "Bibliometric Classification Functions",
    description: Some(
        "Clinical translation: modalities, clinical stage and the Human/Animal/Molecular-Cellular \
         position of papers from their MeSH descriptors, publication types and text.",
    ),
};

/// The documentation section of the exact, order-independent sums.
pub(crate) const DOC_SECTION_EXACT: DocSection = DocSection {
    include: true,
    label: "Exact Sums",
    description: Some(
        "Sums and means of Float64 values that are exact and the same whatever the order of the \
         rows: bit-reproducible results across thread counts and runs.",
    ),
};
