//! The CPU check at start-up.
//!
//! bibflow's default build on x86-64 Linux targets `x86-64-v3` (AVX2, BMI2, FMA, ...: Intel
//! Haswell, AMD Excavator and later; `.cargo/config.toml`). The compiler may use those instructions
//! anywhere, so on an older CPU such a binary dies with "illegal instruction" at some unpredictable
//! point. Instead, `main` calls [`missing`] first and stops with an error that names what is
//! missing and how to build bibflow for that machine.
//!
//! The features checked are the ones this binary was compiled with (`cfg!(target_feature)`), so the
//! check follows the build flags: nothing is checked in a portable build
//! (`-C target-cpu=x86-64`), and AVX-512 is checked in a `-C target-cpu=native` build copied to a
//! machine without it. `std`'s `is_x86_feature_detected!` cannot do this: it answers `true`
//! without asking the CPU for every feature the binary was compiled with.
//!
//! Rust cannot compile one function for an older CPU than the rest of the crate, so the check is
//! written to need nothing beyond baseline x86-64 in practice: constant bit masks (no variable
//! shifts, which BMI2 would turn into `shrx`), a `u32` result rather than a `Vec`, and an error
//! written in pieces through `std` (built for baseline x86-64) rather than formatted by our code.
//! The compiled check was read back with `objdump` in the x86-64-v3 build (docs/benchmarks-udfs.md,
//! "x86-64-v3 as the default build").

use std::io::Write;

/// Which CPUID register a feature is reported in.
#[derive(Debug, Clone, Copy)]
enum Reg {
    /// Leaf 1, ECX.
    L1Ecx,
    /// Leaf 7 sub-leaf 0, EBX.
    L7Ebx,
    /// Leaf 7 sub-leaf 0, ECX.
    L7Ecx,
    /// Leaf 0x8000_0001, ECX.
    ExtEcx,
}

/// One x86 feature: its `target_feature` name, whether this binary was compiled with it, and
/// where CPUID reports it.
#[derive(Debug, Clone, Copy)]
struct Feature {
    name: &'static str,
    compiled: bool,
    reg: Reg,
    /// `1 << bit` of the CPUID register, computed at compile time.
    mask: u32,
    /// This feature's bit in a result mask: `1 << (its index in FEATURES)`.
    result: u32,
    /// Needs the operating system to save the AVX registers (OSXSAVE).
    avx_state: bool,
}

/// `feature!("avx2", L7Ebx, 5, true)`: name, CPUID register, bit, needs the OS to save the AVX
/// registers. The name is written once and used both as the name and in
/// `cfg!(target_feature = ...)`.
macro_rules! feature {
    ($name:literal, $reg:ident, $bit:literal, $avx_state:literal) => {
        Feature {
            name: $name,
            compiled: cfg!(target_feature = $name),
            reg: Reg::$reg,
            mask: 1 << $bit,
            result: 0,
            avx_state: $avx_state,
        }
    };
}

/// Every feature up to x86-64-v3, plus the AVX-512 ones a `target-cpu=native` build on a recent
/// server turns on. Bits: Intel SDM vol. 2A, CPUID; levels: the x86-64 psABI. A `static`, read in
/// place (a `const` array taken by value is copied with vector moves).
static FEATURES: [Feature; 22] = {
    let mut all = [
        // x86-64-v2
        feature!("sse3", L1Ecx, 0, false),
        feature!("ssse3", L1Ecx, 9, false),
        feature!("sse4.1", L1Ecx, 19, false),
        feature!("sse4.2", L1Ecx, 20, false),
        feature!("popcnt", L1Ecx, 23, false),
        feature!("cmpxchg16b", L1Ecx, 13, false),
        feature!("lahfsahf", ExtEcx, 0, false),
        // x86-64-v3
        feature!("avx", L1Ecx, 28, true),
        feature!("avx2", L7Ebx, 5, true),
        feature!("fma", L1Ecx, 12, true),
        feature!("f16c", L1Ecx, 29, true),
        feature!("bmi1", L7Ebx, 3, false),
        feature!("bmi2", L7Ebx, 8, false),
        feature!("lzcnt", ExtEcx, 5, false),
        feature!("movbe", L1Ecx, 22, false),
        feature!("xsave", L1Ecx, 26, false),
        // x86-64-v4, and what `native` adds on this project's machines
        feature!("avx512f", L7Ebx, 16, true),
        feature!("avx512dq", L7Ebx, 17, true),
        feature!("avx512cd", L7Ebx, 28, true),
        feature!("avx512bw", L7Ebx, 30, true),
        feature!("avx512vl", L7Ebx, 31, true),
        feature!("avx512vbmi", L7Ecx, 1, true),
    ];
    let mut i = 0;
    while i < all.len() {
        all[i].result = 1 << i;
        i += 1;
    }
    all
};

