//! Policy lints: one fixture per warning code, each with its snapshot, and
//! near misses that must stay silent.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use kycrules::diag::{self, Diagnostic};
use kycrules::source::SourceMap;

fn lint(name: &str, text: &str) -> (SourceMap, Vec<Diagnostic>) {
    let mut sources = SourceMap::default();
    sources.add(name, text);
    let diags = kycrules::lint::lint_policy(&sources);
    (sources, diags)
}

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/lint/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(path).unwrap()
}

#[test]
fn every_warning_code_has_a_fixture_and_snapshot() {
    insta::glob!("fixtures/lint/W*.rules", |path| {
        let file = path.file_name().unwrap().to_str().unwrap();
        let code = &file[..5];
        let (sources, diags) = lint(&format!("lint/{file}"), &std::fs::read_to_string(path).unwrap());
        let text = diag::render_human(&diags, &sources, false);
        assert!(!diags.is_empty(), "{file}: no warning");
        // Each fixture shows its own lint alone, so that a change elsewhere shows up.
        // (The W0004 fixture's allow of another code silences nothing: W0009 says so.)
        let own = |d: &Diagnostic| d.code == code || (code == "W0004" && d.code == diag::STALE_ALLOW);
        assert!(diags.iter().all(|d| own(d) && !d.is_error()), "{file}:\n{text}");
        insta::assert_snapshot!(text);
    });
}

#[test]
fn every_documented_warning_has_a_fixture() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/lint");
    let names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    let warnings: Vec<_> = diag::CODES.iter().filter(|c| c.code.starts_with('W')).collect();
    assert!(warnings.len() >= 9);
    for c in warnings {
        assert!(names.iter().any(|n| n.starts_with(c.code)), "no fixture for {}", c.code);
        assert!(!c.explanation.is_empty() && !c.example.is_empty() && !c.fix.is_empty());
    }
}

#[test]
fn near_misses_are_not_warnings() {
    let (sources, diags) = lint("lint/clean.rules", &fixture("clean.rules"));
    assert!(diags.is_empty(), "{}", diag::render_human(&diags, &sources, false));
}

#[test]
fn allow_comments_silence_only_their_code() {
    let text = fixture("W0004-unread-field.rules");
    let (_, diags) = lint("w.rules", &text);
    let fields: Vec<&str> = diags
        .iter()
        .filter(|d| d.code == diag::UNREAD_FIELD)
        .map(|d| d.message.split('`').nth(1).unwrap())
        .collect();
    assert_eq!(
        fields,
        [
            "nickname",
            "other",
            "address.street",
            "contact",
            "card.number",
            "tags.note"
        ]
    );
    // Without the comments, the allowed fields are warned about too.
    let bare: String = text
        .lines()
        .map(|l| l.split('#').next().unwrap())
        .collect::<Vec<_>>()
        .join("\n");
    let (_, diags) = lint("w.rules", &bare);
    assert_eq!(diags.len(), 8, "{diags:#?}");
}

#[test]
fn shipped_policy_lints_clean() {
    let sources = kycrules::policy::embedded();
    let diags = kycrules::lint::lint_policy(&sources);
    assert!(diags.is_empty(), "{}", diag::render_human(&diags, &sources, false));
}

#[test]
fn rules_directory_lints_clean() {
    let dir = std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/rules"));
    let (sources, read_errors) = kycrules::policy::read(&[dir]);
    assert!(read_errors.is_empty(), "{read_errors:?}");
    let diags = kycrules::lint::lint_policy(&sources);
    assert!(diags.is_empty(), "{}", diag::render_human(&diags, &sources, false));
}

#[test]
fn a_policy_that_does_not_compile_gives_its_errors_only() {
    let text = fixture("W0001-unused-message.rules").replace("length(name)", "length(nmae)");
    let (_, diags) = lint("broken.rules", &text);
    assert!(!diags.is_empty());
    assert!(diags.iter().all(Diagnostic::is_error), "{diags:#?}");
    assert!(diags.iter().any(|d| d.code == diag::UNKNOWN_FIELD));
}

#[test]
fn declarations_in_later_files_are_linted() {
    // Charsets and patterns declared in a second file, the schema in the first.
    let mut sources = SourceMap::default();
    sources.add(
        "a.rules",
        "policy \"t\" version \"1\" languages en\nschema { id: text  name: text }\ncharset ok = ascii_letter\n",
    );
    sources.add(
        "b.rules",
        "charset none = ascii_letter except ascii\nmessage m { en \"x\" }\n\
         rule r reject { when only(name, ok) or only(name, none) message m }\n",
    );
    let diags = kycrules::lint::lint_policy(&sources);
    let text = diag::render_human(&diags, &sources, false);
    assert_eq!(diags.len(), 1, "{text}");
    assert_eq!(diags[0].code, diag::EMPTY_SET);
    assert_eq!(sources.location(diags[0].span.unwrap()), "b.rules:1:9");
}

#[test]
fn long_conditions_stop_the_analysis_not_the_linter() {
    use kycrules::ast::{BinOp, Expr, ExprKind, Ident, Item, Literal};
    use kycrules::source::Span;
    let text = "policy \"t\" version \"1\" languages en\nschema { id: text  name: text }\n\
                message m { en \"x\" }\nrule r reject { when name == \"x\" message m }\n";
    let mut sources = SourceMap::default();
    sources.add("long.rules", text);
    let mut file = kycrules::syntax::parse(0, text).unwrap();
    let rs = kycrules::compile::compile(std::slice::from_ref(&file), &sources)
        .ruleset
        .unwrap();
    // `name == "x" and name == "x" and ...`, deeper than any walk of the linter goes.
    let leaf = || {
        let name = Expr::new(
            ExprKind::Path(vec![Ident::new("name".into(), Span::default())]),
            Span::default(),
        );
        let x = Expr::new(ExprKind::Literal(Literal::Text("x".into())), Span::default());
        Expr::new(
            ExprKind::Binary(BinOp::Eq, Box::new(name), Box::new(x)),
            Span::default(),
        )
    };
    let mut chain = leaf();
    for _ in 0..5000 {
        chain = Expr::new(
            ExprKind::Binary(BinOp::And, Box::new(chain), Box::new(leaf())),
            Span::default(),
        );
    }
    let Some(Item::Rule(rule)) = file.items.iter_mut().find(|i| matches!(i, Item::Rule(_))) else {
        panic!("no rule")
    };
    rule.when = vec![chain];
    let diags = kycrules::lint::lint(std::slice::from_ref(&file), &rs, &sources);
    assert!(diags.is_empty(), "{diags:#?}");
}

#[test]
fn an_allow_that_still_silences_is_not_stale() {
    // nickname is never read: its allow is used; the unknown code W0042 is reported.
    let (sources, diags) = lint("w.rules", &fixture("W0009-stale-allow.rules"));
    let text = diag::render_human(&diags, &sources, false);
    let stale: Vec<&str> = diags.iter().map(|d| d.message.as_str()).collect();
    assert_eq!(
        stale,
        [
            "`lint: allow(W0004)` silences nothing here",
            "`lint: allow(W0004)` silences nothing here",
            "`lint: allow(W0042)` silences nothing here",
            "`lint: allow(W0001)` silences nothing here",
        ],
        "{text}"
    );
    assert!(text.contains("not a lint code"), "{text}");
}
