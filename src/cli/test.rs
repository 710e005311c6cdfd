//! `kycrules test`: run a policy's test files (see [`kycrules::testing`]).

use super::check::parse_date;
use super::{ExitStatus, PolicyArgs, write_out};
use clap::{Args, ValueEnum};
use kycrules::date::Date;
use kycrules::ir::RuleSet;
use kycrules::testing::{self, TestError, TestFile};
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
}

#[derive(Args, Debug)]
pub struct TestArgs {
    #[command(flatten)]
    pub policy: PolicyArgs,
    /// Report format.
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
    /// Show, per rule, how many cases fired it and how many were near misses.
    #[arg(long)]
    pub coverage: bool,
    /// Fail unless at least this percentage of the rules is fired by some case.
    #[arg(long = "min-coverage", value_name = "PERCENT", value_parser = clap::value_parser!(u8).range(0..=100))]
    pub min_coverage: Option<u8>,
    /// Evaluate cases without `as_of` on this date, `YYYY-MM-DD` (default: today).
    #[arg(long = "as-of", value_name = "DATE", value_parser = parse_date)]
    pub as_of: Option<Date>,
    /// Test files or directories of them (`*.yaml`, `*.yml`); default: the
    /// `tests/` folder next to the policy, or the embedded policy's own tests
    /// (built into the binary) for `shipped` and when no `--policy` is given.
    pub paths: Vec<PathBuf>,
}

/// The largest test file read.
const MAX_TEST_FILE: u64 = 16 << 20;

pub fn run(args: &TestArgs) -> ExitStatus {
    let Some((rs, _sources)) = args.policy.load() else {
        return ExitStatus::Error;
    };
    let (paths, embedded) = if args.paths.is_empty() {
        default_paths(&args.policy.policy)
    } else {
        (args.paths.clone(), Vec::new())
    };
    let files = match load(&rs, &paths, &embedded) {
        Ok(files) => files,
        Err(errors) => {
            let mut err = std::io::stderr().lock();
            for e in &errors {
                let _ = writeln!(err, "{e}");
            }
            let n = errors.len();
            let _ = writeln!(err, "test files: {n} error{}", if n == 1 { "" } else { "s" });
            return ExitStatus::Error;
        }
    };
    let report = testing::run(&rs, &files, args.as_of.unwrap_or_else(Date::today));
    let text = match args.format {
        Format::Human => testing::human(&rs, &report, args.coverage),
        Format::Json => testing::json(&rs, &report, args.coverage || args.min_coverage.is_some()),
    };
    let mut out = std::io::stdout().lock();
    if write_out(&mut out, &text) {
        let _ = out.flush();
    }
    let mut status = if report.failed() > 0 {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    };
    if let Some(min) = args.min_coverage
        && !report.coverage.meets(min)
    {
        let never: Vec<&str> = report
            .coverage
            .rules
            .iter()
            .filter(|r| r.fired == 0)
            .filter_map(|r| rs.rules.get(r.rule).map(|r| r.id.as_str()))
            .collect();
        eprintln!(
            "error: rule coverage {:.1}% is below the minimum {min}%\n  help: no case fires {}",
            report.coverage.percent(),
            never.iter().map(|id| format!("`{id}`")).collect::<Vec<_>>().join(", ")
        );
        status = ExitStatus::Failure;
    }
    status
}

/// An embedded test file: (path in the repository, text).
type EmbeddedTest = (&'static str, &'static str);

/// The `tests/` folder next to each policy path, and the embedded tests of
/// each embedded policy named (the default one when none is).
fn default_paths(policy: &[PathBuf]) -> (Vec<PathBuf>, Vec<EmbeddedTest>) {
    let mut out: Vec<PathBuf> = Vec::new();
    let mut embedded: Vec<EmbeddedTest> = Vec::new();
    if policy.is_empty() {
        embedded.extend(
            kycrules::policy::POLICIES
                .iter()
                .take(1)
                .flat_map(|p| p.tests.iter().copied()),
        );
    }
    for p in policy {
        if let Some(spec) = p.to_str().filter(|s| kycrules::policy::is_shipped_name(s)) {
            // The policy loaded, so the name is known.
            if let Some(e) = kycrules::policy::shipped(spec) {
                embedded.extend(e.tests.iter().copied());
            }
            continue;
        }
        let dir = if p.is_dir() {
            p.clone()
        } else {
            p.parent().map(Path::to_path_buf).unwrap_or_default()
        };
        let tests = dir.join("tests");
        if !out.contains(&tests) {
            out.push(tests);
        }
    }
    (out, embedded)
}

/// Reads and parses every test file, in argument order (a directory's files
/// sorted); all errors of all files, or the files.
fn load(rs: &RuleSet, paths: &[PathBuf], embedded: &[EmbeddedTest]) -> Result<Vec<TestFile>, Vec<TestError>> {
    let mut parsed = Vec::new();
    let mut errors = Vec::new();
    for (name, text) in embedded {
        match testing::parse(rs, name, text) {
            Ok(t) => parsed.push(t),
            Err(mut e) => errors.append(&mut e),
        }
    }
    let global = |file: String, message: String, help: Option<&str>| TestError {
        file,
        line: None,
        message,
        help: help.map(str::to_owned),
    };
    for path in paths {
        let shown = path.to_string_lossy().replace('\\', "/");
        let mut files = Vec::new();
        if path.is_dir() {
            files = kycrules::files::collect(path, &["yaml", "yml"]);
            if files.is_empty() {
                let help = Some("test files end in `.yaml` or `.yml`; see rules/tests/README.md");
                errors.push(global(shown, "no test files in the directory".into(), help));
            }
        } else if path.exists() {
            files.push(path.clone());
        } else {
            let help = Some("give test files or directories, or put the tests in `tests/` next to the policy");
            errors.push(global(shown, "no such file or directory".into(), help));
        }
        for f in files {
            let name = f.to_string_lossy().replace('\\', "/");
            match read(&f) {
                Ok(text) => match testing::parse(rs, &name, &text) {
                    Ok(t) => parsed.push(t),
                    Err(mut e) => errors.append(&mut e),
                },
                Err(e) => errors.push(global(name, format!("cannot read the file: {e}"), None)),
            }
        }
    }
    if errors.is_empty() { Ok(parsed) } else { Err(errors) }
}

fn read(path: &Path) -> Result<String, String> {
    kycrules::files::read_file(path, MAX_TEST_FILE)
}