/// The CPUID registers the check reads.
#[derive(Debug, Clone, Copy)]
struct Cpu {
    l1_ecx: u32,
    l7_ebx: u32,
    l7_ecx: u32,
    ext_ecx: u32,
}

/// OSXSAVE: the operating system saves the extended registers (leaf 1 ECX bit 27). Linux sets it
/// on every CPU that has AVX.
const OSXSAVE: u32 = 1 << 27;

impl Cpu {
    #[cfg(target_arch = "x86_64")]
    fn read() -> Cpu {
        use std::arch::x86_64::{__cpuid, __cpuid_count};
        // Leaves above the highest supported one return garbage: ask for the maxima first.
        let max_basic = __cpuid(0).eax;
        let max_ext = __cpuid(0x8000_0000).eax;
        let l1_ecx = if max_basic >= 1 { __cpuid(1).ecx } else { 0 };
        let (l7_ebx, l7_ecx) = if max_basic >= 7 {
            let r = __cpuid_count(7, 0);
            (r.ebx, r.ecx)
        } else {
            (0, 0)
        };
        let ext_ecx = if max_ext >= 0x8000_0001 {
            __cpuid(0x8000_0001).ecx
        } else {
            0
        };
        Cpu {
            l1_ecx,
            l7_ebx,
            l7_ecx,
            ext_ecx,
        }
    }

    fn has(&self, f: &Feature) -> bool {
        let register = match f.reg {
            Reg::L1Ecx => self.l1_ecx,
            Reg::L7Ebx => self.l7_ebx,
            Reg::L7Ecx => self.l7_ecx,
            Reg::ExtEcx => self.ext_ecx,
        };
        register & f.mask != 0 && (!f.avx_state || self.l1_ecx & OSXSAVE != 0)
    }
}

/// The features this binary was compiled with that `cpu` lacks, as a mask over [`FEATURES`].
fn missing_on(cpu: &Cpu) -> u32 {
    let mut missing = 0;
    for f in &FEATURES {
        if f.compiled && !cpu.has(f) {
            missing |= f.result;
        }
    }
    missing
}

/// The features this binary was compiled with that this CPU (or its operating system) lacks;
/// 0 when it can run here. Always 0 off x86-64.
#[inline(never)]
pub fn missing() -> u32 {
    #[cfg(target_arch = "x86_64")]
    {
        missing_on(&Cpu::read())
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        0
    }
}

/// Writes the error for a CPU that lacks the features in `missing` (a mask from [`missing`]).
fn write_unsupported(out: &mut dyn Write, missing: u32) -> std::io::Result<()> {
    out.write_all(b"error: this bibflow binary was built for x86-64 CPUs with ")?;
    let mut first = true;
    for f in &FEATURES {
        if missing & f.result != 0 {
            if !first {
                out.write_all(b", ")?;
            }
            out.write_all(f.name.as_bytes())?;
            first = false;
        }
    }
    out.write_all(
        b", and this CPU lacks them. bibflow's default build targets x86-64-v3 (Intel Haswell, \
          AMD Excavator and later). Build it for this machine with\n  \
          RUSTFLAGS=\"-C target-cpu=x86-64\" cargo build --release --locked\n\
          (README, \"Building for other CPUs\").\n",
    )
}

