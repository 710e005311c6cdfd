//! The name index of a policy: every declaration and every use of a field,
//! let, charset, pattern, message, table, table entry (banks included), table
//! attribute, rule and built-in function, with its span, across the policy's
//! files.
//!
//! It reads the spanned syntax tree generically: a declaration or expression
//! form it does not know contributes nothing (no hover, no reference) rather
//! than an error.

use kycrules::ast::{self, CharsetTerm, Expr, ExprKind, Item, TypeExpr};
use kycrules::source::{SourceMap, Span};
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Field,
    Let,
    Charset,
    Pattern,
    Message,
    /// An entry of a table (a bank or another), named `table code`.
    Bank,
    /// An attribute of a table, named `table.attribute`.
    BankAttr,
    /// A table: a declaration, a type, a lookup `region(text)`, a collection.
    Table,
    Rule,
    Builtin,
}

impl Kind {
    /// Whether a rename of this kind is offered.
    pub fn renamable(self) -> bool {
        matches!(self, Kind::Let | Kind::Message | Kind::Rule)
    }
}

/// One appearance of a name.
#[derive(Debug, Clone)]
pub struct Occ {
    pub kind: Kind,
    /// The name; for fields the dotted path from the root (list items' fields
    /// continue the list's path).
    pub name: String,
    pub span: Span,
    pub decl: bool,
}

/// A schema field.
#[derive(Debug, Clone)]
pub struct FieldInfo {
    pub ty: String,
    pub optional: bool,
    pub sensitive: bool,
    /// The table whose entry the field holds (`bank`, `region`), if any.
    pub table: Option<String>,
    pub name_span: Span,
}

/// A table: `bank` (always there, table 0) or one a `table` declares.
#[derive(Debug, Clone, Default)]
pub struct TableInfo {
    /// The name in its `table` declaration (none for a `bank` without one).
    pub decl: Option<Span>,
    /// Attribute name to its type as written.
    pub attrs: BTreeMap<String, String>,
    pub entries: BTreeMap<String, EntryInfo>,
}

/// An entry of a table, for completion.
#[derive(Debug, Clone, Default)]
pub struct EntryInfo {
    /// Written as a quoted text (`"11"`): no bare constant, only a `.code` or a lookup's text.
    pub quoted: bool,
    /// Its first name, for the completion's detail.
    pub name: Option<String>,
}

/// What a quantifier's variable is bound to.
#[derive(Debug, Clone)]
enum Bound {
    /// The items of a list field (its path).
    List(String),
    /// The entries of a table.
    Table(String),
    /// Anything else.
    Other,
}

/// The built-in type names, which are not tables.
pub const BUILTIN_TYPES: &[&str] = &["text", "bool", "decimal", "number", "date"];

