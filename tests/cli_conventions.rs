//! What users of other command-line tools expect: `--version` with the
//! embedded policy's stamp, exit codes in `--help`, shell completions, a man
//! page, `schema`, `shipped` as a policy name usable from any directory, and a
//! note when stdin is a terminal.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use insta_cmd::get_cargo_bin;
use std::path::Path;
use std::process::{Command, Output};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn kycrules_in(dir: &Path) -> Command {
    let mut cmd = Command::new(get_cargo_bin("kycrules"));
    cmd.current_dir(dir).env("NO_COLOR", "1").env_remove("CI");
    cmd
}

fn kycrules() -> Command {
    kycrules_in(Path::new(ROOT))
}

/// A directory with no policy and no `rules/` in it.
fn elsewhere() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("kycrules-elsewhere-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn run(cmd: &mut Command) -> (i32, String, String) {
    let Output { status, stdout, stderr } = cmd.output().unwrap();
    (status.code().unwrap_or(-1), text(&stdout), text(&stderr))
}

#[test]
fn version_names_the_embedded_policy() {
    let (code, out, _) = run(kycrules().arg("--version"));
    assert_eq!(code, 0);
    let policy = kycrules::Policy::shipped();
    let want = format!(
        "kycrules {}\nshipped: policy {} {} hash {}\n",
        env!("CARGO_PKG_VERSION"),
        policy.name(),
        policy.version(),
        policy.hash()
    );
    assert!(out.starts_with(&want), "{out}");
}

#[test]
fn help_documents_the_exit_codes() {
    for flag in ["--help", "-h"] {
        let (code, out, _) = run(kycrules().arg(flag));
        assert_eq!(code, 0);
        assert!(out.contains("Exit status:"), "{out}");
        for line in ["  0  success", "  1  a finding", "  2  an error"] {
            assert!(out.contains(line), "{flag} lacks {line:?}:\n{out}");
        }
    }
}

#[test]
fn completions_for_every_shell_name_the_subcommands() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let (code, out, err) = run(kycrules().args(["completions", shell]));
        assert_eq!(code, 0, "{shell}: {err}");
        for sub in [
            "check", "diff", "explain", "lint", "fmt", "test", "gen", "codes", "schema",
        ] {
            assert!(out.contains(sub), "{shell} completion lacks `{sub}`");
        }
        assert!(out.contains("policy"), "{shell} completion lacks the `--policy` option");
    }
    let (code, _, err) = run(kycrules().args(["completions", "tcsh"]));
    assert_eq!(code, 2);
    assert!(err.contains("possible values"), "{err}");
}

#[test]
fn bash_completion_script_is_valid_bash() {
    let (_, out, _) = run(kycrules().args(["completions", "bash"]));
    let path = elsewhere().join("kycrules.bash");
    std::fs::write(&path, out).unwrap();
    let status = Command::new("bash").arg("-n").arg(&path).status().unwrap();
    assert!(status.success(), "bash -n rejects the completion script");
}

/// `docs/kycrules.1` is the man page the binary prints; regenerate with
/// `UPDATE_DOCS=1 cargo test --test cli_conventions`.
#[test]
fn man_page_in_docs_is_current() {
    let (code, out, err) = run(kycrules().arg("man"));
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with(".ie \\n(.g .ds Aq") || out.contains(".TH kycrules"),
        "{out}"
    );
    for section in ["check", "diff", "schema", "completions", "Exit status"] {
        assert!(out.contains(section), "the man page lacks {section}");
    }
    let path = Path::new(ROOT).join("docs/kycrules.1");
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(&path, &out).unwrap();
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == out,
        "docs/kycrules.1 is stale: run `UPDATE_DOCS=1 cargo test --test cli_conventions`"
    );
}

#[test]
fn shipped_policy_by_name_from_any_directory() {
    let dir = elsewhere();
    let app = Path::new(ROOT).join("examples/applications/01-accepted.yaml");
    let (code, named, err) = run(kycrules_in(&dir)
        .args([
            "check",
            "--format",
            "json",
            "--as-of",
            "2026-11-27",
            "--policy",
            "shipped",
        ])
        .arg(&app));
    assert_eq!(code, 0, "{err}");
    let (_, default, _) = run(kycrules_in(&dir)
        .args(["check", "--format", "json", "--as-of", "2026-11-27"])
        .arg(&app));
    assert_eq!(named, default, "`--policy shipped` is the default policy");
    assert!(named.contains("\"decision\":\"accept\""), "{named}");
}

