//! Pieces shared by the classification functions: argument coercion, list access, the word
//! tokenizer used for titles, abstracts and MeSH names, and the documentation section.

use arrow::array::{Array, ArrayRef, AsArray, GenericListArray, StringArray};
use arrow::datatypes::DataType;
use datafusion::common::exec_err;
use datafusion::error::Result;
use datafusion::logical_expr::{ColumnarValue, DocSection};

/// The documentation section every bibflow classification function is listed under.
pub(crate) const DOC_SECTION: DocSection = DocSection {
    include: true,
    label: "Bibliometric Classification Functions",
    description: Some(
        "Clinical translation: modalities, clinical stage and the Human/Animal/Molecular-Cellular \
         position of papers from their MeSH descriptors, publication types and text.",
    ),
};

/// A "list of strings" argument is coerced like a list of country codes: any list of any string
/// type (or an untyped NULL) becomes `List<Utf8>`.
pub(crate) use crate::counting::common::{
    code_at as str_at, coerce_code_list as coerce_string_list, from_array, is_string, list_of_utf8,
    row_range,
};

/// The type a string argument is coerced to: every string type (and NULL) becomes `Utf8`.
pub(crate) fn coerce_string(t: &DataType) -> Option<DataType> {
    (is_string(t) || t == &DataType::Null).then_some(DataType::Utf8)
}

/// Expands every argument to an array of `number_rows` rows; tells whether all were scalars.
pub(crate) fn to_arrays(
    args: &[ColumnarValue],
    number_rows: usize,
) -> Result<(Vec<ArrayRef>, bool)> {
    let all_scalar = args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_)));
    let rows = if all_scalar { 1 } else { number_rows };
    let arrays = args
        .iter()
        .map(|a| a.to_array(rows))
        .collect::<Result<Vec<_>>>()?;
    Ok((arrays, all_scalar))
}

/// Downcasts a coerced `List<Utf8>` argument.
pub(crate) fn as_string_list<'a>(
    function: &str,
    arg: &str,
    array: &'a ArrayRef,
) -> Result<(&'a GenericListArray<i32>, &'a StringArray)> {
    match array.as_list_opt::<i32>() {
        Some(list) => match list.values().as_string_opt::<i32>() {
            Some(values) => Ok((list, values)),
            None => exec_err!(
                "{function}: `{arg}` must be a list of strings, got {}",
                array.data_type()
            ),
        },
        None => exec_err!(
            "{function}: `{arg}` must be a list of strings, got {}",
            array.data_type()
        ),
    }
}

/// Downcasts a coerced `Utf8` argument.
pub(crate) fn as_string<'a>(
    function: &str,
    arg: &str,
    array: &'a ArrayRef,
) -> Result<&'a StringArray> {
    match array.as_string_opt::<i32>() {
        Some(s) => Ok(s),
        None => exec_err!(
            "{function}: `{arg}` must be a string, got {}",
            array.data_type()
        ),
    }
}

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

/// Helpers for the unit tests of the functions of this module.
#[cfg(test)]
pub(crate) mod test_util {
    use arrow::array::ArrayRef;
    use datafusion::error::Result;
    use datafusion::logical_expr::{ColumnarValue, ScalarUDFImpl};

    /// Invokes `udf` the way the planner would: coerced argument types, return field from the
    /// constant arguments, then the call.
    pub(crate) fn invoke(
        udf: &dyn ScalarUDFImpl,
        args: Vec<ColumnarValue>,
    ) -> Result<ColumnarValue> {
        let types: Vec<_> = args.iter().map(|a| a.data_type()).collect();
        let coerced = udf.coerce_types(&types)?;
        let args: Vec<ColumnarValue> = args
            .into_iter()
            .zip(&coerced)
            .map(|(a, t)| a.cast_to(t, None))
            .collect::<Result<_>>()?;
        crate::counting::common::test_util::invoke(udf, args)
    }

    /// Invokes `udf` and expects an array back.
    pub(crate) fn invoke_array(udf: &dyn ScalarUDFImpl, args: Vec<ColumnarValue>) -> ArrayRef {
        match invoke(udf, args).expect("invoke") {
            ColumnarValue::Array(a) => a,
            ColumnarValue::Scalar(s) => s.to_array().expect("scalar to array"),
        }
    }

    /// A `List<Utf8>` array, one row per paper.
    pub(crate) fn string_lists(rows: &[Option<Vec<&str>>]) -> ArrayRef {
        let rows: Vec<Option<Vec<Option<&str>>>> = rows
            .iter()
            .map(|r| r.as_ref().map(|v| v.iter().map(|s| Some(*s)).collect()))
            .collect();
        crate::counting::common::test_util::code_lists(&rows)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::datatypes::Field;

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

    #[test]
    fn coercions() {
        let view_list = DataType::List(Arc::new(Field::new_list_field(DataType::Utf8View, true)));
        assert_eq!(coerce_string_list(&view_list), Some(list_of_utf8()));
        assert_eq!(coerce_string_list(&DataType::Null), Some(list_of_utf8()));
        assert_eq!(coerce_string_list(&DataType::Utf8), None);
        assert_eq!(coerce_string(&DataType::LargeUtf8), Some(DataType::Utf8));
        assert_eq!(coerce_string(&DataType::Int64), None);
    }
}
