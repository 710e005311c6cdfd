//! Arbitrary structured applications → JSON → convert → evaluate against the
//! shipped policy, in both languages; then render the reports and check that
//! the decision is the most severe outcome that fired (a note never counts),
//! and that the fast JSON path reads the same record (and `id`) as the
//! general one, or declines.
#![no_main]

use arbitrary::Arbitrary;
use kycrules::eval::{DecisionKind, Options};
use kycrules::ir::Outcome;
use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};
use std::sync::OnceLock;

fn shipped() -> &'static Option<kycrules::ir::RuleSet> {
    static RS: OnceLock<Option<kycrules::ir::RuleSet>> = OnceLock::new();
    RS.get_or_init(|| kycrules::policy::build(&kycrules::policy::embedded()).ruleset)
}

/// A text drawn from pieces that matter to the policy, or arbitrary.
#[derive(Arbitrary, Debug)]
enum Text {
    Pieces(Vec<u8>),
    Free(String),
}

const PIECES: &[&str] = &[
    "John", " ", "Smith", "王", "小明", ".", "·", "-", "•", "・", "‧", "．", "‐", "―", "－", "\u{200B}", "\u{202E}",
    "\u{FEFF}", "e\u{301}", "\u{3000}", "\t", "+", "+86", "1", "3", "8", "0", "9", "X", "ICBC", "BOC", "招商银行",
    "HZB", " cmb ", "Agricultural Bank of China", "0.", "37", "e", "-", "\n",
];

impl Text {
    fn render(&self) -> String {
        match self {
            Text::Pieces(p) => p.iter().map(|&i| PIECES[i as usize % PIECES.len()]).collect(),
            Text::Free(s) => s.clone(),
        }
    }
}

/// A field value: usually of the right type, sometimes not.
#[derive(Arbitrary, Debug)]
enum Val {
    Text(Text),
    Choice(u8),
    Num(i64, u8),
    /// An unquoted number: digits, a fraction and an exponent, as written.
    Unquoted(u128, u8, i16),
    Bool(bool),
    Null,
    List(Vec<u8>),
}

impl Val {
    fn render(&self, choices: &[&str]) -> Value {
        match self {
            Val::Text(t) => Value::String(t.render()),
            Val::Choice(i) if choices.is_empty() => Value::from(*i),
            Val::Choice(i) => Value::String(choices[*i as usize % choices.len()].to_string()),
            Val::Num(m, e) => Value::String(format!("{m}e-{}", e % 24)),
            Val::Unquoted(m, f, e) => format!("{m}.{f}e{e}")
                .parse::<serde_json::Number>()
                .map_or(Value::Null, Value::Number),
            Val::Bool(b) => Value::Bool(*b),
            Val::Null => Value::Null,
            Val::List(l) => Value::Array(l.iter().map(|&b| Value::from(b)).collect()),
        }
    }
}

#[derive(Arbitrary, Debug)]
struct Document {
    kind: Val,
    number: Option<Val>,
    photo_legible: Option<Val>,
}

#[derive(Arbitrary, Debug)]
struct Card {
    bank: Val,
    number: Option<Val>,
    card_type: Val,
    account_type: Option<Val>,
    holder_name: Val,
    region: Option<Val>,
}

#[derive(Arbitrary, Debug)]
struct App {
    id: Val,
    name: Val,
    nationality: Option<Val>,
    phone: Val,
    documents: Vec<Document>,
    bank_card: Option<Card>,
    verification: Option<(Val, Option<Val>)>,
    review: Option<(Val, Option<Val>)>,
    extra: Option<String>,
    lang_zh: bool,
    late: bool,
}

const KINDS: &[&str] = &["passport", "entry_certificate", "permanent_residence_permit", "foreign_residence_permit", "visa"];
const BANKS: &[&str] = &["ICBC", "CMB", "BOC", "HZB", "ABC", "中国银行", "招行", "PingAn Bank", "Nowhere Bank"];
const CARD_TYPES: &[&str] = &["savings", "credit", "passbook", "debit"];
const ACCOUNTS: &[&str] = &["current", "fixed", "demand"];
const REGIONS: &[&str] = &["mainland", "overseas", "moon"];
const AMOUNTS: &[&str] = &["0.37", "0.370", "1", "0", "-0.5", "0.99", "1e-1", "abc"];
const OUTCOMES: &[&str] = &["passed", "failed", "pending"];
const NUMBERS: &[&str] = &["6222021234567890123", "4111111111111111", "911010519491231002X", "X12345678", "L898902C36"];

