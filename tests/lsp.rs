//! `kycrules lsp`: the real binary, spoken to in JSON-RPC over stdio, on a copy
//! of `tests/fixtures/lsp/wallet` (two `.rules` files and a test file).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use kycrules_lsp::client::Client;
use kycrules_lsp::text::path_to_uri;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

/// A fresh copy of the fixture policy in its own temporary directory.
fn workspace(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kycrules-lsp-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lsp/wallet");
    std::fs::create_dir_all(dir.join("tests")).unwrap();
    for f in ["00-schema.rules", "10-rules.rules", "tests/wallet.yaml"] {
        std::fs::copy(src.join(f), dir.join(f)).unwrap();
    }
    dir
}

struct Session {
    client: Client,
    dir: PathBuf,
}

/// A fresh copy of a shipped policy directory (`policies/NAME`), its `.rules` and YAML files.
fn policy_workspace(name: &str, policy: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kycrules-lsp-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("policies").join(policy);
    for f in kycrules::files::collect(&src, &["rules", "yaml"]) {
        let to = dir.join(f.strip_prefix(&src).unwrap());
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(&f, to).unwrap();
    }
    dir
}

impl Session {
    fn start(name: &str, options: Value) -> (Session, Value) {
        Session::start_in(workspace(name), options)
    }

    fn start_in(dir: PathBuf, options: Value) -> (Session, Value) {
        let mut client = Client::start(env!("CARGO_BIN_EXE_kycrules"), &["lsp"]).unwrap();
        let init = client
            .request(
                "initialize",
                json!({"processId": null, "rootUri": path_to_uri(&dir), "capabilities": {}, "initializationOptions": options}),
            )
            .unwrap();
        client.notify("initialized", json!({})).unwrap();
        (Session { client, dir }, init)
    }

    fn uri(&self, file: &str) -> String {
        path_to_uri(&self.dir.join(file))
    }

    fn text(&self, file: &str) -> String {
        std::fs::read_to_string(self.dir.join(file)).unwrap()
    }

    fn open(&mut self, file: &str) {
        let (uri, text) = (self.uri(file), self.text(file));
        self.client
            .notify(
                "textDocument/didOpen",
                json!({"textDocument": {"uri": uri, "languageId": "kycrules", "version": 1, "text": text}}),
            )
            .unwrap();
    }

    fn change(&mut self, file: &str, version: i64, text: &str) {
        let uri = self.uri(file);
        self.client
            .notify(
                "textDocument/didChange",
                json!({"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": text}]}),
            )
            .unwrap();
    }

    /// A request at the `nth` (0-based) occurrence of `needle` in `file`, `delta` characters into it.
    fn at(&mut self, method: &str, file: &str, needle: &str, nth: usize, delta: usize, extra: Value) -> Value {
        let text = self.text(file);
        let offset = text
            .match_indices(needle)
            .nth(nth)
            .unwrap_or_else(|| panic!("no {needle}"))
            .0
            + delta;
        let line = text[..offset].matches('\n').count();
        let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
        let character = text[line_start..offset].encode_utf16().count();
        let mut params =
            json!({"textDocument": {"uri": self.uri(file)}, "position": {"line": line, "character": character}});
        if let (Some(p), Some(e)) = (params.as_object_mut(), extra.as_object()) {
            p.extend(e.clone());
        }
        let v = self.client.request(method, params).unwrap();
        self.norm(v)
    }

    fn request(&mut self, method: &str, params: Value) -> Value {
        let v = self.client.request(method, params).unwrap();
        self.norm(v)
    }

    fn diagnostics(&mut self, file: &str) -> Value {
        let uri = self.uri(file);
        let v = self.client.diagnostics(&uri).unwrap();
        self.norm(v)
    }

    /// The value with the temporary directory written `ROOT`.
    fn norm(&self, v: Value) -> Value {
        let text = v
            .to_string()
            .replace(&path_to_uri(&self.dir), "file:///ROOT")
            .replace(&self.dir.to_string_lossy().to_string(), "ROOT");
        serde_json::from_str(&text).unwrap()
    }

    fn finish(self) {
        let Session { client, dir } = self;
        assert_eq!(client.shutdown().unwrap(), Some(0));
        let _ = std::fs::remove_dir_all(dir);
    }
}

