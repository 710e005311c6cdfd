//! The answers to the editor's requests, over one project's analysis.

use crate::index::{BUILTIN_TYPES, BUILTINS, Index, KEYWORDS, Kind, Occ};
use crate::project::{Analysis, FileState, Project};
use kycrules::ast::{self, Item, Literal};
use kycrules::diag;
use kycrules::source::Span;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// The semantic token types, in legend order.
pub const TOKEN_TYPES: &[&str] = &[
    "property",
    "variable",
    "type",
    "regexp",
    "macro",
    "enumMember",
    "class",
    "function",
];

fn token_type(kind: Kind) -> u32 {
    match kind {
        Kind::Field | Kind::BankAttr => 0,
        Kind::Let => 1,
        Kind::Charset | Kind::Table => 2,
        Kind::Pattern => 3,
        Kind::Message => 4,
        Kind::Bank => 5,
        Kind::Rule => 6,
        Kind::Builtin => 7,
    }
}

/// A request's place: the project's analysis, the file's index and state, the byte offset.
pub struct At<'a> {
    pub analysis: &'a Analysis,
    pub project: &'a Project,
    pub file: u32,
    pub state: &'a FileState,
    pub offset: u32,
}

impl At<'_> {
    fn occ(&self) -> Option<&Occ> {
        self.analysis.index.at(self.file, self.offset)
    }
}

fn location(p: &Project, span: Span) -> Option<Value> {
    let f = p.files.get(span.file as usize)?;
    Some(json!({"uri": f.uri, "range": f.lines.range(&f.text, span)}))
}

fn items(a: &Analysis) -> impl Iterator<Item = &Item> {
    a.asts.iter().flatten().flat_map(|f| f.items.iter())
}

fn literal(l: &Literal) -> String {
    match l {
        Literal::Text(s) => kycrules::fmt::quote(s),
        Literal::Number(s) | Literal::Date(s) | Literal::Name(s) => s.clone(),
        Literal::Bool(b) => b.to_string(),
        #[allow(unreachable_patterns)]
        _ => "...".to_string(),
    }
}

fn place(a: &Analysis, span: Span) -> String {
    a.sources.location(span)
}

// ------------------------------------------------------------------- hover

pub fn hover(at: &At) -> Value {
    let mut parts = Vec::new();
    let mut range = None;
    if let Some(o) = at.occ() {
        range = Some(at.state.lines.range(&at.state.text, o.span));
        if let Some(h) = describe(at, o) {
            parts.push(h);
        }
    }
    for d in &at.analysis.diagnostics {
        let Some(s) = d.span else { continue };
        if s.file == at.file
            && s.start <= at.offset
            && at.offset <= s.end
            && let Some(doc) = diag::CODES.iter().find(|c| c.code == d.code)
        {
            parts.push(format!(
                "**{}** {}: {}\n\nFix: {}\n\n`kycrules codes {}`",
                doc.code, doc.title, doc.explanation, doc.fix, doc.code
            ));
        }
    }
    if parts.is_empty() {
        return Value::Null;
    }
    let mut v = json!({"contents": {"kind": "markdown", "value": parts.join("\n\n---\n\n")}});
    if let Some(r) = range {
        v["range"] = r;
    }
    v
}

