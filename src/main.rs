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
            printer.error(&tsmigrate::Error::Internal(format!(
                "cannot start the async runtime: {e}"
            )));
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
