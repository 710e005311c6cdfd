//! `kycrules prove`: proofs, confirmed counterexamples and honest unknowns.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use insta_cmd::get_cargo_bin;
use kycrules::prove::{self, Claim, Verdict};
use kycrules::{Date, DecideOptions, DecisionKind, Policy};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn as_of() -> Date {
    Date::parse("2026-12-07").unwrap()
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn load(dir: &str) -> Policy {
    Policy::load(&[root().join(dir)]).unwrap()
}

/// The `.rules` files of a directory, as (name, text), in name order.
fn texts(dir: &str) -> Vec<(String, String)> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "rules"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&p).unwrap())
        })
        .collect()
}

fn policy_of(files: Vec<(String, String)>) -> Policy {
    Policy::from_texts(files).unwrap_or_else(|e| panic!("{}", e.render()))
}

fn decide(p: &Policy, app: &serde_json::Value) -> DecisionKind {
    let opts = DecideOptions {
        lang: None,
        as_of: Some(as_of()),
    };
    p.decide_value(app, "test", &opts).decision()
}

/// Every counterexample is confirmed by deciding it under both policies.
fn assert_confirmed(old: &Policy, new: &Policy, claim: Claim, v: &Verdict) {
    if let Verdict::Refuted {
        counterexample,
        old: a,
        new: b,
        ..
    } = v
    {
        assert_eq!(decide(old, counterexample), *a);
        assert_eq!(decide(new, counterexample), *b);
        assert!(claim.broken_by(*a, *b), "{a:?} -> {b:?} does not break {claim:?}");
    }
}

#[test]
fn a_policy_is_equivalent_to_itself_and_to_its_formatted_form() {
    let shipped = load("rules");
    let r = prove::prove(&shipped, &shipped, Claim::Equivalent, as_of());
    assert!(matches!(r.verdict, Verdict::Proven), "{r:?}");
    assert!(r.changed.is_empty());
    let formatted: Vec<(String, String)> = texts("rules")
        .into_iter()
        .enumerate()
        .map(|(i, (name, text))| {
            let out = kycrules::fmt::format(i as u32, &text).unwrap_or_else(|_| text.clone());
            (name, out)
        })
        .collect();
    let formatted = policy_of(formatted);
    let r = prove::prove(&shipped, &formatted, Claim::Equivalent, as_of());
    assert!(matches!(r.verdict, Verdict::Proven), "{r:?}");
}

#[test]
fn admitting_16x_17x_19x_numbers_is_refuted_with_a_confirmed_counterexample() {
    let (old, new) = (load("rules"), load("examples/policy-change/rules"));
    let r = prove::prove(&old, &new, Claim::Tightens, as_of());
    assert_eq!(r.changed, ["phone-mainland"]);
    let Verdict::Refuted { counterexample, .. } = &r.verdict else {
        panic!("expected a counterexample: {r:?}")
    };
    assert_confirmed(&old, &new, Claim::Tightens, &r.verdict);
    let phone = counterexample["applicant"]["phone"].as_str().unwrap();
    let digits: String = phone
        .trim_start_matches("+86")
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    assert!(
        ["16", "17", "19"].iter().any(|p| digits.starts_with(p)),
        "a newly admitted prefix: {phone}"
    );
}

#[test]
fn narrowing_the_prefixes_again_is_a_proven_tightening() {
    let (old, new) = (load("examples/policy-change/rules"), load("rules"));
    let r = prove::prove(&old, &new, Claim::Tightens, as_of());
    assert!(matches!(r.verdict, Verdict::Proven), "{r:?}");
    assert_eq!(r.changed, ["phone-mainland"]);
    // But not an equivalence.
    let r = prove::prove(&old, &new, Claim::Equivalent, as_of());
    assert_confirmed(&old, &new, Claim::Equivalent, &r.verdict);
    assert!(matches!(r.verdict, Verdict::Refuted { .. }), "{r:?}");
}

const EXTRA_RULE: &str = r#"
message extra_holder {
  en "The card holder's name is too long."
  zh "持卡人姓名过长。"
}
rule extra-holder-length reject {
  on bank_card.holder_name
  when length(bank_card.holder_name) > 40
  message extra_holder
}
"#;

const EXTRA_NATIONALITY: &str = r#"
message extra_nationality {
  en "Applications from this nationality are not taken."
  zh "暂不受理该国籍的申请。"
}
rule extra-nationality reject {
  on applicant.nationality
  when applicant.nationality == "XX"
  message extra_nationality
}
"#;

