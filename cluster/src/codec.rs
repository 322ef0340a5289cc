//! The codecs every bibflow cluster process encodes and decodes plans with: Ballista's, plus
//! bibflow's own plan nodes.
//!
//! - [`BibflowPhysicalCodec`]: [`HashWindowExec`] (sent as the `WindowAggExec` it replaced, over
//!   a placeholder input, and rebuilt around the decoded input), [`CompactExec`] (its tag alone;
//!   the input travels as its child) and [`SelectLiteralExpr`] (its two literals; the condition
//!   travels as the expression's child). Every other node goes to
//!   Ballista's codec (shuffle readers and writers, ...).
//! - [`BibflowLogicalCodec`]: an empty in-memory table (what the session builder registers for a
//!   canonical table a dataset lacks) travels as its schema alone. Everything else is Ballista's.
//!
//! Each encoded node starts with a tag byte saying whose it is.

use std::sync::Arc;

use ballista_core::serde::{BallistaLogicalExtensionCodec, BallistaPhysicalExtensionCodec};
use bibflow_engine::plan::compact_exec::CompactExec;
use bibflow_engine::plan::hash_window_exec::HashWindowExec;
use bibflow_engine::plan::select_literal_expr::SelectLiteralExpr;
use datafusion::arrow::datatypes::{DataType, SchemaRef};
use datafusion::catalog::TableProvider;
use datafusion::common::{Result, ScalarValue, TableReference, internal_err};
use datafusion::datasource::MemTable;
use datafusion::execution::TaskContext;
use datafusion::logical_expr::{Extension, LogicalPlan};
use datafusion::physical_expr::{Distribution, PhysicalExpr};
use datafusion::physical_expr_common::physical_expr::proto_decode::PhysicalExprDecodeCtx;
use datafusion::physical_expr_common::physical_expr::proto_encode::PhysicalExprEncodeCtx;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::empty::EmptyExec;
use datafusion::physical_plan::windows::WindowAggExec;
use datafusion_proto::bytes::{
    physical_plan_from_bytes_with_extension_codec, physical_plan_to_bytes_with_extension_codec,
};
use datafusion_proto::logical_plan::LogicalExtensionCodec;
use datafusion_proto::physical_plan::{PhysicalExtensionCodec, PhysicalProtoConverterExtension};

/// The logical codec of every bibflow process.
pub fn logical() -> Arc<dyn LogicalExtensionCodec> {
    Arc::new(BibflowLogicalCodec::default())
}

/// The physical codec of every bibflow process.
pub fn physical() -> Arc<dyn PhysicalExtensionCodec> {
    Arc::new(BibflowPhysicalCodec::default())
}

/// Tag: what follows is Ballista's.
const BALLISTA: u8 = 0;
/// Tag: a [`HashWindowExec`].
const HASH_WINDOW: u8 = 1;
/// Tag: a [`SelectLiteralExpr`].
const SELECT_LITERAL: u8 = 2;
/// Tag: an empty in-memory table.
const EMPTY_TABLE: u8 = 3;
/// Tag: a [`CompactExec`].
const COMPACT: u8 = 4;

/// See the [module documentation](self).
#[derive(Debug, Default)]
pub struct BibflowPhysicalCodec {
    ballista: BallistaPhysicalExtensionCodec,
}

impl PhysicalExtensionCodec for BibflowPhysicalCodec {
    fn try_decode(
        &self,
        buf: &[u8],
        inputs: &[Arc<dyn ExecutionPlan>],
        ctx: &TaskContext,
        proto_converter: &dyn PhysicalProtoConverterExtension,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        match buf.split_first() {
            Some((&BALLISTA, rest)) => self.ballista.try_decode(rest, inputs, ctx, proto_converter),
            Some((&HASH_WINDOW, rest)) => self.decode_hash_window(rest, inputs, ctx),
            Some((&COMPACT, [])) => match inputs {
                [input] => Ok(Arc::new(CompactExec::new(Arc::clone(input)))),
                _ => internal_err!("bibflow's codec: CompactExec with {} inputs", inputs.len()),
            },
            Some((tag, _)) => internal_err!(
                "bibflow's codec: unknown plan node tag {tag} (are all processes the same bibflow?)"
            ),
            None => internal_err!("bibflow's codec: an empty plan node"),
        }
    }

