//! The theories a model of the atoms is checked against, term by term.
//!
//! Each check answers *inconsistent* only when no value of the term can give
//! the atoms their assigned truths; when it cannot tell (a budget ran out, a
//! pattern has no DFA) it answers *consistent*, which keeps proofs sound: the
//! model then goes on to the concrete check, and an unconfirmed model makes
//! the verdict `unknown`, never `proven`.

use crate::date::Date;
use crate::decimal::Decimal;
use regex_automata::dfa::Automaton;
use regex_automata::dfa::dense;
use regex_automata::util::primitives::StateID;
use regex_automata::util::start;
use regex_automata::{Anchored, MatchKind};
use std::collections::{HashMap, VecDeque};

/// An ordered constant: numbers and dates are compared within their kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Point {
    Num(Decimal),
    Date(Date),
}

/// An order comparison with a constant, as an atom states it (`Gt`, `Ge`
/// and `Ne` are negations of these).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rel {
    Lt,
    Le,
    Eq,
}

impl Rel {
    fn holds(self, x: Point, c: Point) -> bool {
        match self {
            Rel::Lt => x < c,
            Rel::Le => x <= c,
            Rel::Eq => x == c,
        }
    }
}

/// Whether some value satisfies every `(relation, constant, wanted truth)`,
/// the values taken as dense (rationals), which over-approximates dates and
/// decimals of bounded precision — so "no" is always right.
pub fn interval_consistent(cons: &[(Rel, Point, bool)]) -> bool {
    // Lower bound: (value, strict); upper bound likewise.
    let mut lo: Option<(Point, bool)> = None;
    let mut hi: Option<(Point, bool)> = None;
    let mut not_eq: Vec<Point> = Vec::new();
    let tighten_lo = |p: Point, strict: bool, lo: &mut Option<(Point, bool)>| match lo {
        Some((q, s)) if *q > p || (*q == p && *s) => {}
        _ => *lo = Some((p, strict)),
    };
    let tighten_hi = |p: Point, strict: bool, hi: &mut Option<(Point, bool)>| match hi {
        Some((q, s)) if *q < p || (*q == p && *s) => {}
        _ => *hi = Some((p, strict)),
    };
    for &(rel, c, want) in cons {
        match (rel, want) {
            (Rel::Lt, true) => tighten_hi(c, true, &mut hi),
            (Rel::Lt, false) => tighten_lo(c, false, &mut lo),
            (Rel::Le, true) => tighten_hi(c, false, &mut hi),
            (Rel::Le, false) => tighten_lo(c, true, &mut lo),
            (Rel::Eq, true) => {
                tighten_lo(c, false, &mut lo);
                tighten_hi(c, false, &mut hi);
            }
            (Rel::Eq, false) => not_eq.push(c),
        }
    }
    // Constants of different kinds never compare: such a term is no number
    // and date at once, but that is for the typing, not for us to decide.
    match (lo, hi) {
        (Some((l, ls)), Some((h, hs))) => {
            if std::mem::discriminant(&l) != std::mem::discriminant(&h) {
                return true;
            }
            if l < h {
                true
            } else if l == h {
                !ls && !hs && !not_eq.contains(&l)
            } else {
                false
            }
        }
        _ => true,
    }
}

/// A value satisfying the constraints, chosen among the constants and their
/// neighbours; `None` when none of those does.
pub fn interval_witness(cons: &[(Rel, Point, bool)]) -> Option<Point> {
    let mut candidates = Vec::new();
    for &(_, c, _) in cons {
        candidates.push(c);
        match c {
            Point::Num(n) => {
                for delta in ["1", "-1", "0.01", "-0.01", "1000", "-1000"] {
                    if let Some(m) = shift(n, delta) {
                        candidates.push(Point::Num(m));
                    }
                }
            }
            Point::Date(d) => {
                for delta in [1, -1, 400, -400] {
                    if let Some(e) = shift_date(d, delta) {
                        candidates.push(Point::Date(e));
                    }
                }
            }
        }
    }
    if candidates.is_empty() {
        return None;
    }
    candidates
        .into_iter()
        .find(|&x| cons.iter().all(|&(rel, c, want)| rel.holds(x, c) == want))
}

/// `n + delta`, through the exact decimal text of both.
fn shift(n: Decimal, delta: &str) -> Option<Decimal> {
    let a: f64 = n.to_string().parse().ok()?;
    let b: f64 = delta.parse().ok()?;
    let sum = a + b;
    // Round to the cents so the text stays short and exact.
    Decimal::parse(&format!("{:.2}", sum)).ok()
}