#[test]
fn unknown_embedded_name_lists_the_embedded_policies() {
    let (code, _, err) = run(kycrules().args(["check", "--policy", "shipped:nope", "examples/applications"]));
    assert_eq!(code, 2);
    assert!(err.contains("no embedded policy `shipped:nope`"), "{err}");
    assert!(err.contains("the embedded policies are `shipped`"), "{err}");
}

#[test]
fn diff_shipped_against_itself_changes_nothing() {
    let dir = elsewhere();
    let apps = Path::new(ROOT).join("examples/applications/01-accepted.yaml");
    let (code, out, err) = run(kycrules_in(&dir)
        .args([
            "diff",
            "--format",
            "human",
            "--as-of",
            "2026-11-27",
            "shipped",
            "shipped",
        ])
        .arg(&apps));
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("0 changed"), "{out}");
    // and against a changed copy on disk, which does flip a decision
    let (code, out, _) = run(kycrules().args([
        "diff",
        "--format",
        "human",
        "--as-of",
        "2026-11-27",
        "shipped",
        "examples/policy-change/rules",
        "examples/applications/06-new-prefixes.yaml",
    ]));
    assert_eq!(code, 1, "{out}");
}

#[test]
fn test_without_a_path_runs_the_embedded_tests_anywhere() {
    let dir = elsewhere();
    let (code, out, err) = run(kycrules_in(&dir).args(["test", "--as-of", "2026-11-27"]));
    assert_eq!(code, 0, "{out}{err}");
    let files = kycrules::policy::POLICIES[0].tests.len();
    assert!(files >= 5, "the shipped policy's tests are embedded ({files} files)");
    let (code2, out2, _) = run(kycrules().args(["test", "--as-of", "2026-11-27", "rules/tests"]));
    assert_eq!(code2, 0);
    assert_eq!(out, out2, "the embedded tests are the files of rules/tests");
    let (code3, out3, _) = run(kycrules_in(&dir).args(["test", "--as-of", "2026-11-27", "--policy", "shipped"]));
    assert_eq!((code3, out3), (0, out2));
}

#[test]
fn schema_is_draft_2020_12_and_lists_the_fields() {
    let (code, out, err) = run(kycrules().arg("schema"));
    assert_eq!(code, 0, "{err}");
    let schema: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(schema["$schema"], "https://json-schema.org/draft/2020-12/schema");
    assert_eq!(schema["additionalProperties"], false);
    assert!(schema["properties"]["applicant"]["properties"]["name"].is_object());
    let (_, tour, _) = run(kycrules().args(["schema", "--policy", "examples/tour"]));
    let tour: serde_json::Value = serde_json::from_str(&tour).unwrap();
    assert_eq!(
        tour["properties"]["card"]["anyOf"][0]["properties"]["kind"]["enum"],
        serde_json::json!(["debit", "credit"])
    );
}

/// Every record the engine accepts as input is valid under the schema, and
/// every record it reports as an input error of shape is invalid.
#[test]
fn example_applications_validate_against_the_schema() {
    let (_, out, _) = run(kycrules().arg("schema"));
    let schema: serde_json::Value = serde_json::from_str(&out).unwrap();
    let validator = jsonschema::draft202012::new(&schema).unwrap();
    let policy = kycrules::Policy::shipped();
    let mut checked = 0;
    let mut invalid = 0;
    let dir = Path::new(ROOT).join("examples/applications");
    let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    for f in files {
        let body = std::fs::read_to_string(&f).unwrap();
        let values: Vec<serde_json::Value> = if f.extension().unwrap() == "jsonl" {
            body.lines().filter_map(|l| serde_json::from_str(l).ok()).collect()
        } else {
            body.split("\n---")
                .filter(|d| !d.trim().trim_start_matches("---").trim().is_empty())
                .map(|d| serde_yaml::from_str(d).unwrap())
                .collect()
        };
        for v in values {
            let decided = policy.decide_value(&v, "t", &kycrules::DecideOptions::default());
            let valid = validator.is_valid(&v);
            let shape_error = decided.error().is_some_and(|e| !e.contains("not a date"));
            assert_eq!(
                valid,
                !shape_error,
                "{}: {v}\nengine: {:?}",
                f.display(),
                decided.error()
            );
            checked += 1;
            invalid += usize::from(!valid);
        }
    }
    assert!(checked >= 15, "{checked} applications checked");
    assert!(invalid >= 1, "the examples hold a record of the wrong shape");
}

