//! Describing single characters for messages: code point, a readable name,
//! and the character to type instead of a look-alike.

use crate::charset::is_invisible;
use unicode_security::skeleton;

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

/// The characters a look-alike may be replaced by: the dot, the middle dot
/// and the hyphen-minus. Each is its own UTS #39 prototype.
const TARGETS: [char; 3] = ['.', '·', '-'];

/// For a character that looks like `.`, `·` or `-`, the one to type instead.
///
/// The source of truth is the UTS #39 confusables data (via
/// `unicode_security::skeleton`, Unicode 18): any character whose skeleton is
/// one of the targets. That covers `•` U+2022, `・` U+30FB, `‧` U+2027,
/// `･` U+FF65, `∙` U+2219, `⋅` U+22C5 and `·` U+0387 (→ `·`); `．` U+FF0E,
/// `․` U+2024, `﹒` U+FE52 (→ `.`); `‐` to `–` U+2010–U+2013, `−` U+2212,
/// `﹣` U+FE63, `﹘` U+FE58 (→ `-`); and a few letters of other scripts that
/// look the same. `supplement` adds what the data maps elsewhere.
pub fn confusable_hint(c: char) -> Option<String> {
    if TARGETS.contains(&c) {
        return None;
    }
    let mut buf = [0u8; 4];
    let sk: String = skeleton(c.encode_utf8(&mut buf)).collect();
    let mut chars = sk.chars();
    let from_data = match (chars.next(), chars.next()) {
        (Some(p), None) if TARGETS.contains(&p) => Some(p),
        _ => None,
    };
    from_data.or_else(|| supplement(c)).map(String::from)
}

/// Look-alikes whose UTS #39 prototype is not a target: the long dashes and
/// the full-width hyphen-minus have the prototype `ー` U+30FC (KATAKANA-HIRAGANA
/// PROLONGED SOUND MARK), and the ideographic full stops `。` `｡` have `˳`
/// U+02F3 (MODIFIER LETTER LOW RING); a name typed on a Chinese or Japanese
/// keyboard has them where a hyphen or dot was meant.
fn supplement(c: char) -> Option<char> {
    match c {
        '\u{2014}' | '\u{2015}' | '\u{FF0D}' | '\u{2E3A}' | '\u{2E3B}' | '\u{FE31}' | '\u{FE32}' => Some('-'),
        '\u{3002}' | '\u{FF61}' => Some('.'),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hint(c: char) -> Option<char> {
        confusable_hint(c).and_then(|s| s.chars().next())
    }

    #[test]
    fn targets_are_their_own_prototypes() {
        for t in TARGETS {
            assert_eq!(skeleton(&t.to_string()).collect::<String>(), t.to_string());
            assert_eq!(confusable_hint(t), None);
        }
    }

    #[test]
    fn look_alikes_from_the_data_and_the_supplement() {
        for c in [
            '\u{2022}', '\u{30FB}', '\u{2027}', '\u{FF65}', '\u{2219}', '\u{22C5}', '\u{0387}',
        ] {
            assert_eq!(hint(c), Some('·'), "U+{:04X}", c as u32);
        }
        for c in ['\u{FF0E}', '\u{2024}', '\u{FE52}', '\u{3002}', '\u{FF61}'] {
            assert_eq!(hint(c), Some('.'), "U+{:04X}", c as u32);
        }
        for c in ('\u{2010}'..='\u{2015}').chain(['\u{FF0D}', '\u{2212}', '\u{FE63}', '\u{FE58}']) {
            assert_eq!(hint(c), Some('-'), "U+{:04X}", c as u32);
        }
        for c in ['a', '1', '王', '_', '\u{200B}', '\u{30FC}'] {
            assert_eq!(hint(c), None, "U+{:04X}", c as u32);
        }
    }

    #[test]
    fn invisible_characters_are_named_as_such() {
        let classes = ('\u{200B}'..='\u{200F}')
            .chain('\u{202A}'..='\u{202E}')
            .chain('\u{2066}'..='\u{2069}')
            .chain(['\u{FEFF}', '\u{2060}', '\u{180E}', '\u{061C}']);
        for c in classes {
            let d = describe(c);
            assert!(d.ends_with("(invisible)") && !d.contains(c), "{d}");
        }
        assert_eq!(describe('\u{200B}'), "U+200B ZERO WIDTH SPACE (invisible)");
        assert_eq!(describe('•'), "\"•\" U+2022 BULLET");
    }
}
