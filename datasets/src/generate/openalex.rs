//! Synthetic works -> an OpenAlex snapshot: `works/updated_date=YYYY-MM-DD/part_NNN.gz`
//! (gzipped JSON Lines of OpenAlex Work objects) and the snapshot's `works/manifest`.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use flate2::Compression;
use flate2::GzBuilder;
use serde::Serialize;

use super::parquet::position_tag;
use super::work::{SynthWork, synthesize};
use super::{BLOCK_WORKS, GenerateOptions, publish, run_blocks, staging_dir};
use crate::error::{DatasetError, Result};
use crate::outdir::Cleanup;

const OA: &str = "https://openalex.org/";

#[derive(Serialize)]
struct Work<'a> {
    id: String,
    doi: String,
    title: &'a str,
    display_name: &'a str,
    publication_year: i32,
    publication_date: String,
    ids: Ids,
    language: &'static str,
    primary_location: Location<'a>,
    #[serde(rename = "type")]
    work_type: &'a str,
    type_crossref: &'a str,
    open_access: OpenAccess<'a>,
    authorships: Vec<Authorship<'a>>,
    countries_distinct_count: usize,
    cited_by_count: i64,
    referenced_works_count: i64,
    is_retracted: bool,
    is_paratext: bool,
    primary_topic: Topic<'a>,
    topics: Vec<Topic<'a>>,
    mesh: Vec<Mesh<'a>>,
    referenced_works: Vec<String>,
    counts_by_year: Vec<CountByYear>,
    abstract_inverted_index: BTreeMap<&'a str, Vec<u32>>,
    updated_date: String,
    created_date: &'a str,
}

#[derive(Serialize)]
struct Ids {
    openalex: String,
    doi: String,
    pmid: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pmcid: Option<String>,
}

#[derive(Serialize)]
struct Location<'a> {
    source: Source<'a>,
}

#[derive(Serialize)]
struct Source<'a> {
    id: String,
    display_name: &'a str,
    issn_l: Option<&'a str>,
    #[serde(rename = "type")]
    source_type: &'static str,
}

#[derive(Serialize)]
struct OpenAccess<'a> {
    is_oa: bool,
    oa_status: &'a str,
}

#[derive(Serialize)]
struct Authorship<'a> {
    author_position: &'static str,
    author: Author<'a>,
    institutions: Vec<Institution<'a>>,
    countries: Vec<&'a str>,
    is_corresponding: bool,
    raw_author_name: &'a str,
    raw_affiliation_strings: Vec<&'a str>,
}

#[derive(Serialize)]
struct Author<'a> {
    id: String,
    display_name: &'a str,
    orcid: Option<String>,
}

#[derive(Serialize)]
struct Institution<'a> {
    id: String,
    display_name: &'a str,
    country_code: Option<&'a str>,
    #[serde(rename = "type")]
    kind: &'static str,
}

#[derive(Serialize)]
struct Topic<'a> {
    id: String,
    display_name: &'a str,
    score: f64,
    subfield: Named<'a>,
    field: Named<'a>,
    domain: Named<'a>,
}

#[derive(Serialize)]
struct Named<'a> {
    id: String,
    display_name: &'a str,
}

#[derive(Serialize)]
struct Mesh<'a> {
    descriptor_ui: &'a str,
    descriptor_name: &'a str,
    qualifier_ui: &'a str,
    qualifier_name: Option<&'a str>,
    is_major_topic: bool,
}

#[derive(Serialize)]
struct CountByYear {
    year: i32,
    cited_by_count: i64,
}

