//! # bibflow-fuzz
//!
//! A fuzzer that runs on the stable toolchain: seeded, structure-aware mutation of real records,
//! run in process against bibflow's readers and its saved-query catalog (issue 22, item 1).
//! Coverage-guided fuzzers (cargo-fuzz, cargo-afl) need a nightly toolchain or a clang/LLVM
//! matching rustc's, which these machines do not have; this one needs nothing but the workspace.
//!
//! | you want to...                                  | use                                  |
//! |-------------------------------------------------|--------------------------------------|
//! | know the targets and what each checks           | [`targets`]                          |
//! | run a target for a while                        | [`run::run`] (or `scripts/fuzz TARGET --minutes N`) |
//! | replay a saved finding or a regression input    | [`run::replay`] (or `scripts/fuzz replay DIR`) |
//! | mutate JSON, XML, gzip framing, a query header  | [`mutate`]                           |
//!
//! Findings of a run are saved as folders `DIR/TARGET/KIND-sSEED-iINDEX/` holding the input, under
//! the file name it was read as, and `finding.json`. A finding fixed becomes a regression input
//! under `fuzz/regressions/TARGET/`, replayed by the tests.
//!
//! This crate never prints; `bibflow-fuzz` (its binary) does.

pub mod error;
pub mod mutate;
pub mod rng;
pub mod run;
pub mod targets;

pub use error::{FuzzError, Result};

#[cfg(test)]
mod tests;
