//! The hand-written baseline: the shipped policy (`rules/*.rules`) written
//! directly in Rust over serde-derived structs, as a team without kycrules
//! would write it. Same decisions, next steps and English messages as the
//! engine (`tests/baseline.rs` checks it on the bench corpus); every speed
//! figure of BENCHMARKS.md is a ratio to it.
//!
//! Domain knowledge (banks, rule ids, messages) is allowed here, in the
//! benches, and nowhere else. The text helpers it calls (`nfc`, the Luhn and
//! MOD 11-2 checks, `same_name`, character names) are the general ones any
//! implementation would take from a library.
#![allow(dead_code)]

use kycrules::decimal::Decimal;
use kycrules::{chars, text};
use serde::Deserialize;
use std::borrow::Cow;
use std::collections::HashMap;
use unicode_script::{Script, UnicodeScript};

#[derive(Debug, Deserialize)]
pub struct Application {
    pub id: String,
    pub applicant: Applicant,
    pub documents: Vec<Document>,
    pub bank_card: Option<BankCard>,
    pub verification: Option<Verification>,
    pub review: Option<Review>,
}

#[derive(Debug, Deserialize)]
pub struct Applicant {
    pub name: String,
    pub nationality: Option<String>,
    pub phone: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    Passport,
    EntryCertificate,
    PermanentResidencePermit,
    ForeignResidencePermit,
}

#[derive(Debug, Deserialize)]
pub struct Document {
    pub kind: DocumentKind,
    pub number: Option<String>,
    pub photo_legible: Option<bool>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CardType {
    Savings,
    Credit,
    Passbook,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountType {
    Current,
    Fixed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Region {
    #[default]
    Mainland,
    Overseas,
}

#[derive(Debug, Deserialize)]
pub struct BankCard {
    pub bank: String,
    pub number: Option<String>,
    pub card_type: CardType,
    pub account_type: Option<AccountType>,
    pub holder_name: String,
    #[serde(default)]
    pub region: Region,
}

#[derive(Debug, Deserialize)]
pub struct Verification {
    #[serde(deserialize_with = "decimal")]
    pub deposited: Decimal,
    #[serde(default, deserialize_with = "opt_decimal")]
    pub entered: Option<Decimal>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewOutcome {
    Passed,
    Failed,
}

#[derive(Debug, Deserialize)]
pub struct Review {
    pub outcome: ReviewOutcome,
    pub reason: Option<String>,
}

struct DecimalVisitor;

impl<'de> serde::de::Visitor<'de> for DecimalVisitor {
    type Value = Decimal;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a decimal")
    }
    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Decimal, E> {
        Ok(Decimal::from_i64(v))
    }
    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Decimal, E> {
        Decimal::parse(&v.to_string()).map_err(|_| E::custom("decimal out of range"))
    }
    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Decimal, E> {
        Decimal::from_f64(v).map_err(|_| E::custom("decimal out of range"))
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Decimal, E> {
        Decimal::parse(v).map_err(|_| E::custom("not a decimal"))
    }
    /// serde_json with `arbitrary_precision` hands an unquoted number over as
    /// a one-entry map holding the number's text: read it exactly.
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Decimal, A::Error> {
        use serde::de::Error;
        let Some((_, text)) = map.next_entry::<String, String>()? else {
            return Err(A::Error::custom("not a decimal"));
        };
        Decimal::parse(&text).map_err(|_| A::Error::custom("not a decimal"))
    }
}

fn decimal<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
    d.deserialize_any(DecimalVisitor)
}

fn opt_decimal<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
    struct Opt;
    impl<'de> serde::de::Visitor<'de> for Opt {
        type Value = Option<Decimal>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a decimal or null")
        }
        fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            decimal(d).map(Some)
        }
    }
    d.deserialize_option(Opt)
}

/// A bank of the policy: code, English display name, whether supported or suspended.
struct BankInfo {
    code: &'static str,
    display: &'static str,
    supported: bool,
    suspended: bool,
}

