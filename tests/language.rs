//! The language's dates, arithmetic, texts, sets and aggregates: what each
//! construct computes, the errors it reports, and that the toolkit (the
//! formatter, the decompiler, explanations) knows it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::build_policy as build;
use kycrules::date::Date;
use kycrules::diag;
use kycrules::eval::{self, Options};
use kycrules::explain::decompile::{Decompiler, Scope};
use kycrules::ir::RuleSet;
use kycrules::source::SourceMap;
use std::collections::BTreeMap;

const CONSTRUCTS: &str = include_str!("fixtures/language/constructs.rules");

fn constructs() -> RuleSet {
    build(CONSTRUCTS).unwrap_or_else(|e| panic!("{e}"))
}

fn date(s: &str) -> Date {
    Date::parse(s).unwrap()
}

/// The rules that fired for a record on a date, with their messages.
fn fired(rs: &RuleSet, record: serde_json::Value, as_of: &str) -> BTreeMap<String, String> {
    let opts = Options {
        lang: 0,
        as_of: date(as_of),
    };
    let rec = kycrules::input::convert(&record, &rs.schema, &rs.tables, opts.as_of).unwrap();
    eval::evaluate(rs, &rec, opts)
        .violations
        .into_iter()
        .map(|v| (rs.rules[v.rule].id.clone(), v.message.into_string()))
        .collect()
}

fn record(extra: serde_json::Value) -> serde_json::Value {
    let mut base = serde_json::json!({ "id": "T", "amounts": [] });
    for (k, v) in extra.as_object().unwrap() {
        base[k] = v.clone();
    }
    base
}

#[test]
fn today_is_the_evaluation_date() {
    let rs = constructs();
    let f = fired(&rs, record(serde_json::json!({})), "2026-06-01");
    assert_eq!(f["show-today"], "2026-06-01");
    let f = fired(&rs, record(serde_json::json!({})), "2031-12-24");
    assert_eq!(f["show-today"], "2031-12-24");
}

#[test]
fn today_follows_the_policys_as_of_field() {
    let text = "policy \"t\" version \"1\" languages en\nschema { id: text\n submitted: date? }\nas_of submitted\n\
                rule r note { when true with v = today message m }\nmessage m { en \"{v}\" }\n";
    let rs = build(text).unwrap();
    let value = serde_json::json!({ "id": "T", "submitted": "2026-03-04" });
    let opts = Options {
        lang: 0,
        as_of: date("2026-06-01"),
    };
    let decision = eval::evaluate_document(&rs, &value, opts).unwrap();
    assert_eq!(decision.violations[0].message, "2026-03-04");
}

#[test]
fn years_and_durations_agree_on_birthdays() {
    let rs = constructs();
    for (born, on, adult, age) in [
        ("2008-06-01", "2026-06-01", true, "18"),
        ("2008-06-02", "2026-06-01", false, "17"),
        ("2008-02-29", "2026-02-28", false, "17"),
        ("2008-02-29", "2026-03-01", true, "18"),
        ("2008-02-29", "2028-02-29", true, "20"),
    ] {
        let f = fired(&rs, record(serde_json::json!({ "born": born })), on);
        assert_eq!(f.contains_key("adult"), adult, "born {born}, on {on}");
        if adult {
            assert_eq!(f["adult"], age, "born {born}, on {on}");
        }
    }
}

#[test]
fn a_window_of_days_and_months_back() {
    let rs = constructs();
    let f = fired(
        &rs,
        record(serde_json::json!({ "expires": "2026-07-01" })),
        "2026-06-01",
    );
    assert_eq!(f["expires-within-30-days"], "30");
    let f = fired(
        &rs,
        record(serde_json::json!({ "expires": "2026-07-02" })),
        "2026-06-01",
    );
    assert!(!f.contains_key("expires-within-30-days"));
    let f = fired(
        &rs,
        record(serde_json::json!({ "expires": "2025-11-30" })),
        "2026-06-01",
    );
    assert_eq!(f["six-months-ago"], "2025-12-01");
    let f = fired(
        &rs,
        record(serde_json::json!({ "expires": "2025-12-01" })),
        "2026-06-01",
    );
    assert!(!f.contains_key("six-months-ago"));
}

