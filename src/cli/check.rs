//! `kycrules check`: evaluate applications and report decisions.

use super::{ExitStatus, PolicyArgs, write_out};
use crate::date::Date;
use crate::eval::{self, DecisionKind, Options};
use crate::input::{self, InputRecord};
use crate::ir::RuleSet;
use crate::report::{self, Outcome, Palette, Summary};
use clap::{Args, ValueEnum};
use rayon::prelude::*;
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
    /// Show card and document numbers (fields marked `sensitive`) in full in
    /// messages; by default all but the last four characters are masked.
    #[arg(long = "show-pii")]
    pub show_pii: bool,
    /// Application files or directories; `-` (or nothing) reads stdin.
    pub inputs: Vec<PathBuf>,
}

pub fn parse_date(s: &str) -> Result<Date, String> {
    Date::parse(s).ok_or_else(|| format!("`{s}` is not a date `YYYY-MM-DD`"))
}

/// How many records are evaluated together; bounds memory, keeps output ordered.
const CHUNK: usize = 4096;

/// Converts and evaluates one input record.
pub fn process(rs: &RuleSet, rec: InputRecord, opts: Options) -> Outcome {
    let InputRecord { source, id, value } = rec;
    let result = value
        .and_then(|v| input::convert(&v, &rs.schema, &rs.banks, opts.as_of))
        .map(|r| eval::evaluate(rs, &r, opts));
    Outcome { id, source, result }
}

/// Evaluates a stream of records in parallel chunks, calling `sink` in input order.
pub fn run_stream(
    rs: &RuleSet,
    records: impl Iterator<Item = InputRecord>,
    opts: Options,
    jobs: Option<usize>,
    mut sink: impl FnMut(&Outcome) -> bool,
) -> Result<(), String> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs.unwrap_or(0))
        .build()
        .map_err(|e| format!("cannot start worker threads: {e}"))?;
    let mut records = records.peekable();
    while records.peek().is_some() {
        let chunk: Vec<InputRecord> = records.by_ref().take(CHUNK).collect();
        let outcomes: Vec<Outcome> = pool.install(|| chunk.into_par_iter().map(|r| process(rs, r, opts)).collect());
        for o in &outcomes {
            if !sink(o) {
                return Ok(());
            }
        }
    }
    Ok(())
}

pub fn run(args: &CheckArgs) -> ExitStatus {
    let Some((mut rs, _sources)) = args.policy.load() else {
        return ExitStatus::Error;
    };
    rs.show_pii = args.show_pii;
    let stdout_tty = std::io::stdout().is_terminal();
    let format = args
        .format
        .unwrap_or(if stdout_tty { Format::Human } else { Format::Json });
    let palette = if args.policy.styled(stdout_tty) {
        Palette::colored()
    } else {
        Palette::default()
    };
    let opts = Options {
        lang: rs.language(&args.lang),
        as_of: args.as_of.unwrap_or_else(Date::today),
    };
    if !rs.languages.contains(&args.lang) {
        eprintln!(
            "warning: the policy has no language `{}`; messages are in `{}`",
            args.lang,
            rs.languages.first().map_or("", String::as_str)
        );
    }
    let inputs = if args.inputs.is_empty() {
        vec![PathBuf::from("-")]
    } else {
        args.inputs.clone()
    };
    let mut summary = Summary::default();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut open = true;
    let result = run_stream(&rs, input::read_inputs(inputs), opts, args.jobs, |o| {
        summary.add(o.decision());
        let text = match format {
            Format::Json => {
                let mut line = report::json_line(&rs, o);
                line.push('\n');
                line
            }
            Format::Human => report::human_block(&rs, o, &palette),
        };
        open = write_out(&mut out, &text);
        open
    });
    if let Err(e) = result {
        eprintln!("error: {e}");
        return ExitStatus::Error;
    }
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