/// Prints the error for [`missing`] features to stderr and exits with status 1.
#[inline(never)]
pub fn exit_unsupported(missing: u32) -> ! {
    // Nothing to do if stderr is gone: the exit status still says it failed.
    let _ = write_unsupported(&mut std::io::stderr().lock(), missing);
    std::process::exit(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn by_name(name: &str) -> &'static Feature {
        FEATURES
            .iter()
            .find(|f| f.name == name)
            .expect("a known feature")
    }

    fn message(missing: u32) -> String {
        let mut out = Vec::new();
        write_unsupported(&mut out, missing).expect("write to a Vec");
        String::from_utf8(out).expect("UTF-8")
    }

    /// A CPU with no features at all lacks exactly what the binary was compiled with; one with
    /// every feature lacks nothing.
    #[test]
    fn missing_is_what_was_compiled_in_and_the_cpu_lacks() {
        let none = Cpu {
            l1_ecx: 0,
            l7_ebx: 0,
            l7_ecx: 0,
            ext_ecx: 0,
        };
        let all = Cpu {
            l1_ecx: u32::MAX,
            l7_ebx: u32::MAX,
            l7_ecx: u32::MAX,
            ext_ecx: u32::MAX,
        };
        let compiled = FEATURES.iter().filter(|f| f.compiled).count();
        let named = message(missing_on(&none));
        for f in &FEATURES {
            assert_eq!(
                named.contains(&format!(" {},", f.name)),
                f.compiled,
                "{named}"
            );
        }
        assert_eq!(missing_on(&none).count_ones() as usize, compiled);
        assert_eq!(missing_on(&all), 0);
        // Every feature has its own result bit.
        let bits = FEATURES.iter().fold(0u32, |acc, f| acc | f.result);
        assert_eq!(bits.count_ones() as usize, FEATURES.len());
        // AVX without the operating system's support (OSXSAVE) is missing AVX.
        let no_os = Cpu {
            l1_ecx: !OSXSAVE,
            ..all
        };
        let avx = by_name("avx");
        assert_eq!(missing_on(&no_os) & avx.result != 0, avx.compiled);
        assert_eq!(missing_on(&no_os) & by_name("sse3").result, 0);
    }

    #[test]
    fn message_names_the_missing_features_and_the_portable_build() {
        let m = message(by_name("avx2").result | by_name("bmi2").result);
        assert!(
            m.contains("CPUs with avx2, bmi2, and this CPU lacks them"),
            "{m}"
        );
        assert!(
            m.contains("RUSTFLAGS=\"-C target-cpu=x86-64\" cargo build"),
            "{m}"
        );
    }

    /// The name Linux gives each feature in /proc/cpuinfo's `flags`.
    #[cfg(target_os = "linux")]
    fn linux_flag(feature: &str) -> &str {
        match feature {
            "sse3" => "pni",
            "sse4.1" => "sse4_1",
            "sse4.2" => "sse4_2",
            "cmpxchg16b" => "cx16",
            "lahfsahf" => "lahf_lm",
            "lzcnt" => "abm",
            other => other,
        }
    }

    /// Every CPUID bit the check reads agrees with the kernel's own detection, for all the
    /// features it knows (not only the ones this build was compiled with), and this test binary,
    /// which runs here, lacks nothing it was compiled with.
    #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
    #[test]
    fn cpuid_agrees_with_proc_cpuinfo() {
        let text = std::fs::read_to_string("/proc/cpuinfo").expect("read /proc/cpuinfo");
        let line = text
            .lines()
            .find(|l| l.starts_with("flags"))
            .expect("a flags line in /proc/cpuinfo");
        let (_, flags) = line.split_once(':').expect("flags: ...");
        let flags: Vec<&str> = flags.split_whitespace().collect();
        let cpu = Cpu::read();
        for f in &FEATURES {
            let kernel = flags.contains(&linux_flag(f.name));
            assert_eq!(
                cpu.has(f),
                kernel,
                "{}: CPUID and /proc/cpuinfo disagree",
                f.name
            );
        }
        assert_eq!(missing(), 0, "{}", message(missing()));
    }
}