/// The built-in functions of the language: name, signature, what it does.
pub const BUILTINS: &[(&str, &str, &str)] = &[
    (
        "length",
        "length(text) -> decimal",
        "The number of characters (Unicode scalar values) after NFC.",
    ),
    ("size", "size(list) -> decimal", "The number of items of a list."),
    ("nfc", "nfc(text) -> text", "The text in Unicode normalisation form C."),
    (
        "trim",
        "trim(text) -> text",
        "The text without surrounding white space.",
    ),
    (
        "fold_space",
        "fold_space(text) -> text",
        "Runs of white space folded to one space.",
    ),
    (
        "ascii_lower",
        "ascii_lower(text) -> text",
        "ASCII letters in lower case.",
    ),
    ("lower", "lower(text) -> text", "Unicode lower case."),
    (
        "normalize_name",
        "normalize_name(text) -> text",
        "NFC, trimmed, white space folded, ASCII case ignored: names compared as a bank compares them.",
    ),
    (
        "only",
        "only(text, charset) -> bool",
        "Every character of the text is in the charset.",
    ),
    (
        "has_any",
        "has_any(text, charset) -> bool",
        "Some character of the text is in the charset.",
    ),
    (
        "first_outside",
        "first_outside(text, charset) -> text?",
        "The first character not in the charset (absent when there is none).",
    ),
    (
        "remove",
        "remove(text, charset) -> text",
        "The text without the charset's characters.",
    ),
    (
        "starts_with",
        "starts_with(text, prefix) -> bool",
        "The text starts with the prefix.",
    ),
    (
        "ends_with",
        "ends_with(text, suffix) -> bool",
        "The text ends with the suffix.",
    ),
    (
        "contains",
        "contains(text, part) -> bool",
        "The text contains the part.",
    ),
    (
        "strip_prefix",
        "strip_prefix(text, prefix) -> text",
        "The text without the prefix, when it has it.",
    ),
    (
        "matches",
        "matches(text, pattern) -> bool",
        "The pattern (a declared pattern or `r\"...\"`) matches the text.",
    ),
    ("present", "present(field) -> bool", "The field is there."),
    (
        "fired",
        "fired(rule-id) -> bool",
        "A rule declared earlier fired (also in `next_step`).",
    ),
    (
        "char_name",
        "char_name(text) -> text",
        "The first character described, e.g. `\"•\" U+2022 BULLET`; invisible characters are named as such.",
    ),
    (
        "char_code",
        "char_code(text) -> text",
        "The first character's code point, `U+2022`.",
    ),
    (
        "confusable_hint",
        "confusable_hint(text) -> text",
        "For a look-alike of `.`, `·` or `-`, the character to type instead.",
    ),
    ("luhn", "luhn(text) -> bool", "The Luhn check digit is right."),
    (
        "icao9303",
        "icao9303(text) -> bool",
        "The ICAO 9303 (7-3-1) check digit is right.",
    ),
    (
        "mod11_2",
        "mod11_2(text) -> bool",
        "The ISO 7064 MOD 11-2 check digit is right.",
    ),
    (
        "mask",
        "mask(text) -> text",
        "All but the last four characters replaced by `*`.",
    ),
    (
        "any",
        "any(x in list: condition) -> bool",
        "Some item of the list meets the condition.",
    ),
    (
        "all",
        "all(x in list: condition) -> bool",
        "Every item of the list meets the condition.",
    ),
    (
        "count",
        "count(x in list: condition) -> decimal",
        "How many items of the list meet the condition.",
    ),
];

/// The keywords of the language, for completion.
pub const KEYWORDS: &[&str] = &[
    "policy",
    "version",
    "languages",
    "schema",
    "list of",
    "bank",
    "bank attribute",
    "name",
    "alias",
    "charset",
    "except",
    "pattern",
    "let",
    "message",
    "rule",
    "on",
    "given",
    "when",
    "if",
    "with",
    "effective",
    "until",
    "next_step",
    "otherwise",
    "sensitive",
    "as_of",
    "and",
    "or",
    "not",
    "in",
    "true",
    "false",
    "reject",
    "limited",
    "review",
    "note",
];

/// Every name of a policy and where it appears.
#[derive(Debug, Default)]
pub struct Index {
    pub occs: Vec<Occ>,
    pub fields: BTreeMap<String, FieldInfo>,
    pub lets: BTreeSet<String>,
    pub charsets: BTreeSet<String>,
    pub patterns: BTreeSet<String>,
    pub tables: BTreeMap<String, TableInfo>,
    /// The table of the entry a `let` holds, when it holds one.
    pub let_tables: BTreeMap<String, String>,
    pub messages: BTreeSet<String>,
    pub rules: BTreeSet<String>,
}

impl Index {
    pub fn new(files: &[&ast::File], sources: &SourceMap) -> Self {
        let mut ix = Index::default();
        ix.tables.entry("bank".to_string()).or_default();
        for f in files {
            for item in &f.items {
                ix.declare(item);
            }
        }
        // The table of each let's entry; a let may name one declared after it.
        let lets: Vec<&ast::LetDecl> = files
            .iter()
            .flat_map(|f| f.items.iter())
            .filter_map(|i| match i {
                Item::Let(d) => Some(d),
                _ => None,
            })
            .collect();
        for _ in 0..lets.len().min(64) {
            let before = ix.let_tables.len();
            for d in &lets {
                if let Some(t) = ix.table_of(&d.value, &[]) {
                    ix.let_tables.insert(d.name.node.clone(), t);
                }
            }
            if ix.let_tables.len() == before {
                break;
            }
        }
        for f in files {
            for item in &f.items {
                ix.uses(item);
                if let Item::Message(m) = item {
                    for (_, text) in &m.texts {
                        ix.placeholders(text.span, sources);
                    }
                }
            }
        }
        ix.occs.sort_by_key(|o| (o.span.file, o.span.start, o.span.end));
        ix
    }

    /// The occurrence under a byte offset of a file.
    pub fn at(&self, file: u32, offset: u32) -> Option<&Occ> {
        self.occs
            .iter()
            .find(|o| o.span.file == file && o.span.start <= offset && offset <= o.span.end)
    }