fn result(v: &Value) -> Value {
    v.get("result").cloned().unwrap_or_else(|| panic!("an error: {v}"))
}

fn labels(v: &Value) -> Vec<String> {
    result(v)["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["label"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn initialize_announces_every_feature() {
    let (s, init) = Session::start("init", json!({}));
    insta::assert_snapshot!("initialize", pretty(&result(&init)));
    s.finish();
}

#[test]
fn diagnostics_go_to_each_file_of_the_directory_with_codes() {
    let (mut s, _) = Session::start("diags", json!({}));
    // Only the rules file is opened; the schema file's warnings come from disk.
    s.open("10-rules.rules");
    let schema = s.diagnostics("00-schema.rules");
    let rules = s.diagnostics("10-rules.rules");
    insta::assert_snapshot!("diagnostics_on_open", pretty(&json!([schema, rules])));
    // Hovering a warning explains its code, as `kycrules codes W0004` does.
    let hover = s.at("textDocument/hover", "00-schema.rules", "kind: debit", 0, 1, json!({}));
    insta::assert_snapshot!("hover_on_a_warning", pretty(&hover));
    s.finish();
}

#[test]
fn a_broken_file_never_hides_the_others_diagnostics() {
    let (mut s, _) = Session::start("broken", json!({"debounceMs": 1500}));
    s.open("00-schema.rules");
    s.open("10-rules.rules");
    for f in ["00-schema.rules", "10-rules.rules", "00-schema.rules", "10-rules.rules"] {
        s.diagnostics(f);
    }
    // A syntax error in the rules file, an unknown type in the schema file.
    let schema = s.text("00-schema.rules").replace("age: decimal", "age: decimall");
    s.change("00-schema.rules", 2, &schema);
    // A burst of edits is compiled once, after the last (debounce).
    let rules = s.text("10-rules.rules");
    for v in 2..=6 {
        let broken = rules.replace("when age < 18", &format!("when age < {v} and"));
        s.change("10-rules.rules", v, &broken);
    }
    let schema_diags = s.diagnostics("00-schema.rules");
    let rules_diags = s.diagnostics("10-rules.rules");
    assert_eq!(rules_diags["version"], 6, "{rules_diags}");
    insta::assert_snapshot!("broken_files", pretty(&json!([schema_diags, rules_diags])));
    // No second publication for the burst: the next one is the fix's.
    s.change("10-rules.rules", 7, &rules);
    let fixed = s.diagnostics("10-rules.rules");
    assert_eq!(fixed["version"], 7, "{fixed}");
    s.finish();
}

#[test]
fn hover_shows_fields_banks_messages_builtins_rules_and_lets() {
    let (mut s, _) = Session::start("hover", json!({}));
    s.open("10-rules.rules");
    let r = "10-rules.rules";
    let mut all = serde_json::Map::new();
    for (name, file, needle, nth, delta) in [
        ("field", r, "card.bank", 0, 6),
        ("list_item_field", r, "d.legible", 0, 3),
        ("bank_attribute", r, "bank.supported", 0, 5),
        ("charset", r, "name_chars", 1, 0),
        ("builtin", r, "only", 0, 1),
        ("quantifier", r, "any(", 0, 0),
        ("message", r, "message bad_name", 0, 9),
        ("rule_in_fired", r, "fired(adult)", 0, 7),
        ("let", r, "given has_card", 0, 7),
        ("bank", "00-schema.rules", "bank CMB", 0, 6),
        ("nothing", r, "next_step", 0, 2),
    ] {
        all.insert(
            name.into(),
            s.at("textDocument/hover", file, needle, nth, delta, json!({})),
        );
    }
    insta::assert_snapshot!("hover", pretty(&all));
    s.finish();
}

#[test]
fn definition_references_and_rename_across_files() {
    let (mut s, _) = Session::start("nav", json!({}));
    s.open("10-rules.rules");
    let r = "10-rules.rules";
    let mut all = serde_json::Map::new();
    let d = "textDocument/definition";
    all.insert("def_let".into(), s.at(d, r, "given has_card", 0, 7, json!({})));
    all.insert(
        "def_field_in_other_file".into(),
        s.at(d, r, "d.legible", 0, 3, json!({})),
    );
    all.insert("def_rule_in_fired".into(), s.at(d, r, "fired(adult)", 0, 7, json!({})));
    all.insert("def_charset".into(), s.at(d, r, "name_chars", 1, 0, json!({})));
    all.insert("def_message".into(), s.at(d, r, "message too_young", 0, 9, json!({})));
    all.insert(
        "def_bank_attribute".into(),
        s.at(d, r, "bank.supported", 0, 5, json!({})),
    );
    let refs = "textDocument/references";
    let with_decl = json!({"context": {"includeDeclaration": true}});
    all.insert("refs_field".into(), s.at(refs, r, "card.bank", 0, 6, with_decl.clone()));
    all.insert(
        "refs_charset".into(),
        s.at(refs, r, "name_chars", 0, 0, with_decl.clone()),
    );
    all.insert(
        "refs_message_without_decl".into(),
        s.at(
            refs,
            r,
            "message no_email",
            0,
            9,
            json!({"context": {"includeDeclaration": false}}),
        ),
    );
    let rn = "textDocument/rename";
    all.insert(
        "rename_let".into(),
        s.at(rn, r, "has_card", 0, 0, json!({"newName": "carded"})),
    );
    all.insert(
        "rename_rule".into(),
        s.at(rn, r, "rule adult", 0, 5, json!({"newName": "grown-up"})),
    );
    all.insert(
        "rename_message".into(),
        s.at(rn, r, "illegible", 0, 0, json!({"newName": "unreadable"})),
    );
    all.insert(
        "rename_to_a_taken_name".into(),
        s.at(rn, r, "has_card", 0, 0, json!({"newName": "has_card"})),
    );
    all.insert(
        "rename_a_field".into(),
        s.at(rn, r, "card.bank", 0, 6, json!({"newName": "x"})),
    );
    all.insert(
        "rename_to_a_keyword".into(),
        s.at(rn, r, "has_card", 0, 0, json!({"newName": "when"})),
    );
    insta::assert_snapshot!("navigation", pretty(&all));
    s.finish();
}

#[test]
fn completion_offers_fields_after_a_dot_banks_messages_builtins_and_keywords() {
    let (mut s, _) = Session::start("complete", json!({}));
    s.open("10-rules.rules");
    let c = "textDocument/completion";
    let r = "10-rules.rules";
    let card = s.at(c, r, "card.bank.supported", 0, 5, json!({}));
    let bank = s.at(c, r, "card.bank.supported", 0, 10, json!({}));
    let item = s.at(c, r, "d.legible", 0, 2, json!({}));
    let message = s.at(c, r, "message bad_name", 0, 8, json!({}));
    let fired = s.at(c, r, "fired(adult)", 0, 6, json!({}));
    let anywhere = s.at(c, r, "when age", 0, 5, json!({}));
    assert_eq!(
        result(&card)["items"],
        json!([{"label": "bank", "kind": 5, "detail": "bank"}, {"label": "kind", "kind": 5, "detail": "debit | credit"}])
    );
    assert_eq!(labels(&bank), ["supported", "code", "known"]);
    assert_eq!(labels(&item), ["kind", "legible"]);
    assert_eq!(
        labels(&message),
        ["bad_name", "illegible", "no_email", "too_young", "unsupported_bank"]
    );
    assert_eq!(
        labels(&fired),
        [
            "adult",
            "email-missing",
            "legible-documents",
            "name-letters",
            "supported-bank"
        ]
    );
    let anywhere = labels(&anywhere);
    for want in [
        "age",
        "card",
        "has_card",
        "name_chars",
        "ABC",
        "CMB",
        "bad_name",
        "only",
        "any",
        "when",
        "reject",
    ] {
        assert!(anywhere.iter().any(|l| l == want), "no `{want}` in {anywhere:?}");
    }
    insta::assert_snapshot!("completion_anywhere", pretty(&anywhere));
    s.finish();
}

#[test]
fn formatting_symbols_folding_and_semantic_tokens() {
    let (mut s, _) = Session::start("layout", json!({}));
    s.open("10-rules.rules");
    let r = "10-rules.rules";
    let uri = s.uri(r);
    let doc = json!({"textDocument": {"uri": uri}});
    let clean = s.request(
        "textDocument/formatting",
        json!({"textDocument": {"uri": uri}, "options": {"tabSize": 2, "insertSpaces": true}}),
    );
    assert_eq!(result(&clean), json!([]), "the fixture is formatted");
    let messy = s.text(r).replace(
        "let has_card = present(card)",
        "let   has_card=present( card )   # kept",
    );
    s.change(r, 2, &messy);
    let edits = s.request(
        "textDocument/formatting",
        json!({"textDocument": {"uri": uri}, "options": {"tabSize": 2, "insertSpaces": true}}),
    );
    let new_text = result(&edits)[0]["newText"].as_str().unwrap().to_string();
    assert_eq!(
        new_text,
        s.text(r)
            .replace("let has_card = present(card)", "let has_card = present(card)  # kept")
    );
    s.change(r, 3, &s.text(r));
    let mut all = serde_json::Map::new();
    all.insert("formatting_edit_range".into(), result(&edits)[0]["range"].clone());
    all.insert(
        "document_symbols_schema".into(),
        s.request(
            "textDocument/documentSymbol",
            json!({"textDocument": {"uri": s.uri("00-schema.rules")}}),
        ),
    );
    all.insert(
        "document_symbols_rules".into(),
        s.request("textDocument/documentSymbol", doc.clone()),
    );
    all.insert(
        "workspace_symbols".into(),
        s.request("workspace/symbol", json!({"query": "ban"})),
    );
    all.insert("folding".into(), s.request("textDocument/foldingRange", doc.clone()));
    all.insert(
        "semantic_tokens".into(),
        s.request("textDocument/semanticTokens/full", doc),
    );
    insta::assert_snapshot!("layout", pretty(&all));
    s.finish();
}

#[test]
fn code_lenses_count_tests_and_sample_and_the_test_command_publishes_failures() {
    let (mut s, _) = Session::start("lens", json!({}));
    s.open("10-rules.rules");
    let uri = s.uri("10-rules.rules");
    let generated = s.request("textDocument/codeLens", json!({"textDocument": {"uri": uri}}));
    // A sample named in the settings: three applications, two of them minors.
    let sample = s.dir.join("sample.jsonl");
    std::fs::write(
        &sample,
        concat!(
            r#"{"id":"S-1","name":"Ada","age":36,"email":"a@b.c","documents":[]}"#,
            "\n",
            r#"{"id":"S-2","name":"Bob","age":12,"documents":[]}"#,
            "\n",
            r#"{"id":"S-3","name":"Cy","age":15,"documents":[{"kind":"visa","legible":false}]}"#,
            "\n",
        ),
    )
    .unwrap();
    s.client
        .notify(
            "workspace/didChangeConfiguration",
            json!({"settings": {"kycrules": {"sample": "sample.jsonl"}}}),
        )
        .unwrap();
    s.client
        .notify("textDocument/didSave", json!({"textDocument": {"uri": uri}}))
        .unwrap();
    let configured = s.request("textDocument/codeLens", json!({"textDocument": {"uri": uri}}));
    let run = s.request(
        "workspace/executeCommand",
        json!({"command": "kycrules.runTests", "arguments": []}),
    );
    let failures = s.diagnostics("tests/wallet.yaml");
    insta::assert_snapshot!(
        "code_lenses",
        pretty(&json!({"generated": generated, "configured": configured, "run": run, "failures": failures}))
    );
    s.finish();
}

#[test]
fn the_vscode_extension_starts_the_server() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("editors/vscode");
    let pkg: Value = serde_json::from_str(&std::fs::read_to_string(root.join("package.json")).unwrap()).unwrap();
    assert_eq!(pkg["main"], "./extension.js");
    assert_eq!(pkg["activationEvents"], json!(["onLanguage:kycrules"]));
    assert!(pkg["dependencies"]["vscode-languageclient"].is_string());
    let props = &pkg["contributes"]["configuration"]["properties"];
    for key in ["kycrules.server.path", "kycrules.sample", "kycrules.debounceMs"] {
        assert!(props.get(key).is_some(), "no setting {key}");
    }
    let js = std::fs::read_to_string(root.join("extension.js")).unwrap();
    assert!(js.contains("args: [\"lsp\"]"), "the extension starts `kycrules lsp`");
    assert!(js.contains("language: \"kycrules\""));
}