fn shift_date(d: Date, delta: i64) -> Option<Date> {
    let text = d.to_string();
    let y: i64 = text.get(0..4)?.parse().ok()?;
    let m: i64 = text.get(5..7)?.parse().ok()?;
    let day: i64 = text.get(8..10)?.parse().ok()?;
    // Howard Hinnant's days_from_civil.
    let y2 = if m <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let out = Date::from_unix_days(days + delta);
    // Dates before year 1 or after 9999 do not print as `YYYY-MM-DD`.
    Date::parse(&out.to_string())
}

/// Whether an enum or bank term can take one value with these equalities:
/// `(value, wanted truth)`. `size` is the number of values when the term can
/// take no other (an enum); `None` for banks, which may also be unresolved.
pub fn choice_consistent(cons: &[(u32, bool)], size: Option<usize>) -> bool {
    let mut yes: Option<u32> = None;
    for &(v, want) in cons {
        if want {
            match yes {
                Some(y) if y != v => return false,
                _ => yes = Some(v),
            }
        }
    }
    if let Some(y) = yes {
        return !cons.iter().any(|&(v, want)| v == y && !want);
    }
    match size {
        Some(n) => (0..n).any(|v| !cons.iter().any(|&(c, want)| !want && c as usize == v)),
        None => true,
    }
}

/// The value an enum or bank term takes in a consistent model: the one
/// asserted, else the first not excluded (`None` for a bank: unresolved).
pub fn choice_witness(cons: &[(u32, bool)], size: Option<usize>) -> Option<u32> {
    if let Some(&(v, _)) = cons.iter().find(|c| c.1) {
        return Some(v);
    }
    let n = size?;
    (0..n)
        .map(|v| v as u32)
        .find(|v| !cons.iter().any(|&(c, want)| !want && c == *v))
}

/// The most product states a text check explores before it gives up.
const MAX_PRODUCT_STATES: usize = 200_000;
/// The most bytes a single DFA may take.
const MAX_DFA_BYTES: usize = 4 << 20;

/// DFAs for the regular languages of text atoms, built once per language.
#[derive(Default)]
pub struct Automata {
    dfas: HashMap<String, Option<dense::DFA<Vec<u32>>>>,
}

/// The outcome of a text check.
pub enum TextCheck {
    /// Some text has every wanted truth; here is one.
    Witness(String),
    /// No text can.
    Empty,
    /// Could not tell (a pattern without a DFA, or the budget ran out).
    Unknown,
}

impl Automata {
    /// Whether a full-match DFA can be built for `regex` (a language in the
    /// regex crate's syntax, matched against the whole text).
    pub fn supports(&mut self, regex: &str) -> bool {
        self.dfa(regex).is_some()
    }

    fn dfa(&mut self, regex: &str) -> Option<&dense::DFA<Vec<u32>>> {
        self.dfas
            .entry(regex.to_owned())
            .or_insert_with(|| {
                dense::Builder::new()
                    .configure(
                        dense::Config::new()
                            .start_kind(regex_automata::dfa::StartKind::Anchored)
                            .match_kind(MatchKind::All)
                            .dfa_size_limit(Some(MAX_DFA_BYTES))
                            .determinize_size_limit(Some(MAX_DFA_BYTES)),
                    )
                    .build(&format!(r"(?:{regex})\z"))
                    .ok()
            })
            .as_ref()
    }

