//! Character classes, precompiled: an ASCII bitmap plus ranges and scripts.

use std::sync::OnceLock;
use unicode_script::{Script, UnicodeScript};

/// A set of characters. Membership of an ASCII character is one bit test; so
/// is that of any other character of the Basic Multilingual Plane once its
/// page of 256 has been met (the page is worked out on first use).
#[derive(Debug, Clone, Default)]
pub struct Charset {
    ascii: u128,
    include: Vec<Class>,
    exclude: Vec<Class>,
    /// Bitmaps of the BMP's 256-character pages, filled lazily.
    pages: Box<[OnceLock<[u64; 4]>]>,
}

/// One term of a charset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Class {
    Range(char, char),
    Script(Script),
    WhiteSpace,
    Invisible,
    Any,
}

impl Class {
    fn contains(&self, c: char) -> bool {
        match self {
            Class::Range(a, b) => (*a..=*b).contains(&c),
            Class::Script(s) => c.script() == *s,
            Class::WhiteSpace => c.is_whitespace(),
            Class::Invisible => is_invisible(c),
            Class::Any => true,
        }
    }

    /// A built-in class by name.
    pub fn builtin(name: &str) -> Option<Vec<Class>> {
        Some(match name {
            "ascii_letter" => vec![Class::Range('a', 'z'), Class::Range('A', 'Z')],
            "ascii_upper" => vec![Class::Range('A', 'Z')],
            "ascii_lower" => vec![Class::Range('a', 'z')],
            "ascii_digit" => vec![Class::Range('0', '9')],
            "ascii" => vec![Class::Range('\0', '\x7f')],
            "white_space" => vec![Class::WhiteSpace],
            "invisible" => vec![Class::Invisible],
            "any" => vec![Class::Any],
            _ => return None,
        })
    }

    pub const BUILTIN_NAMES: &'static [&'static str] = &[
        "ascii_letter",
        "ascii_upper",
        "ascii_lower",
        "ascii_digit",
        "ascii",
        "white_space",
        "invisible",
        "any",
    ];

    /// `script(Name)`: a Unicode script by its full or short name (`Han`, `Hani`).
    pub fn script(name: &str) -> Option<Class> {
        Script::from_full_name(name)
            .or_else(|| Script::from_short_name(name))
            .map(Class::Script)
    }
}

/// Zero-width and format characters, bidi controls and the BOM: characters a
/// reader cannot see.
pub fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}'
        | '\u{180B}'..='\u{180F}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{206F}' | '\u{3164}' | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}'
        | '\u{FFA0}' | '\u{FFF0}'..='\u{FFF8}' | '\u{1BCA0}'..='\u{1BCA3}'
        | '\u{1D173}'..='\u{1D17A}' | '\u{E0000}'..='\u{E0FFF}')
}

impl Charset {
    pub fn new(include: Vec<Class>, exclude: Vec<Class>) -> Self {
        let mut set = Charset {
            ascii: 0,
            include,
            exclude,
            pages: (0..256).map(|_| OnceLock::new()).collect(),
        };
        for b in 0u8..128 {
            if set.slow_contains(char::from(b)) {
                set.ascii |= 1u128 << b;
            }
        }
        set
    }

    /// The classes the set includes and excludes, as declared.
    pub fn classes(&self) -> (&[Class], &[Class]) {
        (&self.include, &self.exclude)
    }

    fn slow_contains(&self, c: char) -> bool {
        self.include.iter().any(|k| k.contains(c)) && !self.exclude.iter().any(|k| k.contains(c))
    }

    #[inline]
    pub fn contains(&self, c: char) -> bool {
        if c.is_ascii() {
            return self.ascii & (1u128 << (c as u32)) != 0;
        }
        let code = c as u32;
        match self.pages.get((code >> 8) as usize) {
            Some(page) => {
                let bits = page.get_or_init(|| self.page(code & !0xFF));
                let i = (code & 0xFF) as usize;
                bits.get(i / 64).is_some_and(|w| w & (1u64 << (i % 64)) != 0)
            }
            None => self.slow_contains(c),
        }
    }

    /// The ASCII members as a bitmap: bit `b` is set when byte `b` is in the set.
    pub fn ascii_bits(&self) -> u128 {
        self.ascii
    }

    /// The bitmap of the 256 characters from `start`.
    #[cold]
    fn page(&self, start: u32) -> [u64; 4] {
        let mut bits = [0u64; 4];
        for (i, word) in bits.iter_mut().enumerate() {
            for b in 0..64 {
                let code = start + (i as u32) * 64 + b;
                if char::from_u32(code).is_some_and(|c| self.slow_contains(c)) {
                    *word |= 1u64 << b;
                }
            }
        }
        bits
    }

    /// Whether no character at all is in the set (for the linter).
    pub fn is_empty(&self) -> bool {
        if self.ascii != 0 {
            return false;
        }
        let probe = |k: &Class| match k {
            Class::Range(a, b) => (*a as u32..=*b as u32)
                .filter_map(char::from_u32)
                .any(|c| self.contains(c)),
            _ => ('\u{80}'..=char::MAX).any(|c| self.contains(c)),
        };
        !self.include.iter().any(probe)
    }

    /// The first character of `s` outside the set, with its byte offset.
    pub fn first_outside(&self, s: &str) -> Option<(usize, char)> {
        s.char_indices().find(|&(_, c)| !self.contains(c))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_class() {
        let mut inc = Class::builtin("ascii_letter").unwrap_or_default();
        inc.push(Class::script("Han").unwrap_or(Class::Any));
        inc.push(Class::Range(' ', ' '));
        let cs = Charset::new(inc, vec![]);
        assert!(cs.contains('a') && cs.contains('Z') && cs.contains('王') && cs.contains(' '));
        assert!(!cs.contains('1') && !cs.contains('é') && !cs.contains('•'));
        assert_eq!(cs.first_outside("王 小1"), Some((7, '1')));
    }

    #[test]
    fn pages_agree_with_the_classes() {
        let mut inc = Class::builtin("ascii_letter").unwrap_or_default();
        inc.push(Class::script("Han").unwrap_or(Class::Any));
        inc.push(Class::Range('\u{b7}', '\u{b7}'));
        inc.push(Class::WhiteSpace);
        let sets = [
            Charset::new(inc, vec![Class::Range('\u{4e00}', '\u{4e10}')]),
            Charset::new(vec![Class::Invisible], vec![]),
        ];
        for cs in &sets {
            for c in ('\0'..='\u{2ffff}').step_by(3) {
                assert_eq!(cs.contains(c), cs.slow_contains(c), "{c:?}");
            }
        }
    }

    #[test]
    fn except() {
        let cs = Charset::new(vec![Class::Range('a', 'z')], vec![Class::Range('x', 'x')]);
        assert!(cs.contains('a') && !cs.contains('x'));
        assert!(Charset::new(vec![Class::Range('a', 'a')], vec![Class::Range('a', 'a')]).is_empty());
    }
}
