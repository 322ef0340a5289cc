//! The start-up CPU check (src/cpu.rs), on emulated older CPUs.
//!
//! The default build targets x86-64-v3 (`.cargo/config.toml`). These tests run the real `bibflow`
//! binary under QEMU's user-mode emulator with older CPU models, which raise "illegal instruction"
//! for AVX code just as the real CPUs would (checked when this test was written: an AVX2 loop dies
//! with signal 4 under `-cpu Nehalem`). The binary must stop with bibflow's own error instead. CI
//! installs QEMU (`apt-get install qemu-user`); without it these tests fail rather than skip.

#![cfg(all(target_arch = "x86_64", target_os = "linux"))]

use std::process::{Command, Output};

/// Runs `bibflow --version` on an emulated CPU model.
fn bibflow_on(cpu_model: &str) -> Output {
    Command::new("qemu-x86_64")
        .args([
            "-cpu",
            cpu_model,
            env!("CARGO_BIN_EXE_bibflow"),
            "--version",
        ])
        .output()
        .expect(
            "qemu-x86_64 runs (the CPU-check tests need QEMU's user-mode emulator: \
             apt-get install qemu-user; .ci/run installs it)",
        )
}

fn describe(out: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Nehalem (2008: SSE4.2, no AVX) and Sandy Bridge (2011: AVX, no AVX2). A build for x86-64-v3
/// must refuse both with an error naming AVX2 and the portable build, and exit with status 1 (not
/// die of signal 4); a portable build runs on both.
#[test]
fn an_x86_64_v3_build_refuses_older_cpus_with_a_clear_error() {
    for model in ["Nehalem", "SandyBridge"] {
        let out = bibflow_on(model);
        let stderr = String::from_utf8_lossy(&out.stderr);
        if cfg!(target_feature = "avx2") {
            assert_eq!(out.status.code(), Some(1), "{model}: {}", describe(&out));
            assert!(
                stderr.contains("error: this bibflow binary was built for x86-64 CPUs with"),
                "{model}: {}",
                describe(&out)
            );
            assert!(stderr.contains("avx2"), "{model}: {}", describe(&out));
            assert!(
                stderr.contains("target-cpu=x86-64\""),
                "{model}: {}",
                describe(&out)
            );
            assert!(out.stdout.is_empty(), "{model}: {}", describe(&out));
        } else {
            // Built without AVX2 (e.g. RUSTFLAGS="-C target-cpu=x86-64"): nothing to refuse.
            assert!(out.status.success(), "{model}: {}", describe(&out));
        }
    }
}

/// Haswell (2013) is x86-64-v3: the default build runs on it. A build with AVX-512 (e.g.
/// `target-cpu=native` on this project's machines) refuses it, naming avx512f.
#[test]
fn the_default_build_runs_on_a_haswell_cpu() {
    let out = bibflow_on("Haswell");
    if cfg!(target_feature = "avx512f") {
        assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
        assert!(String::from_utf8_lossy(&out.stderr).contains("avx512f"));
    } else {
        assert!(out.status.success(), "{}", describe(&out));
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(stdout.starts_with("bibflow "), "{}", describe(&out));
    }
}
