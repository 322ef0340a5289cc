//! How well bibflow's classification agrees with hand labels: `bibflow classify evaluate`.
//!
//! The labelled set (`tests/fixtures/classification/`, compiled in; its SOURCES.md and SAMPLING.md
//! say where the real records come from and how they were drawn) holds records with their title,
//! abstract, MeSH and publication types, a sampling stratum and its inclusion probability, and
//! labels made blind by the guide in `docs/classification-guide.md`. This module runs
//! `modalities()` and `clinical_stage()` over the records (with the shipped rules or a user's) and
//! compares:
//!
//! - only records whose label is certain count;
//! - every figure is weighted by the inverse of the record's sampling rate, so it estimates the
//!   figure over the whole pool the sample was drawn from, not over the (stratified) sample;
//! - 95% intervals are Wilson score intervals at the weighted proportion with Kish's effective
//!   sample size (`(sum w)^2 / sum w^2`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, ListBuilder, RecordBatch, StringArray, StringBuilder};
use arrow::datatypes::{DataType, Field, Schema};
use datafusion::datasource::MemTable;
use serde::{Deserialize, Serialize};

use crate::error::{EngineError, Result};
use crate::session::{SessionBuilder, SessionOptions};

const BUILTIN_RECORDS: &str = include_str!("../../tests/fixtures/classification/records.jsonl");
const BUILTIN_LABELS: &str = include_str!("../../tests/fixtures/classification/labels_a.tsv");
const BUILTIN_SECOND: &str = include_str!("../../tests/fixtures/classification/labels_b.tsv");

/// The modality labels, in the order figures are shown.
pub const MODALITIES: &[&str] = &["HSCT", "MSC", "in vivo GT", "ex vivo GT", "GT unspecified"];
/// The clinical stages.
pub const STAGES: &[&str] = &["clinical trial", "clinical (human)", "basic"];

/// One real record of the labelled set.
#[derive(Debug, Clone, Deserialize)]
pub struct Record {
    pub id: String,
    #[serde(default)]
    pub year: Option<i32>,
    pub title: String,
    #[serde(default, rename = "abstract")]
    pub abstract_text: Option<String>,
    #[serde(default)]
    pub publication_types: Vec<String>,
    #[serde(default)]
    pub mesh: Vec<String>,
    pub stratum: String,
    pub sampling_rate: f64,
}

/// A record's hand label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    pub modalities: BTreeSet<String>,
    pub stage: String,
    pub certain: bool,
    pub reason: String,
}

/// Records and their labels.
#[derive(Debug, Clone)]
pub struct LabelledSet {
    pub records: Vec<Record>,
    pub labels: BTreeMap<String, Label>,
    /// A second labeller's labels of a subset, made independently, for the agreement.
    pub second: BTreeMap<String, Label>,
}

impl LabelledSet {
    /// The set compiled into bibflow (`tests/fixtures/classification/`).
    pub fn builtin() -> Result<Self> {
        let mut set = Self::parse(
            BUILTIN_RECORDS,
            "records.jsonl",
            BUILTIN_LABELS,
            "labels_a.tsv",
        )?;
        set.second = parse_labels(BUILTIN_SECOND, "labels_b.tsv")?;
        Ok(set)
    }

    /// A set in a folder: `records.jsonl` and `labels.tsv` (or `labels_a.tsv`), in the formats of
    /// the built-in one.
    pub fn from_dir(dir: &Path) -> Result<Self> {
        let read = |name: &str| {
            let p = dir.join(name);
            std::fs::read_to_string(&p).map_err(|e| EngineError::io(&p, e))
        };
        let records = read("records.jsonl")?;
        let labels_name = if dir.join("labels.tsv").exists() {
            "labels.tsv"
        } else {
            "labels_a.tsv"
        };
        let labels = read(labels_name)?;
        Self::parse(
            &records,
            &dir.join("records.jsonl").display().to_string(),
            &labels,
            &dir.join(labels_name).display().to_string(),
        )
    }

    fn parse(records: &str, records_name: &str, labels: &str, labels_name: &str) -> Result<Self> {
        let mut recs = Vec::new();
        for (i, line) in records.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let r: Record = serde_json::from_str(line)
                .map_err(|e| EngineError::Usage(format!("{records_name} line {}: {e}", i + 1)))?;
            if !(r.sampling_rate > 0.0 && r.sampling_rate <= 1.0) {
                return Err(EngineError::Usage(format!(
                    "{records_name} line {}: sampling_rate must be in (0, 1], got {}",
                    i + 1,
                    r.sampling_rate
                )));
            }
            recs.push(r);
        }
        let labels = parse_labels(labels, labels_name)?;
        for r in &recs {
            if !labels.contains_key(&r.id) {
                return Err(EngineError::Usage(format!(
                    "{labels_name}: no label for record {}",
                    r.id
                )));
            }
        }
        Ok(Self {
            records: recs,
            labels,
            second: BTreeMap::new(),
        })
    }
}

