//! Diagnostics: errors and warnings about a policy, as data.
//!
//! Every diagnostic has a stable code (see [`CODES`]), a message in the house
//! style (lower-case, no trailing period, user input in backticks), a primary
//! span, optional secondary labels and an optional help line. Rendering to
//! text or JSON happens at the edge ([`render_human`], [`to_json`]).

use crate::source::{SourceMap, Span, ceil_char_boundary, floor_char_boundary};
use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};
use serde_json::json;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub code: &'static str,
    pub severity: Severity,
    pub message: String,
    pub span: Option<Span>,
    pub label: Option<String>,
    pub secondary: Vec<(Span, String)>,
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn error(code: &'static str, message: impl Into<String>, span: Span) -> Self {
        Diagnostic {
            code,
            severity: Severity::Error,
            message: message.into(),
            span: Some(span),
            label: None,
            secondary: Vec::new(),
            help: None,
        }
    }

    pub fn warning(code: &'static str, message: impl Into<String>, span: Span) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, message, span)
        }
    }

    /// A diagnostic with no place in a file (e.g. a policy directory that is empty).
    pub fn global(code: &'static str, message: impl Into<String>) -> Self {
        Diagnostic {
            span: None,
            ..Diagnostic::error(code, message, Span::default())
        }
    }

    pub fn with_label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn with_secondary(mut self, span: Span, label: impl Into<String>) -> Self {
        self.secondary.push((span, label.into()));
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// Sorts diagnostics by file and position, errors before warnings at one place.
pub fn sort(diags: &mut [Diagnostic]) {
    diags.sort_by_key(|d| {
        let s = d.span.unwrap_or_default();
        (d.span.is_some(), s.file, s.start, s.end, d.severity, d.code)
    });
}

/// A piece of policy text quoted in a message: at most 40 characters, the
/// length of the rest said (a 100,000-digit number is quoted short).
pub fn short(s: &str) -> String {
    match s.char_indices().nth(40) {
        Some((i, _)) => format!("{}… ({} characters)", s.get(..i).unwrap_or_default(), s.chars().count()),
        None => s.to_owned(),
    }
}

/// The most diagnostics [`render_human`] shows; the rest are counted.
pub const MAX_SHOWN: usize = 100;

/// Renders diagnostics as text, with a caret snippet for each: the first
/// [`MAX_SHOWN`], then a line counting the others (a person reads the first
/// ones; `--error-format json` lists them all).
pub fn render_human(diags: &[Diagnostic], sources: &SourceMap, styled: bool) -> String {
    let renderer = if styled { Renderer::styled() } else { Renderer::plain() };
    let mut out = String::new();
    for d in diags.iter().take(MAX_SHOWN) {
        out.push_str(&renderer.render(&build_report(d, sources)));
        out.push_str("\n\n");
    }
    if let Some(rest) = diags.get(MAX_SHOWN..).filter(|r| !r.is_empty()) {
        let errors = rest.iter().filter(|d| d.is_error()).count();
        let plural = |n: usize, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
        out.push_str(&format!(
            "... and {} not shown ({}, {})\n\n",
            plural(rest.len(), "more diagnostic"),
            plural(errors, "error"),
            plural(rest.len() - errors, "warning"),
        ));
    }
    out
}

fn build_report<'a>(d: &'a Diagnostic, sources: &'a SourceMap) -> Vec<Group<'a>> {
    let level = match d.severity {
        Severity::Error => Level::ERROR,
        Severity::Warning => Level::WARNING,
    };
    let title = level.primary_title(d.message.as_str()).id(d.code);
    let mut groups = Vec::new();
    match d.span.and_then(|s| sources.get(s.file).map(|src| (s, src))) {
        Some((span, src)) => {
            // Only the lines the annotations cover go to the renderer, so a
            // diagnostic costs the size of its lines, not of its file.
            let same: Vec<Span> = std::iter::once(span)
                .chain(d.secondary.iter().map(|(s, _)| *s).filter(|s| s.file == span.file))
                .collect();
            // The end of a text that ends with a newline is the end of its last line.
            let full: &str = &src.text;
            let line_of = |off: u32| {
                let off = off as usize;
                let off = if off >= full.len() && full.ends_with('\n') {
                    full.len() - 1
                } else {
                    off
                };
                src.line_col(off).0
            };
            let first = same.iter().map(|s| line_of(s.start)).min().unwrap_or(1);
            let last = same.iter().map(|s| line_of(s.end)).max().unwrap_or(first);
            let lines = src.line_range(first, last);
            let base = lines.start;
            let text: &str = src.text.get(lines).unwrap_or_default();
            let local = |s: Span| {
                let start = (s.start as usize).saturating_sub(base).min(text.len());
                let end = (s.end as usize).saturating_sub(base).min(text.len());
                Span::new(s.file, start, end)
            };
            let mut snippet = Snippet::source(text)
                .line_start(first)
                .path(src.name.as_str())
                .fold(true);
            let primary = AnnotationKind::Primary.span(char_range(text, local(span)));
            snippet = snippet.annotation(match &d.label {
                Some(l) => primary.label(l.as_str()),
                None => primary,
            });
            for (s, l) in &d.secondary {
                if s.file == span.file {
                    snippet = snippet.annotation(
                        AnnotationKind::Context
                            .span(char_range(text, local(*s)))
                            .label(l.as_str()),
                    );
                }
            }
            let mut g = title.element(snippet);
            if let Some(h) = &d.help {
                g = g.element(Level::HELP.message(h.as_str()));
            }
            groups.push(g);
        }
        None => {
            let mut g = Group::with_title(title);
            if let Some(h) = &d.help {
                g = g.element(Level::HELP.message(h.as_str()));
            }
            groups.push(g);
        }
    }
    groups
}

/// A byte range widened to character boundaries (the renderer needs them);
/// a position past a file's final new line is moved onto it, where the
/// renderer draws it, so the human and JSON forms name the same line.
fn char_range(text: &str, span: Span) -> std::ops::Range<usize> {
    let mut start = floor_char_boundary(text, span.start as usize);
    if start == text.len() && text.ends_with('\n') {
        start -= 1;
    }
    let end = ceil_char_boundary(text, (span.end as usize).max(start));
    start..end
}

/// One diagnostic as a JSON object, for editors and CI.
///
/// `location` is the primary span, at the line and column the human form
/// shows; `labels` holds every annotation, primary first, each with its own
/// location and label text (`null` when the annotation has none).
pub fn to_json(d: &Diagnostic, sources: &SourceMap) -> serde_json::Value {
    let locate = |s: Span| {
        let src = sources.get(s.file)?;
        // The human form's position (`char_range`), through the file's line index.
        let range = char_range(&src.text, s);
        let (line, column) = src.line_col(range.start);
        let (end_line, end_column) = src.line_col(range.end);
        Some(json!({
            "file": src.name, "line": line, "column": column,
            "end_line": end_line, "end_column": end_column,
        }))
    };
    let location = d.span.and_then(locate);
    let mut labels = Vec::new();
    if let Some(l) = &location {
        labels.push(json!({ "kind": "primary", "location": l, "label": d.label }));
    }
    if d.span.is_some() {
        for (s, l) in &d.secondary {
            if let Some(loc) = locate(*s) {
                labels.push(json!({ "kind": "secondary", "location": loc, "label": l }));
            }
        }
    }
    json!({
        "code": d.code,
        "severity": match d.severity { Severity::Error => "error", Severity::Warning => "warning" },
        "message": d.message,
        "location": location,
        "label": d.label,
        "labels": labels,
        "help": d.help,
    })
}

/// A documented diagnostic code.
pub struct CodeDoc {
    pub code: &'static str,
    pub title: &'static str,
    pub explanation: &'static str,
    pub example: &'static str,
    pub fix: &'static str,
}

macro_rules! codes {
    ($($name:ident = $code:literal, $title:literal, $explanation:literal, $example:literal, $fix:literal;)*) => {
        $(pub const $name: &str = $code;)*
        /// Every diagnostic code, with what it means, an example and the fix.
        pub const CODES: &[CodeDoc] = &[$(CodeDoc { code: $code, title: $title, explanation: $explanation, example: $example, fix: $fix }),*];
    };
}

codes! {
    SYNTAX = "E0001", "syntax error", "The text does not follow the grammar of the policy language.", "rule x reject { when }", "Complete or correct the construct the caret points at; the message lists what may stand there.";
    TOO_DEEP = "E0002", "nesting too deep", "An expression or type nests deeper than the compiler allows (256 levels).", "not not not ... x", "Split the expression with `let` declarations.";
    READ = "E0003", "cannot read a policy file", "A policy file or directory could not be read, is not UTF-8, or is too large.", "--policy missing.rules", "Check the path; policy files are UTF-8 text with the extension `.rules`.";
    HEADER = "E0010", "missing or repeated policy header", "A policy has exactly one `policy \"name\" version \"v\" languages ...` declaration and exactly one `schema`.", "a policy directory with two `policy` lines", "Keep one header and one schema across the policy's files.";
    DUPLICATE = "E0011", "duplicate name", "Two declarations of the same kind share a name: rules, messages, tables, table entries, charsets, patterns, lets, fields or table attributes.", "rule a reject {...}  rule a note {...}", "Rename or remove one of them.";
    UNKNOWN_FIELD = "E0020", "unknown field", "A path names no field of the schema, no `let` and no bound variable.", "when applicant.nmae == \"x\"", "Use a field the schema declares (the help suggests the closest), or add it to the schema.";
    TYPE_MISMATCH = "E0021", "type mismatch", "An operator or function got a value of the wrong type.", "when length(applicant.name) == \"2\"", "Compare values of one type; the message says which types were found.";
    UNKNOWN_BANK = "E0022", "unknown table entry", "A code compared with a table-typed value (a bank, a region) is not declared by any entry of that table.", "when bank_card.bank == CMBX", "Use a declared code, or declare the entry: `bank CMBX { ... }`.";
    UNKNOWN_MESSAGE = "E0023", "unknown message", "A rule names a message that no `message` block declares.", "message no_such_message", "Declare the message or fix its name.";
    UNKNOWN_CHARSET = "E0024", "unknown character class", "A charset names a class, script or charset that does not exist.", "charset c = script(Hann)", "Use a built-in class (`ascii_letter`, `ascii_digit`, `white_space`, `invisible`, `script(Name)`) or a declared charset.";
    UNKNOWN_FUNCTION = "E0025", "unknown function or wrong arguments", "A call names no built-in function, or passes the wrong number of arguments.", "when lenght(applicant.name) > 2", "Use a built-in function; the README lists them with their arguments.";
    UNKNOWN_TYPE = "E0026", "unknown type", "A schema field or table attribute names a type that does not exist.", "name: txt", "Use `text`, `bool`, `decimal`, `date`, a table's name (`bank`), an enum `a | b`, a record `{...}` or `list of T`.";
    UNKNOWN_VALUE = "E0027", "unknown enum value", "A name compared with an enum field is not one of its values.", "when bank_card.card_type == debit", "Use one of the values the schema declares for that field.";
    UNKNOWN_OUTCOME = "E0028", "unknown outcome", "A rule's outcome is not `reject`, `limited`, `review` or `note`.", "rule a block { ... }", "Write one of `reject`, `limited`, `review`, `note`.";
    UNKNOWN_LANGUAGE = "E0029", "unknown language", "A message gives a text in a language the policy header does not declare.", "message m { fr \"...\" }", "Add the language to the header or remove the text.";
    UNKNOWN_RULE = "E0030", "unknown rule", "`fired(...)` names no rule declared before it.", "given not fired(phone-chars)", "Name a rule declared earlier in the policy.";
    MISSING_LANGUAGE = "E0031", "message missing a language", "A message lacks a text for a language the policy declares.", "message m { en \"...\" }  # with languages en, zh", "Add the missing translation.";
    PLACEHOLDER = "E0032", "placeholder cannot be filled", "A message text has a `{name}` that is neither a field path nor a `with` value of every rule that shows it.", "en \"bank {bnak}\"", "Fix the name, or add `with name = ...` to the rule.";
    RULE_SHAPE = "E0033", "incomplete rule", "A rule needs exactly one `when`, at most one `given`, and at least one `message`; only the last message may be unconditional.", "rule a reject { message m }", "Add the missing clause.";
    PATTERN = "E0034", "invalid pattern", "A pattern is not a valid regular expression, or is too large.", "pattern p = r\"[0-9\"", "Fix the regular expression (syntax of the `regex` crate: linear time, no look-around or back-references).";
    LITERAL = "E0035", "invalid literal", "A date, number, escape or default value is malformed.", "effective 2026-02-30", "Write a real date `YYYY-MM-DD`, a number like `0.37`, or a valid `\\u{...}` escape.";
    BANK_ATTRIBUTE = "E0036", "bad table attribute", "An entry sets, or an expression reads, an attribute that its table does not declare, or `count_banks` names one that is not a `bool`.", "bank X { supportd = true }", "Declare the attribute in the table (`table bank { supported: bool = false }`), or fix its name.";
    NEXT_STEP = "E0037", "bad next step", "A `next_step` block has a clause after `otherwise`, or more than one block exists.", "next_step { a otherwise b when x }", "Put `otherwise` last, in one block.";
    EFFECTIVE = "E0038", "bad effective dates", "`until` is not after `effective`, a date is given twice, or `as_of` is declared twice or names a field inside a list.", "effective 2027-01-01 until 2026-01-01", "Make the end date later than the start date; declare one `as_of`, naming a `date` field outside lists.";
    UNKNOWN_TABLE = "E0039", "unknown table", "An entry names a table that no `table` block declares.", "regoin \"99\" { name en \"Atlantis\" }", "Fix the table's name, or declare it: `table region { }`.";
    UNUSED_MESSAGE = "W0001", "message never shown", "A `message` is declared, but no rule names it, so no applicant ever sees it.", "message old_wording { en \"...\" }  # no rule says `message old_wording`", "Name it in a rule's `message` clause, or remove it.";
    AMBIGUOUS_BANK = "W0002", "bank name matches two banks", "A code, name or alias of a bank, trimmed and lower-cased as a typed bank is, equals one of another bank in force at the same time; a typed bank then resolves to whichever is declared first.", "bank AB { alias \"AB Bank\" }  bank ABX { alias \"ab bank\" }", "Remove the name from one of the banks, or give the banks `effective`/`until` dates that do not overlap.";
    CONSTANT_CONDITION = "W0003", "constant condition", "A rule's `when` or `given` has the same truth value for every application, judged from its literals alone (a field, let or function call counts as unknown): the rule always or never fires.", "when 1 > 2        when x or true", "Compare a field of the application, or remove the rule or the clause.";
    UNREAD_FIELD = "W0004", "schema field never read", "No rule, let, message placeholder, `next_step` or `on` clause reads a field of the schema. A record counts as read when any field inside it is read; `id` is exempt, since reports show it.", "schema { id: text  nickname: text? }  # no rule reads nickname", "Use the field or remove it; when the application format requires the field anyway, write `# lint: allow(W0004)` on its line.";
    CONTRADICTION = "W0005", "rule can never fire", "A rule's guard and condition cannot hold together: their `and`-joined comparisons of one field with literals contradict each other (`x == a` and `x == b`, `n > 5` and `n < 3`, `not present(x)` and a comparison of `x`).", "given card.bank == X  when card.bank == Y", "Correct the comparison, or remove the rule.";
    EMPTY_SET = "W0006", "charset or pattern accepts nothing", "A charset contains no character at all, or a pattern can match no text (it needs an empty class such as `[^\\s\\S]` or `[a&&b]`): `only` then fails for every non-empty text, `matches` is always false.", "charset c = ascii_digit except ascii_digit", "Correct the charset or the pattern.";
    UNUSED_DECLARATION = "W0007", "unused let, charset or pattern", "A `let`, `charset` or `pattern` is declared, but nothing that takes part in an evaluation uses it (a use by another unused declaration does not count).", "let adult = ...  # no rule uses `adult`", "Use it or remove it.";
    UNSHOWN_WITH = "W0008", "`with` value never shown", "A rule computes a `with` value, but none of its messages has a `{name}` placeholder for it.", "with char = char_name(...)  message m  # m has no `{char}`", "Add the placeholder to a message text, or remove the `with`.";
    STALE_ALLOW = "W0009", "`allow` comment silences nothing", "A `# lint: allow(W....)` comment names a code that no warning on its line (or, for a comment alone on its line, on the next line) has: the warning it was written for no longer occurs, or the code is not a lint code.", "nickname: text?  # lint: allow(W0004)   # a rule now reads nickname", "Remove the code from the comment (or the comment); if the warning moved, move the comment with it.";
    FIXED_DATE_COMPARISON = "W0010", "date comparison with a fixed result", "Both sides of a date comparison move one date by durations in one unit (days, or months and years), so their order is the same for every application: the comparison never holds, or always holds unless the date is absent.", "when today + 30 days < today        let soon = today - 30 days  when soon > today", "Check the sign of the durations and the direction of the comparison: `expires <= today + 30 days`.";
    ABSENT_ARITHMETIC = "W0011", "arithmetic on a possibly absent field", "An operand of `+ - * / mod` in a rule is an optional field (without a default) that the rule's `given` does not ask `present(...)` of: for an application without it the result is absent, the comparison unknown, and the rule silently does not fire.", "when limit > income * 2  # income: decimal?", "Add `given present(income)` to say that the rule applies only when the field is there, or give the field a default.";
    UNREAD_ATTRIBUTE = "W0012", "table attribute never read", "A table's attribute (a `table` block's, or a `bank attribute` line's) is declared, but no rule, message, `next_step` or `let` reads it: its default and every entry's value for it change nothing.", "table region { permit: bool = false }  # no rule reads `.permit`", "Read it (`x.permit` of an entry), or remove it and its values from the entries.";
    EMPTY_TABLE = "W0013", "table without entries", "A `table` is declared, but no entry of it is: every lookup `name(text)` is absent, every field of its type unknown, every quantifier over it empty.", "table region { permit: bool = false }  # and no `region CODE { ... }`", "Add its entries, or remove the table.";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique() {
        let mut seen = std::collections::BTreeSet::new();
        for c in CODES {
            assert!(seen.insert(c.code), "duplicate code {}", c.code);
        }
    }
}