#[test]
fn arithmetic_is_exact_and_absent_on_division_by_zero() {
    let rs = constructs();
    let f = fired(
        &rs,
        record(serde_json::json!({ "income": "1000.10", "limit": "2000.21" })),
        "2026-06-01",
    );
    assert_eq!(f["limit-over-twice-income"], "2000.2");
    assert_eq!(f["arithmetic"], "333.37");
    assert_eq!(f["floor-and-ceil"], "1000.1");
    // income / 0 is absent: the rule's condition is not true, and nothing panics.
    assert!(!f.contains_key("division-by-zero"));
    let f = fired(
        &rs,
        record(serde_json::json!({ "income": "1000.10", "limit": "2000.20" })),
        "2026-06-01",
    );
    assert!(!f.contains_key("limit-over-twice-income"));
    let f = fired(&rs, record(serde_json::json!({ "income": "-2.55" })), "2026-06-01");
    assert_eq!(f["arithmetic"], "-0.85");
    assert_eq!(f["floor-and-ceil"], "-2.6");
}

#[test]
fn texts_by_character_and_dates_from_text() {
    let rs = constructs();
    let f = fired(&rs, record(serde_json::json!({ "code": "200802297abc" })), "2026-06-01");
    assert_eq!(f["odd"], "7");
    assert_eq!(f["birth-code"], "2008-02-29");
    assert_eq!(f["upper-slice"], "ABC");
    // Not a real date: absent, so the rule does not fire; an even digit is not odd.
    let f = fired(&rs, record(serde_json::json!({ "code": "200702298xyz" })), "2026-06-01");
    assert!(!f.contains_key("birth-code"));
    assert!(!f.contains_key("odd"));
    // A letter is no number: `number` is absent and so is the comparison.
    let f = fired(&rs, record(serde_json::json!({ "code": "20080229Qéß" })), "2026-06-01");
    assert!(!f.contains_key("odd"));
    assert_eq!(f["upper-slice"], "ÉSS");
    // Characters, not bytes, after NFC: "e" + combining acute is one character.
    let f = fired(
        &rs,
        record(serde_json::json!({ "code": "20080229e\u{301}bc" })),
        "2026-06-01",
    );
    assert_eq!(f["upper-slice"], "BC");
}

#[test]
fn named_sets_after_in_and_in_messages() {
    let rs = constructs();
    let f = fired(
        &rs,
        record(serde_json::json!({ "country": "kp", "level": "high" })),
        "2026-06-01",
    );
    assert_eq!(f["high-risk"], "kp is one of KP, IR, SY");
    assert!(f.contains_key("not-high-risk"), "`kp` is not `KP`");
    assert!(f.contains_key("risky-level"));
    let f = fired(
        &rs,
        record(serde_json::json!({ "country": "FR", "level": "low" })),
        "2026-06-01",
    );
    assert!(!f.contains_key("high-risk"));
    assert!(!f.contains_key("risky-level"));
    // An absent value is in no set and outside none: unknown.
    let f = fired(&rs, record(serde_json::json!({})), "2026-06-01");
    assert!(!f.contains_key("high-risk") && !f.contains_key("not-high-risk"));
}

#[test]
fn aggregates_over_lists() {
    let rs = constructs();
    let amounts = serde_json::json!([{ "value": "100" }, { "value": "0.5" }, { "value": "-3" }]);
    let f = fired(&rs, record(serde_json::json!({ "amounts": amounts })), "2026-06-01");
    assert_eq!(f["total"], "97.5 from -3 to 100");
    assert!(f.contains_key("round-amount"));
    // The sum of no items is 0; their min and max are absent.
    let f = fired(&rs, record(serde_json::json!({})), "2026-06-01");
    assert!(!f.contains_key("total"));
}

fn error_of(text: &str) -> String {
    let full = format!(
        "policy \"t\" version \"1\" languages en\nschema {{ id: text\n born: date?\n n: decimal?\n t: text? }}\n\
         set high_risk = [\"KP\"]\n{text}\n"
    );
    match build(&full) {
        Ok(_) => panic!("compiles: {text}"),
        Err(e) => e,
    }
}

#[test]
fn type_errors_explain_and_suggest() {
    let cases = [
        ("let x = born + 30", "move a date by a duration: `date + 30 days`"),
        ("let x = born - born", "days_between(a, b)"),
        ("let x = t * 2", "`number(text)`"),
        ("let x = 30 days", "stands only after `+` or `-` with a date"),
        ("let x = 30 days + born", "comes after the date it moves"),
        ("let x = n + 3 days", "added to or subtracted from a date"),
        ("let x = born + 1000000 days", "at most 999999"),
        ("let x = date(t, \"YYMMDD\")", "is not a date layout"),
        ("let x = date(t, t)", "the layout of `date` is a quoted text"),
        ("let x = t in high_risks", "did you mean the set `high_risk`?"),
        ("let x = high_risk", "stands only after `in` or `not in`"),
        ("let x = tody", "did you mean `today`?"),
        ("let x = slice(t, 1)", "usage: `slice(text, decimal, decimal)`"),
        ("let x = years_between(born, n)", "must be date"),
        ("let x = sum(d in t: d)", "needs a list"),
        ("let x = uper(t)", "did you mean `upper`?"),
        ("set high_risk = [\"IR\"]", "declared twice"),
        ("set mixed = [\"IR\", 2]", "must be text"),
        ("set calls = [upper(t)]", "a set holds plain values"),
    ];
    for (text, want) in cases {
        let err = error_of(text);
        assert!(err.contains(want), "`{text}`: expected {want:?} in\n{err}");
    }
}