/// Code, display name, then every other name and alias it may be typed as.
const BANKS: &[(&str, &str, bool, bool, &[&str])] = &[
    ("CIB", "Industrial Bank", true, false, &["兴业银行", "兴业", "CIB Bank"]),
    (
        "CMBC",
        "China Minsheng Bank",
        true,
        false,
        &[
            "China Minsheng Banking Corp",
            "Minsheng Bank",
            "中国民生银行",
            "民生银行",
            "民生",
        ],
    ),
    (
        "SPDB",
        "Shanghai Pudong Development Bank",
        true,
        false,
        &[
            "Pudong Development Bank",
            "上海浦东发展银行",
            "浦发银行",
            "浦发",
            "SPD Bank",
        ],
    ),
    (
        "ICBC",
        "Industrial and Commercial Bank of China",
        true,
        false,
        &["中国工商银行", "工商银行", "工行"],
    ),
    (
        "CMB",
        "China Merchants Bank",
        true,
        false,
        &["Merchants Bank", "招商银行", "招行"],
    ),
    (
        "BOCOM",
        "Bank of Communications",
        true,
        false,
        &["交通银行", "交行", "BoCom"],
    ),
    ("BOC", "Bank of China", true, false, &["中国银行", "中行"]),
    (
        "CGB",
        "China Guangfa Bank",
        true,
        false,
        &["Guangfa Bank", "广发银行", "广发", "GDB"],
    ),
    (
        "CITIC",
        "China CITIC Bank",
        true,
        false,
        &["CITIC Bank", "中信银行", "中信"],
    ),
    (
        "CEB",
        "China Everbright Bank",
        true,
        false,
        &["Everbright Bank", "中国光大银行", "光大银行", "光大"],
    ),
    ("HZB", "Bank of Hangzhou", true, false, &["Hangzhou Bank", "杭州银行"]),
    (
        "PSBC",
        "Postal Savings Bank of China",
        true,
        false,
        &[
            "Postal Savings Bank",
            "中国邮政储蓄银行",
            "邮政储蓄银行",
            "邮储银行",
            "邮储",
        ],
    ),
    ("PAB", "Ping An Bank", true, false, &["PingAn Bank", "平安银行", "平安"]),
    (
        "ABC",
        "Agricultural Bank of China",
        false,
        true,
        &["中国农业银行", "农业银行", "农行"],
    ),
];

/// The shipped policy, hand-written.
pub struct Baseline {
    banks: Vec<BankInfo>,
    lookup: HashMap<String, usize>,
}

/// What the baseline decides: the decision, the next step, and each rule
/// that fired with its message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub decision: &'static str,
    pub next_step: Option<&'static str>,
    pub violations: Vec<(&'static str, Cow<'static, str>)>,
}

impl Default for Baseline {
    fn default() -> Self {
        Self::new()
    }
}

fn in_name_charset(c: char) -> bool {
    c.is_ascii_alphabetic() || matches!(c, ' ' | '.' | '·' | '-') || c.script() == Script::Han
}

/// The first character of `name` outside the name charset, described as the
/// message shows it, and the ASCII character it looks like, if any.
fn name_outside(name: &str) -> Option<(String, Option<String>)> {
    let c = name.chars().find(|&c| !in_name_charset(c))?;
    Some((chars::describe(c), chars::confusable_hint(c)))
}

fn mainland_mobile(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 11 && b[0] == b'1' && matches!(b[1], b'3' | b'4' | b'5' | b'8') && b[2..].iter().all(u8::is_ascii_digit)
}

fn international_digits(s: &str) -> bool {
    (7..=15).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
}

impl Baseline {
    pub fn new() -> Baseline {
        let mut banks = Vec::new();
        let mut lookup = HashMap::new();
        for (i, (code, display, supported, suspended, names)) in BANKS.iter().enumerate() {
            banks.push(BankInfo {
                code,
                display,
                supported: *supported,
                suspended: *suspended,
            });
            for n in std::iter::once(code)
                .chain(std::iter::once(display))
                .chain(names.iter())
            {
                lookup.entry(n.to_lowercase()).or_insert(i);
            }
        }
        Baseline { banks, lookup }
    }

    fn bank(&self, typed: &str) -> Option<&BankInfo> {
        let key = typed.trim();
        let i = if key.bytes().any(|b| b.is_ascii_uppercase()) || !key.is_ascii() {
            self.lookup.get(&key.to_lowercase())
        } else {
            self.lookup.get(key)
        }?;
        self.banks.get(*i)
    }

    /// Parses one JSON application; `Err` for a document that does not fit.
    pub fn parse(line: &[u8]) -> Result<Application, serde_json::Error> {
        serde_json::from_slice(line)
    }

