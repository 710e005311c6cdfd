//! Properties of evaluation over generated applications: it is
//! deterministic, parallel and serial runs agree, and adding a rule never
//! makes a decision less severe; and formatting round-trips: for generated
//! policies, `parse(fmt(p)) == parse(p)` and `fmt` is idempotent.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use kycrules::eval::{DecisionKind, Options};
use kycrules::input::InputRecord;
use kycrules::ir::RuleSet;
use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{Value, json};

const NAME_PIECES: &[&str] = &[
    "John",
    "Smith",
    " ",
    "  ",
    "王",
    "小明",
    ".",
    "·",
    "-",
    "•",
    "‐",
    "\u{200B}",
    "e\u{301}",
    "2",
    "Ab",
    "Mary-Jane",
];
const PHONES: &[&str] = &[
    "+1-415-555-0100",
    "13812345678",
    "+86-138-1234-5678",
    "16612345678",
    "+12",
    "",
    "1-2",
    "+44 20",
];
const KINDS: &[&str] = &[
    "passport",
    "entry_certificate",
    "permanent_residence_permit",
    "foreign_residence_permit",
];
const NUMBERS: &[&str] = &[
    "X12345678",
    "911015198001010013",
    "USA110079070101",
    "6222021234567890128",
    "6222021234567890123",
];
const BANKS: &[&str] = &[
    "ICBC",
    "CMB",
    "BOC",
    "HZB",
    "ABC",
    "中国银行",
    " 招行 ",
    "PingAn Bank",
    "Nowhere Bank",
];
const AMOUNTS: &[&str] = &["0.37", "0.370", "1", "0", "-0.5", "0.99", "0.01"];

fn name() -> impl Strategy<Value = String> {
    prop::collection::vec(select(NAME_PIECES), 0..6).prop_map(|p| p.concat())
}

fn document() -> impl Strategy<Value = Value> {
    (
        select(KINDS),
        prop::option::of(select(NUMBERS)),
        prop::option::of(any::<bool>()),
    )
        .prop_map(|(k, n, l)| {
            let mut d = json!({"kind": k});
            if let Some(n) = n {
                d["number"] = json!(n);
            }
            if let Some(l) = l {
                d["photo_legible"] = json!(l);
            }
            d
        })
}

fn card() -> impl Strategy<Value = Value> {
    (
        select(BANKS),
        prop::option::of(select(NUMBERS)),
        select(&["savings", "credit", "passbook"][..]),
        prop::option::of(select(&["current", "fixed"][..])),
        prop::option::of(select(&["mainland", "overseas"][..])),
        any::<bool>(),
    )
        .prop_map(|(bank, number, card_type, account, region, same_name)| {
            let mut c = json!({"bank": bank, "card_type": card_type, "holder_name": if same_name { "JOHN  smith" } else { "Jane Roe" }});
            if let Some(n) = number {
                c["number"] = json!(n);
            }
            if let Some(a) = account {
                c["account_type"] = json!(a);
            }
            if let Some(r) = region {
                c["region"] = json!(r);
            }
            c
        })
}

/// An application that fits the shipped schema (so that it is evaluated,
/// not an input error), with values chosen to make rules fire and miss.
fn application() -> impl Strategy<Value = Value> {
    (
        name(),
        select(PHONES),
        prop::collection::vec(document(), 0..3),
        prop::option::of(card()),
        prop::option::of((select(AMOUNTS), prop::option::of(select(AMOUNTS)))),
        prop::option::of((select(&["passed", "failed"][..]), prop::option::of("[a-z ]{0,12}"))),
    )
        .prop_map(|(name, phone, documents, card, verification, review)| {
            let mut app = json!({"id": "P", "applicant": {"name": name, "phone": phone}, "documents": documents});
            if let Some(c) = card {
                app["bank_card"] = c;
            }
            if let Some((d, e)) = verification {
                app["verification"] = json!({"deposited": d});
                if let Some(e) = e {
                    app["verification"]["entered"] = json!(e);
                }
            }
            if let Some((o, r)) = review {
                app["review"] = json!({"outcome": o});
                if let Some(r) = r {
                    app["review"]["reason"] = json!(r);
                }
            }
            app
        })
}

fn decision(rs: &RuleSet, app: &Value) -> DecisionKind {
    evaluate_json(rs, app, "en").0.decision()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(proptest_cases(64)))]

    #[test]
    fn evaluation_is_deterministic(app in application()) {
        let rs = shipped();
        let (o, first) = evaluate_json(rs, &app, "zh");
        prop_assert!(o.result.is_ok(), "{}", first);
        let (_, again) = evaluate_json(rs, &app, "zh");
        prop_assert_eq!(first, again);
    }

    #[test]
    fn parallel_and_serial_runs_agree(apps in prop::collection::vec(application(), 1..24)) {
        let rs = shipped();
        let opts = Options { lang: rs.language("en"), as_of: as_of() };
        let run = |jobs: usize| {
            let units: Vec<kycrules::input::Unit> = apps
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    kycrules::input::Unit::Ready(InputRecord {
                        source: format!("gen:{}", i + 1),
                        id: kycrules::input::record_id(v),
                        value: Ok(v.clone()),
                    })
                })
                .collect();
            let work = |_: &mut (), unit| {
                let c = kycrules::read::to_record(rs, unit, opts.as_of);
                let result = c.record.map(|r| kycrules::eval::evaluate(rs, &r, Options { as_of: c.as_of, ..opts }));
                kycrules::report::Outcome { id: c.id, source: c.source, result }
            };
            let mut lines = Vec::new();
            kycrules::batch::ordered(units.into_iter(), 4, Some(jobs), || (), work, |o| {
                lines.push(kycrules::report::json_line(rs, &o));
                true
            })
            .unwrap();
            lines
        };
        let serial = run(1);
        prop_assert_eq!(serial.len(), apps.len());
        prop_assert_eq!(serial, run(2));
    }
}

