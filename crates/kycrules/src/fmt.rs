//! The policy formatter: one canonical layout for a policy file.
//!
//! - Two-space indent; one declaration per block; a blank line between
//!   declarations, except that one-line declarations of one kind (`let`,
//!   `bank attribute`, `charset`, `pattern`) written together stay together.
//! - Schemas: one field per line, no commas; an enum is parenthesised when
//!   `?`, a default or `sensitive` follows it, and inside `list of`.
//! - Rules: a `rule id outcome {` header, then one clause per line in the
//!   canonical order `on`, `given`, `when`, `with`, `message`, `effective`,
//!   `until`. The canonical order is chosen over the author's: every rule then
//!   reads alike, and the order of clauses of one kind (which matters for
//!   `message`) is kept. Several `on` clauses join into one.
//! - Tables: `table name {` and one attribute a line. The old spelling
//!   `bank attribute a: T = v`, when a file's lines of it stand together (and
//!   the file has no `table bank`), becomes one `table bank { ... }` block,
//!   comments kept with their lines; the formatter's check compares the
//!   output with the file so migrated.
//! - Entries (banks and those of other tables): `name` lines, one `alias`
//!   line, attributes, then dates; a quoted code stays quoted; messages:
//!   texts, then dates.
//! - Lists (`set s = [...]`) longer than the line break one item a line.
//! - Expressions: one space around operators, `, ` between arguments, the
//!   fewest parentheses that keep the meaning (plus `not (a == b)`). A line
//!   over 100 columns breaks before each `and` / `or` of its outermost chain,
//!   continuation lines indented four more columns; inner chains break likewise
//!   if still too long.
//! - Texts are re-quoted with the fewest escapes (characters one cannot see
//!   stay escaped); raw texts `r"..."` stay raw.
//! - Every comment is kept, before or after the line it was written with
//!   (the rules are in `fmt/tree.rs`).
//!
//! A file that does not parse is not formatted. Formatting keeps the syntax
//! tree: `parse(format(p)) == parse(p)`, and [`format`] checks it on every
//! run, so a bug in the formatter cannot change a policy's meaning.

mod comments;
mod doc;
mod expr;
mod tree;

pub use comments::{Comment, scan as comments};

use crate::ast::{self, Item};
use crate::diag::Diagnostic;
use crate::source::Span;
use doc::Doc;
pub use expr::quote;
use expr::{CONTINUATION, text};
use tree::Tree;

/// The width a line may have before an expression is broken.
pub const WIDTH: usize = 100;

/// Why a file was not formatted.
#[derive(Debug)]
pub enum FormatError {
    /// The file does not parse.
    Syntax(Vec<Diagnostic>),
    /// The formatted text would not mean the same as the file, or would lose a
    /// comment: a bug in the formatter; the file is left as it is.
    Changed,
}

/// Formats the text of a policy file; `file` is its index in a
/// [`SourceMap`](crate::source::SourceMap), for the diagnostics.
pub fn format(file: u32, text: &str) -> Result<String, FormatError> {
    let parsed = migrate(crate::syntax::parse(file, text).map_err(FormatError::Syntax)?);
    let out = format_file(&parsed, text);
    let same_tree = crate::syntax::parse(file, &out).is_ok_and(|f| f == parsed);
    let texts = |t: &str| {
        let mut v: Vec<String> = comments(t).into_iter().map(|c| c.text).collect();
        v.sort_unstable();
        v
    };
    if same_tree && texts(&out) == texts(text) {
        Ok(out)
    } else {
        Err(FormatError::Changed)
    }
}

/// A file with its `bank attribute` lines as one `table bank` block, when
/// they stand together (no other declaration between them) and the file
/// declares no `table bank` itself; otherwise the file as it is.
pub fn migrate(mut file: ast::File) -> ast::File {
    let at: Vec<usize> = file
        .items
        .iter()
        .enumerate()
        .filter(|(_, i)| matches!(i, Item::BankAttr(_)))
        .map(|(n, _)| n)
        .collect();
    let (Some(&first), Some(&last)) = (at.first(), at.last()) else {
        return file;
    };
    let has_table = file
        .items
        .iter()
        .any(|i| matches!(i, Item::Table(t) if t.name.node == "bank"));
    if has_table || last - first + 1 != at.len() {
        return file;
    }
    let attrs: Vec<ast::AttrDecl> = file
        .items
        .drain(first..=last)
        .filter_map(|i| if let Item::BankAttr(a) = i { Some(a) } else { None })
        .collect();
    let (Some(a), Some(z)) = (attrs.first(), attrs.last()) else {
        return file;
    };
    let span = a.span.to(z.span);
    // The name's span is the first line's: how `Builder::table` tells a
    // migrated block (whose comments stay with their lines) from a written one.
    let name = crate::source::Spanned::new("bank".to_owned(), a.span);
    file.items
        .insert(first, Item::Table(ast::TableDecl { name, attrs, span }));
    file
}

