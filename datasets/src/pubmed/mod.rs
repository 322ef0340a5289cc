//! PubMed/MEDLINE XML: baseline and update files, efetch responses, gzipped or plain.
//!
//! Layouts read:
//! - `<PubmedArticleSet>` of `<PubmedArticle>` (`MedlineCitation` + `PubmedData`) and
//!   `<PubmedBookArticle>` (`BookDocument` + `PubmedBookData`) records, with `<DeleteCitation>`
//!   blocks in update files (each listed PMID is recorded as a deletion, applied at publish to
//!   copies read earlier),
//! - the older `<MedlineCitationSet>` of bare `<MedlineCitation>` records,
//! - an empty set.
//!
//! Reading streams with bounded memory: [`split`] cuts the decompressed bytes into one record at a
//! time, [`parse`] runs one pass of quick-xml events over it into a reusable [`record::Record`],
//! and [`append`] writes the canonical rows (`work_id = -PMID`, `source = 'pubmed'`). A malformed
//! record is rejected with its raw text, line and byte offset, and reading goes on with the next
//! one; a truncated gzip stream keeps the records before the break.
//!
//! Which copy of a work wins is decided by file order (files are applied in name order, as NLM
//! numbers its update files), not by `DateRevised`, which is kept as `updated_date`.

pub mod append;
pub mod dates;
pub mod parse;
pub mod record;
pub mod split;

#[cfg(test)]
mod tests;

use crate::error::Result;
use crate::ingest::{FileContext, Source};
use crate::writer::Location;

use self::append::Appender;
use self::parse::Parser;
use self::record::Record;
use self::split::{Item, Kind, Splitter};

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
        let mut input = ctx.open()?;
        let mut reader = FileReader::default();
        let mut splitter = Splitter::new();
        loop {
            match splitter.next_item(&mut *input.reader) {
                Ok(Some(item)) => reader.item(ctx, item)?,
                Ok(None) => break,
                Err(f) => return ctx.truncated(&input, f.partial, f.line, f.offset, f.err),
            }
        }
        ctx.finish_input(&input)
    }
}

/// The per-file state: parser, record and appender buffers reused from record to record.
#[derive(Debug, Default)]
struct FileReader {
    parser: Parser,
    record: Record,
    appender: Appender,
    /// Records seen in this file, to tell apart two records on one line.
    records: u64,
}

impl FileReader {
    fn item(&mut self, ctx: &mut FileContext<'_>, item: Item<'_>) -> Result<()> {
        let ordinal = self.records;
        self.records += 1;
        let loc = Location {
            file: ctx.display_path(),
            line: Some(item.line),
            byte_offset: Some(item.offset),
            ..Location::default()
        };
        let tag = item.kind.tag();
        if let Some(reason) = &item.broken {
            ctx.stats.read += 1;
            let raw = String::from_utf8_lossy(item.raw);
            return ctx.reject(&loc, &format!("incomplete <{tag}> record: {reason}"), &raw);
        }
        let text = match std::str::from_utf8(item.raw) {
            Ok(t) => t,
            Err(e) => {
                ctx.stats.read += 1;
                let at = item.offset + e.valid_up_to() as u64;
                let raw = String::from_utf8_lossy(item.raw);
                return ctx.reject(
                    &loc,
                    &format!("<{tag}> record is not valid UTF-8 at byte {at}"),
                    &raw,
                );
            }
        };
        if let Err(e) = self.parser.parse(text, item.kind, &mut self.record) {
            ctx.stats.read += 1;
            let at = (e.at as usize).min(text.len());
            let line = item.line
                + text.as_bytes()[..at]
                    .iter()
                    .filter(|&&b| b == b'\n')
                    .count() as u64;
            let reason = format!(
                "<{tag}> record: {} (byte {}, line {line})",
                e.reason,
                item.offset + at as u64
            );
            return ctx.reject(&loc, &reason, text);
        }
        if item.kind == Kind::Delete {
            for &pmid in &self.record.deleted {
                ctx.delete(-pmid)?;
            }
            return Ok(());
        }
        ctx.stats.read += 1;
        let pmid = self.record.pmid.unwrap_or_default();
        let here = Location {
            result_index: Some(ordinal),
            ..loc.clone()
        };
        if let Some(previous) = ctx.already_seen(-pmid, &here) {
            let reason = format!(
                "PMID {pmid} appears twice in this file (first copy at {previous}, \
                 counting records from 0); the first copy was kept"
            );
            return ctx.reject(&loc, &reason, text);
        }
        let done = self.appender.append(&self.record, &mut ctx.builders);
        // File order, not `DateRevised`, decides which copy of a work is newest.
        ctx.accepted(done.work_id, None)
    }
}