    /// Every occurrence of a name.
    pub fn all(&self, kind: Kind, name: &str) -> impl Iterator<Item = &Occ> {
        self.occs.iter().filter(move |o| o.kind == kind && o.name == name)
    }

    fn push(&mut self, kind: Kind, name: impl Into<String>, span: Span, decl: bool) {
        self.occs.push(Occ {
            kind,
            name: name.into(),
            span,
            decl,
        });
    }

    fn declare(&mut self, item: &Item) {
        match item {
            Item::Schema(s) => self.schema(&s.node, ""),
            Item::BankAttr(d) => {
                let info = self.tables.entry("bank".to_string()).or_default();
                info.attrs.insert(d.name.node.clone(), d.ty.node.clone());
                self.push(Kind::BankAttr, format!("bank.{}", d.name.node), d.name.span, true);
            }
            Item::Table(t) => {
                let info = self.tables.entry(t.name.node.clone()).or_default();
                info.decl = Some(t.name.span);
                for d in &t.attrs {
                    info.attrs.insert(d.name.node.clone(), d.ty.node.clone());
                }
                self.push(Kind::Table, &t.name.node, t.name.span, true);
                for d in &t.attrs {
                    self.push(
                        Kind::BankAttr,
                        format!("{}.{}", t.name.node, d.name.node),
                        d.name.span,
                        true,
                    );
                }
            }
            Item::Entry(d) => {
                let info = self.tables.entry(d.table.node.clone()).or_default();
                info.entries.insert(
                    d.code.node.clone(),
                    EntryInfo {
                        quoted: d.quoted,
                        name: d.names.first().and_then(|(_, ns)| ns.first()).map(|n| n.node.clone()),
                    },
                );
                self.push(Kind::Bank, entry_name(&d.table.node, &d.code.node), d.code.span, true);
            }
            Item::Charset(d) => {
                self.charsets.insert(d.name.node.clone());
                self.push(Kind::Charset, &d.name.node, d.name.span, true);
            }
            Item::Pattern(d) => {
                self.patterns.insert(d.name.node.clone());
                self.push(Kind::Pattern, &d.name.node, d.name.span, true);
            }
            Item::Let(d) => {
                self.lets.insert(d.name.node.clone());
                self.push(Kind::Let, &d.name.node, d.name.span, true);
            }
            Item::Message(d) => {
                self.messages.insert(d.name.node.clone());
                self.push(Kind::Message, &d.name.node, d.name.span, true);
            }
            Item::Rule(d) => {
                self.rules.insert(d.id.node.clone());
                self.push(Kind::Rule, &d.id.node, d.id.span, true);
            }
            _ => {}
        }
    }

    fn schema(&mut self, rec: &ast::RecordType, prefix: &str) {
        for f in &rec.fields {
            let path = join(prefix, &f.name.node);
            let (mut ty, mut ty_span) = (&f.ty.node, f.ty.span);
            while let TypeExpr::List(inner) = ty {
                (ty, ty_span) = (&inner.node, inner.span);
            }
            // A bank, or an entry of another table: any named type but the built-in ones.
            let table = match ty {
                TypeExpr::Named(n) if !BUILTIN_TYPES.contains(&n.as_str()) => Some(n.clone()),
                _ => None,
            };
            if let Some(t) = &table {
                self.push(Kind::Table, t, ty_span, false);
            }
            self.fields.insert(
                path.clone(),
                FieldInfo {
                    ty: type_text(&f.ty.node),
                    optional: f.optional,
                    sensitive: f.sensitive,
                    table,
                    name_span: f.name.span,
                },
            );
            self.push(Kind::Field, &path, f.name.span, true);
            if let TypeExpr::Record(r) = ty {
                self.schema(r, &path);
            }
        }
    }

