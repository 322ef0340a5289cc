//! `clinical_stage(publication_types, mesh_names)`: clinical trial, clinical (human) or basic.

use std::sync::{Arc, LazyLock};

use arrow::array::{Array, StringBuilder};
use arrow::datatypes::DataType;
use datafusion::common::{exec_err, plan_err};
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

use super::stage_text::{self, Cues};
use super::words::Words;
use crate::args::{
    as_string, as_string_list, coerce_string, coerce_string_list, from_array, row_range, str_at,
    to_arrays,
};
use crate::doc_sections::DOC_SECTION_CLASSIFY;

const NAME: &str = "clinical_stage";

/// A paper with a clinical-trial publication type and the MeSH heading Humans.
pub const CLINICAL_TRIAL: &str = "clinical trial";
/// A paper with the MeSH heading Humans and no clinical-trial publication type.
pub const CLINICAL_HUMAN: &str = "clinical (human)";
/// Any other paper.
pub const BASIC: &str = "basic";

/// The clinical publication types of `docs/indicators.md` ("Clinical translation", 1), as
/// comparison keys (lower-case words): Clinical Trial and its four phases, Randomized Controlled
/// Trial, Controlled Clinical Trial, Pragmatic Clinical Trial, Clinical Study, Observational Study.
/// PubMed spells phases "Clinical Trial, Phase II"; "Phase 2" is accepted too. The veterinary
/// types ("Clinical Trial, Veterinary", ...) and "Clinical Trial Protocol" are not clinical papers.
pub const CLINICAL_TYPES: [&str; 14] = [
    "clinical trial",
    "clinical trial phase i",
    "clinical trial phase ii",
    "clinical trial phase iii",
    "clinical trial phase iv",
    "clinical trial phase 1",
    "clinical trial phase 2",
    "clinical trial phase 3",
    "clinical trial phase 4",
    "randomized controlled trial",
    "controlled clinical trial",
    "pragmatic clinical trial",
    "clinical study",
    "observational study",
];

/// The MeSH heading Humans, by name and UI, as comparison keys.
const HUMANS: [&str; 2] = ["humans", "d006801"];

