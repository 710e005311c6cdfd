//! `kycrules completions SHELL` and `kycrules man`: shell completion scripts
//! and the manual page, both generated from the command line's definition.

use super::{Cli, ExitStatus, write_out};
use clap::{Args, CommandFactory};
use clap_complete::Shell;
use std::io::Write;

#[derive(Args, Debug)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: Shell,
}

#[derive(Args, Debug)]
pub struct ManArgs {}

pub fn run(args: &CompletionsArgs) -> ExitStatus {
    let mut cmd = Cli::command();
    let mut buf = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "kycrules", &mut buf);
    emit(&buf)
}

pub fn man(_args: &ManArgs) -> ExitStatus {
    let mut buf = Vec::new();
    if let Err(e) = clap_mangen::Man::new(Cli::command()).render(&mut buf) {
        eprintln!("error: cannot render the manual page: {e}");
        return ExitStatus::Error;
    }
    emit(&buf)
}

fn emit(buf: &[u8]) -> ExitStatus {
    let text = String::from_utf8_lossy(buf);
    let mut out = std::io::stdout().lock();
    if write_out(&mut out, &text) {
        let _ = out.flush();
    }
    ExitStatus::Success
}
