//! The `tsmigrate` binary: everything happens in the library's `run`.

fn main() -> std::process::ExitCode {
    std::process::ExitCode::from(tsmigrate::run::run(std::env::args_os()))
}