#[test]
fn parse_precedence() {
    let rs = build(
        "policy \"t\" version \"1\" languages en\nschema { id: text }\n\
         rule r note { when true with a = 1 + 2 * 3 with b = (1 + 2) * 3 with c = 10 - 4 - 3 with d = 7 mod 4 * 2 \
         with e = 2 - -1 message m }\nmessage m { en \"{a} {b} {c} {d} {e}\" }\n",
    )
    .unwrap();
    let f = fired(&rs, serde_json::json!({ "id": "T" }), "2026-06-01");
    assert_eq!(f["r"], "7 9 3 6 3");
}

#[test]
fn decompiled_expressions_compile_back_the_same() {
    let rs = constructs();
    let dc = Decompiler::new(&rs);
    let mut rewritten = String::from(
        "policy \"constructs\" version \"1\" languages en\n\
         schema { id: text\n born: date?\n expires: date?\n income: decimal?\n limit: decimal?\n code: text?\n \
         country: text?\n level: (low | high)?\n amounts: list of { value: decimal } }\n",
    );
    for (i, name) in rs.let_names.iter().enumerate() {
        rewritten.push_str(&format!("let {name} = {}\n", dc.render(&rs.lets[i], &mut Scope::new())));
    }
    for r in &rs.rules {
        rewritten.push_str(&format!("rule {} note {{\n", r.id));
        if let Some(g) = &r.guard {
            rewritten.push_str(&format!("  given {}\n", dc.render(g, &mut Scope::new())));
        }
        rewritten.push_str(&format!(
            "  when {}\n  message m\n}}\n",
            dc.render(&r.when, &mut Scope::new())
        ));
    }
    rewritten.push_str("message m { en \"m\" }\n");
    let again = build(&rewritten).unwrap_or_else(|e| panic!("{e}\n{rewritten}"));
    for (a, b) in rs.rules.iter().zip(&again.rules) {
        assert_eq!(
            format!("{:?} {:?}", a.guard, a.when),
            format!("{:?} {:?}", b.guard, b.when),
            "{}",
            a.id
        );
    }
    assert!(rewritten.contains("born + 18 years <= today"), "{rewritten}");
    assert!(
        rewritten.contains("date(slice(code, 0, 8), \"YYYYMMDD\")"),
        "{rewritten}"
    );
    assert!(rewritten.contains("sum(a in amounts: a.value) > 0"), "{rewritten}");
}

#[test]
fn the_formatter_keeps_every_construct() {
    let once = kycrules::fmt::format(0, CONSTRUCTS).unwrap();
    assert_eq!(kycrules::fmt::format(0, &once).unwrap(), once);
    assert!(once.contains("set high_risk = [\"KP\", \"IR\", \"SY\"]"));
    assert!(once.contains("when expires >= today and expires <= today + 30 days"));
    // Parentheses only where precedence needs them; `1 days` reads `1 day`.
    let messy = "policy \"t\" version \"1\" languages en\nlet a = (x + y) * z\nlet b = x + (y * z)\nlet c = x - (y - z)\n\
                 let d = d0 + 1 days\nlet e = (x mod 2) == 1\n";
    let out = kycrules::fmt::format(0, messy).unwrap();
    assert!(out.contains("let a = (x + y) * z\n"), "{out}");
    assert!(out.contains("let b = x + y * z\n"), "{out}");
    assert!(out.contains("let c = x - (y - z)\n"), "{out}");
    assert!(out.contains("let d = d0 + 1 day\n"), "{out}");
    assert!(out.contains("let e = x mod 2 == 1\n"), "{out}");
}

