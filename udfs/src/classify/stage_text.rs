//! What a title and an abstract say about a paper's clinical stage, for `clinical_stage()` with
//! text: trial wording, human-subject wording, animal and laboratory wording, and review titles.
//!
//! Cues are word sequences over the [`Words`] tokenizer (lower-case runs of letters and digits,
//! within one phrase), read in one pass over each text, so staging 10^7 abstracts costs about
//! what tokenizing them does. They were developed on the development part of the labelled set
//! (`bibflow classify evaluate --part development`) and are measured on the held-out part
//! (docs/classification.md).

use super::words::Words;

/// Counts of the cues found in a title and an abstract.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Cues {
    /// Trial wording: randomised or randomly assigned (not of animals), double-blind, placebo,
    /// phase I-IV trial or study, clinical / controlled / multicentre / pilot / prospective /
    /// crossover trial, a trial registry id (NCT, ISRCTN, EudraCT, ChiCTR, ACTRN).
    pub(crate) trial: u32,
    /// Human-subject wording: patient(s) (counted twice), case report(s), a case of, N-year-old,
    /// cohort(s), volunteer(s), participant(s), N cases / subjects / women / men / children / ...,
    /// human or healthy subjects, retrospective*, prospective*.
    pub(crate) human: u32,
    /// Animal and laboratory wording: animal species and groups, in vitro, cultured, cell
    /// line(s), cells, enzyme(s), purified, crystal*, synthesi*, compound(s).
    pub(crate) lab: u32,
    /// The title names a review, a guideline, an overview or an update.
    pub(crate) review_title: bool,
}

const ANIMALS: &[&str] = &[
    "mice",
    "mouse",
    "murine",
    "rat",
    "rats",
    "hamster",
    "hamsters",
    "rabbit",
    "rabbits",
    "dog",
    "dogs",
    "canine",
    "cat",
    "cats",
    "feline",
    "pig",
    "pigs",
    "porcine",
    "swine",
    "sheep",
    "ovine",
    "cattle",
    "bovine",
    "calves",
    "cow",
    "cows",
    "monkey",
    "monkeys",
    "primate",
    "primates",
    "baboon",
    "baboons",
    "chick",
    "chicks",
    "chicken",
    "chickens",
    "avian",
    "frog",
    "frogs",
    "xenopus",
    "zebrafish",
    "drosophila",
    "yeast",
    "escherichia",
    "strain",
    "strains",
    "animal",
    "animals",
    "horse",
    "horses",
    "equine",
    "bird",
    "birds",
    "fish",
    "insect",
    "insects",
    "plant",
    "plants",
];

const COUNTED_PEOPLE: &[&str] = &[
    "cases",
    "subjects",
    "women",
    "men",
    "children",
    "infants",
    "adults",
    "mothers",
    "newborns",
    "neonates",
    "individuals",
    "persons",
    "people",
];

const PHASES: &[&str] = &[
    "i", "ii", "iii", "iv", "1", "2", "3", "4", "ib", "iia", "iib",
];

const TRIAL_KINDS: &[&str] = &[
    "clinical",
    "controlled",
    "multicenter",
    "multicentre",
    "pilot",
    "prospective",
    "crossover",
];

fn is_number(w: &str) -> bool {
    !w.is_empty() && w.bytes().all(|b| b.is_ascii_digit())
}

fn is_animal(w: &str) -> bool {
    ANIMALS.contains(&w) || w.starts_with("bacteri")
}

