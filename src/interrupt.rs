//! Ctrl-C and SIGTERM: the running command is dropped (not killed), so that what it holds is
//! released on the way out: computed views' spill files, DataFusion's spill folder, staging
//! folders. A second signal exits at once.

use std::process::ExitCode;

use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

/// Exit code after an interruption: 128 + SIGINT, as shells report it.
pub const EXIT_INTERRUPTED: u8 = 130;

/// A future that completes when the first SIGINT or SIGTERM arrives. Signals are watched on a
/// thread of their own; the second one exits the process with [`EXIT_INTERRUPTED`].
pub fn watch() -> std::io::Result<tokio::sync::oneshot::Receiver<i32>> {
    let mut signals = Signals::new([SIGINT, SIGTERM])?;
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name("bibflow-signals".into())
        .spawn(move || {
            let mut seen = signals.forever();
            if let Some(signal) = seen.next() {
                let _ = tx.send(signal);
            }
            if seen.next().is_some() {
                std::process::exit(i32::from(EXIT_INTERRUPTED));
            }
        })?;
    Ok(rx)
}

/// What `main` returns after an interruption, once the command has been dropped.
#[allow(clippy::print_stderr)]
pub fn interrupted(signal: i32) -> ExitCode {
    let name = if signal == SIGTERM {
        "SIGTERM"
    } else {
        "Ctrl-C"
    };
    eprintln!("interrupted ({name}): stopped, temporary files removed");
    ExitCode::from(EXIT_INTERRUPTED)
}
