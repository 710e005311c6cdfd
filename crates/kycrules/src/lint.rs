//! Linting: what the compiler accepts but a policy author wants to know.
//!
//! [`lint`] reads the spanned syntax tree of a policy that compiled without
//! error, and its [`RuleSet`], and returns warnings with the codes `W0001` to
//! `W0013` (documented in [`diag::CODES`]). Each lint is sound in the sense that
//! matters to its reader: a warning names something that is really unused,
//! ambiguous, constant or contradictory; where the analysis cannot tell, it
//! stays silent.
//!
//! A warning is silenced by a comment `# lint: allow(W0004)` (several codes
//! separated by commas) on the line the warning points at, or alone on the
//! line above it: for a field the application format requires but no rule
//! reads, say.
//!
//! What `W0006` detects: a charset with no character at all (checked over
//! every code point); a pattern whose regular expression can match no text,
//! as the `regex` crate's own parser judges it (an empty class such as
//! `[^\s\S]`, `[a&&b]` or `\P{Any}`, and anything that must pass through
//! one); an empty text given as a charset. Not detected: patterns that cannot
//! match because of their anchors or word boundaries (`a^`, `$a`, `\b\B`
//! around a letter), which the parser treats as matchable.

mod absent;
mod dates;
mod logic;
mod tables;
mod uses;

use crate::ast::{self, Item};
use crate::compile::{TemplatePart, compile, parse_template};
use crate::diag::{self, Diagnostic};
use crate::ir::{RuleSet, Validity, bank_key};
use crate::source::{SourceMap, Span};
use std::collections::{BTreeMap, BTreeSet};
use uses::{Names, Uses};

/// Parses, compiles and lints a policy. The policy's errors when it does not
/// compile; otherwise the compiler's warnings and the lints, in source order.
pub fn lint_policy(sources: &SourceMap) -> Vec<Diagnostic> {
    let sources = sources.clone();
    crate::policy::with_large_stack(move || lint_here(&sources))
}

fn lint_here(sources: &SourceMap) -> Vec<Diagnostic> {
    let mut files = Vec::new();
    for (i, src) in sources.files.iter().enumerate() {
        match crate::syntax::parse(u32::try_from(i).unwrap_or(u32::MAX), &src.text) {
            Ok(f) => files.push(f),
            Err(_) => return crate::policy::build_here(sources).diagnostics,
        }
    }
    let compiled = compile(&files, sources);
    let mut diags = compiled.diagnostics;
    if let Some(rs) = compiled.ruleset {
        diags.extend(lint(&files, &rs, sources));
        diag::sort(&mut diags);
    }
    diags
}

/// The warnings about a compiled policy, in source order, without those its
/// comments allow.
pub fn lint(files: &[ast::File], rs: &RuleSet, sources: &SourceMap) -> Vec<Diagnostic> {
    let decls = Decls::new(files);
    let names = Names::new(&decls, rs);
    let mut out = Vec::new();
    unused_messages(&decls, &mut out);
    ambiguous_banks(&decls, rs, &mut out);
    for r in &decls.rules {
        logic::constant_conditions(r, &names, &mut out);
        logic::contradictions(r, &names, &mut out);
        unshown_withs(r, &decls, &mut out);
    }
    let used = uses::collect(&decls, &names);
    if !used.truncated {
        unread_fields(&decls, &used, &mut out);
        unused_declarations(&decls, &used, &mut out);
    }
    empty_sets(&decls, rs, &used, &mut out);
    dates::fixed_date_comparisons(&decls, &mut out);
    absent::arithmetic_on_absent(&decls, &names, rs, &mut out);
    tables::tables(files, rs, &mut out);
    let mut allows = allow_comments(sources);
    out.retain(|d| !allowed(d, sources, &mut allows));
    // W0004 and W0007 are not looked for when the use analysis was cut short;
    // an allow of theirs is then not known to be stale.
    let skipped: &[&str] = if used.truncated {
        &[diag::UNREAD_FIELD, diag::UNUSED_DECLARATION]
    } else {
        &[]
    };
    for a in allows.iter().filter(|a| !a.used && !skipped.contains(&a.code.as_str())) {
        let known = diag::CODES.iter().any(|c| c.code == a.code && c.code.starts_with('W'));
        let d = Diagnostic::warning(
            diag::STALE_ALLOW,
            format!("`lint: allow({})` silences nothing here", a.code),
            a.span,
        );
        out.push(if known {
            d.with_label(format!("no {} warning here", a.code))
                .with_help("the warning no longer occurs: remove the code from the comment, or the comment")
        } else {
            d.with_label("not a lint code")
                .with_help("lint codes are W0001 to W0013 (`kycrules codes`)")
        });
    }
    diag::sort(&mut out);
    out
}