#[test]
fn a_document_over_the_size_limit_gets_one_error_and_the_others_still_compile() {
    let (mut s, _) = Session::start("large", json!({}));
    s.open("10-rules.rules");
    s.diagnostics("00-schema.rules");
    s.diagnostics("10-rules.rules");
    let limit = kycrules_lsp::MAX_DOCUMENT;
    let mut big = s.text("10-rules.rules");
    big.push_str(&format!("# {}\n", "x".repeat(limit - big.len())));
    assert!(big.len() > limit);
    s.change("10-rules.rules", 2, &big);
    let schema = s.diagnostics("00-schema.rules");
    let rules = s.diagnostics("10-rules.rules");
    // The rules file counts as empty: its messages are gone, so the schema
    // file is still checked (and warned about the fields no rule reads now).
    assert!(schema["diagnostics"].as_array().unwrap().len() >= 2, "{schema}");
    assert_eq!(rules["diagnostics"].as_array().unwrap().len(), 1, "{rules}");
    let msg = rules["diagnostics"][0]["message"].as_str().unwrap();
    assert!(msg.contains(&format!("more than the {limit}")), "{msg}");
    assert_eq!(rules["diagnostics"][0]["code"], "E0003");
    // Back under the limit, it compiles again.
    let text = s.text("10-rules.rules");
    s.change("10-rules.rules", 3, &text);
    assert_eq!(s.diagnostics("10-rules.rules")["diagnostics"], json!([]));
    s.finish();
}