static DOCUMENTATION: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        DOC_SECTION_CLASSIFY,
        "The clinical stage of a paper (docs/indicators.md, 'Clinical translation'): 'clinical \
         trial' when it has a clinical publication type (Clinical Trial, Clinical Trial, Phase \
         I-IV, Randomized Controlled Trial, Controlled Clinical Trial, Pragmatic Clinical Trial, \
         Clinical Study, Observational Study) together with the MeSH heading Humans; 'clinical \
         (human)' with Humans but no such type; 'basic' otherwise, including a trial type \
         without Humans (a veterinary or unindexed trial). Names are compared ignoring case and \
         punctuation; MeSH may be given by name or UI (D006801). NULL when both lists are NULL; \
         a NULL list otherwise counts as empty, so papers not yet MeSH-indexed are 'basic' \
         (filter them out when a share should cover indexed papers only). \
         With title and abstract (4 arguments) papers are staged from their text too, so works \
         with no MeSH (OpenAlex-only, not yet indexed) are staged: a case report type is 'clinical \
         (human)', as is a meta-analysis; a review, guideline, editorial or letter type, or a \
         review title, is 'basic' unless a trial type says otherwise; an indexed paper still needs \
         Humans, and is then a 'clinical trial' with a trial type or trial wording (randomised, \
         double-blind, placebo, phase I-IV trial, controlled trial, a registry id such as NCT...) \
         next to human-subject wording, 'clinical (human)' when human-subject wording (patients, \
         case report, N-year-old, cohort, volunteers...) outweighs animal and laboratory wording \
         (mice, in vitro, cell lines...), else 'basic'; a paper without MeSH is staged by the same \
         wording alone. Measured against hand labels: docs/classification.md.",
        "clinical_stage(publication_types, mesh_names [, title, abstract])",
    )
    .with_sql_example(
        r#"```sql
> SELECT w.work_id, clinical_stage(p.types, m.names)
  FROM works w
  LEFT JOIN (SELECT work_id, array_agg(publication_type) AS types
             FROM work_publication_types GROUP BY work_id) p USING (work_id)
  LEFT JOIN (SELECT work_id, array_agg(descriptor_name) AS names
             FROM work_mesh GROUP BY work_id) m USING (work_id);
> SELECT clinical_stage(['Clinical Trial, Phase II'], ['Humans']),
         clinical_stage(['Journal Article'], ['Humans']),
         clinical_stage(['Randomized Controlled Trial'], ['Animals']);
clinical trial | clinical (human) | basic
```"#,
    )
    .with_argument(
        "publication_types",
        "List<Utf8>: the paper's PubMed publication types.",
    )
    .with_argument(
        "mesh_names",
        "List<Utf8>: the paper's MeSH descriptor names (or UIs).",
    )
    .with_argument(
        "title",
        "Utf8 (optional, with abstract): the paper's title.",
    )
    .with_argument(
        "abstract",
        "Utf8 (optional, with title): the paper's abstract.",
    )
    .with_related_udf("modalities")
    .build()
});

/// `clinical_stage(publication_types, mesh_names)` -> `'clinical trial'`, `'clinical (human)'`
/// or `'basic'`.
///
/// A trial type counts only "together with the MeSH heading Humans", read strictly: a trial
/// without Humans is `'basic'`.
///
/// ```
/// # use datafusion::prelude::SessionContext;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> datafusion::error::Result<()> {
/// let ctx = SessionContext::new();
/// bibflow_udfs::register_all(&ctx)?;
/// let sql = "SELECT clinical_stage(['Clinical Trial, Phase I'], ['Humans', 'Male']) AS s";
/// let batches = ctx.sql(sql).await?.collect().await?;
/// let s = arrow::compute::cast(batches[0].column(0), &arrow::datatypes::DataType::Utf8)?;
/// assert_eq!(arrow::array::AsArray::as_string::<i32>(&s).value(0), "clinical trial");
/// # Ok(())
/// # }
/// ```
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct ClinicalStage {
    signature: Signature,
}

impl Default for ClinicalStage {
    fn default() -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for ClinicalStage {
    fn name(&self) -> &str {
        NAME
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let usage = "expected clinical_stage(publication_types List<Utf8>, mesh_names List<Utf8> \
                     [, title Utf8, abstract Utf8])";
        if arg_types.len() != 2 && arg_types.len() != 4 {
            return plan_err!("{NAME}: {usage}, got {} arguments", arg_types.len());
        }
        arg_types
            .iter()
            .zip(["publication_types", "mesh_names", "title", "abstract"])
            .enumerate()
            .map(|(i, (t, arg))| {
                let coerced = if i < 2 {
                    coerce_string_list(t)
                } else {
                    coerce_string(t)
                };
                match coerced {
                    Some(l) => Ok(l),
                    None => plan_err!("{NAME}: {usage}; {arg} is {t}"),
                }
            })
            .collect()
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        if args.args.len() != 2 && args.args.len() != 4 {
            return exec_err!("{NAME}: expected 2 or 4 arguments, got {}", args.args.len());
        }
        let (arrays, was_scalar) = to_arrays(&args.args, args.number_rows)?;
        let (types, type_values) = as_string_list(NAME, "publication_types", &arrays[0])?;
        let (mesh, mesh_values) = as_string_list(NAME, "mesh_names", &arrays[1])?;
        if arrays.len() == 4 {
            let title = as_string(NAME, "title", &arrays[2])?;
            let abstract_ = as_string(NAME, "abstract", &arrays[3])?;
            let stages = stage_with_text(types, type_values, mesh, mesh_values, title, abstract_);
            return from_array(Arc::new(stages), was_scalar);
        }

        let mut out = StringBuilder::with_capacity(types.len(), types.len() * 8);
        let mut words = Words::default();
        let mut key = String::new();
        let (humans_set, clinical_set) = (KeySet::new(&HUMANS), KeySet::new(&CLINICAL_TYPES));
        for row in 0..types.len() {
            if types.is_null(row) && mesh.is_null(row) {
                out.append_null();
                continue;
            }
            let humans = row_range(mesh, row)
                .filter_map(|i| str_at(mesh_values, i))
                .any(|m| is_key(&mut words, &mut key, m, &humans_set));
            let stage = if !humans {
                BASIC
            } else if row_range(types, row)
                .filter_map(|i| str_at(type_values, i))
                .any(|t| is_key(&mut words, &mut key, t, &clinical_set))
            {
                CLINICAL_TRIAL
            } else {
                CLINICAL_HUMAN
            };
            out.append_value(stage);
        }
        from_array(Arc::new(out.finish()), was_scalar)
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&DOCUMENTATION)
    }
}

/// Publication types that report no own subjects (reviews, guidelines, editorials, letters...),
/// as comparison keys.
const NO_SUBJECT_TYPES: [&str; 12] = [
    "review",
    "systematic review",
    "practice guideline",
    "guideline",
    "editorial",
    "comment",
    "news",
    "letter",
    "historical article",
    "biography",
    "lecture",
    "congress",
];

/// The 4-argument form: MeSH and publication types where a paper has them, its title and
/// abstract always (see the function's documentation).
fn stage_with_text(
    types: &arrow::array::ListArray,
    type_values: &arrow::array::StringArray,
    mesh: &arrow::array::ListArray,
    mesh_values: &arrow::array::StringArray,
    title: &arrow::array::StringArray,
    abstract_: &arrow::array::StringArray,
) -> arrow::array::StringArray {
    let mut out = StringBuilder::with_capacity(types.len(), types.len() * 8);
    let mut words = Words::default();
    let (humans_set, clinical_set) = (KeySet::new(&HUMANS), KeySet::new(&CLINICAL_TYPES));
    let no_subject_set = KeySet::new(&NO_SUBJECT_TYPES);
    let (case_reports, meta_analysis) = (
        KeySet::new(&["case reports"]),
        KeySet::new(&["meta analysis"]),
    );
    let mut key = String::new();
    for row in 0..types.len() {
        if types.is_null(row) && mesh.is_null(row) && title.is_null(row) && abstract_.is_null(row) {
            out.append_null();
            continue;
        }
        let (mut trial_type, mut case_report, mut meta, mut no_subjects) =
            (false, false, false, false);
        for t in row_range(types, row).filter_map(|i| str_at(type_values, i)) {
            trial_type |= is_key(&mut words, &mut key, t, &clinical_set);
            case_report |= is_key(&mut words, &mut key, t, &case_reports);
            meta |= is_key(&mut words, &mut key, t, &meta_analysis);
            no_subjects |= is_key(&mut words, &mut key, t, &no_subject_set);
        }
        let indexed = !row_range(mesh, row).is_empty();
        let humans = row_range(mesh, row)
            .filter_map(|i| str_at(mesh_values, i))
            .any(|m| is_key(&mut words, &mut key, m, &humans_set));
        let mut cues = Cues::default();
        if let Some(t) = str_at(title, row) {
            stage_text::scan(&mut words, t, true, &mut cues);
        }
        if let Some(a) = str_at(abstract_, row) {
            stage_text::scan(&mut words, a, false, &mut cues);
        }
        let stage = if (case_report && !trial_type) || meta {
            CLINICAL_HUMAN
        } else if !trial_type && (no_subjects || cues.review_title) {
            BASIC
        } else if indexed {
            // Indexed: Humans is required, as in the 2-argument form; the text decides between
            // a trial, a study of people and a laboratory study of human material.
            if !humans {
                BASIC
            } else if trial_type || (cues.trial > 0 && cues.human > 0) {
                CLINICAL_TRIAL
            } else if cues.human > cues.lab {
                CLINICAL_HUMAN
            } else {
                BASIC
            }
        } else if trial_type || (cues.trial > 0 && cues.human > 0 && cues.human >= cues.lab) {
            CLINICAL_TRIAL
        } else if cues.human > 0 && cues.human > cues.lab {
            CLINICAL_HUMAN
        } else {
            BASIC
        };
        out.append_value(stage);
    }
    out.finish()
}

/// True when `raw` is one of `keys` (compared as lower-case words).
fn is_key(words: &mut Words, key: &mut String, raw: &str, keys: &KeySet<'_>) -> bool {
    match keys.quick(raw) {
        Quick::No => return false,
        Quick::Yes => return true,
        Quick::Tokenize => {}
    }
    words.tokenize(raw);
    words.joined_into(key);
    keys.keys.contains(&key.as_str())
}

/// Comparison keys (normalised words, [`Words::joined_into`]) with exact shortcuts for ASCII names,
/// which normalise to their alphanumeric characters, lower-cased, in runs joined by spaces:
/// - a name can only equal a key that starts with its first alphanumeric character, lower-cased,
///   and has as many alphanumeric characters as it has, so most names are rejected by their first
///   letter or by counting (which stops past the longest key);
/// - a name of alphanumeric characters only is one word: it equals a key exactly when the two are
///   equal ignoring ASCII case.
///
/// Only the remaining names (punctuation or spaces and a matching count, or non-ASCII) are
/// tokenized.
struct KeySet<'a> {
    keys: &'a [&'a str],
    /// Bit `n`: some key has `n` alphanumeric characters (every key has fewer than 64).
    lengths: u64,
    /// The most alphanumeric characters of a key.
    longest: usize,
    /// Bit `b` (an ASCII byte): some key starts with `b`.
    first: u128,
}

