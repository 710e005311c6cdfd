//! The command line: argument parsing and the subcommands. `main` only calls [`run`].

pub mod check;
mod codes;
mod diff;
mod explain;
mod fmt;
mod r#gen;
mod lint;
mod progress;
mod serve;
mod test;

use clap::{Args, Parser, Subcommand, ValueEnum};
use kycrules::compile::Compiled;
use kycrules::diag::{self, Diagnostic};
use kycrules::ir::RuleSet;
use kycrules::source::SourceMap;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// Nothing rejected, nothing failed.
    Success = 0,
    /// At least one application rejected (or, for `fmt --check`/`lint`/`test`/`diff`, a finding).
    Failure = 1,
    /// The policy did not compile, an input could not be read, or a record was an input error.
    Error = 2,
}

impl From<ExitStatus> for ExitCode {
    fn from(s: ExitStatus) -> ExitCode {
        ExitCode::from(s as u8)
    }
}

#[derive(Parser, Debug)]
#[command(
    name = "kycrules",
    version,
    about = "A declarative rules engine for payment-platform onboarding"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Evaluate applications against a policy.
    Check(check::CheckArgs),
    /// Run a policy's tests: applications with the decisions they must get.
    Test(test::TestArgs),
    /// Warn about what a policy compiles with but its author should look at.
    Lint(lint::LintArgs),
    /// Explain one application's decision, rule by rule.
    Explain(explain::ExplainArgs),
    /// Format policy files in the canonical layout (`--check`: show the differences).
    Fmt(fmt::FmtArgs),
    /// Compare two policies' decisions on the same applications.
    Diff(diff::DiffArgs),
    /// Write generated applications (for load tests) to stdout.
    Gen(r#gen::GenArgs),
    /// Explain a diagnostic code (`E0020`), or list every code.
    Codes(codes::CodesArgs),
    /// Serve decisions over HTTP, reloading the policy on SIGHUP or file changes.
    Serve(serve::ServeArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ErrorFormat {
    Human,
    Json,
}

/// Options shared by the commands that load a policy.
#[derive(Args, Debug, Clone)]
pub struct PolicyArgs {
    /// A policy file or directory of `.rules` files (repeatable); default: the shipped policy.
    #[arg(long = "policy", value_name = "PATH")]
    pub policy: Vec<PathBuf>,
    /// When to colour the output (`NO_COLOR` turns `auto` off).
    #[arg(long, value_enum, default_value = "auto")]
    pub color: ColorChoice,
    /// How to print policy errors.
    #[arg(long = "error-format", value_enum, default_value = "human")]
    pub error_format: ErrorFormat,
}

impl PolicyArgs {
    /// Whether stderr/stdout output should be coloured.
    pub fn styled(&self, terminal: bool) -> bool {
        styled(self.color, terminal)
    }

    /// Reads and compiles the policy, printing every diagnostic to stderr.
    /// `None` when the policy has an error.
    pub fn load(&self) -> Option<(RuleSet, SourceMap)> {
        let (sources, mut read_errors) = if self.policy.is_empty() {
            (kycrules::policy::embedded(), Vec::new())
        } else {
            kycrules::policy::read(&self.policy)
        };
        if !read_errors.is_empty() {
            // What could not be read explains everything after it; report only that.
            self.print_diagnostics(&read_errors, &sources);
            return None;
        }
        let Compiled {
            ruleset,
            mut diagnostics,
        } = kycrules::policy::build(&sources);
        read_errors.append(&mut diagnostics);
        self.print_diagnostics(&read_errors, &sources);
        if read_errors.iter().any(Diagnostic::is_error) {
            return None;
        }
        ruleset.map(|rs| (rs, sources))
    }

    pub fn print_diagnostics(&self, diags: &[Diagnostic], sources: &SourceMap) {
        if diags.is_empty() {
            return;
        }
        let mut err = std::io::stderr().lock();
        let _ = match self.error_format {
            ErrorFormat::Json => diags
                .iter()
                .try_for_each(|d| writeln!(err, "{}", diag::to_json(d, sources))),
            ErrorFormat::Human => {
                let styled = self.styled(std::io::stderr().is_terminal());
                let text = diag::render_human(diags, sources, styled);
                let errors = diags.iter().filter(|d| d.is_error()).count();
                let warnings = diags.len() - errors;
                let mut summary = Vec::new();
                if errors > 0 {
                    summary.push(format!("{errors} error{}", if errors == 1 { "" } else { "s" }));
                }
                if warnings > 0 {
                    summary.push(format!("{warnings} warning{}", if warnings == 1 { "" } else { "s" }));
                }
                writeln!(err, "{text}policy: {}", summary.join(", "))
            }
        };
    }
}

/// Warns on stderr when a policy lacks the requested message language.
pub(crate) fn warn_missing_language(rs: &RuleSet, lang: &str) {
    if !rs.languages.iter().any(|l| l == lang) {
        eprintln!(
            "warning: policy `{}` has no language `{lang}`; messages are in `{}`",
            rs.name,
            rs.languages.first().map_or("", String::as_str)
        );
    }
}

/// The inputs a command was given, or stdin (`-`) when none.
pub(crate) fn inputs_or_stdin(inputs: &[PathBuf]) -> Vec<PathBuf> {
    if inputs.is_empty() {
        vec![PathBuf::from("-")]
    } else {
        inputs.to_vec()
    }
}

/// Whether to colour output: `--color`, else a terminal without `NO_COLOR`.
pub fn styled(color: ColorChoice, terminal: bool) -> bool {
    match color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
    }
}

/// Runs the command line; the process exit code.
pub fn run() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitStatus::Error.into()
            } else {
                ExitStatus::Success.into()
            };
        }
    };
    let status = match cli.command {
        Command::Check(args) => check::run(&args),
        Command::Test(args) => test::run(&args),
        Command::Lint(args) => lint::run(&args),
        Command::Explain(args) => explain::run(&args),
        Command::Fmt(args) => fmt::run(&args),
        Command::Diff(args) => diff::run(&args),
        Command::Gen(args) => r#gen::run(&args),
        Command::Codes(args) => codes::run(&args),
        Command::Serve(args) => serve::run(args),
    };
    status.into()
}

/// Writes to stdout; a closed pipe ends the run quietly (as success).
pub(crate) fn write_out(out: &mut impl Write, text: &str) -> bool {
    match out.write_all(text.as_bytes()) {
        Ok(()) => true,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => false,
        Err(_) => false,
    }
}