#[test]
fn every_position_of_whole_and_cut_files_gets_an_answer() {
    let (mut s, _) = Session::start("everywhere", json!({}));
    s.open("10-rules.rules");
    let full = s.text("10-rules.rules");
    let uri = s.uri("10-rules.rules");
    // The whole file, then cut in the middle of a rule (a syntax error).
    let cut: String = full.chars().take(full.chars().count() / 3).collect();
    for (version, text) in [(2, full.clone()), (3, cut)] {
        s.change("10-rules.rules", version, &text);
        for (line, l) in text.lines().enumerate() {
            for character in (0..=l.encode_utf16().count()).step_by(3) {
                for method in [
                    "textDocument/hover",
                    "textDocument/definition",
                    "textDocument/completion",
                ] {
                    let pos = json!({"textDocument": {"uri": uri}, "position": {"line": line, "character": character}});
                    let v = s.client.request(method, pos).unwrap();
                    assert!(v.get("result").is_some(), "{method} at {line}:{character}: {v}");
                }
            }
        }
        for method in [
            "textDocument/documentSymbol",
            "textDocument/foldingRange",
            "textDocument/semanticTokens/full",
            "textDocument/codeLens",
            "textDocument/formatting",
        ] {
            let v = s
                .client
                .request(method, json!({"textDocument": {"uri": uri}, "options": {}}))
                .unwrap();
            assert!(v.get("result").is_some(), "{method}: {v}");
        }
    }
    s.finish();
}

