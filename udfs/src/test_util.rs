//! Helpers for the unit tests of every function: calling a function as the planner would, building
//! list arguments, running SQL in a session with the bibflow functions, comparing floats.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, ListBuilder, RecordBatch, StringBuilder};
use arrow::datatypes::{DataType, Field, Float64Type};
use datafusion::common::config::ConfigOptions;
use datafusion::error::Result;
use datafusion::logical_expr::{ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDFImpl};
use datafusion::prelude::SessionContext;

// ---- Calling a scalar function directly --------------------------------------------------------

/// Invokes `udf` on arguments already of its coerced types, the way the planner would: return
/// field from the constant arguments, then the call.
pub(crate) fn invoke(udf: &dyn ScalarUDFImpl, args: Vec<ColumnarValue>) -> Result<ColumnarValue> {
    let arg_fields: Vec<_> = args
        .iter()
        .enumerate()
        .map(|(i, a)| Arc::new(Field::new(format!("a{i}"), a.data_type(), true)))
        .collect();
    let scalars: Vec<_> = args
        .iter()
        .map(|a| match a {
            ColumnarValue::Scalar(s) => Some(s),
            ColumnarValue::Array(_) => None,
        })
        .collect();
    let return_field = udf.return_field_from_args(ReturnFieldArgs {
        arg_fields: &arg_fields,
        scalar_arguments: &scalars,
    })?;
    let number_rows = args
        .iter()
        .find_map(|a| match a {
            ColumnarValue::Array(a) => Some(a.len()),
            ColumnarValue::Scalar(_) => None,
        })
        .unwrap_or(1);
    udf.invoke_with_args(ScalarFunctionArgs {
        args,
        arg_fields,
        number_rows,
        return_field,
        config_options: Arc::new(ConfigOptions::default()),
    })
}

/// [`invoke`]s `udf` and expects an array back.
pub(crate) fn invoke_array(udf: &dyn ScalarUDFImpl, args: Vec<ColumnarValue>) -> ArrayRef {
    match invoke(udf, args).expect("invoke") {
        ColumnarValue::Array(a) => a,
        ColumnarValue::Scalar(s) => s.to_array().expect("scalar to array"),
    }
}

/// Casts the arguments to the types `udf` coerces them to, as the planner would, then [`invoke`]s
/// it.
pub(crate) fn coerce_and_invoke(
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
    invoke(udf, args)
}

/// [`coerce_and_invoke`]s `udf` and expects an array back.
pub(crate) fn coerce_and_invoke_array(
    udf: &dyn ScalarUDFImpl,
    args: Vec<ColumnarValue>,
) -> ArrayRef {
    match coerce_and_invoke(udf, args).expect("invoke") {
        ColumnarValue::Array(a) => a,
        ColumnarValue::Scalar(s) => s.to_array().expect("scalar to array"),
    }
}

// ---- List arguments ----------------------------------------------------------------------------

/// A `List<Utf8>` array, one row per paper.
pub(crate) fn code_lists(rows: &[Option<Vec<Option<&str>>>]) -> ArrayRef {
    let mut b = ListBuilder::new(StringBuilder::new());
    for row in rows {
        match row {
            Some(codes) => {
                for c in codes {
                    b.values().append_option(*c);
                }
                b.append(true);
            }
            None => b.append(false),
        }
    }
    Arc::new(b.finish())
}

/// A `List<Utf8>` array without NULL strings, one row per paper.
pub(crate) fn string_lists(rows: &[Option<Vec<&str>>]) -> ArrayRef {
    let rows: Vec<Option<Vec<Option<&str>>>> = rows
        .iter()
        .map(|r| r.as_ref().map(|v| v.iter().map(|s| Some(*s)).collect()))
        .collect();
    code_lists(&rows)
}

/// One paper's authors, each with the codes of its affiliations (`None`: NULL).
pub(crate) type Paper<'a> = Option<Vec<Option<Vec<Option<&'a str>>>>>;

/// A `List<List<Utf8>>` array, one row per paper, one inner list per author.
pub(crate) fn author_code_lists(rows: &[Paper<'_>]) -> ArrayRef {
    let mut b = ListBuilder::new(ListBuilder::new(StringBuilder::new()));
    for row in rows {
        match row {
            Some(authors) => {
                for author in authors {
                    match author {
                        Some(codes) => {
                            for c in codes {
                                b.values().values().append_option(*c);
                            }
                            b.values().append(true);
                        }
                        None => b.values().append(false),
                    }
                }
                b.append(true);
            }
            None => b.append(false),
        }
    }
    Arc::new(b.finish())
}

// ---- SQL ---------------------------------------------------------------------------------------

/// A session with every bibflow function and a table made by `setup` (a CREATE TABLE).
pub(crate) async fn session(setup: &str) -> Result<SessionContext> {
    let ctx = SessionContext::new();
    crate::register_all(&ctx)?;
    if !setup.is_empty() {
        ctx.sql(setup).await?.collect().await?;
    }
    Ok(ctx)
}

/// Runs `sql` and returns the batches.
pub(crate) async fn batches(ctx: &SessionContext, sql: &str) -> Result<Vec<RecordBatch>> {
    ctx.sql(sql).await?.collect().await
}

/// Runs `sql` and returns its column `col` as Float64 values (casting if needed).
pub(crate) async fn f64_column(
    ctx: &SessionContext,
    sql: &str,
    col: usize,
) -> Result<Vec<Option<f64>>> {
    let mut out = Vec::new();
    for b in batches(ctx, sql).await? {
        let a = arrow::compute::cast(b.column(col), &DataType::Float64)?;
        let a = a.as_primitive::<Float64Type>();
        out.extend((0..a.len()).map(|i| a.is_valid(i).then(|| a.value(i))));
    }
    Ok(out)
}

// ---- Floats ------------------------------------------------------------------------------------

/// Asserts two weights are equal up to floating-point rounding (1e-12).
pub(crate) fn assert_close(actual: f64, expected: f64) {
    assert!(
        (actual - expected).abs() < 1e-12,
        "expected {expected}, got {actual}"
    );
}

/// Asserts two floats agree to 1e-9 (absolute).
pub(crate) fn assert_near(got: f64, want: f64) {
    assert!((got - want).abs() <= 1e-9, "got {got}, want {want}");
}