fn to_json<'a>(w: &'a SynthWork<'a>) -> Work<'a> {
    let s = w.scenario;
    let src = &s.sources[w.source];
    let topic = |(ti, score): (usize, f64)| {
        let t = &s.topics[ti];
        Topic {
            id: format!("{OA}T{}", t.id),
            display_name: &t.name,
            score,
            subfield: Named {
                id: format!("{OA}subfields/{}", t.subfield.0),
                display_name: &t.subfield.1,
            },
            field: Named {
                id: format!("{OA}fields/{}", t.field.0),
                display_name: &t.field.1,
            },
            domain: Named {
                id: format!("{OA}domains/{}", t.domain.0),
                display_name: &t.domain.1,
            },
        }
    };
    let n = w.authors.len();
    let authorships = w
        .authors
        .iter()
        .enumerate()
        .map(|(pos, a)| Authorship {
            author_position: position_tag(pos, n),
            author: Author {
                id: format!("{OA}A{}", a.author_id),
                display_name: &a.name,
                orcid: a.orcid.as_ref().map(|o| format!("https://orcid.org/{o}")),
            },
            institutions: a
                .affiliations
                .iter()
                .filter_map(|af| {
                    af.institution_id.map(|id| Institution {
                        id: format!("{OA}I{id}"),
                        display_name: &af.institution_name,
                        country_code: af.country,
                        kind: "education",
                    })
                })
                .collect(),
            countries: a.countries(),
            is_corresponding: a.is_corresponding,
            raw_author_name: &a.name,
            raw_affiliation_strings: a.affiliations.iter().map(|af| af.raw.as_str()).collect(),
        })
        .collect();
    let mut mesh = Vec::new();
    for e in &w.mesh {
        mesh.push(Mesh {
            descriptor_ui: &e.term.ui,
            descriptor_name: &e.term.name,
            qualifier_ui: "",
            qualifier_name: None,
            is_major_topic: e.major,
        });
        for q in &e.qualifiers {
            mesh.push(Mesh {
                descriptor_ui: &e.term.ui,
                descriptor_name: &e.term.name,
                qualifier_ui: &q.ui,
                qualifier_name: Some(&q.name),
                is_major_topic: e.major,
            });
        }
    }
    let mut index: BTreeMap<&str, Vec<u32>> = BTreeMap::new();
    for (i, word) in w.abstract_text.split_whitespace().enumerate() {
        index.entry(word).or_default().push(i as u32);
    }
    Work {
        id: format!("{OA}W{}", w.work_id),
        doi: format!("https://doi.org/{}", w.doi),
        title: &w.title,
        display_name: &w.title,
        publication_year: w.year,
        publication_date: w.date.format("%Y-%m-%d").to_string(),
        ids: Ids {
            openalex: format!("{OA}W{}", w.work_id),
            doi: format!("https://doi.org/{}", w.doi),
            pmid: format!("https://pubmed.ncbi.nlm.nih.gov/{}", w.pmid),
            pmcid: w
                .pmcid
                .map(|p| format!("https://www.ncbi.nlm.nih.gov/pmc/articles/PMC{p}")),
        },
        language: "en",
        primary_location: Location {
            source: Source {
                id: format!("{OA}S{}", src.id),
                display_name: &src.name,
                issn_l: src.issn_l.as_deref(),
                source_type: "journal",
            },
        },
        work_type: w.work_type,
        type_crossref: if w.work_type == "article" || w.work_type == "review" {
            "journal-article"
        } else {
            w.work_type
        },
        open_access: OpenAccess {
            is_oa: w.is_oa,
            oa_status: w.oa_status,
        },
        authorships,
        countries_distinct_count: w.countries().len(),
        cited_by_count: w.cited_by_count,
        referenced_works_count: w.referenced_works_count,
        is_retracted: w.is_retracted,
        is_paratext: false,
        primary_topic: topic(w.topics[0]),
        topics: w.topics.iter().copied().map(topic).collect(),
        mesh,
        referenced_works: w.references.iter().map(|r| format!("{OA}W{r}")).collect(),
        counts_by_year: w
            .citations_by_year
            .iter()
            .rev()
            .map(|&(year, cited_by_count)| CountByYear {
                year,
                cited_by_count,
            })
            .collect(),
        abstract_inverted_index: index,
        updated_date: format!("{}T00:00:00", s.corpus.updated_date),
        created_date: &s.corpus.updated_date,
    }
}

