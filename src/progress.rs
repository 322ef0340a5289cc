//! The ingest progress bar: polls the library's counters and draws on stderr.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use bibflow_datasets::ingest::Progress;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A progress bar that follows a [`Progress`] until dropped. Hidden with `--quiet` and when stderr
/// is not a terminal.
pub struct IngestBar {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl IngestBar {
    pub fn start(progress: Arc<Progress>, quiet: bool) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let target = if quiet {
            ProgressDrawTarget::hidden()
        } else {
            ProgressDrawTarget::stderr()
        };
        let bar = ProgressBar::with_draw_target(Some(0), target);
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {bar:30} {binary_bytes}/{binary_total_bytes} \
                 ({binary_bytes_per_sec}) {msg}",
            )
            .expect("valid template"),
        );
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            loop {
                let done = flag.load(Ordering::Relaxed);
                bar.set_length(progress.bytes_total.load(Ordering::Relaxed));
                bar.set_position(progress.bytes_read.load(Ordering::Relaxed));
                bar.set_message(format!(
                    "files {}/{}, records {} ({} rejected)",
                    progress.files_done.load(Ordering::Relaxed),
                    progress.files_total.load(Ordering::Relaxed),
                    progress.records_read.load(Ordering::Relaxed),
                    progress.records_rejected.load(Ordering::Relaxed),
                ));
                if done {
                    bar.finish_and_clear();
                    break;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        });
        Self {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for IngestBar {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
