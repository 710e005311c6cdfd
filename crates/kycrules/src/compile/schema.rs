//! Compiling the schema, bank declarations, charsets and patterns.

use super::{Compiler, suggest};
use crate::ast::{self, Literal, TypeExpr};
use crate::charset::{Charset, Class};
use crate::date::Date;
use crate::decimal::Decimal;
use crate::diag::{self, Diagnostic};
use crate::ir::{Attribute, BANK_TABLE, Entry, FieldSchema, RecordSchema, Table, Type, Validity, bank_key};
use crate::record::{EntryValue, Field};
use crate::source::{Span, Spanned};
use std::collections::HashMap;

/// The most characters a pattern may have, and the compiled size it may take.
pub const MAX_PATTERN_LEN: usize = 4096;

impl Compiler<'_> {
    /// Lowers a record type into `schema.records`, returning its index.
    pub(super) fn record_type(&mut self, rec: &ast::RecordType) -> u32 {
        let index = self.schema.records.len();
        self.schema.records.push(RecordSchema::default());
        let mut fields: Vec<FieldSchema> = Vec::new();
        let mut seen: HashMap<&str, Span> = HashMap::new();
        for f in &rec.fields {
            if let Some(prev) = seen.insert(f.name.node.as_str(), f.name.span) {
                self.diags.push(
                    Diagnostic::error(
                        diag::DUPLICATE,
                        format!("field `{}` is declared twice", f.name.node),
                        f.name.span,
                    )
                    .with_label("declared again here")
                    .with_secondary(prev, "first declared here"),
                );
                continue;
            }
            // A field of an unknown type stays declared (as text) so that its
            // uses do not report a second, misleading error.
            let ty = self.type_expr(&f.ty).unwrap_or(Type::Text);
            let default = f
                .default
                .as_ref()
                .and_then(|d| self.literal_of_type(d, &ty, "default value"));
            fields.push(FieldSchema {
                name: f.name.node.clone(),
                ty,
                optional: f.optional,
                default,
                sensitive: f.sensitive,
            });
        }
        if let Some(slot) = self.schema.records.get_mut(index) {
            slot.fields = fields;
        }
        u32::try_from(index).unwrap_or(u32::MAX)
    }

    fn type_expr(&mut self, ty: &Spanned<TypeExpr>) -> Option<Type> {
        Some(match &ty.node {
            TypeExpr::Named(name) => match name.as_str() {
                "text" => Type::Text,
                "bool" => Type::Bool,
                "decimal" | "number" => Type::Number,
                "date" => Type::Date,
                other if self.table_named(other).is_some() => {
                    Type::Entry(self.table_named(other).unwrap_or(BANK_TABLE))
                }
                other => {
                    let builtin = ["text", "bool", "decimal", "date"];
                    let hint = suggest(
                        other,
                        builtin.into_iter().chain(self.tables.iter().map(|t| t.name.as_str())),
                    );
                    self.diags.push(
                        Diagnostic::error(diag::UNKNOWN_TYPE, format!("unknown type `{other}`"), ty.span)
                            .with_label("not a type")
                            .with_help(hint.map_or_else(
                                || "a type is `text`, `bool`, `decimal`, `date`, a table's name (`bank`), an enum `a | b`, a record `{ ... }` or `list of T`".to_string(),
                                |h| format!("did you mean `{h}`?"),
                            )),
                    );
                    return None;
                }
            },
            TypeExpr::Enum(values) => self.enum_type(values),
            TypeExpr::List(inner) => Type::List(Box::new(self.type_expr(inner)?)),
            TypeExpr::Record(rec) => Type::Record(self.record_type(rec)),
        })
    }

    /// A literal checked against a type, as a field value.
    pub(super) fn literal_of_type(&mut self, lit: &Spanned<Literal>, ty: &Type, what: &str) -> Option<Field> {
        let found = match &lit.node {
            Literal::Text(_) => "text",
            Literal::Number(_) => "a number",
            Literal::Date(_) => "a date",
            Literal::Bool(_) => "a bool",
            Literal::Name(_) => "a name",
        };
        let value = match (&lit.node, ty) {
            (Literal::Text(s), Type::Text) => Some(Field::Text(s.as_str().into())),
            (Literal::Bool(b), Type::Bool) => Some(Field::Bool(*b)),
            (Literal::Number(n), Type::Number) => Decimal::parse(n).ok().map(Field::Num),
            (Literal::Date(d), Type::Date) => match Date::parse(d) {
                Some(d) => Some(Field::Date(d)),
                None => {
                    self.bad_date(d, lit.span);
                    return None;
                }
            },
            (Literal::Name(n), Type::Enum(e)) => {
                let values = self.schema.enums.get(*e as usize).cloned().unwrap_or_default();
                match values.iter().position(|v| v == n) {
                    Some(i) => Some(Field::Enum(u32::try_from(i).unwrap_or(0))),
                    None => {
                        self.diags.push(
                            Diagnostic::error(
                                diag::UNKNOWN_VALUE,
                                format!("`{n}` is not a value of this enum"),
                                lit.span,
                            )
                            .with_help(
                                match suggest(n, values.iter().map(String::as_str)) {
                                    Some(h) => format!("did you mean `{h}`? (one of {})", values.join(", ")),
                                    None => format!("expected one of {}", values.join(", ")),
                                },
                            ),
                        );
                        return None;
                    }
                }
            }
            (Literal::Name(n), Type::Entry(t)) | (Literal::Text(n), Type::Entry(t)) => Some(Field::Entry(EntryValue {
                table: *t,
                id: None,
                typed: n.as_str().into(),
            })),
            _ => None,
        };
        if value.is_none() {
            self.diags.push(
                Diagnostic::error(
                    diag::TYPE_MISMATCH,
                    format!("{what} must be {}, found {found}", self.schema.type_name(ty)),
                    lit.span,
                )
                .with_label("wrong type"),
            );
        }
        value
    }

    pub(super) fn bad_date(&mut self, text: &str, span: Span) {
        self.diags.push(
            Diagnostic::error(diag::LITERAL, format!("`{text}` is not a calendar date"), span)
                .with_help("write a date that exists, as `YYYY-MM-DD`"),
        );
    }

    pub(super) fn validity(&mut self, dates: &ast::Dates) -> Validity {
        let one = |this: &mut Self, list: &[Spanned<String>], what: &str| -> Option<Date> {
            if let Some(second) = list.get(1) {
                this.diags.push(Diagnostic::error(
                    diag::EFFECTIVE,
                    format!("`{what}` is given twice"),
                    second.span,
                ));
            }
            let first = list.first()?;
            let date = Date::parse(&first.node);
            if date.is_none() {
                this.bad_date(&first.node, first.span);
            }
            date
        };
        let effective = one(self, &dates.effective, "effective");
        let until = one(self, &dates.until, "until");
        if let (Some(e), Some(u), Some(span)) = (effective, until, dates.until.first().map(|d| d.span))
            && u <= e
        {
            self.diags.push(
                Diagnostic::error(
                    diag::EFFECTIVE,
                    format!("`until {u}` is not after `effective {e}`"),
                    span,
                )
                .with_help("the end date is exclusive and must come after the start date"),
            );
        }
        Validity { effective, until }
    }

    /// Resolves the `as_of` declaration: one `date` field, reached through
    /// records only (an application has one date, not one per list item).
    pub(super) fn as_of(&mut self, decls: &[&ast::AsOfDecl]) {
        let Some((first, rest)) = decls.split_first() else {
            return;
        };
        for extra in rest {
            self.diags.push(
                Diagnostic::error(diag::EFFECTIVE, "a policy has one `as_of` declaration", extra.span)
                    .with_secondary(first.span, "the first `as_of`")
                    .with_help("an application is evaluated as of one date; keep one declaration"),
            );
        }
        let parts = &first.field.node;
        let mut rec = 0usize;
        let mut path = Vec::new();
        for (i, part) in parts.iter().enumerate() {
            let Some(schema) = self.schema.records.get(rec) else {
                return;
            };
            let Some(f) = schema.fields.iter().find(|f| f.name == part.node) else {
                let hint = suggest(&part.node, schema.fields.iter().map(|f| f.name.as_str())).map(str::to_string);
                let prefix = path.join(".");
                self.diags
                    .push(self.unknown_field_diag(&part.node, &prefix, part.span, hint));
                return;
            };
            path.push(f.name.clone());
            let (ty, default) = (f.ty.clone(), f.default.clone());
            match ty {
                Type::Date if i + 1 == parts.len() => {
                    let default = match default {
                        Some(Field::Date(d)) => Some(d),
                        _ => None,
                    };
                    self.as_of = Some(crate::ir::AsOfField { path, default });
                    return;
                }
                Type::Record(r) if i + 1 < parts.len() => rec = r as usize,
                Type::List(_) if i + 1 < parts.len() => {
                    self.diags.push(
                        Diagnostic::error(
                            diag::EFFECTIVE,
                            format!("`as_of` cannot name a field inside the list `{}`", path.join(".")),
                            part.span,
                        )
                        .with_help("an application is evaluated as of one date: name a `date` field outside lists"),
                    );
                    return;
                }
                other => {
                    let found = self.schema.type_name(&other);
                    self.diags.push(
                        Diagnostic::error(
                            diag::TYPE_MISMATCH,
                            format!("`as_of` needs a `date` field, but `{}` is {found}", path.join(".")),
                            first.field.span,
                        )
                        .with_label("not a date")
                        .with_help("declare the field as `date` in the schema, e.g. `submitted_at: date?`"),
                    );
                    return;
                }
            }
        }
    }

    /// Declares the tables before the schema names them: `bank` first (always
    /// declared, so every policy may type a field `bank`), then each `table`
    /// block; attributes from the blocks and from `bank attribute` lines.
    pub(super) fn tables(&mut self, decls: &[&ast::TableDecl], bank_attrs: &[&ast::AttrDecl]) {
        self.tables.push(Table {
            name: "bank".to_owned(),
            ..Table::default()
        });
        self.schema.tables.push("bank".to_owned());
        let mut declared: HashMap<&str, Span> = HashMap::new();
        for d in decls {
            if let Some(prev) = declared.insert(d.name.node.as_str(), d.name.span) {
                self.diags.push(
                    Diagnostic::error(
                        diag::DUPLICATE,
                        format!("table `{}` is declared twice", d.name.node),
                        d.name.span,
                    )
                    .with_secondary(prev, "first declared here")
                    .with_help("merge the two blocks into one"),
                );
                continue;
            }
            if matches!(d.name.node.as_str(), "text" | "bool" | "decimal" | "number" | "date") {
                self.diags.push(
                    Diagnostic::error(
                        diag::DUPLICATE,
                        format!("a table cannot be named `{}`", d.name.node),
                        d.name.span,
                    )
                    .with_label("the name of a built-in type")
                    .with_help("name the table after what its entries are, e.g. `region`"),
                );
                continue;
            }
            let t = if d.name.node == "bank" {
                BANK_TABLE
            } else {
                self.tables.push(Table {
                    name: d.name.node.clone(),
                    ..Table::default()
                });
                self.schema.tables.push(d.name.node.clone());
                u32::try_from(self.tables.len() - 1).unwrap_or(u32::MAX)
            };
            let attrs: Vec<&ast::AttrDecl> = d.attrs.iter().collect();
            self.table_attributes(t, &attrs);
        }
        self.table_attributes(BANK_TABLE, bank_attrs);
    }

    /// A new enum type of these values (each listed once; a repeat is an error).
    fn enum_type(&mut self, values: &[Spanned<String>]) -> Type {
        let mut names: Vec<String> = Vec::new();
        for v in values {
            if names.contains(&v.node) {
                self.diags.push(Diagnostic::error(
                    diag::DUPLICATE,
                    format!("enum value `{}` is listed twice", v.node),
                    v.span,
                ));
            } else {
                names.push(v.node.clone());
            }
        }
        self.schema.enums.push(names);
        Type::Enum(u32::try_from(self.schema.enums.len() - 1).unwrap_or(u32::MAX))
    }

    /// The table a name declares, if any.
    pub(super) fn table_named(&self, name: &str) -> Option<u32> {
        self.tables
            .iter()
            .position(|t| t.name == name)
            .and_then(|t| u32::try_from(t).ok())
    }

    fn table_attributes(&mut self, t: u32, decls: &[&ast::AttrDecl]) {
        let table_name = self.tables.get(t as usize).map(|x| x.name.clone()).unwrap_or_default();
        for d in decls {
            let key = (t, d.name.node.clone());
            if let Some(first) = self.attr_spans.get(&key) {
                self.diags.push(
                    Diagnostic::error(
                        diag::DUPLICATE,
                        format!("{table_name} attribute `{}` is declared twice", d.name.node),
                        d.name.span,
                    )
                    .with_secondary(*first, "first declared here"),
                );
                continue;
            }
            if matches!(d.name.node.as_str(), "known" | "code") {
                self.diags.push(
                    Diagnostic::error(
                        diag::DUPLICATE,
                        format!("a table attribute cannot be named `{}`", d.name.node),
                        d.name.span,
                    )
                    .with_label("every entry has it already")
                    .with_help("`.known` and `.code` are built in; choose another name"),
                );
                continue;
            }
            self.attr_spans.insert(key, d.name.span);
            let ty = match d.ty.node.as_str() {
                _ if !d.values.is_empty() => self.enum_type(&d.values),
                "text" => Type::Text,
                "bool" => Type::Bool,
                "decimal" => Type::Number,
                "date" => Type::Date,
                other => {
                    self.diags.push(
                        Diagnostic::error(
                            diag::UNKNOWN_TYPE,
                            format!("unknown attribute type `{other}`"),
                            d.ty.span,
                        )
                        .with_help("a table attribute is `text`, `bool`, `decimal`, `date` or an enum `(a | b)`"),
                    );
                    continue;
                }
            };
            let Some(default) = self.literal_of_type(&d.default, &ty, "the default") else {
                continue;
            };
            if let Some(table) = self.tables.get_mut(t as usize) {
                table.attributes.push(Attribute {
                    name: d.name.node.clone(),
                    ty,
                    default,
                });
            }
        }
    }

    /// The entries of every table (`bank ZZ1 { ... }`, `region "11" { ... }`).
    pub(super) fn entries(&mut self, decls: &[&ast::EntryDecl]) {
        let mut codes: HashMap<(u32, &str), Span> = HashMap::new();
        for d in decls {
            let Some(t) = self.table_named(&d.table.node) else {
                let hint = suggest(&d.table.node, self.tables.iter().map(|t| t.name.as_str()));
                self.diags.push(
                    Diagnostic::error(
                        diag::UNKNOWN_TABLE,
                        format!("unknown table `{}`", d.table.node),
                        d.table.span,
                    )
                    .with_label("no table has this name")
                    .with_help(hint.map_or_else(
                        || format!("declare it first: `table {} {{ }}`", d.table.node),
                        |h| format!("did you mean `{h}`?"),
                    )),
                );
                continue;
            };
            if let Some(prev) = codes.insert((t, d.code.node.as_str()), d.code.span) {
                self.diags.push(
                    Diagnostic::error(
                        diag::DUPLICATE,
                        format!("{} `{}` is declared twice", d.table.node, d.code.node),
                        d.code.span,
                    )
                    .with_secondary(prev, "first declared here"),
                );
                continue;
            }
            let mut names = vec![Vec::new(); self.languages.len()];
            for (lang, list) in &d.names {
                match self.languages.iter().position(|l| *l == lang.node) {
                    Some(i) => names[i].extend(list.iter().map(|n| n.node.clone())),
                    None => self.unknown_language(lang),
                }
            }
            let declared: Vec<(String, Type, Field)> = self
                .tables
                .get(t as usize)
                .map(|x| {
                    x.attributes
                        .iter()
                        .map(|a| (a.name.clone(), a.ty.clone(), a.default.clone()))
                        .collect()
                })
                .unwrap_or_default();
            let mut attrs: Vec<Field> = declared.iter().map(|a| a.2.clone()).collect();
            for (name, value) in &d.attrs {
                let Some(i) = declared.iter().position(|a| a.0 == name.node) else {
                    let hint = suggest(&name.node, declared.iter().map(|a| a.0.as_str()));
                    let mut diag = Diagnostic::error(
                        diag::BANK_ATTRIBUTE,
                        format!("unknown {} attribute `{}`", d.table.node, name.node),
                        name.span,
                    );
                    diag = diag.with_help(match hint {
                        Some(h) => format!("did you mean `{h}`?"),
                        None => format!(
                            "declare it first: `table {} {{ {}: bool = false }}`",
                            d.table.node, name.node
                        ),
                    });
                    self.diags.push(diag);
                    continue;
                };
                let ty = declared[i].1.clone();
                if let Some(v) = self.literal_of_type(value, &ty, "the attribute value") {
                    attrs[i] = v;
                }
            }
            let validity = self.validity(&d.dates);
            let Some(table) = self.tables.get_mut(t as usize) else {
                continue;
            };
            let id = u32::try_from(table.list.len()).unwrap_or(u32::MAX);
            let aliases: Vec<String> = d.aliases.iter().map(|a| a.node.clone()).collect();
            let keys = std::iter::once(&d.code.node)
                .chain(names.iter().flatten())
                .chain(aliases.iter());
            for key in keys {
                let entry = table.lookup.entry(bank_key(key)).or_default();
                if !entry.contains(&id) {
                    entry.push(id);
                }
            }
            table.all.push(Field::Entry(EntryValue {
                table: t,
                id: Some(id),
                typed: d.code.node.as_str().into(),
            }));
            table.list.push(Entry {
                code: d.code.node.clone(),
                names,
                aliases,
                attrs,
                validity,
            });
        }
    }

    pub(super) fn unknown_language(&mut self, lang: &ast::Ident) {
        self.diags.push(
            Diagnostic::error(
                diag::UNKNOWN_LANGUAGE,
                format!("language `{}` is not declared by the policy", lang.node),
                lang.span,
            )
            .with_help(format!("the policy's languages are {}", self.languages.join(", "))),
        );
    }

    /// Compiles every charset declaration (in any order; cycles are errors).
    pub(super) fn charsets(&mut self, decls: &[&ast::CharsetDecl]) {
        for (i, d) in decls.iter().enumerate() {
            if self.charset_names.contains_key(d.name.node.as_str()) || Class::builtin(&d.name.node).is_some() {
                let mut diag = Diagnostic::error(
                    diag::DUPLICATE,
                    format!(
                        "charset `{}` is declared twice or shadows a built-in class",
                        d.name.node
                    ),
                    d.name.span,
                );
                if let Some(first) = decls[..i].iter().find(|q| q.name.node == d.name.node) {
                    diag = diag.with_secondary(first.name.span, "first declared here");
                }
                self.diags.push(diag);
                continue;
            }
            let (inc, exc) = self.charset_classes(&d.expr, decls, 0);
            let id = u32::try_from(self.charsets.len()).unwrap_or(u32::MAX);
            self.charsets.push(Charset::new(inc, exc));
            self.charset_names.insert(d.name.node.clone(), id);
        }
    }

    fn charset_classes(
        &mut self,
        e: &ast::CharsetExpr,
        decls: &[&ast::CharsetDecl],
        depth: usize,
    ) -> (Vec<Class>, Vec<Class>) {
        let mut inc = Vec::new();
        for t in &e.include {
            inc.extend(self.charset_term(t, decls, depth));
        }
        let mut exc = Vec::new();
        for t in &e.exclude {
            exc.extend(self.charset_term(t, decls, depth));
        }
        (inc, exc)
    }

    /// The classes of one term. A named charset inside another contributes its
    /// `include` part only when it has no `except`; otherwise it is an error.
    fn charset_term(&mut self, t: &Spanned<ast::CharsetTerm>, decls: &[&ast::CharsetDecl], depth: usize) -> Vec<Class> {
        match &t.node {
            ast::CharsetTerm::Chars(s) => s.chars().map(|c| Class::Range(c, c)).collect(),
            ast::CharsetTerm::Range(a, b) => vec![Class::Range(*a, *b)],
            ast::CharsetTerm::Class(f, arg) if f.node == "script" => match Class::script(&arg.node) {
                Some(c) => vec![c],
                None => {
                    self.diags.push(
                        Diagnostic::error(
                            diag::UNKNOWN_CHARSET,
                            format!("unknown Unicode script `{}`", arg.node),
                            arg.span,
                        )
                        .with_help(
                            "use a script's full or short name, as `script(Han)`, `script(Latin)`, `script(Cyrl)`",
                        ),
                    );
                    Vec::new()
                }
            },
            ast::CharsetTerm::Class(f, _) => {
                self.diags.push(
                    Diagnostic::error(
                        diag::UNKNOWN_CHARSET,
                        format!("unknown class function `{}`", f.node),
                        f.span,
                    )
                    .with_help("the class function is `script(Name)`"),
                );
                Vec::new()
            }
            ast::CharsetTerm::Named(name) => {
                if let Some(classes) = Class::builtin(name) {
                    return classes;
                }
                match decls.iter().find(|d| d.name.node == *name) {
                    Some(d) if depth < 16 && d.expr.exclude.is_empty() => {
                        let (inc, _) = self.charset_classes(&d.expr, decls, depth + 1);
                        inc
                    }
                    Some(_) => {
                        self.diags.push(
                            Diagnostic::error(diag::UNKNOWN_CHARSET, format!("charset `{name}` cannot be used inside another charset here"), t.span)
                                .with_help("a charset used inside another must not use `except` and may nest at most 16 deep, without cycles"),
                        );
                        Vec::new()
                    }
                    None => {
                        let builtins = Class::BUILTIN_NAMES.iter().copied();
                        let hint = suggest(name, builtins.chain(decls.iter().map(|d| d.name.node.as_str())));
                        self.diags.push(
                            Diagnostic::error(
                                diag::UNKNOWN_CHARSET,
                                format!("unknown character class `{name}`"),
                                t.span,
                            )
                            .with_help(hint.map_or_else(
                                || format!("built-in classes: {}, script(Name)", Class::BUILTIN_NAMES.join(", ")),
                                |h| format!("did you mean `{h}`?"),
                            )),
                        );
                        Vec::new()
                    }
                }
            }
        }
    }

    /// Compiles a regular expression with size limits; `None` after an error.
    pub(super) fn regex(&mut self, text: &str, span: Span) -> Option<u32> {
        if let Some(&id) = self.pattern_cache.get(text) {
            return Some(id);
        }
        if text.len() > MAX_PATTERN_LEN {
            self.diags.push(Diagnostic::error(
                diag::PATTERN,
                format!("pattern is {} bytes long; the limit is {MAX_PATTERN_LEN}", text.len()),
                span,
            ));
            return None;
        }
        match crate::ir::Pattern::check(text) {
            Ok(pattern) => {
                let id = u32::try_from(self.patterns.len()).unwrap_or(u32::MAX);
                self.patterns.push(pattern);
                self.pattern_cache.insert(text.to_string(), id);
                Some(id)
            }
            Err(detail) => {
                let last = detail
                    .lines()
                    .rev()
                    .find(|l| !l.trim().is_empty())
                    .unwrap_or("invalid")
                    .trim();
                self.diags.push(
                    Diagnostic::error(
                        diag::PATTERN,
                        format!("invalid pattern: {}", last.trim_start_matches("error: ")),
                        span,
                    )
                    .with_help(
                        "patterns use the `regex` crate's syntax; look-around and back-references are not supported",
                    ),
                );
                None
            }
        }
    }
}