/// A code named by a `# lint: allow(...)` comment, and whether a warning used it.
struct Allow {
    span: Span,
    code: String,
    used: bool,
}

/// Every code of every `lint: allow(...)` comment of the policy's files.
fn allow_comments(sources: &SourceMap) -> Vec<Allow> {
    let mut out = Vec::new();
    for (file, src) in sources.files.iter().enumerate() {
        let text: &str = &src.text;
        let mut line_start = 0;
        for line in text.split_inclusive('\n') {
            if let Some(comment) = comment_of(line)
                && let Some(at) = comment.find("lint: allow(")
            {
                let comment_at = line_start + (line.len() - comment.len());
                let list_at = comment_at + at + "lint: allow(".len();
                let list = text[list_at..].split([')', '\n']).next().unwrap_or("");
                let mut offset = list_at;
                for code in list.split(',') {
                    let lead = code.len() - code.trim_start().len();
                    let name = code.trim();
                    if !name.is_empty() {
                        let start = offset + lead;
                        out.push(Allow {
                            span: Span {
                                file: u32::try_from(file).unwrap_or(u32::MAX),
                                start: u32::try_from(start).unwrap_or(u32::MAX),
                                end: u32::try_from(start + name.len()).unwrap_or(u32::MAX),
                            },
                            code: name.to_owned(),
                            used: false,
                        });
                    }
                    offset += code.len() + 1;
                }
            }
            line_start += line.len();
        }
    }
    out
}

/// The declarations of a policy by kind, in source order across its files.
#[derive(Default)]
pub(crate) struct Decls<'a> {
    pub schema: Option<&'a ast::RecordType>,
    pub banks: Vec<&'a ast::EntryDecl>,
    pub charsets: Vec<&'a ast::CharsetDecl>,
    pub patterns: Vec<&'a ast::PatternDecl>,
    pub lets: Vec<&'a ast::LetDecl>,
    pub messages: Vec<&'a ast::MessageDecl>,
    pub rules: Vec<&'a ast::RuleDecl>,
    pub next_steps: Vec<&'a ast::NextStepDecl>,
    pub as_of: Vec<&'a ast::AsOfDecl>,
}

impl<'a> Decls<'a> {
    fn new(files: &'a [ast::File]) -> Self {
        let mut d = Decls::default();
        for item in files.iter().flat_map(|f| &f.items) {
            match item {
                Item::Schema(s) => d.schema = d.schema.or(Some(&s.node)),
                Item::Entry(b) => d.banks.push(b),
                Item::Charset(c) => d.charsets.push(c),
                Item::Pattern(p) => d.patterns.push(p),
                Item::Let(l) => d.lets.push(l),
                Item::Message(m) => d.messages.push(m),
                Item::Rule(r) => d.rules.push(r),
                Item::NextStep(n) => d.next_steps.push(n),
                Item::AsOf(a) => d.as_of.push(a),
                Item::Policy(_) | Item::BankAttr(_) | Item::Table(_) | Item::Set(_) => {}
            }
        }
        d
    }

    fn message(&self, name: &str) -> Option<&'a ast::MessageDecl> {
        self.messages.iter().copied().find(|m| m.name.node == name)
    }
}

/// The `{name}` placeholders of a message text (none when it is malformed).
pub(crate) fn holes(text: &str) -> Vec<String> {
    parse_template(text)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|p| match p {
            TemplatePart::Hole(name, _) => Some(name),
            TemplatePart::Text(_) => None,
        })
        .collect()
}

