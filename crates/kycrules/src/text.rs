//! Text built-ins: normalisation and check digits. Each borrows its input
//! when it can, so the common case allocates nothing.

use std::borrow::Cow;
use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfc_quick};

/// NFC form.
pub fn nfc(s: &str) -> Cow<'_, str> {
    if s.is_ascii() || surely_nfc(s) || is_nfc_quick(s.chars()) == IsNormalized::Yes {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(s.nfc().collect())
    }
}

/// Whether every character of `s` is below U+0300 (Latin, IPA, spacing
/// modifiers) or a CJK unified ideograph of the basic block or extension A:
/// characters that are NFC_QC=Yes with canonical combining class 0, so that
/// any text of them is NFC (checked character by character in the tests).
/// A range test per character, where the quick check looks up two tables: the
/// usual Chinese name passes here.
fn surely_nfc(s: &str) -> bool {
    s.chars()
        .all(|c| c < '\u{300}' || ('\u{4E00}'..='\u{9FFF}').contains(&c) || ('\u{3400}'..='\u{4DBF}').contains(&c))
}

/// Runs of white space folded to one space (not trimmed).
pub fn fold_space(s: &str) -> Cow<'_, str> {
    let needs = {
        let mut prev_ws = false;
        s.chars().any(|c| {
            let ws = c.is_whitespace();
            let bad = ws && (prev_ws || c != ' ');
            prev_ws = ws;
            bad
        })
    };
    if !needs {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut prev_ws = false;
    for c in s.chars() {
        if c.is_whitespace() {
            if !prev_ws {
                out.push(' ');
            }
            prev_ws = true;
        } else {
            out.push(c);
            prev_ws = false;
        }
    }
    Cow::Owned(out)
}

pub fn ascii_lower(s: &str) -> Cow<'_, str> {
    if s.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(s.to_ascii_lowercase())
    } else {
        Cow::Borrowed(s)
    }
}

pub fn lower(s: &str) -> Cow<'_, str> {
    if s.chars().any(char::is_uppercase) {
        Cow::Owned(s.to_lowercase())
    } else {
        Cow::Borrowed(s)
    }
}

/// A name prepared for comparison: NFC, trimmed, white space folded, ASCII lower-cased.
pub fn normalize_name(s: &str) -> Cow<'_, str> {
    fn step<'a>(c: Cow<'a, str>, f: for<'b> fn(&'b str) -> Cow<'b, str>) -> Cow<'a, str> {
        match c {
            Cow::Borrowed(b) => f(b),
            Cow::Owned(o) => Cow::Owned(f(&o).into_owned()),
        }
    }
    let s = match nfc(s) {
        Cow::Borrowed(b) => Cow::Borrowed(b.trim()),
        Cow::Owned(o) => Cow::Owned(o.trim().to_string()),
    };
    let s = step(s, fold_space);
    step(s, ascii_lower)
}

/// Whether two names are equal after [`normalize_name`]; compares them
/// character by character, without building either (unless one is not NFC).
pub fn same_name(a: &str, b: &str) -> bool {
    fn chars(s: &str) -> impl Iterator<Item = char> + '_ {
        let mut prev_ws = false;
        s.trim().chars().filter_map(move |c| {
            let ws = c.is_whitespace();
            let skip = ws && prev_ws;
            prev_ws = ws;
            match (skip, ws) {
                (true, _) => None,
                (false, true) => Some(' '),
                (false, false) => Some(c.to_ascii_lowercase()),
            }
        })
    }
    fn bytes(s: &str) -> impl Iterator<Item = u8> + '_ {
        // `char::is_whitespace` on ASCII (which includes U+000B).
        let ws = |b: u8| matches!(b, b'\t' | b'\n' | 0x0B | 0x0C | b'\r' | b' ');
        let mut prev_ws = false;
        s.trim().bytes().filter_map(move |b| {
            let w = ws(b);
            let skip = w && prev_ws;
            prev_ws = w;
            match (skip, w) {
                (true, _) => None,
                (false, true) => Some(b' '),
                (false, false) => Some(b.to_ascii_lowercase()),
            }
        })
    }
    if a.is_ascii() && b.is_ascii() {
        return bytes(a).eq(bytes(b));
    }
    let (a, b) = (nfc(a), nfc(b));
    chars(&a).eq(chars(&b))
}

