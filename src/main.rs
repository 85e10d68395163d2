//! The `tsmigrate` binary: everything happens in the library's `run`.

// Documents are millions of small allocations made on worker threads, where
// glibc's arenas grow slowly; mimalloc made a large diff about twice as fast.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    std::process::ExitCode::from(tsmigrate::run::run(std::env::args_os()))
}
