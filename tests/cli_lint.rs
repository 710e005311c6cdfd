//! `kycrules lint` on the command line: exit code, stdout and stderr together.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use insta_cmd::{assert_cmd_snapshot, get_cargo_bin};
use std::process::Command;

fn lint(args: &[&str]) -> Command {
    let mut cmd = Command::new(get_cargo_bin("kycrules"));
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .arg("lint")
        .args(args);
    cmd
}

const FIXTURE: &str = "tests/fixtures/lint/W0008-unshown-with.rules";

#[test]
fn warnings_exit_zero() {
    assert_cmd_snapshot!(lint(&[FIXTURE]));
}

#[test]
fn deny_warnings_exits_one() {
    assert_cmd_snapshot!(lint(&["--deny-warnings", FIXTURE]));
}

#[test]
fn policy_flag_is_the_same_as_a_path() {
    let positional = lint(&[FIXTURE]).output().unwrap();
    let flag = lint(&["--policy", FIXTURE]).output().unwrap();
    assert_eq!(positional, flag);
}

#[test]
fn json_warnings() {
    assert_cmd_snapshot!(lint(&["--error-format", "json", "--deny-warnings", FIXTURE]));
}

#[test]
fn shipped_policy_is_clean() {
    assert_cmd_snapshot!(lint(&["--deny-warnings"]));
}

#[test]
fn rules_directory_is_clean() {
    assert_cmd_snapshot!(lint(&["--deny-warnings", "rules"]));
}

#[test]
fn a_policy_with_errors_exits_two() {
    assert_cmd_snapshot!(lint(&["tests/fixtures/compile/err/E0023-unknown-message.rules"]));
}

#[test]
fn a_missing_policy_exits_two() {
    assert_cmd_snapshot!(lint(&["no/such/policy.rules"]));
}
