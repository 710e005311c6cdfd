//! The compiled evaluator (`exec`) against the reference tree walker
//! (`eval`): over generated applications and generated policies, both give
//! identical decisions, next steps and messages in every language.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use kycrules::eval::{self, Options};
use kycrules::exec::{self, Program};
use kycrules::ir::RuleSet;
use kycrules::record::Record;
use proptest::prelude::*;
use proptest::sample::select;

/// Generated applications (`kycrules gen`'s generator, every kind of defect),
/// converted; the input errors among them are skipped.
fn records(rs: &RuleSet, n: u64, seed: u64) -> Vec<Record> {
    let mut out = Vec::new();
    kycrules::r#gen::write(rs, n, seed, kycrules::r#gen::Format::Jsonl, &mut out).unwrap();
    out.split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .filter_map(|l| kycrules::input::json_record(String::new(), l).value.ok())
        .filter_map(|v| kycrules::input::convert(&v, &rs.schema, &rs.tables, as_of()).ok())
        .collect()
}

/// Both evaluators on every record, in every language, with one reused
/// scratch each (as the workers reuse theirs).
fn assert_same(rs: &RuleSet, records: &[Record]) -> Result<(), TestCaseError> {
    let program = Program::new(rs);
    let mut scratch = exec::Scratch::default();
    let mut reference = eval::Scratch::default();
    for lang in 0..rs.languages.len() {
        let opts = Options { lang, as_of: as_of() };
        for r in records {
            let want = eval::evaluate_in(rs, r, opts, &mut reference);
            let got = exec::evaluate_in(&program, rs, r, opts, &mut scratch);
            prop_assert_eq!(&got, &want, "record {:?}", r);
        }
    }
    Ok(())
}

#[test]
fn the_shipped_policy_decides_alike_on_the_bench_corpus() {
    let rs = shipped();
    let records = records(rs, 3000, 42);
    assert!(records.len() > 2800, "{}", records.len());
    assert_same(rs, &records).unwrap();
}

#[test]
fn a_program_of_another_rule_set_is_not_used() {
    let rs = shipped();
    let mut sources = kycrules::policy::embedded();
    sources.add(
        "zz-extra.rules",
        "rule always reject {\n  on id\n  when true\n  message always\n}\nmessage always {\n  en \"Always.\"\n  zh \"总是。\"\n}\n",
    );
    let other = kycrules::policy::build(&sources).ruleset.unwrap();
    let wrong = Program::new(&other);
    let opts = Options {
        lang: 0,
        as_of: as_of(),
    };
    for r in records(rs, 200, 7) {
        assert_eq!(exec::evaluate(&wrong, rs, &r, opts), eval::evaluate(rs, &r, opts));
    }
}

#[test]
fn messages_without_placeholders_are_shared_not_copied() {
    let rs = shipped();
    let program = Program::new(rs);
    let mut scratch = exec::Scratch::default();
    let opts = Options {
        lang: 0,
        as_of: as_of(),
    };
    let rule = rs.rules.iter().position(|r| r.id == "card-mainland").unwrap();
    let mut shown = Vec::new();
    for r in records(rs, 400, 42) {
        let d = exec::evaluate_in(&program, rs, &r, opts, &mut scratch);
        shown.extend(d.violations.into_iter().filter(|v| v.rule == rule).map(|v| v.message));
    }
    assert!(shown.len() > 10, "{}", shown.len());
    let first = shown[0].as_ptr();
    assert!(shown.iter().all(|m| m.as_ptr() == first && *m == shown[0]));
    // The reference evaluator renders its own copy each time.
    let d = eval::evaluate(rs, &records(rs, 400, 42)[0], opts);
    assert!(d.violations.iter().all(|v| v.message.as_ptr() != first));
}

#[test]
fn values_and_fields_take_at_most_32_bytes() {
    assert!(size_of::<eval::Value<'_>>() <= 32, "{}", size_of::<eval::Value<'_>>());
    assert!(
        size_of::<kycrules::record::Field>() <= 32,
        "{}",
        size_of::<kycrules::record::Field>()
    );
    assert_eq!(size_of::<kycrules::decimal::Decimal>(), 24);
}