    fn try_encode(
        &self,
        node: Arc<dyn ExecutionPlan>,
        buf: &mut Vec<u8>,
        proto_converter: &dyn PhysicalProtoConverterExtension,
    ) -> Result<()> {
        if let Some(window) = node.downcast_ref::<HashWindowExec>() {
            buf.push(HASH_WINDOW);
            return self.encode_hash_window(window, buf);
        }
        if node.downcast_ref::<CompactExec>().is_some() {
            buf.push(COMPACT);
            return Ok(());
        }
        buf.push(BALLISTA);
        self.ballista.try_encode(node, buf, proto_converter)
    }

    fn try_decode_expr(
        &self,
        buf: &[u8],
        inputs: &[Arc<dyn PhysicalExpr>],
        ctx: &PhysicalExprDecodeCtx<'_>,
    ) -> Result<Arc<dyn PhysicalExpr>> {
        match buf.split_first() {
            Some((&SELECT_LITERAL, rest)) => {
                let [when] = inputs else {
                    return internal_err!(
                        "bibflow's codec: SelectLiteralExpr with {} inputs",
                        inputs.len()
                    );
                };
                let (then, otherwise) = decode_literals(rest)?;
                Ok(Arc::new(SelectLiteralExpr::try_new(
                    Arc::clone(when),
                    then,
                    otherwise,
                )?))
            }
            Some((&BALLISTA, rest)) => self.ballista.try_decode_expr(rest, inputs, ctx),
            Some((tag, _)) => internal_err!("bibflow's codec: unknown expression tag {tag}"),
            None => internal_err!("bibflow's codec: an empty expression"),
        }
    }

    fn try_encode_expr(
        &self,
        node: &Arc<dyn PhysicalExpr>,
        buf: &mut Vec<u8>,
        ctx: &PhysicalExprEncodeCtx<'_>,
    ) -> Result<()> {
        if let Some(select) = node.downcast_ref::<SelectLiteralExpr>() {
            buf.push(SELECT_LITERAL);
            return encode_literals(select.then(), select.otherwise(), buf);
        }
        buf.push(BALLISTA);
        self.ballista.try_encode_expr(node, buf, ctx)
    }

    // Functions travel by name (every process registers bibflow's): nothing to encode, and
    // decoding by name is Ballista's.
    fn try_decode_udf(
        &self,
        name: &str,
        buf: &[u8],
    ) -> Result<Arc<datafusion::logical_expr::ScalarUDF>> {
        self.ballista.try_decode_udf(name, buf)
    }

    fn try_encode_udf(
        &self,
        node: &datafusion::logical_expr::ScalarUDF,
        buf: &mut Vec<u8>,
    ) -> Result<()> {
        self.ballista.try_encode_udf(node, buf)
    }

    fn try_decode_higher_order_function(
        &self,
        name: &str,
        buf: &[u8],
    ) -> Result<Arc<datafusion::logical_expr::HigherOrderUDF>> {
        self.ballista.try_decode_higher_order_function(name, buf)
    }

    fn try_encode_higher_order_function(
        &self,
        node: &datafusion::logical_expr::HigherOrderUDF,
        buf: &mut Vec<u8>,
    ) -> Result<()> {
        self.ballista.try_encode_higher_order_function(node, buf)
    }

    fn try_decode_udaf(
        &self,
        name: &str,
        buf: &[u8],
    ) -> Result<Arc<datafusion::logical_expr::AggregateUDF>> {
        self.ballista.try_decode_udaf(name, buf)
    }

    fn try_encode_udaf(
        &self,
        node: &datafusion::logical_expr::AggregateUDF,
        buf: &mut Vec<u8>,
    ) -> Result<()> {
        self.ballista.try_encode_udaf(node, buf)
    }

    fn try_decode_udwf(
        &self,
        name: &str,
        buf: &[u8],
    ) -> Result<Arc<datafusion::logical_expr::WindowUDF>> {
        self.ballista.try_decode_udwf(name, buf)
    }

    fn try_encode_udwf(
        &self,
        node: &datafusion::logical_expr::WindowUDF,
        buf: &mut Vec<u8>,
    ) -> Result<()> {
        self.ballista.try_encode_udwf(node, buf)
    }
}

