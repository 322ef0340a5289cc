//! PubMed/MEDLINE XML (being written: see the PubMed issue).

use crate::error::{DatasetError, Result};
use crate::ingest::{FileContext, Source};

/// The PubMed/MEDLINE XML reader.
#[derive(Debug, Default, Clone, Copy)]
pub struct PubMed;

/// File name endings taken from folders.
pub const EXTENSIONS: &[&str] = &[".xml", ".xml.gz"];

impl Source for PubMed {
    fn name(&self) -> &'static str {
        "pubmed"
    }

    fn extensions(&self) -> &'static [&'static str] {
        EXTENSIONS
    }

    fn read_file(&self, ctx: &mut FileContext<'_>) -> Result<()> {
        Err(DatasetError::BadInput {
            path: ctx.file.path.clone(),
            reason: "the PubMed reader is not written yet".into(),
        })
    }
}