    fn uses(&mut self, item: &Item) {
        let mut scope: Vec<(String, Bound)> = Vec::new();
        match item {
            Item::Entry(d) => {
                self.push(Kind::Table, &d.table.node, d.table.span, false);
                for (attr, _) in &d.attrs {
                    self.attr(&d.table.node, attr);
                }
            }
            Item::Charset(d) => {
                for t in d.expr.include.iter().chain(&d.expr.exclude) {
                    if let CharsetTerm::Named(n) = &t.node
                        && self.charsets.contains(n)
                    {
                        self.push(Kind::Charset, n, t.span, false);
                    }
                }
            }
            Item::Let(d) => self.expr(&d.value, &mut scope),
            Item::Rule(d) => {
                for on in &d.on {
                    self.path(&on.node, &scope);
                }
                for e in d.given.iter().chain(&d.when) {
                    self.expr(e, &mut scope);
                }
                for (_, e) in &d.with {
                    self.expr(e, &mut scope);
                }
                for m in &d.messages {
                    self.push(Kind::Message, &m.message.node, m.message.span, false);
                    if let Some(c) = &m.condition {
                        self.expr(c, &mut scope);
                    }
                }
            }
            Item::NextStep(d) => {
                for (_, c) in &d.steps {
                    if let Some(c) = c {
                        self.expr(c, &mut scope);
                    }
                }
            }
            Item::AsOf(d) => self.path(&d.field.node, &scope),
            _ => {}
        }
    }