/// What the shortcuts tell about a name.
#[derive(Debug, PartialEq, Eq)]
enum Quick {
    /// It is not a key.
    No,
    /// It is a key.
    Yes,
    /// Tokenize it to know.
    Tokenize,
}

impl<'a> KeySet<'a> {
    fn new(keys: &'a [&'a str]) -> Self {
        let counts: Vec<usize> = keys
            .iter()
            .map(|k| k.bytes().filter(u8::is_ascii_alphanumeric).count())
            .collect();
        let longest = counts.iter().copied().max().unwrap_or(0);
        assert!(
            longest < 64,
            "clinical_stage: a key of 64 or more characters"
        );
        let lengths = counts.iter().fold(0u64, |bits, &n| bits | 1 << n);
        let first = keys.iter().fold(0u128, |bits, k| match k.bytes().next() {
            Some(b) if b.is_ascii() => bits | 1 << b,
            _ => bits,
        });
        Self {
            keys,
            lengths,
            longest,
            first,
        }
    }

    fn quick(&self, raw: &str) -> Quick {
        let mut n = 0usize;
        let mut one_word = true;
        for &b in raw.as_bytes() {
            if !b.is_ascii() {
                return Quick::Tokenize;
            }
            if b.is_ascii_alphanumeric() {
                n += 1;
                if n > self.longest || (n == 1 && self.first & (1 << b.to_ascii_lowercase()) == 0) {
                    return Quick::No;
                }
            } else {
                one_word = false;
            }
        }
        if self.lengths & (1 << n) == 0 {
            Quick::No
        } else if one_word {
            if self.keys.iter().any(|k| k.eq_ignore_ascii_case(raw)) {
                Quick::Yes
            } else {
                Quick::No
            }
        } else {
            Quick::Tokenize
        }
    }
}