impl BibflowPhysicalCodec {
    /// The `WindowAggExec` the operator replaced, with the same expressions over a placeholder of
    /// its input's schema (the real input travels as the node's child), as DataFusion's codec
    /// writes it.
    fn encode_hash_window(&self, window: &HashWindowExec, buf: &mut Vec<u8>) -> Result<()> {
        let placeholder = Arc::new(EmptyExec::new(window.input().schema()));
        let keyed = !matches!(
            window.distribution(),
            Distribution::SinglePartition | Distribution::UnspecifiedDistribution
        );
        let sent = WindowAggExec::try_new(window.window_expr().to_vec(), placeholder, keyed)?;
        // The decoded operator asks its input for what the sent one asks: check it is what this
        // one asks.
        let asks = sent.input_distribution_requirements().into_per_child();
        if asks.len() != 1 || format!("{:?}", asks[0]) != format!("{:?}", window.distribution()) {
            return internal_err!(
                "bibflow's codec cannot send a HashWindowExec asking for {:?} of its input",
                window.distribution()
            );
        }
        let bytes = physical_plan_to_bytes_with_extension_codec(Arc::new(sent), self)?;
        buf.extend_from_slice(&bytes);
        Ok(())
    }

    fn decode_hash_window(
        &self,
        buf: &[u8],
        inputs: &[Arc<dyn ExecutionPlan>],
        ctx: &TaskContext,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let [input] = inputs else {
            return internal_err!(
                "bibflow's codec: HashWindowExec with {} inputs",
                inputs.len()
            );
        };
        let sent = physical_plan_from_bytes_with_extension_codec(buf, ctx, self)?;
        let Some(window) = sent.downcast_ref::<WindowAggExec>() else {
            return internal_err!("bibflow's codec: HashWindowExec sent as {}", sent.name());
        };
        let distribution = window
            .input_distribution_requirements()
            .into_per_child()
            .into_iter()
            .next()
            .unwrap_or(Distribution::UnspecifiedDistribution);
        match HashWindowExec::try_new(
            window.window_expr().to_vec(),
            Arc::clone(input),
            distribution,
            window.schema(),
        ) {
            Some(exec) => Ok(Arc::new(exec)),
            None => internal_err!(
                "bibflow's codec: the window expressions received are not ones HashWindowExec computes"
            ),
        }
    }
}

/// The numeric types [`SelectLiteralExpr`] takes, by their tag on the wire.
const LITERAL_TYPES: [DataType; 10] = [
    DataType::Int8,
    DataType::Int16,
    DataType::Int32,
    DataType::Int64,
    DataType::UInt8,
    DataType::UInt16,
    DataType::UInt32,
    DataType::UInt64,
    DataType::Float32,
    DataType::Float64,
];

/// `[type tag] then \0 otherwise`, the values as text (Rust prints floats so that they parse
/// back to the same value).
fn encode_literals(then: &ScalarValue, otherwise: &ScalarValue, buf: &mut Vec<u8>) -> Result<()> {
    let Some(tag) = LITERAL_TYPES.iter().position(|t| *t == then.data_type()) else {
        return internal_err!("bibflow's codec: CASE literal of type {}", then.data_type());
    };
    buf.push(tag as u8);
    buf.extend_from_slice(then.to_string().as_bytes());
    buf.push(0);
    buf.extend_from_slice(otherwise.to_string().as_bytes());
    Ok(())
}

fn decode_literals(buf: &[u8]) -> Result<(ScalarValue, ScalarValue)> {
    let Some((tag, rest)) = buf.split_first() else {
        return internal_err!("bibflow's codec: CASE literals missing");
    };
    let Some(data_type) = LITERAL_TYPES.get(*tag as usize) else {
        return internal_err!("bibflow's codec: CASE literal type tag {tag}");
    };
    let text = std::str::from_utf8(rest)
        .map_err(|e| datafusion::error::DataFusionError::Internal(e.to_string()))?;
    let Some((then, otherwise)) = text.split_once('\0') else {
        return internal_err!("bibflow's codec: CASE literals malformed");
    };
    Ok((
        ScalarValue::try_from_string(then.to_owned(), data_type)?,
        ScalarValue::try_from_string(otherwise.to_owned(), data_type)?,
    ))
}

/// See the [module documentation](self).
#[derive(Debug, Default)]
pub struct BibflowLogicalCodec {
    ballista: BallistaLogicalExtensionCodec,
}

impl LogicalExtensionCodec for BibflowLogicalCodec {
    fn try_decode(
        &self,
        buf: &[u8],
        inputs: &[LogicalPlan],
        ctx: &TaskContext,
    ) -> Result<Extension> {
        self.ballista.try_decode(buf, inputs, ctx)
    }

    fn try_encode(&self, node: &Extension, buf: &mut Vec<u8>) -> Result<()> {
        self.ballista.try_encode(node, buf)
    }

