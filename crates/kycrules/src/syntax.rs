//! Parsing: policy text → pest pairs → spanned [`ast`](crate::ast).
//!
//! `lower` walks the pairs by hand, one `lower_<rule>` function per grammar
//! rule. It does no semantic checks: names, types and duplicates are the
//! compiler's business.

use crate::ast::*;
use crate::diag::{self, Diagnostic};
use crate::source::{Span, Spanned};
use pest::Parser as _;
use pest::iterators::Pair;
use pest::pratt_parser::{Assoc, Op, PrattParser};
use std::sync::OnceLock;

#[derive(pest_derive::Parser)]
#[grammar = "../grammar/policy.pest"]
struct PolicyParser;

/// How deeply brackets and expressions may nest in a policy.
pub const MAX_DEPTH: usize = 256;

/// Parses one policy file. On a syntax error returns the diagnostics instead.
pub fn parse(file: u32, text: &str) -> Result<File, Vec<Diagnostic>> {
    if let Some(offset) = too_deep(text) {
        let span = Span::new(file, offset, offset + 1);
        return Err(vec![
            Diagnostic::error(
                diag::TOO_DEEP,
                format!("brackets nest deeper than {MAX_DEPTH} levels"),
                span,
            )
            .with_label("too deep here")
            .with_help("split the expression with `let` declarations"),
        ]);
    }
    pest::set_call_limit(std::num::NonZeroUsize::new(50_000_000));
    let mut pairs = match PolicyParser::parse(Rule::file, text) {
        Ok(p) => p,
        Err(e) => return Err(vec![syntax_error(file, text, e)]),
    };
    let mut lower = Lower {
        file,
        diags: Vec::new(),
    };
    let items = match pairs.next() {
        Some(file_pair) => file_pair
            .into_inner()
            .filter(|p| p.as_rule() != Rule::EOI)
            .filter_map(|p| lower.item(p))
            .collect(),
        None => Vec::new(),
    };
    if lower.diags.is_empty() {
        Ok(File { items })
    } else {
        Err(lower.diags)
    }
}

/// The byte offset where bracket nesting first exceeds [`MAX_DEPTH`], ignoring
/// brackets inside strings and comments.
fn too_deep(text: &str) -> Option<usize> {
    let mut depth = 0usize;
    let mut nots = 0usize;
    let bytes = text.as_bytes();
    for i in code_bytes(bytes) {
        let b = bytes[i];
        match b {
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        // A long run of prefix `not`s nests as deeply as brackets do.
        if bytes[i..].starts_with(b"not") && (i == 0 || !bytes[i - 1].is_ascii_alphanumeric()) {
            nots += 1;
        } else if b.is_ascii_alphanumeric() && (i == 0 || bytes[i - 1].is_ascii_whitespace()) {
            nots = 0;
        }
        if depth > MAX_DEPTH || nots > MAX_DEPTH {
            return Some(i);
        }
    }
    None
}

/// The offsets of the bytes of policy text that are code: outside texts
/// (`"..."`, raw `r"..."`, which end at a line's end at the latest) and
/// comments (`#` to the line's end), delimiters left out. The lexical scan
/// the bracket checks share, before (or without) a parse.
fn code_bytes(bytes: &[u8]) -> impl Iterator<Item = usize> + '_ {
    let (mut in_string, mut raw, mut in_comment, mut escaped) = (false, false, false, false);
    bytes.iter().enumerate().filter_map(move |(i, &b)| {
        if in_comment {
            in_comment = b != b'\n';
            return None;
        }
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' && !raw {
                escaped = true;
            } else if b == b'"' || b == b'\n' {
                in_string = false;
            }
            return None;
        }
        match b {
            b'#' => {
                in_comment = true;
                None
            }
            b'"' => {
                in_string = true;
                // `r"...`: a raw text, whose backslashes escape nothing.
                raw = i > 0 && bytes[i - 1] == b'r' && (i < 2 || !is_ident_byte(bytes[i - 2]));
                None
            }
            _ => Some(i),
        }
    })
}

fn is_ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