/// The Luhn check over the digits of `s` (other characters make it fail).
/// Allocation-free: it runs on every card number of a batch.
pub fn luhn(s: &str) -> bool {
    // Byte by byte: a byte of a multi-byte character is no ASCII digit, and
    // no other character is a decimal digit here (`char::to_digit`).
    // Every second digit from the right counts doubled, its digits added.
    const DOUBLED: [u32; 10] = [0, 2, 4, 6, 8, 1, 3, 5, 7, 9];
    let mut sum = 0u32;
    let mut second = false;
    for b in s.bytes().rev() {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            return false;
        }
        sum += if second {
            DOUBLED.get(usize::from(d)).copied().unwrap_or(0)
        } else {
            u32::from(d)
        };
        second = !second;
    }
    s.len() >= 2 && sum.is_multiple_of(10)
}

/// The Luhn sum of digits (every second digit from the right doubled, its
/// digits added); a number passes when the sum is a multiple of 10.
pub fn luhn_sum(digits: &[u32]) -> u32 {
    digits.iter().rev().enumerate().map(|(i, &d)| luhn_term(i, d)).sum()
}

/// The contribution of the digit `d` at position `i` from the right.
fn luhn_term(i: usize, d: u32) -> u32 {
    if i % 2 == 1 {
        if d * 2 > 9 { d * 2 - 9 } else { d * 2 }
    } else {
        d
    }
}

/// ICAO 9303: the last character is the 7-3-1 check digit of the others
/// (digits, `A`-`Z` as 10-35, `<` as 0).
pub fn icao9303(s: &str) -> bool {
    let value = |c: char| match c {
        '0'..='9' => c.to_digit(10),
        'A'..='Z' => Some(c as u32 - 'A' as u32 + 10),
        '<' => Some(0),
        _ => None,
    };
    let chars: Vec<char> = s.chars().collect();
    let Some((&check, body)) = chars.split_last() else {
        return false;
    };
    if body.is_empty() {
        return false;
    }
    let mut sum = 0;
    for (i, &c) in body.iter().enumerate() {
        let Some(v) = value(c) else { return false };
        sum += v * [7, 3, 1][i % 3];
    }
    check.to_digit(10) == Some(sum % 10)
}

/// ISO 7064 MOD 11-2: the last character (a digit or `X`) checks the digits before it.
pub fn mod11_2(s: &str) -> bool {
    let chars: Vec<char> = s.chars().collect();
    let Some((&check, body)) = chars.split_last() else {
        return false;
    };
    if body.is_empty() {
        return false;
    }
    let mut p: u32 = 0;
    for &c in body {
        let Some(d) = c.to_digit(10) else { return false };
        p = ((p + d) * 2) % 11;
    }
    let expected = (12 - p % 11) % 11;
    match check {
        'X' | 'x' => expected == 10,
        c => c.to_digit(10) == Some(expected),
    }
}

/// The ISO 7064 MOD 11-2 check character of a run of digits (`X` for ten);
/// non-digits count as zero.
pub fn mod11_2_check(digits: &str) -> char {
    let mut p: u32 = 0;
    for c in digits.chars() {
        p = ((p + c.to_digit(10).unwrap_or(0)) * 2) % 11;
    }
    match (12 - p % 11) % 11 {
        10 => 'X',
        d => char::from_digit(d, 10).unwrap_or('0'),
    }
}

/// All but the last four characters replaced by `*`.
pub fn mask(s: &str) -> String {
    if s.is_ascii() {
        const STARS: &str = "********************************";
        let shown = s.len().saturating_sub(4);
        let mut out = String::with_capacity(s.len());
        let mut left = shown;
        while left > 0 {
            let k = left.min(STARS.len());
            out.push_str(STARS.get(..k).unwrap_or_default());
            left -= k;
        }
        out.push_str(s.get(shown..).unwrap_or_default());
        return out;
    }
    let n = s.chars().count();
    s.chars()
        .enumerate()
        .map(|(i, c)| if i + 4 < n { '*' } else { c })
        .collect()
}