/// The cues of one text, added to `cues`. `title` says whether it is the title (review titles).
pub(crate) fn scan(words: &mut Words, text: &str, title: bool, cues: &mut Cues) {
    words.tokenize(text);
    let n = words.words.len();
    let w = |i: usize| if i < n { words.word(i) } else { "" };
    let same_phrase = |i: usize, j: usize| j < n && words.words[i].phrase == words.words[j].phrase;
    for i in 0..n {
        let word = w(i);
        let next = if same_phrase(i, i + 1) { w(i + 1) } else { "" };
        // Trial wording.
        let animals_follow =
            || (i + 1..(i + 8).min(n)).any(|j| same_phrase(i, j) && is_animal(w(j)));
        match word {
            "randomized" | "randomised" if !animals_follow() => cues.trial += 1,
            "randomly"
                if matches!(next, "assigned" | "allocated" | "divided") && !animals_follow() =>
            {
                cues.trial += 1
            }
            "double" | "single" | "triple" if matches!(next, "blind" | "blinded" | "masked") => {
                cues.trial += 1
            }
            "placebo" | "eudract" => cues.trial += 1,
            // "phase II trial", "phase 1/2 study": trial or study within the next words.
            "phase"
                if PHASES.contains(&next)
                    && (i + 2..(i + 7).min(n)).any(|j| {
                        same_phrase(i, j) && matches!(w(j), "trial" | "trials" | "study")
                    }) =>
            {
                cues.trial += 1
            }
            k if TRIAL_KINDS.contains(&k) => {
                let after = if next == "clinical" && same_phrase(i, i + 2) {
                    w(i + 2)
                } else {
                    next
                };
                if matches!(after, "trial" | "trials") {
                    cues.trial += 1;
                }
            }
            _ => {}
        }
        if (word.len() == 11 && word.starts_with("nct") && is_number(&word[3..]))
            || (word.starts_with("isrctn") && word.len() > 6 && is_number(&word[6..]))
            || word.starts_with("chictr")
            || (word.starts_with("actrn") && word.len() > 5 && is_number(&word[5..]))
        {
            cues.trial += 1;
        }
        // Human-subject wording.
        match word {
            "patient" | "patients" => cues.human += 2,
            "case" if matches!(next, "report" | "reports" | "of") => cues.human += 1,
            "cohort" | "cohorts" | "volunteer" | "volunteers" | "participant" | "participants" => {
                cues.human += 1
            }
            "human" | "healthy" if next == "subjects" => cues.human += 1,
            w0 if w0.starts_with("retrospective") || w0.starts_with("prospective") => {
                cues.human += 1
            }
            // "12 patients"-like counts of people, and "36-year-old".
            w0 if is_number(w0)
                && (COUNTED_PEOPLE.contains(&next)
                    || (matches!(next, "year" | "month" | "week" | "day")
                        && same_phrase(i, i + 2)
                        && w(i + 2) == "old")) =>
            {
                cues.human += 1
            }
            _ => {}
        }
        // Animal and laboratory wording.
        if is_animal(word)
            || matches!(
                word,
                "cultured" | "cells" | "enzyme" | "enzymes" | "purified" | "compound" | "compounds"
            )
            || word.starts_with("crystal")
            || word.starts_with("synthesi")
            || (word == "in" && next == "vitro")
            || (word == "cell" && matches!(next, "line" | "lines"))
        {
            cues.lab += 1;
        }
        // Review titles.
        if title {
            let review = match word {
                "review" => i == 0 || matches!(next, "of") || (i > 0 && w(i - 1) == "a"),
                "update" => next == "on",
                "current" => next == "concepts",
                "guideline" | "guidelines" | "overview" | "literature" => true,
                "management" => next == "of",
                "we" => next == "review",
                "reviewed" => i > 0 && matches!(w(i - 1), "is" | "are"),
                "this" => next == "review",
                _ => false,
            };
            cues.review_title |= review;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cues(title: &str, abstract_: &str) -> Cues {
        let mut words = Words::default();
        let mut c = Cues::default();
        scan(&mut words, title, true, &mut c);
        scan(&mut words, abstract_, false, &mut c);
        c
    }

    #[test]
    fn trial_wording() {
        assert_eq!(cues("A randomised, double-blind trial", "").trial, 2);
        assert_eq!(
            cues("", "Patients were randomly assigned to placebo.").trial,
            2
        );
        assert_eq!(
            cues("", "A phase II multicentre study. NCT01234567.").trial,
            2
        );
        // Counted at "controlled" and at "clinical": only trial > 0 is used.
        assert_eq!(cues("", "in a controlled clinical trial").trial, 2);
        // Randomised animals (named within the next words) are not a trial.
        assert_eq!(cues("", "We randomized the rats into two groups.").trial, 0);
        assert_eq!(cues("", "we randomly assigned the mice to diets").trial, 0);
        // A phase of the cell cycle is not a trial phase.
        assert_eq!(cues("", "cells in phase II of growth").trial, 0);
    }

    #[test]
    fn human_and_lab_wording() {
        let c = cues(
            "A case report",
            "A 36-year-old woman; 12 patients in a cohort.",
        );
        // case report 1, 36 year old 1, patients 2, cohort 1.
        assert_eq!(c.human, 5);
        assert_eq!(c.lab, 0);
        let c = cues(
            "",
            "Cultured cells of a human cell line were purified in vitro.",
        );
        assert_eq!(c.lab, 5);
        assert_eq!(c.human, 0);
    }

    #[test]
    fn review_titles() {
        assert!(cues("Update on the management of acute pancreatitis", "").review_title);
        assert!(cues("Gene therapy: a review", "").review_title);
        assert!(!cues("Results in 30 patients", "this review").review_title);
    }
}
