//! `kycrules fmt`: rewrite policy files in the canonical layout, or with
//! `--check`, show how they differ from it.

mod diff;

use super::{ColorChoice, ExitStatus, styled, write_out};
use anstyle::{AnsiColor, Style};
use clap::Args;
use kycrules::fmt::{self, FormatError};
use kycrules::source::SourceMap;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

#[derive(Args, Debug)]
pub struct FmtArgs {
    /// Write nothing: print a diff for each file that is not formatted, and exit 1 if any is not.
    #[arg(long)]
    pub check: bool,
    /// When to colour the output (`NO_COLOR` turns `auto` off).
    #[arg(long, value_enum, default_value = "auto")]
    pub color: ColorChoice,
    /// Policy files or directories of `.rules` files (default: `rules/`); `-` formats stdin to stdout.
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
}

/// What became of one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Formatted,
    Changed,
    Error,
}

pub fn run(args: &FmtArgs) -> ExitStatus {
    let paths = if args.paths.is_empty() {
        let default = PathBuf::from("rules");
        if !default.is_dir() {
            eprintln!("error: no `rules/` directory here\nhelp: name the policy files or directories to format");
            return ExitStatus::Error;
        }
        vec![default]
    } else {
        args.paths.clone()
    };
    let mut files = Vec::new();
    let mut statuses = Vec::new();
    for path in &paths {
        if path.as_os_str() == "-" {
            files.push(path.clone());
        } else if path.is_dir() {
            let before = files.len();
            files.extend(kycrules::files::collect(path, &["rules"]));
            if files.len() == before {
                eprintln!(
                    "error: no `.rules` files in `{}`\nhelp: a policy directory holds files ending in `.rules`",
                    path.display()
                );
                statuses.push(Status::Error);
            }
        } else {
            files.push(path.clone());
        }
    }
    let mut out = std::io::stdout().lock();
    for file in &files {
        statuses.push(one_file(args, file, &mut out));
    }
    let _ = out.flush();
    summarize(args.check, &statuses)
}

fn summarize(check: bool, statuses: &[Status]) -> ExitStatus {
    let count = |s: Status| statuses.iter().filter(|&&x| x == s).count();
    let files = |n: usize| format!("{n} file{}", if n == 1 { "" } else { "s" });
    let (changed, errors) = (count(Status::Changed), count(Status::Error));
    let mut parts = Vec::new();
    if changed > 0 {
        let verb = if check { "would be reformatted" } else { "reformatted" };
        parts.push(format!("{} {verb}", files(changed)));
    }
    let formatted = count(Status::Formatted);
    if formatted > 0 {
        parts.push(format!("{} already formatted", files(formatted)));
    }
    if errors > 0 {
        parts.push(format!("{} not formatted because of errors", files(errors)));
    }
    if parts.is_empty() {
        parts.push("no files".to_string());
    }
    eprintln!("fmt: {}", parts.join(", "));
    if errors > 0 {
        ExitStatus::Error
    } else if check && changed > 0 {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    }
}

fn one_file(args: &FmtArgs, path: &Path, out: &mut impl Write) -> Status {
    let stdin = path.as_os_str() == "-";
    let name = if stdin {
        "<stdin>".to_string()
    } else {
        path.to_string_lossy().replace('\\', "/")
    };
    let text = match read(path, stdin) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error[{}]: cannot read `{name}`: {e}", kycrules::diag::READ);
            return Status::Error;
        }
    };
    let formatted = match fmt::format(0, &text) {
        Ok(f) => f,
        Err(FormatError::Syntax(diags)) => {
            let mut sources = SourceMap::default();
            sources.add(name, text);
            let styled = styled(args.color, std::io::stderr().is_terminal());
            eprint!("{}", kycrules::diag::render_human(&diags, &sources, styled));
            return Status::Error;
        }
        Err(FormatError::Changed) => {
            eprintln!(
                "error: formatting `{name}` would change its meaning or lose a comment, so it is left as it is\nhelp: this is a bug in `kycrules fmt`; please report it with the file"
            );
            return Status::Error;
        }
    };
    let changed = formatted != text;
    if args.check {
        if changed {
            let d = diff::unified(&text, &formatted, &name, &format!("{name} (formatted)"));
            let d = if styled(args.color, std::io::stdout().is_terminal()) {
                paint(&d)
            } else {
                d
            };
            write_out(out, &d);
        }
    } else if stdin {
        write_out(out, &formatted);
    } else if changed && let Err(e) = std::fs::write(path, &formatted) {
        eprintln!("error[{}]: cannot write `{name}`: {e}", kycrules::diag::READ);
        return Status::Error;
    }
    if changed { Status::Changed } else { Status::Formatted }
}

fn read(path: &Path, stdin: bool) -> Result<String, String> {
    let max = kycrules::policy::MAX_POLICY_FILE;
    if stdin {
        kycrules::files::read_text(std::io::stdin().lock(), max)
    } else {
        kycrules::files::read_file(path, max)
    }
}

/// Colours a diff: removed lines red, added green, hunk headers cyan.
fn paint(diff: &str) -> String {
    let mut out = String::with_capacity(diff.len() + diff.len() / 4);
    for line in diff.split_inclusive('\n') {
        let style = if line.starts_with("---") || line.starts_with("+++") {
            Style::new().bold()
        } else if line.starts_with("@@") {
            Style::new().fg_color(Some(AnsiColor::Cyan.into()))
        } else if line.starts_with('-') {
            Style::new().fg_color(Some(AnsiColor::Red.into()))
        } else if line.starts_with('+') {
            Style::new().fg_color(Some(AnsiColor::Green.into()))
        } else {
            Style::new()
        };
        let body = line.strip_suffix('\n').unwrap_or(line);
        out.push_str(&format!("{style}{body}{style:#}"));
        if line.ends_with('\n') {
            out.push('\n');
        }
    }
    out
}