/// Parses a labels file: a header, then `id, modalities (;-separated), clinical_stage, certain,
/// reason`, TAB-separated.
pub fn parse_labels(text: &str, name: &str) -> Result<BTreeMap<String, Label>> {
    let mut out = BTreeMap::new();
    for (i, line) in text.lines().enumerate().skip(1) {
        if line.trim().is_empty() {
            continue;
        }
        let f: Vec<&str> = line.split('\t').collect();
        let bad = |what: String| EngineError::Usage(format!("{name} line {}: {what}", i + 1));
        if f.len() < 4 {
            return Err(bad(format!(
                "expected 5 TAB-separated fields, got {}",
                f.len()
            )));
        }
        let modalities: BTreeSet<String> = f[1]
            .split(';')
            .map(str::trim)
            .filter(|m| !m.is_empty())
            .map(str::to_owned)
            .collect();
        if let Some(m) = modalities
            .iter()
            .find(|m| !MODALITIES.contains(&m.as_str()))
        {
            return Err(bad(format!(
                "unknown modality '{m}' (one of {MODALITIES:?})"
            )));
        }
        if !STAGES.contains(&f[2]) {
            return Err(bad(format!(
                "unknown clinical stage '{}' (one of {STAGES:?})",
                f[2]
            )));
        }
        let certain = match f[3] {
            "true" => true,
            "false" => false,
            other => return Err(bad(format!("certain must be true or false, got '{other}'"))),
        };
        out.insert(
            f[0].to_string(),
            Label {
                modalities,
                stage: f[2].to_string(),
                certain,
                reason: f.get(4).unwrap_or(&"").to_string(),
            },
        );
    }
    Ok(out)
}

/// How the records are classified.
#[derive(Debug, Clone, Default)]
pub struct EvalOptions {
    /// The text of a modality rules file; `None`: the shipped rules.
    pub rules: Option<String>,
    /// Classify as if no record had MeSH (as OpenAlex-only works and unindexed PubMed records).
    pub without_mesh: bool,
    /// Which records count: all, or one part of a fixed split (see [`Part`]).
    pub part: Option<Part>,
}

/// A fixed split of the labelled set by a hash of the record id: rules are developed by reading
/// the disagreements of [`Part::Development`] only, and their figures are reported on
/// [`Part::HeldOut`] (a third of the records), which no rule change has looked at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Development,
    HeldOut,
}

impl Part {
    /// The part a record id falls in (FNV-1a of the id; one in three is held out).
    pub fn of(id: &str) -> Self {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in id.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        if h.is_multiple_of(3) {
            Self::HeldOut
        } else {
            Self::Development
        }
    }
}

/// A weighted proportion with its 95% Wilson interval.
#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct Estimate {
    pub value: f64,
    pub low: f64,
    pub high: f64,
    /// Records behind it (unweighted).
    pub n: usize,
}

/// Precision, recall and F1 of one class.
#[derive(Debug, Clone, Serialize)]
pub struct ClassFigures {
    pub class: String,
    /// Certain records labelled with the class (unweighted).
    pub labelled: usize,
    /// Certain records bibflow gave the class (unweighted).
    pub predicted: usize,
    pub true_positives: usize,
    pub precision: Option<Estimate>,
    pub recall: Option<Estimate>,
    pub f1: Option<f64>,
}

/// A record where bibflow and the label differ.
#[derive(Debug, Clone, Serialize)]
pub struct Disagreement {
    pub id: String,
    pub title: String,
    pub labelled: String,
    pub predicted: String,
    pub reason: String,
}

/// The figures of one evaluation.
#[derive(Debug, Clone, Serialize)]
pub struct Evaluation {
    pub records: usize,
    /// Records left out because their label is uncertain.
    pub uncertain: usize,
    pub modalities: Vec<ClassFigures>,
    /// Any cell or gene therapy class.
    pub any_cgt: ClassFigures,
    pub stages: Vec<ClassFigures>,
    /// Weighted share of records whose clinical stage is right.
    pub stage_accuracy: Estimate,
    pub disagreements: Vec<Disagreement>,
    /// Agreement of the two labellers, where a second one labelled a subset.
    pub agreement: Option<Agreement>,
}

