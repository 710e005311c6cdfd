//! Compiling: spanned syntax trees → a checked, span-free [`RuleSet`].
//!
//! The only place a policy is rejected for its meaning. Every error of a run
//! is collected; a rule set is returned only when there is none.

mod expr;
mod pii;
mod schema;

use crate::ast::{self, Item};
use crate::diag::{self, Diagnostic};
use crate::ir::{NextStep, Outcome, Rule, RuleMessage, RuleSet, Schema, Type};
use crate::source::{SourceMap, Span};
use std::collections::HashMap;

pub use expr::{TemplatePart, parse_template};

/// The result of compiling: a rule set when there was no error, and every
/// diagnostic (errors and warnings) in source order.
pub struct Compiled {
    pub ruleset: Option<RuleSet>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Compiles the parsed files of one policy.
pub fn compile<'a>(files: &'a [ast::File], sources: &'a SourceMap) -> Compiled {
    let mut c = Compiler {
        sources: Some(sources),
        ..Compiler::default()
    };
    c.run(files);
    let mut diagnostics = std::mem::take(&mut c.diags);
    diag::sort(&mut diagnostics);
    let ruleset = if diagnostics.iter().any(Diagnostic::is_error) {
        None
    } else {
        Some(c.finish(sources))
    };
    Compiled { ruleset, diagnostics }
}

/// The closest candidate within a small edit distance, for "did you mean".
pub fn suggest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let len = name.chars().count();
    // The distance table is quadratic in the lengths: long names get no hint.
    if len > 64 {
        return None;
    }
    let limit = (len / 3).clamp(1, 3);
    candidates
        .into_iter()
        .filter(|c| c.len() <= 4 * 64 && c.chars().count().abs_diff(len) <= limit)
        .map(|c| (edit_distance(name, c), c))
        .filter(|&(d, _)| d <= limit)
        .min_by_key(|&(d, c)| (d, c))
        .map(|(_, c)| c)
}

/// Optimal-string-alignment distance: insertions, deletions, substitutions
/// and swaps of two neighbours each cost one.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let w = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * w];
    for i in 0..=a.len() {
        d[i * w] = i;
    }
    for (j, cell) in d.iter_mut().enumerate().take(w) {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[(i - 1) * w + j] + 1)
                .min(d[i * w + j - 1] + 1)
                .min(d[(i - 1) * w + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[(i - 2) * w + j - 2] + 1);
            }
            d[i * w + j] = v;
        }
    }
    d[a.len() * w + b.len()]
}

#[derive(Default)]
pub(crate) struct Compiler<'a> {
    sources: Option<&'a SourceMap>,
    diags: Vec<Diagnostic>,
    name: String,
    version: String,
    languages: Vec<String>,
    schema: Schema,
    tables: Vec<crate::ir::Table>,
    /// Where each table attribute (table, name) is declared, for duplicates.
    attr_spans: HashMap<(u32, String), Span>,
    charsets: Vec<crate::charset::Charset>,
    charset_names: HashMap<String, u32>,
    /// Charsets made where they are used (`"-"`, `ascii_digit`), with their spelling.
    anon_charsets: Vec<(u32, crate::ir::Spelling)>,
    patterns: Vec<crate::ir::Pattern>,
    pattern_cache: HashMap<String, u32>,
    pattern_names: HashMap<String, u32>,
    let_decls: Vec<&'a ast::LetDecl>,
    /// A let's name → its index in `let_decls`.
    let_index: HashMap<String, usize>,
    lets: Vec<expr::LetSlot>,
    /// Whether each compiled let reads a sensitive field, once asked (`pii.rs`).
    let_sensitive: std::cell::RefCell<Vec<Option<bool>>>,
    /// How many lets are being compiled, one inside another.
    let_depth: usize,
    messages: HashMap<String, &'a ast::MessageDecl>,
    rule_ids: Vec<String>,
    /// The same ids with where each is first declared, for the duplicate
    /// check (a policy may have tens of thousands of rules).
    rule_id_set: HashMap<String, Span>,
    rules: Vec<Rule>,
    next_steps: Vec<NextStep>,
    as_of: Option<crate::ir::AsOfField>,
    /// `set` declarations by name; compiled where they are used, so that a
    /// set of enum values or banks takes its type from the other side of `in`.
    sets: HashMap<String, &'a ast::SetDecl>,
}

