//! Memory on stderr: what the session's memory pool holds, next to the process's resident memory
//! (RSS). The pool bounds what DataFusion's
//! operators and bibflow's computed views reserve; the process holds more (the program itself,
//! buffers that reserve nothing, memory the allocator keeps after it is freed). These lines show
//! how much more, while a command runs (`--trace-memory SECS`) and at its end.

use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use bibflow_engine::pool::MemoryGauge;

const MIB: f64 = (1u64 << 20) as f64;

/// Watches a session's memory gauge; with an interval, prints a line every interval until
/// [`finish`](Self::finish) or drop.
pub struct MemoryWatch {
    gauge: MemoryGauge,
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl MemoryWatch {
    /// Starts watching `gauge`; `every` prints a line to stderr at that interval.
    pub fn start(gauge: MemoryGauge, every: Option<Duration>) -> Self {
        let (stop, thread) = match every {
            Some(every) => {
                let (stop, stopped) = mpsc::channel::<()>();
                let g = gauge.clone();
                let started = Instant::now();
                let thread = std::thread::spawn(move || {
                    while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(every) {
                        say(&trace_line(&g, started.elapsed()));
                    }
                });
                (Some(stop), Some(thread))
            }
            None => (None, None),
        };
        Self {
            gauge,
            stop,
            thread,
        }
    }

    /// Stops the trace; returns the summary line: the pool's peak and limit, the process's peak
    /// RSS.
    pub fn finish(mut self) -> String {
        self.stop_thread();
        let pool = match self.gauge.limit() {
            Some(limit) => format!(
                "peak {} in the memory pool (limit {})",
                mib(self.gauge.peak()),
                mib(limit)
            ),
            None => "no memory pool".to_owned(),
        };
        match status_kib("VmHWM:") {
            Some(kib) => format!(
                "memory: {pool}; peak RSS of the process {}",
                mib(kib * 1024)
            ),
            None => format!("memory: {pool}"),
        }
    }

    fn stop_thread(&mut self) {
        drop(self.stop.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for MemoryWatch {
    fn drop(&mut self) {
        self.stop_thread();
    }
}

#[allow(clippy::print_stderr)]
fn say(line: &str) {
    eprintln!("{line}");
}

/// `memory:    12.3 s pool 480 MiB (peak 512 MiB), RSS 820 MiB (peak 889 MiB); largest:
/// ExternalSorter[0] 300 MiB, RepartitionExec[1] 64 MiB, GroupedHashAggregateStream[0] 40 MiB`
/// (the pool's largest consumers, when it has any).
fn trace_line(gauge: &MemoryGauge, elapsed: Duration) -> String {
    let mut line = format!(
        "memory: {:>7.1} s pool {} (peak {})",
        elapsed.as_secs_f64(),
        mib(gauge.reserved()),
        mib(gauge.peak())
    );
    if let (Some(rss), Some(hwm)) = (status_kib("VmRSS:"), status_kib("VmHWM:")) {
        line.push_str(&format!(
            ", RSS {} (peak {})",
            mib(rss * 1024),
            mib(hwm * 1024)
        ));
    }
    let largest = gauge.largest(LARGEST);
    if !largest.is_empty() {
        let named: Vec<String> = largest
            .iter()
            .map(|c| format!("{} {}", c.name, mib(c.reserved)))
            .collect();
        line.push_str(&format!("; largest: {}", named.join(", ")));
    }
    line
}

/// How many of the pool's largest consumers a trace line names.
const LARGEST: usize = 3;

fn mib(bytes: usize) -> String {
    format!("{:.0} MiB", bytes as f64 / MIB)
}

/// A `/proc/self/status` field in KiB (Linux).
fn status_kib(field: &str) -> Option<usize> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line[field.len()..].split_whitespace().next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_trace_and_the_summary_name_the_pool_and_the_process() {
        let gauge = MemoryGauge::default();
        let line = trace_line(&gauge, Duration::from_millis(1500));
        assert!(
            line.starts_with("memory:     1.5 s pool 0 MiB (peak 0 MiB)"),
            "{line}"
        );
        assert!(line.contains(", RSS "), "{line}");
        let watch = MemoryWatch::start(gauge, Some(Duration::from_millis(10)));
        std::thread::sleep(Duration::from_millis(30));
        let summary = watch.finish();
        assert!(
            summary.starts_with("memory: no memory pool; peak RSS of the process "),
            "{summary}"
        );
    }
}