fn describe(at: &At, o: &Occ) -> Option<String> {
    let a = at.analysis;
    let decl_snippet = |kind: Kind| -> Option<String> {
        let d = a.index.all(kind, &o.name).find(|d| d.decl)?;
        let item = items(a).find(|i| {
            let s = i.span();
            s.file == d.span.file && s.start <= d.span.start && d.span.end <= s.end
        })?;
        Some(format!(
            "```kycrules\n{}\n```\n\n{}",
            a.sources.snippet(item.span()).trim_end(),
            place(a, d.span)
        ))
    };
    match o.kind {
        Kind::Field => {
            let f = a.index.fields.get(&o.name)?;
            let mut s = format!(
                "```kycrules\n{}: {}{}\n```\n\nfield",
                o.name,
                f.ty,
                if f.optional { "?" } else { "" }
            );
            if f.sensitive {
                s.push_str(", sensitive (masked in reports)");
            }
            s.push_str(&format!(" declared in the schema at {}", place(a, f.name_span)));
            Some(s)
        }
        Kind::Let | Kind::Charset | Kind::Pattern => decl_snippet(o.kind),
        Kind::BankAttr => attr_hover(a, &o.name),
        Kind::Table => table_hover(a, &o.name),
        Kind::Builtin => {
            let (_, sig, doc) = BUILTINS.iter().find(|(n, _, _)| *n == o.name)?;
            Some(format!("```kycrules\n{sig}\n```\n\n{doc}"))
        }
        Kind::Message => items(a).find_map(|i| match i {
            Item::Message(m) if m.name.node == o.name => {
                let mut s = format!("message `{}`\n", o.name);
                for (lang, text) in &m.texts {
                    s.push_str(&format!("\n- {}: {}", lang.node, kycrules::fmt::quote(&text.node)));
                }
                s.push_str(&format!("\n\n{}", place(a, m.name.span)));
                Some(s)
            }
            _ => None,
        }),
        Kind::Bank => {
            // (table, attribute, default) of every table, `bank attribute` lines included.
            let defaults: Vec<(&str, &str, String)> = items(a)
                .flat_map(|i| match i {
                    Item::BankAttr(b) => vec![("bank", b.name.node.as_str(), literal(&b.default.node))],
                    Item::Table(t) => t
                        .attrs
                        .iter()
                        .map(|b| (t.name.node.as_str(), b.name.node.as_str(), literal(&b.default.node)))
                        .collect(),
                    _ => Vec::new(),
                })
                .collect();
            let (table, code) = o.name.split_once(' ')?;
            items(a).find_map(|i| match i {
                Item::Entry(b) if b.table.node == table && b.code.node == code => {
                    let of_table: Vec<(&str, String)> = defaults
                        .iter()
                        .filter(|(t, ..)| *t == b.table.node)
                        .map(|(_, n, d)| (*n, d.clone()))
                        .collect();
                    Some(bank_hover(a, b, &of_table))
                }
                _ => None,
            })
        }
        Kind::Rule => items(a).find_map(|i| match i {
            Item::Rule(r) if r.id.node == o.name => Some(rule_hover(at.project, a, r)),
            _ => None,
        }),
    }
}

/// A table's attribute (`table.attribute`): its declaration line and its table.
fn attr_hover(a: &Analysis, name: &str) -> Option<String> {
    let (table, attr) = name.split_once('.')?;
    let decl = items(a).find_map(|i| match i {
        Item::BankAttr(d) if table == "bank" && d.name.node == attr => Some((d.span, d.name.span)),
        Item::Table(t) if t.name.node == table => t
            .attrs
            .iter()
            .find(|d| d.name.node == attr)
            .map(|d| (d.span, d.name.span)),
        _ => None,
    })?;
    Some(format!(
        "```kycrules\n{}\n```\n\nattribute of table `{table}`, declared at {}",
        a.sources.snippet(decl.0).trim(),
        place(a, decl.1)
    ))
}

/// A table: its declaration (or its attributes, for a `bank` without one) and its entries.
fn table_hover(a: &Analysis, name: &str) -> Option<String> {
    let info = a.index.tables.get(name)?;
    let decl = items(a).find_map(|i| match i {
        Item::Table(t) if t.name.node == name => Some(t.span),
        _ => None,
    });
    let mut s = match decl {
        Some(span) => format!("```kycrules\n{}\n```\n\n", a.sources.snippet(span).trim_end()),
        None => {
            let attrs: Vec<String> = info.attrs.iter().map(|(n, t)| format!("{n}: {t}")).collect();
            format!("```kycrules\ntable {name} {{ {} }}\n```\n\n", attrs.join(" "))
        }
    };
    let codes: Vec<String> = info.entries.keys().take(8).map(|c| format!("`{c}`")).collect();
    s.push_str(&format!(
        "table `{name}`: {} entries{}{}\n\nA type, a lookup `{name}(text)` (the entry in force that the text names), a collection `count(x in {name}: ...)`; its entries' `x.code`, `x.known`.",
        info.entries.len(),
        if codes.is_empty() { "" } else { ": " },
        codes.join(", ") + if info.entries.len() > codes.len() { ", ..." } else { "" },
    ));
    if let Some(span) = info.decl {
        s.push_str(&format!("\n\n{}", place(a, span)));
    }
    Some(s)
}

