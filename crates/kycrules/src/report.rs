//! Reports: one evaluated (or failed) record as a JSON line or a human block,
//! and the closing summary.

use crate::eval::{Decision, DecisionKind};
use crate::ir::RuleSet;
use anstyle::{AnsiColor, Style};
use std::fmt::Write as _;

/// The result for one input record.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub id: Option<String>,
    pub source: String,
    pub result: Result<Decision, String>,
}

impl Outcome {
    pub fn decision(&self) -> DecisionKind {
        match &self.result {
            Ok(d) => d.decision,
            Err(_) => DecisionKind::Error,
        }
    }
}

/// Writes the JSON lines of SPEC §2. What the policy fixes (each rule's id,
/// outcome and fields; the next steps; the policy stamp) is escaped once, when
/// the writer is made; a line then costs little more than its messages.
#[derive(Debug, Clone)]
pub struct JsonWriter {
    /// Per rule: `{"rule":…,"outcome":…,"fields":[…],"message":`.
    rules: Vec<Vec<u8>>,
    /// Per next step: its name as a JSON string.
    steps: Vec<Vec<u8>>,
    /// `,"policy":{"name":…,"version":…,"hash":…}}`.
    policy: Vec<u8>,
}

/// A JSON string, escaped as `serde_json` escapes it (`\"`, `\\`, the short
/// escapes of control characters, else `\u00xx`), scanning eight bytes at a
/// time for the bytes that need it.
fn json_str(out: &mut Vec<u8>, s: &str) {
    let b = s.as_bytes();
    out.reserve(b.len() + 2);
    out.push(b'"');
    let mut done = 0;
    while let Some(i) = next_escape(b, done) {
        out.extend_from_slice(b.get(done..i).unwrap_or_default());
        let c = b.get(i).copied().unwrap_or_default();
        match c {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0c => out.extend_from_slice(b"\\f"),
            _ => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(c >> 4)]);
                out.push(HEX[usize::from(c & 0xf)]);
            }
        }
        done = i + 1;
    }
    out.extend_from_slice(b.get(done..).unwrap_or_default());
    out.push(b'"');
}

/// The index of the first byte from `from` that a JSON string must escape.
fn next_escape(b: &[u8], from: usize) -> Option<usize> {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let zero = |x: u64| x.wrapping_sub(LO) & !x & HI != 0;
    let rest = b.get(from..)?;
    let mut start = 0;
    for word in rest.chunks_exact(8) {
        let x = u64::from_le_bytes(word.try_into().unwrap_or([0; 8]));
        // a byte below 0x20, a quote or a backslash
        if x.wrapping_sub(LO * 0x20) & !x & HI != 0 || zero(x ^ (LO * 0x22)) || zero(x ^ (LO * 0x5c)) {
            break;
        }
        start += 8;
    }
    let tail = rest.get(start..)?;
    let i = tail.iter().position(|&c| c < 0x20 || c == b'"' || c == b'\\')?;
    Some(from + start + i)
}

/// Appends `n` in decimal.
fn push_decimal(out: &mut Vec<u8>, mut n: usize) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        if let Some(d) = digits.get_mut(i) {
            *d = b'0' + (n % 10) as u8;
        }
        n /= 10;
        if n == 0 || i == 0 {
            break;
        }
    }
    out.extend_from_slice(digits.get(i..).unwrap_or_default());
}

fn json_opt(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        Some(s) => json_str(out, s),
        None => out.extend_from_slice(b"null"),
    }
}

