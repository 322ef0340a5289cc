//! Progress bars on stderr: a thread polls the library's counters and redraws the bar.
//! Hidden with `--quiet` and when stderr is not a terminal.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::Duration;

use bibflow_datasets::source::Progress;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A bar redrawn every 100 ms by `update` until dropped. Dropping it stops the thread at once
/// (it does not wait out the 100 ms), so a short command is not held up by its bar.
pub struct PollingBar {
    /// Dropped to stop the thread.
    stop: Option<mpsc::Sender<()>>,
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
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::spawn(move || {
            update(&bar);
            while let Err(RecvTimeoutError::Timeout) =
                stopped.recv_timeout(Duration::from_millis(100))
            {
                update(&bar);
            }
            bar.finish_and_clear();
        });
        Self {
            stop: Some(stop),
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
        self.stop = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