    fn try_decode_table_provider(
        &self,
        buf: &[u8],
        table_ref: &TableReference,
        schema: SchemaRef,
        ctx: &TaskContext,
    ) -> Result<Arc<dyn TableProvider>> {
        match buf.split_first() {
            Some((&EMPTY_TABLE, [])) => Ok(Arc::new(MemTable::try_new(schema, vec![vec![]])?)),
            Some((&BALLISTA, rest)) => self
                .ballista
                .try_decode_table_provider(rest, table_ref, schema, ctx),
            _ => internal_err!("bibflow's codec: unknown table provider for {table_ref}"),
        }
    }

    fn try_encode_table_provider(
        &self,
        table_ref: &TableReference,
        node: Arc<dyn TableProvider>,
        buf: &mut Vec<u8>,
    ) -> Result<()> {
        if let Some(mem) = node.downcast_ref::<MemTable>()
            && mem.batches.iter().all(|p| {
                p.try_read()
                    .is_ok_and(|b| b.iter().all(|b| b.num_rows() == 0))
            })
        {
            buf.push(EMPTY_TABLE);
            return Ok(());
        }
        buf.push(BALLISTA);
        self.ballista
            .try_encode_table_provider(table_ref, node, buf)
    }

    fn try_decode_file_format(
        &self,
        buf: &[u8],
        ctx: &TaskContext,
    ) -> Result<Arc<dyn datafusion::datasource::file_format::FileFormatFactory>> {
        self.ballista.try_decode_file_format(buf, ctx)
    }

    fn try_encode_file_format(
        &self,
        buf: &mut Vec<u8>,
        node: Arc<dyn datafusion::datasource::file_format::FileFormatFactory>,
    ) -> Result<()> {
        self.ballista.try_encode_file_format(buf, node)
    }

    fn try_decode_udf(
        &self,
        name: &str,
        buf: &[u8],
    ) -> Result<Arc<datafusion::logical_expr::ScalarUDF>> {
        self.ballista.try_decode_udf(name, buf)
    }

    fn try_encode_udf(
        &self,
        node: &datafusion::logical_expr::ScalarUDF,
        buf: &mut Vec<u8>,
    ) -> Result<()> {
        self.ballista.try_encode_udf(node, buf)
    }

    fn try_decode_higher_order_function(
        &self,
        name: &str,
        buf: &[u8],
    ) -> Result<Arc<datafusion::logical_expr::HigherOrderUDF>> {
        self.ballista.try_decode_higher_order_function(name, buf)
    }

    fn try_encode_higher_order_function(
        &self,
        node: &datafusion::logical_expr::HigherOrderUDF,
        buf: &mut Vec<u8>,
    ) -> Result<()> {
        self.ballista.try_encode_higher_order_function(node, buf)
    }

    fn try_decode_udaf(
        &self,
        name: &str,
        buf: &[u8],
    ) -> Result<Arc<datafusion::logical_expr::AggregateUDF>> {
        self.ballista.try_decode_udaf(name, buf)
    }

    fn try_encode_udaf(
        &self,
        node: &datafusion::logical_expr::AggregateUDF,
        buf: &mut Vec<u8>,
    ) -> Result<()> {
        self.ballista.try_encode_udaf(node, buf)
    }

    fn try_decode_udwf(
        &self,
        name: &str,
        buf: &[u8],
    ) -> Result<Arc<datafusion::logical_expr::WindowUDF>> {
        self.ballista.try_decode_udwf(name, buf)
    }

    fn try_encode_udwf(
        &self,
        node: &datafusion::logical_expr::WindowUDF,
        buf: &mut Vec<u8>,
    ) -> Result<()> {
        self.ballista.try_encode_udwf(node, buf)
    }
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::util::pretty::pretty_format_batches;
    use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
    use datafusion::physical_plan::{collect, displayable};
    use datafusion::prelude::SessionContext;

    use super::*;

    /// How many nodes are `HashWindowExec`, how many expressions `SelectLiteralExpr`, and how
    /// many nodes `CompactExec`.
    fn bibflow_nodes(plan: &Arc<dyn ExecutionPlan>) -> (usize, usize, usize) {
        let (mut windows, mut selects, mut compacts) = (0, 0, 0);
        plan.apply(|node| {
            if node.is::<HashWindowExec>() {
                windows += 1;
            }
            if node.is::<CompactExec>() {
                compacts += 1;
            }
            node.apply_expressions(&mut |e| {
                e.apply(|x| {
                    if x.is::<SelectLiteralExpr>() {
                        selects += 1;
                    }
                    Ok(TreeNodeRecursion::Continue)
                })
            })
        })
        .unwrap();
        (windows, selects, compacts)
    }

