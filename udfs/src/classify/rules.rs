//! The modality rules: their text format, parsing, and matching against a paper's MeSH names and
//! words. See `udfs/rules/README.md` for the format; the default rules are
//! `udfs/rules/modalities.tsv`, compiled in.
//!
//! Parsed rules are cached by their text, so a query that passes its own rules parses them once,
//! not once per batch.

use std::sync::{Arc, LazyLock, Mutex};

// hashbrown with a fast hasher: the word lookups are the hot loop of `modalities()`.
use datafusion::common::HashMap;

use super::words::{Words, name_key};

/// The default rules as shipped.
pub const DEFAULT_RULES: &str = include_str!("../../rules/modalities.tsv");

/// What a matching rule says about its label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// The label applies.
    Direct = 0,
    /// The label applies if a context rule of the same label matches too.
    InContext = 1,
    /// The context of `InContext` rules.
    Context = 2,
    /// The paper is about gene therapy; the label is the one for "unspecified".
    GeneTherapy = 3,
    /// A cell-engineering marker; the label is the ex vivo one.
    ExVivo = 4,
    /// A directly administered vector; the label is the in vivo one.
    InVivo = 5,
}

impl Role {
    fn bit(self) -> u8 {
        1 << self as u8
    }
}

/// Every kind a rule line may have: (kind, role, matches MeSH rather than text).
const KINDS: [(&str, Role, bool); 12] = [
    ("mesh", Role::Direct, true),
    ("text", Role::Direct, false),
    ("mesh_in_context", Role::InContext, true),
    ("text_in_context", Role::InContext, false),
    ("context_mesh", Role::Context, true),
    ("context_text", Role::Context, false),
    ("gt_mesh", Role::GeneTherapy, true),
    ("gt_text", Role::GeneTherapy, false),
    ("ex_vivo_mesh", Role::ExVivo, true),
    ("ex_vivo_text", Role::ExVivo, false),
    ("in_vivo_mesh", Role::InVivo, true),
    ("in_vivo_text", Role::InVivo, false),
];

/// One alternative of one word of a text term.
#[derive(Debug)]
struct Alt {
    word: String,
    prefix: bool,
}

impl Alt {
    fn matches(&self, word: &str) -> bool {
        if self.prefix {
            word.starts_with(&self.word)
        } else {
            word == self.word
        }
    }
}

/// A text term: a sequence of words, each with its alternatives.
#[derive(Debug)]
struct Term {
    words: Vec<Vec<Alt>>,
    label: usize,
    role: Role,
}

/// Compiled modality rules.
#[derive(Debug)]
pub(crate) struct Rules {
    labels: Vec<String>,
    mesh: HashMap<String, Vec<(usize, Role)>>,
    terms: Vec<Term>,
    /// Terms by an exact alternative of their first word.
    first_exact: HashMap<String, Vec<usize>>,
    /// Terms by a prefix alternative (`transplant*`) of their first word.
    first_prefix: HashMap<String, Vec<usize>>,
    /// The distinct lengths of the keys of `first_prefix`, ascending.
    prefix_lens: Vec<usize>,
    /// A bit per [`pair_key`] (first two bytes of a word) that can start a term: most words of an
    /// abstract are skipped with one look-up here instead of several hash look-ups.
    first_pairs: Vec<u64>,
    gene_therapy: Option<usize>,
    ex_vivo: Option<usize>,
    in_vivo: Option<usize>,
}

/// Per-row scratch space: what matched, and the words of the text being scanned.
#[derive(Debug, Default)]
pub(crate) struct Scratch {
    flags: Vec<u8>,
    words: Words,
    key: String,
}

/// Splits a text term into words and their alternatives: `stem|stromal cell*`.
fn parse_term(term: &str) -> Result<Vec<Vec<Alt>>, String> {
    let mut words = Vec::new();
    let pieces = term.split(|c: char| !(c.is_alphanumeric() || c == '|' || c == '*'));
    for piece in pieces.filter(|p| !p.is_empty()) {
        let mut alts = Vec::new();
        for alt in piece.split('|') {
            let (body, prefix) = match alt.strip_suffix('*') {
                Some(b) => (b, true),
                None => (alt, false),
            };
            if body.is_empty() || body.contains('*') {
                return Err(format!(
                    "bad word '{piece}': alternatives are separated by '|', and '*' may only end one"
                ));
            }
            alts.push(Alt {
                word: name_key(body),
                prefix,
            });
        }
        words.push(alts);
    }
    if words.is_empty() {
        return Err("the term has no words".into());
    }
    Ok(words)
}

