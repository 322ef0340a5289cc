//! Tests of the generator: determinism, and what the scenario promises, measured.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::OnceLock;
use std::sync::atomic::AtomicU64;

use ::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use arrow::array::{Array, AsArray};
use arrow::datatypes::{Int32Type, Int64Type};
use sha2::{Digest, Sha256};

use super::*;

const N: u64 = 20_000;

/// What the statistical tests need of each work.
struct Row {
    year: i32,
    modality: String,
    countries: Vec<String>,
    clinical_and_humans: bool,
    cited: i64,
    references: Vec<i64>,
}

fn corpus() -> &'static (Vec<Row>, Scenario) {
    static CORPUS: OnceLock<(Vec<Row>, Scenario)> = OnceLock::new();
    CORPUS.get_or_init(|| {
        let opts = GenerateOptions {
            works: N,
            seed: 20_260_001,
            threads: 2,
            scenario: Scenario::cgt(),
        };
        let model = opts.model().unwrap();
        let clinical: Vec<&str> = opts
            .scenario
            .publication_types
            .clinical
            .iter()
            .map(|t| t.name.as_str())
            .collect();
        let rows = run_blocks(N.div_ceil(BLOCK_WORKS), 2, |b| {
            let end = ((b + 1) * BLOCK_WORKS).min(N);
            Ok((b * BLOCK_WORKS..end)
                .map(|i| {
                    let w = synthesize(&model, i);
                    let humans = w.mesh.iter().any(|m| m.term.ui == "D006801");
                    let clin = w.publication_types.iter().any(|p| clinical.contains(&p.0));
                    Row {
                        year: w.year,
                        modality: w.modality.key.clone(),
                        countries: w.countries().iter().map(|c| c.to_string()).collect(),
                        clinical_and_humans: humans && clin,
                        cited: w.cited_by_count,
                        references: w.references.clone(),
                    }
                })
                .collect::<Vec<_>>())
        })
        .unwrap()
        .into_iter()
        .flatten()
        .collect();
        (rows, opts.scenario)
    })
}

fn share(rows: &[&Row], f: impl Fn(&Row) -> bool) -> f64 {
    rows.iter().filter(|r| f(r)).count() as f64 / rows.len().max(1) as f64
}

fn select<'a>(m: &str, years: std::ops::RangeInclusive<i32>) -> Vec<&'a Row> {
    corpus()
        .0
        .iter()
        .filter(|r| r.modality == m && years.contains(&r.year))
        .collect()
}

#[test]
fn china_overtakes_the_usa_in_msc_after_the_configured_year() {
    let s = &corpus().1;
    let msc = &s.modalities[s.modality_index("msc").unwrap()];
    let (cn, us) = (&msc.countries["CN"], &msc.countries["US"]);
    let cross = (s.corpus.first_year..=s.corpus.last_year)
        .find(|&y| cn.at(y) >= us.at(y))
        .expect("the scenario has China overtake the USA in MSC");
    let has = |c: &'static str| move |r: &Row| r.countries.iter().any(|x| x == c);
    let before = select("msc", cross - 6..=cross - 2);
    let after = select("msc", cross + 3..=s.corpus.last_year);
    assert!(
        before.len() > 100 && after.len() > 500,
        "{} {}",
        before.len(),
        after.len()
    );
    let (us_b, cn_b) = (share(&before, has("US")), share(&before, has("CN")));
    let (us_a, cn_a) = (share(&after, has("US")), share(&after, has("CN")));
    assert!(us_b > cn_b, "before {cross}: US {us_b:.3} CN {cn_b:.3}");
    assert!(cn_a > us_a, "after {cross}: US {us_a:.3} CN {cn_a:.3}");
    // And the USA still leads overall.
    let all: Vec<&Row> = corpus().0.iter().collect();
    assert!(share(&all, has("US")) > share(&all, has("CN")));
}

#[test]
fn international_papers_are_cited_more() {
    let rows: Vec<&Row> = corpus().0.iter().filter(|r| r.year <= 2018).collect();
    let mean = |intl: bool| {
        let v: Vec<i64> = rows
            .iter()
            .filter(|r| (r.countries.len() > 1) == intl && !r.countries.is_empty())
            .map(|r| r.cited)
            .collect();
        v.iter().sum::<i64>() as f64 / v.len() as f64
    };
    let (i, d) = (mean(true), mean(false));
    assert!(i > 1.2 * d, "international {i:.2} vs domestic {d:.2}");
}

