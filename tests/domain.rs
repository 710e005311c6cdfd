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
    for bank in &rs.banks.list {
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
