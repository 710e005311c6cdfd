//! The parts of a generated application: names, phones, documents, the bank
//! card, the micro-deposit step, and the defects that make input errors.

use super::doc::{Node, s};
use super::material::*;
use super::{Generator, Rng, cut, entry};

impl Generator {
    fn latin(&mut self) -> String {
        let first = self.pick_str(LATIN_FIRST);
        let last = self.pick_str(LATIN_LAST);
        match self.rng.below(10) {
            0 => format!("{first}-{} {last}", self.pick_str(LATIN_FIRST)),
            1 => format!("{first} {} {last}", self.pick_str(LATIN_FIRST)),
            2 => format!("{} {}", last.to_uppercase(), first),
            _ => format!("{first} {last}"),
        }
    }

    fn han(&mut self) -> String {
        format!("{}{}", self.pick_str(HAN_SURNAME), self.pick_str(HAN_GIVEN))
    }

    /// A name in one of many scripts and shapes, valid or not.
    pub(super) fn name(&mut self, clean: bool) -> String {
        match self.rng.below(if clean { 54 } else { 100 }) {
            0..=29 => self.latin(),
            30..=41 => self.han(),
            42..=53 => match self.rng.below(3) {
                0 => format!("{}·{}", self.pick_str(HAN_FOREIGN), self.pick_str(HAN_FOREIGN)),
                1 => format!(
                    "{}·{} {}",
                    self.pick_str(LATIN_FIRST),
                    self.pick_str(LATIN_FIRST),
                    self.pick_str(LATIN_LAST)
                ),
                _ => {
                    let first = self.pick_str(LATIN_FIRST);
                    format!("{}. {}", cut(&first, 1).0, self.pick_str(LATIN_LAST))
                }
            },
            54..=61 => {
                let n = self.pick_str(OTHER_SCRIPTS);
                if self.rng.chance(30) {
                    use unicode_normalization::UnicodeNormalization;
                    n.nfd().collect()
                } else {
                    n
                }
            }
            62..=68 => {
                let c = self.rng.pick(LOOKALIKES).copied().unwrap_or('•');
                if self.rng.chance(50) {
                    format!("{}{c}{}", self.pick_str(HAN_FOREIGN), self.pick_str(HAN_FOREIGN))
                } else {
                    format!(
                        "{}{c}{} {}",
                        self.pick_str(LATIN_FIRST),
                        self.pick_str(LATIN_FIRST),
                        self.pick_str(LATIN_LAST)
                    )
                }
            }
            69..=72 => {
                let mut chars: Vec<char> = self.latin().chars().collect();
                let at = self.rng.below(chars.len() + 1);
                chars.insert(at, self.rng.pick(INVISIBLE).copied().unwrap_or('\u{200B}'));
                chars.into_iter().collect()
            }
            73..=76 => self.pick_str(&["A", "王", "김", "J", "", " ", "李"]),
            77..=85 => {
                let target = 17 + self.rng.below(14);
                let mut name = self.pick_str(LATIN_FIRST);
                while name.chars().count() < target {
                    name.push(' ');
                    let part = if self.rng.chance(50) { LATIN_FIRST } else { LATIN_LAST };
                    name.push_str(&self.pick_str(part));
                }
                name
            }
            86..=91 => match self.rng.below(3) {
                0 => format!("  {}  ", self.latin()),
                1 => self.latin().replacen(' ', "   ", 1),
                _ => self.latin().replacen(' ', "\u{3000}", 1),
            },
            _ => self.latin(),
        }
    }

