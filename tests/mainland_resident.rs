//! The second shipped policy, `policies/mainland-resident/`: its examples as
//! `check` decides them, its tests, and that it is lint- and format-clean,
//! embedded, and generated for.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use insta_cmd::get_cargo_bin;
use std::process::Command;

const POLICY: &str = "policies/mainland-resident";

fn kycrules() -> Command {
    let mut cmd = Command::new(get_cargo_bin("kycrules"));
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .env_remove("CI");
    cmd
}

/// Snapshots a command with the policy's content hash redacted.
macro_rules! assert_cmd_snapshot {
    ($cmd:expr) => {
        insta::with_settings!({ filters => vec![(r#""hash":"[0-9a-f]{16}""#, r#""hash":"[hash]""#)] }, {
            insta_cmd::assert_cmd_snapshot!($cmd);
        })
    };
}

#[test]
fn check_decides_the_examples() {
    assert_cmd_snapshot!(kycrules().args([
        "check",
        "--policy",
        POLICY,
        "--as-of",
        "2026-06-01",
        "--format",
        "json",
        "policies/mainland-resident/examples"
    ]));
}

#[test]
fn check_decides_the_examples_in_chinese() {
    assert_cmd_snapshot!(kycrules().args([
        "check",
        "--policy",
        POLICY,
        "--as-of",
        "2026-06-01",
        "--format",
        "human",
        "--lang",
        "zh",
        "policies/mainland-resident/examples"
    ]));
}

#[test]
fn the_embedded_policy_decides_as_the_directory_does() {
    let run = |policy: &str| {
        kycrules()
            .args(["check", "--policy", policy, "--as-of", "2026-06-01", "--format", "json"])
            .arg("policies/mainland-resident/examples")
            .output()
            .unwrap()
    };
    let (disk, embedded) = (run(POLICY), run("shipped:mainland-resident"));
    assert_eq!(
        disk.status.code(),
        Some(2),
        "the examples hold an input error on purpose"
    );
    assert_eq!(disk.status.code(), embedded.status.code());
    let text = |b: &[u8]| String::from_utf8(b.to_vec()).unwrap();
    assert_eq!(text(&disk.stdout), text(&embedded.stdout));
}

#[test]
fn an_unknown_shipped_policy_is_named_with_the_known_ones() {
    let out = kycrules()
        .args(["check", "--policy", "shipped:nope", "-"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("no embedded policy `shipped:nope`"), "{err}");
    assert!(err.contains("`shipped:mainland-resident`"), "{err}");
}

#[test]
fn its_tests_pass_with_full_coverage() {
    let out = kycrules()
        .args(["test", "--policy", POLICY, "--coverage", "--min-coverage", "100"])
        .arg("policies/mainland-resident/tests")
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("16 of 16 rules"), "{text}");
}

#[test]
fn it_is_lint_and_format_clean() {
    let lint = kycrules()
        .args(["lint", "--deny-warnings", "--policy", POLICY])
        .output()
        .unwrap();
    assert_eq!(lint.status.code(), Some(0), "{}", String::from_utf8_lossy(&lint.stderr));
    let fmt = kycrules().args(["fmt", "--check", POLICY]).output().unwrap();
    assert_eq!(fmt.status.code(), Some(0), "{}", String::from_utf8_lossy(&fmt.stdout));
}

#[test]
fn generated_records_fit_its_schema() {
    let generated = kycrules().args(["gen", "--policy", POLICY, "300"]).output().unwrap();
    assert_eq!(generated.status.code(), Some(0));
    let lines = String::from_utf8(generated.stdout.clone()).unwrap();
    assert_eq!(lines.lines().count(), 300);
    let mut check = kycrules()
        .args([
            "check",
            "--policy",
            POLICY,
            "--as-of",
            "2026-06-01",
            "--format",
            "json",
            "-",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut stdin = check.stdin.take().unwrap();
        stdin.write_all(&generated.stdout).unwrap();
    }
    let out = check.wait_with_output().unwrap();
    let report = String::from_utf8(out.stdout).unwrap();
    assert_eq!(report.lines().count(), 300);
    assert!(!report.contains("\"decision\":\"error\""), "{report}");
}

/// `diff` compares decisions under the new constructs too: widening the
/// expiry window from 30 to 60 days adds the note to an application whose
/// card expires in 45 days, and changes no decision.
#[test]
fn diff_sees_a_wider_expiry_window() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("mainland-resident-60-days");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(POLICY);
    for entry in std::fs::read_dir(&src).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "rules") {
            let text = std::fs::read_to_string(&path)
                .unwrap()
                .replace("today + 30 days", "today + 60 days");
            std::fs::write(dir.join(path.file_name().unwrap()), text).unwrap();
        }
    }
    let app = dir.join("app.json");
    std::fs::write(
        &app,
        r#"{"id":"D-1","applicant":{"name":"张三","phone":"13800138000"},"id_card":{"number":"110105199003070017","valid_until":"2026-07-16"}}"#,
    )
    .unwrap();
    let out = kycrules()
        .args(["diff", "--as-of", "2026-06-01", "--format", "json", POLICY])
        .arg(&dir)
        .arg(&app)
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("id-expiring-soon"),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("D-1"), "{text}");
}

/// The birth date read from the (sensitive) ID number is masked in an
/// explanation, as in messages; `--show-pii` shows it.
#[test]
fn explain_masks_dates_computed_from_the_id_number() {
    let run = |extra: &[&str]| {
        let out = kycrules()
            .args([
                "explain",
                "--policy",
                POLICY,
                "--as-of",
                "2026-06-01",
                "--id",
                "MR-0007",
            ])
            .args(extra)
            .arg("policies/mainland-resident/examples/applications.yaml")
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap()
    };
    let masked = run(&[]);
    assert!(masked.contains("age = 45"), "{masked}");
    assert!(!masked.contains("1980-06-02"), "{masked}");
    assert!(masked.contains("******6-02"), "{masked}");
    let shown = run(&["--show-pii"]);
    assert!(shown.contains("birth = 1980-06-02"), "{shown}");
}
