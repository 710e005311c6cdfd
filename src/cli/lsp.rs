//! `kycrules lsp`: the language server on stdin and stdout (see the
//! `kycrules-lsp` crate). Editors start it; it runs until the editor asks it
//! to exit.

use super::ExitStatus;
use clap::Args;

#[derive(Args, Debug)]
pub struct LspArgs {
    /// Accepted for editors that pass it; stdio is the only transport.
    #[arg(long)]
    pub stdio: bool,
}

pub fn run(_args: &LspArgs) -> ExitStatus {
    match kycrules_lsp::run_stdio() {
        Ok(()) => ExitStatus::Success,
        Err(e) => {
            eprintln!("error: the language server stopped: {e}");
            ExitStatus::Error
        }
    }
}