fn bank_hover(a: &Analysis, b: &ast::EntryDecl, defaults: &[(&str, String)]) -> String {
    let mut s = format!("{} `{}`\n", b.table.node, b.code.node);
    for (lang, names) in &b.names {
        let names: Vec<String> = names.iter().map(|n| kycrules::fmt::quote(&n.node)).collect();
        s.push_str(&format!("\n- name {}: {}", lang.node, names.join(", ")));
    }
    if !b.aliases.is_empty() {
        let aliases: Vec<String> = b.aliases.iter().map(|n| kycrules::fmt::quote(&n.node)).collect();
        s.push_str(&format!("\n- aliases: {}", aliases.join(", ")));
    }
    for (name, default) in defaults {
        match b.attrs.iter().find(|(n, _)| n.node == *name) {
            Some((_, v)) => s.push_str(&format!("\n- {name} = {}", literal(&v.node))),
            None => s.push_str(&format!("\n- {name} = {default} (default)")),
        }
    }
    s.push_str(&format!("\n\n{}", place(a, b.code.span)));
    s
}

fn rule_hover(p: &Project, a: &Analysis, r: &ast::RuleDecl) -> String {
    let mut s = format!("rule `{}`: outcome **{}**", r.id.node, r.outcome.node);
    if !r.messages.is_empty() {
        let ms: Vec<String> = r.messages.iter().map(|m| format!("`{}`", m.message.node)).collect();
        s.push_str(&format!("\n\nmessages: {}", ms.join(", ")));
    }
    for line in lens_titles(p, &r.id.node) {
        s.push_str(&format!("\n\n{line}"));
    }
    s.push_str(&format!("\n\n{}", place(a, r.id.span)));
    s
}

// ------------------------------------------------------ navigation, rename

pub fn definition(at: &At) -> Value {
    let Some(o) = at.occ() else { return Value::Null };
    let locs: Vec<Value> = at
        .analysis
        .index
        .all(o.kind, &o.name)
        .filter(|d| d.decl)
        .filter_map(|d| location(at.project, d.span))
        .collect();
    if locs.is_empty() { Value::Null } else { json!(locs) }
}

pub fn references(at: &At, include_declaration: bool) -> Value {
    let Some(o) = at.occ() else { return Value::Null };
    let locs: Vec<Value> = at
        .analysis
        .index
        .all(o.kind, &o.name)
        .filter(|d| include_declaration || !d.decl)
        .filter_map(|d| location(at.project, d.span))
        .collect();
    json!(locs)
}

/// Whether `name` can stand for a `kind` name.
fn valid_name(kind: Kind, name: &str) -> bool {
    let mut cs = name.chars();
    let first_ok = cs.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    let rest_ok = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || (kind == Kind::Rule && c == '-'));
    first_ok && rest_ok && !KEYWORDS.contains(&name)
}

pub fn rename(at: &At, new_name: &str) -> Result<Value, String> {
    let Some(o) = at.occ() else {
        return Err("nothing to rename here".into());
    };
    if !o.kind.renamable() {
        return Err("only lets, messages and rules can be renamed".into());
    }
    if !valid_name(o.kind, new_name) {
        return Err(format!("`{new_name}` is not a valid name"));
    }
    let ix: &Index = &at.analysis.index;
    let taken = match o.kind {
        Kind::Let => ix.lets.contains(new_name),
        Kind::Message => ix.messages.contains(new_name),
        _ => ix.rules.contains(new_name),
    };
    if taken {
        return Err(format!("`{new_name}` is already declared"));
    }
    let mut changes: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for occ in ix.all(o.kind, &o.name) {
        if let Some(f) = at.project.files.get(occ.span.file as usize) {
            changes
                .entry(f.uri.clone())
                .or_default()
                .push(json!({"range": f.lines.range(&f.text, occ.span), "newText": new_name}));
        }
    }
    Ok(json!({"changes": changes}))
}

