//! `kycrules diff OLD NEW [INPUT]...`: which applications a policy change
//! would flip. Every record is decided under both policies (in parallel, as
//! `check` does); the changed ones are reported, then the transition matrix.
//! The output formats are documented in [`kycrules::diff`].

use super::check::{Format, RunArgs};
use super::{ColorChoice, ErrorFormat, ExitStatus, PolicyArgs, write_out};
use clap::Args;
use kycrules::date::Date;
use kycrules::diff::{self, Policies, RecordDiff, Summary};
use kycrules::eval::Options;
use kycrules::exec;
use kycrules::html::{DiffReport, PolicySide};
use kycrules::input;
use kycrules::ir::RuleSet;
use kycrules::report::Palette;
use kycrules::source::SourceMap;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

#[derive(Args, Debug)]
pub struct DiffArgs {
    /// The current policy: a `.rules` file, a directory of them, or `shipped` (`shipped:NAME`).
    #[arg(value_name = "OLD")]
    pub old: PathBuf,
    /// The proposed policy: a `.rules` file, a directory of them, or `shipped` (`shipped:NAME`).
    #[arg(value_name = "NEW")]
    pub new: PathBuf,
    /// Application files or directories; `-` (or nothing) reads stdin.
    #[arg(value_name = "INPUT")]
    pub inputs: Vec<PathBuf>,
    #[command(flatten)]
    pub run: RunArgs,
    /// When to colour the output (`NO_COLOR` turns `auto` off).
    #[arg(long, value_enum, default_value = "auto")]
    pub color: ColorChoice,
    /// How to print policy errors.
    #[arg(long = "error-format", value_enum, default_value = "human")]
    pub error_format: ErrorFormat,
}

impl DiffArgs {
    fn policy_args(&self, path: &Path) -> PolicyArgs {
        PolicyArgs {
            policy: vec![path.to_path_buf()],
            color: self.color,
            error_format: self.error_format,
        }
    }

    /// Loads both policies, reporting the errors of each; `None` if either fails.
    fn load(&self) -> Option<((RuleSet, SourceMap), (RuleSet, SourceMap))> {
        let old = self.policy_args(&self.old).load();
        let new = self.policy_args(&self.new).load();
        let (old, new) = old.zip(new)?;
        for rs in [&old.0, &new.0] {
            super::warn_missing_language(rs, &self.run.lang);
        }
        Some((old, new))
    }
}

pub fn run(args: &DiffArgs) -> ExitStatus {
    let Some(((old, old_sources), (new, new_sources))) = args.load() else {
        return ExitStatus::Error;
    };
    let p = Policies { old: &old, new: &new };
    let (old_program, new_program) = (exec::Program::new(&old), exec::Program::new(&new));
    let programs = diff::Programs {
        old: &old_program,
        new: &new_program,
    };
    let stdout_tty = std::io::stdout().is_terminal();
    let format = args
        .run
        .format
        .unwrap_or(if stdout_tty { Format::Human } else { Format::Json });
    let palette = if args.policy_args(&args.old).styled(stdout_tty) {
        Palette::colored()
    } else {
        Palette::default()
    };
    let as_of = args.run.as_of.unwrap_or_else(Date::today);
    let opts = |rs: &RuleSet| Options {
        lang: rs.language(&args.run.lang),
        as_of,
    };
    let (old_opts, new_opts) = (opts(&old), opts(&new));
    let inputs = super::inputs_or_stdin(&args.inputs);
    let mut summary = Summary::default();
    let mut page = (format == Format::Html).then(DiffReport::default);
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut open = true;
    let work =
        |_: &mut (), unit: input::Unit| diff::diff_record_compiled(p, programs, unit.parse(), old_opts, new_opts);
    // A task per group of records, as `check` has.
    let chunk = kycrules::batch::GROUP;
    let jobs = super::check::jobs_for(&inputs, args.run.jobs);
    let result = kycrules::batch::ordered(
        input::read_units_as(inputs, args.run.input_format.into()),
        chunk,
        jobs,
        || (),
        work,
        |d: RecordDiff| {
            let d = &d;
            summary.add(d);
            if d.is_error_under_both() {
                report_error(d);
            }
            if let Some(page) = page.as_mut() {
                page.add(p, d, &args.run.lang);
            } else if d.changed {
                let text = match format {
                    Format::Json => diff::json_line(p, d) + "\n",
                    _ => diff::human_block(p, d, &palette),
                };
                open = write_out(&mut out, &text);
            }
            open
        },
    );
    if let Err(e) = result {
        eprintln!("error: {e}");
        return ExitStatus::Error;
    }
    if open {
        let text = match format {
            Format::Json => diff::json_summary(p, &summary) + "\n",
            Format::Human => human_footer(args, p, &summary, &palette),
            Format::Html => {
                let side = |rules, sources, origin| PolicySide { rules, sources, origin };
                let (o, n) = (args.old.display().to_string(), args.new.display().to_string());
                page.as_ref().map_or_else(String::new, |page| {
                    page.render(
                        &side(&old, &old_sources, &o),
                        &side(&new, &new_sources, &n),
                        &as_of.to_string(),
                        &args.run.lang,
                    )
                })
            }
        };
        if write_out(&mut out, &text) {
            let _ = out.flush();
        }
    }
    if summary.errors_under_both > 0 {
        ExitStatus::Error
    } else if summary.changed > 0 {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    }
}

/// A record neither policy could evaluate goes to stderr: it is no change,
/// but it is an input error.
fn report_error(d: &RecordDiff) {
    use kycrules::text::escape_controls as esc;
    match (&d.old, &d.new) {
        (Err(a), Err(b)) if a == b => eprintln!("error: {}: {}", esc(&d.source), esc(a)),
        (Err(a), Err(b)) => eprintln!(
            "error: {}: under OLD: {}; under NEW: {}",
            esc(&d.source),
            esc(a),
            esc(b)
        ),
        _ => {}
    }
}

fn human_footer(args: &DiffArgs, p: Policies<'_>, s: &Summary, pal: &Palette) -> String {
    let stamp = |rs: &RuleSet, path: &Path| {
        format!(
            "{} version {} ({}{}{})  {}",
            rs.name,
            rs.version,
            pal.dim,
            rs.hash,
            pal.dim.render_reset(),
            path.display()
        )
    };
    format!(
        "old: {}\nnew: {}\n\n{}",
        stamp(p.old, &args.old),
        stamp(p.new, &args.new),
        diff::human_summary(s, pal)
    )
}