/// What an expression may refer to where it stands.
#[derive(Clone, Copy)]
pub(crate) struct Ctx {
    /// How many rules `fired(...)` may name (those declared before).
    pub fired_limit: usize,
}

impl<'a> Compiler<'a> {
    fn run(&mut self, files: &'a [ast::File]) {
        let items: Vec<&'a Item> = files.iter().flat_map(|f| &f.items).collect();
        self.header(&items);
        macro_rules! of_kind {
            ($variant:ident) => {
                items
                    .iter()
                    .filter_map(|i| if let Item::$variant(d) = i { Some(d) } else { None })
                    .collect::<Vec<_>>()
            };
        }
        self.tables(&of_kind!(Table), &of_kind!(BankAttr));
        let schemas: Vec<_> = items
            .iter()
            .filter_map(|i| if let Item::Schema(s) = i { Some(s) } else { None })
            .collect();
        match schemas.as_slice() {
            [] => self.diags.push(
                Diagnostic::global(diag::HEADER, "the policy has no `schema`")
                    .with_help("declare the application's shape: `schema { id: text ... }`"),
            ),
            [first, rest @ ..] => {
                self.record_type(&first.node);
                for s in rest {
                    self.diags.push(
                        Diagnostic::error(diag::HEADER, "a policy has one `schema`", s.span)
                            .with_secondary(first.span, "the first schema")
                            .with_help("merge the two schemas into one"),
                    );
                }
            }
        }
        self.as_of(&of_kind!(AsOf));
        self.entries(&of_kind!(Entry));
        self.charsets(&of_kind!(Charset));
        let patterns = of_kind!(Pattern);
        for (i, p) in patterns.iter().enumerate() {
            if self.pattern_names.contains_key(&p.name.node) {
                let mut d = Diagnostic::error(
                    diag::DUPLICATE,
                    format!("pattern `{}` is declared twice", p.name.node),
                    p.name.span,
                );
                if let Some(first) = patterns[..i].iter().find(|q| q.name.node == p.name.node) {
                    d = d.with_secondary(first.name.span, "first declared here");
                }
                self.diags.push(d);
            } else if let Some(id) = self.regex(&p.regex.node, p.regex.span) {
                self.pattern_names.insert(p.name.node.clone(), id);
            }
        }
        self.collect_messages(&of_kind!(Message));
        self.collect_sets(&of_kind!(Set));
        self.collect_lets(&of_kind!(Let));
        for r in of_kind!(Rule) {
            self.rule(r);
        }
        self.next_step(&of_kind!(NextStep));
        self.check_lets();
    }

