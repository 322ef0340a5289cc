//! `is_citable(type)`: whether a document type is normalised.

use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{
    Array, ArrayAccessor, ArrayRef, AsArray, BooleanArray, StringViewArray,
};
use datafusion::arrow::buffer::BooleanBuffer;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, exec_err, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

use crate::args::invoke_arrays;
use crate::doc_sections::DOC_SECTION_IMPACT;

/// The citable document types, in the spellings of OpenAlex (`article`, `review`, `book`,
/// `book-chapter`), Crossref (`journal-article`, `proceedings-article`, `monograph`,
/// `edited-book`), Scopus (`Conference Paper`, `Book Chapter`), Web of Science (`Proceedings
/// Paper`) and PubMed (`Journal Article`, `Review`, `Systematic Review`). Matching ignores case and
/// treats spaces, `-` and `_` alike, so one spelling per type is listed here.
pub const CITABLE_TYPES: &[&str] = &[
    "article",
    "journal-article",
    "review",
    "systematic-review",
    "conference-paper",
    "proceedings-article",
    "proceedings-paper",
    "book",
    "monograph",
    "edited-book",
    "book-chapter",
];

static DOCUMENTATION: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        DOC_SECTION_IMPACT,
        "Whether a document type is citable, i.e. normalised: article, review, conference paper, \
         book or book chapter, as OpenAlex, Crossref, Scopus, Web of Science or PubMed spell them \
         (case-insensitive; spaces, '-' and '_' alike). NULL for a NULL type. NCS and top-x% \
         scores of other types must be NULL, not 0: filter with `WHERE is_citable(type)` or wrap \
         them in `CASE WHEN is_citable(type) THEN ... END`.",
        "is_citable(type)",
    )
    .with_sql_example(
        r#"```sql
SELECT is_citable('article'), is_citable('Book Chapter'), is_citable('editorial');
-- true, true, false
```"#,
    )
    .with_argument("type", "The document type (works.type).")
    .with_related_udf("ncs")
    .build()
});

/// `is_citable(type)` -> Boolean.
///
/// ```
/// # use datafusion::prelude::SessionContext;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> datafusion::common::Result<()> {
/// let ctx = SessionContext::new();
/// bibflow_udfs::impact::register(&ctx)?;
/// let df = ctx
///     .sql("SELECT is_citable('Book Chapter') AS a, is_citable('editorial') AS b")
///     .await?;
/// # datafusion::assert_batches_eq!(
/// #     ["+------+-------+", "| a    | b     |", "+------+-------+", "| true | false |", "+------+-------+"],
/// #     &df.collect().await?);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct IsCitable {
    signature: Signature,
}

impl Default for IsCitable {
    fn default() -> Self {
        Self::new()
    }
}

impl IsCitable {
    /// Creates the function.
    pub fn new() -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for IsCitable {
    fn name(&self) -> &str {
        "is_citable"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        match arg_types {
            [DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View] => Ok(arg_types.to_vec()),
            [DataType::Null] => Ok(vec![DataType::Utf8]),
            [other] => plan_err!("is_citable: `type` must be text, got {other}"),
            _ => plan_err!(
                "is_citable takes one argument (type), got {}",
                arg_types.len()
            ),
        }
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Boolean)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        invoke_arrays(&args.args, args.number_rows, |a| {
            let a = &a[0];
            Ok(match a.data_type() {
                DataType::Utf8 => citable(a.as_string::<i32>()),
                DataType::LargeUtf8 => citable(a.as_string::<i64>()),
                DataType::Utf8View => citable_view(a.as_string_view()),
                other => return exec_err!("is_citable: unexpected type {other}"),
            })
        })
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&DOCUMENTATION)
    }
}

fn citable<'a, A: ArrayAccessor<Item = &'a str>>(types: A) -> ArrayRef {
    let values = BooleanBuffer::collect_bool(types.len(), |i| {
        // A null slot holds some string; its result is masked by the null buffer below.
        is_citable_type(types.value(i))
    });
    Arc::new(BooleanArray::new(values, types.nulls().cloned()))
}

