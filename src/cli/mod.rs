//! The command line: argument parsing and the subcommands. `main` only calls [`run`].

pub mod check;
mod codes;
mod completions;
mod diff;
mod explain;
mod fmt;
mod r#gen;
mod lint;
mod lsp;
mod progress;
mod prove;
mod schema;
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
    /// `prove`: the claim could be neither proven nor refuted.
    Unknown = 3,
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
    about = "A declarative rules engine for payment-platform onboarding",
    after_help = EXIT_CODES_HELP,
    after_long_help = EXIT_CODES_HELP
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
    /// Prove that a policy change only tightens (or changes nothing), for every possible application.
    Prove(prove::ProveArgs),
    /// Write generated applications (for load tests) to stdout.
    Gen(r#gen::GenArgs),
    /// Explain a diagnostic code (`E0020`), or list every code.
    Codes(codes::CodesArgs),
    /// Print the policy's application schema as JSON Schema (draft 2020-12).
    Schema(schema::SchemaArgs),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    Completions(completions::CompletionsArgs),
    /// Print the manual page (roff) to stdout.
    Man(completions::ManArgs),
    /// Serve the policy language to an editor (Language Server Protocol on stdio).
    Lsp(lsp::LspArgs),
    /// Serve decisions over HTTP, reloading the policy on SIGHUP or file changes.
    Serve(serve::ServeArgs),
}

/// The exit codes, shown at the end of `--help`.
const EXIT_CODES_HELP: &str = "\
Exit status:
  0  success: nothing rejected, nothing changed, no failure
  1  a finding: an application rejected (check), a decision changed (diff),
     a test failed (test), a warning with --deny-warnings (lint), a file
     not formatted (fmt --check)
  2  an error: the policy does not compile, an input cannot be read, a
     record is an input error, or the command line is wrong

Policies: --policy takes a file, a directory of .rules files, or `shipped`
(the policy built into this binary; `kycrules --version` names it).";

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
    /// A policy file or directory of `.rules` files (repeatable), or `shipped`
    /// (`shipped:NAME`) for a policy embedded in the binary; default: `shipped`.
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
    /// Where the policy comes from, as reports name it: `shipped` or the paths.
    pub fn origin(&self) -> String {
        if self.policy.is_empty() {
            "shipped".into()
        } else {
            self.policy
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        }
    }

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
        // Buffered: a policy may have tens of thousands of diagnostics.
        let mut err = std::io::BufWriter::new(std::io::stderr().lock());
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
        let _ = err.flush();
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

/// The inputs a command was given, or stdin (`-`) when none. When stdin is
/// read from a terminal, says so on stderr, so a run waiting for input does
/// not look stuck.
pub(crate) fn inputs_or_stdin(inputs: &[PathBuf]) -> Vec<PathBuf> {
    let inputs = if inputs.is_empty() {
        vec![PathBuf::from("-")]
    } else {
        inputs.to_vec()
    };
    if inputs.iter().any(|p| p.as_os_str() == "-") && std::io::stdin().is_terminal() {
        eprintln!("{STDIN_NOTE}");
    }
    for dir in inputs.iter().filter(|p| p.is_dir()) {
        let n = kycrules::input::skipped_files(dir);
        if n > 0 {
            eprintln!(
                "note: {}: skipped {n} file{} not ending in .yaml, .yml, .json or .jsonl",
                dir.display(),
                if n == 1 { "" } else { "s" }
            );
        }
    }
    inputs
}

/// What a command says when it reads applications from a terminal.
pub(crate) const STDIN_NOTE: &str =
    "kycrules: reading applications from stdin (end with Ctrl-D; give files or directories to read those)";

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
    if let Some(flag) = std::env::args().nth(1)
        && (flag == "--version" || flag == "-V")
    {
        let mut out = std::io::stdout().lock();
        if write_out(&mut out, &version_text()) {
            let _ = out.flush();
        }
        return ExitStatus::Success.into();
    }
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
        Command::Prove(args) => prove::run(&args),
        Command::Codes(args) => codes::run(&args),
        Command::Schema(args) => schema::run(&args),
        Command::Completions(args) => completions::run(&args),
        Command::Man(args) => completions::man(&args),
        Command::Lsp(args) => lsp::run(&args),
        Command::Serve(args) => serve::run(args),
    };
    status.into()
}

/// `kycrules --version`: the binary's version, then each embedded policy's
/// name, version and content hash (the `policy` stamp of its decisions).
fn version_text() -> String {
    let mut text = format!("kycrules {}\n", env!("CARGO_PKG_VERSION"));
    for p in kycrules::policy::POLICIES {
        let (name, version, hash) = match kycrules::Policy::from_sources(p.sources()) {
            Ok(policy) => (
                policy.name().to_owned(),
                policy.version().to_owned(),
                policy.hash().to_owned(),
            ),
            Err(_) => ("(does not compile)".to_owned(), String::new(), String::new()),
        };
        text.push_str(&format!("{}: policy {name} {version} hash {hash}\n", p.name));
    }
    text
}

/// Writes to stdout; a closed pipe ends the run quietly (as success).
pub(crate) fn write_out(out: &mut impl Write, text: &str) -> bool {
    match out.write_all(text.as_bytes()) {
        Ok(()) => true,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => false,
        Err(_) => false,
    }
}
