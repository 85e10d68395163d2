//! The `tsmigrate` binary: parse → one runtime → `commands::run` → exit
//! code (a closed stdout is success). The library does the work.

use std::process::ExitCode;

use tsmigrate::cli::{self, ColorChoice};
use tsmigrate::config::Environment;
use tsmigrate::error::ExitStatus;
use tsmigrate::output::{ColorMode, Printer};

// Documents are millions of small allocations made on worker threads, where
// glibc's arenas grow slowly; mimalloc made a large diff about twice as fast.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let env = Environment::capture();
    let cli = match cli::parse(std::env::args_os()) {
        Ok(cli) => cli,
        Err(code) => return ExitCode::from(code),
    };
    if matches!(
        cli.command,
        cli::Command::Apply(_) | cli::Command::Rollout(_) | cli::Command::Watch(_)
    ) {
        return_freed_memory_at_once();
    }
    let g = &cli.global;
    let mode = match g.color {
        ColorChoice::Auto => ColorMode::Auto,
        ColorChoice::Always => ColorMode::Always,
        ColorChoice::Never => ColorMode::Never,
    };
    let printer = Printer::new(mode, env.no_color(), g.quiet, g.verbose);
    printer.init_logging();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            printer.error(&tsmigrate::Error::Runtime(e));
            return ExitCode::from(1);
        }
    };
    let result = runtime.block_on(tsmigrate::commands::run(cli, printer.clone(), env));
    if let Err(e) = &result {
        printer.error(e);
    }
    // Tasks still waiting (a slow logout) do not hold the exit up.
    runtime.shutdown_background();
    ExitCode::from(ExitStatus::from(&result).0)
}

/// An apply holds the documents of two clusters at once, read on several
/// threads; mimalloc keeps what one thread frees for 10 ms before giving
/// it back, and another thread's reads meanwhile take fresh pages: purging
/// at once lowered an apply's peak memory by a fifth (108 → 86 MB at
/// `bench-export.sh`'s 1x). Its time goes to the network; a diff's, where
/// the delay saves work, keeps the default.
fn return_freed_memory_at_once() {
    // `mi_option_purge_delay` of mimalloc.h (v2 and v3 alike), just before
    // `use_numa_nodes`, which the bindings name; they do not name this one.
    const PURGE_DELAY: libmimalloc_sys::mi_option_t = libmimalloc_sys::mi_option_use_numa_nodes - 1;
    // SAFETY: mi_option_set only stores an option's value, which mimalloc
    // reads afresh each time it decides to purge; any value is valid.
    unsafe {
        libmimalloc_sys::mi_option_set(PURGE_DELAY, 0);
    }
}

/// mimalloc asks for transparent huge pages, and the kernel zeroes all 2 MiB
/// of one the first time any byte of it is touched: a diff held 85 MB where
/// it uses 69, an apply of 400 actions 47 MB for 22, and zeroing pages was
/// 40% of either's CPU time. Small pages cost only what is used. Run from
/// the ELF `.init_array`, before the Rust runtime's first allocation: the
/// pages touched before `main` would be huge ones already (a tenth of a
/// diff's time was zeroing the two of them).
#[cfg(target_os = "linux")]
#[used]
#[link_section = ".init_array"]
static NO_HUGE_PAGES: extern "C" fn() = no_huge_pages;

extern "C" fn no_huge_pages() {
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_THP_DISABLE takes integer arguments only and changes
    // nothing but this process's page-size policy; a kernel that does not
    // know it answers EINVAL, which leaves things as they were.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}
