//! Documentation kept true by tests: the diagnostic code reference is generated
//! from `diag::CODES`, and the README's tour policy compiles and behaves as shown.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fmt::Write as _;

fn diagnostics_doc() -> String {
    let mut out = String::from(
        "# Diagnostic codes\n\n\
         Every error (`E`) and lint warning (`W`) kycrules reports, with what it means, an\n\
         example that triggers it, and the fix. Generated from `src/diag.rs` by\n\
         `UPDATE_DOCS=1 cargo test --test docs`; do not edit by hand.\n",
    );
    for c in kycrules::diag::CODES {
        let _ = write!(
            out,
            "\n## {} — {}\n\n{}\n\n```\n{}\n```\n\n**Fix:** {}\n",
            c.code, c.title, c.explanation, c.example, c.fix
        );
    }
    out
}

#[test]
fn diagnostics_reference_is_current() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/diagnostics.md");
    let want = diagnostics_doc();
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(path, &want).unwrap();
    }
    let have = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        have == want,
        "docs/diagnostics.md is stale: run `UPDATE_DOCS=1 cargo test --test docs`"
    );
}

#[test]
fn readme_tour_policy_compiles_and_decides_as_shown() {
    let dir = std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/tour"));
    let (sources, errors) = kycrules::policy::read(&[dir]);
    assert!(errors.is_empty());
    let compiled = kycrules::policy::build(&sources);
    assert!(compiled.diagnostics.is_empty(), "{:?}", compiled.diagnostics);
    let rs = compiled.ruleset.unwrap();
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let tour = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/tour/tour.rules")).unwrap();
    assert!(
        readme.contains(tour.trim()),
        "the README shows examples/tour/tour.rules verbatim"
    );
    let apps =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/tour/applications.yaml")).unwrap();
    let opts = kycrules::eval::Options {
        lang: 0,
        as_of: kycrules::date::Date::parse("2026-11-27").unwrap(),
    };
    let mut decisions = Vec::new();
    for doc in apps.split("\n---\n") {
        let value: serde_json::Value = serde_yaml::from_str(doc).unwrap();
        let record = kycrules::input::convert(&value, &rs.schema, &rs.banks, opts.as_of).unwrap();
        decisions.push(kycrules::eval::evaluate(&rs, &record, opts).decision.as_str());
    }
    assert_eq!(decisions, ["accept", "reject"]);
}

#[test]
fn readme_one_line_edit_admits_17x_numbers() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let old = readme.lines().find_map(|l| l.strip_prefix("-pattern ")).unwrap();
    let new = readme.lines().find_map(|l| l.strip_prefix("+pattern ")).unwrap();
    let mut sources = kycrules::policy::embedded();
    let index = sources
        .files
        .iter()
        .position(|f| f.text.contains(old))
        .expect("the README's old line is in rules/");
    let edited = sources.files[index].text.replace(old, new);
    let phone_fires = |sources: &kycrules::source::SourceMap| {
        let rs = kycrules::policy::build(sources).ruleset.unwrap();
        let app =
            serde_json::json!({"id": "P", "applicant": {"name": "Li Na", "phone": "17012345678"}, "documents": []});
        let opts = kycrules::eval::Options {
            lang: 0,
            as_of: kycrules::date::Date::parse("2026-11-27").unwrap(),
        };
        let record = kycrules::input::convert(&app, &rs.schema, &rs.banks, opts.as_of).unwrap();
        let d = kycrules::eval::evaluate(&rs, &record, opts);
        d.violations.iter().any(|v| rs.rules[v.rule].id == "phone-mainland")
    };
    assert!(phone_fires(&sources), "17x is rejected before the edit");
    sources.files[index].text = edited.into();
    assert!(!phone_fires(&sources), "17x is admitted after the edit");
}
