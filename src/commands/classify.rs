//! `bibflow classify evaluate`: the classification against hand-labelled real records.

use std::io::Write;
use std::process::ExitCode;

use bibflow_engine::EngineError;
use bibflow_engine::classify_eval::{
    ClassFigures, Estimate, EvalOptions, LabelledSet, Part, evaluate as run_evaluation,
};

use crate::cli::{ClassifyEvaluateArgs, EvalPart};
use crate::error::Result;

pub async fn evaluate(args: ClassifyEvaluateArgs) -> Result<ExitCode> {
    let set = match &args.set {
        Some(dir) => LabelledSet::from_dir(dir)?,
        None => LabelledSet::builtin()?,
    };
    let rules = match &args.rules {
        Some(p) => Some(std::fs::read_to_string(p).map_err(|e| EngineError::io(p, e))?),
        None => None,
    };
    let options = EvalOptions {
        rules,
        without_mesh: args.without_mesh,
        part: args.part.map(|p| match p {
            EvalPart::Development => Part::Development,
            EvalPart::HeldOut => Part::HeldOut,
        }),
    };
    let e = run_evaluation(&set, &options).await?;
    let mut out = std::io::stdout().lock();
    let w = |out: &mut std::io::StdoutLock<'_>, s: String| {
        writeln!(out, "{s}").map_err(EngineError::Output)
    };
    if args.json {
        let text =
            serde_json::to_string_pretty(&e).map_err(|e| EngineError::Usage(e.to_string()))?;
        w(&mut out, text)?;
        return Ok(ExitCode::SUCCESS);
    }
    w(
        &mut out,
        format!(
            "{} records, {} with an uncertain label left out{}; figures weighted by 1/sampling rate, \
             95% Wilson intervals",
            e.records,
            e.uncertain,
            if args.without_mesh {
                "; classified without MeSH"
            } else {
                ""
            }
        ),
    )?;
    w(&mut out, String::new())?;
    w(&mut out, header("modality"))?;
    for f in e.modalities.iter().chain(std::iter::once(&e.any_cgt)) {
        w(&mut out, row(f))?;
    }
    w(&mut out, String::new())?;
    w(&mut out, header("clinical stage"))?;
    for f in &e.stages {
        w(&mut out, row(f))?;
    }
    w(
        &mut out,
        format!(
            "clinical stage accuracy: {}",
            estimate(Some(e.stage_accuracy))
        ),
    )?;
    if let Some(a) = &e.agreement {
        let k = |x: Option<f64>| x.map(|v| format!("{v:.2}")).unwrap_or_else(|| "-".into());
        w(
            &mut out,
            format!(
                "two labellers on {} records: identical labels {:.0}%; Cohen's kappa: any CGT {}, \
                 HSCT {}, clinical stage {}",
                a.records,
                a.identical * 100.0,
                k(a.kappa_any_cgt),
                k(a.kappa_hsct),
                k(a.kappa_stage)
            ),
        )?;
    }
    if args.disagreements > 0 && !e.disagreements.is_empty() {
        w(&mut out, String::new())?;
        w(
            &mut out,
            format!(
                "disagreements ({} in all; labelled -> predicted):",
                e.disagreements.len()
            ),
        )?;
        for d in e.disagreements.iter().take(args.disagreements) {
            w(
                &mut out,
                format!(
                    "  {:<14} {} -> {}\n                 {}\n                 label's reason: {}",
                    d.id, d.labelled, d.predicted, d.title, d.reason
                ),
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn header(what: &str) -> String {
    format!(
        "{what:<18} {:>8} {:>9} {:>4}  {:<22} {:<22} {:>5}",
        "labelled", "predicted", "both", "precision", "recall", "F1"
    )
}

fn row(f: &ClassFigures) -> String {
    format!(
        "{:<18} {:>8} {:>9} {:>4}  {:<22} {:<22} {:>5}",
        f.class,
        f.labelled,
        f.predicted,
        f.true_positives,
        estimate(f.precision),
        estimate(f.recall),
        f.f1.map(|x| format!("{x:.2}"))
            .unwrap_or_else(|| "-".into())
    )
}

fn estimate(e: Option<Estimate>) -> String {
    match e {
        Some(e) => format!("{:.2} ({:.2}-{:.2})", e.value, e.low, e.high),
        None => "-".into(),
    }
}