fn opt(v: &Option<Val>, choices: &[&str]) -> Option<Value> {
    v.as_ref().map(|v| v.render(choices))
}

impl App {
    fn to_json(&self) -> Value {
        let mut app = json!({
            "id": self.id.render(&[]),
            "applicant": {"name": self.name.render(&["John Smith", "王小明"]), "phone": self.phone.render(&["+1-415-555-0100", "13812345678", "+86-138-1234-5678"])},
            "documents": self.documents.iter().map(|d| {
                let mut doc = json!({"kind": d.kind.render(KINDS)});
                if let Some(n) = opt(&d.number, NUMBERS) { doc["number"] = n; }
                if let Some(p) = opt(&d.photo_legible, &[]) { doc["photo_legible"] = p; }
                doc
            }).collect::<Vec<_>>(),
        });
        if let Some(n) = opt(&self.nationality, &["US", "NO"]) {
            app["applicant"]["nationality"] = n;
        }
        if let Some(c) = &self.bank_card {
            let mut card = json!({
                "bank": c.bank.render(BANKS),
                "card_type": c.card_type.render(CARD_TYPES),
                "holder_name": c.holder_name.render(&["John Smith", "JOHN  SMITH"]),
            });
            if let Some(v) = opt(&c.number, NUMBERS) { card["number"] = v; }
            if let Some(v) = opt(&c.account_type, ACCOUNTS) { card["account_type"] = v; }
            if let Some(v) = opt(&c.region, REGIONS) { card["region"] = v; }
            app["bank_card"] = card;
        }
        if let Some((d, e)) = &self.verification {
            app["verification"] = json!({"deposited": d.render(AMOUNTS)});
            if let Some(e) = e { app["verification"]["entered"] = e.render(AMOUNTS); }
        }
        if let Some((o, r)) = &self.review {
            app["review"] = json!({"outcome": o.render(OUTCOMES)});
            if let Some(r) = r { app["review"]["reason"] = r.render(&[]); }
        }
        if let Some(k) = &self.extra {
            app[k.as_str()] = Value::Null;
        }
        app
    }
}

fuzz_target!(|app: App| {
    let Some(rs) = shipped() else { return };
    let value = app.to_json();
    let day = if app.late { "2031-01-01" } else { "2026-11-27" };
    let Some(as_of) = kycrules::date::Date::parse(day) else { return };
    let opts = Options { lang: rs.language(if app.lang_zh { "zh" } else { "en" }), as_of };
    let result = kycrules::input::convert(&value, &rs.schema, &rs.tables, as_of)
        .map(|r| kycrules::eval::evaluate(rs, &r, opts));
    if let Ok(d) = &result {
        let worst = d
            .violations
            .iter()
            .map(|v| rs.rules[v.rule].outcome)
            .filter(|&o| o != Outcome::Note)
            .max();
        let expected = match worst {
            None => DecisionKind::Accept,
            Some(Outcome::Review | Outcome::Note) => DecisionKind::Review,
            Some(Outcome::Limited) => DecisionKind::Limited,
            Some(Outcome::Reject) => DecisionKind::Reject,
        };
        assert_eq!(d.decision, expected, "{value}");
    }
    // The fast JSON path reads the same record, or declines.
    let bytes = value.to_string();
    if rs.as_of.is_none()
        && let Some((id, direct)) = kycrules::direct::json_record(bytes.as_bytes(), &rs.schema, &rs.tables, as_of)
    {
        let general = kycrules::input::json_record("fuzz:1".into(), bytes.as_bytes());
        assert_eq!(id, general.id, "{bytes}");
        let converted = general.value.and_then(|v| kycrules::input::convert(&v, &rs.schema, &rs.tables, as_of));
        assert_eq!(Ok(&direct), converted.as_ref(), "{bytes}");
    }
    let outcome = kycrules::report::Outcome { id: kycrules::input::record_id(&value), source: "fuzz:1".into(), result };
    let _ = kycrules::report::json_line(rs, &outcome);
    let _ = kycrules::report::human_block(rs, &outcome, &kycrules::report::Palette::default());
});
