//! The formatter: idempotent, meaning-preserving, comment-preserving; and `kycrules fmt`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use insta_cmd::{assert_cmd_snapshot, get_cargo_bin};
use kycrules::fmt::{self, FormatError};
use std::path::{Path, PathBuf};
use std::process::Command;

const MESSY: &str = include_str!("fixtures/fmt/messy.rules");

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every `.rules` file of the repository that parses: the shipped policy and the test fixtures.
fn policy_files() -> Vec<(PathBuf, String)> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rules") {
                out.push(path);
            }
        }
    }
    let mut paths = Vec::new();
    walk(&root().join("rules"), &mut paths);
    walk(&root().join("tests/fixtures"), &mut paths);
    paths.sort();
    let files: Vec<(PathBuf, String)> = paths
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            (p, text)
        })
        .filter(|(_, text)| kycrules::syntax::parse(0, text).is_ok())
        .collect();
    assert!(files.len() >= 25, "only {} policy files found", files.len());
    files
}

fn format(text: &str) -> String {
    match fmt::format(0, text) {
        Ok(t) => t,
        Err(e) => panic!("not formatted: {e:?}\n{text}"),
    }
}

fn comment_texts(text: &str) -> Vec<String> {
    let mut v: Vec<String> = fmt::comments(text).into_iter().map(|c| c.text).collect();
    v.sort();
    v
}

#[test]
fn formatting_is_idempotent_on_every_policy_file() {
    for (path, text) in policy_files() {
        let once = format(&text);
        let twice = format(&once);
        assert_eq!(once, twice, "{} is not stable under formatting", path.display());
    }
}

/// The tree as parsed, with `bank attribute` lines standing together as the
/// `table bank` block the formatter writes for them (`fmt::migrate`).
#[test]
fn formatting_keeps_the_syntax_tree() {
    for (path, text) in policy_files() {
        let before = kycrules::fmt::migrate(kycrules::syntax::parse(0, &text).unwrap());
        let after = kycrules::syntax::parse(0, &format(&text)).unwrap();
        assert_eq!(before, after, "{}", path.display());
    }
}

#[test]
fn formatting_keeps_every_comment() {
    for (path, text) in policy_files() {
        assert_eq!(
            comment_texts(&text),
            comment_texts(&format(&text)),
            "{}",
            path.display()
        );
    }
    let out = format(MESSY);
    assert_eq!(fmt::comments(MESSY).len(), 14);
    assert_eq!(comment_texts(MESSY), comment_texts(&out));
    // A `#` inside a text or a raw text is not a comment.
    assert!(
        comment_texts(MESSY)
            .iter()
            .all(|c| !c.contains("#1") && !c.contains("#$"))
    );
}

#[test]
fn the_shipped_policy_is_formatted() {
    for (name, text) in kycrules::policy::EMBEDDED {
        assert_eq!(&format(text), text, "{name} is not formatted; run `kycrules fmt rules`");
    }
}

#[test]
fn a_messy_policy() {
    insta::assert_snapshot!(format(MESSY));
}

/// A comment at the end of any line, or on a line of its own before any line,
/// is kept, and the result is stable.
#[test]
fn a_comment_anywhere_is_kept() {
    let files = [MESSY.to_string(), kycrules::policy::EMBEDDED[2].1.to_string()];
    for text in files {
        let lines: Vec<&str> = text.lines().collect();
        for k in 0..lines.len() {
            for own_line in [false, true] {
                let mut probe = lines.clone();
                let edited;
                if own_line {
                    probe.insert(k, "# probe");
                } else {
                    // A line that ends inside a comment already would swallow the probe.
                    if fmt::comments(lines[k]).iter().any(|_| true) {
                        continue;
                    }
                    edited = format!("{}  # probe", lines[k]);
                    probe[k] = &edited;
                }
                let input = probe.join("\n");
                if kycrules::syntax::parse(0, &input).is_err() {
                    continue;
                }
                let once = format(&input);
                assert_eq!(comment_texts(&input), comment_texts(&once), "line {k}:\n{input}");
                assert_eq!(once, format(&once), "line {k} (own line: {own_line}):\n{input}");
            }
        }
    }
}

#[test]
fn texts_keep_their_kind_and_lose_needless_escapes() {
    let src = "pattern p = r\"\\d+\"\nlet a = \"\\u{4E2D}\\u{200B}\\t\\\\\" == \"x\"\n";
    assert_eq!(
        format(src),
        "pattern p = r\"\\d+\"\n\nlet a = \"中\\u{200B}\\t\\\\\" == \"x\"\n"
    );
}