/// Whether `t` is one of [`CITABLE_TYPES`], ignoring case, surrounding spaces and the choice of
/// separator (space, `-`, `_`). Compares in place, without allocating.
/// `Utf8View` (how DataFusion reads Parquet text): a type of at most 12 bytes is held whole in its
/// 16-byte view, so equal views are equal types. A column holds a handful of types, so the answer
/// for each short view is remembered in a small table and most rows cost one lookup.
fn citable_view(types: &StringViewArray) -> ArrayRef {
    const SLOTS: usize = 64;
    let mut keys = [0u128; SLOTS];
    let mut known = [0u8; SLOTS]; // 0: empty, 1: not citable, 2: citable
    let views = types.views();
    let values = BooleanBuffer::collect_bool(types.len(), |i| {
        let view = views[i];
        if (view as u32) > 12 {
            return is_citable_type(types.value(i));
        }
        let h = ((view as u64) ^ ((view >> 64) as u64)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let slot = (h >> 58) as usize;
        if known[slot] != 0 && keys[slot] == view {
            return known[slot] == 2;
        }
        let answer = is_citable_type(types.value(i));
        keys[slot] = view;
        known[slot] = 1 + u8::from(answer);
        answer
    });
    Arc::new(BooleanArray::new(values, types.nulls().cloned()))
}

pub fn is_citable_type(t: &str) -> bool {
    let t = t.trim().as_bytes();
    CITABLE_TYPES.iter().any(|want| {
        let want = want.as_bytes();
        want.len() == t.len()
            && want.iter().zip(t).all(|(&w, &c)| {
                let c = match c {
                    b' ' | b'_' => b'-',
                    c => c.to_ascii_lowercase(),
                };
                w == c
            })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::{batches, session};

    #[test]
    fn spellings() {
        for t in [
            "article",
            "review",
            "book",
            "book-chapter",
            "Book Chapter",
            "journal-article",
            "Journal Article",
            "proceedings-article",
            "Conference Paper",
            "Proceedings Paper",
            "Systematic Review",
            " ARTICLE ",
        ] {
            assert!(is_citable_type(t), "{t}");
        }
        for t in [
            "editorial",
            "letter",
            "erratum",
            "preprint",
            "dataset",
            "paratext",
            "",
            "articles",
        ] {
            assert!(!is_citable_type(t), "{t}");
        }
    }

    #[test]
    fn views_remembered_per_type_agree_row_by_row() {
        // Short (inline) and long types, repeated in varying order, with NULLs: the remembered
        // answers must be each row's own.
        let kinds = [
            "article",
            "editorial",
            "Book Chapter",
            "book-chapter",
            "letter",
            "review",
            "conference-paper",
            "Conference Paper",
            " ARTICLE ",
            "",
            "preprint",
            "erratum",
            "systematic-review",
            "paratext",
            "book",
            "dataset",
            "articles",
            "Journal Article",
        ];
        let mut rows: Vec<Option<String>> = Vec::new();
        for i in 0..5000usize {
            let k = (i * 7 + i / 13) % (kinds.len() + 1);
            rows.push(kinds.get(k).map(|s| (*s).to_string()));
        }
        // Many distinct short types as well, so that slots of the table are reused.
        for i in 0..500 {
            rows.push(Some(format!("t{i}")));
            rows.push(Some("article".into()));
        }
        let array = StringViewArray::from_iter(rows.iter().map(|r| r.as_deref()));
        let got = citable_view(&array);
        let got = got.as_boolean();
        for (i, row) in rows.iter().enumerate() {
            match row {
                None => assert!(got.is_null(i), "row {i}"),
                Some(t) => assert_eq!(got.value(i), is_citable_type(t), "row {i}: {t:?}"),
            }
        }
    }

    #[tokio::test]
    async fn through_sql_with_nulls_and_views() -> Result<()> {
        let ctx = session(
            "CREATE TABLE w (t VARCHAR) AS VALUES ('article'), ('editorial'), (NULL), ('Book Chapter')",
        )
        .await?;
        let got = batches(
            &ctx,
            "SELECT t, is_citable(t) AS a, is_citable(arrow_cast(t, 'Utf8View')) AS b FROM w",
        )
        .await?;
        datafusion::assert_batches_eq!(
            [
                "+--------------+-------+-------+",
                "| t            | a     | b     |",
                "+--------------+-------+-------+",
                "| article      | true  | true  |",
                "| editorial    | false | false |",
                "|              |       |       |",
                "| Book Chapter | true  | true  |",
                "+--------------+-------+-------+",
            ],
            &got
        );
        Ok(())
    }
}
