//! The `kycrules` command line: a thin front over the engine crate.

/// `eprintln!` that cannot panic: when stderr is closed (`2>&1 | head -1`)
/// the message is dropped and the run ends with its own status, never 101.
/// It shadows the standard macro in every subcommand, present and future.
macro_rules! eprintln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

/// `eprint!` that cannot panic (see `eprintln!`).
macro_rules! eprint {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stderr(), $($arg)*);
    }};
}

mod cli;

fn main() -> std::process::ExitCode {
    cli::run()
}
