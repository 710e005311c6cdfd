//! Describing single characters for messages: code point, a readable name,
//! and the character to type instead of a look-alike.

use crate::charset::is_invisible;

/// The character's Unicode name, e.g. `MIDDLE DOT`, where it has one.
pub fn name(c: char) -> Option<String> {
    unicode_names2::name(c).map(|n| n.to_string())
}

/// `"·" U+00B7 MIDDLE DOT`; an invisible or control character is not shown
/// itself: `U+200B ZERO WIDTH SPACE (invisible)`.
pub fn describe(c: char) -> String {
    let code = format!("U+{:04X}", c as u32);
    let named = match name(c) {
        Some(n) => format!("{code} {n}"),
        None => code,
    };
    if is_invisible(c) {
        format!("{named} (invisible)")
    } else if c.is_control() {
        format!("{named} (a control character)")
    } else {
        format!("\"{c}\" {named}")
    }
}

/// For a character that looks like `.`, `·` or `-`, the one to type instead.
pub fn confusable_hint(c: char) -> Option<String> {
    let target = match c {
        '\u{2022}' | '\u{30FB}' | '\u{2027}' | '\u{FF65}' | '\u{2219}' | '\u{22C5}' | '\u{0387}' | '\u{16EB}'
        | '\u{2E31}' | '\u{318D}' => '·',
        '\u{FF0E}' | '\u{3002}' | '\u{2024}' | '\u{FE52}' | '\u{0701}' | '\u{0702}' | '\u{A4F8}' | '\u{A60E}' => '.',
        '\u{2010}'..='\u{2015}'
        | '\u{FF0D}'
        | '\u{2212}'
        | '\u{FE58}'
        | '\u{FE63}'
        | '\u{2043}'
        | '\u{02D7}'
        | '\u{06D4}'
        | '\u{2CBA}' => '-',
        _ => return None,
    };
    Some(target.to_string())
}