/// W0001: messages no rule names.
fn unused_messages(decls: &Decls<'_>, out: &mut Vec<Diagnostic>) {
    let shown: BTreeSet<&str> = decls
        .rules
        .iter()
        .flat_map(|r| &r.messages)
        .map(|c| c.message.node.as_str())
        .collect();
    for m in &decls.messages {
        if !shown.contains(m.name.node.as_str()) {
            out.push(
                Diagnostic::warning(
                    diag::UNUSED_MESSAGE,
                    format!("message `{}` is never shown", m.name.node),
                    m.name.span,
                )
                .with_label("no rule names this message")
                .with_help(format!(
                    "show it from a rule with `message {}`, or remove it",
                    m.name.node
                )),
            );
        }
    }
}

/// W0002: a code, name or alias that two banks in force together answer to.
fn ambiguous_banks(decls: &Decls<'_>, rs: &RuleSet, out: &mut Vec<Diagnostic>) {
    for table in &rs.tables {
        let entries: Vec<&ast::EntryDecl> = decls
            .banks
            .iter()
            .copied()
            .filter(|d| d.table.node == table.name)
            .collect();
        ambiguous_entries(&entries, table, out);
    }
}

/// W0002 within one table.
fn ambiguous_entries(entries: &[&ast::EntryDecl], table: &crate::ir::Table, out: &mut Vec<Diagnostic>) {
    // A compiled policy has one entry per declaration, in order.
    let validity = |i: usize| -> Validity {
        match table.list.get(i) {
            Some(b) if entries.get(i).is_some_and(|d| d.code.node == b.code) => b.validity,
            _ => Validity::default(),
        }
    };
    let (plural, one) = if table.name == "bank" {
        ("banks".to_owned(), "bank".to_owned())
    } else {
        (format!("{} entries", table.name), "entry".to_owned())
    };
    let mut seen: BTreeMap<String, Vec<(usize, Span)>> = BTreeMap::new();
    for (i, bank) in entries.iter().enumerate() {
        let keys = std::iter::once((bank.code.node.as_str(), bank.code.span))
            .chain(
                bank.names
                    .iter()
                    .flat_map(|(_, list)| list)
                    .map(|n| (n.node.as_str(), n.span)),
            )
            .chain(bank.aliases.iter().map(|a| (a.node.as_str(), a.span)));
        for (typed, span) in keys {
            let entry = seen.entry(bank_key(typed)).or_default();
            if entry.iter().any(|&(j, _)| j == i) {
                continue;
            }
            let clash = entry.iter().find(|&&(j, _)| overlap(validity(i), validity(j))).copied();
            entry.push((i, span));
            let Some((j, other)) = clash else { continue };
            let (first, this) = (&entries[j].code.node, &bank.code.node);
            out.push(
                Diagnostic::warning(
                    diag::AMBIGUOUS_BANK,
                    format!("`{typed}` names two {plural}, `{first}` and `{this}`"),
                    span,
                )
                .with_label(format!("names `{this}`"))
                .with_secondary(other, format!("names `{first}`"))
                .with_help(format!(
                    "a typed `{typed}` resolves to `{first}`, declared first; remove the name from one {one}, \
                     or give the {plural} `effective`/`until` dates that do not overlap"
                )),
            );
        }
    }
}

/// Whether two validity periods share a day.
fn overlap(a: Validity, b: Validity) -> bool {
    let before = |start: Option<crate::date::Date>, end: Option<crate::date::Date>| match (start, end) {
        (Some(s), Some(e)) => s < e,
        _ => true,
    };
    before(a.effective, b.until) && before(b.effective, a.until)
}

/// W0008: `with` values that none of the rule's messages shows.
fn unshown_withs(r: &ast::RuleDecl, decls: &Decls<'_>, out: &mut Vec<Diagnostic>) {
    let shown: BTreeSet<String> = r
        .messages
        .iter()
        .filter_map(|c| decls.message(&c.message.node))
        .flat_map(|m| &m.texts)
        .flat_map(|(_, t)| holes(&t.node))
        .collect();
    for (name, _) in &r.with {
        if !shown.contains(&name.node) {
            out.push(
                Diagnostic::warning(
                    diag::UNSHOWN_WITH,
                    format!("`with {}` is never shown", name.node),
                    name.span,
                )
                .with_label(format!("no message of rule `{}` has `{{{}}}`", r.id.node, name.node))
                .with_help(format!(
                    "add `{{{}}}` to a message text of the rule, or remove the `with`",
                    name.node
                )),
            );
        }
    }
}

