//! Anchored patterns made only of ASCII character classes with bounded
//! repetition (such as `^1[3458][0-9]{9}$`), matched on the text's bytes
//! without the regex engine. Any other pattern, and texts longer than the
//! fast path covers, go to the compiled `Regex`.

use regex_syntax::hir::{Class, Hir, HirKind, Look};

/// One step of a simple pattern: a set of ASCII bytes, repeated `min..=max` times.
#[derive(Debug, Clone, Copy)]
struct Step {
    /// The set as a table of the 256 byte values: one load per byte.
    table: [bool; 256],
    min: u32,
    max: u32,
}

impl Step {
    fn new(set: u128, min: u32, max: u32) -> Step {
        Step {
            table: std::array::from_fn(|b| b < 128 && set & (1u128 << b) != 0),
            min,
            max,
        }
    }

    #[inline(always)]
    fn admits(&self, b: u8) -> bool {
        self.table[usize::from(b)]
    }
}

/// A pattern of the form `^step step ... step$`.
#[derive(Debug, Clone)]
pub struct Simple {
    steps: Vec<Step>,
    /// When at most one step repeats a varying number of times, that step
    /// (if any) and how many bytes the other steps take: the text's length
    /// then fixes where every step begins, and one pass over the bytes
    /// decides (`^1[3458][0-9]{9}$`, `^[0-9]{7,15}$`).
    fixed: Option<(Option<usize>, u32)>,
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
                        steps.push(Step::new(1u128 << b, 1, 1));
                    }
                }
                HirKind::Class(_) => steps.push(Step::new(single(h)?, 1, 1)),
                HirKind::Repetition(r) => steps.push(Step::new(single(&r.sub)?, r.min, r.max.unwrap_or(u32::MAX))),
                _ => return None,
            }
        }
        if steps.len() > 64 {
            return None;
        }
        let varying: Vec<usize> = (0..steps.len())
            .filter(|&i| steps.get(i).is_some_and(|s| s.min != s.max))
            .collect();
        let fixed = match varying.as_slice() {
            [] | [_] => {
                let others: u32 = steps
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| varying.first() != Some(i))
                    .map(|(_, s)| s.min)
                    .sum();
                Some((varying.first().copied(), others))
            }
            _ => None,
        };
        Some(Simple { steps, fixed })
    }

    /// [`is_match`](Self::is_match) for a pattern whose step lengths the
    /// text's length fixes.
    fn is_match_fixed(&self, text: &[u8], varying: Option<usize>, others: u32) -> bool {
        let Some(rest) = text.len().checked_sub(others as usize) else {
            return false;
        };
        let mut bytes = text.iter();
        for (i, step) in self.steps.iter().enumerate() {
            let n = if Some(i) == varying {
                if rest < step.min as usize || rest > step.max as usize {
                    return false;
                }
                rest
            } else {
                step.min as usize
            };
            for _ in 0..n {
                match bytes.next() {
                    Some(&b) if step.admits(b) => {}
                    _ => return false,
                }
            }
        }
        // Without a varying step, the text must end where the steps do.
        bytes.next().is_none()
    }

    /// Whether the whole of `text` matches; `None` when it is too long for
    /// the fast path.
    pub fn is_match(&self, text: &[u8]) -> Option<bool> {
        if text.len() > MAX_LEN {
            return None;
        }
        if let Some((varying, others)) = self.fixed {
            return Some(self.is_match_fixed(text, varying, others));
        }
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
                    && step.admits(b)
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
            r"^[A-Z][0-9]{8}$",
            r"^[0-9]{2}[a-z]{0,4}[0-9]$",
            r"^x[0-9]*$",
            r"^ab$",
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
            "E12345678",
            "E1234567",
            "e12345678",
            "123",
            "12abcd3",
            "12abcde3",
            "12a",
            "x",
            "x0",
            "x0a",
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
    fn agrees_with_the_regex_engine_on_every_short_text() {
        // Every text of up to six bytes over an alphabet that each class
        // below admits or refuses.
        let patterns = [
            r"^1[3458][0-9]{2}$",
            r"^[0-9]{2,4}$",
            r"^a*b+c?$",
            r"^[a-c]{0,3}[b-d]{2}$",
            r"^a[0-9]*b$",
            r"^[ab]{1,2}[0-9]{1,2}$",
            r"^$",
        ];
        let alphabet = [b'1', b'3', b'9', b'a', b'b', b'c', b'd', b'-'];
        let mut texts: Vec<Vec<u8>> = vec![Vec::new()];
        let mut last = texts.clone();
        for _ in 0..6 {
            last = last
                .iter()
                .flat_map(|t| {
                    alphabet.iter().map(move |&b| {
                        let mut t = t.clone();
                        t.push(b);
                        t
                    })
                })
                .collect();
            texts.extend(last.iter().cloned());
        }
        for p in patterns {
            let fast = Simple::new(p).unwrap();
            let re = regex::bytes::Regex::new(p).unwrap();
            for t in &texts {
                assert_eq!(fast.is_match(t), Some(re.is_match(t)), "{p} on {t:?}");
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
