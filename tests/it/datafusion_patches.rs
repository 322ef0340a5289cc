//! The fixes bibflow carries in its own build of DataFusion (vendor/README.md), each tested here
//! through DataFusion's public API, the way bibflow's operators meet it.

use std::sync::mpsc;
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Duration;

use datafusion::arrow::array::{ArrayRef, Int32Array};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::execution::runtime_env::RuntimeEnv;
use datafusion::physical_plan::metrics::{ExecutionPlanMetricsSet, SpillMetrics};
use datafusion::physical_plan::spill::SpillManager;
use datafusion::physical_plan::spill::spill_pool::mpsc_channel;
use futures::StreamExt;

/// apache/datafusion#24883: `RepartitionExec` spills a batch it cannot hold into one spill pool
/// per output partition, shared by every input task, and tells the reader "one batch spilled".
/// In DataFusion 55.2 two input tasks spilling at the same moment could open two files; the
/// reader, drained on the older one, then waited for it for ever while the batch sat in the
/// newer one, and the query hung (a 10^8-work report did, docs/benchmarks.md).
///
/// This test plays `RepartitionExec`'s part: in each round two writers spill one batch each at
/// the same moment (a barrier), and, like the repartition's gate, write nothing more until the
/// reader has read both. Unpatched, a round in which the writers collide leaves the reader
/// waiting (against DataFusion 55.2.0 unpatched, four runs failed at rounds 0, 67, 85 and 120);
/// the test then fails after 20 s instead of hanging. Patched, the writers take turns and every
/// round is read.
#[test]
fn two_writers_spilling_at_once_never_leave_the_reader_waiting() {
    const ROUNDS: usize = 2000;
    const ROWS: i32 = 64;
    let schema = Arc::new(Schema::new(vec![Field::new("v", DataType::Int32, false)]));
    let metrics = SpillMetrics::new(&ExecutionPlanMetricsSet::new(), 0);
    let spill_manager = Arc::new(SpillManager::new(
        Arc::new(RuntimeEnv::default()),
        metrics,
        Arc::clone(&schema),
    ));
    // Files large enough never to rotate within the test: rotation is not what is tested.
    let (writer, mut reader) = mpsc_channel(1 << 30, spill_manager);

    // The reader runs on a thread of its own and reports each batch, so that a reader that never
    // returns is seen as a timeout here and not as a test that hangs.
    let (read_tx, read_rx) = mpsc::channel::<Result<i32, String>>();
    let read_thread = thread::spawn(move || {
        // Reading a spill file spawns blocking tasks: a Tokio runtime of the reader's own.
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        runtime.block_on(async move {
            while let Some(batch) = reader.next().await {
                let report = batch.map_err(|e| e.to_string()).map(|b| {
                    let v = b.column(0).as_any().downcast_ref::<Int32Array>().unwrap();
                    v.value(0)
                });
                if read_tx.send(report).is_err() {
                    break;
                }
            }
        })
    });

    let start = Arc::new(Barrier::new(3));
    let mut writers = Vec::new();
    for w in 0..2i32 {
        let sink = writer.new_sink();
        let start = Arc::clone(&start);
        let schema = Arc::clone(&schema);
        writers.push(thread::spawn(move || {
            for round in 0..ROUNDS as i32 {
                start.wait();
                // The first value names the writer and the round: (round * 2 + w) * ROWS.
                let first = (round * 2 + w) * ROWS;
                let column: ArrayRef = Arc::new(Int32Array::from_iter_values(first..first + ROWS));
                let batch = RecordBatch::try_new(Arc::clone(&schema), vec![column]).unwrap();
                sink.push_batch(&batch).unwrap();
            }
        }));
    }
    drop(writer);

    let mut seen = Vec::with_capacity(2 * ROUNDS);
    for round in 0..ROUNDS {
        start.wait();
        for _ in 0..2 {
            match read_rx.recv_timeout(Duration::from_secs(20)) {
                Ok(Ok(first)) => seen.push(first),
                Ok(Err(e)) => panic!("round {round}: the spill pool's reader failed: {e}"),
                Err(_) => panic!(
                    "round {round}: two batches were spilled at once and the reader has waited \
                     20 s for the second: the spill pool deadlock of apache/datafusion#24883 \
                     (is vendor/datafusion-physical-plan patched and used?)"
                ),
            }
        }
    }
    for w in writers {
        w.join().unwrap();
    }
    // Every writer is gone: the reader sees the end of the stream and stops.
    read_thread.join().unwrap();

    seen.sort_unstable();
    let expected: Vec<i32> = (0..2 * ROUNDS as i32).map(|k| k * ROWS).collect();
    assert_eq!(seen, expected, "every spilled batch is read exactly once");
}