    async fn sorted_text(plan: Arc<dyn ExecutionPlan>, ctx: &SessionContext) -> String {
        let batches = collect(plan, ctx.task_ctx()).await.unwrap();
        let text = pretty_format_batches(&batches).unwrap().to_string();
        let mut lines: Vec<&str> = text.lines().collect();
        lines.sort_unstable();
        lines.join("\n")
    }

    #[tokio::test]
    async fn hash_windows_literal_cases_and_compaction_survive_the_wire() {
        let ctx =
            bibflow_engine::session::SessionBuilder::new(bibflow_engine::session::SessionOptions {
                memory_limit: Some(64 << 20),
                ..Default::default()
            })
            .context()
            .unwrap();
        ctx.sql(
            "CREATE TABLE t (id INT, g VARCHAR, c DOUBLE) AS VALUES \
             (1, 'a', 2.0), (2, 'a', 3.0), (3, 'b', 4.0), (4, 'b', NULL), (5, 'c', 1.5)",
        )
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
        let plan = ctx
            .sql(
                "SELECT id, avg(c) OVER (PARTITION BY g) AS m, \
                 citation_percentile(c) OVER (PARTITION BY g) AS p, \
                 CASE WHEN c > 2 THEN 1 ELSE 0 END AS big, \
                 CASE WHEN c > 2 THEN 0.5 ELSE -1.25 END AS f FROM t ORDER BY c DESC, id",
            )
            .await
            .unwrap()
            .create_physical_plan()
            .await
            .unwrap();
        let (windows, selects, compacts) = bibflow_nodes(&plan);
        assert!(
            windows >= 1 && selects >= 2 && compacts >= 1,
            "{windows} {selects} {compacts}:\n{}",
            displayable(plan.as_ref()).indent(true)
        );

        let codec = BibflowPhysicalCodec::default();
        let bytes = physical_plan_to_bytes_with_extension_codec(Arc::clone(&plan), &codec).unwrap();
        let back =
            physical_plan_from_bytes_with_extension_codec(&bytes, &ctx.task_ctx(), &codec).unwrap();
        assert_eq!(bibflow_nodes(&back), (windows, selects, compacts));
        assert_eq!(
            displayable(back.as_ref()).indent(true).to_string(),
            displayable(plan.as_ref()).indent(true).to_string()
        );
        assert_eq!(sorted_text(back, &ctx).await, sorted_text(plan, &ctx).await);
    }

    #[test]
    fn literals_of_every_type_round_trip() {
        for (a, b) in [
            (ScalarValue::Int64(Some(1)), ScalarValue::Int64(Some(0))),
            (ScalarValue::UInt8(Some(255)), ScalarValue::UInt8(Some(7))),
            (
                ScalarValue::Float64(Some(0.1)),
                ScalarValue::Float64(Some(-1e300)),
            ),
            (
                ScalarValue::Float32(Some(1.5)),
                ScalarValue::Float32(Some(f32::MIN_POSITIVE)),
            ),
        ] {
            let mut buf = Vec::new();
            encode_literals(&a, &b, &mut buf).unwrap();
            assert_eq!(decode_literals(&buf).unwrap(), (a, b));
        }
        assert!(
            encode_literals(
                &ScalarValue::from("x"),
                &ScalarValue::from("y"),
                &mut Vec::new()
            )
            .is_err()
        );
    }

    #[test]
    fn an_empty_table_travels_as_its_schema() {
        use datafusion::arrow::datatypes::{Field, Schema};
        let schema = Arc::new(Schema::new(vec![Field::new("a", DataType::Int64, true)]));
        let empty = Arc::new(MemTable::try_new(Arc::clone(&schema), vec![vec![]]).unwrap());
        let codec = BibflowLogicalCodec::default();
        let mut buf = Vec::new();
        let name = TableReference::bare("t");
        codec
            .try_encode_table_provider(&name, empty, &mut buf)
            .unwrap();
        assert_eq!(buf, [EMPTY_TABLE]);
        let ctx = SessionContext::new();
        let back = codec
            .try_decode_table_provider(&buf, &name, Arc::clone(&schema), &ctx.task_ctx())
            .unwrap();
        assert_eq!(back.schema(), schema);
        assert!(back.downcast_ref::<MemTable>().is_some());
    }
}
