//! Names, character by character: each class of look-alike and invisible
//! character that issue 5 lists, evaluated with the shipped policy, with the
//! `name-charset` message in English and Chinese.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use serde_json::json;

/// (snapshot name, the name typed, the character `name-charset` must report).
const CASES: &[(&str, &str, char)] = &[
    ("bullet", "John\u{2022}Smith", '\u{2022}'),
    ("katakana-middle-dot", "John\u{30FB}Smith", '\u{30FB}'),
    ("hyphenation-point", "John\u{2027}Smith", '\u{2027}'),
    ("fullwidth-full-stop", "J\u{FF0E} Smith", '\u{FF0E}'),
    ("hyphen", "Mary\u{2010}Jane Smith", '\u{2010}'),
    ("non-breaking-hyphen", "Mary\u{2011}Jane Smith", '\u{2011}'),
    ("figure-dash", "Mary\u{2012}Jane Smith", '\u{2012}'),
    ("en-dash", "Mary\u{2013}Jane Smith", '\u{2013}'),
    ("em-dash", "Mary\u{2014}Jane Smith", '\u{2014}'),
    ("horizontal-bar", "Mary\u{2015}Jane Smith", '\u{2015}'),
    ("fullwidth-hyphen-minus", "Mary\u{FF0D}Jane Smith", '\u{FF0D}'),
    ("zero-width-space", "John\u{200B}Smith", '\u{200B}'),
    ("zero-width-joiner", "John Smith\u{200D}", '\u{200D}'),
    ("left-to-right-mark", "\u{200E}John Smith", '\u{200E}'),
    ("right-to-left-mark", "John\u{200F} Smith", '\u{200F}'),
    ("right-to-left-override", "John \u{202E}htimS", '\u{202E}'),
    ("left-to-right-embedding", "John \u{202A}Smith\u{202C}", '\u{202A}'),
    ("first-strong-isolate", "John \u{2068}Smith\u{2069}", '\u{2068}'),
    ("word-joiner", "John\u{2060}Smith", '\u{2060}'),
    ("byte-order-mark", "\u{FEFF}John Smith", '\u{FEFF}'),
    ("mongolian-vowel-separator", "John\u{180E}Smith", '\u{180E}'),
    ("arabic-letter-mark", "John\u{061C}Smith", '\u{061C}'),
];

#[test]
fn each_look_alike_and_invisible_character_is_named() {
    let rs = shipped();
    let base = yaml(include_str!("fixtures/catalogue/_base.yaml"));
    for &(case, name, ch) in CASES {
        let mut app = base.clone();
        kycrules::patch::merge(
            &mut app,
            &json!({"applicant": {"name": name}, "bank_card": {"holder_name": name}}),
        );
        let mut out = String::new();
        for lang in ["en", "zh"] {
            let (o, line) = evaluate_json(rs, &app, lang);
            assert_eq!(fired(rs, &o), ["name-charset"], "{case} ({lang}): {line}");
            let code = format!("U+{:04X}", ch as u32);
            assert!(line.contains(&code), "{case} ({lang}) names {code}: {line}");
            out.push_str(&format!("{lang}: {line}\n"));
        }
        insta::assert_snapshot!(case, out);
    }
}

#[test]
fn invisible_characters_are_never_printed() {
    let rs = shipped();
    let base = yaml(include_str!("fixtures/catalogue/_base.yaml"));
    for &(case, name, ch) in CASES {
        if !kycrules::charset::is_invisible(ch) {
            continue;
        }
        let mut app = base.clone();
        kycrules::patch::merge(&mut app, &json!({"applicant": {"name": name}}));
        let (o, _) = evaluate_json(rs, &app, "en");
        let message = &o.result.as_ref().unwrap().violations[0].message;
        assert!(message.contains("(invisible)"), "{case}: {message}");
        assert!(
            !message.contains(ch),
            "{case}: the message shows the invisible character"
        );
    }
}