fn syntax_error(file: u32, text: &str, e: pest::error::Error<Rule>) -> Diagnostic {
    use pest::error::{ErrorVariant, InputLocation};
    let (start, end) = match e.location {
        InputLocation::Pos(p) => (p, p + 1),
        InputLocation::Span((s, e)) => (s, e),
    };
    let start = start.min(text.len());
    let end = end.min(text.len()).max(start);
    let found = describe_found(&text[start..]);
    // At the end of a file that ends with a new line, point at that line's end.
    let (start, end) = if start == text.len() && text.ends_with('\n') {
        (start - 1, start)
    } else {
        (start, end)
    };
    let span = Span::new(file, start, end);
    let message = match &e.variant {
        ErrorVariant::ParsingError { positives, .. } if !positives.is_empty() => {
            let mut names: Vec<&str> = positives.iter().map(|r| friendly(*r)).collect();
            names.sort_unstable();
            names.dedup();
            format!("expected {}, found {found}", join_or(&names))
        }
        ErrorVariant::ParsingError { .. } => format!("unexpected {found}"),
        ErrorVariant::CustomError { message } => message.clone(),
    };
    if let Some(open) = unclosed_brace(text, start) {
        let line = text[..open].matches('\n').count() + 1;
        return Diagnostic::error(diag::SYNTAX, format!("missing `}}`: {message}"), span)
            .with_label("a `}` is missing before this")
            .with_secondary(Span::new(file, open, open + 1), "this `{` is never closed")
            .with_help(format!("close the block opened on line {line} with `}}`"));
    }
    let mut d = Diagnostic::error(diag::SYNTAX, message, span);
    if let ErrorVariant::ParsingError { positives, .. } = &e.variant {
        if positives.contains(&Rule::outcome) {
            d = d.with_help("a rule's outcome is one of `reject`, `limited`, `review`, `note`");
        } else if positives.contains(&Rule::EOI) || positives.contains(&Rule::policy_decl) {
            d = d.with_help(
                "a file holds declarations: `policy`, `schema`, `table`, `bank` and other table entries, `charset`, `pattern`, `let`, `message`, `rule`, `next_step`, `as_of`, `set`",
            );
        }
    }
    d
}

/// The innermost `{` before `before` that no `}` of the file closes (braces
/// inside texts and comments do not count); `None` when every `{` opened
/// before it is closed.
fn unclosed_brace(text: &str, before: usize) -> Option<usize> {
    let mut open = Vec::new();
    let bytes = text.as_bytes();
    for i in code_bytes(bytes) {
        match bytes[i] {
            b'{' => open.push(i),
            b'}' => {
                open.pop();
            }
            _ => {}
        }
    }
    open.into_iter().rev().find(|&o| o < before)
}

fn describe_found(rest: &str) -> String {
    let token: String = rest.chars().take_while(|c| !c.is_whitespace()).take(20).collect();
    if rest.is_empty() {
        "end of file".to_string()
    } else if token.is_empty() {
        "white space".to_string()
    } else {
        format!("`{token}`")
    }
}