    /// A phone number of a country, as typed: well formed or not.
    pub(super) fn phone(&mut self, dial: &str, len: usize, clean: bool) -> String {
        let mainland = |rng: &mut Rng, prefixes: &[&str], len: usize| {
            let p = rng.pick(prefixes).copied().unwrap_or("13");
            format!("{p}{}", rng.digits(len.saturating_sub(p.len())))
        };
        match self.rng.below(if clean { 62 } else { 100 }) {
            0..=29 => {
                let n = mainland(&mut self.rng, &["13", "14", "15", "18"], 11);
                match self.rng.below(6) {
                    0 => format!("+86{n}"),
                    1 => format!("+86-{n}"),
                    2 => {
                        let (a, rest) = cut(&n, 3);
                        let (b, c) = cut(rest, 4);
                        format!("{a}-{b}-{c}")
                    }
                    _ => n,
                }
            }
            62..=69 => {
                let bad = match self.rng.below(3) {
                    0 => mainland(&mut self.rng, &["16", "17", "19", "12", "10"], 11),
                    1 => mainland(&mut self.rng, &["13", "18"], 10),
                    _ => mainland(&mut self.rng, &["13", "15"], 12),
                };
                if self.rng.chance(30) { format!("+86{bad}") } else { bad }
            }
            30..=61 => {
                let n = self.rng.digits(len);
                match self.rng.below(3) {
                    0 => format!("+{dial}{n}"),
                    1 => format!("+{dial}-{n}"),
                    _ => {
                        let (a, b) = cut(&n, len / 2);
                        format!("+{dial}-{a}-{b}")
                    }
                }
            }
            70..=75 => match self.rng.below(2) {
                0 => {
                    let n = 3 + self.rng.below(3);
                    format!("+{dial}-{}", self.rng.digits(n))
                }
                _ => format!("+{dial}{}", self.rng.digits(16)),
            }
            .chars()
            .take(20)
            .collect(),
            76..=84 => {
                let n = self.rng.digits(len);
                match self.rng.below(7) {
                    0 => format!("+{dial} {n}"),
                    1 => {
                        let (a, b) = cut(&n, 3);
                        format!("({a}) {b}")
                    }
                    2 => format!("tel:+{dial}{n}"),
                    3 => "１３８１２３４５６７８".to_owned(),
                    4 => String::new(),
                    5 => format!("+{dial}-{n} ext. 2"),
                    _ => format!("+{dial}-{n}-{}", self.rng.digits(8)),
                }
            }
            _ => match self.rng.below(2) {
                0 => self.rng.digits(len),
                _ => format!("00{dial}{}", self.rng.digits(len)),
            },
        }
    }

    /// Every combination of document kinds; most often the first kind with another.
    pub(super) fn documents(&mut self, clean: bool) -> Node {
        let k = self.kinds.len();
        let mut chosen: Vec<usize> = if k > 1 && (clean || self.rng.chance(30)) {
            vec![0, 1 + self.rng.below(k - 1)]
        } else {
            (0..k).filter(|_| self.rng.chance(40)).collect()
        };
        if !chosen.is_empty() && self.rng.chance(3) {
            chosen.extend(chosen.first().copied());
        }
        let docs = chosen
            .into_iter()
            .map(|i| {
                let mut doc = vec![("kind".to_owned(), s(self.kinds.get(i).cloned().unwrap_or_default()))];
                if self.rng.chance(70) {
                    let letter = char::from(b'A' + self.rng.below(26) as u8);
                    doc.push(("number".into(), s(format!("{letter}{}", self.rng.digits(8)))));
                }
                match self.rng.below(if clean { 94 } else { 100 }) + 6 {
                    100.. => doc.push(("photo_legible".into(), Node::Raw("false".into()))),
                    6..=45 => doc.push(("photo_legible".into(), Node::Raw("true".into()))),
                    46..=48 => doc.push(("photo_legible".into(), Node::Raw("null".into()))),
                    _ => {}
                }
                Node::Map(doc)
            })
            .collect();
        Node::List(docs)
    }

    /// A bank as an applicant types it: any declared form in mixed case with
    /// stray spaces, or a bank the policy does not know.
    fn bank(&mut self, clean: bool) -> String {
        let forms = if clean || self.rng.chance(80) {
            let i = self.rng.below(self.banks.len());
            self.banks.get(i).cloned().unwrap_or_default()
        } else {
            Vec::new()
        };
        let Some(form) = self.rng.pick(&forms).cloned() else {
            return self.pick_str(UNKNOWN_BANKS);
        };
        let cased = match self.rng.below(6) {
            0 => form.to_lowercase(),
            1 => form.to_uppercase(),
            2 => form
                .chars()
                .map(|c| {
                    if self.rng.chance(50) {
                        c.to_ascii_uppercase()
                    } else {
                        c.to_ascii_lowercase()
                    }
                })
                .collect(),
            _ => form,
        };
        match self.rng.below(10) {
            0 => format!(" {cased}"),
            1 => format!("{cased}  "),
            2 => format!("\t{cased} "),
            _ => cased,
        }
    }

    fn card_number(&mut self) -> String {
        let mut digits: Vec<u32> = vec![6, 2];
        let len = 16 + self.rng.below(4);
        digits.extend((2..len).map(|_| self.rng.below(10) as u32));
        if self.rng.chance(60)
            && let Some(last) = digits.last_mut()
        {
            // Make the Luhn check hold: choose the last digit.
            *last = 0;
            let sum = crate::text::luhn_sum(&digits);
            if let Some(last) = digits.last_mut() {
                *last = (10 - sum % 10) % 10;
            }
        }
        digits.iter().filter_map(|&d| char::from_digit(d, 10)).collect()
    }