#[test]
fn explain_shows_computed_values() {
    let rs = constructs();
    let value = record(serde_json::json!({ "born": "2008-02-29", "income": "10", "limit": "25" }));
    let opts = Options {
        lang: 0,
        as_of: date("2026-03-01"),
    };
    let rec = kycrules::input::convert(&value, &rs.schema, &rs.tables, opts.as_of).unwrap();
    let ex = kycrules::explain::explain(
        &rs,
        &rec,
        Some("T"),
        "test:1",
        kycrules::explain::Options {
            eval: opts,
            show_pii: false,
        },
    );
    let json = serde_json::to_string(&ex).unwrap();
    for want in ["born + 18 years <= today", "\"2026-03-01\"", "income * 2", "\"20\""] {
        assert!(json.contains(want), "{want:?} not in\n{json}");
    }
}

/// The code blocks of `docs/language-values.md`: the first is the header and schema,
/// each other compiles together with it.
#[test]
fn the_language_reference_examples_compile() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/language-values.md")).unwrap();
    let blocks: Vec<&str> = doc
        .split("```kycrules\n")
        .skip(1)
        .map(|b| b.split("```").next().unwrap())
        .collect();
    assert!(blocks.len() >= 10, "{} examples", blocks.len());
    let (schema, examples) = blocks.split_first().unwrap();
    for example in examples {
        let text = format!("{schema}\n{example}");
        if let Err(e) = build(&text) {
            panic!("the example does not compile:\n{example}\n{e}");
        }
        // Every example is formatted as `kycrules fmt` writes it.
        let formatted = kycrules::fmt::format(0, example).unwrap();
        assert_eq!(formatted.trim_end(), example.trim_end(), "not formatted");
    }
    let headings = doc.lines().filter(|l| l.starts_with("## ")).count();
    assert!(headings >= 10);
}

fn lint_codes(text: &str) -> Vec<(String, String)> {
    let mut sources = SourceMap::default();
    sources.add("lint.rules", text);
    kycrules::lint::lint_policy(&sources)
        .into_iter()
        .map(|d| (d.code.to_string(), d.message.clone()))
        .collect()
}

#[test]
fn lint_finds_date_comparisons_with_a_fixed_result() {
    let text = |cond: &str| {
        format!(
            "policy \"t\" version \"1\" languages en\nschema {{ id: text\n expires: date? }}\n\
             let soon = today + 30 days\nrule r note {{ when {cond} message m }}\nmessage m {{ en \"m\" }}\n"
        )
    };
    let w9 = |cond: &str| {
        lint_codes(&text(cond))
            .into_iter()
            .filter(|(c, _)| c == "W0010")
            .map(|(_, m)| m)
            .collect::<Vec<_>>()
    };
    assert_eq!(w9("today + 30 days < today"), ["this date comparison never holds"]);
    assert_eq!(
        w9("expires > today and soon < today"),
        ["this date comparison never holds"]
    );
    assert_eq!(
        w9("expires - 1 year >= expires - 13 months"),
        ["this date comparison always holds (unless a date is absent)"]
    );
    // Not fixed: another date, or days against months (their order depends on the date).
    assert!(w9("expires <= today + 30 days").is_empty());
    assert!(w9("today + 30 days < today + 1 month").is_empty());
    assert!(w9("expires < today").is_empty());
}

#[test]
fn the_mainland_resident_policy_lints_clean() {
    let sources = kycrules::policy::embedded_named("mainland-resident").unwrap();
    let diags = kycrules::lint::lint_policy(&sources);
    assert!(diags.is_empty(), "{}", diag::render_human(&diags, &sources, false));
}

#[test]
fn lint_finds_arithmetic_on_possibly_absent_fields() {
    let text = |given: &str, cond: &str| {
        format!(
            "policy \"t\" version \"1\" languages en\nschema {{ id: text\n income: decimal?\n limit: decimal = 0\n \
             card: {{ fee: decimal }}? }}\nrule r note {{ {given} when {cond} message m }}\nmessage m {{ en \"m\" }}\n"
        )
    };
    let w10 = |given: &str, cond: &str| {
        lint_codes(&text(given, cond))
            .into_iter()
            .filter(|(c, _)| c == "W0011")
            .map(|(_, m)| m)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        w10("", "limit > income * 2"),
        ["arithmetic on `income`, which may be absent"]
    );
    assert_eq!(
        w10("", "card.fee + 1 > 2"),
        ["arithmetic on `card.fee`, which may be absent"]
    );
    // A guard that asks for the field, or for the record that holds it; a field with a default.
    assert!(w10("given present(income)", "limit > income * 2").is_empty());
    assert!(w10("given present(card)", "card.fee + 1 > 2").is_empty());
    assert!(w10("", "limit * 2 > 1").is_empty());
}