impl JsonWriter {
    pub fn new(rs: &RuleSet) -> Self {
        let rules = rs
            .rules
            .iter()
            .map(|rule| {
                let mut b = b"{\"rule\":".to_vec();
                json_str(&mut b, &rule.id);
                b.extend_from_slice(b",\"outcome\":");
                json_str(&mut b, rule.outcome.as_str());
                b.extend_from_slice(b",\"fields\":[");
                for (i, f) in rule.fields.iter().enumerate() {
                    if i > 0 {
                        b.push(b',');
                    }
                    json_str(&mut b, f);
                }
                b.extend_from_slice(b"],\"message\":");
                b
            })
            .collect();
        let steps = rs
            .next_steps
            .iter()
            .map(|s| {
                let mut b = Vec::new();
                json_str(&mut b, &s.name);
                b
            })
            .collect();
        let mut policy = b",\"policy\":{\"name\":".to_vec();
        json_str(&mut policy, &rs.name);
        policy.extend_from_slice(b",\"version\":");
        json_str(&mut policy, &rs.version);
        policy.extend_from_slice(b",\"hash\":");
        json_str(&mut policy, &rs.hash);
        policy.extend_from_slice(b"}}");
        JsonWriter { rules, steps, policy }
    }

    /// Appends one JSON line (without the newline) to `out`.
    pub fn write(&self, o: &Outcome, out: &mut Vec<u8>) {
        let result = o.result.as_ref().map_err(String::as_str);
        self.write_parts(o.id.as_deref(), &o.source, None, result, out);
    }

    /// [`write`](Self::write) of a record read from line `line` of `label`
    /// (its source `label:line`, written straight into `out`).
    pub fn write_at(
        &self,
        id: Option<&str>,
        label: &str,
        line: usize,
        result: Result<&Decision, &str>,
        out: &mut Vec<u8>,
    ) {
        self.write_parts(id, label, Some(line), result, out);
    }

    fn write_parts(
        &self,
        id: Option<&str>,
        source: &str,
        line: Option<usize>,
        result: Result<&Decision, &str>,
        out: &mut Vec<u8>,
    ) {
        out.extend_from_slice(b"{\"id\":");
        json_opt(out, id);
        out.extend_from_slice(b",\"source\":");
        json_str(out, source);
        if let Some(line) = line {
            // `:` and digits need no escape: the closing quote moves after them.
            out.pop();
            out.push(b':');
            push_decimal(out, line);
            out.push(b'"');
        }
        let d = match result {
            Ok(d) => d,
            Err(e) => {
                out.extend_from_slice(b",\"decision\":\"error\",\"error\":");
                json_str(out, e);
                out.push(b'}');
                return;
            }
        };
        out.extend_from_slice(b",\"decision\":\"");
        out.extend_from_slice(d.decision.as_str().as_bytes());
        out.extend_from_slice(b"\",\"next_step\":");
        match d.next_step.and_then(|i| self.steps.get(i)) {
            Some(s) => out.extend_from_slice(s),
            None => out.extend_from_slice(b"null"),
        }
        out.extend_from_slice(b",\"violations\":[");
        let mut first = true;
        for v in &d.violations {
            let Some(prefix) = self.rules.get(v.rule) else { continue };
            if !first {
                out.push(b',');
            }
            first = false;
            out.extend_from_slice(prefix);
            json_str(out, &v.message);
            out.push(b'}');
        }
        out.push(b']');
        out.extend_from_slice(&self.policy);
    }
}