// -------------------------------------------------------------- completion

pub fn completion(at: &At) -> Value {
    let text = &at.state.text;
    let offset = kycrules::source::floor_char_boundary(text, at.offset as usize);
    let before = &text[..offset];
    let word_start = before
        .char_indices()
        .rev()
        .take_while(|(_, c)| c.is_ascii_alphanumeric() || *c == '_' || *c == '.')
        .last()
        .map_or(offset, |(i, _)| i);
    let word = &before[word_start..];
    let ix = &at.analysis.index;
    let mut out: Vec<Value> = Vec::new();
    let item = |label: &str, kind: u32, detail: &str| json!({"label": label, "kind": kind, "detail": detail});
    if let Some(dot) = word.rfind('.') {
        let prefix = &word[..dot];
        let parent = resolve_prefix(at, prefix, word_start);
        if let Some(parent) = parent {
            let depth = parent.matches('.').count() + 1;
            for (path, f) in ix.fields.range(format!("{parent}.")..) {
                if !path.starts_with(&format!("{parent}.")) {
                    break;
                }
                if path.matches('.').count() == depth {
                    let name = &path[parent.len() + 1..];
                    out.push(item(name, 5, &format!("{}{}", f.ty, if f.optional { "?" } else { "" })));
                }
            }
        }
        let table = if prefix.is_empty() {
            call_table(at, before[..word_start].trim_end())
        } else {
            prefix_table(at, prefix, word_start)
        };
        if let Some(t) = table {
            entry_fields(ix, &t, &mut out);
        }
        return json!({"isIncomplete": false, "items": out});
    }
    let previous = before[..word_start].trim_end();
    if previous.ends_with("message") {
        for m in &ix.messages {
            out.push(item(m, 21, "message"));
        }
        return json!({"isIncomplete": false, "items": out});
    }
    if previous.ends_with("fired(") {
        for r in &ix.rules {
            out.push(item(r, 18, "rule"));
        }
        return json!({"isIncomplete": false, "items": out});
    }
    if let Some(codes) = entry_codes(at, previous, word_start) {
        return json!({"isIncomplete": false, "items": codes});
    }
    if type_position(previous) {
        for t in BUILTIN_TYPES.iter().filter(|t| **t != "number") {
            out.push(item(t, 7, "type"));
        }
        out.push(item("list of", 14, "keyword"));
        for t in ix.tables.keys() {
            out.push(item(t, 7, &format!("table `{t}`: its entries")));
        }
        return json!({"isIncomplete": false, "items": out});
    }
    for (path, f) in &ix.fields {
        if !path.contains('.') {
            out.push(item(path, 5, &format!("{}{}", f.ty, if f.optional { "?" } else { "" })));
        }
    }
    for l in &ix.lets {
        out.push(item(l, 6, "let"));
    }
    for c in &ix.charsets {
        out.push(item(c, 21, "charset"));
    }
    for p in &ix.patterns {
        out.push(item(p, 21, "pattern"));
    }
    for (t, info) in &ix.tables {
        for (code, e) in info.entries.iter().filter(|(_, e)| !e.quoted) {
            out.push(item(code, 20, &entry_detail(t, e)));
        }
    }
    for t in ix.tables.keys() {
        out.push(item(t, 3, &format!("{t}(text) -> {t}?")));
    }
    for m in &ix.messages {
        out.push(item(m, 21, "message"));
    }
    for (name, sig, _) in BUILTINS {
        out.push(item(name, 3, sig));
    }
    for k in KEYWORDS {
        out.push(item(k, 14, "keyword"));
    }
    json!({"isIncomplete": false, "items": out})
}

/// `TABLE NAME`: an entry's table and its first name.
fn entry_detail(table: &str, e: &crate::index::EntryInfo) -> String {
    match &e.name {
        Some(n) => format!("{table} {n}"),
        None => table.to_string(),
    }
}