#[cfg(test)]
mod tests {
    use arrow::array::AsArray;

    use super::*;
    use crate::test_util::{coerce_and_invoke_array, string_lists};

    type Paper<'a> = (Option<Vec<&'a str>>, Option<Vec<&'a str>>);

    fn stages(papers: &[Paper<'_>]) -> Vec<Option<String>> {
        let types = string_lists(&papers.iter().map(|p| p.0.clone()).collect::<Vec<_>>());
        let mesh = string_lists(&papers.iter().map(|p| p.1.clone()).collect::<Vec<_>>());
        let out = coerce_and_invoke_array(
            &ClinicalStage::default(),
            vec![ColumnarValue::Array(types), ColumnarValue::Array(mesh)],
        );
        out.as_string::<i32>()
            .iter()
            .map(|v| v.map(str::to_string))
            .collect()
    }

    #[test]
    fn shortcuts_agree_with_tokenizing() {
        let set = KeySet::new(&CLINICAL_TYPES);
        // A matching count with separators: tokenized.
        for raw in [
            "Clinical Trial",
            "CLINICAL-TRIAL",
            "clinical_trial!",
            "Clinical Study",
        ] {
            assert_eq!(set.quick(raw), Quick::Tokenize, "{raw}");
        }
        // Non-ASCII: tokenized.
        assert_eq!(set.quick("Clínical trial"), Quick::Tokenize);
        // A first letter no key starts with: rejected, ASCII or not.
        assert_eq!(set.quick("Ensayo clínico"), Quick::No);
        // Counts no key has, or past the longest key: rejected.
        for raw in [
            "Journal Article",
            "Review",
            "Case Reports",
            "",
            "Research Support, N.I.H., Extramural",
        ] {
            assert_eq!(set.quick(raw), Quick::No, "{raw}");
        }
        let humans = KeySet::new(&HUMANS);
        // One word: decided without tokenizing, ignoring case.
        for raw in ["Humans", "HUMANS", "d006801"] {
            assert_eq!(humans.quick(raw), Quick::Yes, "{raw}");
        }
        for raw in [
            "Animal",
            "Humanx",
            "Human",
            "Animals, Laboratory",
            "Hematopoietic Stem Cells",
        ] {
            assert_eq!(humans.quick(raw), Quick::No, "{raw}");
        }
        assert_eq!(humans.quick("H u m a n s"), Quick::Tokenize);
        // Every shortcut agrees with tokenizing, on names around the keys.
        let mut words = Words::default();
        let mut key = String::new();
        for set in [&set, &humans] {
            for raw in [
                "Humans",
                "humans.",
                "Hu-mans",
                "D006801",
                "Clinical Trial, Phase II",
                "clinical trial phase 2",
                "Randomized Controlled Trial",
                "Observational Study",
                "Observationalstudy",
                "Review",
                "Clinical Trial Protocol",
                "Æ",
                "",
            ] {
                words.tokenize(raw);
                words.joined_into(&mut key);
                let truth = set.keys.contains(&key.as_str());
                match set.quick(raw) {
                    Quick::Yes => assert!(truth, "{raw}"),
                    Quick::No => assert!(!truth, "{raw}"),
                    Quick::Tokenize => {}
                }
            }
        }
    }

    #[test]
    fn stages_of_papers() {
        let got = stages(&[
            // Every spelling of a trial type, with Humans.
            (
                Some(vec!["Journal Article", "Clinical Trial, Phase II"]),
                Some(vec!["Humans"]),
            ),
            (
                Some(vec!["Randomized Controlled Trial"]),
                Some(vec!["Adult", "HUMANS"]),
            ),
            (Some(vec!["Observational Study"]), Some(vec!["D006801"])),
            (Some(vec!["clinical trial phase 3"]), Some(vec!["Humans"])),
            // Humans without a trial type.
            (
                Some(vec!["Journal Article", "Clinical Trial Protocol"]),
                Some(vec!["Humans"]),
            ),
            (None, Some(vec!["Humans"])),
            // A trial without Humans: strictly, not a clinical paper.
            (Some(vec!["Clinical Trial"]), Some(vec!["Animals", "Dogs"])),
            (Some(vec!["Clinical Trial"]), None),
            (
                Some(vec!["Clinical Trial, Veterinary"]),
                Some(vec!["Humans"]),
            ),
            // Nothing known.
            (None, None),
        ]);
        let expected = [
            Some(CLINICAL_TRIAL),
            Some(CLINICAL_TRIAL),
            Some(CLINICAL_TRIAL),
            Some(CLINICAL_TRIAL),
            Some(CLINICAL_HUMAN),
            Some(CLINICAL_HUMAN),
            Some(BASIC),
            Some(BASIC),
            Some(CLINICAL_HUMAN),
            None,
        ];
        assert_eq!(got, expected.map(|s| s.map(str::to_string)));
    }
}
