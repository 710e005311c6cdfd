//! Tables: declarations, entries with codes (names or quoted texts), names
//! per language, aliases and typed attributes; looking an entry up from a
//! text, table-typed fields, quantifiers over a table, messages that show an
//! entry, and `bank` as one table among others. Both evaluators agree.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::build_policy as build;
use kycrules::date::Date;
use kycrules::eval::{self, Options};
use kycrules::explain::decompile::{Decompiler, Scope};
use kycrules::ir::RuleSet;
use std::collections::BTreeMap;

const POLICY: &str = r#"policy "t" version "1" languages en, zh
schema {
  id: text
  code: text?
  origin: region?
  card: { bank: bank }?
}

table region {
  permit: bool = false
  tier: decimal = 1
  note: text = "none"
}

table bank {
  supported: bool = false
}

region "11" { name en "North City", "Northern City" name zh "北城" }
region "12" { name en "East Port" name zh "东港" alias "EP", "e-port" tier = 2 }
region "81" { name en "Island" name zh "岛" permit = true note = "permit" }
region "90" { name en "Old Coast" effective 2020-01-01 until 2026-01-01 }
region NEW { name en "New Bay" effective 2027-01-01 permit = true }
region "99" { }

bank ZB { name en "Zed Bank" supported = true }

set ports = ["12", "81"]
set permit_banks = [ZB]

let r = region(code)

rule found note { when present(r) with region = r message m_found }
rule missing note { given present(code) when not present(r) message m_missing }
rule permit review { when r.permit with region = r message m_permit }
rule tier note { when r.tier > 1 with t = r.tier message m_tier }
rule code-of note { when r.code == "81" message m_code }
rule noted note { when r.note == "permit" message m_code }
rule origin-permit review { when origin.permit and origin.known with o = origin message m_origin }
rule origin-is note { when origin == NEW message m_code }
rule count-permits note { when true with n = count(x in region: x.permit) message m_count }
rule any-tier note { when any(x in region: x.tier > 1) and all(x in region: x.tier >= 1) message m_code }
rule in-set note { when r.code in ports message m_code }
rule bank-set note { when card.bank in permit_banks and card.bank.supported message m_code }
rule call-member review { when region(code).permit and region(code).code == "81" message m_code }
rule count-banks note { when count_banks(supported) == count(b in bank: b.supported) message m_code }

message m_found { en "found {region}" zh "找到{region}" }
message m_missing { en "no region {code}" zh "无{code}" }
message m_permit { en "permit of {region}" zh "{region}居住证" }
message m_tier { en "tier {t}" zh "{t}" }
message m_code { en "yes" zh "是" }
message m_origin { en "origin {o}" zh "来自{o}" }
message m_count { en "{n} permits" zh "{n}" }
"#;

fn policy() -> RuleSet {
    build(POLICY).unwrap_or_else(|e| panic!("{e}"))
}

/// The rules that fired, with their messages, from both evaluators (which must agree).
fn fired(rs: &RuleSet, record: serde_json::Value, as_of: &str, lang: usize) -> BTreeMap<String, String> {
    let opts = Options {
        lang,
        as_of: Date::parse(as_of).unwrap(),
    };
    let rec = kycrules::input::convert(&record, &rs.schema, &rs.tables, opts.as_of).unwrap();
    let reference = eval::evaluate(rs, &rec, opts);
    let prog = kycrules::exec::Program::new(rs);
    let compiled = kycrules::exec::evaluate(&prog, rs, &rec, opts);
    assert_eq!(format!("{reference:?}"), format!("{compiled:?}"), "evaluators differ");
    reference
        .violations
        .into_iter()
        .map(|v| (rs.rules[v.rule].id.clone(), v.message.to_string()))
        .collect()
}

fn code(c: &str) -> serde_json::Value {
    serde_json::json!({ "id": "T", "code": c })
}

