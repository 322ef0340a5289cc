//! Field-normalised citation impact functions (`docs/indicators.md`, "Field-normalised citation
//! impact" and "Top-x% papers, with ties").
//!
//! | you want to...                                              | function                       | kind      |
//! |-------------------------------------------------------------|--------------------------------|-----------|
//! | a paper's normalised citation score c / e                   | [`ncs`](ncs::Ncs)              | scalar    |
//! | the top-x% threshold of a reference set (ties split)        | [`top_threshold`](top_threshold::TopThreshold) | aggregate |
//! | a paper's top-x% score against that threshold               | [`top_share`](top_share::TopShare) | scalar |
//! | a paper's percentile rank (OpenAlex or InCites style)       | [`citation_percentile`](citation_percentile::CitationPercentile) | window |
//! | citations in a fixed window from per-year counts            | [`citations_in_window`](citations_in_window::CitationsInWindow) | scalar |
//! | whether that window is complete in the data                 | [`window_complete`](window_complete::WindowComplete) | scalar |
//! | whether a document type is normalised at all                | [`is_citable`](is_citable::IsCitable) | scalar |
//!
//! # Why aggregates joined back, not window functions
//!
//! Reference-set statistics (`e` and the top-x% threshold) are computed with a `GROUP BY` into a
//! small table that is joined back to the papers. On 10^8 rows that took 4.7 s where
//! `AVG() OVER (PARTITION BY ...)` took 75 s. Only the percentile rank, which needs each paper's
//! position in the whole distribution, is a window function.
//!
//! # The usual query
//!
//! ```sql
//! WITH r AS (
//!   SELECT subfield_id, publication_year, type,
//!          avg(cited_by_count)                 AS e,
//!          top_threshold(cited_by_count, 0.10) AS thr
//!   FROM works
//!   WHERE is_citable(type)
//!   GROUP BY subfield_id, publication_year, type)
//! SELECT w.work_id,
//!        ncs(w.cited_by_count, r.e)            AS ncs,
//!        top_share(w.cited_by_count, r.thr)    AS top10
//! FROM works w JOIN r USING (subfield_id, publication_year, type)
//! ```
//!
//! Only citable types are normalised: `ncs` and `top_share` of a non-citable paper must be NULL,
//! not 0. Filter with `WHERE is_citable(type)` as above (the paper then has no row), or keep every
//! paper and write `CASE WHEN is_citable(w.type) THEN ncs(w.cited_by_count, r.e) END` over a
//! `LEFT JOIN`.

pub mod citation_percentile;
pub mod citations_in_window;
pub mod is_citable;
pub mod ncs;
pub mod top_share;
pub mod top_threshold;
pub mod window_complete;

#[cfg(test)]
mod cross_check;

functions! {
    scalar: [
        ncs::Ncs,
        top_share::TopShare,
        citations_in_window::CitationsInWindow,
        window_complete::WindowComplete,
        is_citable::IsCitable,
    ],
    aggregate: [top_threshold::TopThreshold],
    window: [citation_percentile::CitationPercentile],
}