/// How far two labellers, labelling independently, agree (Cohen's kappa), over every record both
/// labelled (certain or not).
#[derive(Debug, Clone, Serialize)]
pub struct Agreement {
    pub records: usize,
    /// Share of records with the same modality labels and the same clinical stage.
    pub identical: f64,
    pub kappa_any_cgt: Option<f64>,
    pub kappa_hsct: Option<f64>,
    pub kappa_stage: Option<f64>,
}

/// Classifies the set's records with bibflow's functions and compares with the labels.
pub async fn evaluate(set: &LabelledSet, options: &EvalOptions) -> Result<Evaluation> {
    let predicted = classify(set, options).await?;
    let certain: Vec<(&Record, &Label, &Prediction)> = set
        .records
        .iter()
        .filter(|r| options.part.is_none_or(|p| Part::of(&r.id) == p))
        .filter_map(|r| {
            let l = &set.labels[&r.id];
            l.certain.then(|| (r, l, &predicted[&r.id]))
        })
        .collect();
    let class = |name: &str, truth: &dyn Fn(&Label) -> bool, pred: &dyn Fn(&Prediction) -> bool| {
        let rows: Vec<(f64, bool, bool)> = certain
            .iter()
            .map(|(r, l, p)| (1.0 / r.sampling_rate, truth(l), pred(p)))
            .collect();
        figures(name, &rows)
    };
    let modalities = MODALITIES
        .iter()
        .map(|m| {
            class(
                m,
                &|l: &Label| l.modalities.contains(*m),
                &|p: &Prediction| p.modalities.contains(*m),
            )
        })
        .collect();
    let any_cgt = class(
        "any CGT",
        &|l: &Label| !l.modalities.is_empty(),
        &|p: &Prediction| !p.modalities.is_empty(),
    );
    let stages = STAGES
        .iter()
        .map(|s| {
            class(s, &|l: &Label| l.stage == *s, &|p: &Prediction| {
                p.stage == *s
            })
        })
        .collect();
    let acc: Vec<(f64, bool)> = certain
        .iter()
        .map(|(r, l, p)| (1.0 / r.sampling_rate, l.stage == p.stage))
        .collect();
    let stage_accuracy = proportion(&acc).expect("a labelled set has certain records");
    let mut disagreements = Vec::new();
    for (r, l, p) in &certain {
        let lm = join(&l.modalities);
        let pm = join(&p.modalities);
        if lm != pm || l.stage != p.stage {
            disagreements.push(Disagreement {
                id: r.id.clone(),
                title: r.title.chars().take(100).collect(),
                labelled: format!("{lm} / {}", l.stage),
                predicted: format!("{pm} / {}", p.stage),
                reason: l.reason.clone(),
            });
        }
    }
    let both: Vec<(&Label, &Label)> = set
        .second
        .iter()
        .filter_map(|(id, b)| set.labels.get(id).map(|a| (a, b)))
        .collect();
    let agreement = (!both.is_empty()).then(|| {
        let pairs = |f: &dyn Fn(&Label) -> String| -> Vec<(String, String)> {
            both.iter().map(|(a, b)| (f(a), f(b))).collect()
        };
        Agreement {
            records: both.len(),
            identical: both
                .iter()
                .filter(|(a, b)| a.modalities == b.modalities && a.stage == b.stage)
                .count() as f64
                / both.len() as f64,
            kappa_any_cgt: cohen_kappa(&pairs(&|l| (!l.modalities.is_empty()).to_string())),
            kappa_hsct: cohen_kappa(&pairs(&|l| l.modalities.contains("HSCT").to_string())),
            kappa_stage: cohen_kappa(&pairs(&|l| l.stage.clone())),
        }
    });
    let in_part = set
        .records
        .iter()
        .filter(|r| options.part.is_none_or(|p| Part::of(&r.id) == p))
        .count();
    Ok(Evaluation {
        agreement,
        records: in_part,
        uncertain: in_part - certain.len(),
        modalities,
        any_cgt,
        stages,
        stage_accuracy,
        disagreements,
    })
}

fn join(set: &BTreeSet<String>) -> String {
    if set.is_empty() {
        "(none)".into()
    } else {
        set.iter().cloned().collect::<Vec<_>>().join("; ")
    }
}

/// bibflow's classes for one record.
#[derive(Debug, Clone)]
struct Prediction {
    modalities: BTreeSet<String>,
    stage: String,
}