#[test]
fn clinical_share_rises_for_hsct_and_stays_flat_for_msc() {
    let clin = |r: &Row| r.clinical_and_humans;
    let h_early = share(&select("hsct", 1989..=1998), clin);
    let h_late = share(&select("hsct", 2014..=2023), clin);
    assert!(h_late > h_early + 0.08, "HSCT {h_early:.3} -> {h_late:.3}");
    let m_early = share(&select("msc", 2000..=2010), clin);
    let m_late = share(&select("msc", 2014..=2023), clin);
    assert!(
        (m_late - m_early).abs() < 0.03,
        "MSC {m_early:.3} -> {m_late:.3}"
    );
    let x_early = share(&select("ex_vivo_gt", 1995..=2010), clin);
    let x_late = share(&select("ex_vivo_gt", 2018..=2023), clin);
    assert!(
        x_late > x_early + 0.1,
        "ex vivo {x_early:.3} -> {x_late:.3}"
    );
}

#[test]
fn japan_collaborates_internationally_less_than_the_usa() {
    let intl_share = |c: &str| {
        let with: Vec<&Row> = corpus()
            .0
            .iter()
            .filter(|r| r.countries.iter().any(|x| x == c))
            .collect();
        share(&with, |r| r.countries.len() > 1)
    };
    let (jp, us, de) = (intl_share("JP"), intl_share("US"), intl_share("DE"));
    assert!(jp < us && us < de, "JP {jp:.3} US {us:.3} DE {de:.3}");
}

#[test]
fn citations_are_heavy_tailed_and_realised_by_later_works() {
    let rows = &corpus().0;
    let total_cited: i64 = rows.iter().map(|r| r.cited).sum();
    let mut realised: HashMap<i64, i64> = HashMap::new();
    for (i, r) in rows.iter().enumerate() {
        for &cited in &r.references {
            let j = (cited - WORK_ID_BASE) as usize;
            assert!(
                rows[j].year < r.year,
                "work {i} cites a work that is not older"
            );
            *realised.entry(cited).or_default() += 1;
        }
    }
    let total_refs: i64 = realised.values().sum();
    let ratio = total_refs as f64 / total_cited as f64;
    assert!(
        (0.9..1.1).contains(&ratio),
        "references / citations = {ratio:.3}"
    );
    // Per work, realised in-corpus citations track cited_by_count.
    let xs: Vec<f64> = rows.iter().map(|r| r.cited as f64).collect();
    let ys: Vec<f64> = (0..rows.len())
        .map(|i| *realised.get(&(WORK_ID_BASE + i as i64)).unwrap_or(&0) as f64)
        .collect();
    let r = pearson(&xs, &ys);
    assert!(r > 0.8, "correlation {r:.3}");
    // Heavy tail: the top 1% hold far more than 1% of the citations.
    let mut sorted = xs.clone();
    sorted.sort_by(|a, b| b.total_cmp(a));
    let top: f64 = sorted[..sorted.len() / 100].iter().sum();
    assert!(
        top / total_cited as f64 > 0.08,
        "top 1% share {:.3}",
        top / total_cited as f64
    );
}

fn pearson(x: &[f64], y: &[f64]) -> f64 {
    let n = x.len() as f64;
    let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in x.iter().zip(y) {
        sxy += (a - mx) * (b - my);
        sxx += (a - mx) * (a - mx);
        syy += (b - my) * (b - my);
    }
    sxy / (sxx * syy).sqrt()
}

fn hashes(dir: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.file_name().unwrap() != "manifest.json" {
                let rel = p.strip_prefix(dir).unwrap().display().to_string();
                out.insert(
                    rel,
                    format!("{:x}", Sha256::digest(std::fs::read(&p).unwrap())),
                );
            }
        }
    }
    out
}

