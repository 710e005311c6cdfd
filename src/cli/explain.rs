//! `kycrules explain`: why one application got its decision, rule by rule.

use super::check::parse_date;
use super::{ExitStatus, PolicyArgs, write_out};
use clap::{Args, ValueEnum};
use kycrules::date::Date;
use kycrules::eval::{DecisionKind, Options as EvalOptions};
use kycrules::explain::{self, Explanation, Node, RuleTrace, Shown};
use kycrules::input::{self, InputRecord};
use kycrules::report::Palette;
use std::fmt::Write as _;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

/// How `explain` prints: a trace for people, or JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
}

#[derive(Args, Debug)]
pub struct ExplainArgs {
    #[command(flatten)]
    pub policy: PolicyArgs,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
    /// Message language (falls back to the policy's default language).
    #[arg(long, default_value = "en")]
    pub lang: String,
    /// Evaluate as of this date, `YYYY-MM-DD` (default: today).
    #[arg(long = "as-of", value_name = "DATE", value_parser = parse_date)]
    pub as_of: Option<Date>,
    /// The application to explain, by its `id`, when the input holds several.
    #[arg(long, value_name = "ID")]
    pub id: Option<String>,
    /// Show `sensitive` fields in full (by default all but their last four
    /// characters are masked).
    #[arg(long = "show-pii")]
    pub show_pii: bool,
    /// How to read stdin and files without a known extension (see `check`).
    #[arg(long = "input-format", value_enum, default_value = "auto")]
    pub input_format: super::check::InputFormatArg,
    /// Show only the rules that fired (the decision and next step still in full).
    #[arg(long)]
    pub fired: bool,
    /// Application files or directories; `-` (or nothing) reads stdin.
    pub inputs: Vec<PathBuf>,
}

/// How many ids an error lists before `…`.
const LISTED_IDS: usize = 8;

/// Why no single record could be chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelectError {
    pub message: String,
    pub help: String,
}

/// Picks the record to explain: the one with `id`, or the only one.
pub fn select(records: impl Iterator<Item = InputRecord>, id: Option<&str>) -> Result<InputRecord, SelectError> {
    let mut chosen: Vec<InputRecord> = Vec::new();
    let mut ids: Vec<String> = Vec::new();
    let mut total = 0usize;
    for rec in records {
        total += 1;
        if ids.len() <= LISTED_IDS {
            ids.push(
                rec.id
                    .as_deref()
                    .map_or_else(|| format!("(no id, {})", rec.source), |i| format!("`{i}`")),
            );
        }
        let wanted = id.is_none_or(|want| rec.id.as_deref() == Some(want));
        if wanted && chosen.len() < 2 {
            chosen.push(rec);
        }
    }
    let listed = || {
        let mut s = ids.iter().take(LISTED_IDS).cloned().collect::<Vec<_>>().join(", ");
        if total > LISTED_IDS {
            s.push_str(", …");
        }
        s
    };
    let plural = |n: usize| if n == 1 { "" } else { "s" };
    match (id, chosen.len()) {
        (_, 1) => chosen.pop().ok_or_else(|| SelectError {
            message: "no application".into(),
            help: String::new(),
        }),
        (_, _) if total == 0 => Err(SelectError {
            message: "the input holds no application".into(),
            help: "`explain` takes a file, or `-` for stdin, that holds one application".into(),
        }),
        (Some(want), 0) => Err(SelectError {
            message: format!("no application has id `{want}`"),
            help: format!("the input holds {total} application{}: {}", plural(total), listed()),
        }),
        (Some(want), _) => Err(SelectError {
            message: format!(
                "id `{want}` is used by more than one application ({}, {})",
                chosen[0].source, chosen[1].source
            ),
            help: "ids are unique within a batch; explain one file at a time".into(),
        }),
        (None, _) => Err(SelectError {
            message: format!("the input holds {total} applications; `explain` takes one"),
            help: format!("choose one with `--id`: {}", listed()),
        }),
    }
}