/// The fields of a table's entry: its attributes, `code` and `known`.
fn entry_fields(ix: &Index, table: &str, out: &mut Vec<Value>) {
    let Some(info) = ix.tables.get(table) else { return };
    for (a, ty) in &info.attrs {
        out.push(json!({"label": a, "kind": 10, "detail": format!("{ty}, attribute of table `{table}`")}));
    }
    out.push(json!({"label": "code", "kind": 10, "detail": format!("text, the {table} entry's code")}));
    out.push(json!({"label": "known", "kind": 10, "detail": format!("bool, the text named a {table} entry")}));
}

/// A schema field's or a table attribute's type follows: `name: ` outside parentheses.
fn type_position(previous: &str) -> bool {
    let line = previous.rsplit('\n').next().unwrap_or(previous);
    line.ends_with(':') && line.matches('(').count() <= line.matches(')').count()
}

/// After `== ` or `!= `: the codes of the entries the other side's table has
/// — quoted after `x.code`, bare names after a value of the table.
fn entry_codes(at: &At, previous: &str, word_start: usize) -> Option<Vec<Value>> {
    let left = previous
        .strip_suffix("==")
        .or_else(|| previous.strip_suffix("!="))?
        .trim_end();
    let start = left
        .char_indices()
        .rev()
        .take_while(|(_, c)| c.is_ascii_alphanumeric() || *c == '_' || *c == '.')
        .last()
        .map_or(left.len(), |(i, _)| i);
    let operand = &left[start..];
    let before = word_start.saturating_sub(previous.len() - start);
    let ix = &at.analysis.index;
    let (table, quoted) = match operand.strip_suffix(".code") {
        Some(prefix) => (prefix_table(at, prefix, before)?, true),
        None => (prefix_table(at, operand, before)?, false),
    };
    let info = ix.tables.get(&table)?;
    let out: Vec<Value> = info
        .entries
        .iter()
        .filter(|(_, e)| quoted || !e.quoted)
        .map(|(code, e)| {
            let label = if quoted {
                kycrules::fmt::quote(code)
            } else {
                code.clone()
            };
            json!({"label": label, "kind": 20, "detail": entry_detail(&table, e)})
        })
        .collect();
    (!out.is_empty()).then_some(out)
}

/// The table a lookup closing just before a `.` names: `region(slice(t, 0, 2)).`.
fn call_table(at: &At, before: &str) -> Option<String> {
    let inner = before.strip_suffix(')')?;
    let mut depth = 1usize;
    let mut open = None;
    for (i, ch) in inner.char_indices().rev() {
        match ch {
            ')' => depth += 1,
            '(' => {
                depth -= 1;
                if depth == 0 {
                    open = Some(i);
                    break;
                }
            }
            _ => {}
        }
    }
    let head = &inner[..open?];
    let name_start = head
        .char_indices()
        .rev()
        .take_while(|(_, c)| c.is_ascii_alphanumeric() || *c == '_')
        .last()
        .map_or(head.len(), |(i, _)| i);
    let name = &head[name_start..];
    at.analysis.index.tables.contains_key(name).then(|| name.to_string())
}