/// A condition over the shipped schema, as policy text.
fn condition() -> impl Strategy<Value = String> {
    let leaf = select(
        &[
            "length(applicant.name) > 8",
            "length(applicant.name) < 4",
            "present(bank_card)",
            "bank_card.card_type == credit",
            "bank_card.bank == CMB",
            "bank_card.bank.supported",
            "any(d in documents: d.kind == passport)",
            "all(d in documents: d.photo_legible == true)",
            "count(d in documents: present(d.number)) >= 1",
            "verification.deposited < 0.5",
            "review.outcome == passed",
            "starts_with(applicant.phone, \"+\")",
            "fired(name-charset)",
            "fired(card-number-luhn)",
            "true",
            "false",
        ][..],
    )
    .prop_map(str::to_string);
    common::condition_tree(leaf)
}

fn severity(d: DecisionKind) -> u8 {
    match d {
        DecisionKind::Accept => 0,
        DecisionKind::Review => 1,
        DecisionKind::Limited => 2,
        DecisionKind::Reject => 3,
        DecisionKind::Error => 4,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(proptest_cases(24)))]

    #[test]
    fn adding_a_rule_never_makes_a_decision_less_severe(
        cond in condition(),
        outcome in select(&["reject", "limited", "review", "note"][..]),
        apps in prop::collection::vec(application(), 1..12),
    ) {
        let mut sources = kycrules::policy::embedded();
        sources.add(
            "zz-extra.rules",
            format!("rule extra-rule {outcome} {{\n  on id\n  when {cond}\n  message extra_message\n}}\nmessage extra_message {{\n  en \"Extra.\"\n  zh \"额外。\"\n}}\n"),
        );
        let compiled = kycrules::policy::build(&sources);
        let text = kycrules::diag::render_human(&compiled.diagnostics, &sources, false);
        let extended = compiled.ruleset.unwrap_or_else(|| panic!("{text}"));
        for app in &apps {
            let before = decision(shipped(), app);
            let after = decision(&extended, app);
            prop_assert!(severity(after) >= severity(before), "{:?} → {:?} with `{}` ({}): {}", before, after, cond, outcome, app);
            if outcome == "note" {
                prop_assert_eq!(before, after, "a note changed the decision");
            }
        }
    }
}

/// Spacing between tokens: the formatter must not care.
fn gap() -> impl Strategy<Value = String> {
    select(&[" ", "  ", "\n  ", " \t", "\n\n    "][..]).prop_map(str::to_string)
}

/// A policy file over the shipped schema's shape, written with arbitrary
/// spacing and comments.
fn messy_policy() -> impl Strategy<Value = String> {
    (
        prop::collection::vec((condition(), select(&["reject", "limited", "review", "note"][..]), gap()), 1..4),
        prop::collection::vec(condition(), 0..3),
        gap(),
        any::<bool>(),
    )
        .prop_map(|(rules, lets, g, comments)| {
            let c = |text: &str| if comments { format!("  # {text}\n") } else { "\n".to_string() };
            let mut out = String::from("policy \"p\"   version \"1\" languages en,zh\n");
            out.push_str("schema{ id:text, applicant:{name:text phone:text}, documents: list of {kind: passport|visa, number: text? sensitive} }\n");
            out.push_str(&format!("message m {{{g}en \"M {{applicant.name}}\"{g}zh \"M\"}}{}", c("after a message")));
            for (i, cond) in lets.iter().enumerate() {
                out.push_str(&format!("let l{i}{g}={g}{cond}{}", c("a let")));
            }
            for (i, (cond, outcome, g)) in rules.iter().enumerate() {
                out.push_str(&format!(
                    "{}rule r{i} {outcome}{g}{{{g}on applicant.name{g}when{g}{cond}{g}message m}}\n",
                    c("before a rule")
                ));
            }
            out
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(proptest_cases(64)))]

    #[test]
    fn formatting_round_trips(text in messy_policy()) {
        let parsed = kycrules::syntax::parse(0, &text);
        prop_assume!(parsed.is_ok());
        let once = kycrules::fmt::format(0, &text).map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
        let again = kycrules::fmt::format(0, &once).map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
        prop_assert_eq!(kycrules::syntax::parse(0, &once).ok(), parsed.ok(), "the AST changed:\n{}", once);
        prop_assert_eq!(&again, &once, "not idempotent");
        prop_assert_eq!(once.matches('#').count(), text.matches('#').count(), "a comment was lost");
    }
}

/// `PROPTEST_CASES=N cargo test --test properties` runs N cases of each
/// property above: the variable wins over the default a property sets.
#[test]
fn proptest_cases_come_from_the_environment() {
    assert_eq!(cases_from(Some("5000"), 64), 5000);
    assert_eq!(cases_from(Some(" 12 "), 64), 12);
    assert_eq!(cases_from(None, 64), 64);
    assert_eq!(cases_from(Some("lots"), 24), 24);
    assert_eq!(cases_from(Some("0"), 24), 24);
    let from_env = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.trim().parse::<u32>().ok());
    assert_eq!(proptest_cases(64), from_env.filter(|&n| n > 0).unwrap_or(64));
}