fn join_or(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_string(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// What a grammar rule is called in an error message.
fn friendly(rule: Rule) -> &'static str {
    match rule {
        Rule::EOI => "end of file",
        Rule::WHITESPACE | Rule::COMMENT => "white space",
        Rule::file => "a policy file",
        Rule::ident_char => "a letter or digit",
        Rule::kw_policy | Rule::policy_decl => "`policy`",
        Rule::kw_version => "`version`",
        Rule::kw_languages => "`languages`",
        Rule::kw_schema | Rule::schema_decl => "`schema`",
        Rule::kw_list => "`list`",
        Rule::kw_of => "`of`",
        Rule::kw_bank | Rule::bank_attr_decl => "`bank`",
        Rule::kw_table | Rule::table_decl => "`table`",
        Rule::table_attr => "a table attribute `name: type = default`",
        Rule::attr_enum => "an enum `(a | b)`",
        Rule::entry_decl => "a table entry `table CODE { ... }`",
        Rule::decl_keyword => "a declaration keyword",
        Rule::kw_attribute => "`attribute`",
        Rule::kw_name | Rule::bank_name => "`name`",
        Rule::kw_alias | Rule::bank_alias => "`alias`",
        Rule::kw_charset | Rule::charset_decl => "`charset`",
        Rule::kw_except => "`except`",
        Rule::kw_pattern | Rule::pattern_decl => "`pattern`",
        Rule::kw_let | Rule::let_decl => "`let`",
        Rule::kw_message | Rule::message_decl | Rule::message_clause => "`message`",
        Rule::kw_rule | Rule::rule_decl => "`rule`",
        Rule::kw_on | Rule::on_clause => "`on`",
        Rule::kw_given | Rule::given_clause => "`given`",
        Rule::kw_when | Rule::when_clause => "`when`",
        Rule::kw_if => "`if`",
        Rule::kw_with | Rule::with_clause => "`with`",
        Rule::kw_effective | Rule::effective_clause => "`effective`",
        Rule::kw_until | Rule::until_clause => "`until`",
        Rule::kw_next_step | Rule::next_step_decl => "`next_step`",
        Rule::kw_as_of | Rule::as_of_decl => "`as_of`",
        Rule::kw_otherwise => "`otherwise`",
        Rule::kw_and | Rule::op_and => "`and`",
        Rule::kw_or | Rule::op_or => "`or`",
        Rule::kw_not | Rule::op_not => "`not`",
        Rule::kw_in | Rule::op_in => "`in`",
        Rule::op_not_in => "`not in`",
        Rule::kw_true => "`true`",
        Rule::kw_false => "`false`",
        Rule::reserved => "a keyword",
        Rule::ident => "a name",
        Rule::rule_id => "a rule id",
        Rule::string | Rule::raw_string => "a quoted text",
        Rule::string_inner | Rule::raw_inner => "text",
        Rule::escape => "an escape (`\\\"`, `\\\\`, `\\n`, `\\t`, `\\u{...}`)",
        Rule::date => "a date `YYYY-MM-DD`",
        Rule::number => "a number",
        Rule::boolean => "`true` or `false`",
        Rule::literal => "a value",
        Rule::record_type => "a record type `{ ... }`",
        Rule::field_decl => "a field `name: type`",
        Rule::optional => "`?`",
        Rule::sensitive | Rule::kw_sensitive => "`sensitive`",
        Rule::default_value => "a default `= value`",
        Rule::enum_type => "an enum `a | b`",
        Rule::list_type => "`list of`",
        Rule::type_name => "a type",
        Rule::bank_set => "a bank attribute `name = value`",
        Rule::charset_expr | Rule::charset_union => "a character class",
        Rule::char_range => "a range `\"a\"..\"z\"`",
        Rule::class_call => "a class such as `script(Han)`",
        Rule::message_text => "a message text `en \"...\"`",
        Rule::outcome => "an outcome (`reject`, `limited`, `review` or `note`)",
        Rule::step_clause => "a step `name when condition` or `name otherwise`",
        Rule::expr => "an expression",
        Rule::op_eq => "`==`",
        Rule::op_ne => "`!=`",
        Rule::op_le => "`<=`",
        Rule::op_ge => "`>=`",
        Rule::op_lt => "`<`",
        Rule::op_gt => "`>`",
        Rule::op_add => "`+`",
        Rule::op_sub => "`-`",
        Rule::op_mul => "`*`",
        Rule::op_div => "`/`",
        Rule::kw_mod | Rule::op_mod => "`mod`",
        Rule::kw_set | Rule::set_decl => "`set`",
        Rule::duration => "a duration such as `30 days`",
        Rule::duration_amount => "a whole number",
        Rule::duration_unit => "`days`, `months` or `years`",
        Rule::quantifier | Rule::quantifier_kind => "`any`, `all`, `count`, `sum`, `min` or `max`",
        Rule::call => "a function call",
        Rule::member => "a field `.name`",
        Rule::call_close => "`)`",
        Rule::rule_ref => "a rule id",
        Rule::list => "a list `[...]`",
        Rule::path => "a field path",
        Rule::item => "a declaration",
        Rule::text_lit => "a quoted text",
        Rule::type_expr => "a type",
        Rule::bank_entry => "an entry clause (`name`, `alias`, `attribute = value`, `effective`, `until`)",
        Rule::charset_term => "a character class",
        Rule::message_entry => "a message text `en \"...\"`",
        Rule::rule_clause => "a rule clause (`on`, `given`, `when`, `message`, `with`, `effective`, `until`)",
        Rule::prefix_op => "`not`",
        Rule::infix_op => "an operator",
        Rule::primary => "a value, field or call",
        Rule::call_arg => "an argument",
    }
}

fn pratt() -> &'static PrattParser<Rule> {
    static PRATT: OnceLock<PrattParser<Rule>> = OnceLock::new();
    PRATT.get_or_init(|| {
        PrattParser::new()
            .op(Op::infix(Rule::op_or, Assoc::Left))
            .op(Op::infix(Rule::op_and, Assoc::Left))
            .op(Op::prefix(Rule::op_not))
            .op(Op::infix(Rule::op_eq, Assoc::Left)
                | Op::infix(Rule::op_ne, Assoc::Left)
                | Op::infix(Rule::op_lt, Assoc::Left)
                | Op::infix(Rule::op_le, Assoc::Left)
                | Op::infix(Rule::op_gt, Assoc::Left)
                | Op::infix(Rule::op_ge, Assoc::Left)
                | Op::infix(Rule::op_in, Assoc::Left)
                | Op::infix(Rule::op_not_in, Assoc::Left))
            .op(Op::infix(Rule::op_add, Assoc::Left) | Op::infix(Rule::op_sub, Assoc::Left))
            .op(Op::infix(Rule::op_mul, Assoc::Left)
                | Op::infix(Rule::op_div, Assoc::Left)
                | Op::infix(Rule::op_mod, Assoc::Left))
    })
}

struct Lower {
    file: u32,
    diags: Vec<Diagnostic>,
}

impl Lower {
    fn span(&self, pair: &Pair<Rule>) -> Span {
        let s = pair.as_span();
        Span::new(self.file, s.start(), s.end())
    }

    fn ident(&self, pair: Pair<Rule>) -> Ident {
        Spanned::new(pair.as_str().to_string(), self.span(&pair))
    }