#[test]
fn an_entry_is_found_by_code_name_or_alias_trimmed_and_case_folded() {
    let rs = policy();
    for typed in [
        "12",
        " 12 ",
        "East Port",
        "east port",
        "  EAST PORT",
        "EP",
        "ep",
        "E-Port",
    ] {
        let f = fired(&rs, code(typed), "2026-06-01", 0);
        assert_eq!(
            f.get("found").map(String::as_str),
            Some("found East Port"),
            "{typed:?}: {f:?}"
        );
        assert!(!f.contains_key("missing"), "{typed:?}");
    }
    // A second name in a language finds the entry too; it shows by its first.
    let f = fired(&rs, code("northern city"), "2026-06-01", 0);
    assert_eq!(f["found"], "found North City");
}

#[test]
fn a_text_that_names_no_entry_is_absent() {
    let rs = policy();
    for typed in ["13", "", "Nowhere", "1 2"] {
        let f = fired(&rs, code(typed), "2026-06-01", 0);
        assert!(!f.contains_key("found"), "{typed:?}: {f:?}");
        assert_eq!(f["missing"], format!("no region {typed}"));
        // Absent carries through: no attribute rule fires on it.
        assert!(!f.contains_key("permit") && !f.contains_key("tier") && !f.contains_key("code-of"));
    }
    // No code at all: `region(code)` is absent and `missing` does not apply.
    let f = fired(&rs, serde_json::json!({ "id": "T" }), "2026-06-01", 0);
    assert!(!f.contains_key("found") && !f.contains_key("missing"), "{f:?}");
}

#[test]
fn entries_are_in_force_between_effective_and_until() {
    let rs = policy();
    assert!(fired(&rs, code("90"), "2025-12-31", 0).contains_key("found"));
    assert!(fired(&rs, code("old coast"), "2025-12-31", 0).contains_key("found"));
    assert!(fired(&rs, code("90"), "2026-01-01", 0).contains_key("missing"));
    assert!(fired(&rs, code("NEW"), "2026-12-31", 0).contains_key("missing"));
    assert!(fired(&rs, code("new bay"), "2027-01-01", 0).contains_key("found"));
}

#[test]
fn attributes_have_their_defaults_and_their_types() {
    let rs = policy();
    let f = fired(&rs, code("81"), "2026-06-01", 0);
    assert_eq!(f["permit"], "permit of Island");
    assert!(f.contains_key("code-of"));
    assert!(f.contains_key("noted"));
    assert!(f.contains_key("call-member"), "fields of a call's value: {f:?}");
    assert!(!f.contains_key("tier"), "tier defaults to 1");
    let f = fired(&rs, code("e-port"), "2026-06-01", 0);
    assert_eq!(f["tier"], "tier 2");
    assert!(!f.contains_key("permit") && !f.contains_key("noted"));
    // An entry with no names shows by its code.
    let f = fired(&rs, code("99"), "2026-06-01", 0);
    assert_eq!(f["found"], "found 99");
}

#[test]
fn an_entry_shows_by_its_name_in_the_messages_language() {
    let rs = policy();
    let f = fired(&rs, code("81"), "2026-06-01", 1);
    assert_eq!(f["permit"], "岛居住证");
    // No name in that language: the default language's.
    let f = fired(&rs, code("90"), "2025-06-01", 1);
    assert_eq!(f["found"], "找到Old Coast");
}

#[test]
fn a_quantifier_walks_the_entries_in_force() {
    let rs = policy();
    // Island only; New Bay is not yet in force.
    assert_eq!(fired(&rs, code("x"), "2026-06-01", 0)["count-permits"], "1 permits");
    assert_eq!(fired(&rs, code("x"), "2027-06-01", 0)["count-permits"], "2 permits");
    assert!(fired(&rs, code("x"), "2026-06-01", 0).contains_key("any-tier"));
    // `count_banks(supported)` is the old spelling of a count over `bank`.
    assert!(fired(&rs, code("x"), "2026-06-01", 0).contains_key("count-banks"));
}