#[test]
fn the_shipped_policy_is_clean_and_its_lenses_count_its_suite_and_generated_records() {
    let dir = std::env::temp_dir().join(format!("kycrules-lsp-shipped-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let rules = Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
    std::fs::create_dir_all(dir.join("tests")).unwrap();
    for f in kycrules::files::collect(&rules, &["rules", "yaml"]) {
        let rel = f.strip_prefix(&rules).unwrap();
        std::fs::copy(&f, dir.join(rel)).unwrap();
    }
    let mut client = Client::start(env!("CARGO_BIN_EXE_kycrules"), &["lsp"]).unwrap();
    client
        .request(
            "initialize",
            json!({"processId": null, "rootUri": path_to_uri(&dir), "capabilities": {}}),
        )
        .unwrap();
    client.notify("initialized", json!({})).unwrap();
    let file = dir.join("20-applicant.rules");
    let uri = path_to_uri(&file);
    let text = std::fs::read_to_string(&file).unwrap();
    client
        .notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri, "languageId": "kycrules", "version": 1, "text": text}}),
        )
        .unwrap();
    for f in kycrules::files::collect(&dir, &["rules"]) {
        let d = client.diagnostics(&path_to_uri(&f)).unwrap();
        assert_eq!(d["diagnostics"], json!([]), "{}", f.display());
    }
    let lenses = client
        .request("textDocument/codeLens", json!({"textDocument": {"uri": uri}}))
        .unwrap();
    let titles: Vec<&str> = lenses["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["command"]["title"].as_str().unwrap())
        .collect();
    assert!(!titles.is_empty());
    // The shipped suite fires every rule; generated records fire some of this file's rules.
    assert!(
        titles
            .iter()
            .filter(|t| t.starts_with("fires in "))
            .all(|t| !t.starts_with("fires in 0 ")),
        "{titles:?}"
    );
    let sample: Vec<f64> = titles
        .iter()
        .filter_map(|t| t.strip_prefix("fires on ")?.split('%').next()?.parse().ok())
        .collect();
    assert!(sample.iter().any(|k| *k > 0.0), "{titles:?}");
    assert!(
        titles.iter().any(|t| t.contains("(1000 generated records")),
        "{titles:?}"
    );
    assert_eq!(client.shutdown().unwrap(), Some(0));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_save_rereads_the_files_that_are_not_open() {
    let (mut s, _) = Session::start("save", json!({}));
    s.open("10-rules.rules");
    s.diagnostics("00-schema.rules");
    s.diagnostics("10-rules.rules");
    // Another program changes the schema file on disk and adds a file.
    let schema = s.text("00-schema.rules").replace("age: decimal", "age: decimall");
    std::fs::write(s.dir.join("00-schema.rules"), schema).unwrap();
    std::fs::write(s.dir.join("20-more.rules"), "let unused_more = true\n").unwrap();
    let uri = s.uri("10-rules.rules");
    s.client
        .notify("textDocument/didSave", json!({"textDocument": {"uri": uri}}))
        .unwrap();
    let schema = s.diagnostics("00-schema.rules");
    let codes: Vec<&str> = schema["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["E0026"], "{schema}");
    s.diagnostics("10-rules.rules");
    assert_eq!(s.diagnostics("20-more.rules")["diagnostics"], json!([]));
    s.finish();
}

/// A JSON value as the snapshots hold it: pretty JSON written by serde_json,
/// which prints the exact numbers the engine reads (`arbitrary_precision`).
fn pretty(v: &impl serde::Serialize) -> String {
    serde_json::to_string_pretty(v).unwrap()
}

/// The mainland-resident policy's `table region`: hover, definition and
/// completion know the table, its entries and its attribute.
#[test]
fn tables_have_hover_definition_and_completion() {
    let (mut s, _) = Session::start_in(policy_workspace("tables", "mainland-resident"), json!({}));
    let (id, regions) = ("20-id-number.rules", "15-regions.rules");
    s.open(id);
    let (h, d, c) = (
        "textDocument/hover",
        "textDocument/definition",
        "textDocument/completion",
    );
    let hover = |s: &mut Session, file: &str, needle: &str, nth: usize, delta: usize| {
        let v = s.at(h, file, needle, nth, delta, json!({}));
        result(&v)["contents"]["value"].as_str().unwrap_or_default().to_string()
    };
    let table = hover(&mut s, id, "region(province)", 0, 2);
    let attr = hover(&mut s, id, "id_region.permit", 0, 12);
    let entry = hover(&mut s, regions, "\"81\"", 0, 1);
    let declared = hover(&mut s, regions, "table region", 0, 7);
    insta::assert_snapshot!(
        "tables_hover",
        format!("{table}\n\n=====\n\n{attr}\n\n=====\n\n{entry}\n\n=====\n\n{declared}")
    );
    assert!(table.contains("table region {\n  permit: bool = false\n}"), "{table}");
    assert!(table.contains("34 entries"), "{table}");
    assert!(
        attr.contains("permit: bool = false") && attr.contains("attribute of table `region`"),
        "{attr}"
    );
    assert!(
        entry.contains("region `81`")
            && entry.contains("name en: \"Hong Kong\"")
            && entry.contains("name zh: \"香港\"")
            && entry.contains("permit = true"),
        "{entry}"
    );
    assert_eq!(declared, table);

    // Definitions: the lookup goes to the table, the attribute to its declaration.
    let line_of = |v: &Value| {
        (
            result(v)[0]["uri"].clone(),
            result(v)[0]["range"]["start"]["line"].clone(),
        )
    };
    let regions_uri = json!("file:///ROOT/15-regions.rules");
    assert_eq!(
        line_of(&s.at(d, id, "region(province)", 0, 2, json!({}))),
        (regions_uri.clone(), json!(3))
    );
    assert_eq!(
        line_of(&s.at(d, id, "id_region.permit", 0, 12, json!({}))),
        (regions_uri.clone(), json!(4))
    );

    // Completion: the entry's fields after `id_region.`, the table as a type
    // and as a lookup, the codes after `.code == `.
    let after_dot = s.at(c, id, "id_region.permit", 0, 10, json!({}));
    assert_eq!(labels(&after_dot), ["permit", "code", "known"]);
    assert_eq!(
        result(&after_dot)["items"][0]["detail"],
        json!("bool, attribute of table `region`")
    );
    let type_position = labels(&s.at(c, regions, "permit: bool", 0, 8, json!({})));
    for want in ["text", "bool", "decimal", "date", "bank", "region"] {
        assert!(
            type_position.iter().any(|l| l == want),
            "no `{want}` in {type_position:?}"
        );
    }
    assert!(!type_position.iter().any(|l| l == "reject"), "{type_position:?}");
    let anywhere = s.at(c, id, "when not present(id_region)", 0, 5, json!({}));
    let lookup = result(&anywhere)["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["label"] == "region")
        .cloned();
    assert_eq!(
        lookup,
        Some(json!({"label": "region", "kind": 3, "detail": "region(text) -> region?"}))
    );

    // A code compared with `.code`: completion offers the table's codes, and
    // the written code goes to its entry.
    let text =
        s.text(id) + "\nlet hong_kong = id_region.code == \"81\"\nlet looked_up = region(slice(id, 0, 2)).permit\n";
    std::fs::write(s.dir.join(id), &text).unwrap();
    s.change(id, 2, &text);
    let codes = s.at(c, id, "code == \"81\"", 0, 8, json!({}));
    let codes_labels = labels(&codes);
    assert_eq!(codes_labels.len(), 34, "{codes_labels:?}");
    assert!(codes_labels.iter().any(|l| l == "\"81\""), "{codes_labels:?}");
    let hk = result(&codes)["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["label"] == "\"81\"")
        .cloned();
    assert_eq!(hk.unwrap()["detail"], json!("region Hong Kong"));
    let after_call = s.at(c, id, "0, 2)).permit", 0, 7, json!({}));
    assert_eq!(labels(&after_call), ["permit", "code", "known"]);
    let to_entry = s.at(d, id, "\"81\"", 0, 1, json!({}));
    let entry_line = s.text(regions).lines().position(|l| l == "region \"81\" {").unwrap();
    assert_eq!(line_of(&to_entry), (regions_uri, json!(entry_line)));

    // Every position of both files (names in Chinese included) gets an answer.
    s.open(regions);
    for file in [id, regions] {
        let uri = s.uri(file);
        for (line, l) in s.text(file).lines().enumerate() {
            for character in (0..=l.encode_utf16().count()).step_by(4) {
                for method in [h, d, c] {
                    let pos = json!({"textDocument": {"uri": uri}, "position": {"line": line, "character": character}});
                    let v = s.client.request(method, pos).unwrap();
                    assert!(v.get("result").is_some(), "{method} at {file}:{line}:{character}: {v}");
                }
            }
        }
    }
    s.finish();
}