/// Text for a terminal: each control character as its `\u{..}` escape, so
/// that a value from a record cannot end a line, move the cursor or change
/// colours in a human report (JSON output escapes them its own way).
pub fn escape_controls(s: &str) -> Cow<'_, str> {
    if !s.chars().any(char::is_control) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(
        s.chars()
            .map(|c| {
                if c.is_control() {
                    c.escape_unicode().to_string()
                } else {
                    c.to_string()
                }
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_names() {
        assert_eq!(normalize_name("  John\u{3000}\tSMITH "), "john smith");
        assert_eq!(normalize_name("Jose\u{301}"), "jos\u{e9}");
        assert!(matches!(normalize_name("john smith"), Cow::Borrowed(_)));
    }

    #[test]
    fn check_digits() {
        assert!(luhn("4111111111111111"));
        assert!(!luhn("4111111111111112"));
        assert!(icao9303("L898902C36")); // ICAO 9303 specimen document number + check digit
        assert!(!icao9303("L898902C37"));
        assert!(mod11_2("11010519491231002X"));
        assert!(!mod11_2("110105194912310021"));
        assert_eq!(mod11_2_check("11010519491231002"), 'X');
        for body in ["1", "12345", "9876543210123", "00000000000000000"] {
            let full = format!("{body}{}", mod11_2_check(body));
            assert!(mod11_2(&full), "{full}");
        }
    }

    #[test]
    fn masks() {
        assert_eq!(mask("6222021234567890123"), "***************0123");
        assert_eq!(mask("123"), "123");
        assert_eq!(mask("1234"), "1234");
        assert_eq!(mask("12345"), "*2345");
        assert_eq!(mask(""), "");
        let long = "1".repeat(75);
        assert_eq!(mask(&long), format!("{}1111", "*".repeat(71)));
        assert_eq!(mask("银行卡6222"), "***6222");
        assert_eq!(mask("12银行卡34"), "***行卡34");
    }

    #[test]
    fn luhn_doubles_every_second_digit() {
        for d in 0..10 {
            assert_eq!(luhn_term(1, d), if d < 5 { d * 2 } else { d * 2 - 9 });
        }
        // Each number with its one valid check digit, and none other.
        for body in ["7992739871", "6222021234567890", "0", "123"] {
            let digits: Vec<u32> = body.chars().filter_map(|c| c.to_digit(10)).collect();
            let valid: Vec<u32> = (0..10)
                .filter(|&c| {
                    let mut all = digits.clone();
                    all.push(c);
                    luhn_sum(&all).is_multiple_of(10)
                })
                .collect();
            assert_eq!(valid.len(), 1);
            for c in 0..10 {
                assert_eq!(luhn(&format!("{body}{c}")), valid.contains(&c), "{body}{c}");
            }
        }
    }

    #[test]
    fn luhn_reads_ascii_digits_only() {
        assert!(luhn("79927398713"));
        assert!(!luhn("7992739871３")); // a full-width digit
        assert!(!luhn("0"));
        assert!(luhn("00"));
        assert!(!luhn(""));
        assert!(!luhn("4111 1111 1111 1111"));
    }

    /// The characters that `surely_nfc` admits are each NFC_QC=Yes with
    /// combining class 0: no text of them changes under NFC.
    #[test]
    fn surely_nfc_admits_only_starters_that_stay() {
        use unicode_normalization::char::canonical_combining_class;
        let ranges = [('\0', '\u{2FF}'), ('\u{3400}', '\u{4DBF}'), ('\u{4E00}', '\u{9FFF}')];
        for (lo, hi) in ranges {
            for c in lo..=hi {
                let s = c.to_string();
                assert!(surely_nfc(&s));
                assert_eq!(is_nfc_quick(s.chars()), IsNormalized::Yes, "U+{:04X}", c as u32);
                assert_eq!(canonical_combining_class(c), 0, "U+{:04X}", c as u32);
            }
        }
        for s in ["e\u{301}", "\u{F900}", "王\u{300}", "\u{AC00}"] {
            assert!(!surely_nfc(s), "{s:?}");
        }
        assert_eq!(nfc("王小明"), "王小明");
        assert_eq!(nfc("Jose\u{301}"), "Jos\u{e9}");
    }
}