#[test]
fn adding_a_reject_rule_proves_a_tightening_and_removing_it_is_refuted() {
    let shipped = texts("rules");
    let mut more = shipped.clone();
    more.push(("99-extra.rules".to_owned(), EXTRA_NATIONALITY.to_owned()));
    let (old, new) = (policy_of(shipped), policy_of(more));
    let r = prove::prove(&old, &new, Claim::Tightens, as_of());
    assert!(matches!(r.verdict, Verdict::Proven), "{r:?}");
    assert_eq!(r.changed, ["extra-nationality"]);
    let r = prove::prove(&new, &old, Claim::Tightens, as_of());
    assert!(matches!(r.verdict, Verdict::Refuted { .. }), "{r:?}");
    assert_confirmed(&new, &old, Claim::Tightens, &r.verdict);
}

#[test]
fn a_removal_whose_counterexample_is_hard_to_build_is_never_proven() {
    // Removing a limit on the card holder's name: a counterexample needs a
    // long holder name equal to the applicant's, a name the other rules
    // accept and a bank that may take long names; the proof must not claim
    // anything it could not show.
    let shipped = texts("rules");
    let mut more = shipped.clone();
    more.push(("99-extra.rules".to_owned(), EXTRA_RULE.to_owned()));
    let (old, new) = (policy_of(shipped), policy_of(more));
    let r = prove::prove(&old, &new, Claim::Tightens, as_of());
    assert!(matches!(r.verdict, Verdict::Proven), "{r:?}");
    let r = prove::prove(&new, &old, Claim::Tightens, as_of());
    assert!(!matches!(r.verdict, Verdict::Proven), "{r:?}");
    assert_confirmed(&new, &old, Claim::Tightens, &r.verdict);
}

/// A small policy: `{rules}` are the rule bodies.
fn small(rules: &str) -> Policy {
    let text = format!(
        "policy \"p\" version \"1\" languages en\n\
         schema {{\n  id: text\n  amount: decimal?\n  country: (cn | us | fr)?\n  name: text?\n  day: date?\n}}\n\
         message m {{ en \"no.\" }}\n{rules}"
    );
    policy_of(vec![("p.rules".to_owned(), text)])
}

fn rule(id: &str, outcome: &str, when: &str) -> String {
    format!("rule {id} {outcome} {{\n  when {when}\n  message m\n}}\n")
}