/// The table of the entry a dotted prefix holds: a field of a table type, a
/// let holding an entry, a quantifier's variable over a table or a table-typed list.
fn prefix_table(at: &At, prefix: &str, before: usize) -> Option<String> {
    let ix = &at.analysis.index;
    if let Some(t) = ix.let_tables.get(prefix) {
        return Some(t.clone());
    }
    if !prefix.contains('.')
        && let Some(text) = at.state.text.get(..before)
        && let Some(i) = text.rfind(&format!("{prefix} in "))
    {
        let list: String = text[i + prefix.len() + 4..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if ix.tables.contains_key(&list) && !ix.fields.contains_key(&list) {
            return Some(list);
        }
    }
    let path = resolve_prefix(at, prefix, before)?;
    ix.fields.get(&path)?.table.clone()
}

/// The field path a dotted prefix names: a field, or a quantifier's variable
/// (`d in documents`) written before the cursor.
fn resolve_prefix(at: &At, prefix: &str, before: usize) -> Option<String> {
    let ix = &at.analysis.index;
    if ix.fields.contains_key(prefix) {
        return Some(prefix.to_string());
    }
    let (var, rest) = prefix.split_once('.').map_or((prefix, ""), |(v, r)| (v, r));
    // `any(d in documents: d.` — find the last `var in path` before the cursor.
    let text = at.state.text.get(..before)?;
    let needle = format!("{var} in ");
    let at_var = text.rfind(&needle)?;
    let list: String = text[at_var + needle.len()..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '.')
        .collect();
    let path = if rest.is_empty() {
        list
    } else {
        format!("{list}.{rest}")
    };
    ix.fields.contains_key(&path).then_some(path)
}

// ------------------------------------------------------------- formatting

pub fn formatting(state: &FileState) -> Value {
    match kycrules::fmt::format(0, &state.text) {
        Ok(out) if out.as_str() != &*state.text => {
            json!([{"range": state.lines.whole(&state.text), "newText": out}])
        }
        Ok(_) => json!([]),
        Err(_) => Value::Null,
    }
}

// ------------------------------------------------------------------ symbols

/// (name, LSP symbol kind, span of the name) of a top-level declaration.
fn symbol(item: &Item) -> Option<(String, u32, Span)> {
    Some(match item {
        Item::Policy(d) => (format!("policy {}", d.name.node), 2, d.name.span),
        Item::Schema(d) => ("schema".to_string(), 23, d.span),
        Item::BankAttr(d) => (d.name.node.clone(), 7, d.name.span),
        Item::Entry(d) => (d.code.node.clone(), 22, d.code.span),
        Item::Table(d) => (format!("table {}", d.name.node), 23, d.name.span),
        Item::Charset(d) => (d.name.node.clone(), 14, d.name.span),
        Item::Pattern(d) => (d.name.node.clone(), 14, d.name.span),
        Item::Let(d) => (d.name.node.clone(), 13, d.name.span),
        Item::Message(d) => (d.name.node.clone(), 15, d.name.span),
        Item::Rule(d) => (d.id.node.clone(), 12, d.id.span),
        Item::NextStep(d) => ("next_step".to_string(), 24, d.span),
        Item::AsOf(d) => ("as_of".to_string(), 7, d.span),
        #[allow(unreachable_patterns)]
        _ => return None,
    })
}

fn field_symbols(state: &FileState, rec: &ast::RecordType) -> Vec<Value> {
    rec.fields
        .iter()
        .map(|f| {
            let mut v = json!({
                "name": f.name.node,
                "detail": crate::index::type_text(&f.ty.node),
                "kind": 8,
                "range": state.lines.range(&state.text, f.span),
                "selectionRange": state.lines.range(&state.text, f.name.span),
            });
            let mut ty = &f.ty.node;
            while let ast::TypeExpr::List(inner) = ty {
                ty = &inner.node;
            }
            if let ast::TypeExpr::Record(r) = ty {
                v["children"] = json!(field_symbols(state, r));
            }
            v
        })
        .collect()
}

pub fn document_symbols(a: &Analysis, file: u32, state: &FileState) -> Value {
    let Some(Some(ast)) = a.asts.get(file as usize) else {
        return json!([]);
    };
    let out: Vec<Value> = ast
        .items
        .iter()
        .filter_map(|i| {
            let (name, kind, sel) = symbol(i)?;
            let mut v = json!({
                "name": name,
                "kind": kind,
                "range": state.lines.range(&state.text, i.span()),
                "selectionRange": state.lines.range(&state.text, sel),
            });
            if let Item::Schema(s) = i {
                v["children"] = json!(field_symbols(state, &s.node));
            }
            if let Item::Rule(r) = i {
                v["detail"] = json!(r.outcome.node);
            }
            Some(v)
        })
        .collect();
    json!(out)
}

pub fn workspace_symbols<'a>(projects: impl Iterator<Item = &'a Project>, query: &str) -> Value {
    let query = query.to_lowercase();
    let mut out: Vec<(String, String, u32, Value)> = Vec::new();
    for p in projects {
        let Some(a) = &p.analysis else { continue };
        for (i, ast) in a.asts.iter().enumerate() {
            let (Some(ast), Some(state)) = (ast, p.files.get(i)) else {
                continue;
            };
            for item in &ast.items {
                let Some((name, kind, sel)) = symbol(item) else {
                    continue;
                };
                if name.to_lowercase().contains(&query) {
                    let loc = json!({"uri": state.uri, "range": state.lines.range(&state.text, sel)});
                    out.push((
                        name,
                        state.uri.clone(),
                        sel.start,
                        json!({"name": "", "kind": kind, "location": loc}),
                    ));
                }
            }
        }
    }
    out.sort_by(|a, b| (&a.0, &a.1, a.2).cmp(&(&b.0, &b.1, b.2)));
    json!(
        out.into_iter()
            .map(|(name, _, _, mut v)| {
                v["name"] = json!(name);
                v
            })
            .collect::<Vec<_>>()
    )
}

