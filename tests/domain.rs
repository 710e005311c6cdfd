//! Domain knowledge lives in `rules/`, not in Rust: no bank code, bank name,
//! alias or rule id of the shipped policy appears in the Rust source of any
//! crate (`src/`, `crates/*/src/`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

fn rust_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Whether `word` stands in `text` on its own (not inside a longer identifier).
fn stands_alone(text: &str, word: &str) -> bool {
    let is_word = |c: char| c.is_alphanumeric() || c == '_' || c == '-';
    text.match_indices(word).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + word.len()..].chars().next();
        !before.is_some_and(is_word) && !after.is_some_and(is_word)
    })
}

#[test]
fn src_names_no_bank_and_no_rule_of_the_shipped_policy() {
    let rs = common::shipped();
    let mut words: Vec<String> = Vec::new();
    for bank in &rs.tables[0].list {
        words.push(bank.code.clone());
        words.extend(bank.names.iter().flatten().cloned());
        words.extend(bank.aliases.iter().cloned());
    }
    words.extend(rs.rules.iter().map(|r| r.id.clone()));
    words.push(rs.name.clone());
    // Every crate of the workspace: the command line's `src/` and each `crates/*/src/`.
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    for krate in std::fs::read_dir(root.join("crates")).unwrap() {
        let src = krate.unwrap().path().join("src");
        if src.is_dir() {
            rust_files(&src, &mut files);
        }
    }
    assert!(files.len() > 10);
    let mut found = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        for w in &words {
            if stands_alone(&text, w) {
                found.push(format!("{}: `{w}`", f.display()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "domain knowledge in Rust source:\n{}",
        found.join("\n")
    );
}

/// The other shipped policies (`policies/<name>/`): their rule ids and policy
/// name are named in no Rust source either, and no Rust file spells out one
/// of their sets (region codes and the like): a file that quotes half or more
/// of a set's texts (all of a set of three or fewer), `"11"`, `"12"`, ...,
/// holds that list; the same for the codes of a table's entries, whose names
/// and aliases must not appear either. (A few short codes coincide with generic material, such
/// as country calling codes, so a single quoted code proves nothing.)
#[test]
fn src_names_nothing_of_the_other_shipped_policies() {
    let names = kycrules::policy::shipped_names();
    assert!(names.contains(&"mainland-resident"), "{names:?}");
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    for krate in std::fs::read_dir(root.join("crates")).unwrap() {
        let src = krate.unwrap().path().join("src");
        if src.is_dir() {
            rust_files(&src, &mut files);
        }
    }
    let mut found = Vec::new();
    for name in names {
        let sources = kycrules::policy::embedded_named(name).unwrap();
        let rs = kycrules::policy::build(&sources).ruleset.unwrap();
        let mut words: Vec<String> = rs.rules.iter().map(|r| r.id.clone()).collect();
        words.push(rs.name.clone());
        words.push(name.to_string());
        let mut sets: Vec<(String, Vec<String>)> = Vec::new();
        for f in &sources.files {
            let file = kycrules::syntax::parse(0, &f.text).unwrap();
            for item in &file.items {
                if let kycrules::ast::Item::Set(set) = item {
                    let mut quoted = Vec::new();
                    for v in &set.items {
                        if let kycrules::ast::ExprKind::Literal(kycrules::ast::Literal::Text(t)) = &v.node {
                            quoted.push(format!("\"{t}\""));
                        }
                    }
                    sets.push((set.name.node.clone(), quoted));
                }
            }
        }
        // Tables other than `bank` (a region table): their codes count as a
        // set, their names and aliases as words.
        for table in rs.tables.iter().skip(1) {
            let quoted = table.list.iter().map(|e| format!("\"{}\"", e.code)).collect();
            sets.push((format!("table {}", table.name), quoted));
            for e in &table.list {
                words.extend(e.names.iter().flatten().cloned());
                words.extend(e.aliases.iter().cloned());
            }
        }
        assert!(
            sets.iter().any(|(_, q)| q.contains(&"\"11\"".to_string())) || name != "mainland-resident",
            "{sets:?}"
        );
        for f in &files {
            let text = std::fs::read_to_string(f).unwrap();
            for w in &words {
                if stands_alone(&text, w) {
                    found.push(format!("{}: `{w}`", f.display()));
                }
            }
            for (set, quoted) in &sets {
                let here = quoted.iter().filter(|q| text.contains(q.as_str())).count();
                let enough = if quoted.len() <= 3 {
                    quoted.len()
                } else {
                    quoted.len().div_ceil(2)
                };
                if !quoted.is_empty() && here >= enough {
                    found.push(format!(
                        "{}: {here} of the {} texts of `set {set}`",
                        f.display(),
                        quoted.len()
                    ));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "domain knowledge in Rust source:\n{}",
        found.join("\n")
    );
}
