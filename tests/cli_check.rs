//! `kycrules check` as a user runs it: exit code, stdout and stderr together.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use insta_cmd::get_cargo_bin;
use std::process::Command;

/// Snapshots a command with the policy's content hash redacted: it changes
/// with every edit of `rules/`.
macro_rules! assert_cmd_snapshot {
    ($cmd:expr) => {
        insta::with_settings!({ filters => vec![(r#""hash":"[0-9a-f]{16}""#, r#""hash":"[hash]""#)] }, {
            insta_cmd::assert_cmd_snapshot!($cmd);
        })
    };
}

fn kycrules() -> Command {
    let mut cmd = Command::new(get_cargo_bin("kycrules"));
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .env_remove("CI");
    cmd
}

fn check() -> Command {
    let mut cmd = kycrules();
    cmd.args(["check", "--as-of", "2026-11-27"]);
    cmd
}

#[test]
fn json_report_on_the_examples() {
    assert_cmd_snapshot!(check().args(["--format", "json", "examples/applications"]));
}

#[test]
fn human_report_on_the_examples() {
    assert_cmd_snapshot!(check().args(["--format", "human", "examples/applications"]));
}

#[test]
fn human_report_in_chinese() {
    assert_cmd_snapshot!(check().args([
        "--format",
        "human",
        "--lang",
        "zh",
        "examples/applications/04-rejected.yaml"
    ]));
}

#[test]
fn unknown_language_falls_back_with_a_warning() {
    assert_cmd_snapshot!(check().args([
        "--format",
        "json",
        "--lang",
        "fr",
        "examples/applications/03-limited.yaml"
    ]));
}

#[test]
fn all_accepted_exits_zero() {
    assert_cmd_snapshot!(check().args(["--format", "human", "examples/applications/01-accepted.yaml"]));
}

#[test]
fn a_reject_exits_one() {
    assert_cmd_snapshot!(check().args(["--format", "json", "examples/applications/04-rejected.yaml"]));
}

#[test]
fn stdin_json_lines() {
    let input = concat!(
        r#"{"id":"S-1","applicant":{"name":"Li Na","phone":"13912345678"},"documents":[{"kind":"permanent_residence_permit"}],"bank_card":{"bank":"工行","card_type":"savings","holder_name":"LI NA"}}"#,
        "\n\n",
        r#"{"id":"S-2","applicant":{"name":"Li Na","phone":"13912345678"},"documents":[],"extra":1}"#,
        "\n"
    );
    assert_cmd_snapshot!(check().args(["--format", "json", "-"]).pass_stdin(input));
}

#[test]
fn stdin_yaml_documents_with_a_broken_one() {
    let input = "id: Y-1\napplicant: {name: Li Na, phone: \"13912345678\"}\ndocuments: []\n---\nid: Y-2\napplicant: [unclosed\n---\nid: Y-3\napplicant: {name: Li Na, phone: \"+8613912345678\"}\ndocuments: [{kind: permanent_residence_permit}]\n";
    assert_cmd_snapshot!(check().args(["--format", "json"]).pass_stdin(input));
}

#[test]
fn missing_input_file_is_an_error_record() {
    assert_cmd_snapshot!(check().args([
        "--format",
        "json",
        "no/such/file.yaml",
        "examples/applications/03-limited.yaml"
    ]));
}

#[test]
fn policy_with_errors_exits_two() {
    assert_cmd_snapshot!(check().args([
        "--policy",
        "tests/fixtures/compile/five-errors.rules",
        "examples/applications"
    ]));
}

#[test]
fn policy_errors_as_json() {
    assert_cmd_snapshot!(check().args([
        "--policy",
        "tests/fixtures/compile/five-errors.rules",
        "--error-format",
        "json",
        "examples/applications"
    ]));
}

#[test]
fn missing_policy_path() {
    assert_cmd_snapshot!(check().args(["--policy", "no/such/policy", "examples/applications"]));
}

#[test]
fn explicit_policy_directory_matches_the_embedded_one() {
    let embedded = check()
        .args(["--format", "json", "examples/applications"])
        .output()
        .unwrap();
    let from_disk = check()
        .args(["--format", "json", "--policy", "rules", "examples/applications"])
        .output()
        .unwrap();
    assert_eq!(embedded.stdout, from_disk.stdout);
    assert_eq!(embedded.status.code(), from_disk.status.code());
}

#[test]
fn one_output_line_per_record_in_input_order() {
    let out = check()
        .args(["--format", "json", "examples/applications"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let sources: Vec<String> = text
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["source"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    // 3 + 1 + 1 + 4 + 6 YAML documents, 5 non-blank JSON lines.
    assert_eq!(sources.len(), 20, "{text}");
    let mut sorted = sources.clone();
    sorted.sort_by_key(|s| {
        let (file, line) = s.rsplit_once(':').unwrap();
        (file.to_string(), line.parse::<u32>().unwrap())
    });
    assert_eq!(sources, sorted);
}

#[test]
fn output_is_deterministic() {
    let a = check()
        .args(["--format", "json", "examples/applications"])
        .output()
        .unwrap();
    let b = check()
        .args(["--format", "json", "--jobs", "1", "examples/applications"])
        .output()
        .unwrap();
    assert_eq!(a.stdout, b.stdout);
}

#[test]
fn help() {
    assert_cmd_snapshot!(kycrules().args(["check", "--help"]));
}

#[test]
fn bad_flag_exits_two() {
    assert_cmd_snapshot!(kycrules().args(["check", "--format", "xml"]));
}