    /// Whether some text is in each language with `true` and outside each
    /// with `false`: the emptiness of the product automaton, searched
    /// breadth first, so the witness is a shortest such text.
    pub fn check(&mut self, cons: &[(String, bool)]) -> TextCheck {
        // Only valid UTF-8 is text.
        let mut langs: Vec<(String, bool)> = vec![("(?s:.)*".to_owned(), true)];
        langs.extend(cons.iter().cloned());
        for (re, _) in &langs {
            if self.dfa(re).is_none() {
                return TextCheck::Unknown;
            }
        }
        let dfas: Vec<(&dense::DFA<Vec<u32>>, bool)> = langs
            .iter()
            .filter_map(|(re, want)| self.dfas.get(re).and_then(Option::as_ref).map(|d| (d, *want)))
            .collect();
        let config = start::Config::new().anchored(Anchored::Yes);
        let mut first = Vec::with_capacity(dfas.len());
        for (d, _) in &dfas {
            match d.start_state(&config) {
                Ok(s) => first.push(s),
                Err(_) => return TextCheck::Unknown,
            }
        }
        let accepts = |states: &[StateID]| {
            dfas.iter()
                .zip(states)
                .all(|((d, want), &s)| d.is_match_state(d.next_eoi_state(s)) == *want)
        };
        // A state from which a wanted language can no longer match is dead
        // for the product.
        let alive = |states: &[StateID]| {
            dfas.iter()
                .zip(states)
                .all(|((d, want), &s)| !*want || !d.is_dead_state(s))
        };
        let mut seen: HashMap<Vec<StateID>, (usize, u8)> = HashMap::new();
        let mut order: Vec<Vec<StateID>> = Vec::new();
        let mut queue = VecDeque::new();
        seen.insert(first.clone(), (usize::MAX, 0));
        order.push(first.clone());
        queue.push_back(0usize);
        while let Some(at) = queue.pop_front() {
            let Some(states) = order.get(at).cloned() else { break };
            if accepts(&states) {
                let mut bytes = Vec::new();
                let mut cur = states;
                while let Some(&(parent, byte)) = seen.get(&cur) {
                    if parent == usize::MAX {
                        break;
                    }
                    bytes.push(byte);
                    match order.get(parent) {
                        Some(p) => cur = p.clone(),
                        None => break,
                    }
                }
                bytes.reverse();
                return match String::from_utf8(bytes) {
                    Ok(s) => TextCheck::Witness(s),
                    Err(_) => TextCheck::Unknown,
                };
            }
            if order.len() > MAX_PRODUCT_STATES {
                return TextCheck::Unknown;
            }
            for &byte in BYTE_ORDER.iter() {
                let next: Vec<StateID> = dfas
                    .iter()
                    .zip(&states)
                    .map(|((d, _), &s)| d.next_state(s, byte))
                    .collect();
                if !alive(&next) || seen.contains_key(&next) {
                    continue;
                }
                seen.insert(next.clone(), (at, byte));
                order.push(next);
                queue.push_back(order.len() - 1);
            }
        }
        TextCheck::Empty
    }
}

/// The order bytes are tried in, so that witnesses read well: lower-case
/// letters, digits, upper-case letters, other printable ASCII, then the rest.
static BYTE_ORDER: std::sync::LazyLock<Vec<u8>> = std::sync::LazyLock::new(|| {
    let mut order: Vec<u8> = (b'a'..=b'z').collect();
    order.extend(b'1'..=b'9');
    order.push(b'0');
    order.extend(b'A'..=b'Z');
    order.extend((32u8..127).filter(|b| !b.is_ascii_alphanumeric()));
    order.extend(128u8..=255);
    order.extend(0u8..32);
    order.push(127);
    order
});

/// A regular expression matching exactly `text`.
pub fn literal(text: &str) -> String {
    regex_syntax::escape(text)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;

    #[test]
    fn intervals() {
        let n = |s: &str| Point::Num(Decimal::parse(s).unwrap());
        assert!(interval_consistent(&[
            (Rel::Lt, n("10"), true),
            (Rel::Lt, n("5"), false)
        ]));
        assert!(!interval_consistent(&[
            (Rel::Lt, n("5"), true),
            (Rel::Lt, n("10"), false)
        ]));
        assert!(!interval_consistent(&[
            (Rel::Le, n("5"), true),
            (Rel::Lt, n("5"), false),
            (Rel::Eq, n("5"), false)
        ]));
        assert!(interval_consistent(&[
            (Rel::Le, n("5"), true),
            (Rel::Lt, n("5"), false)
        ]));
        let w = interval_witness(&[(Rel::Lt, n("10"), true), (Rel::Le, n("5"), false)]).unwrap();
        assert!(w > n("5") && w < n("10"));
    }

    #[test]
    fn choices() {
        assert!(!choice_consistent(&[(0, true), (1, true)], Some(3)));
        assert!(!choice_consistent(&[(0, false), (1, false)], Some(2)));
        assert!(choice_consistent(&[(0, false), (1, false)], None));
        assert_eq!(choice_witness(&[(0, false)], Some(2)), Some(1));
    }

    #[test]
    fn texts() {
        let mut a = Automata::default();
        let wide = "(?s:.)*(?:^1[3-9][0-9]{9}$)(?s:.)*".to_owned();
        let narrow = "(?s:.)*(?:^1[3458][0-9]{9}$)(?s:.)*".to_owned();
        assert!(matches!(
            a.check(&[(narrow.clone(), true), (wide.clone(), false)]),
            TextCheck::Empty
        ));
        match a.check(&[(narrow, false), (wide, true)]) {
            TextCheck::Witness(w) => assert!(w.starts_with("16") || w.starts_with("17") || w.starts_with("19")),
            _ => panic!("expected a witness"),
        }
    }
}