#[test]
fn a_field_of_a_table_type_resolves_as_a_bank_does() {
    let rs = policy();
    let f = fired(
        &rs,
        serde_json::json!({ "id": "T", "origin": " island ", "card": { "bank": "zed bank" } }),
        "2026-06-01",
        0,
    );
    assert_eq!(f["origin-permit"], "origin Island");
    assert!(f.contains_key("bank-set"), "{f:?}");
    let f = fired(
        &rs,
        serde_json::json!({ "id": "T", "origin": "Atlantis" }),
        "2026-06-01",
        0,
    );
    assert!(!f.contains_key("origin-permit"), "an unknown entry is not known: {f:?}");
    let f = fired(&rs, serde_json::json!({ "id": "T", "origin": "NEW" }), "2027-06-01", 0);
    assert!(f.contains_key("origin-is"), "{f:?}");
    // The fast JSON path reads the same record.
    let line = br#"{"id":"T","origin":"Island","card":{"bank":"ZB"}}"#;
    let as_of = Date::parse("2026-06-01").unwrap();
    let (_, direct) = kycrules::direct::json_record(line, &rs.schema, &rs.tables, as_of).unwrap();
    let general =
        kycrules::input::convert(&serde_json::from_slice(line).unwrap(), &rs.schema, &rs.tables, as_of).unwrap();
    assert_eq!(direct, general);
    // A number where a table's name is expected is refused, with the table's name.
    let err = kycrules::input::convert(
        &serde_json::json!({ "id": "T", "origin": 11 }),
        &rs.schema,
        &rs.tables,
        as_of,
    )
    .unwrap_err();
    assert!(err.contains("a region name"), "{err}");
}

#[test]
fn a_set_of_codes_takes_the_table_type_from_the_other_side() {
    let rs = policy();
    assert!(fired(&rs, code("east port"), "2026-06-01", 0).contains_key("in-set"));
    assert!(!fired(&rs, code("11"), "2026-06-01", 0).contains_key("in-set"));
}

#[test]
fn the_decompiler_writes_lookups_tables_and_quoted_codes_back() {
    let rs = policy();
    let dc = Decompiler::new(&rs);
    let render = |id: &str| {
        let rule = rs.rules.iter().find(|r| r.id == id).unwrap();
        dc.render(&rule.when, &mut Scope::new())
    };
    assert_eq!(render("count-permits"), "true");
    assert_eq!(render("origin-is"), "origin == NEW");
    assert_eq!(
        render("any-tier"),
        "any(x in region: x.tier > 1) and all(x in region: x.tier >= 1)"
    );
    assert_eq!(render("code-of"), "r.code == \"81\"");
    let r = &rs.lets[0];
    assert_eq!(dc.render(r, &mut Scope::new()), "region(code)");
}

#[test]
fn errors_name_the_table_and_suggest() {
    let broken = POLICY.replace(
        "rule found note { when present(r)",
        "rule found note { when present(r) and r.permt",
    );
    let err = build(&broken).unwrap_err();
    assert!(err.contains("table `region` has no attribute `permt`"), "{err}");
    assert!(err.contains("did you mean `permit`?"), "{err}");
    let err = build(&POLICY.replace("region \"99\" { }", "regoin \"99\" { }")).unwrap_err();
    assert!(err.contains("E0039") && err.contains("did you mean `region`?"), "{err}");
    let err = build(&POLICY.replace("origin == NEW", "origin == NEX")).unwrap_err();
    assert!(
        err.contains("unknown region `NEX`") && err.contains("did you mean `NEW`?"),
        "{err}"
    );
    let err = build(&POLICY.replace("region \"99\" { }", "region \"99\" { tier = \"high\" }")).unwrap_err();
    assert!(err.contains("the attribute value must be decimal, found text"), "{err}");
    let err = build(&POLICY.replace("  origin: region?", "  origin: regoin?")).unwrap_err();
    assert!(err.contains("did you mean `region`?"), "{err}");
    let err = build(&POLICY.replace("region \"99\" { }", "region \"12\" { }")).unwrap_err();
    assert!(
        err.contains("region `12` is declared twice") && err.contains("first declared here"),
        "{err}"
    );
    let err = build(&POLICY.replace(
        "  note: text = \"none\"",
        "  note: text = \"none\"\n  tier: bool = false",
    ))
    .unwrap_err();
    assert!(err.contains("region attribute `tier` is declared twice"), "{err}");
    let err = build(&POLICY.replace(
        "rule tier note { when r.tier > 1",
        "rule tier note { when region(1) == r",
    ))
    .unwrap_err();
    assert!(err.contains("looks up a text"), "{err}");
}

