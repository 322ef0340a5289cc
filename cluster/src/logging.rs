//! Ballista's log lines on stderr, when `BIBFLOW_LOG` asks for them (`error`, `warn`, `info`,
//! `debug` or `trace`; unset: none). Ballista logs through the `log` crate; without a logger its
//! lines go nowhere, which keeps stderr for bibflow's own progress and errors.

use std::io::Write;

/// The environment variable that names the level.
pub const ENV: &str = "BIBFLOW_LOG";

struct StderrLogger {
    level: log::LevelFilter,
}

impl log::Log for StderrLogger {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= self.level
    }

    fn log(&self, record: &log::Record<'_>) {
        if self.enabled(record.metadata()) {
            let mut err = std::io::stderr().lock();
            let _ = writeln!(
                err,
                "[{} {}] {}",
                record.level(),
                record.target(),
                record.args()
            );
        }
    }

    fn flush(&self) {}
}

/// Installs the stderr logger at the level `BIBFLOW_LOG` names; nothing when it is unset, empty
/// or not a level, or when a logger is installed already.
pub fn init_from_env() {
    let Some(level) = std::env::var(ENV)
        .ok()
        .and_then(|v| v.trim().parse::<log::LevelFilter>().ok())
    else {
        return;
    };
    if level == log::LevelFilter::Off {
        return;
    }
    let logger = Box::leak(Box::new(StderrLogger { level }));
    if log::set_logger(logger).is_ok() {
        log::set_max_level(level);
    }
}
