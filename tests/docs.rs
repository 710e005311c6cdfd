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
        let record = kycrules::input::convert(&value, &rs.schema, &rs.tables, opts.as_of).unwrap();
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
        let record = kycrules::input::convert(&app, &rs.schema, &rs.tables, opts.as_of).unwrap();
        let d = kycrules::eval::evaluate(&rs, &record, opts);
        d.violations.iter().any(|v| rs.rules[v.rule].id == "phone-mainland")
    };
    assert!(phone_fires(&sources), "17x is rejected before the edit");
    sources.files[index].text = edited.into();
    assert!(!phone_fires(&sources), "17x is admitted after the edit");
}

/// The fenced blocks of a Markdown text whose info string is `info`: (line of
/// the fence, body).
fn blocks(md: &str, info: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut current: Option<(usize, String)> = None;
    for (i, line) in md.lines().enumerate() {
        match &mut current {
            Some(_) if line.trim_end() == "```" => out.push(current.take().unwrap()),
            Some((_, body)) => {
                body.push_str(line);
                body.push('\n');
            }
            None if line.trim_end() == format!("```{info}") => current = Some((i + 1, String::new())),
            None => {}
        }
    }
    out
}

/// Every `rules` example of docs/language.md compiles without error after the
/// page's prelude (one policy header, schema, bank and message).
#[test]
fn language_reference_examples_compile() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/language.md")).unwrap();
    let prelude = blocks(&doc, "rules prelude");
    assert_eq!(prelude.len(), 1, "docs/language.md has one prelude");
    let prelude = &prelude[0].1;
    let examples = blocks(&doc, "rules");
    assert!(examples.len() >= 20, "{} examples", examples.len());
    let mut failures = String::new();
    for (line, example) in &examples {
        let mut sources = kycrules::source::SourceMap::default();
        sources.add("prelude.rules", prelude.as_str());
        sources.add(format!("docs/language.md:{line}"), example.as_str());
        let compiled = kycrules::policy::build(&sources);
        let errors: Vec<_> = compiled.diagnostics.iter().filter(|d| d.is_error()).cloned().collect();
        if !errors.is_empty() || compiled.ruleset.is_none() {
            failures.push_str(&kycrules::diag::render_human(&errors, &sources, false));
        }
    }
    assert!(
        failures.is_empty(),
        "examples of docs/language.md do not compile:\n{failures}"
    );
}

/// Every construct of the grammar has its section in docs/language.md.
#[test]
fn language_reference_has_a_section_per_construct() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/language.md")).unwrap();
    let sections: Vec<&str> = doc.lines().filter_map(|l| l.strip_prefix("## ")).collect();
    for s in [
        "Policy header",
        "Schema",
        "Bank attributes",
        "Banks",
        "Charsets",
        "Patterns",
        "Let",
        "Messages",
        "Rules",
        "Next step",
        "As of",
        "Quantifiers",
    ] {
        assert!(sections.contains(&s), "no `## {s}` section");
    }
    // Every built-in function the compiler knows is documented, here or on the
    // page of computed values (dates, arithmetic, texts, sets, aggregates).
    let values = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/language-values.md")).unwrap();
    let source = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/crates/kycrules/src/compile/expr.rs"
    ))
    .unwrap();
    let list = source
        .split("const FUNCTIONS: &[&str] = &[")
        .nth(1)
        .and_then(|rest| rest.split("];").next())
        .expect("the compiler's list of functions moved; update this test");
    let functions: Vec<&str> = list.split('"').skip(1).step_by(2).collect();
    assert!(functions.len() >= 30, "{functions:?}");
    for f in functions {
        assert!(
            doc.contains(&format!("`{f}(")) || values.contains(&format!("`{f}(")),
            "docs/language.md and docs/language-values.md do not document `{f}`"
        );
    }
}

/// Whether an actual line is the README's line: equal, or — where the README
/// writes `…` — equal around it (the `…` stands for any text, such as a hash).
fn line_matches(want: &str, have: &str) -> bool {
    let (want, have) = (want.trim_end(), have.trim_end());
    if !want.contains('…') {
        return want == have;
    }
    let parts: Vec<&str> = want.split('…').collect();
    let mut rest = have;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            let Some(r) = rest.strip_prefix(part) else { return false };
            rest = r;
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            let Some(at) = rest.find(part) else { return false };
            rest = &rest[at + part.len()..];
        }
    }
    true
}

/// Whether the output matches the sample, where a line `...` stands for any
/// number of lines.
fn output_matches(want: &[&str], have: &[&str]) -> bool {
    match want.split_first() {
        None => have.iter().all(|l| l.trim().is_empty()),
        Some((&"...", rest)) => (0..=have.len()).any(|skip| output_matches(rest, &have[skip..])),
        Some((w, rest)) => have
            .split_first()
            .is_some_and(|(h, hrest)| line_matches(w, h) && output_matches(rest, hrest)),
    }
}

/// Every `console` sample of README.md is what the current binary prints:
/// each `$ kycrules ...` line is run from the repository's top (through `sh`,
/// so pipes work; stdout and stderr together, as a terminal shows them).
#[test]
fn readme_console_samples_are_what_the_binary_prints() {
    let root = env!("CARGO_MANIFEST_DIR");
    let readme = std::fs::read_to_string(format!("{root}/README.md")).unwrap();
    let bin = insta_cmd::get_cargo_bin("kycrules");
    let bin_dir = bin.parent().unwrap();
    let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap_or_default());
    let mut samples = 0;
    let mut failures = String::new();
    for (line, body) in blocks(&readme, "console") {
        let mut commands: Vec<(String, Vec<&str>)> = Vec::new();
        for l in body.lines() {
            match l.strip_prefix("$ ") {
                Some(cmd) => commands.push((cmd.to_owned(), Vec::new())),
                None => commands
                    .last_mut()
                    .expect("a console sample starts with `$ `")
                    .1
                    .push(l),
            }
        }
        for (cmd, want) in commands {
            assert!(
                cmd.starts_with("kycrules "),
                "README.md:{line}: `{cmd}` is not a kycrules command"
            );
            let out = std::process::Command::new("sh")
                .arg("-c")
                .arg(format!("( {cmd} ) 2>&1"))
                .current_dir(root)
                .env("PATH", &path)
                .env("NO_COLOR", "1")
                .env_remove("CI")
                .output()
                .unwrap();
            let have = String::from_utf8_lossy(&out.stdout).into_owned();
            let have_lines: Vec<&str> = have.lines().collect();
            samples += 1;
            if !output_matches(&want, &have_lines) {
                failures.push_str(&format!(
                    "README.md:{line}: `{cmd}`\n--- README shows\n{}\n--- the binary prints\n{have}\n",
                    want.join("\n")
                ));
            }
        }
    }
    assert!(samples >= 8, "{samples} samples found");
    assert!(failures.is_empty(), "{failures}");
}
