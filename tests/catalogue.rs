//! Every rule of the shipped policy's catalogue: an application that fires it
//! and a near miss that does not, each a change to one base application.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use serde_json::Value;

#[test]
fn base_application_is_accepted() {
    let rs = shipped();
    let base = yaml(include_str!("fixtures/catalogue/_base.yaml"));
    let (o, line) = evaluate_json(rs, &base, "en");
    assert!(fired(rs, &o).is_empty(), "{line}");
    insta::assert_snapshot!(line);
}

#[test]
fn every_rule_fires_and_has_a_near_miss() {
    let rs = shipped();
    let base = yaml(include_str!("fixtures/catalogue/_base.yaml"));
    insta::glob!("fixtures/catalogue/[a-z]*.yaml", |path| {
        let rule = path.file_stem().unwrap().to_str().unwrap();
        let case: Value = yaml(&std::fs::read_to_string(path).unwrap());
        let mut out = String::new();
        for (kind, should_fire) in [("fires", true), ("near_miss", false)] {
            let mut app = base.clone();
            kycrules::patch::merge(&mut app, &case[kind]);
            for lang in ["en", "zh"] {
                let (o, line) = evaluate_json(rs, &app, lang);
                assert!(o.result.is_ok(), "{rule} {kind}: {line}");
                let ids = fired(rs, &o);
                assert_eq!(
                    ids.contains(&rule.to_string()),
                    should_fire,
                    "{rule} {kind} ({lang}): {line}"
                );
                out.push_str(&format!("{kind} {lang}: {line}\n"));
            }
        }
        insta::assert_snapshot!(out);
    });
}

#[test]
fn every_catalogue_rule_has_a_fixture() {
    let rs = shipped();
    for rule in &rs.rules {
        if rule.outcome == kycrules::ir::Outcome::Note {
            continue;
        }
        let path = format!(
            "{}/tests/fixtures/catalogue/{}.yaml",
            env!("CARGO_MANIFEST_DIR"),
            rule.id
        );
        assert!(
            std::path::Path::new(&path).exists(),
            "no fixture for rule `{}`",
            rule.id
        );
    }
}
