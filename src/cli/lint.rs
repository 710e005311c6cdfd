//! `kycrules lint`: warnings about a policy that compiles.

use super::{ErrorFormat, ExitStatus, PolicyArgs, write_out};
use clap::Args;
use kycrules::diag::{self, Diagnostic};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct LintArgs {
    #[command(flatten)]
    pub policy: PolicyArgs,
    /// Exit with status 1 when there is a warning.
    #[arg(long = "deny-warnings")]
    pub deny_warnings: bool,
    /// Policy files or directories, as with `--policy`; default: the shipped policy.
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
}

/// Lints the policy: warnings on stdout, a summary line on stderr; policy
/// errors on stderr (exit 2).
pub fn run(args: &LintArgs) -> ExitStatus {
    let paths: Vec<PathBuf> = args.policy.policy.iter().chain(&args.paths).cloned().collect();
    let (sources, mut diags) = if paths.is_empty() {
        (kycrules::policy::embedded(), Vec::new())
    } else {
        kycrules::policy::read(&paths)
    };
    let mut linted = kycrules::lint::lint_policy(&sources);
    if !diags.is_empty() {
        // A missing header or schema in a file that could not be read is no news.
        linted.retain(|d| d.span.is_some());
    }
    diags.append(&mut linted);
    if diags.iter().any(Diagnostic::is_error) {
        args.policy.print_diagnostics(&diags, &sources);
        return ExitStatus::Error;
    }
    let text = match args.policy.error_format {
        ErrorFormat::Json => diags
            .iter()
            .map(|d| format!("{}\n", diag::to_json(d, &sources)))
            .collect(),
        ErrorFormat::Human => diag::render_human(&diags, &sources, args.policy.styled(std::io::stdout().is_terminal())),
    };
    let mut out = std::io::stdout().lock();
    if write_out(&mut out, &text) {
        let _ = out.flush();
    }
    let summary = match diags.len() {
        0 => "no warnings".to_string(),
        1 => "1 warning".to_string(),
        n => format!("{n} warnings"),
    };
    eprintln!("lint: {summary}");
    if args.deny_warnings && !diags.is_empty() {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    }
}