/// One JSON line (without the newline), as SPEC §2 gives it.
pub fn json_line(rs: &RuleSet, o: &Outcome) -> String {
    let mut out = Vec::new();
    JsonWriter::new(rs).write(o, &mut out);
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// Styles of the human report; plain when colour is off.
#[derive(Debug, Clone, Copy, Default)]
pub struct Palette {
    pub bold: Style,
    pub dim: Style,
    pub reject: Style,
    pub limited: Style,
    pub review: Style,
    pub note: Style,
    pub accept: Style,
}

impl Palette {
    pub fn colored() -> Self {
        let fg = |c: AnsiColor| Style::new().fg_color(Some(c.into())).bold();
        Palette {
            bold: Style::new().bold(),
            dim: Style::new().dimmed(),
            reject: fg(AnsiColor::Red),
            limited: fg(AnsiColor::Magenta),
            review: fg(AnsiColor::Yellow),
            note: fg(AnsiColor::Cyan),
            accept: fg(AnsiColor::Green),
        }
    }

    /// The style of a decision.
    pub fn decision(&self, d: DecisionKind) -> Style {
        match d {
            DecisionKind::Accept => self.accept,
            DecisionKind::Review => self.review,
            DecisionKind::Limited => self.limited,
            DecisionKind::Reject | DecisionKind::Error => self.reject,
        }
    }

    /// The style of a rule's outcome.
    pub fn outcome(&self, o: crate::ir::Outcome) -> Style {
        match o {
            crate::ir::Outcome::Reject => self.reject,
            crate::ir::Outcome::Limited => self.limited,
            crate::ir::Outcome::Review => self.review,
            crate::ir::Outcome::Note => self.note,
        }
    }
}

/// The human block of one record; empty for an accepted application with no notes.
pub fn human_block(rs: &RuleSet, o: &Outcome, p: &Palette) -> String {
    let mut out = String::new();
    // Values from the record are printed with their control characters escaped.
    let id = crate::text::escape_controls(o.id.as_deref().unwrap_or("(no id)"));
    let kind = o.decision();
    if kind == DecisionKind::Accept && o.result.as_ref().is_ok_and(|d| d.violations.is_empty()) {
        return out;
    }
    let ds = p.decision(kind);
    let _ = write!(
        out,
        "{}{id}{} {ds}{}{ds:#}",
        p.bold,
        p.bold.render_reset(),
        kind.as_str()
    );
    if let Ok(d) = &o.result
        && let Some(step) = d.next_step.and_then(|i| rs.next_steps.get(i))
    {
        let _ = write!(out, " → {}", step.name);
    }
    let source = crate::text::escape_controls(&o.source);
    let _ = writeln!(out, "  {}{source}{}", p.dim, p.dim.render_reset());
    match &o.result {
        Err(e) => {
            let e = crate::text::escape_controls(e);
            let _ = writeln!(out, "  {}error{} {e}", p.reject, p.reject.render_reset());
        }
        Ok(d) => {
            for v in &d.violations {
                let Some(rule) = rs.rules.get(v.rule) else { continue };
                out.push_str("  ");
                rule_head(&mut out, rule, p);
                let _ = writeln!(out);
                let _ = writeln!(out, "          {}", crate::text::escape_controls(&v.message));
            }
        }
    }
    out.push('\n');
    out
}

/// A rule as reports name it: its outcome (padded), its id, and the fields
/// it concerns, e.g. `reject  age-check (applicant.age)`.
pub fn rule_head(out: &mut String, rule: &crate::ir::Rule, p: &Palette) {
    let os = p.outcome(rule.outcome);
    let _ = write!(
        out,
        "{os}{:<7}{os:#} {}{}{}",
        rule.outcome.as_str(),
        p.bold,
        rule.id,
        p.bold.render_reset()
    );
    if !rule.fields.is_empty() {
        let _ = write!(out, " {}({}){}", p.dim, rule.fields.join(", "), p.dim.render_reset());
    }
}

/// Counts of decisions over a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    pub counts: [u64; 5],
}

impl Summary {
    pub fn add(&mut self, d: DecisionKind) {
        if let Some(i) = DecisionKind::ALL.iter().position(|k| *k == d) {
            self.counts[i] += 1;
        }
    }

    pub fn count(&self, d: DecisionKind) -> u64 {
        DecisionKind::ALL
            .iter()
            .position(|k| *k == d)
            .map_or(0, |i| self.counts[i])
    }

    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// `5 applications: 1 accept, 1 review, 1 limited, 1 reject, 1 error`
    pub fn line(&self, p: &Palette) -> String {
        let parts: Vec<String> = DecisionKind::ALL
            .iter()
            .map(|&k| {
                let n = self.count(k);
                let s = if n > 0 { p.decision(k) } else { Style::new() };
                format!("{s}{n} {}{s:#}", k.as_str())
            })
            .collect();
        let total = self.total();
        format!(
            "{total} application{}: {}\n",
            if total == 1 { "" } else { "s" },
            parts.join(", ")
        )
    }
}