/// A condition over the shipped schema that touches every kind of expression
/// and every built-in the compiled evaluator specialises, and some it leaves
/// to the reference evaluator.
fn condition() -> impl Strategy<Value = String> {
    let leaf = select(
        &[
            "length(nfc(applicant.name)) > 8",
            "length(trim(applicant.name)) < 4",
            "length(applicant.phone) == 11",
            "length(extra_name) >= 2.5",
            "length(review.reason) != 0",
            "verification.deposited < 0.370000000000000000001",
            "verification.entered > 100000000000000000000",
            "only(applicant.phone, \"0123456789+-\")",
            "only(applicant.name, name_chars)",
            "has_any(lower(applicant.name), \"aeiou\")",
            "has_any(applicant.name, \"·.王\")",
            "matches(remove(applicant.phone, \"-\"), r\"^\\+?[0-9]{6,14}$\")",
            "matches(applicant.phone, r\"[0-9]{3}\")",
            "matches(strip_prefix(applicant.phone, \"+86\"), mainland_mobile)",
            "starts_with(strip_prefix(applicant.phone, \"+\"), \"86\")",
            "ends_with(fold_space(applicant.name), \"n\")",
            "contains(ascii_lower(applicant.name), \"john\")",
            "normalize_name(applicant.name) == normalize_name(bank_card.holder_name)",
            "normalize_name(applicant.name) != normalize_name(\"JOHN smith\")",
            "bank_card.bank in [CMB, BOC, HZB]",
            "bank_card.card_type not in [credit, passbook]",
            "bank_card.bank.known",
            "bank_card.bank.suspended",
            "bank_card.bank != ICBC",
            "count(b in bank: b.supported) > 5",
            "any(b in bank: b.suspended and b == bank_card.bank)",
            "all(b in bank: b.supported or not b.suspended)",
            "bank_card.bank.code == \"CMB\"",
            "bank(bank_card.holder_name) == CMB",
            "present(bank(extra_name))",
            "present(bank_card.account_type)",
            "bank_card.region == overseas",
            "count(d in documents: d.kind == passport) >= 2",
            "any(d in documents: present(d.number) and luhn(d.number))",
            "all(d in documents: length(d.number) == 9)",
            "any(d in documents: d.photo_legible)",
            "mod11_2(bank_card.number)",
            "icao9303(remove(bank_card.number, \" -\"))",
            "verification.entered >= verification.deposited",
            "verification.deposited in [0.5, 1, 0.37]",
            "review.reason == \"fraud\"",
            "review.outcome != failed",
            "failed == review.outcome",
            "0.5 >= verification.deposited",
            "any(d in documents: d.photo_legible == false)",
            "all(d in documents: passport != d.kind)",
            "any(d in documents: upper(d.number) == \"E12345678\")",
            "any(d in documents: sum(e in documents: length(e.number)) > length(d.number))",
            "present(review) or review.outcome == failed or extra_flag",
            "verification.deposited > 0 and verification.entered < 1 and present(review.reason)",
            "extra_flag",
            "extra_docs",
            "not extra_flag",
            "length(extra_name) < 6",
            "extra_name == \"john smith\"",
            "char_name(first_outside(applicant.name, name_chars)) == \"U+2022 BULLET\"",
            "present(confusable_hint(first_outside(applicant.name, name_chars)))",
            "char_code(first_outside(applicant.name, name_chars)) == \"U+2022\"",
            "first_outside(lower(applicant.name), \"abcdefghijklmnopqrstuvwxyz \") == \"-\"",
            "present(first_outside(applicant.phone, phone_chars))",
            "confusable_hint(first_outside(nfc(applicant.name), name_chars)) == \"·\"",
            "length(char_name(first_outside(trim(applicant.name), \"abc\"))) > 12",
            "char_name(first_outside(applicant.name, name_chars)) == char_name(first_outside(nfc(applicant.name), name_chars))",
            "fired(phone-mainland)",
            "fired(card-number-luhn)",
            "1 < 2",
            "length(\"abc\") == 3 and not (\"a\" == \"b\")",
            "true",
            "false",
        ][..],
    )
    .prop_map(str::to_string);
    common::condition_tree(leaf)
}

/// Message texts with placeholders of every kind.
fn message() -> impl Strategy<Value = &'static str> {
    select(
        &[
            "Extra.",
            "Extra {applicant.phone}.",
            "Extra {bank_card.bank} {bank_card.card_type} {bank_card.number}.",
            "Extra {extra_name} / {verification.deposited}.",
            "Extra {bank_card.bank.code}.",
            "Extra {extra_flag}: {review.outcome}, {review.reason}.",
            "Extra {char} / {instead} / {char} / {code}.",
        ][..],
    )
}

/// The shipped policy with generated rules, `let`s and messages added.
fn extended(rules: &[(String, &str, String, &str)]) -> RuleSet {
    let mut sources = kycrules::policy::embedded();
    let mut text = String::from(
        "let extra_name = trim(lower(applicant.name))\nlet extra_flag = length(extra_name) > 3 or present(review)\n\
         let extra_docs = any(x in documents: length(x.number) > 8 and count(y in documents: y.kind == x.kind) == 1)\n",
    );
    for (i, (cond, outcome, guard, msg)) in rules.iter().enumerate() {
        // The character built-ins as the name-charset rule shows them: each
        // placeholder computes `first_outside` again.
        let with = if msg.contains("{char}") {
            "  with char = char_name(first_outside(applicant.name, name_chars))\n  \
             with instead = confusable_hint(first_outside(applicant.name, name_chars))\n  \
             with code = char_code(first_outside(nfc(applicant.name), name_chars))\n"
        } else {
            ""
        };
        text.push_str(&format!(
            "rule extra-{i} {outcome} {{\n  on id\n  given {guard}\n  when {cond}\n{with}  message extra_{i}_if if ({guard}) and ({cond})\n  message extra_{i}\n}}\n\
             message extra_{i}_if {{\n  en \"{msg} (if)\"\n  zh \"{msg}（若）\"\n}}\n\
             message extra_{i} {{\n  en \"{msg}\"\n  zh \"{msg}。\"\n}}\n"
        ));
    }
    sources.add("zz-extra.rules", text);
    let compiled = kycrules::policy::build(&sources);
    let diags = kycrules::diag::render_human(&compiled.diagnostics, &sources, false);
    compiled.ruleset.unwrap_or_else(|| panic!("{diags}"))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn generated_records_decide_alike(seed in any::<u64>()) {
        let rs = shipped();
        assert_same(rs, &records(rs, 64, seed))?;
    }

    #[test]
    fn generated_policies_decide_alike(
        rules in prop::collection::vec(
            (condition(), select(&["reject", "limited", "review", "note"][..]), condition(), message()),
            1..5,
        ),
        seed in any::<u64>(),
    ) {
        let rs = extended(&rules);
        assert_same(&rs, &records(&rs, 48, seed))?;
    }
}