/// Runs `modalities()` and `clinical_stage()` over the records in a bibflow session, as the
/// `work_modality` view calls them (clinical_stage with title and abstract).
async fn classify(
    set: &LabelledSet,
    options: &EvalOptions,
) -> Result<BTreeMap<String, Prediction>> {
    let mut ids = StringBuilder::new();
    let mut titles = StringBuilder::new();
    let mut abstracts = StringBuilder::new();
    let mut mesh = ListBuilder::new(StringBuilder::new());
    let mut types = ListBuilder::new(StringBuilder::new());
    for r in &set.records {
        ids.append_value(&r.id);
        titles.append_value(&r.title);
        abstracts.append_option(r.abstract_text.as_deref());
        if !options.without_mesh {
            for m in &r.mesh {
                mesh.values().append_value(m);
            }
        }
        mesh.append(true);
        for t in &r.publication_types {
            types.values().append_value(t);
        }
        types.append(true);
    }
    let columns: Vec<ArrayRef> = vec![
        Arc::new(ids.finish()),
        Arc::new(titles.finish()),
        Arc::new(abstracts.finish()),
        Arc::new(mesh.finish()),
        Arc::new(types.finish()),
    ];
    let list = || DataType::List(Arc::new(Field::new("item", DataType::Utf8, true)));
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Utf8, false),
        Field::new("title", DataType::Utf8, false),
        Field::new("abstract", DataType::Utf8, true),
        Field::new("mesh", list(), true),
        Field::new("types", list(), true),
    ]));
    let batch = RecordBatch::try_new(Arc::clone(&schema), columns)?;
    let ctx = SessionBuilder::new(SessionOptions {
        target_partitions: Some(1),
        ..Default::default()
    })
    .context()?;
    ctx.register_table(
        "records",
        Arc::new(MemTable::try_new(schema, vec![vec![batch]])?),
    )?;
    let rules = match &options.rules {
        Some(text) => format!(", '{}'", text.replace('\'', "''")),
        None => String::new(),
    };
    let sql = format!(
        "SELECT id, array_to_string(modalities(mesh, title, abstract{rules}), '|') AS m, \
         clinical_stage(types, mesh, title, abstract) AS s FROM records"
    );
    let batches = ctx.sql(&sql).await?.collect().await?;
    let mut out = BTreeMap::new();
    for b in &batches {
        let col = |i: usize| -> Result<&StringArray> {
            let c = b.column(i);
            let c = c.as_any().downcast_ref::<StringArray>();
            c.ok_or_else(|| EngineError::Usage("classify: unexpected column type".into()))
        };
        let (id, m, s) = (col(0)?, col(1)?, col(2)?);
        for i in 0..b.num_rows() {
            let modalities = if m.is_null(i) {
                BTreeSet::new()
            } else {
                m.value(i)
                    .split('|')
                    .filter(|x| !x.is_empty())
                    .map(str::to_owned)
                    .collect()
            };
            out.insert(
                id.value(i).to_string(),
                Prediction {
                    modalities,
                    stage: s.value(i).to_string(),
                },
            );
        }
    }
    Ok(out)
}

/// Precision, recall and F1 from `(weight, labelled, predicted)` rows.
fn figures(class: &str, rows: &[(f64, bool, bool)]) -> ClassFigures {
    let of_predicted: Vec<(f64, bool)> = rows.iter().filter(|r| r.2).map(|r| (r.0, r.1)).collect();
    let of_labelled: Vec<(f64, bool)> = rows.iter().filter(|r| r.1).map(|r| (r.0, r.2)).collect();
    let precision = proportion(&of_predicted);
    let recall = proportion(&of_labelled);
    let f1 = match (precision, recall) {
        (Some(p), Some(r)) if p.value + r.value > 0.0 => {
            Some(2.0 * p.value * r.value / (p.value + r.value))
        }
        (Some(_), Some(_)) => Some(0.0),
        _ => None,
    };
    ClassFigures {
        class: class.to_string(),
        labelled: of_labelled.len(),
        predicted: of_predicted.len(),
        true_positives: rows.iter().filter(|r| r.1 && r.2).count(),
        precision,
        recall,
        f1,
    }
}