pub fn run(args: &ExplainArgs) -> ExitStatus {
    let Some((rs, _sources)) = args.policy.load() else {
        return ExitStatus::Error;
    };
    super::warn_missing_language(&rs, &args.lang);
    let inputs = super::inputs_or_stdin(&args.inputs);
    let rec = match select(
        input::read_inputs_as(inputs, args.input_format.into()),
        args.id.as_deref(),
    ) {
        Ok(r) => r,
        Err(e) => {
            eprintln!(
                "error: {}\n = help: {}",
                kycrules::text::escape_controls(&e.message),
                kycrules::text::escape_controls(&e.help)
            );
            return ExitStatus::Error;
        }
    };
    let opts = EvalOptions {
        lang: rs.language(&args.lang),
        as_of: args.as_of.unwrap_or_else(Date::today),
    };
    let label = kycrules::text::escape_controls(
        &rec.id
            .as_deref()
            .map_or_else(|| rec.source.clone(), |i| format!("`{i}` ({})", rec.source)),
    )
    .into_owned();
    // Judged as of the application's own date when the policy declares `as_of`, as `check` does.
    let opts = match &rec.value {
        Ok(v) => kycrules::eval::Options {
            as_of: input::record_date(rs.as_of.as_ref(), v, opts.as_of),
            ..opts
        },
        Err(_) => opts,
    };
    let record = match rec
        .value
        .and_then(|v| input::convert(&v, &rs.schema, &rs.tables, opts.as_of))
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!(
                "error: application {label} cannot be evaluated: {e}\n = help: an input error decides `error` before any rule runs; fix the application and explain it again"
            );
            return ExitStatus::Error;
        }
    };
    let mut ex = explain::explain(
        &rs,
        &record,
        rec.id.as_deref(),
        &rec.source,
        explain::Options {
            eval: opts,
            show_pii: args.show_pii,
        },
    );
    if args.fired {
        ex.rules.retain(|r| r.fired);
    }
    let text = match args.format {
        Format::Json => match serde_json::to_string_pretty(&ex) {
            Ok(s) => s + "\n",
            Err(e) => {
                eprintln!("error: cannot write the explanation: {e}");
                return ExitStatus::Error;
            }
        },
        Format::Human => {
            let styled = args.policy.styled(std::io::stdout().is_terminal());
            human(&ex, &if styled { Palette::colored() } else { Palette::default() })
        }
    };
    let mut out = std::io::stdout().lock();
    if write_out(&mut out, &text) {
        let _ = out.flush();
    }
    if ex.decision == DecisionKind::Reject {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    }
}

/// The explanation as text: a header, one block per rule, the decision.
pub fn human(ex: &Explanation, s: &Palette) -> String {
    let mut out = String::new();
    // Values from the record are printed with their control characters escaped.
    let id = kycrules::text::escape_controls(ex.id.as_deref().unwrap_or("(no id)"));
    let ds = s.decision(ex.decision);
    let _ = writeln!(
        out,
        "{}{id}{}  {ds}{}{ds:#}  {}{}{}",
        s.bold,
        s.bold.render_reset(),
        ex.decision.as_str(),
        s.dim,
        kycrules::text::escape_controls(&ex.source),
        s.dim.render_reset()
    );
    let _ = writeln!(
        out,
        "{}policy {} {} ({}), as of {}, messages in {}{}",
        s.dim,
        ex.policy.name,
        ex.policy.version,
        ex.policy.hash,
        ex.as_of,
        ex.lang,
        s.dim.render_reset()
    );
    let _ = write!(out, "{} of {} rules fired", ex.fired.len(), ex.rules_in_policy);
    if !ex.fired.is_empty() {
        let _ = write!(out, ": {}", ex.fired.join(", "));
    }
    out.push('\n');
    for r in &ex.rules {
        out.push('\n');
        rule(&mut out, r, s);
    }
    out.push('\n');
    decision(&mut out, ex, s);
    out
}