    /// The `{name}` placeholders of a message text, as written in the source:
    /// lets and field paths (a rule's `with` names are the rule's own).
    fn placeholders(&mut self, span: Span, sources: &SourceMap) {
        let raw = sources.snippet(span);
        let bytes = raw.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            let b = bytes[i];
            if b == b'{' && bytes.get(i + 1) == Some(&b'{') {
                i += 2;
                continue;
            }
            // `\u{...}` is an escape, not a placeholder.
            let escape = i >= 2 && bytes[i - 1] == b'u' && bytes[i - 2] == b'\\';
            if b == b'{' && !escape {
                let body_start = i + 1;
                let Some(len) = raw[body_start..].find('}') else { return };
                let body = &raw[body_start..body_start + len];
                let lead = body.len() - body.trim_start().len();
                let name = body.trim();
                let ok = !name.is_empty()
                    && name.split('.').all(|p| {
                        p.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                            && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                    });
                if ok {
                    let mut start = span.start as usize + body_start + lead;
                    let idents: Vec<ast::Ident> = name
                        .split('.')
                        .map(|p| {
                            let id = ast::Ident::new(p.to_string(), Span::new(span.file, start, start + p.len()));
                            start += p.len() + 1;
                            id
                        })
                        .collect();
                    self.path(&idents, &[]);
                }
                i = body_start + len + 1;
                continue;
            }
            i += 1;
        }
    }

    /// A path: a bound variable's item, a let, a field (and a table attribute
    /// after a field, let or variable holding an entry), a charset, a pattern,
    /// a table or an entry's bare code.
    fn path(&mut self, idents: &[ast::Ident], scope: &[(String, Bound)]) {
        let Some(first) = idents.first() else { return };
        let (mut base, rest) = match scope.iter().rev().find(|(v, _)| *v == first.node) {
            Some((_, Bound::List(list))) => (list.clone(), &idents[1..]),
            Some((_, Bound::Table(t))) => {
                if let Some(a) = idents.get(1) {
                    let t = t.clone();
                    self.attr(&t, a);
                }
                return;
            }
            Some((_, Bound::Other)) => return,
            None if self.lets.contains(&first.node)
                && (idents.len() == 1 || !self.fields.contains_key(&first.node)) =>
            {
                self.push(Kind::Let, &first.node, first.span, false);
                if let (Some(t), Some(a)) = (self.let_tables.get(&first.node).cloned(), idents.get(1)) {
                    self.attr(&t, a);
                }
                return;
            }
            None if !self.fields.contains_key(&first.node) => {
                if idents.len() == 1 {
                    let name = &first.node;
                    if self.charsets.contains(name) {
                        self.push(Kind::Charset, name, first.span, false);
                    } else if self.patterns.contains(name) {
                        self.push(Kind::Pattern, name, first.span, false);
                    } else if self
                        .tables
                        .get(name)
                        .is_some_and(|t| t.decl.is_some() || name == "bank")
                    {
                        self.push(Kind::Table, name, first.span, false);
                    } else if let Some(t) = self.entry_table(name) {
                        self.push(Kind::Bank, entry_name(&t, name), first.span, false);
                    }
                }
                return;
            }
            None => (String::new(), idents),
        };
        for id in rest {
            let table_before = self.fields.get(&base).and_then(|f| f.table.clone());
            let path = join(&base, &id.node);
            if self.fields.contains_key(&path) {
                self.push(Kind::Field, &path, id.span, false);
                base = path;
            } else {
                if let Some(t) = table_before {
                    self.attr(&t, id);
                }
                return;
            }
        }
    }

    /// The first table with an entry whose code is the bare name.
    fn entry_table(&self, name: &str) -> Option<String> {
        self.tables
            .iter()
            .find(|(_, t)| t.entries.get(name).is_some_and(|e| !e.quoted))
            .map(|(n, _)| n.clone())
    }

    /// A use of a table's attribute, when the table has it.
    fn attr(&mut self, table: &str, id: &ast::Ident) {
        if self.tables.get(table).is_some_and(|t| t.attrs.contains_key(&id.node)) {
            self.push(Kind::BankAttr, format!("{table}.{}", id.node), id.span, false);
        }
    }

    /// The table of the entry an expression holds: a lookup, a field of a
    /// table type, a let holding an entry, a variable over a table.
    fn table_of(&self, e: &Expr, scope: &[(String, Bound)]) -> Option<String> {
        match &e.node {
            ExprKind::Call(name, args) if args.len() == 1 && self.tables.contains_key(&name.node) => {
                Some(name.node.clone())
            }
            ExprKind::Path(p) => self.path_table(p, scope),
            _ => None,
        }
    }

    fn path_table(&self, p: &[ast::Ident], scope: &[(String, Bound)]) -> Option<String> {
        let first = p.first()?;
        match scope.iter().rev().find(|(v, _)| *v == first.node) {
            Some((_, Bound::Table(t))) if p.len() == 1 => return Some(t.clone()),
            Some((_, Bound::Table(_) | Bound::Other)) => return None,
            _ => {}
        }
        if p.len() == 1
            && let Some(t) = self.let_tables.get(&first.node)
        {
            return Some(t.clone());
        }
        let path = self.resolve(p, scope)?;
        self.fields.get(&path)?.table.clone()
    }

    /// The table whose `.code` an expression reads (`region(t).code`, `origin.code`).
    fn code_of(&self, e: &Expr, scope: &[(String, Bound)]) -> Option<String> {
        match &e.node {
            ExprKind::Member(x, ids) if ids.len() == 1 && ids[0].node == "code" => self.table_of(x, scope),
            ExprKind::Path(p) if p.len() >= 2 && p.last().is_some_and(|l| l.node == "code") => {
                self.path_table(&p[..p.len() - 1], scope)
            }
            _ => None,
        }
    }

    /// A quoted text naming an entry's code of `table`: a use of that entry.
    fn code_text(&mut self, table: &str, e: &Expr) {
        if let ExprKind::Literal(ast::Literal::Text(code)) = &e.node
            && self.tables.get(table).is_some_and(|t| t.entries.contains_key(code))
        {
            self.push(Kind::Bank, entry_name(table, code), e.span, false);
        }
    }

    fn expr(&mut self, e: &Expr, scope: &mut Vec<(String, Bound)>) {
        match &e.node {
            ExprKind::Path(p) => self.path(p, scope),
            ExprKind::RuleRef(r) => self.push(Kind::Rule, r, e.span, false),
            ExprKind::List(items) => items.iter().for_each(|i| self.expr(i, scope)),
            ExprKind::Not(x) => self.expr(x, scope),
            ExprKind::Member(x, ids) => {
                self.expr(x, scope);
                if let (Some(t), Some(a)) = (self.table_of(x, scope), ids.first()) {
                    self.attr(&t, a);
                }
            }
            ExprKind::Binary(op, a, b) => {
                self.expr(a, scope);
                self.expr(b, scope);
                // `region(t).code == "81"`: the text names an entry.
                if matches!(op, ast::BinOp::Eq | ast::BinOp::Ne) {
                    if let Some(t) = self.code_of(a, scope) {
                        self.code_text(&t, b);
                    } else if let Some(t) = self.code_of(b, scope) {
                        self.code_text(&t, a);
                    }
                }
            }
            ExprKind::Call(name, args) => {
                if BUILTINS.iter().any(|(n, _, _)| *n == name.node) {
                    self.push(Kind::Builtin, &name.node, name.span, false);
                } else if self.tables.contains_key(&name.node) && args.len() == 1 {
                    // A lookup: `region("81")` names an entry by its code.
                    self.push(Kind::Table, &name.node, name.span, false);
                    if let Some(a) = args.first() {
                        self.code_text(&name.node.clone(), a);
                    }
                }
                for a in args {
                    // A rule id without a hyphen reads as a path: `fired(adult)`.
                    match &a.node {
                        ExprKind::Path(p) if name.node == "fired" && p.len() == 1 => {
                            if let Some(id) = p.first().filter(|id| self.rules.contains(&id.node)) {
                                self.push(Kind::Rule, &id.node, id.span, false);
                            }
                        }
                        _ => self.expr(a, scope),
                    }
                }
            }
            ExprKind::Quantifier(q, var, list, body) => {
                let start = e.span.start;
                let end = (start as usize + q.as_str().len()).min(e.span.end as usize);
                self.push(
                    Kind::Builtin,
                    q.as_str(),
                    Span::new(e.span.file, start as usize, end),
                    false,
                );
                self.expr(list, scope);
                let bound = match &list.node {
                    ExprKind::Path(p) => match self.resolve(p, scope) {
                        Some(path) => Bound::List(path),
                        None => match p.as_slice() {
                            [t] if self.tables.contains_key(&t.node) && !self.lets.contains(&t.node) => {
                                Bound::Table(t.node.clone())
                            }
                            _ => Bound::Other,
                        },
                    },
                    _ => Bound::Other,
                };
                scope.push((var.node.clone(), bound));
                self.expr(body, scope);
                scope.pop();
            }
            _ => {}
        }
    }

    /// The field path a path names, if it names a field.
    fn resolve(&self, idents: &[ast::Ident], scope: &[(String, Bound)]) -> Option<String> {
        let first = idents.first()?;
        let (mut base, rest) = match scope.iter().rev().find(|(v, _)| *v == first.node) {
            Some((_, Bound::List(list))) => (list.clone(), &idents[1..]),
            Some(_) => return None,
            None => (String::new(), idents),
        };
        for id in rest {
            base = join(&base, &id.node);
        }
        self.fields.contains_key(&base).then_some(base)
    }
}

