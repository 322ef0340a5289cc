//! Progress bars on stderr: a thread polls the library's counters and redraws the bar.
//! Hidden with `--quiet` and when stderr is not a terminal.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use bibflow_datasets::ingest::Progress;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A bar redrawn every 100 ms by `update` until dropped.
pub struct PollingBar {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl PollingBar {
    /// Starts a bar with `template` (indicatif syntax); `update` reads counters into it.
    pub fn start(
        template: &str,
        quiet: bool,
        update: impl Fn(&ProgressBar) + Send + 'static,
    ) -> Self {
        let target = if quiet {
            ProgressDrawTarget::hidden()
        } else {
            ProgressDrawTarget::stderr()
        };
        let bar = ProgressBar::with_draw_target(Some(0), target);
        bar.set_style(ProgressStyle::with_template(template).expect("valid template"));
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            loop {
                let done = flag.load(Ordering::Relaxed);
                update(&bar);
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

    /// The ingest bar: bytes read of all input bytes, files and records.
    pub fn ingest(progress: Arc<Progress>, quiet: bool) -> Self {
        Self::start(
            "{spinner} [{elapsed_precise}] {bar:30} {binary_bytes}/{binary_total_bytes} \
             ({binary_bytes_per_sec}) {msg}",
            quiet,
            move |bar| {
                bar.set_length(progress.bytes_total.load(Ordering::Relaxed));
                bar.set_position(progress.bytes_read.load(Ordering::Relaxed));
                bar.set_message(format!(
                    "files {}/{}, records {} ({} rejected)",
                    progress.files_done.load(Ordering::Relaxed),
                    progress.files_total.load(Ordering::Relaxed),
                    progress.records_read.load(Ordering::Relaxed),
                    progress.records_rejected.load(Ordering::Relaxed),
                ));
            },
        )
    }
}

impl Drop for PollingBar {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