/// Formats a parsed file; `text` is the source it was parsed from.
pub fn format_file(file: &ast::File, text: &str) -> String {
    let mut b = Builder {
        tree: Tree::new(text, WIDTH),
    };
    let items = file.items.iter().map(|i| b.item(i)).collect();
    let mut tree = b.tree;
    tree.set_items(items);
    tree.attach();
    tree.mark_groups();
    tree.render()
}

fn range(span: Span) -> (usize, usize) {
    (span.start as usize, span.end as usize)
}

fn between(a: Span, b: Span) -> (usize, usize) {
    range(a.to(b))
}

struct Builder<'a> {
    tree: Tree<'a>,
}

impl Builder<'_> {
    fn src(&self) -> &str {
        self.tree.src
    }

    fn leaf(&mut self, range: (usize, usize), head: Doc) -> usize {
        self.tree.leaf(vec![range], head)
    }

    fn item(&mut self, item: &Item) -> usize {
        let span = range(item.span());
        let (id, group) = match item {
            Item::Policy(p) => {
                let langs: Vec<&str> = p.languages.iter().map(|l| l.node.as_str()).collect();
                let head = format!(
                    "policy {} version {} languages {}",
                    quote(&p.name.node),
                    quote(&p.version.node),
                    langs.join(", ")
                );
                (self.leaf(span, Doc::text(head)), None)
            }
            Item::Schema(rec) => {
                let fields = self.fields(&rec.node);
                (self.tree.block(span, Doc::text("schema"), fields, "}".into()), None)
            }
            Item::BankAttr(a) => {
                let value = expr::literal(self.src(), a.default.span, &a.default.node);
                let head = format!("bank attribute {}: {} = {value}", a.name.node, a.ty.node);
                (self.leaf(span, Doc::text(head)), Some("bank attribute"))
            }
            Item::Table(t) => (self.table(t, span), None),
            Item::Entry(b) => (self.bank(b, span), None),
            Item::Charset(c) => (self.charset(c, span), Some("charset")),
            Item::Pattern(p) => {
                let head = format!(
                    "pattern {} = {}",
                    p.name.node,
                    text(self.src(), p.regex.span, &p.regex.node)
                );
                (self.leaf(span, Doc::text(head)), Some("pattern"))
            }
            Item::Let(l) => {
                let head = Doc::Concat(vec![
                    Doc::text(format!("let {} = ", l.name.node)),
                    Doc::nest(CONTINUATION, expr::expr(self.src(), &l.value)),
                ]);
                (self.leaf(span, head), Some("let"))
            }
            Item::Set(d) => {
                let head = Doc::Concat(vec![
                    Doc::text(format!("set {} = ", d.name.node)),
                    expr::list(self.src(), &d.items),
                ]);
                (self.leaf(span, head), Some("set"))
            }
            Item::Message(m) => (self.message(m, span), None),
            Item::Rule(r) => (self.rule(r, span), None),
            Item::NextStep(n) => (self.next_step(n, span), None),
            Item::AsOf(a) => {
                let path: Vec<&str> = a.field.node.iter().map(|i| i.node.as_str()).collect();
                (self.leaf(span, Doc::text(format!("as_of {}", path.join(".")))), None)
            }
        };
        self.tree.nodes[id].group = group;
        id
    }

    fn fields(&mut self, rec: &ast::RecordType) -> Vec<usize> {
        rec.fields.iter().map(|f| self.field(f)).collect()
    }

    fn field(&mut self, f: &ast::FieldDecl) -> usize {
        let mut suffix = String::new();
        if f.optional {
            suffix.push('?');
        }
        if let Some(d) = &f.default {
            suffix.push_str(" = ");
            suffix.push_str(&expr::literal(self.src(), d.span, &d.node));
        }
        if f.sensitive {
            suffix.push_str(" sensitive");
        }
        let mut head = format!("{}: ", f.name.node);
        let mut ty = &f.ty.node;
        while let ast::TypeExpr::List(inner) = ty
            && matches!(innermost(&inner.node), ast::TypeExpr::Record(_))
        {
            head.push_str("list of ");
            ty = &inner.node;
        }
        let span = range(f.span);
        match ty {
            ast::TypeExpr::Record(rec) => {
                let children = self.fields(rec);
                let head = head.trim_end().to_string();
                self.tree.block(span, Doc::text(head), children, format!("}}{suffix}"))
            }
            _ => {
                head.push_str(&type_text(ty, !suffix.is_empty()));
                head.push_str(&suffix);
                self.leaf(span, Doc::text(head))
            }
        }
    }

    fn table(&mut self, t: &ast::TableDecl, span: (usize, usize)) -> usize {
        let children = t
            .attrs
            .iter()
            .map(|a| {
                let value = expr::literal(self.src(), a.default.span, &a.default.node);
                let head = format!("{}: {} = {value}", a.name.node, a.ty.node);
                self.leaf(range(a.span), Doc::text(head))
            })
            .collect();
        let head = Doc::text(format!("table {}", t.name.node));
        let id = self.tree.block(span, head, children, "}".into());
        // (Spans compare equal whatever they cover: compare the ranges.)
        if t.attrs.first().is_some_and(|a| range(a.span) == range(t.name.span)) {
            // Migrated `bank attribute` lines: the block reaches from the
            // comment lines right above the first line to the end of the
            // last line, so those comments go before the first attribute and
            // the last line's trailing comment stays on it, inside the block.
            let src = self.src();
            let mut start = src[..span.0].rfind('\n').map_or(0, |i| i + 1);
            while let Some(prev_end) = start.checked_sub(1) {
                let prev_start = src[..prev_end].rfind('\n').map_or(0, |i| i + 1);
                if !src[prev_start..prev_end].trim_start().starts_with('#') {
                    break;
                }
                start = prev_start;
            }
            let end = src[span.1..].find('\n').map_or(src.len(), |i| span.1 + i);
            // From the line break before, so the first comment is inside too.
            self.tree.nodes[id].ranges = vec![(start.saturating_sub(1), end)];
        }
        id
    }

    fn bank(&mut self, b: &ast::EntryDecl, span: (usize, usize)) -> usize {
        let mut children = Vec::new();
        for (lang, names) in &b.names {
            let end = names.last().map_or(lang.span, |n| n.span);
            let head = self.text_list(format!("name {} ", lang.node), names);
            children.push(self.leaf(between(lang.span, end), head));
        }
        if !b.aliases.is_empty() {
            let head = self.text_list("alias ".into(), &b.aliases);
            let ranges = b.aliases.iter().map(|a| range(a.span)).collect();
            children.push(self.tree.leaf(ranges, head));
        }
        for (name, value) in &b.attrs {
            let head = format!("{} = {}", name.node, expr::literal(self.src(), value.span, &value.node));
            children.push(self.leaf(between(name.span, value.span), Doc::text(head)));
        }
        children.extend(self.dates(&b.dates));
        let code = if b.quoted {
            text(self.src(), b.code.span, &b.code.node)
        } else {
            b.code.node.clone()
        };
        let head = Doc::text(format!("{} {code}", b.table.node));
        self.tree.block(span, head, children, "}".into())
    }

    /// `keyword "a", "b"`, broken one text a line if too long.
    fn text_list(&self, keyword: String, texts: &[crate::source::Spanned<String>]) -> Doc {
        let mut parts = Vec::new();
        for (i, t) in texts.iter().enumerate() {
            if i > 0 {
                parts.push(Doc::text(","));
                parts.push(Doc::Line);
            }
            parts.push(Doc::text(text(self.src(), t.span, &t.node)));
        }
        Doc::Concat(vec![
            Doc::text(keyword),
            Doc::nest(CONTINUATION, Doc::group(Doc::Concat(parts))),
        ])
    }

    fn dates(&mut self, dates: &ast::Dates) -> Vec<usize> {
        let effective = dates.effective.iter().map(|d| ("effective", d));
        let until = dates.until.iter().map(|d| ("until", d));
        effective
            .chain(until)
            .map(|(kw, d)| self.leaf(range(d.span), Doc::text(format!("{kw} {}", d.node))))
            .collect::<Vec<_>>()
    }

    fn charset(&mut self, c: &ast::CharsetDecl, span: (usize, usize)) -> usize {
        let mut parts = Vec::new();
        self.charset_terms(&mut parts, &c.expr.include);
        if !c.expr.exclude.is_empty() {
            parts.push(Doc::Line);
            parts.push(Doc::text("except "));
            self.charset_terms(&mut parts, &c.expr.exclude);
        }
        let head = Doc::Concat(vec![
            Doc::text(format!("charset {} = ", c.name.node)),
            Doc::nest(CONTINUATION, Doc::group(Doc::Concat(parts))),
        ]);
        self.leaf(span, head)
    }

    fn charset_terms(&self, parts: &mut Vec<Doc>, terms: &[crate::source::Spanned<ast::CharsetTerm>]) {
        for (i, t) in terms.iter().enumerate() {
            if i > 0 {
                parts.push(Doc::Line);
                parts.push(Doc::text("| "));
            }
            let s = match &t.node {
                ast::CharsetTerm::Chars(s) => text(self.src(), t.span, s),
                ast::CharsetTerm::Range(a, b) => format!("{}..{}", quote(&a.to_string()), quote(&b.to_string())),
                ast::CharsetTerm::Class(f, arg) => format!("{}({})", f.node, arg.node),
                ast::CharsetTerm::Named(n) => n.clone(),
            };
            parts.push(Doc::text(s));
        }
    }

    fn message(&mut self, m: &ast::MessageDecl, span: (usize, usize)) -> usize {
        let mut children = Vec::new();
        for (lang, t) in &m.texts {
            let head = format!("{} {}", lang.node, text(self.src(), t.span, &t.node));
            children.push(self.leaf(between(lang.span, t.span), Doc::text(head)));
        }
        children.extend(self.dates(&m.dates));
        let head = Doc::text(format!("message {}", m.name.node));
        self.tree.block(span, head, children, "}".into())
    }

    /// A clause `keyword expression`, the expression indented if it breaks.
    fn clause(&mut self, range: (usize, usize), keyword: String, e: &ast::Expr) -> usize {
        let head = Doc::Concat(vec![
            Doc::text(keyword),
            Doc::nest(CONTINUATION, expr::expr(self.src(), e)),
        ]);
        self.leaf(range, head)
    }

    fn rule(&mut self, r: &ast::RuleDecl, span: (usize, usize)) -> usize {
        let mut children = Vec::new();
        if !r.on.is_empty() {
            let mut parts = Vec::new();
            for (i, p) in r.on.iter().enumerate() {
                if i > 0 {
                    parts.push(Doc::text(","));
                    parts.push(Doc::Line);
                }
                let path: Vec<&str> = p.node.iter().map(|s| s.node.as_str()).collect();
                parts.push(Doc::text(path.join(".")));
            }
            let head = Doc::Concat(vec![
                Doc::text("on "),
                Doc::nest(CONTINUATION, Doc::group(Doc::Concat(parts))),
            ]);
            let ranges = r.on.iter().map(|p| range(p.span)).collect();
            children.push(self.tree.leaf(ranges, head));
        }
        for g in &r.given {
            children.push(self.clause(range(g.span), "given ".into(), g));
        }
        for w in &r.when {
            children.push(self.clause(range(w.span), "when ".into(), w));
        }
        for (name, value) in &r.with {
            let kw = format!("with {} = ", name.node);
            children.push(self.clause(between(name.span, value.span), kw, value));
        }
        for m in &r.messages {
            let id = match &m.condition {
                Some(cond) => {
                    let kw = format!("message {} if ", m.message.node);
                    self.clause(between(m.message.span, cond.span), kw, cond)
                }
                None => self.leaf(range(m.message.span), Doc::text(format!("message {}", m.message.node))),
            };
            children.push(id);
        }
        children.extend(self.dates(&r.dates));
        let head = Doc::text(format!("rule {} {}", r.id.node, r.outcome.node));
        self.tree.block(span, head, children, "}".into())
    }

    fn next_step(&mut self, n: &ast::NextStepDecl, span: (usize, usize)) -> usize {
        let mut children = Vec::new();
        for (name, cond) in &n.steps {
            let id = match cond {
                Some(c) => self.clause(between(name.span, c.span), format!("{} when ", name.node), c),
                None => self.leaf(range(name.span), Doc::text(format!("{} otherwise", name.node))),
            };
            children.push(id);
        }
        self.tree.block(span, Doc::text("next_step"), children, "}".into())
    }
}

/// The type under any number of `list of`.
fn innermost(mut ty: &ast::TypeExpr) -> &ast::TypeExpr {
    while let ast::TypeExpr::List(inner) = ty {
        ty = &inner.node;
    }
    ty
}

/// A type that is not a record, `wrap`ping an enum in parentheses.
fn type_text(ty: &ast::TypeExpr, wrap: bool) -> String {
    match ty {
        ast::TypeExpr::Named(n) => n.clone(),
        ast::TypeExpr::Enum(values) => {
            let joined = values.iter().map(|v| v.node.as_str()).collect::<Vec<_>>().join(" | ");
            if wrap { format!("({joined})") } else { joined }
        }
        ast::TypeExpr::List(inner) => format!("list of {}", type_text(&inner.node, true)),
        // A record inside a list is laid out as a block by the caller.
        ast::TypeExpr::Record(_) => "{}".to_string(),
    }
}