/// The first two bytes of a (non-empty) word as one number; a one-byte word has 0 as its second.
fn pair_key(word: &[u8]) -> usize {
    let first = word.first().copied().unwrap_or(0);
    let second = word.get(1).copied().unwrap_or(0);
    usize::from(first) << 8 | usize::from(second)
}

impl Rules {
    /// Parses rules text; errors name the line.
    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        let mut rules = Rules {
            labels: Vec::new(),
            mesh: HashMap::default(),
            terms: Vec::new(),
            first_exact: HashMap::default(),
            first_prefix: HashMap::default(),
            prefix_lens: Vec::new(),
            first_pairs: vec![0; (1 << 16) / 64],
            gene_therapy: None,
            ex_vivo: None,
            in_vivo: None,
        };
        for (n, line) in text.lines().enumerate() {
            let n = n + 1;
            let trimmed = line.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            let fields: Vec<&str> = line
                .split('\t')
                .map(str::trim)
                .filter(|f| !f.is_empty())
                .collect();
            let [label, kind, term] = fields[..] else {
                return Err(format!(
                    "line {n}: expected LABEL<TAB>KIND<TAB>TERM, got {} field(s) in {trimmed:?}",
                    fields.len()
                ));
            };
            let Some(&(_, role, is_mesh)) = KINDS.iter().find(|(k, _, _)| *k == kind) else {
                let kinds: Vec<_> = KINDS.iter().map(|(k, _, _)| *k).collect();
                return Err(format!(
                    "line {n}: unknown kind '{kind}'; expected one of {}",
                    kinds.join(", ")
                ));
            };
            let label = match rules.labels.iter().position(|l| l == label) {
                Some(i) => i,
                None => {
                    rules.labels.push(label.to_string());
                    rules.labels.len() - 1
                }
            };
            let slot = match role {
                Role::GeneTherapy => Some(&mut rules.gene_therapy),
                Role::ExVivo => Some(&mut rules.ex_vivo),
                Role::InVivo => Some(&mut rules.in_vivo),
                _ => None,
            };
            if let Some(slot) = slot {
                match *slot {
                    Some(l) if l != label => {
                        return Err(format!(
                            "line {n}: every '{kind}' rule must name the same label; \
                             '{}' was given before, now '{}'",
                            rules.labels[l], rules.labels[label]
                        ));
                    }
                    _ => *slot = Some(label),
                }
            }
            if is_mesh {
                let key = name_key(term);
                if key.is_empty() {
                    return Err(format!("line {n}: empty MeSH term"));
                }
                rules.mesh.entry(key).or_default().push((label, role));
                continue;
            }
            let words = parse_term(term).map_err(|e| format!("line {n}: {e}"))?;
            let id = rules.terms.len();
            for alt in &words[0] {
                let index = if alt.prefix {
                    &mut rules.first_prefix
                } else {
                    &mut rules.first_exact
                };
                index.entry(alt.word.clone()).or_default().push(id);
            }
            rules.terms.push(Term { words, label, role });
        }
        if rules.gene_therapy.is_none() && (rules.ex_vivo.is_some() || rules.in_vivo.is_some()) {
            return Err(
                "ex_vivo_* and in_vivo_* rules need gt_mesh or gt_text rules: a marker only \
                 decides the kind of a gene therapy paper"
                    .into(),
            );
        }
        if rules.labels.is_empty() {
            return Err("no rules".into());
        }
        let mut lens: Vec<usize> = rules.first_prefix.keys().map(String::len).collect();
        lens.sort_unstable();
        lens.dedup();
        rules.prefix_lens = lens;
        let mut pairs = std::mem::take(&mut rules.first_pairs);
        let mut mark = |k: usize| pairs[k / 64] |= 1 << (k % 64);
        for w in rules.first_exact.keys() {
            mark(pair_key(w.as_bytes()));
        }
        for w in rules.first_prefix.keys() {
            match w.as_bytes() {
                // A one-byte prefix: every word starting with that byte.
                [b] => (0..256).for_each(|second| mark(usize::from(*b) << 8 | second)),
                bytes => mark(pair_key(bytes)),
            }
        }
        rules.first_pairs = pairs;
        Ok(rules)
    }

    /// The labels, in the order of their first rule: the order results are listed in.
    #[cfg(test)]
    pub(crate) fn labels(&self) -> &[String] {
        &self.labels
    }

    /// Starts a paper.
    pub(crate) fn start(&self, scratch: &mut Scratch) {
        scratch.flags.clear();
        scratch.flags.resize(self.labels.len(), 0);
    }

    /// Records the rules a MeSH descriptor (name or UI) matches.
    pub(crate) fn scan_mesh(&self, scratch: &mut Scratch, name: &str) {
        scratch.words.tokenize(name);
        scratch.words.joined_into(&mut scratch.key);
        if let Some(hits) = self.mesh.get(scratch.key.as_str()) {
            for &(label, role) in hits {
                scratch.flags[label] |= role.bit();
            }
        }
    }

    /// Records the text rules `text` (a title or an abstract) matches.
    pub(crate) fn scan_text(&self, scratch: &mut Scratch, text: &str) {
        let Scratch { flags, words, .. } = scratch;
        words.tokenize(text);
        for i in 0..words.words.len() {
            let w = words.word(i);
            let k = pair_key(w.as_bytes());
            if self.first_pairs[k / 64] & (1 << (k % 64)) == 0 {
                continue;
            }
            if let Some(ids) = self.first_exact.get(w) {
                self.try_terms(ids, words, i, flags);
            }
            for &len in &self.prefix_lens {
                if len > w.len() {
                    break;
                }
                if !w.is_char_boundary(len) {
                    continue;
                }
                if let Some(ids) = self.first_prefix.get(&w[..len]) {
                    self.try_terms(ids, words, i, flags);
                }
            }
        }
    }

    fn try_terms(&self, ids: &[usize], words: &Words, at: usize, flags: &mut [u8]) {
        for &id in ids {
            let term = &self.terms[id];
            let bit = term.role.bit();
            if flags[term.label] & bit != 0 {
                continue;
            }
            let phrase = words.words[at].phrase;
            let matched = term.words.iter().enumerate().all(|(k, alts)| {
                let j = at + k;
                j < words.words.len()
                    && words.words[j].phrase == phrase
                    && alts.iter().any(|a| a.matches(words.word(j)))
            });
            if matched {
                flags[term.label] |= bit;
            }
        }
    }

    /// Calls `emit` with each label of the paper, in label order.
    pub(crate) fn finish(&self, scratch: &Scratch, mut emit: impl FnMut(&str)) {
        let flags = &scratch.flags;
        let has =
            |label: Option<usize>, role: Role| label.is_some_and(|l| flags[l] & role.bit() != 0);
        // Precedence: a cell-engineering marker makes a gene therapy paper ex vivo; otherwise a
        // directly administered vector makes it in vivo; what is left is unspecified.
        let gene_therapy = if !has(self.gene_therapy, Role::GeneTherapy) {
            None
        } else if has(self.ex_vivo, Role::ExVivo) {
            self.ex_vivo
        } else if has(self.in_vivo, Role::InVivo) {
            self.in_vivo
        } else {
            self.gene_therapy
        };
        for (label, &f) in flags.iter().enumerate() {
            let direct = f & Role::Direct.bit() != 0;
            let in_context = f & Role::InContext.bit() != 0 && f & Role::Context.bit() != 0;
            if direct || in_context || gene_therapy == Some(label) {
                emit(&self.labels[label]);
            }
        }
    }
}