/// `check` with no input on a terminal says it reads stdin (run under a
/// pseudo-terminal by `script`, when it is installed).
#[test]
fn reading_stdin_from_a_terminal_is_announced() {
    if Command::new("script").arg("--version").output().is_err() {
        eprintln!("skipped: `script` (util-linux) is not installed");
        return;
    }
    let bin = get_cargo_bin("kycrules");
    // stdin is the pseudo-terminal; `timeout` ends the wait for input.
    let shell = format!("timeout 5 {} check --format json < /dev/tty", bin.display());
    let out = Command::new("script")
        .args(["-qec", &shell, "/dev/null"])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let all = text(&out.stdout) + &text(&out.stderr);
    assert!(all.contains("reading applications from stdin"), "{all}");
    // and not when stdin is a pipe or a file
    let (_, _, err) = run(kycrules()
        .args(["check", "--format", "json"])
        .stdin(std::process::Stdio::null()));
    assert!(!err.contains("reading applications from stdin"), "{err}");
}

/// `docs/cli.md` is every subcommand's `--help`; regenerate with
/// `UPDATE_DOCS=1 cargo test --test cli_conventions`.
#[test]
fn cli_reference_in_docs_is_current() {
    let mut doc = String::from(
        "# Command-line reference\n\n\
         Every subcommand of `kycrules`, as its `--help` prints it. Generated by\n\
         `UPDATE_DOCS=1 cargo test --test cli_conventions`; do not edit by hand.\n\
         The exit codes and the report's fields are explained in [reports.md](reports.md).\n",
    );
    let subcommands = [
        "check",
        "test",
        "lint",
        "explain",
        "fmt",
        "diff",
        "gen",
        "codes",
        "schema",
        "completions",
        "man",
    ];
    let (_, top, _) = run(kycrules().arg("--help"));
    doc.push_str(&format!("\n## kycrules\n\n```text\n{}```\n", top));
    for sub in subcommands {
        let (code, help, err) = run(kycrules().args([sub, "--help"]));
        assert_eq!(code, 0, "{sub}: {err}");
        doc.push_str(&format!("\n## kycrules {sub}\n\n```text\n{help}```\n"));
    }
    for sub in subcommands {
        assert!(top.contains(&format!("  {sub} ")), "`kycrules --help` lists {sub}");
    }
    let path = Path::new(ROOT).join("docs/cli.md");
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(&path, &doc).unwrap();
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == doc,
        "docs/cli.md is stale: run `UPDATE_DOCS=1 cargo test --test cli_conventions`"
    );
}

/// The progress bar is drawn on a terminal's stderr only when the report goes
/// elsewhere, so it never interleaves with report lines (run under a
/// pseudo-terminal by `script`, when it is installed).
#[test]
fn progress_bar_only_when_the_report_is_not_on_the_terminal() {
    if Command::new("script").arg("--version").output().is_err() {
        eprintln!("skipped: `script` (util-linux) is not installed");
        return;
    }
    let dir = elsewhere();
    let input = dir.join("progress.jsonl");
    let (code, body, _) = run(kycrules().args(["gen", "60000", "--seed", "7"]));
    assert_eq!(code, 0);
    std::fs::write(&input, body).unwrap();
    let bin = get_cargo_bin("kycrules");
    let under_pty = |redirect: &str| {
        let shell = format!(
            "{} check --format json --as-of 2026-11-27 --jobs 1 {} {redirect}",
            bin.display(),
            input.display()
        );
        let out = Command::new("script")
            .args(["-qec", &shell, "/dev/null"])
            .env_remove("CI")
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        text(&out.stdout)
    };
    // The report to a file, stderr on the terminal: the bar is drawn (the
    // run lasts more than the second before it shows).
    let report = dir.join("report.jsonl");
    let drawn = under_pty(&format!("> {}", report.display()));
    assert!(drawn.contains("records/s"), "no progress drawn:\n{drawn}");
    assert_eq!(std::fs::read_to_string(&report).unwrap().lines().count(), 60000);
    // The report on the terminal: no bar between its lines.
    let shown = under_pty("");
    assert!(!shown.contains("records/s"), "progress drawn among the report's lines");
    assert!(shown.lines().filter(|l| l.contains("\"decision\"")).count() >= 60000);
}