    fn header(&mut self, items: &[&'a Item]) {
        let headers: Vec<&ast::PolicyDecl> = items
            .iter()
            .filter_map(|i| if let Item::Policy(p) = i { Some(p) } else { None })
            .collect();
        let Some(first) = headers.first() else {
            self.diags.push(
                Diagnostic::global(diag::HEADER, "the policy has no header")
                    .with_help("start a file with `policy \"name\" version \"1\" languages en`"),
            );
            self.languages = vec!["en".to_string()];
            return;
        };
        for h in &headers[1..] {
            self.diags.push(
                Diagnostic::error(diag::HEADER, "a policy has one header", h.span)
                    .with_secondary(first.span, "the first header"),
            );
        }
        self.name = first.name.node.clone();
        self.version = first.version.node.clone();
        for l in &first.languages {
            if self.languages.contains(&l.node) {
                self.diags.push(Diagnostic::error(
                    diag::DUPLICATE,
                    format!("language `{}` is listed twice", l.node),
                    l.span,
                ));
            } else {
                self.languages.push(l.node.clone());
            }
        }
    }

    fn collect_messages(&mut self, decls: &[&'a ast::MessageDecl]) {
        for m in decls {
            if let Some(prev) = self.messages.get(&m.name.node) {
                let prev_span = prev.name.span;
                self.diags.push(
                    Diagnostic::error(
                        diag::DUPLICATE,
                        format!("message `{}` is declared twice", m.name.node),
                        m.name.span,
                    )
                    .with_secondary(prev_span, "first declared here"),
                );
                continue;
            }
            let mut seen: Vec<&str> = Vec::new();
            for (lang, _) in &m.texts {
                if !self.languages.contains(&lang.node) {
                    self.unknown_language(lang);
                } else if seen.contains(&lang.node.as_str()) {
                    self.diags.push(Diagnostic::error(
                        diag::DUPLICATE,
                        format!("message `{}` has two `{}` texts", m.name.node, lang.node),
                        lang.span,
                    ));
                }
                seen.push(&lang.node);
            }
            let missing: Vec<&String> = self.languages.iter().filter(|l| !seen.contains(&l.as_str())).collect();
            if !missing.is_empty() {
                let list = missing.iter().map(|l| format!("`{l}`")).collect::<Vec<_>>().join(", ");
                self.diags.push(
                    Diagnostic::error(
                        diag::MISSING_LANGUAGE,
                        format!("message `{}` has no text in {list}", m.name.node),
                        m.name.span,
                    )
                    .with_help(format!("add `{} \"...\"` inside the message", missing[0])),
                );
            }
            self.validity(&m.dates);
            self.messages.insert(m.name.node.clone(), m);
        }
    }

    fn rule(&mut self, r: &'a ast::RuleDecl) {
        if let Some(&prev) = self.rule_id_set.get(&r.id.node) {
            let d = Diagnostic::error(
                diag::DUPLICATE,
                format!("rule `{}` is declared twice", r.id.node),
                r.id.span,
            );
            self.diags.push(d.with_secondary(prev, "first declared here"));
        }
        let outcome = Outcome::parse(&r.outcome.node);
        if outcome.is_none() {
            let hint = suggest(&r.outcome.node, ["reject", "limited", "review", "note"]);
            self.diags.push(
                Diagnostic::error(
                    diag::UNKNOWN_OUTCOME,
                    format!("unknown outcome `{}`", r.outcome.node),
                    r.outcome.span,
                )
                .with_label("not an outcome")
                .with_help(match hint {
                    Some(h) => format!("did you mean `{h}`? an outcome is `reject`, `limited`, `review` or `note`"),
                    None => "expected an outcome: `reject`, `limited`, `review` or `note`".to_string(),
                }),
            );
        }
        let ctx = Ctx {
            fired_limit: self.rule_ids.len(),
        };
        let mut fields = Vec::new();
        for path in &r.on {
            let dotted = path.node.iter().map(|i| i.node.as_str()).collect::<Vec<_>>().join(".");
            if self.field_type(&path.node).is_some() {
                fields.push(dotted);
            }
        }
        let clause = |this: &mut Self, list: &'a [ast::Expr], what: &str, required: bool| -> Option<crate::ir::CExpr> {
            if let Some(second) = list.get(1) {
                this.diags.push(
                    Diagnostic::error(
                        diag::RULE_SHAPE,
                        format!("rule `{}` has two `{what}` clauses", r.id.node),
                        second.span,
                    )
                    .with_help(format!("join the conditions with `and` in one `{what}`")),
                );
            }
            match list.first() {
                Some(e) => this.condition(e, ctx),
                None => {
                    if required {
                        this.diags.push(
                            Diagnostic::error(
                                diag::RULE_SHAPE,
                                format!("rule `{}` has no `{what}` clause", r.id.node),
                                r.id.span,
                            )
                            .with_help("add `when <condition>`: the rule fires when it holds"),
                        );
                    }
                    None
                }
            }
        };
        let guard = clause(self, &r.given, "given", false);
        let when = clause(self, &r.when, "when", true);
        let withs = self.withs(r, ctx);
        let messages = self.rule_messages(r, ctx, &withs);
        let validity = self.validity(&r.dates);
        self.rule_ids.push(r.id.node.clone());
        self.rule_id_set.entry(r.id.node.clone()).or_insert(r.id.span);
        if let (Some(outcome), Some(when)) = (outcome, when) {
            self.rules.push(Rule {
                id: r.id.node.clone(),
                outcome,
                fields,
                guard,
                when,
                messages,
                validity,
            });
        }
    }

    fn rule_messages(&mut self, r: &'a ast::RuleDecl, ctx: Ctx, withs: &expr::Withs) -> Vec<RuleMessage> {
        if r.messages.is_empty() {
            self.diags.push(
                Diagnostic::error(
                    diag::RULE_SHAPE,
                    format!("rule `{}` has no `message`", r.id.node),
                    r.id.span,
                )
                .with_help("add `message <id>`: what the applicant is told when the rule fires"),
            );
        }
        let mut out = Vec::new();
        for (i, choice) in r.messages.iter().enumerate() {
            let last = i + 1 == r.messages.len();
            if !last && choice.condition.is_none() {
                self.diags.push(
                    Diagnostic::error(
                        diag::RULE_SHAPE,
                        "only the last message of a rule may be unconditional",
                        choice.message.span,
                    )
                    .with_help("add `if <condition>` to this message, or move it last"),
                );
            }
            if last && choice.condition.is_some() && r.messages.len() > 1 {
                self.diags.push(
                    Diagnostic::error(
                        diag::RULE_SHAPE,
                        "the last message of a rule must be unconditional",
                        choice.message.span,
                    )
                    .with_help("remove its `if`, so that a firing rule always has a message"),
                );
            }
            let condition = choice.condition.as_ref().and_then(|e| self.condition(e, ctx));
            let Some(decl) = self.messages.get(&choice.message.node).copied() else {
                let hint = suggest(&choice.message.node, self.messages.keys().map(String::as_str));
                self.diags.push(
                    Diagnostic::error(
                        diag::UNKNOWN_MESSAGE,
                        format!("unknown message `{}`", choice.message.node),
                        choice.message.span,
                    )
                    .with_label("no message has this name")
                    .with_help(hint.map_or_else(
                        || "declare it with `message <id> { en \"...\" }`".to_string(),
                        |h| format!("did you mean `{h}`?"),
                    )),
                );
                continue;
            };
            let mut texts = Vec::new();
            for lang in self.languages.clone() {
                let text = decl.texts.iter().find(|(l, _)| l.node == lang);
                texts.push(text.and_then(|(_, t)| self.template(&t.node, t.span, withs, &r.id.node)));
            }
            let validity = self.validity(&decl.dates);
            out.push(RuleMessage {
                message: decl.name.node.clone(),
                condition,
                texts,
                validity,
            });
        }
        out
    }

    fn next_step(&mut self, decls: &[&'a ast::NextStepDecl]) {
        for extra in decls.iter().skip(1) {
            self.diags.push(Diagnostic::error(
                diag::NEXT_STEP,
                "a policy has one `next_step` block",
                extra.span,
            ));
        }
        let Some(decl) = decls.first() else { return };
        let ctx = Ctx {
            fired_limit: self.rule_ids.len(),
        };
        let mut after_otherwise = false;
        for (name, cond) in &decl.steps {
            if after_otherwise {
                self.diags.push(
                    Diagnostic::error(
                        diag::NEXT_STEP,
                        format!("step `{}` can never be chosen: it follows `otherwise`", name.node),
                        name.span,
                    )
                    .with_help("put the `otherwise` step last"),
                );
            }
            let condition = match cond {
                Some(e) => self.condition(e, ctx),
                None => {
                    after_otherwise = true;
                    None
                }
            };
            self.next_steps.push(NextStep {
                name: name.node.clone(),
                condition,
            });
        }
    }

    fn finish(self, sources: &SourceMap) -> RuleSet {
        use crate::ir::Spelling;
        let let_names = self.let_decls.iter().map(|d| d.name.node.clone()).collect();
        let mut charset_spellings = vec![Spelling::Literal(String::new()); self.charsets.len()];
        let declared = self
            .charset_names
            .iter()
            .map(|(n, &id)| (id, Spelling::Name(n.clone())));
        for (id, spelling) in declared.chain(self.anon_charsets) {
            if let Some(s) = charset_spellings.get_mut(id as usize) {
                *s = spelling;
            }
        }
        let mut pattern_spellings = vec![Spelling::Literal(String::new()); self.patterns.len()];
        for (text, &id) in &self.pattern_cache {
            if let Some(s) = pattern_spellings.get_mut(id as usize) {
                *s = Spelling::Literal(text.clone());
            }
        }
        // A declared name wins over the text; of two names for one pattern, the first in order.
        let mut named: Vec<(&String, u32)> = self.pattern_names.iter().map(|(n, &id)| (n, id)).collect();
        named.sort();
        for (name, id) in named.into_iter().rev() {
            if let Some(s) = pattern_spellings.get_mut(id as usize) {
                *s = Spelling::Name(name.clone());
            }
        }
        let lets = self
            .lets
            .into_iter()
            .map(|l| l.expr.unwrap_or(crate::ir::CExpr::Const(crate::record::Field::Absent)))
            .collect();
        RuleSet {
            name: self.name,
            version: self.version,
            languages: self.languages,
            schema: self.schema,
            tables: self.tables,
            charsets: self.charsets,
            patterns: self.patterns,
            lets,
            rules: self.rules,
            next_steps: self.next_steps,
            hash: content_hash(sources),
            let_names,
            charset_spellings,
            pattern_spellings,
            as_of: self.as_of,
            show_pii: false,
        }
    }

    /// The type of a schema path from the root (for `on` clauses).
    fn field_type(&mut self, path: &[ast::Ident]) -> Option<Type> {
        let mut rec = 0u32;
        let mut ty = None;
        for (i, part) in path.iter().enumerate() {
            let schema = self.schema.records.get(rec as usize)?;
            let Some(f) = schema.fields.iter().find(|f| f.name == part.node) else {
                let hint = suggest(&part.node, schema.fields.iter().map(|f| f.name.as_str()));
                let prefix = path[..i].iter().map(|p| p.node.as_str()).collect::<Vec<_>>().join(".");
                self.diags
                    .push(self.unknown_field_diag(&part.node, &prefix, part.span, hint.map(str::to_string)));
                return None;
            };
            ty = Some(f.ty.clone());
            if i + 1 < path.len() {
                match &f.ty {
                    Type::Record(r) => rec = *r,
                    Type::List(inner) => match inner.as_ref() {
                        Type::Record(r) => rec = *r,
                        _ => return None,
                    },
                    _ => return None,
                }
            }
        }
        ty
    }

    fn unknown_field_diag(&self, name: &str, prefix: &str, span: Span, hint: Option<String>) -> Diagnostic {
        let full = if prefix.is_empty() {
            name.to_string()
        } else {
            format!("{prefix}.{name}")
        };
        let d = Diagnostic::error(diag::UNKNOWN_FIELD, format!("unknown field `{full}`"), span)
            .with_label("not in the schema");
        match hint {
            Some(h) => {
                let full_hint = if prefix.is_empty() { h } else { format!("{prefix}.{h}") };
                d.with_help(format!("did you mean `{full_hint}`?"))
            }
            None => d.with_help("declare the field in the `schema`, or use a `let` or a bound variable"),
        }
    }
}

/// FNV-1a over every source file's text in load order, as 16 hex digits: the
/// same policy has the same hash whether embedded or read from disk.
fn content_hash(sources: &SourceMap) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for src in &sources.files {
        for b in src.text.bytes().chain([0]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}
