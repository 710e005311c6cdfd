//! Hostile and unlucky inputs, each once a way to change a decision, stall a
//! tool, leak a number or crash: exact numbers in every format, the YAML flow
//! limit, stdin's format, `let`s reused many times, many diagnostics, long
//! literals, symbolic link loops, masking, control characters, closed pipes
//! and `--jobs`. Each test runs the command line as a user would, except
//! where the finding was in the library.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use serde_json::Value;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const EXACT: &str = "tests/fixtures/hostile/exact.rules";

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("hostile").join(name);
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

fn kycrules() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kycrules"));
    cmd.current_dir(ROOT).env("NO_COLOR", "1").env_remove("CI");
    cmd
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs a command with `stdin` as its input; a run that has not ended after
/// `limit` is killed and fails the test (a hang guard, not a measurement).
fn run_with(mut cmd: Command, stdin: &[u8], limit: Duration) -> Run {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    let bytes = stdin.to_vec();
    let feeder = std::thread::spawn(move || {
        let _ = input.write_all(&bytes);
    });
    let start = Instant::now();
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let reader_out = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = std::io::Read::read_to_end(&mut out, &mut s);
        s
    });
    let reader_err = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = std::io::Read::read_to_end(&mut err, &mut s);
        s
    });
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("{cmd:?} did not end within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    feeder.join().unwrap();
    Run {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&reader_out.join().unwrap()).into_owned(),
        stderr: String::from_utf8_lossy(&reader_err.join().unwrap()).into_owned(),
    }
}

const LIMIT: Duration = Duration::from_secs(120);

fn run(cmd: Command) -> Run {
    run_with(cmd, b"", LIMIT)
}

fn check(args: &[&str]) -> Run {
    let mut cmd = kycrules();
    cmd.args(["check", "--format", "json", "--as-of", "2026-11-27"])
        .args(args);
    run(cmd)
}