    pub(super) fn card(&mut self, name: &str, clean: bool) -> Option<Node> {
        if !clean && self.rng.chance(25) {
            return None;
        }
        let mut card = vec![("bank".to_owned(), s(self.bank(clean)))];
        if self.rng.chance(80) {
            card.push(("number".into(), s(self.card_number())));
        }
        card.push((
            "card_type".into(),
            self.pick_enum(&self.card_types.clone(), if clean { 100 } else { 60 }),
        ));
        if self.rng.chance(55) {
            card.push(("account_type".into(), self.pick_enum(&self.account_types.clone(), 0)));
        }
        let holder = match self.rng.below(if clean { 85 } else { 100 }) {
            0..=69 => name.to_owned(),
            70..=74 => name.to_uppercase(),
            75..=79 => format!(" {}  ", name.replacen(' ', "  ", 1)),
            80..=84 => {
                use unicode_normalization::UnicodeNormalization;
                name.nfd().collect()
            }
            _ => self.name(false),
        };
        card.push(("holder_name".into(), s(holder)));
        match self.rng.below(if clean { 85 } else { 100 }) {
            0..=69 => {}
            70..=84 => card.push(("region".into(), s(self.regions.first().cloned().unwrap_or_default()))),
            _ => {
                let i = 1 + self.rng.below(self.regions.len().saturating_sub(1));
                card.push(("region".into(), s(self.regions.get(i).cloned().unwrap_or_default())));
            }
        }
        Some(Node::Map(card))
    }

    /// An amount below one yuan in one of its equal spellings.
    fn amount(&mut self, cents: usize) -> Node {
        let text = format!("0.{cents:02}");
        match self.rng.below(4) {
            0 => Node::Raw(text.trim_end_matches('0').trim_end_matches('.').to_owned()),
            1 => s(format!("{text}0")),
            _ => s(text),
        }
    }

    /// The micro-deposit step, and whether the amount was confirmed.
    pub(super) fn verification(&mut self) -> (Option<Node>, bool) {
        let cents = 1 + self.rng.below(99);
        let stage = self.rng.below(100);
        let deposited = if (82..=89).contains(&stage) {
            let odd = self.pick_str(&["0", "0.00", "1", "1.00", "1.5", "-0.37", "100", "0.999999"]);
            if self.rng.chance(50) { Node::Raw(odd) } else { s(odd) }
        } else {
            self.amount(cents)
        };
        let mut v = vec![("deposited".to_owned(), deposited.clone())];
        let confirmed = match stage {
            0..=24 => return (None, false),
            25..=39 => false,
            40..=69 => {
                let equal = self.amount(cents);
                v.push(("entered".into(), equal));
                true
            }
            70..=81 => {
                let other = 1 + (cents + self.rng.below(97)) % 99;
                let entered = if other == cents { s("1.23") } else { self.amount(other) };
                v.push(("entered".into(), entered));
                false
            }
            82..=89 => {
                let equal = self.rng.chance(50);
                if equal {
                    v.push(("entered".into(), deposited));
                }
                equal
            }
            _ => {
                v.push(("entered".into(), Node::Raw("null".into())));
                false
            }
        };
        (Some(Node::Map(v)), confirmed)
    }

    /// Turns an application into an input error: an unknown enum value, a
    /// missing required field, or a value of the wrong type.
    pub(super) fn defect(&mut self, app: &mut Vec<(String, Node)>) {
        match self.rng.below(3) {
            0 => {
                let bad = s(self.pick_str(NOT_ENUM));
                if let Some(Node::List(docs)) = entry(app, "documents") {
                    match docs.first_mut() {
                        Some(Node::Map(doc)) => doc.retain(|(k, _)| k != "kind"),
                        _ => docs.push(Node::Map(Vec::new())),
                    }
                    if let Some(Node::Map(doc)) = docs.first_mut() {
                        doc.insert(0, ("kind".into(), bad));
                    }
                }
            }
            1 => {
                let (map, required) = if self.rng.chance(50) {
                    (Some(app), self.required_root.clone())
                } else {
                    let applicant = match entry(app, "applicant") {
                        Some(Node::Map(m)) => Some(m),
                        _ => None,
                    };
                    (applicant, self.required_applicant.clone())
                };
                if let (Some(map), Some(key)) = (map, self.rng.pick(&required)) {
                    map.retain(|(k, _)| k != key);
                }
            }
            _ => {
                if let Some(Node::Map(applicant)) = entry(app, "applicant")
                    && let Some(phone) = entry(applicant, "phone")
                {
                    *phone = Node::Raw(format!("1{}", self.rng.digits(10)));
                }
            }
        }
    }
}