/// The weighted share of `true` among `(weight, hit)` rows, with its 95% Wilson interval at
/// Kish's effective sample size; `None` for no rows.
fn proportion(rows: &[(f64, bool)]) -> Option<Estimate> {
    if rows.is_empty() {
        return None;
    }
    let sum_w: f64 = rows.iter().map(|r| r.0).sum();
    let sum_w2: f64 = rows.iter().map(|r| r.0 * r.0).sum();
    // + 0.0: an empty float sum is -0.0.
    let hits: f64 = rows.iter().filter(|r| r.1).map(|r| r.0).sum::<f64>() + 0.0;
    let p = hits / sum_w;
    let n = sum_w * sum_w / sum_w2;
    let (low, high) = wilson(p, n);
    Some(Estimate {
        value: p,
        low,
        high,
        n: rows.len(),
    })
}

/// The 95% Wilson score interval of a proportion `p` over `n` trials.
fn wilson(p: f64, n: f64) -> (f64, f64) {
    let z = 1.959_963_984_540_054_f64;
    let z2 = z * z;
    let centre = (p + z2 / (2.0 * n)) / (1.0 + z2 / n);
    let half = z * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / (1.0 + z2 / n);
    ((centre - half).max(0.0), (centre + half).min(1.0))
}

/// Cohen's kappa between two labellers on the records both labelled (certain or not), for one
/// yes/no question per record (`question` gives each labeller's answer) or a multi-class one.
pub fn cohen_kappa<T: Ord + Clone>(pairs: &[(T, T)]) -> Option<f64> {
    if pairs.is_empty() {
        return None;
    }
    let n = pairs.len() as f64;
    let observed = pairs.iter().filter(|(a, b)| a == b).count() as f64 / n;
    let mut a_counts: BTreeMap<T, f64> = BTreeMap::new();
    let mut b_counts: BTreeMap<T, f64> = BTreeMap::new();
    for (a, b) in pairs {
        *a_counts.entry(a.clone()).or_default() += 1.0;
        *b_counts.entry(b.clone()).or_default() += 1.0;
    }
    let expected: f64 = a_counts
        .iter()
        .map(|(k, ca)| ca / n * b_counts.get(k).copied().unwrap_or(0.0) / n)
        .sum();
    if (1.0 - expected).abs() < 1e-12 {
        return Some(1.0);
    }
    Some((observed - expected) / (1.0 - expected))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wilson_matches_a_hand_computed_interval() {
        // 8 of 10: Wilson 95% interval (0.4902, 0.9433).
        let (lo, hi) = wilson(0.8, 10.0);
        assert!(
            (lo - 0.4902).abs() < 1e-4 && (hi - 0.9433).abs() < 1e-4,
            "{lo} {hi}"
        );
    }

    #[test]
    fn weights_count_in_proportions() {
        // One hit of weight 3 and one miss of weight 1: 0.75 over an effective n of 1.6.
        let e = proportion(&[(3.0, true), (1.0, false)]).unwrap();
        assert!((e.value - 0.75).abs() < 1e-12);
        assert_eq!(e.n, 2);
        assert!(proportion(&[]).is_none());
    }

    #[test]
    fn kappa_of_agreement_and_chance() {
        assert_eq!(cohen_kappa(&[(1, 1), (0, 0), (1, 1)]), Some(1.0));
        // Observed 0.5; expected 0.5 (both say yes half the time): kappa 0.
        let k = cohen_kappa(&[(1, 1), (1, 0), (0, 1), (0, 0)]).unwrap();
        assert!(k.abs() < 1e-12, "{k}");
    }

    #[test]
    fn labels_are_checked() {
        let err = parse_labels("h\nx\tHSCT;MCS\tbasic\ttrue\tr\n", "l.tsv").unwrap_err();
        assert!(err.to_string().contains("l.tsv line 2") && err.to_string().contains("MCS"));
        let ok = parse_labels("h\nx\tHSCT; in vivo GT\tbasic\tfalse\tr\n", "l.tsv").unwrap();
        assert_eq!(ok["x"].modalities.len(), 2);
        assert!(!ok["x"].certain);
    }

    #[tokio::test]
    async fn the_builtin_set_evaluates() {
        let set = LabelledSet::builtin().unwrap();
        assert!(set.records.len() >= 600, "{}", set.records.len());
        let e = evaluate(&set, &EvalOptions::default()).await.unwrap();
        assert_eq!(e.modalities.len(), MODALITIES.len());
        assert!(e.stage_accuracy.value > 0.0 && e.stage_accuracy.value <= 1.0);
        // A rules file that matches nothing finds no HSCT.
        let none = EvalOptions {
            rules: Some("HSCT\ttext\tzzyzzx\n".into()),
            ..Default::default()
        };
        let e0 = evaluate(&set, &none).await.unwrap();
        assert_eq!(e0.modalities[0].predicted, 0);
    }
}
