//! The spanned syntax tree of a policy, as written.
//!
//! `syntax::lower` builds it from pest pairs and does no semantic checks;
//! `compile` resolves names and types. Equality ignores spans.

use crate::source::{Span, Spanned};

pub type Ident = Spanned<String>;

#[derive(Debug, Clone, PartialEq, Default)]
pub struct File {
    pub items: Vec<Item>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    Policy(PolicyDecl),
    Schema(Spanned<RecordType>),
    /// `bank attribute name: type = default`: an attribute of the table `bank`.
    BankAttr(AttrDecl),
    Table(TableDecl),
    /// An entry of a table: `bank ZZ1 { ... }`, `region "11" { ... }`.
    Entry(EntryDecl),
    Charset(CharsetDecl),
    Pattern(PatternDecl),
    Let(LetDecl),
    Message(MessageDecl),
    Rule(RuleDecl),
    NextStep(NextStepDecl),
    AsOf(AsOfDecl),
    Set(SetDecl),
}

impl Item {
    pub fn span(&self) -> Span {
        match self {
            Item::Policy(d) => d.span,
            Item::Schema(d) => d.span,
            Item::BankAttr(d) => d.span,
            Item::Entry(d) => d.span,
            Item::Table(d) => d.span,
            Item::Charset(d) => d.span,
            Item::Pattern(d) => d.span,
            Item::Let(d) => d.span,
            Item::Message(d) => d.span,
            Item::Rule(d) => d.span,
            Item::NextStep(d) => d.span,
            Item::AsOf(d) => d.span,
            Item::Set(d) => d.span,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct PolicyDecl {
    pub name: Spanned<String>,
    pub version: Spanned<String>,
    pub languages: Vec<Ident>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RecordType {
    pub fields: Vec<FieldDecl>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FieldDecl {
    pub name: Ident,
    pub ty: Spanned<TypeExpr>,
    pub optional: bool,
    pub default: Option<Spanned<Literal>>,
    /// Marked `sensitive`: masked in reports and errors.
    pub sensitive: bool,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum TypeExpr {
    /// `text`, `bool`, `decimal`, `date`, `bank` (checked by the compiler).
    Named(String),
    Enum(Vec<Ident>),
    List(Box<Spanned<TypeExpr>>),
    Record(RecordType),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Text(String),
    Number(String),
    Date(String),
    Bool(bool),
    /// A bare name as a default value: an enum value.
    Name(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct AttrDecl {
    pub name: Ident,
    /// The type as written; an enum's normalised to `(a | b)`.
    pub ty: Ident,
    /// An enum type's values (`kind: (province | municipality) = province`), else empty.
    pub values: Vec<Ident>,
    pub default: Spanned<Literal>,
    pub span: Span,
}

/// `table region { permit: bool = false }`
#[derive(Debug, Clone, PartialEq)]
pub struct TableDecl {
    pub name: Ident,
    pub attrs: Vec<AttrDecl>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct EntryDecl {
    /// The table's name (`bank`, `region`).
    pub table: Ident,
    /// The code, unquoted.
    pub code: Ident,
    /// Whether the code was written as a quoted text (`"11"`).
    pub quoted: bool,
    pub names: Vec<(Ident, Vec<Spanned<String>>)>,
    pub aliases: Vec<Spanned<String>>,
    pub attrs: Vec<(Ident, Spanned<Literal>)>,
    pub dates: Dates,
    pub span: Span,
}

/// `effective` and `until` clauses of a rule, bank or message.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Dates {
    pub effective: Vec<Spanned<String>>,
    pub until: Vec<Spanned<String>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CharsetDecl {
    pub name: Ident,
    pub expr: CharsetExpr,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CharsetExpr {
    pub include: Vec<Spanned<CharsetTerm>>,
    pub exclude: Vec<Spanned<CharsetTerm>>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum CharsetTerm {
    /// Every character of the text.
    Chars(String),
    Range(char, char),
    /// `script(Han)`
    Class(Ident, Ident),
    /// A built-in class or a declared charset.
    Named(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct PatternDecl {
    pub name: Ident,
    pub regex: Spanned<String>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LetDecl {
    pub name: Ident,
    pub value: Expr,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MessageDecl {
    pub name: Ident,
    pub texts: Vec<(Ident, Spanned<String>)>,
    pub dates: Dates,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RuleDecl {
    pub id: Ident,
    pub outcome: Ident,
    pub on: Vec<Spanned<Vec<Ident>>>,
    pub given: Vec<Expr>,
    pub when: Vec<Expr>,
    pub messages: Vec<MessageChoice>,
    pub with: Vec<(Ident, Expr)>,
    pub dates: Dates,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MessageChoice {
    pub message: Ident,
    pub condition: Option<Expr>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NextStepDecl {
    pub steps: Vec<(Ident, Option<Expr>)>,
    pub span: Span,
}

/// `as_of applicant.submitted_at`: the `date` field of an application that
/// decides which rules, banks and messages are in force for it.
#[derive(Debug, Clone, PartialEq)]
pub struct AsOfDecl {
    pub field: Spanned<Vec<Ident>>,
    pub span: Span,
}

/// `set high_risk = ["KP", "IR"]`: a named list of values.
#[derive(Debug, Clone, PartialEq)]
pub struct SetDecl {
    pub name: Ident,
    pub items: Vec<Expr>,
    pub span: Span,
}

pub type Expr = Spanned<ExprKind>;

#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    Literal(Literal),
    /// `a.b.c`: a field path, a `let`, a bound variable, an enum value or a bank code.
    Path(Vec<Ident>),
    /// A rule id used as an argument, `fired(age-check)`.
    RuleRef(String),
    List(Vec<Expr>),
    Not(Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    Call(Ident, Vec<Expr>),
    /// `region(text).permit`: fields of a call's value (an entry's attributes).
    Member(Box<Expr>, Vec<Ident>),
    Quantifier(Quantifier, Ident, Box<Expr>, Box<Expr>),
    /// `30 days`: an amount (digits as written) of a calendar unit.
    Duration(String, DurationUnit),
}

/// The unit of a duration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DurationUnit {
    Days,
    Months,
    Years,
}

impl DurationUnit {
    pub fn as_str(self) -> &'static str {
        match self {
            DurationUnit::Days => "days",
            DurationUnit::Months => "months",
            DurationUnit::Years => "years",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    In,
    NotIn,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
}

impl BinOp {
    /// `+ - * / mod`: arithmetic rather than logic or comparison.
    pub fn is_arith(self) -> bool {
        matches!(self, BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Mod)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            BinOp::Or => "or",
            BinOp::And => "and",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::In => "in",
            BinOp::NotIn => "not in",
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Mod => "mod",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quantifier {
    Any,
    All,
    Count,
    /// `sum(x in list: number)`, absent if any item's number is.
    Sum,
    /// `min(x in list: number)`, absent for an empty list.
    Min,
    Max,
}

impl Quantifier {
    pub fn as_str(self) -> &'static str {
        match self {
            Quantifier::Any => "any",
            Quantifier::All => "all",
            Quantifier::Count => "count",
            Quantifier::Sum => "sum",
            Quantifier::Min => "min",
            Quantifier::Max => "max",
        }
    }
}
