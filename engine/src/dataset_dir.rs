//! A dataset folder being written, as `ingest` and `link` write one: built in a hidden folder
//! beside the output ([`staging_dir`]) and moved into place at once ([`publish_dir`]); its tables
//! written from queries ([`write_query`]), counted from their Parquet footers ([`count_table`]) and
//! registered in a session ([`register_parquet_table`]), and folders of a dataset copied into a new
//! one by hard links ([`link_tree`]).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::datatypes::{DataType, SchemaRef};
use bibflow_datasets::DatasetError;
use bibflow_datasets::outdir::{Cleanup, Staging};
use bibflow_datasets::schema::Table;
use bibflow_datasets::writer::ParquetFile;
use datafusion::prelude::SessionContext;
use futures::StreamExt;

use crate::error::{EngineError, Result};
use crate::session::register_parquet_folder;

/// Rows per Parquet file written by [`write_query`].
const ROWS_PER_FILE: u64 = 4_000_000;

/// A fresh hidden folder beside `out` to build in, `.NAME.bibflow-staging-PID`, with `out` locked
/// against other writers and what killed runs left beside it removed
/// ([`bibflow_datasets::outdir`]). Removed when dropped, unless published with [`publish_dir`].
pub(crate) fn staging_dir(out: &Path) -> Result<Staging> {
    Ok(Staging::begin(out)?)
}

/// Runs `sql` and writes its result as Parquet files `part-NNNNN.parquet` in `dir`.
pub(crate) async fn write_query(
    ctx: &SessionContext,
    sql: &str,
    dir: &Path,
    schema: Option<SchemaRef>,
) -> Result<u64> {
    std::fs::create_dir_all(dir).map_err(|e| EngineError::io(dir, e))?;
    let df = ctx.sql(sql).await?;
    let schema = schema.unwrap_or_else(|| Arc::new(df.schema().as_arrow().clone()));
    let mut stream = df.execute_stream().await?;
    let mut file_no = 0;
    let mut current: Option<ParquetFile> = None;
    let mut in_file = 0u64;
    let mut total = 0u64;
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        if batch.num_rows() == 0 {
            continue;
        }
        // Names, types and nullability come from the canonical schema: DataFusion may hand back
        // strings as Utf8View, which is cast back here.
        let columns = batch
            .columns()
            .iter()
            .zip(schema.fields())
            .map(|(c, f)| {
                if c.data_type() == f.data_type() {
                    Ok(c.clone())
                } else {
                    arrow::compute::cast(c, f.data_type())
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        let batch = arrow::record_batch::RecordBatch::try_new(schema.clone(), columns)?;

        if current.is_none() {
            let path = dir.join(format!("part-{file_no:05}.parquet"));
            current = Some(ParquetFile::create(&path, schema.clone())?);
            file_no += 1;
        }
        let file = current.as_mut().expect("opened above");
        file.write(&batch)?;
        in_file += batch.num_rows() as u64;
        total += batch.num_rows() as u64;
        if in_file >= ROWS_PER_FILE {
            current.take().expect("open").close()?;
            in_file = 0;
        }
    }
    if let Some(f) = current {
        f.close()?;
    }
    Ok(total)
}

/// Counts a table's rows and files from the Parquet footers; writes an empty file when the table
/// has none, so that every tool (DuckDB, pyarrow) sees its columns.
pub(crate) fn count_table(dir: &Path, schema: SchemaRef) -> Result<(u64, u64)> {
    std::fs::create_dir_all(dir).map_err(|e| EngineError::io(dir, e))?;
    let files = read_dir_sorted(dir)?;
    if files.is_empty() {
        ParquetFile::create(&dir.join("part-00000.parquet"), schema)?.close()?;
        return Ok((0, 1));
    }
    let mut rows = 0;
    for f in &files {
        rows += parquet_rows(f)?;
    }
    Ok((rows, files.len() as u64))
}

/// Rows in a Parquet file, from its footer.
pub(crate) fn parquet_rows(path: &Path) -> Result<u64> {
    use parquet::file::reader::{FileReader, SerializedFileReader};
    let f = std::fs::File::open(path).map_err(|e| EngineError::io(path, e))?;
    let reader = SerializedFileReader::new(f).map_err(|e| {
        EngineError::Usage(format!(
            "{}: not a readable Parquet file: {e}",
            path.display()
        ))
    })?;
    Ok(reader.metadata().file_metadata().num_rows() as u64)
}

/// Moves the finished dataset `built` (inside `staging`) to the output. With `overwrite`, the old
/// dataset is moved into the staging folder first and removed only after the new one is in place.
/// Returns what was cleaned up beside the output when the staging folder was made.
pub(crate) fn publish_dir(staging: Staging, built: &Path, overwrite: bool) -> Result<Vec<Cleanup>> {
    staging.publish(built, overwrite).map_err(|e| match e {
        DatasetError::Exists { path } => EngineError::AlreadyExists { path },
        e => e.into(),
    })
}

/// [`std::fs::rename`], with the path in the error.
pub(crate) fn rename(from: &Path, to: &Path) -> Result<()> {
    std::fs::rename(from, to).map_err(|e| EngineError::io(from, e))
}

/// The entries of `dir`, hidden ones left out, sorted by path.
pub(crate) fn read_dir_sorted(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| EngineError::io(dir, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| !n.starts_with('.'))
        })
        .collect();
    v.sort();
    Ok(v)
}

/// The first value of `sql`'s first non-empty batch as an `i64` (NULL as 0).
pub(crate) async fn scalar_i64(ctx: &SessionContext, sql: &str) -> Result<i64> {
    let batches = ctx.sql(sql).await?.collect().await?;
    let batch = batches
        .iter()
        .find(|b| b.num_rows() > 0)
        .ok_or_else(|| EngineError::Usage(format!("no result for {sql}")))?;
    let col = arrow::compute::cast(batch.column(0), &DataType::Int64)?;
    let arr = col
        .as_any()
        .downcast_ref::<arrow::array::Int64Array>()
        .expect("cast to Int64");
    Ok(if arrow::array::Array::is_null(arr, 0) {
        0
    } else {
        arr.value(0)
    })
}

/// Registers a canonical table folder of a dataset under `name`.
pub(crate) async fn register_parquet_table(
    ctx: &SessionContext,
    name: &str,
    dir: &Path,
    t: Table,
) -> Result<()> {
    if !dir.is_dir() {
        return Err(EngineError::NotADataset {
            path: dir.parent().unwrap_or(dir).to_path_buf(),
            reason: format!("it has no {} table", t.name()),
        });
    }
    register_parquet_folder(ctx, name, dir, Some(t.schema())).await
}

/// Makes `to` a copy of the file or folder `from`, by hard links where the file system allows
/// (the dataset's files are never written again, so sharing them is safe), else by copying.
pub(crate) fn link_tree(from: &Path, to: &Path) -> Result<()> {
    if from.is_dir() {
        std::fs::create_dir_all(to).map_err(|e| EngineError::io(to, e))?;
        for entry in std::fs::read_dir(from).map_err(|e| EngineError::io(from, e))? {
            let entry = entry.map_err(|e| EngineError::io(from, e))?;
            link_tree(&entry.path(), &to.join(entry.file_name()))?;
        }
        Ok(())
    } else {
        std::fs::hard_link(from, to)
            .or_else(|_| std::fs::copy(from, to).map(|_| ()))
            .map_err(|e| EngineError::io(from, e))
    }
}
