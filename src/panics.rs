//! Panics are bugs; they reach the user as one error, not as a Rust panic message with a
//! backtrace. The hook installed here records the first panic (thread, place, message) without
//! printing it; `main` reports it with the error the panic turned into (DataFusion hands a task's
//! panic back as an error, a generator thread's is joined as one) or, for a panic that reached the
//! main thread, as an error of its own; exit code 1 either way. With `RUST_BACKTRACE` set (not
//! `0`) Rust's own report, with the backtrace, is printed as well.

use std::fmt;
use std::sync::OnceLock;

/// A recorded panic.
#[derive(Debug, Clone)]
pub struct PanicInfo {
    thread: String,
    location: String,
    message: String,
}

impl fmt::Display for PanicInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "thread '{}' at {}: {}",
            self.thread, self.location, self.message
        )
    }
}

static FIRST: OnceLock<PanicInfo> = OnceLock::new();

/// Installs the hook (once, at start-up).
pub fn install() {
    let backtrace = std::env::var_os("RUST_BACKTRACE").is_some_and(|v| v != "0");
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "(no message)".into());
        let _ = FIRST.set(PanicInfo {
            thread: std::thread::current()
                .name()
                .unwrap_or("unnamed")
                .to_string(),
            location: info
                .location()
                .map(|l| format!("{}:{}", short_path(l.file()), l.line()))
                .unwrap_or_else(|| "an unknown place".into()),
            message,
        });
        if backtrace {
            default(info);
        }
    }));
}

/// A dependency's source path from the crate's folder on (`datafusion-physical-plan-55.2.0/src/..`),
/// not from the cargo registry's.
fn short_path(file: &str) -> &str {
    match file.split_once("/registry/src/") {
        Some((_, rest)) => rest
            .split_once('/')
            .map_or(rest, |(_, crate_path)| crate_path),
        None => file,
    }
}

/// `BIBFLOW_TEST_PANIC` set: the command panics on the main thread, for the test of how such a
/// panic is reported (`tests/it/reliability.rs`); nothing else reads it.
pub fn test_trigger() {
    if std::env::var_os("BIBFLOW_TEST_PANIC").is_some() {
        panic!("BIBFLOW_TEST_PANIC is set");
    }
}

/// The first panic of this process, if there was one.
pub fn first() -> Option<PanicInfo> {
    FIRST.get().cloned()
}

/// The error of a panic that reached the main thread.
#[derive(Debug)]
pub struct Panicked(pub Option<PanicInfo>);

impl fmt::Display for Panicked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "internal error: bibflow panicked (a bug, not a problem with your data or command)"
        )?;
        if let Some(p) = &self.0 {
            write!(f, ": {}", p.message)?;
        }
        write!(f, "; RUST_BACKTRACE=1 shows where")
    }
}

impl std::error::Error for Panicked {}