    /// Decides one application, in English.
    pub fn decide(&self, a: &Application) -> Verdict {
        let mut v: Vec<(&'static str, Cow<'static, str>)> = Vec::new();
        let mut worst = 0u8; // 0 accept, 1 review, 2 limited, 3 reject
        let mut fire = |v: &mut Vec<_>, id: &'static str, severity: u8, msg: Cow<'static, str>| {
            worst = worst.max(severity);
            v.push((id, msg));
        };
        const REVIEW: u8 = 1;
        const LIMITED: u8 = 2;
        const REJECT: u8 = 3;
        const NOTE: u8 = 0;

        // The applicant.
        let name = text::nfc(&a.applicant.name);
        if let Some((c, instead)) = name_outside(&name) {
            let msg = match instead {
                Some(i) => format!(
                    "The real name may contain only Chinese characters, letters, spaces, dots and hyphens; {c} only looks like one: type \"{i}\" instead."
                ),
                None => format!(
                    "The real name may contain only Chinese characters, letters, spaces, dots and hyphens; remove {c}."
                ),
            };
            fire(&mut v, "name-charset", REJECT, msg.into());
        }
        let name_len = name.chars().count();
        if name_len < 2 {
            fire(
                &mut v,
                "name-min-length",
                REJECT,
                "The real name must have at least two characters.".into(),
            );
        }
        let phone = a.applicant.phone.as_str();
        let phone_len = text::nfc(phone).chars().count();
        let phone_ok =
            (1..=20).contains(&phone_len) && phone.bytes().all(|b| b.is_ascii_digit() || b == b'-' || b == b'+');
        if !phone_ok {
            fire(
                &mut v,
                "phone-charset",
                REJECT,
                "The phone number may contain only digits, \"-\" and \"+\", at most 20 characters.".into(),
            );
        } else if !phone.starts_with('+') || phone.starts_with("+86") {
            let digits = phone.replace('-', "");
            if !mainland_mobile(digits.strip_prefix("+86").unwrap_or(&digits)) {
                fire(&mut v, "phone-mainland", REJECT, "A mainland mobile number has 11 digits and begins with a mobile prefix such as 138; check the number, or add the international code for other regions.".into());
            }
        } else {
            let digits = phone.strip_prefix('+').unwrap_or(phone).replace('-', "");
            if !international_digits(&digits) {
                fire(&mut v, "phone-international", REJECT, "Overseas, Hong Kong, Macao and Taiwan numbers must begin with \"+\" and the international code, followed by 7 to 15 digits.".into());
            }
        }

        // Documents.
        let has = |k: DocumentKind| a.documents.iter().any(|d| d.kind == k);
        let passport = has(DocumentKind::Passport);
        let entry = has(DocumentKind::EntryCertificate);
        let residence = has(DocumentKind::ForeignResidencePermit);
        let permanent = has(DocumentKind::PermanentResidencePermit);
        if !(passport && (entry || residence) || permanent) {
            fire(&mut v, "documents-required", REJECT, "Show a passport with an entry certificate (the visa or entry-stamp page) or with a foreigner's residence permit, or a Foreign Permanent Resident ID card.".into());
        }
        if a.documents.iter().any(|d| d.photo_legible == Some(false)) {
            fire(
                &mut v,
                "document-legible",
                REJECT,
                "The passport number and photo must be clear; upload the document again.".into(),
            );
        }

        // The bank card.
        match &a.bank_card {
            Some(card) if card.region == Region::Mainland => {
                let bank = self.bank(&card.bank);
                let supported = bank.is_some_and(|b| b.supported);
                if !supported {
                    let shown = bank.map_or(card.bank.as_str(), |b| b.display);
                    let msg = if bank.is_some_and(|b| b.suspended) {
                        format!("{shown} is not supported for the time being; use a card of one of the 13 supported banks.")
                    } else {
                        format!("{shown} does not support authentication; use a card of one of the 13 supported banks.")
                    };
                    fire(&mut v, "bank-supported", REJECT, msg.into());
                }
                if card.card_type != CardType::Savings {
                    fire(&mut v, "card-savings", REJECT, "The card must be a savings (debit) card; credit cards and passbooks are not supported.".into());
                }
                if !text::same_name(&card.holder_name, &a.applicant.name) {
                    fire(
                        &mut v,
                        "holder-name-match",
                        REJECT,
                        "The account name must be the same as the name in the application.".into(),
                    );
                }
                let code = bank.map(|b| b.code);
                if code == Some("HZB") && card.account_type == Some(AccountType::Fixed) {
                    fire(
                        &mut v,
                        "hzb-current-account",
                        REJECT,
                        "A Bank of Hangzhou savings card supports current (demand) accounts only.".into(),
                    );
                }
                if code == Some("BOC") && name.contains(['.', '·']) {
                    fire(&mut v, "boc-name-dot", REJECT, "Bank of China cannot verify names that contain a dot; use a card of another supported bank.".into());
                }
                if name_len > 20 && supported && code != Some("CMB") {
                    fire(&mut v, "long-name-cmb-only", REJECT, "Sorry, it cannot be operated temporarily. Names longer than 20 characters can only be verified by micro-deposit through China Merchants Bank.".into());
                }
            }
            _ => fire(&mut v, "card-mainland", LIMITED, "Authentication needs a bank card opened in mainland China. Until you add one, balance payments are restricted; online banking and express payment still work, and you can upgrade the account later.".into()),
        }
        // The micro-deposit and the review.
        let zero = Decimal::from_i64(0);
        let one = Decimal::from_i64(1);
        let mut deposit_range = false;
        let mut review_pending = false;
        if let Some(ver) = &a.verification {
            if !(ver.deposited > zero && ver.deposited < one) {
                deposit_range = true;
                fire(
                    &mut v,
                    "deposit-range",
                    REVIEW,
                    "The deposited amount must be more than 0 and less than 1 yuan; staff will check the deposit."
                        .into(),
                );
            }
            if let Some(entered) = ver.entered {
                if entered != ver.deposited {
                    fire(
                        &mut v,
                        "deposit-mismatch",
                        REJECT,
                        "The amount entered does not match the amount deposited; enter the exact amount you received."
                            .into(),
                    );
                } else if a.review.is_none() {
                    review_pending = true;
                    fire(
                        &mut v,
                        "review-pending",
                        REVIEW,
                        "The amount is confirmed; staff will review the application within two days.".into(),
                    );
                }
            }
        }
        if let Some(r) = &a.review
            && r.outcome == ReviewOutcome::Failed
        {
            let msg: Cow<'static, str> = match &r.reason {
                Some(reason) => format!("The review failed: {reason}.").into(),
                None => "The review failed; you can look up the reason in the app.".into(),
            };
            fire(&mut v, "review-failed", REJECT, msg);
        }

