//! The engine's public API decides exactly as `kycrules check` does: the same
//! JSON line, byte for byte, for every example application.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use kycrules::{DecideOptions, DecisionKind, Policy};
use std::process::Command;

const AS_OF: &str = "2026-11-27";

fn opts() -> DecideOptions {
    DecideOptions {
        lang: Some("en".into()),
        as_of: kycrules::Date::parse(AS_OF),
    }
}

#[test]
fn the_api_prints_what_check_prints() {
    let root = env!("CARGO_MANIFEST_DIR");
    let out = Command::new(env!("CARGO_BIN_EXE_kycrules"))
        .current_dir(root)
        .args(["check", "--format", "json", "--as-of", AS_OF, "examples/applications"])
        .output()
        .unwrap();
    let expected = String::from_utf8(out.stdout).unwrap();
    let policy = Policy::shipped();
    let units = kycrules::input::read_units(vec![std::path::Path::new(root).join("examples/applications")]);
    let mut actual = String::new();
    let units = units.collect::<Vec<_>>();
    assert!(units.len() >= 6, "{}", units.len());
    for unit in units {
        let decided = policy.decide_unit(unit, &opts());
        actual.push_str(&policy.json_line(&decided).replace(&format!("{root}/"), ""));
        actual.push('\n');
    }
    assert_eq!(actual, expected);
}

#[test]
fn json_text_value_and_yaml_decide_alike() {
    let policy = Policy::shipped();
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/applications/04-rejected.yaml"
    ))
    .unwrap();
    let first = text.split("\n---").next().unwrap();
    let value: serde_json::Value = serde_yaml::from_str(first).unwrap();
    let json = serde_json::to_vec(&value).unwrap();
    let a = policy.json_line(&policy.decide_yaml(first, "x", &opts()));
    let b = policy.json_line(&policy.decide_value(&value, "x", &opts()));
    let c = policy.json_line(&policy.decide_json(&json, "x", &opts()));
    assert_eq!(a, b);
    assert_eq!(b, c);
    assert!(a.contains(r#""decision":"reject""#), "{a}");
}

#[test]
fn a_batch_answers_once_per_record_in_order() {
    let policy = Policy::shipped();
    let records: Vec<(String, Vec<u8>)> = (0..500)
        .map(|i| {
            (
                format!("r:{i}"),
                if i % 7 == 0 {
                    b"{not json".to_vec()
                } else {
                    format!(r#"{{"id":"A-{i}"}}"#).into_bytes()
                },
            )
        })
        .collect();
    let decided = policy.decide_batch(records, &opts());
    assert_eq!(decided.len(), 500);
    for (i, d) in decided.iter().enumerate() {
        assert_eq!(d.decision(), DecisionKind::Error);
        if i % 7 == 0 {
            assert_eq!(d.id(), None);
        } else {
            assert_eq!(d.id(), Some(format!("A-{i}").as_str()));
        }
    }
}

#[test]
fn a_broken_policy_reports_its_diagnostics() {
    let err = Policy::from_texts([(
        "bad.rules",
        "policy \"x\" version \"1\" languages en\nrule r reject when nope\n",
    )])
    .err()
    .unwrap();
    assert!(err.diagnostics.iter().any(|d| d.is_error()));
    assert!(err.render().contains("bad.rules:"), "{}", err.render());
    assert!(!err.to_json().is_empty());
}