#[test]
fn bank_attribute_lines_still_declare_attributes_of_bank() {
    let text = POLICY.replace(
        "table bank {\n  supported: bool = false\n}",
        "bank attribute supported: bool = false",
    );
    let rs = build(&text).unwrap_or_else(|e| panic!("{e}"));
    let f = fired(
        &rs,
        serde_json::json!({ "id": "T", "card": { "bank": "ZB" } }),
        "2026-06-01",
        0,
    );
    assert!(f.contains_key("bank-set"), "{f:?}");
}

#[test]
fn the_formatter_keeps_tables_and_quoted_codes() {
    let once = kycrules::fmt::format(0, POLICY).unwrap();
    assert!(once.contains("table region {\n  permit: bool = false\n"), "{once}");
    assert!(once.contains("region \"12\" {\n  name en \"East Port\"\n"), "{once}");
    assert!(once.contains("region NEW {"), "{once}");
    assert!(
        once.contains("when region(code).permit and region(code).code == \"81\""),
        "{once}"
    );
    assert_eq!(kycrules::fmt::format(0, &once).unwrap(), once, "idempotent");
    build(&once).unwrap();
}

#[test]
fn the_formatter_migrates_bank_attribute_lines_to_a_table_block() {
    let text = "policy \"t\" version \"1\" languages en\nschema { id: text\n card: { bank: bank }? }\n\n\
                # Whether the bank supports us.\nbank attribute supported: bool = false\n\
                # Known, but suspended.\nbank attribute suspended: bool = false\n\n\
                bank ZB { name en \"Zed Bank\" supported = true }\n";
    let once = kycrules::fmt::format(0, text).unwrap();
    assert!(
        once.contains(
            "table bank {\n  # Whether the bank supports us.\n  supported: bool = false\n  \
             # Known, but suspended.\n  suspended: bool = false\n}\n"
        ),
        "{once}"
    );
    assert!(!once.contains("bank attribute"), "{once}");
    assert_eq!(kycrules::fmt::format(0, &once).unwrap(), once, "idempotent");
    // The same attributes, in the same order: the same policy.
    let (a, b) = (build(text).unwrap(), build(&once).unwrap());
    let shape = |rs: &RuleSet| format!("{:?}{:?}", rs.tables[0].list, rs.tables[0].attributes);
    assert_eq!(shape(&a), shape(&b));
    // Lines with another declaration between them stay as they are (one
    // `table bank` block per policy).
    let apart = text.replace("# Known, but suspended.\n", "let x = true\n");
    let kept = kycrules::fmt::format(0, &apart).unwrap();
    assert_eq!(kept.matches("bank attribute").count(), 2, "{kept}");
}

#[test]
fn the_formatter_breaks_a_long_list_one_item_a_line() {
    let codes: Vec<String> = (10..40).map(|n| format!("\"{n}\"")).collect();
    let text = format!(
        "policy \"t\" version \"1\" languages en\nschema {{ id: text\n code: text }}\nset many = [{}]\nset few = [\"a\", \"b\"]\n\
         message m {{ en \"x\" }}\nrule r note {{ when code in many or code in few message m }}\n",
        codes.join(", ")
    );
    let once = kycrules::fmt::format(0, &text).unwrap();
    assert!(once.contains("set many = [\n  \"10\",\n  \"11\",\n"), "{once}");
    assert!(once.contains("  \"39\",\n]\n"), "{once}");
    assert!(once.contains("set few = [\"a\", \"b\"]\n"), "{once}");
    assert!(
        once.lines().all(|l| l.chars().count() <= kycrules::fmt::WIDTH),
        "{once}"
    );
    assert_eq!(kycrules::fmt::format(0, &once).unwrap(), once, "idempotent");
}