        // Notes.
        if let Some(number) = a.bank_card.as_ref().and_then(|c| c.number.as_deref()) {
            let digits: String = number.chars().filter(|&c| c != ' ' && c != '-').collect();
            if !text::luhn(&digits) {
                let msg = format!(
                    "The card number {} fails the Luhn check; make sure it was typed correctly (some UnionPay cards do not satisfy the check).",
                    text::mask(number)
                );
                fire(&mut v, "card-number-luhn", NOTE, msg.into());
            }
        }
        let bad_permanent = a.documents.iter().any(|d| {
            d.kind == DocumentKind::PermanentResidencePermit
                && d.number
                    .as_deref()
                    .is_some_and(|n| !(text::nfc(n).chars().count() == 18 && n.starts_with('9') && text::mod11_2(n)))
        });
        if bad_permanent {
            fire(&mut v, "permanent-residence-number", NOTE, "The permanent residence ID number should have 18 characters, begin with 9 and end with a valid check character; make sure it was typed correctly.".into());
        }

        let decision = ["accept", "review", "limited", "reject"][worst as usize];
        let next_step = match worst {
            0 | 1 => Some(if deposit_range || review_pending {
                "manual_review"
            } else {
                match &a.verification {
                    None => "micro_deposit",
                    Some(ver) if ver.entered.is_none() => "enter_amount",
                    _ if a.review.as_ref().is_some_and(|r| r.outcome == ReviewOutcome::Passed) => "approved",
                    _ => "manual_review",
                }
            }),
            _ => None,
        };
        Verdict {
            decision,
            next_step,
            violations: v,
        }
    }
}

/// Each rule's outcome and the fields it concerns, for the JSON report.
pub const RULES: &[(&str, &str, &[&str])] = &[
    ("name-charset", "reject", &["applicant.name"]),
    ("name-min-length", "reject", &["applicant.name"]),
    ("phone-charset", "reject", &["applicant.phone"]),
    ("phone-mainland", "reject", &["applicant.phone"]),
    ("phone-international", "reject", &["applicant.phone"]),
    ("documents-required", "reject", &["documents"]),
    ("document-legible", "reject", &["documents"]),
    ("card-mainland", "limited", &["bank_card"]),
    ("bank-supported", "reject", &["bank_card.bank"]),
    ("card-savings", "reject", &["bank_card.card_type"]),
    (
        "holder-name-match",
        "reject",
        &["bank_card.holder_name", "applicant.name"],
    ),
    (
        "hzb-current-account",
        "reject",
        &["bank_card.bank", "bank_card.account_type"],
    ),
    ("boc-name-dot", "reject", &["bank_card.bank", "applicant.name"]),
    ("long-name-cmb-only", "reject", &["applicant.name", "bank_card.bank"]),
    ("deposit-range", "review", &["verification.deposited"]),
    ("deposit-mismatch", "reject", &["verification.entered"]),
    ("review-pending", "review", &["review"]),
    ("review-failed", "reject", &["review.outcome", "review.reason"]),
    ("card-number-luhn", "note", &["bank_card.number"]),
    ("permanent-residence-number", "note", &["documents"]),
];