    fn item(&mut self, pair: Pair<Rule>) -> Option<Item> {
        Some(match pair.as_rule() {
            Rule::policy_decl => Item::Policy(self.lower_policy(pair)),
            Rule::schema_decl => {
                let span = self.span(&pair);
                let rec = pair.into_inner().find(|p| p.as_rule() == Rule::record_type)?;
                Item::Schema(Spanned::new(self.lower_record_type(rec, 0), span))
            }
            Rule::bank_attr_decl => Item::BankAttr(self.lower_bank_attr(pair)?),
            Rule::table_decl => Item::Table(self.lower_table(pair)?),
            Rule::entry_decl => Item::Entry(self.lower_bank(pair)?),
            Rule::charset_decl => Item::Charset(self.lower_charset(pair)?),
            Rule::pattern_decl => Item::Pattern(self.lower_pattern(pair)?),
            Rule::let_decl => Item::Let(self.lower_let(pair)?),
            Rule::message_decl => Item::Message(self.lower_message(pair)?),
            Rule::rule_decl => Item::Rule(self.lower_rule(pair)?),
            Rule::next_step_decl => Item::NextStep(self.lower_next_step(pair)),
            Rule::as_of_decl => Item::AsOf(self.lower_as_of(pair)?),
            Rule::set_decl => Item::Set(self.lower_set(pair)?),
            _ => return None,
        })
    }

