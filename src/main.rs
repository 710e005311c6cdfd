//! The `kycrules` command line: a thin front over the engine crate.

mod cli;

fn main() -> std::process::ExitCode {
    cli::run()
}
