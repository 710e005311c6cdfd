//! Anchored patterns made only of ASCII character classes with bounded
//! repetition (such as `^1[3458][0-9]{9}$`), matched on the text's bytes
//! without the regex engine. Any other pattern, and texts longer than the
//! fast path covers, go to the compiled `Regex`.

use regex_syntax::hir::{Class, Hir, HirKind, Look};

/// One step of a simple pattern: a set of ASCII bytes, repeated `min..=max` times.
#[derive(Debug, Clone, Copy)]
struct Step {
    set: u128,
    min: u32,
    max: u32,
}

/// A pattern of the form `^step step ... step$`.
#[derive(Debug, Clone)]
pub struct Simple {
    steps: Vec<Step>,
}

/// The longest text (in bytes) the fast path matches: reachable positions
/// are a bitset of 128.
const MAX_LEN: usize = 127;

impl Simple {
    /// The fast form of `pattern`, when it has one.
    pub fn new(pattern: &str) -> Option<Simple> {
        let hir = regex_syntax::ParserBuilder::new()
            .nest_limit(64)
            .build()
            .parse(pattern)
            .ok()?;
        let HirKind::Concat(parts) = hir.kind() else {
            return None;
        };
        let (first, rest) = parts.split_first()?;
        let (last, middle) = rest.split_last()?;
        if !matches!(first.kind(), HirKind::Look(Look::Start)) || !matches!(last.kind(), HirKind::Look(Look::End)) {
            return None;
        }
        let mut steps = Vec::new();
        for h in middle {
            match h.kind() {
                HirKind::Literal(lit) => {
                    for &b in lit.0.iter() {
                        if !b.is_ascii() {
                            return None;
                        }
                        steps.push(Step {
                            set: 1u128 << b,
                            min: 1,
                            max: 1,
                        });
                    }
                }
                HirKind::Class(_) => steps.push(Step {
                    set: single(h)?,
                    min: 1,
                    max: 1,
                }),
                HirKind::Repetition(r) => steps.push(Step {
                    set: single(&r.sub)?,
                    min: r.min,
                    max: r.max.unwrap_or(u32::MAX),
                }),
                _ => return None,
            }
        }
        (steps.len() <= 64).then_some(Simple { steps })
    }

    /// Whether the whole of `text` matches; `None` when it is too long for
    /// the fast path.
    pub fn is_match(&self, text: &[u8]) -> Option<bool> {
        if text.len() > MAX_LEN {
            return None;
        }
        let within = |set: u128, b: u8| b < 128 && set & (1u128 << b) != 0;
        // The positions the steps so far can end at.
        let mut reach: u128 = 1;
        for step in &self.steps {
            let mut next = 0u128;
            let mut from = reach;
            while from != 0 {
                let p = from.trailing_zeros() as usize;
                from &= from - 1;
                if step.min == 0 {
                    next |= 1u128 << p;
                }
                let mut k = 0u32;
                while k < step.max
                    && let Some(&b) = text.get(p + k as usize)
                    && within(step.set, b)
                {
                    k += 1;
                    if k >= step.min {
                        next |= 1u128 << (p + k as usize);
                    }
                }
            }
            reach = next;
            if reach == 0 {
                return Some(false);
            }
        }
        Some(reach & (1u128 << text.len()) != 0)
    }
}

/// The byte set of a one-character expression over ASCII only.
fn single(h: &Hir) -> Option<u128> {
    let mut set = 0u128;
    match h.kind() {
        HirKind::Literal(lit) => match &*lit.0 {
            [b] if b.is_ascii() => set |= 1u128 << b,
            _ => return None,
        },
        HirKind::Class(Class::Unicode(c)) => {
            for r in c.iter() {
                if !r.end().is_ascii() {
                    return None;
                }
                for b in r.start() as u8..=r.end() as u8 {
                    set |= 1u128 << b;
                }
            }
        }
        HirKind::Class(Class::Bytes(c)) => {
            for r in c.iter() {
                if !r.end().is_ascii() {
                    return None;
                }
                for b in r.start()..=r.end() {
                    set |= 1u128 << b;
                }
            }
        }
        _ => return None,
    }
    Some(set)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::Simple;
    use regex::Regex;

    #[test]
    fn agrees_with_the_regex_engine() {
        let patterns = [
            r"^1[3458][0-9]{9}$",
            r"^[0-9]{7,15}$",
            r"^a*b+c?$",
            r"^[a-c]{0,3}[b-d]{2}$",
            r"^ab[0-9]+x$",
            r"(?i)^ab$",
        ];
        let texts = [
            "",
            "13812345678",
            "1381234567",
            "138123456789",
            "12812345678",
            "1234567",
            "123456",
            "1234567890123456",
            "b",
            "ab",
            "aabbc",
            "c",
            "abcbd",
            "bcd",
            "abcd",
            "ab12x",
            "abx",
            "ab1x2",
            "AB",
            "aB",
            "１3812345678",
            "13812345678\n",
        ];
        for p in patterns {
            let fast = Simple::new(p).unwrap();
            let re = Regex::new(p).unwrap();
            for t in texts {
                assert_eq!(fast.is_match(t.as_bytes()), Some(re.is_match(t)), "{p} on {t:?}");
            }
        }
    }

    #[test]
    fn declines_what_it_cannot_match() {
        for p in [r"1[3458]", r"^(a|b)$", r"^\d{3}$", r"^é$", r"^a$|^b$"] {
            assert!(Simple::new(p).is_none(), "{p}");
        }
        // At most 64 steps: a longer pattern goes to the regex engine.
        assert!(Simple::new(&format!("^{}$", "a".repeat(64))).is_some());
        assert!(Simple::new(&format!("^{}$", "a".repeat(65))).is_none());
        let long = "1".repeat(200);
        assert_eq!(Simple::new(r"^1+$").unwrap().is_match(long.as_bytes()), None);
        let longest = "1".repeat(127);
        assert_eq!(Simple::new(r"^1+$").unwrap().is_match(longest.as_bytes()), Some(true));
        assert_eq!(
            Simple::new(r"^1+$").unwrap().is_match(&longest.as_bytes()[..0]),
            Some(false)
        );
    }
}