#[test]
fn prove_reads_table_attributes_and_finds_a_confirmed_counterexample() {
    use kycrules::Policy;
    use kycrules::prove::{self, Claim, Verdict};
    let as_of = Date::parse("2026-06-01").unwrap();
    let old = Policy::from_texts(vec![("p.rules".to_string(), POLICY.to_string())]).unwrap();
    let same = prove::prove(&old, &old, Claim::Equivalent, as_of);
    assert!(matches!(same.verdict, Verdict::Proven), "{:?}", same.verdict);
    // The island's permit taken away: what was reviewed is accepted.
    let text = POLICY.replace("permit = true note = \"permit\"", "note = \"permit\"");
    let new = Policy::from_texts(vec![("p.rules".to_string(), text)]).unwrap();
    let r = prove::prove(&old, &new, Claim::Tightens, as_of);
    let Verdict::Refuted { counterexample, .. } = &r.verdict else {
        panic!("{:?}", r.verdict)
    };
    let opts = kycrules::DecideOptions {
        lang: None,
        as_of: Some(as_of),
    };
    let (a, b) = (
        old.decide_value(counterexample, "t", &opts).decision(),
        new.decide_value(counterexample, "t", &opts).decision(),
    );
    assert_ne!(a, b, "{counterexample}");
}