fn json_lines(text: &str) -> Vec<Value> {
    text.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

/// A report line without where it came from: what must agree across formats.
fn verdict(mut line: Value) -> Value {
    line.as_object_mut().unwrap().remove("source");
    line
}

// ------------------------------------------------------------ items 1 and 2

/// Records written three ways: one JSON Lines line, the same JSON as a `.json`
/// file, and the same record in YAML's own block style.
const RECORDS: &[(&str, &str, &str)] = &[
    // What each decides, then the JSON, then the YAML.
    (
        "reject",
        r#"{"id":"a","amount":0.37000000000000001,"codes":[]}"#,
        "id: a\namount: 0.37000000000000001\ncodes: []\n",
    ),
    (
        "accept",
        r#"{"id":"b","amount":0.37,"codes":[]}"#,
        "id: b\namount: 0.37\ncodes: []\n",
    ),
    (
        "review",
        r#"{"id":"c","big":100000000000000000001,"codes":[]}"#,
        "id: c\nbig: 100000000000000000001\ncodes: []\n",
    ),
    (
        "review",
        r#"{"id":"c2","big":"100000000000000000001","codes":[]}"#,
        "id: c2\nbig: \"100000000000000000001\"\ncodes: []\n",
    ),
    (
        "reject",
        r#"{"id":"d","amount":1e-400,"codes":[]}"#,
        "id: d\namount: 1e-400\ncodes: []\n",
    ),
    (
        "reject",
        r#"{"id":"g","amount":1e400,"codes":[]}"#,
        "id: g\namount: 1e400\ncodes: []\n",
    ),
    (
        "error",
        r#"{"id":"e","amount":1.00000000000000000000000000000000000000001,"codes":[]}"#,
        "id: e\namount: 1.00000000000000000000000000000000000000001\ncodes: []\n",
    ),
    (
        "accept",
        r#"{"id":"u","label":"\ud83d\ude00","codes":[]}"#,
        "id: u\nlabel: \"\\U0001F600\"\ncodes: []\n",
    ),
    // The defaulted `id` labels no path.
    ("accept", r#"{"amount":0.37,"codes":[]}"#, "amount: 0.37\ncodes: []\n"),
    (
        "error",
        r#"{"id":"m","account":123456789012345678901234,"codes":[]}"#,
        "id: m\naccount: 123456789012345678901234\ncodes: []\n",
    ),
];

#[test]
fn numbers_are_exact_and_formats_decide_alike() {
    let dir = scratch("formats");
    let jsonl: String = RECORDS.iter().map(|(_, j, _)| format!("{j}\n")).collect();
    fs::write(dir.join("all.jsonl"), &jsonl).unwrap();
    let yaml: String = RECORDS.iter().map(|(_, _, y)| format!("---\n{y}")).collect();
    fs::write(dir.join("all.yaml"), yaml).unwrap();
    let mut json_files = Vec::new();
    for (i, (_, j, _)) in RECORDS.iter().enumerate() {
        let p = dir.join(format!("r{i:02}.json"));
        fs::write(&p, j).unwrap();
        // The same JSON text in a `.yaml` file reads as the `.json` file does.
        fs::write(dir.join(format!("r{i:02}.yaml")), j).unwrap();
        json_files.push(p);
    }
    let policy = ["--policy", EXACT];
    let lines = json_lines(&check(&[&policy[..], &[dir.join("all.jsonl").to_str().unwrap()]].concat()).stdout);
    let yaml = json_lines(&check(&[&policy[..], &[dir.join("all.yaml").to_str().unwrap()]].concat()).stdout);
    assert_eq!(lines.len(), RECORDS.len());
    for (i, (want, j, _)) in RECORDS.iter().enumerate() {
        let json = json_lines(&check(&[&policy[..], &[json_files[i].to_str().unwrap()]].concat()).stdout);
        let as_yaml = dir.join(format!("r{i:02}.yaml"));
        let json_in_yaml = json_lines(&check(&[&policy[..], &[as_yaml.to_str().unwrap()]].concat()).stdout);
        assert_eq!(lines[i]["decision"], *want, "{j}: {}", lines[i]);
        for other in [&json[0], &yaml[i], &json_in_yaml[0]] {
            assert_eq!(verdict(lines[i].clone()), verdict(other.clone()), "{j}");
        }
    }
    // The messages name the exact amounts, and the too precise number is the
    // quoted form's error.
    assert_eq!(
        lines[0]["violations"][0]["message"],
        "The amount 0.37000000000000001 is not 0.37."
    );
    assert_eq!(lines[4]["violations"][0]["message"], "The amount 1e-400 is not 0.37.");
    assert_eq!(
        lines[6]["error"],
        "amount: `1.00000000000000000000000000000000000000001`: more than 38 significant digits"
    );
    assert_eq!(lines[8]["id"], Value::Null, "a defaulted id is no label");
    assert_eq!(lines[7]["violations"][0]["message"], "Label 😀.");
}

#[test]
fn the_fast_path_and_the_general_path_read_numbers_alike() {
    let sources = kycrules::policy::read(&[PathBuf::from(ROOT).join(EXACT)]).0;
    let rs = kycrules::policy::build(&sources).ruleset.unwrap();
    let as_of = common::as_of();
    for (_, j, _) in RECORDS {
        let general = kycrules::input::json_record("x".into(), j.as_bytes());
        let converted = general
            .value
            .clone()
            .and_then(|v| kycrules::input::convert(&v, &rs.schema, &rs.tables, as_of));
        if let Some((id, direct)) = kycrules::direct::json_record(j.as_bytes(), &rs.schema, &rs.tables, as_of) {
            assert_eq!(id, general.id, "{j}");
            assert_eq!(Ok(direct), converted, "{j}");
        }
    }
    // The fast path takes unquoted numbers itself.
    let taken = kycrules::direct::json_record(RECORDS[0].1.as_bytes(), &rs.schema, &rs.tables, as_of);
    assert!(taken.is_some());
}

#[test]
fn many_flow_mappings_in_a_list_decide_alike() {
    let dir = scratch("flow-list");
    let docs = vec![r#"{"kind":"passport"}"#; 300].join(",");
    let json =
        format!(r#"{{"id":"f","applicant":{{"name":"John Smith","phone":"+1-415-555-0100"}},"documents":[{docs}]}}"#);
    let yaml_flow = vec!["{kind: passport}"; 300].join(", ");
    let yaml =
        format!("id: f\napplicant:\n  name: John Smith\n  phone: \"+1-415-555-0100\"\ndocuments: [{yaml_flow}]\n");
    fs::write(dir.join("a.jsonl"), format!("{json}\n")).unwrap();
    fs::write(dir.join("b.json"), &json).unwrap();
    fs::write(dir.join("c.yaml"), yaml).unwrap();
    let out = json_lines(&check(&[dir.to_str().unwrap()]).stdout);
    assert_eq!(out.len(), 3);
    assert_ne!(out[0]["decision"], "error", "{}", out[0]);
    for o in &out[1..] {
        assert_eq!(verdict(out[0].clone()), verdict(o.clone()));
    }
}

// ------------------------------------------------------------------- item 3

#[test]
fn the_yaml_flow_limit_counts_nesting() {
    let flat = format!("documents: [{}]\n", vec!["{kind: passport}"; 300].join(", "));
    let quoted = format!("name: \"{}\"\nother: '{}'\n", "{".repeat(300), "[".repeat(300));
    let comment = format!("# {}\nid: x\n", "[".repeat(300));
    let plain = format!("name: a{}\n", "[{".repeat(300));
    for text in [&flat, &quoted, &comment, &plain] {
        assert!(kycrules::input::parse_yaml(text).is_ok(), "{}", &text[..60]);
    }
    let deep = format!("id: {}1{}\n", "[".repeat(300), "]".repeat(300));
    let err = kycrules::input::parse_yaml(&deep).unwrap_err();
    assert!(err.contains("nested more than 256 deep at line 1"), "{err}");
    // Collections side by side count once each: 300 lists of lists, nested two deep.
    let side_by_side = format!("a: [{}]\n", vec!["[[1]]"; 300].join(", "));
    assert!(kycrules::input::parse_yaml(&side_by_side).is_ok());
}

// ------------------------------------------------------------------- item 4

fn check_stdin(args: &[&str], stdin: &str) -> Run {
    let mut cmd = kycrules();
    cmd.args(["check", "--format", "json", "--as-of", "2026-11-27"])
        .args(args);
    run_with(cmd, stdin.as_bytes(), LIMIT)
}

#[test]
fn stdin_json_lines_give_one_line_per_record() {
    let good =
        r#"{"id":"s1","applicant":{"name":"John Smith","phone":"+1-415-555-0100"},"documents":[{"kind":"passport"}]}"#;
    // A first line `[]`, then records.
    let r = check_stdin(&[], &format!("[]\n{good}\n{good}\n"));
    let lines = json_lines(&r.stdout);
    assert_eq!(lines.len(), 3, "{}", r.stdout);
    assert_eq!(lines[0]["source"], "<stdin>:1");
    assert!(
        lines[0]["error"].as_str().unwrap().contains("found a list"),
        "{}",
        lines[0]
    );
    assert_ne!(lines[1]["decision"], "error");
    // A broken second line is its own error, named by its line, as JSON.
    let r = check_stdin(&[], &format!("{good}\nnot json at all\n{good}\n"));
    let lines = json_lines(&r.stdout);
    assert_eq!(lines.len(), 3, "{}", r.stdout);
    assert_eq!(lines[1]["source"], "<stdin>:2");
    let err = lines[1]["error"].as_str().unwrap();
    assert!(err.starts_with("invalid JSON"), "{err}");
    assert!(!err.contains("YAML"), "{err}");
    // A broken JSON document is blamed on JSON, not YAML.
    let r = check_stdin(&[], "{\"id\": \"x\",\n  \"applicant\": \n");
    let lines = json_lines(&r.stdout);
    assert_eq!(lines.len(), 1);
    let err = lines[0]["error"].as_str().unwrap();
    assert!(err.starts_with("invalid JSON") && !err.contains("YAML"), "{err}");
    // YAML still reads as YAML.
    let r = check_stdin(&[], "id: y\n---\nid: z\n");
    assert_eq!(json_lines(&r.stdout).len(), 2);
}

#[test]
fn input_format_chooses_how_stdin_is_read() {
    let good =
        r#"{"id":"s1","applicant":{"name":"John Smith","phone":"+1-415-555-0100"},"documents":[{"kind":"passport"}]}"#;
    let two = format!("{good}\n{good}\n");
    for (format, lines) in [("jsonl", 2), ("auto", 2), ("json", 1), ("yaml", 1)] {
        let r = check_stdin(&["--input-format", format], &two);
        let out = json_lines(&r.stdout);
        assert_eq!(out.len(), lines, "{format}: {}", r.stdout);
    }
    let r = check_stdin(&["--input-format", "json"], &two);
    let err = json_lines(&r.stdout)[0]["error"].as_str().unwrap().to_string();
    assert!(err.starts_with("invalid JSON: trailing characters at line 2"), "{err}");
    let r = check_stdin(&["--input-format", "yaml"], "{\"id\": \"s1\"}\n");
    assert!(
        json_lines(&r.stdout)[0]["error"]
            .as_str()
            .unwrap()
            .contains("missing required field")
    );
    let r = check_stdin(&["--input-format", "toml"], "");
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("--input-format"), "{}", r.stderr);
}

// ------------------------------------------------------------------- item 5

/// `let l1 = l0 and l0`, …, `l30`: followed naively, 2^30 visits.
fn doubling_lets() -> String {
    let mut p = String::from(
        "policy \"lets\" version \"1\" languages en\nschema {\n  id: text\n  age: decimal?\n  card: text? sensitive\n}\nlet l0 = age > 1 and card != \"x\"\n",
    );
    for i in 1..=30 {
        p.push_str(&format!("let l{i} = l{} and l{}\n", i - 1, i - 1));
    }
    p.push_str("message m { en \"x {card}\" }\nrule r reject {\n  given l30\n  when not l30\n  message m\n}\n");
    p
}

/// 8 lets, each using the previous one 16 times: 16^8 visits.
fn wide_lets() -> String {
    let mut p = String::from(
        "policy \"lets\" version \"1\" languages en\nschema {\n  id: text\n  age: decimal?\n  card: text? sensitive\n}\nlet m0 = age > 1 and card != \"x\"\n",
    );
    for i in 1..=8 {
        p.push_str(&format!(
            "let m{i} = {}\n",
            vec![format!("m{}", i - 1); 16].join(" and ")
        ));
    }
    p.push_str("message m { en \"x\" }\nrule r reject {\n  when m8\n  message m\n}\n");
    p
}

#[test]
fn lint_and_explain_are_linear_in_shared_lets() {
    let dir = scratch("lets");
    fs::write(dir.join("app.json"), r#"{"id":"a","age":5,"card":"4111111111111111"}"#).unwrap();
    for (name, text) in [("doubling.rules", doubling_lets()), ("wide.rules", wide_lets())] {
        let policy = dir.join(name);
        fs::write(&policy, text).unwrap();
        let p = policy.to_str().unwrap();
        // A hang guard of 60 s; exponential work would take hours.
        let mut lint = kycrules();
        lint.args(["lint", "--policy", p]);
        let r = run_with(lint, b"", Duration::from_secs(60));
        assert!(r.code == 0, "{}", r.stderr);
        let mut explain = kycrules();
        explain
            .args(["explain", "--as-of", "2026-11-27", "--policy", p])
            .arg(dir.join("app.json"));
        let r = run_with(explain, b"", Duration::from_secs(60));
        assert!(r.stdout.contains("decision:"), "{}{}", r.stdout, r.stderr);
        assert!(!r.stdout.contains("4111111111111111"), "{}", r.stdout);
        let mut check = kycrules();
        check
            .args(["check", "--format", "json", "--policy", p])
            .arg(dir.join("app.json"));
        let r = run_with(check, b"", Duration::from_secs(60));
        assert!(r.code <= 1, "{}", r.stderr);
    }
}

#[test]
fn many_diagnostics_render_the_first_hundred_and_count_the_rest() {
    // 65,000 errors in a 4 MiB policy: placing each is a lookup, and only
    // the first 100 are drawn.
    let mut text = String::from("policy \"many\" version \"1\" languages en\nschema {\n  id: text\n}\n");
    let line = format!("# {}\n", "x".repeat(60));
    let mut spans = Vec::new();
    while text.len() < 4 << 20 && spans.len() < 65_000 {
        spans.push(text.len());
        text.push_str(&line);
    }
    let mut sources = kycrules::source::SourceMap::default();
    let file = sources.add("many.rules", text.as_str());
    let diags: Vec<_> = spans
        .iter()
        .map(|&s| {
            kycrules::diag::Diagnostic::error(
                kycrules::diag::SYNTAX,
                "an error",
                kycrules::source::Span::new(file, s + 2, s + 5),
            )
        })
        .collect();
    assert!(
        diags.len() >= 60_000 && text.len() >= 4_000_000,
        "{} {}",
        diags.len(),
        text.len()
    );
    let human = kycrules::diag::render_human(&diags, &sources, false);
    assert_eq!(human.matches("error[E0001]").count(), kycrules::diag::MAX_SHOWN);
    let rest = diags.len() - kycrules::diag::MAX_SHOWN;
    assert!(
        human.ends_with(&format!(
            "... and {rest} more diagnostics not shown ({rest} errors, 0 warnings)\n\n"
        )),
        "{}",
        &human[human.len() - 200..]
    );
    // The snippet of the last one shown is its own line, numbered as in the file.
    assert!(
        human.contains("--> many.rules:104:3"),
        "{}",
        &human[human.len() - 600..]
    );
    // JSON lists them all, each with its place.
    let last = kycrules::diag::to_json(diags.last().unwrap(), &sources);
    assert_eq!(last["location"]["line"], diags.len() + 4);
    assert_eq!(last["location"]["column"], 3);
}

#[test]
fn the_command_line_caps_printed_diagnostics() {
    let dir = scratch("many-errors");
    let mut p =
        String::from("policy \"many\" version \"1\" languages en\nschema {\n  id: text\n}\nmessage m { en \"x\" }\n");
    for i in 0..150 {
        p.push_str(&format!(
            "rule r{i} reject {{\n  when nosuchfield{i} == 1\n  message m\n}}\n"
        ));
    }
    let policy = dir.join("many.rules");
    fs::write(&policy, p).unwrap();
    let mut cmd = kycrules();
    cmd.args(["check", "--policy"]).arg(&policy).arg("-");
    let r = run(cmd);
    assert_eq!(r.code, 2);
    assert_eq!(r.stderr.matches("error[E0020]").count(), 100, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("... and 50 more diagnostics not shown (50 errors, 0 warnings)"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.ends_with("policy: 150 errors\n"), "{}", r.stderr);
    // JSON diagnostics are all listed.
    let mut cmd = kycrules();
    cmd.args(["check", "--error-format", "json", "--policy"])
        .arg(&policy)
        .arg("-");
    assert_eq!(run(cmd).stderr.lines().count(), 150);
}

#[test]
fn a_long_literal_is_quoted_short() {
    let dir = scratch("long-literal");
    let digits = "9".repeat(100_000);
    let p = format!(
        "policy \"long\" version \"1\" languages en\nschema {{\n  id: text\n  n: decimal?\n}}\nmessage m {{ en \"x\" }}\nrule r reject {{\n  when n == {digits}\n  message m\n}}\n"
    );
    let policy = dir.join("long.rules");
    fs::write(&policy, p).unwrap();
    let mut cmd = kycrules();
    cmd.args(["check", "--error-format", "json", "--policy"])
        .arg(&policy)
        .arg("-");
    let r = run(cmd);
    assert_eq!(r.code, 2);
    let d: Value = serde_json::from_str(r.stderr.lines().next().unwrap()).unwrap();
    let msg = d["message"].as_str().unwrap();
    assert!(msg.len() < 120, "{msg}");
    assert!(
        msg.contains("(100000 characters)") && msg.contains("more than 38 significant digits"),
        "{msg}"
    );
}

// ------------------------------------------------------------------- item 6

#[cfg(unix)]
#[test]
fn policy_directory_link_loops_do_not_hang_or_load_twice() {
    let dir = scratch("policy-loop");
    let policy = dir.join("policy");
    fs::create_dir_all(policy.join("sub")).unwrap();
    fs::copy(Path::new(ROOT).join(EXACT), policy.join("sub/exact.rules")).unwrap();
    std::os::unix::fs::symlink("..", policy.join("sub/up")).unwrap();
    std::os::unix::fs::symlink(".", policy.join("self")).unwrap();
    std::os::unix::fs::symlink("sub/exact.rules", policy.join("again.rules")).unwrap();
    for sub in ["lint", "check"] {
        let mut cmd = kycrules();
        cmd.args([sub, "--policy"]).arg(&policy);
        if sub == "check" {
            cmd.arg("-");
        }
        let r = run_with(cmd, br#"{"id":"a","codes":[]}"#, Duration::from_secs(60));
        assert!(r.code == 0, "{sub}: {}", r.stderr);
        assert!(!r.stderr.contains("E0011"), "loaded twice: {}", r.stderr);
    }
    // Input directories with a loop: each file once, no hang.
    let inputs = dir.join("inputs");
    fs::create_dir_all(inputs.join("a")).unwrap();
    fs::write(inputs.join("a/one.json"), r#"{"id":"one","codes":[]}"#).unwrap();
    std::os::unix::fs::symlink("..", inputs.join("a/loop")).unwrap();
    let r = check(&["--policy", EXACT, inputs.to_str().unwrap()]);
    assert_eq!(json_lines(&r.stdout).len(), 1, "{}", r.stdout);
}

// ------------------------------------------------------------------- item 7

#[test]
fn long_unquoted_numbers_in_sensitive_fields_are_masked() {
    let dir = scratch("mask");
    let secret = "123456789012345678901234";
    let huge = "1234567890123456789012345678901234567890123"; // beyond 128 bits
    let cases = [
        format!(r#"{{"id":"j","account":{secret},"codes":[]}}"#),
        format!(r#"{{"id":"k","account":{huge},"codes":[]}}"#),
        format!(r#"{{"id":"l","codes":[{secret}]}}"#),
    ];
    fs::write(dir.join("a.jsonl"), cases.join("\n")).unwrap();
    for (i, c) in cases.iter().enumerate() {
        fs::write(dir.join(format!("b{i}.json")), c).unwrap();
    }
    fs::write(
        dir.join("c.yaml"),
        format!(
            "id: y1\naccount: {secret}\ncodes: []\n---\nid: y2\naccount: {huge}\ncodes: []\n---\nid: y3\naccount: 0x1234567890ABCDEF1234567890\ncodes: []\n---\nid: y4\ncodes: [{secret}]\n---\nid: y5\naccount: {huge}.5\ncodes: []\n"
        ),
    )
    .unwrap();
    for format in ["json", "human"] {
        let mut cmd = kycrules();
        cmd.args(["check", "--format", format, "--policy", EXACT]).arg(&dir);
        let r = run(cmd);
        assert_eq!(r.code, 2);
        let all = format!("{}{}", r.stdout, r.stderr);
        for s in [secret, huge, "1234567890ABCDEF", "1441151880758558", "1234567890123"] {
            assert!(!all.contains(s), "{s} shown: {all}");
        }
        assert!(all.contains("****1234") || all.contains("*1234"), "{all}");
    }
}

#[test]
fn explain_masks_the_items_of_a_sensitive_list() {
    let dir = scratch("explain-list");
    let app = dir.join("app.json");
    fs::write(&app, r#"{"id":"a","codes":["5500005555555559","4111111111111111"]}"#).unwrap();
    for format in ["human", "json"] {
        let mut cmd = kycrules();
        cmd.args([
            "explain",
            "--as-of",
            "2026-11-27",
            "--format",
            format,
            "--policy",
            EXACT,
        ])
        .arg(&app);
        let r = run(cmd);
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert!(r.stdout.contains("codes[1]"), "{}", r.stdout);
        for s in ["5500005555555559", "550000", "4111111111111111", "411111"] {
            assert!(!r.stdout.contains(s), "{s}: {}", r.stdout);
        }
        assert!(r.stdout.contains("************5559"), "{}", r.stdout);
        assert!(r.stdout.contains("************1111"), "{}", r.stdout);
    }
    // A sensitive number is masked as a text is.
    let pin = dir.join("pin.json");
    fs::write(&pin, r#"{"id":"p","codes":[],"pin":987654321}"#).unwrap();
    let mut cmd = kycrules();
    cmd.args(["explain", "--as-of", "2026-11-27", "--policy", EXACT])
        .arg(&pin);
    let r = run(cmd);
    assert!(
        !r.stdout.contains("987654321") && r.stdout.contains("*****4321 > 0"),
        "{}",
        r.stdout
    );
    // `--show-pii` shows them.
    let mut cmd = kycrules();
    cmd.args(["explain", "--as-of", "2026-11-27", "--show-pii", "--policy", EXACT])
        .arg(&app);
    assert!(run(cmd).stdout.contains("5500005555555559"));
}

// ------------------------------------------------------------------- item 8

#[test]
fn control_characters_cannot_forge_a_report_line() {
    let dir = scratch("controls");
    let forged = "a\n\u{1b}[32mb  accept\r";
    let name = if cfg!(unix) { "x\ny.json" } else { "xy.json" };
    let app = serde_json::json!({"id": forged, "amount": 1, "label": "l\nreject  forged", "codes": []});
    fs::write(dir.join(name), app.to_string()).unwrap();
    let mut cmd = kycrules();
    cmd.args(["check", "--format", "human", "--as-of", "2026-11-27", "--policy", EXACT])
        .arg(&dir);
    let r = run(cmd);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        !r.stdout.contains('\u{1b}') && !r.stdout.contains('\r'),
        "{:?}",
        r.stdout
    );
    assert!(r.stdout.contains("a\\u{a}\\u{1b}[32mb  accept\\u{d}"), "{}", r.stdout);
    assert!(r.stdout.contains("Label l\\u{a}reject  forged."), "{}", r.stdout);
    if cfg!(unix) {
        assert!(r.stdout.contains("x\\u{a}y.json"), "{}", r.stdout);
    }
    // Every line of the report is one the report wrote.
    assert!(
        r.stdout
            .lines()
            .all(|l| !l.starts_with("reject  forged") && !l.starts_with("b  accept"))
    );
    let mut cmd = kycrules();
    cmd.args(["explain", "--as-of", "2026-11-27", "--policy", EXACT])
        .arg(dir.join(name));
    let r = run(cmd);
    assert!(
        !r.stdout.contains('\u{1b}') && !r.stdout.contains('\r'),
        "{:?}",
        r.stdout
    );
    assert!(
        r.stdout.starts_with("a\\u{a}\\u{1b}[32mb  accept\\u{d}  reject"),
        "{}",
        r.stdout
    );
}

// ------------------------------------------------------------------- item 9

/// A pipe whose reading end is closed already: every write to it fails.
#[cfg(unix)]
fn closed_pipe() -> std::io::PipeWriter {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    writer
}

#[cfg(unix)]
#[test]
fn closed_pipes_end_every_subcommand_quietly() {
    let dir = scratch("pipes");
    let bad = dir.join("bad.rules");
    fs::write(
        &bad,
        "policy \"bad\" version \"1\" languages en\nschema {\n  id: txt\n}\n",
    )
    .unwrap();
    let bad = bad.to_str().unwrap().to_string();
    let runs: Vec<(Vec<&str>, i32)> = vec![
        (
            vec![
                "check",
                "--format",
                "human",
                "--as-of",
                "2026-11-27",
                "examples/applications",
            ],
            2,
        ),
        (
            vec![
                "check",
                "--format",
                "json",
                "--as-of",
                "2026-11-27",
                "examples/applications/04-rejected.yaml",
            ],
            1,
        ),
        (vec!["check", "--policy", &bad, "examples/applications"], 2),
        (vec!["check", "--jobs", "100000", "examples/applications"], 2),
        (
            vec![
                "check",
                "--lang",
                "fr",
                "--as-of",
                "2026-11-27",
                "examples/applications/01-accepted.yaml",
            ],
            0,
        ),
        (
            vec!["lint", "--policy", "tests/fixtures/lint/W0005-contradiction.rules"],
            0,
        ),
        (vec!["lint", "--policy", &bad], 2),
        (
            vec![
                "explain",
                "--as-of",
                "2026-11-27",
                "--id",
                "A-0001",
                "examples/applications/01-accepted.yaml",
            ],
            0,
        ),
        (vec!["explain", "examples/applications"], 2),
        (
            vec!["fmt", "--check", "tests/fixtures/lint/W0005-contradiction.rules"],
            1,
        ),
        (vec!["test", "rules/tests"], 0),
        (
            vec![
                "diff",
                "rules",
                "rules",
                "--as-of",
                "2026-11-27",
                "examples/applications",
            ],
            2,
        ),
        (
            vec![
                "diff",
                "rules",
                "rules",
                "--as-of",
                "2026-11-27",
                "examples/applications/04-rejected.yaml",
            ],
            0,
        ),
        (vec!["gen", "2000"], 0),
        (vec!["codes"], 0),
        (vec!["codes", "E9999"], 2),
        (vec!["--help"], 0),
        (vec!["no-such-command"], 2),
    ];
    for (args, _) in &runs {
        // What the run prints with both streams open: its documented status.
        let open = run({
            let mut c = kycrules();
            c.args(args);
            c
        });
        for (out_closed, err_closed) in [(true, false), (false, true), (true, true)] {
            let mut cmd = kycrules();
            cmd.args(args).stdin(Stdio::null());
            cmd.stdout(if out_closed {
                Stdio::from(closed_pipe())
            } else {
                Stdio::piped()
            });
            cmd.stderr(if err_closed {
                Stdio::from(closed_pipe())
            } else {
                Stdio::piped()
            });
            let out = cmd.output().unwrap();
            let code = out.status.code();
            assert!(
                code.is_some() && code != Some(101),
                "{args:?} {out_closed}/{err_closed}: {out:?}"
            );
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
            // A closed stderr changes nothing but what is seen.
            if err_closed && !out_closed {
                assert_eq!(code, Some(open.code), "{args:?}");
            }
        }
    }
    for (args, want) in &runs {
        let r = run({
            let mut c = kycrules();
            c.args(args);
            c
        });
        assert_eq!(r.code, *want, "{args:?}: {}", r.stderr);
    }
}

// ------------------------------------------------------------------ item 10

#[test]
fn jobs_are_bounded() {
    for jobs in ["0", "100000", "-1", "many"] {
        let r = check(&[&format!("--jobs={jobs}"), "examples/applications/01-accepted.yaml"]);
        assert_eq!(r.code, 2, "{jobs}");
        assert!(
            r.stderr.contains("is not a number of worker threads from 1 to"),
            "{}",
            r.stderr
        );
    }
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let most = (cores * 4).to_string();
    for jobs in ["1", most.as_str()] {
        let r = check(&["--jobs", jobs, "examples/applications/01-accepted.yaml"]);
        assert_eq!(r.code, 0, "{jobs}: {}", r.stderr);
    }
    let too_many = (cores * 4 + 1).to_string();
    assert_eq!(check(&["--jobs", &too_many, "-"]).code, 2);
    let mut diff = kycrules();
    diff.args(["diff", "rules", "rules", "--jobs", "100000", "-"]);
    assert_eq!(run(diff).code, 2);
}

/// The masked reports, kept as snapshots: `tests/pii.rs` scans every
/// snapshot for the sensitive values of the fixtures, these included.
#[test]
fn masked_reports_of_sensitive_numbers() {
    let mut cmd = kycrules();
    cmd.args(["check", "--format", "human", "--as-of", "2026-11-27", "--policy", EXACT])
        .arg("tests/fixtures/hostile/sensitive.yaml");
    insta_cmd::assert_cmd_snapshot!("check_sensitive_numbers", cmd);
    let mut cmd = kycrules();
    cmd.args([
        "explain",
        "--as-of",
        "2026-11-27",
        "--id",
        "listed-cards",
        "--policy",
        EXACT,
    ])
    .arg("tests/fixtures/hostile/sensitive.yaml");
    insta_cmd::assert_cmd_snapshot!("explain_sensitive_list", cmd);
}