/// A worker keeps bank counts from one record to the next: records of
/// different days, interleaved on one scratch, still see the banks in force
/// on their own day.
#[test]
fn bank_counts_follow_each_records_day() {
    let mut sources = kycrules::policy::embedded();
    sources.add(
        "zz-extra.rules",
        "bank NEWB {\n  name en \"New Bank\"\n  effective 2027-01-01\n  supported = true\n}\n\
         rule banks-counted note {\n  on id\n  when count_banks(supported) > 0\n  with n = count_banks(supported)\n  message banks_counted\n}\n\
         message banks_counted {\n  en \"{n} banks.\"\n  zh \"{n} 家银行。\"\n}\n",
    );
    let compiled = kycrules::policy::build(&sources);
    let diags = kycrules::diag::render_human(&compiled.diagnostics, &sources, false);
    let rs = compiled.ruleset.unwrap_or_else(|| panic!("{diags}"));
    let program = Program::new(&rs);
    let rule = rs.rules.iter().position(|r| r.id == "banks-counted").unwrap();
    let mut scratch = exec::Scratch::default();
    let mut reference = eval::Scratch::default();
    let days = ["2026-11-27", "2027-06-01"].map(|d| kycrules::date::Date::parse(d).unwrap());
    let mut shown = [Vec::new(), Vec::new()];
    for (k, r) in records(&rs, 40, 3).iter().enumerate() {
        let opts = Options {
            lang: 0,
            as_of: days[k % 2],
        };
        let want = eval::evaluate_in(&rs, r, opts, &mut reference);
        let got = exec::evaluate_in(&program, &rs, r, opts, &mut scratch);
        assert_eq!(got, want, "record {k}");
        let m = got
            .violations
            .iter()
            .find(|v| v.rule == rule)
            .map(|v| v.message.to_string());
        shown[k % 2].push(m.unwrap());
    }
    assert!(shown[0].iter().all(|m| *m == shown[0][0]), "{:?}", shown[0]);
    assert!(shown[1].iter().all(|m| *m == shown[1][0]), "{:?}", shown[1]);
    assert_ne!(shown[0][0], shown[1][0]);
}

/// Quantifiers nested deeper than the compiled code keeps variables for are
/// left to the reference evaluator, which sees the outer variables bound by
/// the compiled ones; an expression it is given inside a quantifier does
/// too, and so does a `let` with quantifiers read at the deepest level.
#[test]
fn deep_quantifiers_and_expressions_left_to_the_reference_evaluator_see_the_outer_variables() {
    // Nine levels (the compiled code keeps eight); each level first asks
    // something of its own document, so that most records decide early.
    let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i"];
    let mut cond = String::from("i.kind == a.kind and upper(b.number) == upper(i.number)");
    for v in names.iter().rev() {
        // The eighth level reads a `let` with quantifiers of its own, where
        // the compiled code has no variable left.
        let own = if *v == "h" { "extra_docs and" } else { "" };
        cond = format!("any({v} in documents: length({v}.number) > 0 and {own} {cond})");
    }
    let rs = extended(&[
        (cond, "reject", "true".to_string(), "Extra."),
        (
            "any(d in documents: upper(d.number) != upper(applicant.name) and count(e in documents: e.kind == d.kind) >= 2)"
                .to_string(),
            "note",
            "true".to_string(),
            "Extra.",
        ),
    ]);
    let records = records(&rs, 200, 11);
    assert_same(&rs, &records).unwrap();
    let program = Program::new(&rs);
    let opts = Options {
        lang: 0,
        as_of: as_of(),
    };
    for id in ["extra-0", "extra-1"] {
        let rule = rs.rules.iter().position(|r| r.id == id).unwrap();
        let fired = records
            .iter()
            .filter(|r| {
                exec::evaluate(&program, &rs, r, opts)
                    .violations
                    .iter()
                    .any(|v| v.rule == rule)
            })
            .count();
        assert!(fired > 0 && fired < records.len(), "{id}: {fired} of {}", records.len());
    }
}
