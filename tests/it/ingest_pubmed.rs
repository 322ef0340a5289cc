//! PubMed ingest: the real PubMed files (tests/fixtures/pubmed) end to end.