#[test]
fn a_change_through_an_uninterpreted_builtin_is_never_proven() {
    // `normalize_name` is outside the theories: the proof cannot see that
    // the two conditions differ on names like "a  b".
    let old = small(&rule("r", "reject", r#"normalize_name(name) == "a b""#));
    let new = small(&rule("r", "reject", r#"name == "a b""#));
    let r = prove::prove(&old, &new, Claim::Tightens, as_of());
    match &r.verdict {
        Verdict::Proven => panic!("a false proof: {r:?}"),
        Verdict::Refuted { .. } => assert_confirmed(&old, &new, Claim::Tightens, &r.verdict),
        Verdict::Unknown { reasons } => {
            assert!(reasons.iter().any(|s| s.contains("normalize_name")), "{reasons:?}")
        }
    }
}

#[test]
fn numbers_enums_and_texts_are_reasoned_about() {
    let cases = [
        // (old, new, tightens?)
        ("amount > 100", "amount > 50", true),
        ("amount > 50", "amount > 100", false),
        ("amount >= 100 and amount <= 100", "amount == 100", true),
        ("country == cn", "country != us and country != fr", true),
        ("country in [cn, us]", "country == cn", false),
        (r#"starts_with(name, "ab")"#, r#"matches(name, r"^a")"#, true),
        (r#"matches(name, r"^a")"#, r#"starts_with(name, "ab")"#, false),
        ("day < 2020-01-01", "day <= 2020-01-01", true),
        ("length(name) > 3", "length(name) > 2", true),
    ];
    for (a, b, tightens) in cases {
        let old = small(&rule("r", "reject", a));
        let new = small(&rule("r", "reject", b));
        let r = prove::prove(&old, &new, Claim::Tightens, as_of());
        assert_confirmed(&old, &new, Claim::Tightens, &r.verdict);
        if tightens {
            assert!(matches!(r.verdict, Verdict::Proven), "{a} => {b}: {r:?}");
        } else {
            assert!(matches!(r.verdict, Verdict::Refuted { .. }), "{a} => {b}: {r:?}");
        }
    }
}

fn cli(args: &[&str], stdin: Option<&str>) -> (i32, String) {
    let mut cmd = Command::new(get_cargo_bin("kycrules"));
    cmd.args(args).current_dir(root()).env("NO_COLOR", "1");
    cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    {
        let mut input = child.stdin.take().unwrap();
        input.write_all(stdin.unwrap_or("").as_bytes()).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8(out.stdout).unwrap())
}

#[test]
fn the_cli_prints_a_counterexample_that_check_confirms() {
    let (code, out) = cli(
        &[
            "prove",
            "rules",
            "examples/policy-change/rules",
            "--as-of",
            "2026-12-07",
            "--format",
            "json",
        ],
        None,
    );
    assert_eq!(code, 1, "{out}");
    let first = out.lines().next().unwrap();
    assert!(
        first.starts_with(r#"{"status":"refuted","counterexample":{"#),
        "{first}"
    );
    let v: serde_json::Value = serde_json::from_str(first).unwrap();
    let app = v["counterexample"].to_string();
    for (policy, decision) in [
        ("rules", &v["old"]["decision"]),
        ("examples/policy-change/rules", &v["new"]["decision"]),
    ] {
        let (_, line) = cli(
            &[
                "check",
                "--policy",
                policy,
                "--as-of",
                "2026-12-07",
                "--format",
                "json",
                "-",
            ],
            Some(&app),
        );
        let checked: serde_json::Value = serde_json::from_str(line.lines().next().unwrap()).unwrap();
        assert_eq!(&checked["decision"], decision, "{policy}: {line}");
    }
    assert_ne!(v["old"]["decision"], v["new"]["decision"]);

    let (code, out) = cli(
        &[
            "prove",
            "examples/policy-change/rules",
            "rules",
            "--as-of",
            "2026-12-07",
        ],
        None,
    );
    assert_eq!(code, 0, "{out}");
    assert!(out.starts_with("proven: "), "{out}");
    assert!(out.contains("changed rules covered: phone-mainland"), "{out}");

    let (code, _) = cli(&["prove", "no-such-dir", "rules"], None);
    assert_eq!(code, 2);
}

#[test]
fn an_undecidable_claim_exits_3_and_names_what_was_not_decided() {
    let dir = std::env::temp_dir().join(format!("kycrules-prove-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let write = |name: &str, body: &str| {
        let text = format!(
            "policy \"p\" version \"1\" languages en\nschema {{\n  id: text\n  name: text\n}}\nmessage m {{ en \"no.\" }}\n{}",
            rule("r", "reject", body)
        );
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    // Equal for every name (both always false), which no theory here sees.
    let a = write("a.rules", r#"luhn(name) and not luhn(name)"#);
    let b = write("b.rules", r#"mod11_2(name) and not mod11_2(name)"#);
    let (code, out) = cli(
        &[
            "prove",
            a.to_str().unwrap(),
            b.to_str().unwrap(),
            "--claim",
            "equivalent",
            "--format",
            "json",
        ],
        None,
    );
    // Kleene logic: `x and not x` is false or unknown, never true: proven.
    assert_eq!(code, 0, "{out}");
    let c = write("c.rules", r#"luhn(name)"#);
    let d = write("d.rules", r#"mod11_2(name)"#);
    let (code, out) = cli(
        &["prove", c.to_str().unwrap(), d.to_str().unwrap(), "--format", "json"],
        None,
    );
    let v: serde_json::Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
    match code {
        1 => assert_eq!(v["status"], "refuted"),
        3 => {
            assert_eq!(v["status"], "unknown");
            assert!(v["undecided"].to_string().contains("luhn"), "{out}");
        }
        other => panic!("exit {other}: {out}"),
    }
    let _ = std::fs::remove_dir_all(&dir);
    let _ = Path::new("");
}

// ----- the differential property -----

fn atom() -> impl Strategy<Value = String> {
    prop_oneof![
        (0i64..6).prop_map(|n| format!("amount > {}", n * 10)),
        (0i64..6).prop_map(|n| format!("amount <= {}", n * 10)),
        (0i64..6).prop_map(|n| format!("amount == {}", n * 10)),
        prop::sample::select(vec!["cn", "us", "fr"]).prop_map(|c| format!("country == {c}")),
        prop::sample::select(vec!["cn", "us", "fr"]).prop_map(|c| format!("country != {c}")),
        prop::sample::select(vec!["a", "ab", "b"]).prop_map(|p| format!(r#"starts_with(name, "{p}")"#)),
        prop::sample::select(vec!["^[ab]+$", "b", "^a.$"]).prop_map(|p| format!(r#"matches(name, r"{p}")"#)),
        (0i64..4).prop_map(|n| format!("length(name) < {n}")),
        Just("present(amount)".to_owned()),
        Just(r#"trim(name) == "a""#.to_owned()),
        Just("luhn(name)".to_owned()),
        (1i64..4).prop_map(|d| format!("day < 2020-01-0{d}")),
    ]
}

fn condition() -> impl Strategy<Value = String> {
    atom().prop_recursive(2, 6, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a} and {b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a} or {b})")),
            inner.prop_map(|a| format!("not ({a})")),
        ]
    })
}

fn outcome() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec!["note", "review", "limited", "reject"])
}

#[derive(Debug, Clone)]
enum Edit {
    Replace(usize, String),
    Outcome(usize, &'static str),
    Add(String, &'static str),
    Remove(usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (0usize..3, condition()).prop_map(|(i, c)| Edit::Replace(i, c)),
        (0usize..3, outcome()).prop_map(|(i, o)| Edit::Outcome(i, o)),
        (condition(), outcome()).prop_map(|(c, o)| Edit::Add(c, o)),
        (0usize..3).prop_map(Edit::Remove),
    ]
}

fn render(rules: &[(String, &'static str)]) -> String {
    rules
        .iter()
        .enumerate()
        .map(|(i, (c, o))| rule(&format!("r{i}"), o, c))
        .collect()
}

fn application() -> impl Strategy<Value = serde_json::Value> {
    let amount = prop::option::of((0i64..7).prop_map(|n| n * 10 - 5 + (n % 2) * 5));
    let country = prop::option::of(prop::sample::select(vec!["cn", "us", "fr"]));
    let name = prop::option::of(prop::sample::select(vec![
        "",
        "a",
        "ab",
        "b",
        "ba",
        "abab",
        " a ",
        "ax",
        "79927398713",
        "a\u{301}",
    ]));
    let day = prop::option::of(prop::sample::select(vec![
        "2019-12-31",
        "2020-01-01",
        "2020-01-02",
        "2020-01-03",
    ]));
    (amount, country, name, day).prop_map(|(amount, country, name, day)| {
        let mut m = serde_json::Map::new();
        m.insert("id".into(), "g".into());
        if let Some(a) = amount {
            m.insert("amount".into(), a.into());
        }
        if let Some(c) = country {
            m.insert("country".into(), c.into());
        }
        if let Some(n) = name {
            m.insert("name".into(), n.into());
        }
        if let Some(d) = day {
            m.insert("day".into(), d.into());
        }
        serde_json::Value::Object(m)
    })
}

/// Applications checked against each `proven` claim: 10,000 at
/// `PROPTEST_CASES=1000` or more, proportionally fewer in the default run.
fn samples() -> usize {
    let cases: usize = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(32);
    (cases * 10).clamp(300, 10_000)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(32)
    ))]

    #[test]
    fn proofs_hold_and_counterexamples_are_confirmed(
        base in prop::collection::vec((condition(), outcome()), 1..4),
        edit in edit(),
        claim in prop::sample::select(vec![Claim::Tightens, Claim::Equivalent]),
        seed in any::<u64>(),
    ) {
        let mut edited = base.clone();
        match edit {
            Edit::Replace(i, c) => if let Some(r) = edited.get_mut(i % base.len()) { r.0 = c },
            Edit::Outcome(i, o) => if let Some(r) = edited.get_mut(i % base.len()) { r.1 = o },
            Edit::Add(c, o) => edited.push((c, o)),
            Edit::Remove(i) => { edited.remove(i % base.len()); }
        }
        let old = small(&render(&base));
        let new = small(&render(&edited));
        let r = prove::prove(&old, &new, claim, as_of());
        assert_confirmed(&old, &new, claim, &r.verdict);
        if matches!(r.verdict, Verdict::Proven) {
            let mut runner = proptest::test_runner::TestRunner::new_with_rng(
                proptest::test_runner::Config::default(),
                proptest::test_runner::TestRng::from_seed(
                    proptest::test_runner::RngAlgorithm::ChaCha,
                    &{ let mut s = [0u8; 32]; s[..8].copy_from_slice(&seed.to_le_bytes()); s },
                ),
            );
            let gen_app = application();
            for _ in 0..samples() {
                let app = gen_app.new_tree(&mut runner).unwrap().current();
                let (a, b) = (decide(&old, &app), decide(&new, &app));
                prop_assert!(!claim.broken_by(a, b), "proven, yet {app} is {a:?} then {b:?}\nold:\n{}\nnew:\n{}", render(&base), render(&edited));
            }
        }
    }
}

#[test]
fn a_field_whose_default_changed_is_not_taken_for_the_same_field() {
    let with = |decl: &str| {
        let text = format!(
            "policy \"p\" version \"1\" languages en\nschema {{\n  id: text\n  amount: {decl}\n}}\nmessage m {{ en \"no.\" }}\n{}",
            rule("r", "reject", "amount > 10")
        );
        policy_of(vec![("p.rules".to_owned(), text)])
    };
    let (absent, fifty) = (with("decimal?"), with("decimal = 50"));
    // Without the amount, the old schema leaves it unknown and the new one
    // reads 50: rejected under the new one only.
    let r = prove::prove(&fifty, &absent, Claim::Tightens, as_of());
    assert!(matches!(r.verdict, Verdict::Refuted { .. }), "{r:?}");
    assert_confirmed(&fifty, &absent, Claim::Tightens, &r.verdict);
    let r = prove::prove(&absent, &fifty, Claim::Equivalent, as_of());
    assert!(!matches!(r.verdict, Verdict::Proven), "{r:?}");
    assert_confirmed(&absent, &fifty, Claim::Equivalent, &r.verdict);
}