#[test]
fn same_seed_gives_identical_files_whatever_the_threads() {
    let tmp = tempfile::tempdir().unwrap();
    let mut opts = GenerateOptions {
        works: 4_000,
        seed: 42,
        threads: 1,
        scenario: Scenario::cgt(),
    };
    let a = tmp.path().join("a");
    let (m1, _) = generate_parquet(&opts, &a, &AtomicU64::new(0)).unwrap();
    opts.threads = 3;
    let b = tmp.path().join("b");
    let progress = AtomicU64::new(0);
    let (m2, _) = generate_parquet(&opts, &b, &progress).unwrap();
    assert_eq!(progress.into_inner(), 4_000);
    let (ha, hb) = (hashes(&a), hashes(&b));
    // Three parts of each of the 7 tables the generator fills, one (empty) file of every other.
    assert_eq!(ha.len(), 7 * 3 + crate::schema::TABLE_COUNT - 7, "{ha:?}");
    assert!(ha.contains_key("works/part-00002.parquet"));
    assert_eq!(ha, hb);
    assert_eq!(m1.tables, m2.tables);
    assert!(m1.synthetic);
    opts.seed = 43;
    let c = tmp.path().join("c");
    generate_parquet(&opts, &c, &AtomicU64::new(0)).unwrap();
    assert_ne!(
        hashes(&c)["works/part-00000.parquet"],
        ha["works/part-00000.parquet"]
    );

    // The JSON snapshot is reproducible too.
    let (j1, j2) = (tmp.path().join("j1"), tmp.path().join("j2"));
    opts.threads = 1;
    generate_openalex_jsonl(&opts, &j1, &AtomicU64::new(0)).unwrap();
    opts.threads = 2;
    generate_openalex_jsonl(&opts, &j2, &AtomicU64::new(0)).unwrap();
    assert_eq!(hashes(&j1), hashes(&j2));
}

fn read_table(dir: &Path) -> Vec<arrow::record_batch::RecordBatch> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
        .iter()
        .flat_map(|f| {
            ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(f).unwrap())
                .unwrap()
                .build()
                .unwrap()
                .map(|b| b.unwrap())
        })
        .collect()
}

#[test]
fn per_year_citations_sum_to_cited_by_count_in_the_files() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("ds");
    let opts = GenerateOptions {
        works: 3_000,
        seed: 5,
        threads: 2,
        scenario: Scenario::cgt(),
    };
    let (m, _) = generate_parquet(&opts, &out, &AtomicU64::new(0)).unwrap();
    let mut cited: HashMap<i64, i64> = HashMap::new();
    let mut years: HashMap<i64, i32> = HashMap::new();
    for b in read_table(&out.join("works")) {
        let ids = b
            .column_by_name("work_id")
            .unwrap()
            .as_primitive::<Int64Type>();
        let c = b
            .column_by_name("cited_by_count")
            .unwrap()
            .as_primitive::<Int64Type>();
        let y = b
            .column_by_name("publication_year")
            .unwrap()
            .as_primitive::<Int32Type>();
        assert_eq!(
            b.column_by_name("source")
                .unwrap()
                .as_string::<i32>()
                .value(0),
            "synthetic"
        );
        for i in 0..b.num_rows() {
            cited.insert(ids.value(i), c.value(i));
            years.insert(ids.value(i), y.value(i));
        }
    }
    assert_eq!(cited.len(), 3_000);
    let mut sums: HashMap<i64, i64> = HashMap::new();
    for b in read_table(&out.join("work_citations_by_year")) {
        let ids = b.column(0).as_primitive::<Int64Type>();
        let y = b.column(1).as_primitive::<Int32Type>();
        let c = b.column(2).as_primitive::<Int64Type>();
        for i in 0..b.num_rows() {
            assert!(
                y.value(i) > years[&ids.value(i)],
                "citations before publication"
            );
            *sums.entry(ids.value(i)).or_default() += c.value(i);
        }
    }
    for (id, c) in &cited {
        assert_eq!(sums.get(id).copied().unwrap_or(0), *c, "work {id}");
    }
    let rows: usize = read_table(&out.join("authorships"))
        .iter()
        .map(|b| b.num_rows())
        .sum();
    assert_eq!(m.tables["authorships"].rows, rows as u64);
    // Some authors have no affiliation, some have two, possibly in two countries.
    let mut empty = 0;
    let mut two = 0;
    for b in read_table(&out.join("authorships")) {
        let raw = b
            .column_by_name("raw_affiliations")
            .unwrap()
            .as_list::<i32>();
        for i in 0..b.num_rows() {
            match raw.value(i).len() {
                0 => empty += 1,
                2 => two += 1,
                _ => {}
            }
        }
    }
    assert!(empty > 0 && two > 0, "{empty} {two}");
}