pub fn folding(a: &Analysis, file: u32, state: &FileState) -> Value {
    let Some(Some(ast)) = a.asts.get(file as usize) else {
        return json!([]);
    };
    let mut out = Vec::new();
    for i in &ast.items {
        let s = i.span();
        let start = state.lines.line_of(&state.text, s.start as usize);
        let end = state.lines.line_of(&state.text, s.end as usize);
        if end > start {
            out.push(json!({"startLine": start, "endLine": end}));
        }
    }
    json!(out)
}

pub fn semantic_tokens(a: &Analysis, file: u32, state: &FileState) -> Value {
    let mut data: Vec<u32> = Vec::new();
    let (mut last_line, mut last_col) = (0u32, 0u32);
    let mut last_end = 0u32;
    for o in a.index.occs.iter().filter(|o| o.span.file == file) {
        if o.span.start < last_end && last_end > 0 {
            continue; // overlapping: keep the first
        }
        let (line, col) = state.lines.position(&state.text, o.span.start as usize);
        let (end_line, end_col) = state.lines.position(&state.text, o.span.end as usize);
        if end_line != line || end_col <= col {
            continue;
        }
        let delta_col = if line == last_line { col - last_col } else { col };
        data.extend([
            line - last_line,
            delta_col,
            end_col - col,
            token_type(o.kind),
            u32::from(o.decl),
        ]);
        (last_line, last_col, last_end) = (line, col, o.span.end);
    }
    json!({"data": data})
}

// ------------------------------------------------------------- code lenses

fn lens_titles(p: &Project, rule: &str) -> Vec<String> {
    let mut out = Vec::new();
    if let Some((per_rule, total)) = &p.counts.tests {
        let n = per_rule.get(rule).copied().unwrap_or(0);
        out.push(format!("fires in {n} of {total} tests"));
    }
    if let Some((per_rule, total, what)) = &p.counts.sample {
        let n = per_rule.get(rule).copied().unwrap_or(0);
        let pct = if *total == 0 {
            0.0
        } else {
            n as f64 * 100.0 / *total as f64
        };
        out.push(format!("fires on {pct:.1}% of the sample ({what})"));
    }
    out
}

pub fn code_lenses(p: &Project, a: &Analysis, file: u32, state: &FileState) -> Value {
    let Some(Some(ast)) = a.asts.get(file as usize) else {
        return json!([]);
    };
    let mut out = Vec::new();
    for i in &ast.items {
        let Item::Rule(r) = i else { continue };
        let range = state.lines.range(&state.text, r.id.span);
        for (k, title) in lens_titles(p, &r.id.node).into_iter().enumerate() {
            let command = if k == 0 && p.counts.tests.is_some() {
                json!({"title": title, "command": "kycrules.runTests", "arguments": [crate::text::path_to_uri(&p.dir)]})
            } else {
                json!({"title": title, "command": ""})
            };
            out.push(json!({"range": range, "command": command}));
        }
    }
    json!(out)
}
