//! `kycrules check`: evaluate applications and report decisions.

use super::progress::Progress;
use super::{ExitStatus, PolicyArgs, write_out};
use clap::{Args, ValueEnum};
use kycrules::batch;
use kycrules::date::Date;
use kycrules::eval::{DecisionKind, Options};
use kycrules::exec;
use kycrules::input::{self, Unit};
use kycrules::ir::RuleSet;
use kycrules::read::{Converted, to_record};
use kycrules::report::{self, JsonWriter, Outcome, Palette, Summary};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
}

#[derive(Args, Debug)]
pub struct CheckArgs {
    #[command(flatten)]
    pub policy: PolicyArgs,
    #[command(flatten)]
    pub run: RunArgs,
    /// Read and convert the records, evaluate nothing, print only a count
    /// (the baseline of the end-to-end benchmark).
    #[arg(long = "parse-only", hide = true)]
    pub parse_only: bool,
    /// Show card and document numbers (fields marked `sensitive`) in full in
    /// messages; by default all but the last four characters are masked.
    #[arg(long = "show-pii")]
    pub show_pii: bool,
    /// Application files or directories; `-` (or nothing) reads stdin.
    pub inputs: Vec<PathBuf>,
}

/// How a batch is evaluated and reported: shared by `check` and `diff`.
#[derive(Args, Debug, Clone)]
pub struct RunArgs {
    /// Report format (default: human on a terminal, json otherwise).
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Message language (falls back to the policy's default language).
    #[arg(long, default_value = "en")]
    pub lang: String,
    /// Evaluate as of this date, `YYYY-MM-DD` (default: today).
    #[arg(long = "as-of", value_name = "DATE", value_parser = parse_date)]
    pub as_of: Option<Date>,
    /// Worker threads (default: all cores).
    #[arg(long, short = 'j')]
    pub jobs: Option<usize>,
}

pub fn parse_date(s: &str) -> Result<Date, String> {
    Date::parse(s).ok_or_else(|| format!("`{s}` is not a date `YYYY-MM-DD`"))
}

/// Writes bytes to stdout; `false` once the output is closed or failed.
fn write_bytes(out: &mut impl Write, bytes: &[u8]) -> bool {
    out.write_all(bytes).is_ok()
}

/// `--parse-only`: reads and converts every record, counts them; the same
/// pipeline as a check, without the rules.
fn parse_only(rs: &RuleSet, args: &CheckArgs, inputs: Vec<PathBuf>, as_of: Date) -> ExitStatus {
    let progress = Progress::start(&inputs);
    let units = batch::groups(progress.counted(input::read_units(inputs)), batch::GROUP);
    let (mut records, mut errors) = (0usize, 0usize);
    let work = |_: &mut (), group: Vec<Unit>| {
        let n = group.len();
        let failed = group
            .into_iter()
            .map(|u| to_record(rs, u, as_of).record.is_err())
            .filter(|&failed| failed)
            .count();
        (n, failed)
    };
    let result = batch::ordered(
        units,
        batch::CHUNK,
        args.run.jobs,
        || (),
        work,
        |(n, failed)| {
            records += n;
            errors += failed;
            progress.records(n);
            true
        },
    );
    progress.finish();
    if let Err(e) = result {
        eprintln!("error: {e}");
        return ExitStatus::Error;
    }
    eprintln!("{records} records read, {errors} input errors");
    if errors > 0 {
        ExitStatus::Error
    } else {
        ExitStatus::Success
    }
}

/// Evaluates every record and writes its report, in input order: workers
/// convert, evaluate and render a group of records into one block of text;
/// this thread only writes. The summary, and whether the output is still open.
fn report_all(
    rs: &RuleSet,
    inputs: Vec<PathBuf>,
    jobs: Option<usize>,
    opts: Options,
    format: Format,
    palette: &Palette,
    out: &mut impl Write,
) -> Result<(Summary, bool), String> {
    let json = JsonWriter::new(rs);
    let program = exec::Program::new(rs);
    let work = |scratch: &mut exec::Scratch, group: Vec<Unit>| {
        let mut counts = Summary::default();
        let mut text = Vec::with_capacity(group.len() * 768);
        for unit in group {
            let Converted {
                source,
                id,
                record,
                as_of,
            } = to_record(rs, unit, opts.as_of);
            let opts = Options { as_of, ..opts };
            let o = Outcome {
                id,
                source,
                result: record.map(|r| exec::evaluate_in(&program, rs, &r, opts, scratch)),
            };
            counts.add(o.decision());
            match format {
                Format::Json => {
                    json.write(&o, &mut text);
                    text.push(b'\n');
                }
                Format::Human => text.extend_from_slice(report::human_block(rs, &o, palette).as_bytes()),
            }
        }
        (counts, text)
    };
    let mut summary = Summary::default();
    let mut open = true;
    let progress = Progress::start(&inputs);
    let groups = batch::groups(progress.counted(input::read_units(inputs)), batch::GROUP);
    let result = batch::ordered(
        groups,
        batch::CHUNK,
        jobs,
        exec::Scratch::default,
        work,
        |(counts, text)| {
            for (total, n) in summary.counts.iter_mut().zip(counts.counts) {
                *total += n;
            }
            progress.records(usize::try_from(counts.total()).unwrap_or(usize::MAX));
            open = write_bytes(out, &text);
            open
        },
    );
    progress.finish();
    result.map(|()| (summary, open))
}

pub fn run(args: &CheckArgs) -> ExitStatus {
    let Some((mut rs, _sources)) = args.policy.load() else {
        return ExitStatus::Error;
    };
    rs.show_pii = args.show_pii;
    let stdout_tty = std::io::stdout().is_terminal();
    let format = args
        .run
        .format
        .unwrap_or(if stdout_tty { Format::Human } else { Format::Json });
    let palette = if args.policy.styled(stdout_tty) {
        Palette::colored()
    } else {
        Palette::default()
    };
    let opts = Options {
        lang: rs.language(&args.run.lang),
        as_of: args.run.as_of.unwrap_or_else(Date::today),
    };
    super::warn_missing_language(&rs, &args.run.lang);
    let inputs = super::inputs_or_stdin(&args.inputs);
    if args.parse_only {
        return parse_only(&rs, args, inputs, opts.as_of);
    }
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let (summary, mut open) = match report_all(&rs, inputs, args.run.jobs, opts, format, &palette, &mut out) {
        Ok(done) => done,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitStatus::Error;
        }
    };
    if open && format == Format::Human {
        open = write_out(&mut out, &summary.line(&palette));
    }
    if open {
        let _ = out.flush();
    }
    if summary.count(DecisionKind::Error) > 0 {
        ExitStatus::Error
    } else if summary.count(DecisionKind::Reject) > 0 {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    }
}