#[test]
fn parentheses_follow_precedence() {
    let cases = [
        ("let a = ((x))", "let a = x"),
        ("let a = (x or y) and z", "let a = (x or y) and z"),
        ("let a = x or (y and z)", "let a = x or y and z"),
        ("let a = x and (y and z)", "let a = x and (y and z)"),
        ("let a = (not x) == y", "let a = (not x) == y"),
        ("let a = not x == y", "let a = not (x == y)"),
        ("let a = x == (not y)", "let a = x == (not y)"),
        ("let a = not (not x)", "let a = not not x"),
        ("let a = not (x or y)", "let a = not (x or y)"),
        ("let a = (x == y) == z", "let a = x == y == z"),
        ("let a = x == (y == z)", "let a = x == (y == z)"),
        ("let a = x not in [1,2 , 3]", "let a = x not in [1, 2, 3]"),
    ];
    for (input, expected) in cases {
        assert_eq!(format(input), format!("{expected}\n"), "{input}");
    }
}

#[test]
fn a_long_chain_does_not_overflow() {
    // The longest chain the parser accepts: one operator per nesting level.
    let n = kycrules::syntax::MAX_DEPTH / 2;
    let terms: Vec<String> = (0..n).map(|i| format!("x{i} == {i}")).collect();
    let src = format!("let a = {}\n", terms.join(" and "));
    let out = format(&src);
    assert_eq!(out.lines().count(), n);
    assert!(out.lines().all(|l| l.chars().count() <= fmt::WIDTH));
}

#[test]
fn odd_files() {
    assert_eq!(format(""), "");
    assert_eq!(format("\n\n  \n"), "");
    assert_eq!(format("# only\n\n\n# comments"), "# only\n\n# comments\n");
    assert_eq!(format("\u{FEFF}let a = 1\r\nlet b = 2\r\n"), "let a = 1\nlet b = 2\n");
    assert_eq!(format("schema {}\nrule r note {}"), "schema {}\n\nrule r note {}\n");
}

#[test]
fn a_file_that_does_not_parse_is_not_formatted() {
    match fmt::format(0, "rule r reject { when }") {
        Err(FormatError::Syntax(d)) => assert_eq!(d[0].code, "E0001"),
        other => panic!("{other:?}"),
    }
}

// ---------------------------------------------------------------- the command

fn kycrules() -> Command {
    let mut cmd = Command::new(get_cargo_bin("kycrules"));
    cmd.env("NO_COLOR", "1").current_dir(root());
    cmd
}

/// A fresh directory under the target directory.
fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("fmt").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn check_on_a_messy_file_shows_a_diff() {
    assert_cmd_snapshot!(kycrules().args(["fmt", "--check", "tests/fixtures/fmt/messy.rules"]));
}

#[test]
fn check_on_the_shipped_policy_passes() {
    assert_cmd_snapshot!(kycrules().args(["fmt", "--check", "rules"]));
}

#[test]
fn check_on_a_syntax_error_fails() {
    assert_cmd_snapshot!(kycrules().args(["fmt", "--check", "tests/fixtures/compile/err/E0001-syntax.rules"]));
}

#[test]
fn fmt_rewrites_files_in_place() {
    let dir = scratch("in-place");
    let file = dir.join("messy.rules");
    std::fs::write(&file, MESSY).unwrap();
    let status = kycrules().arg("fmt").arg(&dir).status().unwrap();
    assert_eq!(status.code(), Some(0));
    let written = std::fs::read_to_string(&file).unwrap();
    assert_eq!(written, format(MESSY));
    let output = kycrules().args(["fmt", "--check"]).arg(&file).output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert!(output.stdout.is_empty());
}

#[test]
fn fmt_defaults_to_the_rules_directory() {
    let dir = scratch("default");
    std::fs::create_dir(dir.join("rules")).unwrap();
    std::fs::write(dir.join("rules/a.rules"), "let  a=1").unwrap();
    let output = kycrules().args(["fmt", "--check"]).current_dir(&dir).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        stdout.contains("-let  a=1\n\\ No newline at end of file\n+let a = 1\n"),
        "{stdout}"
    );
    let output = kycrules().arg("fmt").current_dir(dir.join("rules")).output().unwrap();
    assert_eq!(output.status.code(), Some(2), "no rules/ inside rules/");
}

#[test]
fn fmt_reads_stdin() {
    let output = kycrules()
        .args(["fmt", "-"])
        .stdin(std::fs::File::open(root().join("tests/fixtures/fmt/messy.rules")).unwrap())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(String::from_utf8(output.stdout).unwrap(), format(MESSY));
}