/// Every PubMed record of a generated corpus, parsed by the PubMed reader, with its work.
fn pubmed_records(dir: &Path) -> Vec<crate::pubmed::record::Record> {
    use crate::pubmed::parse::Parser;
    use crate::pubmed::record::Record;
    use crate::pubmed::split::Splitter;
    let mut names: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".xml.gz"))
        .collect();
    names.sort();
    let mut out = Vec::new();
    let mut parser = Parser::default();
    for name in names {
        let file = std::fs::File::open(dir.join(name)).unwrap();
        let mut reader = std::io::BufReader::new(flate2::read::GzDecoder::new(file));
        let mut splitter = Splitter::new();
        while let Some(item) = splitter.next_item(&mut reader).unwrap() {
            assert!(item.broken.is_none(), "{:?}", item.broken);
            let mut rec = Record::default();
            parser
                .parse(std::str::from_utf8(item.raw).unwrap(), item.kind, &mut rec)
                .unwrap();
            out.push(rec);
        }
    }
    out
}

#[test]
fn pubmed_files_are_reproducible_and_read_back_as_generated() {
    let tmp = tempfile::tempdir().unwrap();
    let mut opts = GenerateOptions {
        works: 1_600,
        seed: 5,
        threads: 1,
        scenario: Scenario::cgt(),
    };
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    generate_pubmed_xml(&opts, &a, &AtomicU64::new(0)).unwrap();
    opts.threads = 3;
    let progress = AtomicU64::new(0);
    generate_pubmed_xml(&opts, &b, &progress).unwrap();
    assert_eq!(progress.into_inner(), 1_600);
    let ha = hashes(&a);
    assert_eq!(
        ha.keys().collect::<Vec<_>>(),
        [
            "SYNTHETIC.txt",
            "pubmed26n0001.xml.gz",
            "pubmed26n0002.xml.gz",
            "pubmed26n0003.xml.gz"
        ]
    );
    assert_eq!(ha, hashes(&b));

    let model = opts.model().unwrap();
    let records = pubmed_records(&a);
    assert_eq!(records.len(), 1_600);
    for (i, rec) in records.iter().enumerate() {
        let w = synthesize(&model, i as u64);
        assert_eq!(rec.pmid, Some(w.pmid));
        assert_eq!(rec.opt(rec.article_title), Some(w.title.as_str()));
        assert_eq!(rec.abstract_text, w.abstract_text);
        assert_eq!(rec.opt(rec.doi), Some(w.doi.as_str()));
        assert_eq!(rec.pmcid, w.pmcid);
        assert_eq!(rec.pub_date.year, Some(w.year));
        assert_eq!(
            crate::pubmed::dates::date32(&rec.pub_date),
            Some(super::parquet::date32(w.date))
        );
        assert_eq!(rec.authors.len(), w.authors.len());
        let affs: usize = w.authors.iter().map(|a| a.affiliations.len()).sum();
        assert_eq!(rec.affiliations.len(), affs);
        for (ra, wa) in rec.authors.iter().zip(&w.authors) {
            assert_eq!(rec.opt(ra.last), Some(wa.surname));
            assert_eq!(rec.opt(ra.orcid), wa.orcid.as_deref());
        }
        assert_eq!(rec.pub_types.len(), w.publication_types.len());
        assert_eq!(rec.mesh.len(), w.mesh.len());
        for (rm, wm) in rec.mesh.iter().zip(&w.mesh) {
            assert_eq!(rec.opt(rm.ui), Some(wm.term.ui.as_str()));
            assert_eq!(rm.major, wm.major);
            assert_eq!((rm.q_end - rm.q_start) as usize, wm.qualifiers.len());
        }
        let mut refs: Vec<i64> = rec
            .references
            .iter()
            .map(|p| p - PMID_BASE + WORK_ID_BASE)
            .collect();
        refs.sort_unstable();
        assert_eq!(refs, w.references);
        assert_eq!(
            rec.reference_count.map(i64::from).unwrap_or(0),
            w.referenced_works_count
        );
    }
}

