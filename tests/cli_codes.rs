//! `kycrules codes`: the diagnostic reference from the command line.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use insta_cmd::{assert_cmd_snapshot, get_cargo_bin};
use std::process::Command;

fn codes() -> Command {
    let mut cmd = Command::new(get_cargo_bin("kycrules"));
    cmd.env("NO_COLOR", "1").arg("codes");
    cmd
}

#[test]
fn one_code_in_any_case() {
    assert_cmd_snapshot!(codes().arg("e0020"));
}

#[test]
fn an_unknown_code_suggests_the_closest() {
    assert_cmd_snapshot!(codes().arg("E0200"));
}

#[test]
fn the_list_has_every_documented_code() {
    let out = codes().output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let listed: Vec<&str> = text.lines().filter_map(|l| l.split_whitespace().next()).collect();
    let documented: Vec<&str> = kycrules::diag::CODES.iter().map(|c| c.code).collect();
    assert_eq!(listed, documented);
}
