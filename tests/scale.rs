//! Batch evaluation at scale: the generator, streaming, parallel runs, and
//! the fast paths (direct JSON conversion, the JSON line writer) against the
//! general ones.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use kycrules::eval::{self, DecisionKind, Options};
use kycrules::r#gen::{self, Format};
use kycrules::input::{self, InputRecord, Unit};
use kycrules::record::Record;
use kycrules::report::{JsonWriter, Outcome};
use serde::Serialize;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

fn generate(n: u64, seed: u64, format: Format) -> Vec<u8> {
    let mut out = Vec::new();
    r#gen::write(shipped(), n, seed, format, &mut out).unwrap();
    out
}

fn scratch_file(name: &str, bytes: &[u8]) -> PathBuf {
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn opts() -> Options {
    Options {
        lang: 0,
        as_of: as_of(),
    }
}

/// `kycrules check --format json` with extra arguments: (exit code, stdout).
fn check(args: &[&str], path: &Path) -> (i32, Vec<u8>) {
    let out = Command::new(env!("CARGO_BIN_EXE_kycrules"))
        .args(["check", "--format", "json", "--as-of", "2026-11-27"])
        .args(args)
        .arg(path)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    (out.status.code().unwrap(), out.stdout)
}

#[test]
fn gen_is_deterministic_for_a_seed() {
    for format in [Format::Jsonl, Format::Yaml] {
        let a = generate(300, 7, format);
        assert_eq!(a, generate(300, 7, format), "same seed, same bytes");
        assert_ne!(a, generate(300, 8, format), "another seed, other applications");
    }
    // A prefix of a longer run is the shorter run.
    let long = generate(50, 3, Format::Jsonl);
    assert!(long.starts_with(&generate(20, 3, Format::Jsonl)));
}

#[test]
fn gen_output_parses_and_check_prints_one_line_per_record() {
    for (name, format, n) in [("gen.jsonl", Format::Jsonl, 1500u64), ("gen.yaml", Format::Yaml, 400)] {
        let path = scratch_file(name, &generate(n, 11, format));
        let records: Vec<InputRecord> = input::read_inputs(vec![path.clone()]).collect();
        assert_eq!(records.len() as u64, n, "{name}");
        for r in &records {
            // Every document parses; input errors come only from the schema.
            if let Err(e) = &r.value {
                panic!("{name} {}: {e}", r.source);
            }
        }
        let (code, stdout) = check(&[], &path);
        assert_eq!(code, 2, "{name}: the generator makes some input errors");
        let lines: Vec<serde_json::Value> = stdout
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .map(|l| serde_json::from_slice(l).unwrap())
            .collect();
        assert_eq!(lines.len() as u64, n, "{name}: one line per record");
        for (line, rec) in lines.iter().zip(&records) {
            assert_eq!(
                line["source"].as_str(),
                Some(rec.source.as_str()),
                "{name}: input order"
            );
        }
    }
}

#[test]
fn gen_covers_every_rule_and_decision() {
    let rs = shipped();
    let path = scratch_file("cover.jsonl", &generate(2000, 1, Format::Jsonl));
    let mut fired = BTreeSet::new();
    let mut decisions = BTreeSet::new();
    for rec in input::read_inputs(vec![path]) {
        let result = rec
            .value
            .and_then(|v| input::convert(&v, &rs.schema, &rs.tables, as_of()))
            .map(|r| eval::evaluate(rs, &r, opts()));
        match result {
            Ok(d) => {
                decisions.insert(d.decision);
                fired.extend(d.violations.iter().map(|v| rs.rules[v.rule].id.clone()));
            }
            Err(_) => {
                decisions.insert(DecisionKind::Error);
            }
        }
    }
    let missing: Vec<_> = rs
        .rules
        .iter()
        .filter(|r| !fired.contains(&r.id))
        .map(|r| &r.id)
        .collect();
    assert!(missing.is_empty(), "rules that never fired: {missing:?}");
    assert_eq!(decisions.len(), DecisionKind::ALL.len(), "{decisions:?}");
}

#[test]
fn jobs_do_not_change_the_output() {
    let path = scratch_file("jobs.jsonl", &generate(4000, 5, Format::Jsonl));
    let one = check(&["--jobs", "1"], &path);
    let two = check(&["--jobs", "2"], &path);
    assert_eq!(one.0, two.0);
    assert!(one.1 == two.1, "--jobs 1 and --jobs 2 differ");
    assert_eq!(one.1.iter().filter(|&&b| b == b'\n').count(), 4000);
    let human = |jobs: &str| {
        Command::new(env!("CARGO_BIN_EXE_kycrules"))
            .args(["check", "--format", "human", "--as-of", "2026-11-27", "--jobs", jobs])
            .arg(&path)
            .env("NO_COLOR", "1")
            .output()
            .unwrap()
            .stdout
    };
    assert!(human("1") == human("2"), "human reports differ");
}

#[test]
fn json_lines_stream_in_order() {
    let n = 10_000;
    let path = scratch_file("stream.jsonl", &generate(n, 2, Format::Jsonl));
    let label = path.display().to_string();
    let units: Vec<Unit> = input::read_units(vec![path.clone()]).collect();
    assert_eq!(units.len(), n as usize);
    for (i, u) in units.iter().enumerate() {
        assert_eq!(u.source(), format!("{label}:{}", i + 1));
        assert!(matches!(u, Unit::Json { .. }), "left unparsed for the workers");
    }
    for (i, r) in input::read_inputs(vec![path]).enumerate() {
        assert_eq!(r.source, format!("{label}:{}", i + 1));
        let id = r.value.unwrap()["id"].as_str().map(str::to_owned);
        if let Some(id) = id {
            assert_eq!(id, format!("G-{:07}", i + 1));
        }
    }
}

type Direct = Option<(Option<String>, Record)>;

/// The direct path's answer, the general path's document and record.
fn both_paths(bytes: &[u8]) -> (Direct, InputRecord, Result<Record, String>) {
    let rs = shipped();
    let direct = kycrules::direct::json_record(bytes, &rs.schema, &rs.tables, as_of());
    let rec = input::json_record("x".into(), bytes);
    let general = rec
        .value
        .clone()
        .and_then(|v| input::convert(&v, &rs.schema, &rs.tables, as_of()));
    (direct, rec, general)
}

#[test]
fn direct_json_agrees_with_the_general_path() {
    let corpus = generate(3000, 9, Format::Jsonl);
    // Each record read fresh, then each read into the allocations of the
    // record before it (given back with `recycle`, as `check` does).
    for recycle in [false, true] {
        direct_json_agrees_with_the_general_path_on(&corpus, recycle);
    }
}

fn direct_json_agrees_with_the_general_path_on(corpus: &[u8], recycle: bool) {
    let (mut direct_ok, mut errors) = (0, 0);
    for line in corpus.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        let (direct, rec, general) = both_paths(line);
        match (direct, general) {
            (Some((id, record)), Ok(g)) => {
                assert_eq!(record, g, "recycling: {recycle}");
                assert_eq!(id, rec.id);
                direct_ok += 1;
                if recycle {
                    record.recycle();
                }
            }
            (None, Err(_)) => errors += 1,
            (Some(_), Err(e)) => panic!(
                "the direct path accepted a record in error ({e}): {}",
                String::from_utf8_lossy(line)
            ),
            (None, Ok(_)) => panic!(
                "the direct path declined a valid record: {}",
                String::from_utf8_lossy(line)
            ),
        }
    }
    assert!(direct_ok > 2800 && errors > 0, "{direct_ok} {errors}");
    let base = r#""applicant":{"name":"A B","phone":"13812345678"},"documents":[]"#;
    let edge = [
        format!(r#"{{"id":"a",{base},"id":"b"}}"#),
        format!(r#"{{"id":"a",{base},"documents":[null]}}"#),
        format!(r#"{{"id":"a",{base},"extra":1}}"#),
        format!(r#"{{"id":7,{base}}}"#),
        format!(r#"{{"id":null,{base}}}"#),
        format!(r#"{{{base}}}"#),
        format!(r#"{{"id":"a",{base},"verification":{{"deposited":18446744073709551615}}}}"#),
        format!(r#"{{"id":"a",{base},"verification":{{"deposited":0.1,"entered":1e-2}}}}"#),
        format!(r#"{{"id":"a",{base},"verification":{{"deposited":"0.10","entered":null}}}}"#),
        format!(r#"{{"id":"a",{base},"verification":null,"bank_card":null}}"#),
        format!(
            r#"{{"id":"a",{base},"bank_card":{{"bank":" ICBC ","card_type":"savings","holder_name":"A B","region":null}}}}"#
        ),
        format!(r#"{{"id":"a",{base},"review":{{"outcome":"passed","outcome":"failed"}}}}"#),
        format!(r#"{{"id":"a\u0000",{base}}} x"#),
        format!(r#"[{{"id":"a",{base}}}]"#),
        format!(r#"{{"id":"\ud800",{base}}}"#),
    ];
    for case in &edge {
        agrees_or_declines(case.as_bytes());
    }
}

/// The direct path either declines a line (the general path decides) or
/// makes the record and id the general path makes; it never accepts a line
/// the general path refuses.
fn agrees_or_declines(case: &[u8]) {
    let (direct, rec, general) = both_paths(case);
    let case = String::from_utf8_lossy(case);
    match (direct, general) {
        (Some((id, record)), Ok(g)) => {
            assert_eq!(record, g, "{case}");
            assert_eq!(id, rec.id, "{case}");
            // The next line is read into this record's allocations.
            record.recycle();
        }
        (Some(_), Err(e)) => panic!("{case}: direct accepted, general says {e}"),
        (None, _) => {}
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(proptest_cases(400)))]

    /// Generated lines with a few bytes replaced, removed or inserted (most
    /// of them bytes that mean something in JSON): the direct path agrees
    /// with the general path or declines, and never panics.
    #[test]
    fn direct_json_on_damaged_lines_agrees_or_declines(
        line in 0usize..200,
        edits in proptest::collection::vec((0usize..4096, 0usize..SPECIAL.len() + 1, 0u8..3, proptest::prelude::any::<u8>()), 1..5),
    ) {
        let mut bytes = damage_corpus()[line % damage_corpus().len()].clone();
        for (at, pick, kind, any) in edits {
            let byte = SPECIAL.get(pick).copied().unwrap_or(any);
            let at = at % (bytes.len() + 1);
            match kind {
                0 if at < bytes.len() => bytes[at] = byte,
                1 if at < bytes.len() => {
                    bytes.remove(at);
                }
                _ => bytes.insert(at, byte),
            }
        }
        agrees_or_declines(&bytes);
    }
}

/// Bytes a damaged line is most often given.
const SPECIAL: &[u8] = b"{}[]\",:\\0123456789-+.eEtrufalsn \t\r\x00\x7f\xc3\xa9\xff";

/// 200 generated JSON lines, made once.
fn damage_corpus() -> &'static [Vec<u8>] {
    static LINES: std::sync::OnceLock<Vec<Vec<u8>>> = std::sync::OnceLock::new();
    LINES.get_or_init(|| {
        generate(200, 11, Format::Jsonl)
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .map(<[u8]>::to_vec)
            .collect()
    })
}

#[test]
fn direct_json_takes_escapes_spacing_and_signed_numbers_as_the_general_path_does() {
    let base = r#""applicant":{"name":"A B","phone":"13812345678"},"documents":[]"#;
    // Each of these the direct path must take itself, with the general path's record.
    let taken = [
        format!(r#"{{"id":"a\tb",{base}}}"#),
        format!(r#"{{"id":"\u00e9\u4e2d \ud83d\ude00 \"q\" \\ \/ \b\f\n\r",{base}}}"#),
        format!("{{\"id\":\"中文 é\",{base}}}"),
        " {\n \"id\" : \"a\" ,\t\"applicant\" :{ \"name\":\"A B\" , \"phone\": \"1\"} , \"documents\" : [ ] , \"review\":{\"outcome\" :\"passed\"} } \r\n ".to_owned(),
        format!(r#"{{"id":"a",{base},"verification":{{"deposited":-5,"entered":-0}}}}"#),
        format!(r#"{{"id":"a",{base},"verification":{{"deposited":-0.50,"entered":0}}}}"#),
        format!(r#"{{"id":"a",{base},"verification":{{"deposited":-9223372036854775809,"entered":18446744073709551616}}}}"#),
        format!(r#"{{"id":"a",{base},"verification":{{"deposited":12345678901234567890.25,"entered":"7"}}}}"#),
        r#"{"id":"a","applicant":{"name":"A\tB","phone":"13812345678"},"documents":[{"kind":"passport"} , {"kind":"passport","photo_legible":false}]}"#.to_owned(),
    ];
    for case in &taken {
        let (direct, rec, general) = both_paths(case.as_bytes());
        let general = general.unwrap_or_else(|e| panic!("{case}: {e}"));
        let (id, record) = direct.unwrap_or_else(|| panic!("the direct path declined {case}"));
        assert_eq!(record, general, "{case}");
        assert_eq!(id, rec.id, "{case}");
    }
    // Broken or unusual JSON: declined (the general path decides), never a
    // record the general path would not make.
    let declined = [
        format!(r#"{{"id":"a",{base},}}"#),
        format!(r#"{{"id":"a",{base}"#),
        format!(r#"{{"id":"a" {base}}}"#),
        format!(r#"{{"id":"a",{base},"verification":{{"deposited":01}}}}"#),
        format!(r#"{{"id":"a",{base},"verification":{{"deposited":1.}}}}"#),
        format!(r#"{{"id":"a",{base},"verification":{{"deposited":+1}}}}"#),
        format!(r#"{{"id":"a",{base},"verification":{{"deposited":1E2}}}}"#),
        format!(r#"{{"id":"a",{base},"verification":{{"deposited":2e+1}}}}"#),
        format!(r#"{{"id":"a",{base},"documents":[{{"kind":"passport"}},]}}"#),
        format!("{{\"id\":\"a\tb\",{base}}}"),
        format!(r#"{{"id":"a\x",{base}}}"#),
        format!(r#"{{"id":"\ude00",{base}}}"#),
        format!(r#"{{"id":"a",{base}}}{{}}"#),
        format!(r#"{{"id":"a",{base},"verification":{{"deposited":tru}}}}"#),
    ];
    for case in &declined {
        agrees_or_declines(case.as_bytes());
    }
}

// The reference: SPEC §2's JSON line as serde serializes it.
#[derive(Serialize)]
struct RefDecision<'a> {
    id: Option<&'a str>,
    source: &'a str,
    decision: &'static str,
    next_step: Option<&'a str>,
    violations: Vec<RefViolation<'a>>,
    policy: RefPolicy<'a>,
}

#[derive(Serialize)]
struct RefPolicy<'a> {
    name: &'a str,
    version: &'a str,
    hash: &'a str,
}

#[derive(Serialize)]
struct RefViolation<'a> {
    rule: &'a str,
    outcome: &'static str,
    fields: &'a [String],
    message: &'a str,
}

#[derive(Serialize)]
struct RefError<'a> {
    id: Option<&'a str>,
    source: &'a str,
    decision: &'static str,
    error: &'a str,
}

fn reference(o: &Outcome) -> String {
    let rs = shipped();
    match &o.result {
        Ok(d) => serde_json::to_string(&RefDecision {
            id: o.id.as_deref(),
            source: &o.source,
            decision: d.decision.as_str(),
            next_step: d.next_step.map(|i| rs.next_steps[i].name.as_str()),
            violations: d
                .violations
                .iter()
                .map(|v| {
                    let rule = &rs.rules[v.rule];
                    RefViolation {
                        rule: &rule.id,
                        outcome: rule.outcome.as_str(),
                        fields: &rule.fields,
                        message: &v.message,
                    }
                })
                .collect(),
            policy: RefPolicy {
                name: &rs.name,
                version: &rs.version,
                hash: &rs.hash,
            },
        }),
        Err(e) => serde_json::to_string(&RefError {
            id: o.id.as_deref(),
            source: &o.source,
            decision: "error",
            error: e,
        }),
    }
    .unwrap()
}

#[test]
fn json_writer_matches_serde() {
    let rs = shipped();
    let writer = JsonWriter::new(rs);
    let corpus = generate(1000, 4, Format::Jsonl);
    let mut outcomes: Vec<Outcome> = input::read_inputs(vec![scratch_file("writer.jsonl", &corpus)])
        .map(|rec| Outcome {
            id: rec.id,
            source: rec.source,
            result: rec
                .value
                .and_then(|v| input::convert(&v, &rs.schema, &rs.tables, as_of()))
                .map(|r| eval::evaluate(rs, &r, opts())),
        })
        .collect();
    let mut odd = outcomes
        .iter()
        .find(|o| o.result.as_ref().is_ok_and(|d| !d.violations.is_empty()))
        .unwrap()
        .clone();
    odd.id = Some("tab\there \"quoted\" \\ \u{1} \u{7f} \u{200b} 王".into());
    odd.source = "dir/\u{8}x.jsonl:1".into();
    if let Ok(d) = &mut odd.result {
        d.violations[0].message = "line\nbreak\r\u{c}".into();
    }
    outcomes.push(odd);
    outcomes.push(Outcome {
        id: None,
        source: "\u{1f}".into(),
        result: Err("bad \"x\"\n".into()),
    });
    for o in &outcomes {
        let mut line = Vec::new();
        writer.write(o, &mut line);
        assert_eq!(String::from_utf8(line).unwrap(), reference(o));
    }
}

mod fast_paths {
    use super::*;
    use kycrules::ir::bank_key;
    use kycrules::text;
    use proptest::prelude::*;

    const NAME: &str = "[ aAzZ\u{e9}\u{c9}\u{301}\u{3000}\t\u{1c5}\u{1c6}\u{130}\u{3a3}\u{3c3}\u{3c2}王·.-]{0,8}";

    fn variant(s: &str, how: u8) -> String {
        match how % 5 {
            0 => s.to_uppercase(),
            1 => format!("  {}\t", s.replace(' ', "  ")),
            2 => kycrules::text::nfc(s).into_owned(),
            3 => s.to_ascii_lowercase(),
            _ => s.to_owned(),
        }
    }

    proptest! {
        #[test]
        fn same_name_is_equality_of_normalized_names(a in NAME, b in NAME, how in 0u8..10) {
            let b = if how < 5 { variant(&a, how) } else { b };
            prop_assert_eq!(text::same_name(&a, &b), text::normalize_name(&a) == text::normalize_name(&b));
        }

        #[test]
        fn same_name_on_ascii(a in "[ aAzZ\t\n\x0b\x0c\r.-]{0,8}", b in "[ aAzZ\t\n\x0b\x0c\r.-]{0,8}", how in 0u8..10) {
            let b = if how < 5 { variant(&a, how) } else { b };
            prop_assert_eq!(text::same_name(&a, &b), text::normalize_name(&a) == text::normalize_name(&b));
        }

        #[test]
        fn json_strings_are_escaped_like_serde(s in "[\\x00-\\x21\"\\\\a\u{7f}\u{e9}\u{2028}王]{0,40}", t in any::<String>()) {
            let writer = JsonWriter::new(shipped());
            for text in [&s, &t] {
                let o = Outcome { id: Some(text.clone()), source: text.clone(), result: Err(text.clone()) };
                let mut line = Vec::new();
                writer.write(&o, &mut line);
                prop_assert_eq!(String::from_utf8(line).unwrap(), reference(&o));
            }
        }

        #[test]
        fn banks_resolve_like_their_lookup_key(pick in 0usize..200, how in 0u8..6, noise in NAME) {
            let banks = &shipped().tables[0];
            let mut keys: Vec<&String> = banks.lookup.keys().collect();
            keys.sort();
            let typed = match keys.get(pick) {
                Some(k) if how < 5 => variant(k, how),
                _ => noise,
            };
            let expected = banks.lookup.get(&bank_key(&typed)).and_then(|ids| {
                ids.iter().copied().find(|&id| banks.list[id as usize].validity.holds(as_of()))
            });
            prop_assert_eq!(banks.resolve(&typed, as_of()), expected);
        }
    }
}