/// The compiled default rules.
static DEFAULT: LazyLock<Result<Arc<Rules>, String>> =
    LazyLock::new(|| Rules::parse(DEFAULT_RULES).map(Arc::new));

/// Rules compiled from user texts, by text. Kept small: a session rarely uses more than a few.
static CACHE: LazyLock<Mutex<HashMap<String, Arc<Rules>>>> = LazyLock::new(Default::default);

const CACHE_CAPACITY: usize = 16;

/// The compiled rules for `text`, or the default rules for `None`.
pub(crate) fn rules_for(text: Option<&str>) -> Result<Arc<Rules>, String> {
    let Some(text) = text else {
        return DEFAULT
            .clone()
            .map_err(|e| format!("the default rules: {e}"));
    };
    if text == DEFAULT_RULES {
        return rules_for(None);
    }
    // A poisoned lock only means another thread panicked while holding it; the map is still valid.
    let mut cache = CACHE.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(r) = cache.get(text) {
        return Ok(Arc::clone(r));
    }
    let rules = Arc::new(Rules::parse(text)?);
    if cache.len() >= CACHE_CAPACITY {
        cache.clear();
    }
    cache.insert(text.to_string(), Arc::clone(&rules));
    Ok(rules)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classify(rules: &Rules, mesh: &[&str], text: &str) -> Vec<String> {
        let mut s = Scratch::default();
        rules.start(&mut s);
        for m in mesh {
            rules.scan_mesh(&mut s, m);
        }
        rules.scan_text(&mut s, text);
        let mut out = Vec::new();
        rules.finish(&s, |l| out.push(l.to_string()));
        out
    }

    #[test]
    fn default_rules_parse() {
        let rules = rules_for(None).unwrap();
        assert_eq!(
            rules.labels(),
            ["HSCT", "MSC", "ex vivo GT", "in vivo GT", "GT unspecified"]
        );
    }

    #[test]
    fn words_alternatives_and_stems() {
        let rules = Rules::parse("X\ttext\tmesenchymal stem|stromal cell*\n").unwrap();
        assert_eq!(
            classify(&rules, &[], "Mesenchymal stromal cells (MSCs)"),
            ["X"]
        );
        assert_eq!(classify(&rules, &[], "mesenchymal-stem-cell"), ["X"]);
        assert!(classify(&rules, &[], "mesenchymal stem. Cells").is_empty());
        assert!(classify(&rules, &[], "mesenchymal progenitor cells").is_empty());
    }

    #[test]
    fn context_rules() {
        let text = "MSC\tmesh_in_context\tMesenchymal Stem Cells\nMSC\tcontext_text\ttherap*\n";
        let rules = Rules::parse(text).unwrap();
        assert!(classify(&rules, &["Mesenchymal Stem Cells"], "differentiation").is_empty());
        assert_eq!(
            classify(&rules, &["mesenchymal stem cells"], "a cell therapy"),
            ["MSC"]
        );
    }

    #[test]
    fn errors_name_the_line() {
        let e = Rules::parse("# c\nA\ttext\n").unwrap_err();
        assert!(
            e.starts_with("line 2: expected LABEL<TAB>KIND<TAB>TERM"),
            "{e}"
        );
        let e = Rules::parse("A\tword\tx\n").unwrap_err();
        assert!(e.contains("line 1: unknown kind 'word'"), "{e}");
        let e = Rules::parse("A\ttext\tx*y\n").unwrap_err();
        assert!(e.contains("line 1: bad word"), "{e}");
        let e = Rules::parse("A\tgt_text\tx\nB\tgt_text\ty\n").unwrap_err();
        assert!(
            e.contains("line 2: every 'gt_text' rule must name the same label"),
            "{e}"
        );
        let e = Rules::parse("A\tex_vivo_text\tx\n").unwrap_err();
        assert!(e.contains("need gt_mesh or gt_text"), "{e}");
        assert_eq!(Rules::parse("# nothing\n").unwrap_err(), "no rules");
    }

    #[test]
    fn cache_returns_the_same_rules() {
        let text = "A\ttext\tfoo\n";
        let a = rules_for(Some(text)).unwrap();
        let b = rules_for(Some(text)).unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        assert!(Arc::ptr_eq(
            &rules_for(Some(DEFAULT_RULES)).unwrap(),
            &rules_for(None).unwrap()
        ));
    }
}
