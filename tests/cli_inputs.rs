//! What `check` tells about its inputs: skipped files, duplicate ids, files of
//! an unknown kind, JSON arrays.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use insta_cmd::get_cargo_bin;
use std::path::{Path, PathBuf};
use std::process::Command;

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("cli-inputs").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn check(args: &[&str], paths: &[&Path]) -> (i32, String, String) {
    let out = Command::new(get_cargo_bin("kycrules"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .env_remove("CI")
        .args(["check", "--as-of", "2026-11-27"])
        .args(args)
        .args(paths)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

const APP: &str =
    "{\"id\": \"A\", \"applicant\": {\"name\": \"Li Na\", \"phone\": \"13812345678\"}, \"documents\": []}";

#[test]
fn duplicate_ids_are_warned_and_counted_but_every_record_is_decided() {
    let dir = scratch("dups");
    let b = APP.replace("\"A\"", "\"B\"");
    std::fs::write(dir.join("a.jsonl"), format!("{APP}\n{b}\n{APP}\n{APP}\n")).unwrap();
    let file = dir.join("a.jsonl");
    let (_, json, err) = check(&["--format", "json"], &[&file]);
    assert_eq!(json.lines().count(), 4, "every record keeps its line");
    assert_eq!(
        err.lines().filter(|l| l.contains("duplicate id `A`")).count(),
        2,
        "{err}"
    );
    assert!(
        err.contains(":3: duplicate id `A`") && err.contains(":4: duplicate id `A`"),
        "{err}"
    );
    assert!(err.contains("warning: 2 duplicate ids in this run"), "{err}");
    let (_, human, _) = check(&["--format", "human"], &[&file]);
    assert!(human.trim_end().ends_with(", 2 duplicate ids"), "{human}");
    // The JSON lines are those of a run without duplicates.
    std::fs::write(dir.join("one.jsonl"), format!("{APP}\n")).unwrap();
    let (_, single, err1) = check(&["--format", "json"], &[&dir.join("one.jsonl")]);
    assert!(!err1.contains("duplicate"), "{err1}");
    assert_eq!(
        json.lines().next().unwrap().replace("a.jsonl", "one.jsonl"),
        single.trim_end()
    );
}

#[test]
fn skipped_files_of_a_directory_are_counted() {
    let dir = scratch("skipped");
    std::fs::write(dir.join("a.json"), APP).unwrap();
    std::fs::write(dir.join("notes.txt"), "not an application").unwrap();
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    std::fs::write(dir.join("sub/README.md"), "# notes").unwrap();
    std::fs::write(dir.join(".hidden.txt"), "hidden").unwrap();
    let (code, out, err) = check(&["--format", "json"], &[&dir]);
    assert_eq!(code, 1, "the one application is rejected: {out}{err}");
    assert_eq!(out.lines().count(), 1);
    assert!(
        err.contains("skipped 2 files not ending in .yaml, .yml, .json or .jsonl"),
        "{err}"
    );
    // nothing skipped, nothing said
    let (_, _, err) = check(&["--format", "json"], &[&dir.join("a.json")]);
    assert!(!err.contains("skipped"), "{err}");
}

#[test]
fn a_named_file_of_unknown_kind_is_an_error_and_a_json_array_is_many_records() {
    let dir = scratch("kinds");
    std::fs::write(dir.join("batch.txt"), format!("{APP}\n")).unwrap();
    let b = APP.replace("\"A\"", "\"B\"");
    std::fs::write(dir.join("many.json"), format!("[\n{APP},\n{b}\n]\n")).unwrap();
    let (code, out, _) = check(&["--format", "json"], &[&dir.join("batch.txt"), &dir.join("many.json")]);
    assert_eq!(code, 2);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert!(
        lines[0].contains("\"decision\":\"error\"") && lines[0].contains("supported formats are .yaml"),
        "{}",
        lines[0]
    );
    assert!(
        lines[1].contains("\"id\":\"A\"") && lines[1].contains("many.json:2"),
        "{}",
        lines[1]
    );
    assert!(
        lines[2].contains("\"id\":\"B\"") && lines[2].contains("many.json:3"),
        "{}",
        lines[2]
    );
}