fn rule(out: &mut String, r: &RuleTrace, s: &Palette) {
    let _ = write!(
        out,
        "rule {}{}{}  {}  ",
        s.bold,
        r.id,
        s.bold.render_reset(),
        r.outcome.as_str()
    );
    if r.fired {
        let st = s.outcome(r.outcome);
        let _ = write!(out, "{st}FIRED{st:#}");
    } else {
        let _ = write!(out, "{}{}{}", s.dim, r.status.describe(), s.dim.render_reset());
    }
    if let Some(v) = &r.validity {
        let _ = write!(out, " {}(in force {v}){}", s.dim, s.dim.render_reset());
    }
    out.push('\n');
    let mut w = Writer {
        out,
        s,
        seen: Vec::new(),
    };
    if let Some(g) = &r.given {
        w.node("given ", g, 1);
    }
    w.node("when  ", &r.when, 1);
    for m in &r.messages {
        if let Some(c) = &m.condition {
            let prefix = format!("message {} if ", m.message);
            if m.in_force {
                w.node(&prefix, c, 1);
            } else {
                let _ = writeln!(
                    w.out,
                    "  {prefix}{}  {}(message not in force){}",
                    c.expr,
                    s.dim,
                    s.dim.render_reset()
                );
            }
        }
        if m.chosen {
            let text = r.message.as_deref().unwrap_or_default();
            let _ = writeln!(
                w.out,
                "  message {}: {}",
                m.message,
                kycrules::text::escape_controls(text)
            );
        }
    }
}

/// Writes nodes; a `let` already expanded in the same block is shown by its value alone.
struct Writer<'o, 's> {
    out: &'o mut String,
    s: &'s Palette,
    seen: Vec<(String, Shown)>,
}

impl Writer<'_, '_> {
    /// A node's line, then its parts indented below it.
    fn node(&mut self, prefix: &str, n: &Node, depth: usize) {
        let (out, s) = (&mut *self.out, self.s);
        let indent = "  ".repeat(depth);
        let repeated_bank = matches!(n.value, Shown::Bank { .. }) && n.children.is_empty();
        if repeated_bank {
            let key = (n.expr.clone(), n.value.clone());
            if self.seen.contains(&key) {
                return;
            }
            self.seen.push(key);
        }
        if n.value == Shown::NotEvaluated {
            let _ = writeln!(
                out,
                "{indent}{prefix}{}  {}(not evaluated){}",
                n.expr,
                s.dim,
                s.dim.render_reset()
            );
            return;
        }
        let _ = write!(out, "{indent}{prefix}{}", n.expr);
        if let (Some(i), None) = (&n.inline, &n.definition) {
            let _ = write!(out, " → {i}");
        }
        let _ = write!(out, " = {}", n.value);
        if let Some(note) = &n.note {
            let _ = write!(out, "  {}({note}){}", s.dim, s.dim.render_reset());
        }
        out.push('\n');
        if let Some(def) = &n.definition {
            let key = (n.expr.clone(), n.value.clone());
            if self.seen.contains(&key) {
                return;
            }
            self.seen.push(key);
            let _ = write!(out, "{indent}  {}let {} = {def}", s.dim, n.expr);
            if let Some(i) = &n.inline {
                let _ = write!(out, " → {i}");
            }
            let _ = writeln!(out, "{}", s.dim.render_reset());
        }
        for c in &n.children {
            self.node("", c, depth + 1);
        }
    }
}

fn decision(out: &mut String, ex: &Explanation, s: &Palette) {
    let ds = s.decision(ex.decision);
    let _ = write!(out, "decision: {ds}{}{ds:#}", ex.decision.as_str());
    let notes: Vec<&str> = ex.rules.iter().filter(|r| r.fired).map(|r| r.id.as_str()).collect();
    if ex.decided_by.is_empty() && notes.is_empty() {
        let _ = write!(out, " (no rule fired)");
    } else if ex.decided_by.is_empty() {
        let _ = write!(out, " (only notes fired: {})", notes.join(", "));
    } else {
        let _ = write!(out, " ({})", ex.decided_by.join(", "));
    }
    match &ex.next_step {
        Some(step) => {
            let _ = writeln!(out, "; next step: {step}");
        }
        None => {
            let _ = writeln!(out, "; next step: none");
        }
    }
    let mut w = Writer {
        out,
        s,
        seen: Vec::new(),
    };
    for t in &ex.next_step_trace {
        match &t.condition {
            Some(c) => w.node(&format!("{} when ", t.step), c, 1),
            None => {
                let _ = writeln!(w.out, "  {} otherwise", t.step);
            }
        }
    }
}
