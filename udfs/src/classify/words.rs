//! The word tokenizer of the classification functions, for titles, abstracts and MeSH names.

/// Characters that end a phrase: a term never matches across them ("bone marrow. Transplantation"
/// is not "bone marrow transplantation"). Hyphens, slashes and commas do not.
fn ends_phrase(c: char) -> bool {
    matches!(
        c,
        '.' | ';' | ':' | '!' | '?' | '(' | ')' | '[' | ']' | '{' | '}'
    )
}

/// One word of a tokenized text: its byte range in [`Words::text`] and the phrase it belongs to.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Word {
    pub(crate) start: u32,
    pub(crate) end: u32,
    pub(crate) phrase: u32,
}

/// A text split into lower-case words: maximal runs of alphanumeric characters, so hyphens,
/// slashes and spaces all separate words ("ex-vivo" and "ex vivo" are the same two words, "HSCT"
/// is never found inside "pHSCTx"). `æ` is read as `ae`. The buffers are reused from row to row.
#[derive(Debug, Default)]
pub(crate) struct Words {
    pub(crate) text: String,
    pub(crate) words: Vec<Word>,
}

impl Words {
    /// Tokenizes `raw`, replacing the previous contents. ASCII bytes (nearly all of a title or
    /// abstract) take a byte-level path; other characters are decoded one by one.
    pub(crate) fn tokenize(&mut self, raw: &str) {
        self.text.clear();
        self.words.clear();
        let mut phrase = 0u32;
        let mut start: Option<usize> = None;
        let bytes = raw.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            let b = bytes[i];
            let ends = if b.is_ascii() {
                i += 1;
                if b.is_ascii_alphanumeric() {
                    if start.is_none() {
                        start = Some(self.text.len());
                    }
                    self.text.push(char::from(b.to_ascii_lowercase()));
                    continue;
                }
                ends_phrase(char::from(b))
            } else {
                // A non-ASCII character starts here: `i` is on a char boundary.
                let c = raw[i..]
                    .chars()
                    .next()
                    .unwrap_or(char::REPLACEMENT_CHARACTER);
                i += c.len_utf8();
                if c.is_alphanumeric() {
                    if start.is_none() {
                        start = Some(self.text.len());
                    }
                    if c == 'æ' || c == 'Æ' {
                        self.text.push_str("ae");
                    } else {
                        self.text.extend(c.to_lowercase());
                    }
                    continue;
                }
                ends_phrase(c)
            };
            if let Some(s) = start.take() {
                self.push(s, phrase);
            }
            if ends {
                phrase += 1;
            }
        }
        if let Some(s) = start {
            self.push(s, phrase);
        }
    }

    fn push(&mut self, start: usize, phrase: u32) {
        self.words.push(Word {
            start: start as u32,
            end: self.text.len() as u32,
            phrase,
        });
    }

    /// Word `i`.
    pub(crate) fn word(&self, i: usize) -> &str {
        let w = self.words[i];
        &self.text[w.start as usize..w.end as usize]
    }

    /// Writes the words joined by single spaces into `out` (the key MeSH names are compared by:
    /// case and punctuation do not matter).
    pub(crate) fn joined_into(&self, out: &mut String) {
        out.clear();
        for i in 0..self.words.len() {
            if i > 0 {
                out.push(' ');
            }
            out.push_str(self.word(i));
        }
    }
}

/// The comparison key of a MeSH name, publication type or UI: lower-case words joined by spaces.
pub(crate) fn name_key(raw: &str) -> String {
    let mut words = Words::default();
    words.tokenize(raw);
    let mut out = String::new();
    words.joined_into(&mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokenizes_words_and_phrases() {
        let mut w = Words::default();
        w.tokenize("Ex-vivo CAR-T/HSCT (Hæmatopoietic), bone marrow. Transplant");
        let words: Vec<_> = (0..w.words.len()).map(|i| w.word(i)).collect();
        assert_eq!(
            words,
            [
                "ex",
                "vivo",
                "car",
                "t",
                "hsct",
                "haematopoietic",
                "bone",
                "marrow",
                "transplant"
            ]
        );
        let phrases: Vec<_> = w.words.iter().map(|w| w.phrase).collect();
        assert_eq!(phrases, [0, 0, 0, 0, 0, 1, 2, 2, 3]);
        assert_eq!(
            name_key("Receptors, Chimeric Antigen"),
            "receptors chimeric antigen"
        );
        assert_eq!(
            name_key("Clinical Trial, Phase II"),
            "clinical trial phase ii"
        );
    }
}