/// W0004: schema fields nothing reads.
fn unread_fields(decls: &Decls<'_>, used: &Uses, out: &mut Vec<Diagnostic>) {
    let Some(schema) = decls.schema else { return };
    for f in &schema.fields {
        if f.name.node != "id" {
            unread_field(f, String::new(), used, out, 0);
        }
    }
}

fn unread_field(f: &ast::FieldDecl, prefix: String, used: &Uses, out: &mut Vec<Diagnostic>, depth: usize) {
    let path = if prefix.is_empty() {
        f.name.node.clone()
    } else {
        format!("{prefix}.{}", f.name.node)
    };
    let inner = record_of(&f.ty.node);
    if !used.touches(&path) {
        let what = if inner.is_some() {
            format!("field `{path}` and every field inside it are never read")
        } else {
            format!("field `{path}` is never read")
        };
        out.push(
            Diagnostic::warning(diag::UNREAD_FIELD, what, f.name.span)
                .with_label("no rule, let, message, `next_step` or `on` clause reads it")
                .with_help(
                    "use it in a rule or remove it; when applications must carry it anyway, \
                     write `# lint: allow(W0004)` on its line",
                ),
        );
        return;
    }
    if let Some(rec) = inner
        && depth < crate::syntax::MAX_DEPTH
    {
        for child in &rec.fields {
            unread_field(child, path.clone(), used, out, depth + 1);
        }
    }
}

/// The record a field holds, directly or as the elements of (nested) lists.
fn record_of(ty: &ast::TypeExpr) -> Option<&ast::RecordType> {
    let mut ty = ty;
    loop {
        match ty {
            ast::TypeExpr::Record(r) => return Some(r),
            ast::TypeExpr::List(inner) => ty = &inner.node,
            _ => return None,
        }
    }
}

/// W0007: lets, charsets and patterns no evaluation reaches.
fn unused_declarations(decls: &Decls<'_>, used: &Uses, out: &mut Vec<Diagnostic>) {
    let mut warn = |kind: &str, name: &ast::Ident, mentioned: bool, help: &str| {
        let label = if mentioned {
            "only unused declarations use it"
        } else {
            "no rule, message or next step uses it"
        };
        out.push(
            Diagnostic::warning(
                diag::UNUSED_DECLARATION,
                format!("{kind} `{}` is never used", name.node),
                name.span,
            )
            .with_label(label)
            .with_help(help.to_string()),
        );
    };
    for l in &decls.lets {
        if !used.lets.contains(&l.name.node) {
            let mentioned = used.mentioned_lets.contains(&l.name.node);
            warn("let", &l.name, mentioned, "use it in a rule or remove it");
        }
    }
    for c in &decls.charsets {
        if !used.charsets.contains(&c.name.node) {
            let mentioned = used.mentioned_charsets.contains(&c.name.node);
            warn(
                "charset",
                &c.name,
                mentioned,
                "use it with `only`, `has_any`, `first_outside` or `remove`, or remove it",
            );
        }
    }
    for p in &decls.patterns {
        if !used.patterns.contains(&p.name.node) {
            let mentioned = used.mentioned_patterns.contains(&p.name.node);
            warn("pattern", &p.name, mentioned, "use it with `matches`, or remove it");
        }
    }
}