/// The name of an entry's occurrences: `TABLE CODE`.
pub fn entry_name(table: &str, code: &str) -> String {
    format!("{table} {code}")
}

fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_string()
    } else {
        format!("{prefix}.{name}")
    }
}

/// A type as written.
pub fn type_text(t: &TypeExpr) -> String {
    match t {
        TypeExpr::Named(n) => n.clone(),
        TypeExpr::Enum(vals) => vals.iter().map(|v| v.node.as_str()).collect::<Vec<_>>().join(" | "),
        TypeExpr::List(inner) => format!("list of {}", type_text(&inner.node)),
        TypeExpr::Record(_) => "{ ... }".to_string(),
        // A type form added to the language later: shown as a placeholder.
        #[allow(unreachable_patterns)]
        _ => "...".to_string(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn index(text: &str) -> Index {
        let mut sources = SourceMap::default();
        sources.add("p.rules", text);
        let file = kycrules::syntax::parse(0, text).unwrap();
        Index::new(&[&file], &sources)
    }

    fn uses(ix: &Index, kind: Kind, name: &str, text: &str) -> Vec<String> {
        ix.all(kind, name)
            .map(|o| text[o.span.start as usize..o.span.end as usize].to_string())
            .collect()
    }

    const POLICY: &str = r#"policy "p" version "1" languages en
schema {
  who: { name: text }
  tags: list of { label: text }
}
let short = length(who.name) < 3
rule r-short note {
  on who.name
  when short and any(t in tags: t.label == "x")
  message m
}
message m {
  en "{who.name} is short ({short}); \u{263A} {{not.a.placeholder}}"
}
"#;

    #[test]
    fn placeholders_count_as_uses_but_escapes_and_braces_do_not() {
        let ix = index(POLICY);
        assert_eq!(uses(&ix, Kind::Let, "short", POLICY), ["short", "short", "short"]);
        // Declaration, `on`, `when`, and the one real placeholder.
        assert_eq!(uses(&ix, Kind::Field, "who.name", POLICY).len(), 4);
        assert_eq!(uses(&ix, Kind::Field, "tags.label", POLICY), ["label", "label"]);
        assert!(ix.all(Kind::Field, "not.a.placeholder").next().is_none());
        assert_eq!(uses(&ix, Kind::Builtin, "any", POLICY), ["any"]);
    }

    #[test]
    fn unknown_names_contribute_nothing() {
        let text = POLICY.replace("t.label == \"x\"", "nowhere.field == x");
        let ix = index(&text);
        assert!(ix.occs.iter().all(|o| !o.name.contains("nowhere")));
    }
}