/// Writes the synthetic works as an OpenAlex snapshot under `out`: `out/data/works/
/// updated_date=<scenario updated_date>/part_NNN.gz` (one part per block, 3-digit or wider block
/// index) and `out/data/works/manifest` with each part's `record_count`. `out` must not exist or
/// be empty. The gzip headers carry no time stamp, so the files are reproducible.
pub fn generate_openalex_jsonl(
    opts: &GenerateOptions,
    out: &Path,
    progress: &AtomicU64,
) -> Result<Vec<Cleanup>> {
    let model = opts.model()?;
    let (staging, tmp) = staging_dir(out)?;
    let date = &opts.scenario.corpus.updated_date;
    let works_dir = tmp.join("data").join("works");
    let part_dir = works_dir.join(format!("updated_date={date}"));
    std::fs::create_dir_all(&part_dir).map_err(|e| DatasetError::write(&part_dir, e))?;
    let blocks = opts.works.div_ceil(BLOCK_WORKS);
    let parts = run_blocks(blocks, opts.threads, |b| {
        let name = format!("part_{b:03}.gz");
        let path = part_dir.join(&name);
        let file = File::create(&path).map_err(|e| DatasetError::write(&path, e))?;
        let gz = GzBuilder::new()
            .mtime(0)
            .write(BufWriter::with_capacity(1 << 20, file), Compression::new(6));
        let mut out = BufWriter::with_capacity(1 << 20, gz);
        let end = ((b + 1) * BLOCK_WORKS).min(opts.works);
        let mut line = Vec::with_capacity(8192);
        for i in b * BLOCK_WORKS..end {
            let w = synthesize(&model, i);
            line.clear();
            serde_json::to_writer(&mut line, &to_json(&w))
                .map_err(|e| DatasetError::write(&path, std::io::Error::other(e)))?;
            line.push(b'\n');
            out.write_all(&line)
                .map_err(|e| DatasetError::write(&path, e))?;
            progress.fetch_add(1, Ordering::Relaxed);
        }
        let gz = out
            .into_inner()
            .map_err(|e| DatasetError::write(&path, e.into_error()))?;
        let mut inner = gz.finish().map_err(|e| DatasetError::write(&path, e))?;
        inner.flush().map_err(|e| DatasetError::write(&path, e))?;
        let size = std::fs::metadata(&path)
            .map_err(|e| DatasetError::io(&path, e))?
            .len();
        Ok((name, end - b * BLOCK_WORKS, size))
    })?;
    let entries: Vec<serde_json::Value> = parts
        .iter()
        .map(|(name, records, size)| {
            serde_json::json!({
                "url": format!("s3://openalex/data/works/updated_date={date}/{name}"),
                "meta": { "content_length": size, "record_count": records },
            })
        })
        .collect();
    let total_size: u64 = parts.iter().map(|p| p.2).sum();
    let manifest = serde_json::json!({
        "entries": entries,
        "meta": { "content_length": total_size, "record_count": opts.works },
    });
    let path = works_dir.join("manifest");
    let text = serde_json::to_string_pretty(&manifest)
        .map_err(|e| DatasetError::write(&path, std::io::Error::other(e)))?;
    std::fs::write(&path, text + "\n").map_err(|e| DatasetError::write(&path, e))?;
    let readme = tmp.join("SYNTHETIC.txt");
    std::fs::write(
        &readme,
        format!(
            "SYNTHETIC DATA made by `bibflow generate` (seed {}, {} works, scenario {}).\n\
             No record here describes a real publication.\n",
            opts.seed, opts.works, opts.scenario.corpus.name
        ),
    )
    .map_err(|e| DatasetError::write(&readme, e))?;
    publish(staging, &tmp)
}