    fn lower_policy(&mut self, pair: Pair<Rule>) -> PolicyDecl {
        let span = self.span(&pair);
        let mut strings = Vec::new();
        let mut languages = Vec::new();
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::string => strings.push(self.lower_text(p)),
                Rule::ident => languages.push(self.ident(p)),
                _ => {}
            }
        }
        let mut strings = strings.into_iter();
        let empty = Spanned::new(String::new(), span);
        PolicyDecl {
            name: strings.next().unwrap_or_else(|| empty.clone()),
            version: strings.next().unwrap_or(empty),
            languages,
            span,
        }
    }

    fn lower_record_type(&mut self, pair: Pair<Rule>, depth: usize) -> RecordType {
        let fields = pair
            .into_inner()
            .filter(|p| p.as_rule() == Rule::field_decl)
            .filter_map(|p| self.lower_field(p, depth))
            .collect();
        RecordType { fields }
    }

    fn lower_field(&mut self, pair: Pair<Rule>, depth: usize) -> Option<FieldDecl> {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let name = self.ident(inner.next()?);
        let ty = self.lower_type(inner.next()?, depth + 1)?;
        let mut optional = false;
        let mut sensitive = false;
        let mut default = None;
        for p in inner {
            match p.as_rule() {
                Rule::optional => optional = true,
                Rule::sensitive => sensitive = true,
                Rule::default_value => {
                    let v = p.into_inner().next()?;
                    default = Some(match v.as_rule() {
                        Rule::ident => Spanned::new(Literal::Name(v.as_str().to_string()), self.span(&v)),
                        _ => self.lower_literal(v),
                    });
                }
                _ => {}
            }
        }
        Some(FieldDecl {
            name,
            ty,
            optional,
            default,
            sensitive,
            span,
        })
    }

    fn lower_type(&mut self, pair: Pair<Rule>, depth: usize) -> Option<Spanned<TypeExpr>> {
        let span = self.span(&pair);
        if depth > MAX_DEPTH {
            self.diags
                .push(Diagnostic::error(diag::TOO_DEEP, "types nest too deeply", span));
            return None;
        }
        let ty = match pair.as_rule() {
            Rule::type_name => TypeExpr::Named(pair.as_str().to_string()),
            Rule::enum_type => TypeExpr::Enum(pair.into_inner().map(|p| self.ident(p)).collect()),
            Rule::list_type => {
                let inner = pair
                    .into_inner()
                    .find(|p| !matches!(p.as_rule(), Rule::kw_list | Rule::kw_of))?;
                TypeExpr::List(Box::new(self.lower_type(inner, depth + 1)?))
            }
            Rule::record_type => TypeExpr::Record(self.lower_record_type(pair, depth + 1)),
            _ => return None,
        };
        Some(Spanned::new(ty, span))
    }

    fn lower_literal(&mut self, pair: Pair<Rule>) -> Spanned<Literal> {
        let span = self.span(&pair);
        let p = if pair.as_rule() == Rule::literal {
            match pair.into_inner().next() {
                Some(p) => p,
                None => return Spanned::new(Literal::Text(String::new()), span),
            }
        } else {
            pair
        };
        let lit = match p.as_rule() {
            Rule::date => Literal::Date(p.as_str().to_string()),
            Rule::number => Literal::Number(p.as_str().to_string()),
            Rule::boolean => Literal::Bool(p.as_str() == "true"),
            // An enum value: an attribute's default or an entry's value.
            Rule::ident => Literal::Name(p.as_str().to_string()),
            _ => Literal::Text(self.lower_text(p).node),
        };
        Spanned::new(lit, span)
    }

    /// A `string` or `raw_string` with its escapes resolved.
    fn lower_text(&mut self, pair: Pair<Rule>) -> Spanned<String> {
        let span = self.span(&pair);
        let raw = pair.as_rule() == Rule::raw_string;
        let inner = pair.into_inner().next().map(|p| p.as_str()).unwrap_or("");
        if raw {
            return Spanned::new(inner.to_string(), span);
        }
        let mut out = String::with_capacity(inner.len());
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            if c != '\\' {
                out.push(c);
                continue;
            }
            match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some('r') => out.push('\r'),
                Some('u') => {
                    let hex: String = chars.by_ref().skip(1).take_while(|&c| c != '}').collect();
                    match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                        Some(ch) => out.push(ch),
                        None => self.diags.push(
                            Diagnostic::error(
                                diag::LITERAL,
                                format!("`\\u{{{hex}}}` is not a Unicode scalar value"),
                                span,
                            )
                            .with_help("use a code point from 0 to 10FFFF, outside the surrogates D800 to DFFF"),
                        ),
                    }
                }
                Some(other) => out.push(other),
                None => {}
            }
        }
        Spanned::new(out, span)
    }

    fn text_list<'i>(&mut self, pairs: impl Iterator<Item = Pair<'i, Rule>>) -> Vec<Spanned<String>> {
        pairs
            .filter(|p| matches!(p.as_rule(), Rule::string | Rule::raw_string))
            .map(|p| self.lower_text(p))
            .collect()
    }

    fn lower_bank_attr(&mut self, pair: Pair<Rule>) -> Option<AttrDecl> {
        let span = self.span(&pair);
        let mut inner = pair
            .into_inner()
            .filter(|p| !matches!(p.as_rule(), Rule::kw_bank | Rule::kw_attribute));
        let name = self.ident(inner.next()?);
        let (ty, values) = self.attr_type(inner.next()?);
        let default = self.lower_literal(inner.next()?);
        Some(AttrDecl {
            name,
            ty,
            values,
            default,
            span,
        })
    }

    /// An attribute's type: a name, or an enum written `(a | b | c)` (its
    /// values, the type's text normalised to that form).
    fn attr_type(&mut self, pair: Pair<Rule>) -> (Ident, Vec<Ident>) {
        if pair.as_rule() != Rule::attr_enum {
            return (self.ident(pair), Vec::new());
        }
        let span = self.span(&pair);
        let values: Vec<Ident> = pair.into_inner().map(|p| self.ident(p)).collect();
        let names: Vec<&str> = values.iter().map(|v| v.node.as_str()).collect();
        (Ident::new(format!("({})", names.join(" | ")), span), values)
    }

    fn lower_table(&mut self, pair: Pair<Rule>) -> Option<TableDecl> {
        let span = self.span(&pair);
        let mut inner = pair.into_inner().filter(|p| p.as_rule() != Rule::kw_table);
        let name = self.ident(inner.next()?);
        let mut attrs = Vec::new();
        for a in inner {
            let a_span = self.span(&a);
            let mut parts = a.into_inner();
            let name = self.ident(parts.next()?);
            let (ty, values) = self.attr_type(parts.next()?);
            let default = self.lower_literal(parts.next()?);
            attrs.push(AttrDecl {
                name,
                ty,
                values,
                default,
                span: a_span,
            });
        }
        Some(TableDecl { name, attrs, span })
    }

    fn lower_bank(&mut self, pair: Pair<Rule>) -> Option<EntryDecl> {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let table = self.ident(inner.next()?);
        let code_pair = inner.next()?;
        let quoted = code_pair.as_rule() == Rule::string;
        let code = if quoted {
            let t = self.lower_text(code_pair);
            Spanned::new(t.node, t.span)
        } else {
            self.ident(code_pair)
        };
        let mut bank = EntryDecl {
            table,
            code,
            quoted,
            names: Vec::new(),
            aliases: Vec::new(),
            attrs: Vec::new(),
            dates: Dates::default(),
            span,
        };
        for entry in inner {
            match entry.as_rule() {
                Rule::bank_name => {
                    let mut parts = entry.into_inner().filter(|p| p.as_rule() != Rule::kw_name);
                    let lang = self.ident(parts.next()?);
                    let names = self.text_list(parts);
                    bank.names.push((lang, names));
                }
                Rule::bank_alias => {
                    let aliases = self.text_list(entry.into_inner());
                    bank.aliases.extend(aliases);
                }
                Rule::bank_set => {
                    let mut parts = entry.into_inner();
                    let name = self.ident(parts.next()?);
                    let value = self.lower_literal(parts.next()?);
                    bank.attrs.push((name, value));
                }
                _ => self.lower_date_clause(entry, &mut bank.dates),
            }
        }
        Some(bank)
    }

    fn lower_date_clause(&mut self, pair: Pair<Rule>, dates: &mut Dates) {
        let rule = pair.as_rule();
        let Some(date) = pair.into_inner().find(|p| p.as_rule() == Rule::date) else {
            return;
        };
        let value = Spanned::new(date.as_str().to_string(), self.span(&date));
        match rule {
            Rule::effective_clause => dates.effective.push(value),
            Rule::until_clause => dates.until.push(value),
            _ => {}
        }
    }

    fn lower_charset(&mut self, pair: Pair<Rule>) -> Option<CharsetDecl> {
        let span = self.span(&pair);
        let mut inner = pair.into_inner().filter(|p| p.as_rule() != Rule::kw_charset);
        let name = self.ident(inner.next()?);
        let expr = self.lower_charset_expr(inner.next()?);
        Some(CharsetDecl { name, expr, span })
    }

    pub(crate) fn lower_charset_expr(&mut self, pair: Pair<Rule>) -> CharsetExpr {
        let mut unions = pair.into_inner().filter(|p| p.as_rule() == Rule::charset_union);
        let include = unions.next().map(|u| self.lower_charset_union(u)).unwrap_or_default();
        let exclude = unions.next().map(|u| self.lower_charset_union(u)).unwrap_or_default();
        CharsetExpr { include, exclude }
    }

    fn lower_charset_union(&mut self, pair: Pair<Rule>) -> Vec<Spanned<CharsetTerm>> {
        pair.into_inner().filter_map(|t| self.lower_charset_term(t)).collect()
    }

    fn lower_charset_term(&mut self, pair: Pair<Rule>) -> Option<Spanned<CharsetTerm>> {
        let span = self.span(&pair);
        let term = match pair.as_rule() {
            Rule::char_range => {
                let mut ends = pair.into_inner().map(|p| self.lower_text(p));
                let lo = ends.next()?;
                let hi = ends.next()?;
                let one = |s: &Spanned<String>| {
                    let mut cs = s.node.chars();
                    match (cs.next(), cs.next()) {
                        (Some(c), None) => Some(c),
                        _ => None,
                    }
                };
                match (one(&lo), one(&hi)) {
                    (Some(a), Some(b)) if a <= b => CharsetTerm::Range(a, b),
                    _ => {
                        self.diags.push(
                            Diagnostic::error(
                                diag::LITERAL,
                                "a range needs one character at each end, the first not after the second",
                                span,
                            )
                            .with_help("write a range as `\"a\"..\"z\"`"),
                        );
                        return None;
                    }
                }
            }
            Rule::string | Rule::raw_string => CharsetTerm::Chars(self.lower_text(pair).node),
            Rule::class_call => {
                let mut parts = pair.into_inner();
                let f = self.ident(parts.next()?);
                let arg = self.ident(parts.next()?);
                CharsetTerm::Class(f, arg)
            }
            Rule::ident => CharsetTerm::Named(pair.as_str().to_string()),
            _ => return None,
        };
        Some(Spanned::new(term, span))
    }

    fn lower_pattern(&mut self, pair: Pair<Rule>) -> Option<PatternDecl> {
        let span = self.span(&pair);
        let mut inner = pair.into_inner().filter(|p| p.as_rule() != Rule::kw_pattern);
        let name = self.ident(inner.next()?);
        let regex = self.lower_text(inner.next()?);
        Some(PatternDecl { name, regex, span })
    }

    fn lower_let(&mut self, pair: Pair<Rule>) -> Option<LetDecl> {
        let span = self.span(&pair);
        let mut inner = pair.into_inner().filter(|p| p.as_rule() != Rule::kw_let);
        let name = self.ident(inner.next()?);
        let value = self.lower_expr(inner.next()?, 0)?;
        Some(LetDecl { name, value, span })
    }

    fn lower_message(&mut self, pair: Pair<Rule>) -> Option<MessageDecl> {
        let span = self.span(&pair);
        let mut inner = pair.into_inner().filter(|p| p.as_rule() != Rule::kw_message);
        let name = self.ident(inner.next()?);
        let mut msg = MessageDecl {
            name,
            texts: Vec::new(),
            dates: Dates::default(),
            span,
        };
        for entry in inner {
            if entry.as_rule() == Rule::message_text {
                let mut parts = entry.into_inner();
                let lang = self.ident(parts.next()?);
                let text = self.lower_text(parts.next()?);
                msg.texts.push((lang, text));
            } else {
                self.lower_date_clause(entry, &mut msg.dates);
            }
        }
        Some(msg)
    }

    fn lower_rule(&mut self, pair: Pair<Rule>) -> Option<RuleDecl> {
        let span = self.span(&pair);
        let mut inner = pair.into_inner().filter(|p| p.as_rule() != Rule::kw_rule);
        let id = self.ident(inner.next()?);
        let outcome = self.ident(inner.next()?);
        let mut rule = RuleDecl {
            id,
            outcome,
            on: Vec::new(),
            given: Vec::new(),
            when: Vec::new(),
            messages: Vec::new(),
            with: Vec::new(),
            dates: Dates::default(),
            span,
        };
        for clause in inner {
            let rule_kind = clause.as_rule();
            match rule_kind {
                Rule::on_clause => {
                    for p in clause.into_inner().filter(|p| p.as_rule() == Rule::path) {
                        let parts: Vec<Ident> = p.into_inner().map(|i| self.ident(i)).collect();
                        let Some(pspan) = parts.first().zip(parts.last()).map(|(a, b)| a.span.to(b.span)) else {
                            continue;
                        };
                        rule.on.push(Spanned::new(parts, pspan));
                    }
                }
                Rule::given_clause | Rule::when_clause => {
                    let e = clause.into_inner().find(|p| p.as_rule() == Rule::expr)?;
                    let e = self.lower_expr(e, 0)?;
                    if rule_kind == Rule::given_clause {
                        rule.given.push(e);
                    } else {
                        rule.when.push(e);
                    }
                }
                Rule::message_clause => {
                    let mut parts = clause
                        .into_inner()
                        .filter(|p| !matches!(p.as_rule(), Rule::kw_message | Rule::kw_if));
                    let message = self.ident(parts.next()?);
                    let condition = match parts.next() {
                        Some(e) => Some(self.lower_expr(e, 0)?),
                        None => None,
                    };
                    rule.messages.push(MessageChoice { message, condition });
                }
                Rule::with_clause => {
                    let mut parts = clause.into_inner().filter(|p| p.as_rule() != Rule::kw_with);
                    let name = self.ident(parts.next()?);
                    let value = self.lower_expr(parts.next()?, 0)?;
                    rule.with.push((name, value));
                }
                _ => self.lower_date_clause(clause, &mut rule.dates),
            }
        }
        Some(rule)
    }

    fn lower_as_of(&mut self, pair: Pair<Rule>) -> Option<AsOfDecl> {
        let start = self.span(&pair);
        let path = pair.into_inner().find(|p| p.as_rule() == Rule::path)?;
        let parts: Vec<Ident> = path.into_inner().map(|i| self.ident(i)).collect();
        let pspan = parts.first().zip(parts.last()).map(|(a, b)| a.span.to(b.span))?;
        // The pair may end in white space that a failed `.` attempt skipped.
        let span = Span::new(self.file, start.start as usize, pspan.end as usize);
        Some(AsOfDecl {
            field: Spanned::new(parts, pspan),
            span,
        })
    }

    fn lower_set(&mut self, pair: Pair<Rule>) -> Option<SetDecl> {
        let span = self.span(&pair);
        let mut inner = pair.into_inner().filter(|p| p.as_rule() != Rule::kw_set);
        let name = self.ident(inner.next()?);
        let list = inner.next()?;
        let mut items = Vec::new();
        for p in list.into_inner() {
            items.push(self.lower_expr(p, 1)?);
        }
        Some(SetDecl { name, items, span })
    }

    fn lower_next_step(&mut self, pair: Pair<Rule>) -> NextStepDecl {
        let span = self.span(&pair);
        let mut steps = Vec::new();
        for clause in pair.into_inner().filter(|p| p.as_rule() == Rule::step_clause) {
            let mut parts = clause.into_inner();
            let Some(name) = parts.next().map(|p| self.ident(p)) else {
                continue;
            };
            let cond = parts
                .find(|p| p.as_rule() == Rule::expr)
                .and_then(|e| self.lower_expr(e, 0));
            steps.push((name, cond));
        }
        NextStepDecl { steps, span }
    }

    fn lower_expr(&mut self, pair: Pair<Rule>, depth: usize) -> Option<Expr> {
        self.lower_expr_h(pair, depth).map(|(e, _)| e)
    }

    fn too_deep(&mut self, span: Span) {
        self.diags.push(
            Diagnostic::error(
                diag::TOO_DEEP,
                format!("expression nests deeper than {MAX_DEPTH} levels"),
                span,
            )
            .with_help("split the expression with `let` declarations"),
        );
    }

    /// An expression and the height of its tree. A chain of operators
    /// (`a or b or c ...`) is flat text but a tree as deep as it is long, and
    /// every later stage walks the tree recursively: the height is bounded by
    /// [`MAX_DEPTH`] while the tree is built, before it grows any deeper.
    fn lower_expr_h(&mut self, pair: Pair<Rule>, depth: usize) -> Option<(Expr, usize)> {
        let span = self.span(&pair);
        if depth > MAX_DEPTH {
            self.too_deep(span);
            return None;
        }
        let file = self.file;
        let cell = std::cell::RefCell::new(self);
        let failed = std::cell::Cell::new(false);
        let check = |h: usize| {
            if h <= MAX_DEPTH {
                return true;
            }
            if !failed.replace(true) {
                cell.borrow_mut().too_deep(span);
            }
            false
        };
        pratt()
            .map_primary(|p| cell.borrow_mut().lower_primary(p, depth + 1))
            .map_prefix(|op, rhs| {
                let (rhs, h) = rhs?;
                if !check(h + 1) {
                    return None;
                }
                let s = Span::new(file, op.as_span().start(), op.as_span().end()).to(rhs.span);
                Some((Spanned::new(ExprKind::Not(Box::new(rhs)), s), h + 1))
            })
            .map_infix(|lhs, op, rhs| {
                let ((lhs, lh), (rhs, rh)) = (lhs?, rhs?);
                let h = lh.max(rh) + 1;
                if !check(h) {
                    return None;
                }
                let bin = match op.as_rule() {
                    Rule::op_or => BinOp::Or,
                    Rule::op_and => BinOp::And,
                    Rule::op_eq => BinOp::Eq,
                    Rule::op_ne => BinOp::Ne,
                    Rule::op_lt => BinOp::Lt,
                    Rule::op_le => BinOp::Le,
                    Rule::op_gt => BinOp::Gt,
                    Rule::op_ge => BinOp::Ge,
                    Rule::op_in => BinOp::In,
                    Rule::op_add => BinOp::Add,
                    Rule::op_sub => BinOp::Sub,
                    Rule::op_mul => BinOp::Mul,
                    Rule::op_div => BinOp::Div,
                    Rule::op_mod => BinOp::Mod,
                    _ => BinOp::NotIn,
                };
                let s = lhs.span.to(rhs.span);
                Some((Spanned::new(ExprKind::Binary(bin, Box::new(lhs), Box::new(rhs)), s), h))
            })
            .parse(pair.into_inner())
            .filter(|&(_, h)| check(h))
    }

    /// A primary expression and the height of its tree.
    fn lower_primary(&mut self, pair: Pair<Rule>, depth: usize) -> Option<(Expr, usize)> {
        let span = self.span(&pair);
        let mut height = 0;
        let kind = match pair.as_rule() {
            Rule::expr => return self.lower_expr_h(pair, depth),
            Rule::literal => return Some((self.lower_literal(pair).map_literal(), 1)),
            Rule::path => {
                let parts: Vec<Ident> = pair.into_inner().map(|p| self.ident(p)).collect();
                // The pair may end in white space that a failed `.` attempt skipped.
                let span = match (parts.first(), parts.last()) {
                    (Some(a), Some(b)) => a.span.to(b.span),
                    _ => span,
                };
                return Some((Spanned::new(ExprKind::Path(parts), span), 1));
            }
            Rule::rule_ref => ExprKind::RuleRef(pair.as_str().to_string()),
            Rule::duration => {
                let mut inner = pair.into_inner();
                let amount = inner.next()?.as_str().to_string();
                let unit = match inner.next()?.as_str() {
                    "day" | "days" => DurationUnit::Days,
                    "month" | "months" => DurationUnit::Months,
                    _ => DurationUnit::Years,
                };
                ExprKind::Duration(amount, unit)
            }
            Rule::list => {
                let mut items = Vec::new();
                for p in pair.into_inner() {
                    let (e, h) = self.lower_expr_h(p, depth + 1)?;
                    height = height.max(h);
                    items.push(e);
                }
                ExprKind::List(items)
            }
            Rule::call => {
                let whole = self.span(&pair);
                let mut inner = pair.into_inner();
                let name = self.ident(inner.next()?);
                let mut args = Vec::new();
                let mut members = Vec::new();
                for p in inner {
                    if p.as_rule() == Rule::call_close {
                        for m in p.into_inner() {
                            members.push(self.ident(m.into_inner().next()?));
                        }
                        continue;
                    }
                    args.push(match p.as_rule() {
                        Rule::rule_ref => Spanned::new(ExprKind::RuleRef(p.as_str().to_string()), self.span(&p)),
                        _ => {
                            let (e, h) = self.lower_expr_h(p, depth + 1)?;
                            height = height.max(h);
                            e
                        }
                    });
                }
                if members.is_empty() {
                    ExprKind::Call(name, args)
                } else {
                    height += 1;
                    ExprKind::Member(Box::new(Spanned::new(ExprKind::Call(name, args), whole)), members)
                }
            }
            Rule::quantifier => {
                let mut inner = pair.into_inner().filter(|p| p.as_rule() != Rule::kw_in);
                let kind = match inner.next()?.as_str() {
                    "any" => Quantifier::Any,
                    "all" => Quantifier::All,
                    "sum" => Quantifier::Sum,
                    "min" => Quantifier::Min,
                    "max" => Quantifier::Max,
                    _ => Quantifier::Count,
                };
                let var = self.ident(inner.next()?);
                let (list, lh) = self.lower_expr_h(inner.next()?, depth + 1)?;
                let (body, bh) = self.lower_expr_h(inner.next()?, depth + 1)?;
                height = lh.max(bh);
                ExprKind::Quantifier(kind, var, Box::new(list), Box::new(body))
            }
            _ => return None,
        };
        Some((Spanned::new(kind, span), height + 1))
    }
}

trait MapLiteral {
    fn map_literal(self) -> Expr;
}

impl MapLiteral for Spanned<Literal> {
    fn map_literal(self) -> Expr {
        Spanned::new(ExprKind::Literal(self.node), self.span)
    }
}
