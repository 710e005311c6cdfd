//! The editor support files: the TextMate grammar and the VS Code extension.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::Value;

fn read(path: &str) -> String {
    std::fs::read_to_string(format!("{}/{path}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn grammar() -> (String, Value) {
    let text = read("editors/kycrules.tmLanguage.json");
    let json = serde_json::from_str(&text).unwrap();
    (text, json)
}

#[test]
fn the_grammar_is_json_with_its_scope() {
    let (_, g) = grammar();
    assert_eq!(g["scopeName"], "source.kycrules");
    assert_eq!(g["fileTypes"], serde_json::json!(["rules"]));
    assert!(g["patterns"].as_array().is_some_and(|p| !p.is_empty()));
    // Every `include` names a rule of the repository.
    let (text, g) = grammar();
    for part in text.split("\"include\": \"#").skip(1) {
        let name = part.split('"').next().unwrap();
        assert!(g["repository"].get(name).is_some(), "no repository rule `{name}`");
    }
}

/// Every regular expression of the grammar.
fn regexes(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                match v {
                    Value::String(s) if matches!(k.as_str(), "match" | "begin" | "end") => out.push(s.clone()),
                    _ => regexes(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| regexes(v, out)),
        _ => {}
    }
}

/// Whether some regular expression of the grammar names `word` as a whole word.
fn highlights(word: &str) -> bool {
    let (_, g) = grammar();
    let mut all = Vec::new();
    regexes(&g, &mut all);
    let ident = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
    all.iter().any(|r| {
        let r = r.replace("\\b", " ");
        r.match_indices(word)
            .any(|(i, _)| !ident(r[..i].chars().next_back()) && !ident(r[i + word.len()..].chars().next()))
    })
}

#[test]
fn the_grammar_knows_every_keyword() {
    let pest = read("crates/kycrules/grammar/policy.pest");
    let keywords: Vec<&str> = pest
        .lines()
        .filter(|l| l.starts_with("kw_"))
        .filter_map(|l| l.split('"').nth(1))
        .collect();
    assert!(keywords.len() >= 30, "{keywords:?}");
    for kw in keywords {
        assert!(highlights(kw), "the grammar does not highlight the keyword `{kw}`");
    }
    for outcome in ["reject", "limited", "review", "note"] {
        assert!(
            highlights(outcome),
            "the grammar does not highlight the outcome `{outcome}`"
        );
    }
}

#[test]
fn the_grammar_knows_every_builtin_function() {
    let source = read("crates/kycrules/src/compile/expr.rs");
    let list = source
        .split("const FUNCTIONS: &[&str] = &[")
        .nth(1)
        .and_then(|rest| rest.split("];").next())
        .expect("the compiler's list of functions moved; update this test");
    let functions: Vec<&str> = list.split('"').skip(1).step_by(2).collect();
    assert!(functions.len() >= 20, "{functions:?}");
    for f in functions.into_iter().chain(["any", "all", "count", "script"]) {
        assert!(
            highlights(f),
            "the grammar does not highlight the built-in function `{f}`"
        );
    }
}

#[test]
fn the_vscode_extension_contributes_the_grammar() {
    let pkg: Value = serde_json::from_str(&read("editors/vscode/package.json")).unwrap();
    let grammar = &pkg["contributes"]["grammars"][0];
    assert_eq!(grammar["scopeName"], "source.kycrules");
    assert_eq!(grammar["language"], "kycrules");
    assert_eq!(grammar["path"], "./syntaxes/kycrules.tmLanguage.json");
    assert_eq!(pkg["contributes"]["languages"][0]["extensions"][0], ".rules");
    let _: Value = serde_json::from_str(&read("editors/vscode/language-configuration.json")).unwrap();
}

#[test]
fn the_grammar_knows_the_value_words() {
    for word in ["sum", "min", "max", "today", "days", "months", "years", "set", "mod"] {
        assert!(highlights(word), "the grammar does not highlight `{word}`");
    }
    // A duration is one token pair, number and unit, in the expression rules.
    let (text, _) = grammar();
    assert!(text.contains("constant.numeric.duration.kycrules"));
    assert!(text.contains("keyword.operator.arithmetic.kycrules"));
}