/// W0006: charsets without a character, patterns that match nothing.
fn empty_sets(decls: &Decls<'_>, rs: &RuleSet, used: &Uses, out: &mut Vec<Diagnostic>) {
    // The compiler builds declared charsets first, one per declaration, in order.
    for (decl, set) in decls.charsets.iter().zip(&rs.charsets) {
        if set.is_empty() {
            out.push(
                Diagnostic::warning(
                    diag::EMPTY_SET,
                    format!("charset `{}` contains no character", decl.name.node),
                    decl.name.span,
                )
                .with_label("empty")
                .with_help("`only` fails for every non-empty text with it; check what `except` removes"),
            );
        }
    }
    for span in &used.empty_charset_literals {
        out.push(
            Diagnostic::warning(
                diag::EMPTY_SET,
                "an empty text as a charset contains no character",
                *span,
            )
            .with_help("give the characters to accept, as `\"-+\"`, or a charset's name"),
        );
    }
    let patterns = decls
        .patterns
        .iter()
        .map(|p| (&p.regex, Some(&p.name.node)))
        .chain(used.pattern_literals.iter().map(|p| (p, None)));
    for (regex, name) in patterns {
        if matches_nothing(&regex.node) {
            let what = name.map_or_else(|| "this pattern".to_string(), |n| format!("pattern `{n}`"));
            out.push(
                Diagnostic::warning(diag::EMPTY_SET, format!("{what} can match no text"), regex.span)
                    .with_label("needs a character from an empty class")
                    .with_help("`matches` is false for every text; check the character classes"),
            );
        }
    }
}

/// Whether a regular expression can match no text at all, by the parser the
/// `regex` crate uses (it ignores what anchors and word boundaries exclude).
fn matches_nothing(pattern: &str) -> bool {
    regex_syntax::ParserBuilder::new()
        .nest_limit(64)
        .build()
        .parse(pattern)
        .is_ok_and(|hir| hir.properties().minimum_len().is_none())
}

/// Whether a comment allows a warning: `# lint: allow(W0004)` on its line, or
/// alone on the line above; marks the comment's code used.
fn allowed(d: &Diagnostic, sources: &SourceMap, allows: &mut [Allow]) -> bool {
    let Some(span) = d.span else { return false };
    let Some((at, prev_start)) = allowing_lines(d, sources) else {
        return false;
    };
    let mut found = false;
    for a in allows
        .iter_mut()
        .filter(|a| a.span.file == span.file && a.code == d.code)
    {
        let s = a.span.start as usize;
        if (at.0..=at.1).contains(&s) || prev_start.is_some_and(|p| (p.0..p.1).contains(&s)) {
            a.used = true;
            found = true;
        }
    }
    found
}

/// The byte ranges of the line a warning points at, and of the line above
/// when that line is a comment alone; `None` when nothing allows the warning.
type Lines = ((usize, usize), Option<(usize, usize)>);

fn allowing_lines(d: &Diagnostic, sources: &SourceMap) -> Option<Lines> {
    let (span, src) = d.span.and_then(|s| sources.get(s.file).map(|src| (s, src)))?;
    let text: &str = &src.text;
    let at = crate::source::floor_char_boundary(text, span.start as usize);
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[at..].find('\n').map_or(text.len(), |i| at + i);
    let here = comment_allows(&text[line_start..line_end], d.code);
    let above = line_start.checked_sub(1).and_then(|prev_end| {
        let prev_start = text[..prev_end].rfind('\n').map_or(0, |i| i + 1);
        let prev = &text[prev_start..prev_end];
        (prev.trim_start().starts_with('#') && comment_allows(prev, d.code)).then_some((prev_start, prev_end))
    });
    (here || above.is_some()).then_some(((line_start, line_end), above))
}

/// Whether the comment of a line, if it has one, allows `code`.
fn comment_allows(line: &str, code: &str) -> bool {
    let Some(comment) = comment_of(line) else {
        return false;
    };
    let Some(at) = comment.find("lint: allow(") else {
        return false;
    };
    let list = &comment[at + "lint: allow(".len()..];
    let list = list.split(')').next().unwrap_or("");
    list.split(',').any(|c| c.trim() == code)
}

/// The text after the `#` that starts a line's comment, outside any string.
fn comment_of(line: &str) -> Option<&str> {
    let mut in_string = false;
    let mut raw = false;
    let mut escaped = false;
    let mut prev = ' ';
    for (i, c) in line.char_indices() {
        if in_string {
            if escaped {
                escaped = false;
            } else if c == '\\' && !raw {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if c == '"' {
            in_string = true;
            raw = prev == 'r';
        } else if c == '#' {
            return line.get(i + 1..);
        }
        prev = c;
    }
    None
}