#[test]
fn gen_draws_entries_and_the_schema_lists_their_codes() {
    let rs = policy();
    let mut g = kycrules::r#gen::Generator::new(&rs, 7);
    let as_of = Date::parse("2026-06-01").unwrap();
    let mut resolved = 0;
    for _ in 0..200 {
        let line = g.next_record(kycrules::r#gen::Format::Jsonl);
        let value: serde_json::Value = serde_json::from_str(&line).unwrap();
        let rec = kycrules::input::convert(&value, &rs.schema, &rs.tables, as_of).unwrap();
        if let Some(origin) = value.get("origin").and_then(|o| o.as_str()) {
            resolved += usize::from(rs.tables[1].resolve(origin, as_of).is_some());
        }
        drop(rec);
    }
    assert!(resolved > 20, "{resolved}");
    let schema = kycrules::schema_json::application_schema(&rs);
    let origin = schema["properties"]["origin"].to_string();
    assert!(
        origin.contains("a region's code, name or alias") && origin.contains("\"81\""),
        "{origin}"
    );
}

/// An enum-typed attribute: `kind: (province | municipality | sar) = province`.
const ENUM_POLICY: &str = r#"policy "t" version "1" languages en, zh
schema {
  id: text
  code: text?
}

table region {
  kind: (province | municipality | sar) = province
  zone: north | south = north
}

region "11" { name en "Capital" name zh "京" kind = municipality }
region "13" { name en "Plains" name zh "冀" }
region "81" { name en "Island" name zh "岛" kind = sar zone = south }

let r = region(code)

rule city note { when r.kind == municipality with region = r message m_kind }
rule not-province note { when r.kind != province and r.zone == south with k = r.kind message m_k }
rule in-kinds note { when r.kind in [municipality, sar] message m_yes }
rule count-sar note { when count(x in region: x.kind == sar) == 1 message m_yes }

message m_kind { en "{region}" zh "{region}" }
message m_yes { en "yes" zh "是" }
message m_k { en "kind {k}" zh "{k}" }
"#;

#[test]
fn an_attribute_may_be_an_enum() {
    let rs = build(ENUM_POLICY).unwrap_or_else(|e| panic!("{e}"));
    let capital = fired(&rs, code("11"), "2026-06-01", 0);
    assert_eq!(
        capital.keys().collect::<Vec<_>>(),
        ["city", "count-sar", "in-kinds"],
        "{capital:?}"
    );
    assert_eq!(capital["city"], "Capital");
    let island = fired(&rs, code("81"), "2026-06-01", 0);
    assert_eq!(
        island.keys().collect::<Vec<_>>(),
        ["count-sar", "in-kinds", "not-province"],
        "{island:?}"
    );
    assert_eq!(island["not-province"], "kind sar");
    // The default, and an absent entry (its attribute unknown: nothing fires but the count).
    assert_eq!(
        fired(&rs, code("13"), "2026-06-01", 0).keys().collect::<Vec<_>>(),
        ["count-sar"]
    );
    assert_eq!(
        fired(&rs, code("99"), "2026-06-01", 0).keys().collect::<Vec<_>>(),
        ["count-sar"]
    );
    // The formatter keeps the enum (in parentheses) and reads its output back the same.
    let once = kycrules::fmt::format(0, ENUM_POLICY).unwrap();
    assert!(
        once.contains("  kind: (province | municipality | sar) = province\n"),
        "{once}"
    );
    assert!(once.contains("  zone: (north | south) = north\n"), "{once}");
    assert_eq!(kycrules::fmt::format(0, &once).unwrap(), once, "idempotent");
    build(&once).unwrap();
}

#[test]
fn an_enum_attribute_rejects_other_values_and_suggests() {
    let err = build(&ENUM_POLICY.replace("kind = municipality", "kind = municipalty")).unwrap_err();
    assert!(
        err.contains("`municipalty` is not a value of this enum") && err.contains("did you mean `municipality`?"),
        "{err}"
    );
    let err = build(&ENUM_POLICY.replace("= province\n", "= provinse\n")).unwrap_err();
    assert!(
        err.contains("`provinse` is not a value") && err.contains("did you mean `province`?"),
        "{err}"
    );
    let err = build(&ENUM_POLICY.replace("r.kind == municipality", "r.kind == munic")).unwrap_err();
    assert!(err.contains("munic"), "{err}");
    let err = build(&ENUM_POLICY.replace("kind = sar", "kind = \"sar\"")).unwrap_err();
    assert!(err.contains("found text"), "{err}");
    let err = build(&ENUM_POLICY.replace("(province | municipality | sar)", "(province | sar | sar)")).unwrap_err();
    assert!(err.contains("enum value `sar` is listed twice"), "{err}");
}

/// Migrating `bank attribute` lines keeps each comment with its line, inside
/// the block: the comments above the first line, a comment trailing the last
/// line, and one trailing a middle line.
#[test]
fn the_formatter_migration_keeps_comments_with_their_lines() {
    let text = "policy \"t\" version \"1\" languages en\nschema { id: text\n card: { bank: bank }? }\n\n\
                # Bank attributes.\n\
                # Whether the bank supports us.\nbank attribute supported: bool = false\n\
                bank attribute tier: decimal = 1  # 1 is the best\n\
                bank attribute suspended: bool = false  # known, but suspended\n\n\
                # The one bank.\nbank ZB { name en \"Zed Bank\" supported = true }\n";
    let once = kycrules::fmt::format(0, text).unwrap();
    assert!(
        once.contains(
            "schema {\n  id: text\n  card: {\n    bank: bank\n  }?\n}\n\n\
             table bank {\n  # Bank attributes.\n  # Whether the bank supports us.\n  supported: bool = false\n  \
             tier: decimal = 1  # 1 is the best\n  suspended: bool = false  # known, but suspended\n}\n\n\
             # The one bank.\nbank ZB {"
        ),
        "{once}"
    );
    assert_eq!(kycrules::fmt::format(0, &once).unwrap(), once, "idempotent");
    build(&once).unwrap();
}