#[test]
fn pubmed_affiliations_resolve_to_the_generators_country() {
    use super::pubmed::{affiliation_hash, affiliation_text};
    let opts = GenerateOptions {
        works: 3_000,
        seed: 11,
        threads: 2,
        scenario: Scenario::cgt(),
    };
    let model = opts.model().unwrap();
    // (affiliations, resolved to the generator's country) for forms that name the country or a
    // US state, and for all.
    let (mut named, mut named_ok, mut all, mut all_ok, mut none_wrong) = (0, 0, 0, 0, 0);
    let mut text = String::new();
    for i in 0..opts.works {
        let w = synthesize(&model, i);
        for (pos, a) in w.authors.iter().enumerate() {
            for (k, af) in a.affiliations.iter().enumerate() {
                let h = affiliation_hash(&model, w.pmid, pos, k);
                text.clear();
                affiliation_text(&model, a, af, h, &mut text);
                let got = bibflow_affiliation::resolve(&text).map(|r| r.country);
                let Some(want) = af.country else {
                    none_wrong += usize::from(got.is_some());
                    continue;
                };
                let ok = got == Some(want);
                all += 1;
                all_ok += usize::from(ok);
                if !(82..96).contains(&(h % 100)) {
                    named += 1;
                    named_ok += usize::from(ok);
                    assert!(ok, "{text:?} -> {got:?}, want {want}");
                }
            }
        }
    }
    // Measured at seed 11, 3,000 works: 23,164 of 23,164 (1.0000).
    let share = all_ok as f64 / all as f64;
    let report = format!(
        "resolved to the generator's country: {all_ok}/{all} = {share:.4} (naming the country: \
         {named_ok}/{named}); {none_wrong} without a country resolved"
    );
    assert!(named > all * 4 / 5, "{report}");
    assert!(share > 0.97, "{report}");
    assert_eq!(none_wrong, 0, "{report}");
}

/// Process CPU time (user + system, all threads) in seconds, from `/proc/self/stat`.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // Fields 14 and 15 of the stat line (utime, stime) are 11 and 12 after the ')'.
    (ticks(11) + ticks(12)) / 100.0
}

/// Timing harness for the generator, not a test: phase by phase on one thread, plus a hash of the
/// files (to check that a speed-up keeps the output). Run with
/// `BIBFLOW_GEN_WORKS=200000 cargo test --workspace --locked generate_timing -- --ignored --nocapture`.
#[test]
#[ignore = "a timing harness run by hand; it asserts nothing and speed belongs in benches/, not in tests"]
// Printing its figures is its purpose.
#[allow(clippy::print_stderr)]
fn generate_timing() {
    let works = std::env::var("BIBFLOW_GEN_WORKS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000u64);
    let opts = GenerateOptions {
        works,
        seed: 1,
        threads: 1,
        scenario: Scenario::cgt(),
    };
    let phase = |name: &str, f: &mut dyn FnMut()| {
        let (c, t) = (cpu_seconds(), std::time::Instant::now());
        f();
        eprintln!(
            "{name:<28} cpu {:7.2} s  wall {:7.2} s",
            cpu_seconds() - c,
            t.elapsed().as_secs_f64()
        );
    };
    let mut model = None;
    phase("model (pre-pass)", &mut || {
        model = Some(opts.model().unwrap())
    });
    let model = model.unwrap();
    let mut refs = 0usize;
    phase("synthesize", &mut || {
        for i in 0..works {
            refs += synthesize(&model, i).references.len();
        }
    });
    phase("synthesize + append", &mut || {
        let mut b = crate::builders::TableBuilders::default();
        for i in 0..works {
            super::parquet::append_work(&synthesize(&model, i), &mut b);
            if (i + 1) % 5_000 == 0 {
                b.finish().unwrap();
            }
        }
    });
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("ds");
    phase("generate_parquet (all)", &mut || {
        generate_parquet(&opts, &out, &AtomicU64::new(0)).unwrap();
    });
    let h = hashes(&out);
    let size: u64 = walk_size(&out);
    let mut all = Sha256::new();
    for (k, v) in &h {
        all.update(k.as_bytes());
        all.update(v.as_bytes());
    }
    eprintln!(
        "works {works}, references {refs}, files {}, {:.1} MB, hash {:x}",
        h.len(),
        size as f64 / 1e6,
        all.finalize()
    );
    let mut tables: BTreeMap<String, u64> = BTreeMap::new();
    for e in std::fs::read_dir(&out).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            tables.insert(
                p.file_name().unwrap().to_string_lossy().into(),
                walk_size(&p),
            );
        }
    }
    eprintln!("{tables:?}");
}

fn walk_size(dir: &Path) -> u64 {
    let mut total = 0;
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        total += if p.is_dir() {
            walk_size(&p)
        } else {
            std::fs::metadata(&p).unwrap().len()
        };
    }
    total
}
