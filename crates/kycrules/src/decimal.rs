//! Exact decimal numbers: `"0.37"`, `0.37` and `"0.370"` are the same amount.

use std::cmp::Ordering;
use std::fmt;

/// The most significant digits a decimal may have.
pub const MAX_DIGITS: u32 = 38;

/// `coef × 10^exp`, negative when `neg`; normalised so that equal amounts are
/// equal values (no trailing zeros in `coef`, zero is never negative).
///
/// Packed to 8-byte alignment (24 bytes, not the 32 a 16-aligned `u128`
/// needs), so that a [`Field`](crate::record::Field) or an evaluator's value
/// holding one is 32 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(Rust, packed(8))]
pub struct Decimal {
    neg: bool,
    coef: u128,
    exp: i32,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecimalError {
    #[error("not a decimal number")]
    Syntax,
    #[error("more than {MAX_DIGITS} significant digits")]
    TooPrecise,
    #[error("exponent out of range")]
    Exponent,
}

impl Decimal {
    pub const ZERO: Decimal = Decimal {
        neg: false,
        coef: 0,
        exp: 0,
    };

    pub fn from_i64(v: i64) -> Self {
        Decimal::new(v < 0, u128::from(v.unsigned_abs()), 0)
    }

    fn new(neg: bool, mut coef: u128, mut exp: i32) -> Self {
        if coef == 0 {
            return Decimal::ZERO;
        }
        while coef.is_multiple_of(10) {
            coef /= 10;
            exp = exp.saturating_add(1);
        }
        Decimal { neg, coef, exp }
    }

    /// Parses an optional sign, digits, an optional fraction and an optional
    /// exponent: `-0.37`, `1e-2`, `.5` and `5.` are accepted; spaces are not.
    pub fn parse(s: &str) -> Result<Self, DecimalError> {
        let b = s.as_bytes();
        let mut i = 0;
        let mut neg = false;
        if let Some(&c) = b.first()
            && (c == b'+' || c == b'-')
        {
            neg = c == b'-';
            i = 1;
        }
        let mut coef: u128 = 0;
        let mut digits = 0u32; // significant digits kept in coef
        let mut any_digit = false;
        let mut exp: i64 = 0;
        let mut seen_point = false;
        while i < b.len() {
            let c = b[i];
            if c.is_ascii_digit() {
                any_digit = true;
                let d = u128::from(c - b'0');
                if coef == 0 && d == 0 {
                    // a leading zero adds no significant digit
                } else {
                    digits += 1;
                    if digits > MAX_DIGITS {
                        // Excess digits are allowed only when they are zeros of the integer part.
                        if d != 0 || seen_point {
                            if d == 0 {
                                i += 1;
                                continue;
                            }
                            return Err(DecimalError::TooPrecise);
                        }
                        exp += 1;
                        i += 1;
                        continue;
                    }
                    coef = coef * 10 + d;
                }
                if seen_point {
                    exp -= 1;
                }
            } else if c == b'.' && !seen_point {
                seen_point = true;
            } else {
                break;
            }
            i += 1;
        }
        if !any_digit {
            return Err(DecimalError::Syntax);
        }
        if i < b.len() {
            if b[i] != b'e' && b[i] != b'E' {
                return Err(DecimalError::Syntax);
            }
            let rest = &s[i + 1..];
            let digits_part = rest.strip_prefix(['+', '-']).unwrap_or(rest);
            if digits_part.is_empty() || !digits_part.bytes().all(|c| c.is_ascii_digit()) {
                return Err(DecimalError::Syntax);
            }
            let e: i64 = rest.parse().map_err(|_| DecimalError::Exponent)?;
            exp = exp.checked_add(e).ok_or(DecimalError::Exponent)?;
        }
        if coef == 0 {
            return Ok(Decimal::ZERO);
        }
        let exp = i32::try_from(exp).map_err(|_| DecimalError::Exponent)?;
        if exp.unsigned_abs() > 1_000_000 {
            return Err(DecimalError::Exponent);
        }
        Ok(Decimal::new(neg, coef, exp))
    }

    /// The shortest decimal that reads back as `f`, as JSON and YAML numbers give it.
    pub fn from_f64(f: f64) -> Result<Self, DecimalError> {
        if !f.is_finite() {
            return Err(DecimalError::Syntax);
        }
        Decimal::parse(&format!("{f:e}"))
    }

    pub fn is_zero(&self) -> bool {
        self.coef == 0
    }

    fn digit_count(&self) -> i64 {
        // Amounts fit in 64 bits; the 128-bit logarithm is the slow path.
        let log = match u64::try_from(self.coef) {
            Ok(c) => c.checked_ilog10(),
            Err(_) => self.coef.checked_ilog10(),
        };
        i64::from(log.map_or(1, |d| d + 1))
    }

    fn cmp_magnitude(&self, other: &Self) -> Ordering {
        match (self.coef == 0, other.coef == 0) {
            (true, true) => return Ordering::Equal,
            (true, false) => return Ordering::Less,
            (false, true) => return Ordering::Greater,
            _ => {}
        }
        if self.exp == other.exp {
            let (a, b) = (self.coef, other.coef);
            return a.cmp(&b); // normalised: no trailing zeros
        }
        // Amounts: 64-bit coefficients, exponents at most 19 apart. The one
        // with the larger exponent, scaled to the other's, fits in 128 bits.
        if let (Ok(a), Ok(b)) = (u64::try_from(self.coef), u64::try_from(other.coef))
            && let Some(&p) = usize::try_from((i64::from(self.exp) - i64::from(other.exp)).unsigned_abs())
                .ok()
                .and_then(|k| POW10_U64.get(k))
        {
            let (a, b, p) = (u128::from(a), u128::from(b), u128::from(p));
            return if self.exp > other.exp {
                (a * p).cmp(&b)
            } else {
                a.cmp(&(b * p))
            };
        }
        self.cmp_by_digits(other)
    }

    /// [`cmp_magnitude`](Self::cmp_magnitude) of two non-zero decimals, by
    /// their orders of magnitude, then their digits.
    fn cmp_by_digits(&self, other: &Self) -> Ordering {
        let (da, db) = (self.digit_count(), other.digit_count());
        let (ma, mb) = (da + i64::from(self.exp), db + i64::from(other.exp));
        if ma != mb {
            return ma.cmp(&mb);
        }
        // Same order of magnitude: pad the shorter coefficient to the longer's width.
        let (mut a, mut b) = (self.coef, other.coef);
        match da.cmp(&db) {
            Ordering::Less => a *= 10u128.pow(u32::try_from(db - da).unwrap_or(0)),
            Ordering::Greater => b *= 10u128.pow(u32::try_from(da - db).unwrap_or(0)),
            Ordering::Equal => {}
        }
        a.cmp(&b)
    }
}

/// How [`Decimal::round_to`] settles the digits it drops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rounding {
    /// To the nearest; a half away from zero.
    HalfAway,
    /// Towards negative infinity.
    Floor,
    /// Towards positive infinity.
    Ceil,
}

/// The places a quotient keeps after the point when it does not end sooner.
pub const DIVISION_PLACES: i32 = 20;

/// The most places `round`, `floor` and `ceil` take, either side of the point.
pub const MAX_PLACES: i64 = 30;

/// `10^k` for every `k` that fits in 64 bits.
const POW10_U64: [u64; 20] = {
    let mut t = [1u64; 20];
    let mut k = 1;
    while k < 20 {
        t[k] = t[k - 1] * 10;
        k += 1;
    }
    t
};

fn pow10(n: u32) -> Option<u128> {
    10u128.checked_pow(n)
}

impl Decimal {
    /// The two coefficients scaled to the smaller exponent, with it; `None`
    /// when scaling overflows.
    fn aligned(&self, other: &Self) -> Option<(u128, u128, i32)> {
        if self.coef == 0 {
            return Some((0, other.coef, other.exp));
        }
        if other.coef == 0 {
            return Some((self.coef, 0, self.exp));
        }
        let exp = self.exp.min(other.exp);
        let scale =
            |d: &Decimal| -> Option<u128> { d.coef.checked_mul(pow10(u32::try_from(d.exp.checked_sub(exp)?).ok()?)?) };
        Some((scale(self)?, scale(other)?, exp))
    }

    fn bounded(neg: bool, coef: u128, exp: i32) -> Option<Self> {
        let d = Decimal::new(neg, coef, exp);
        (d.digit_count() <= i64::from(MAX_DIGITS)).then_some(d)
    }

    /// `self + other`; `None` when the result needs more than
    /// [`MAX_DIGITS`] digits.
    pub fn checked_add(&self, other: &Self) -> Option<Self> {
        let (a, b, exp) = self.aligned(other)?;
        if self.neg == other.neg {
            return Decimal::bounded(self.neg, a.checked_add(b)?, exp);
        }
        if a >= b {
            Decimal::bounded(self.neg, a - b, exp)
        } else {
            Decimal::bounded(other.neg, b - a, exp)
        }
    }

    pub fn neg(&self) -> Self {
        Decimal::new(!self.neg, self.coef, self.exp)
    }

    pub fn checked_sub(&self, other: &Self) -> Option<Self> {
        self.checked_add(&other.neg())
    }

    pub fn checked_mul(&self, other: &Self) -> Option<Self> {
        let coef = self.coef.checked_mul(other.coef)?;
        Decimal::bounded(self.neg != other.neg, coef, self.exp.checked_add(other.exp)?)
    }

    /// `self / other`, exact when the quotient ends within
    /// [`DIVISION_PLACES`] places after the point, else rounded there (half
    /// away from zero); `None` on division by zero or overflow.
    pub fn checked_div(&self, other: &Self) -> Option<Self> {
        if other.coef == 0 {
            return None;
        }
        if self.coef == 0 {
            return Some(Decimal::ZERO);
        }
        // quotient = a.coef / b.coef × 10^(a.exp − b.exp), computed at exponent −DIVISION_PLACES.
        let k = i64::from(self.exp) - i64::from(other.exp) + i64::from(DIVISION_PLACES);
        let (num, den) = if k >= 0 {
            (self.coef.checked_mul(pow10(u32::try_from(k).ok()?)?)?, other.coef)
        } else {
            let shift = pow10(u32::try_from(-k).ok()?);
            match shift.and_then(|s| other.coef.checked_mul(s)) {
                Some(den) => (self.coef, den),
                None => return Some(Decimal::ZERO),
            }
        };
        let (mut q, r) = (num / den, num % den);
        if r >= den - r {
            q = q.checked_add(1)?;
        }
        Decimal::bounded(self.neg != other.neg, q, -DIVISION_PLACES)
    }

    /// The remainder of truncating division, with the sign of `self`
    /// (`7 mod 2` is 1, `-7 mod 2` is -1); `None` when `other` is zero.
    pub fn checked_rem(&self, other: &Self) -> Option<Self> {
        if other.coef == 0 {
            return None;
        }
        let (a, b, exp) = self.aligned(other)?;
        Decimal::bounded(self.neg, a % b, exp)
    }

    /// Rounded to `places` digits after the point (negative: before it);
    /// `None` beyond ±[`MAX_PLACES`].
    pub fn round_to(&self, places: i64, mode: Rounding) -> Option<Self> {
        if places.abs() > MAX_PLACES {
            return None;
        }
        let target = i32::try_from(-places).ok()?;
        if self.coef == 0 || self.exp >= target {
            return Some(*self);
        }
        let drop = u32::try_from(i64::from(target) - i64::from(self.exp)).ok()?;
        let (mut q, r, div) = match pow10(drop) {
            Some(div) => (self.coef / div, self.coef % div, Some(div)),
            None => (0, self.coef, None),
        };
        let up = match mode {
            Rounding::HalfAway => div.is_some_and(|div| r >= div - r),
            Rounding::Floor => self.neg && r > 0,
            Rounding::Ceil => !self.neg && r > 0,
        };
        if up {
            q = q.checked_add(1)?;
        }
        Decimal::bounded(self.neg, q, target)
    }

    /// The value as a whole number, when it is one and fits.
    pub fn to_i64(&self) -> Option<i64> {
        if self.coef == 0 {
            return Some(0);
        }
        if self.exp < 0 {
            return None;
        }
        let v = i64::try_from(self.coef.checked_mul(pow10(u32::try_from(self.exp).ok()?)?)?).ok()?;
        Some(if self.neg { -v } else { v })
    }
}

impl Ord for Decimal {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self.neg, other.neg) {
            (false, true) => Ordering::Greater,
            (true, false) => Ordering::Less,
            (false, false) => self.cmp_magnitude(other),
            (true, true) => other.cmp_magnitude(self),
        }
    }
}

impl PartialOrd for Decimal {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Decimal {
    /// Plain notation (`0.37`, `120`); scientific when that would need more than 30 zeros.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.neg {
            f.write_str("-")?;
        }
        let coef = self.coef;
        let digits = coef.to_string();
        let exp = i64::from(self.exp);
        if exp >= 0 {
            if exp > 30 {
                return write!(f, "{digits}e{exp}");
            }
            f.write_str(&digits)?;
            for _ in 0..exp {
                f.write_str("0")?;
            }
            return Ok(());
        }
        let frac = usize::try_from(-exp).unwrap_or(usize::MAX);
        if frac > digits.len() + 30 {
            return write!(f, "{digits}e{exp}");
        }
        if frac >= digits.len() {
            write!(f, "0.{}{digits}", "0".repeat(frac - digits.len()))
        } else {
            let (int, fr) = digits.split_at(digits.len() - frac);
            write!(f, "{int}.{fr}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        Decimal::parse(s).unwrap_or_else(|e| unreachable!("{s}: {e}"))
    }

    #[test]
    fn equal_amounts_are_equal() {
        assert_eq!(d("0.37"), d("0.370"));
        assert_eq!(d("0.37"), Decimal::from_f64(0.37).unwrap_or(Decimal::ZERO));
        assert_eq!(d("37e-2"), d("0.37"));
        assert_eq!(d("-0"), d("0"));
        assert_eq!(d("100"), d("1e2"));
    }

    #[test]
    fn ordering_is_exact() {
        assert!(d("0.1") < d("0.10000000000000000000000001"));
        assert!(d("-1") < d("0"));
        assert!(d("-2") < d("-1"));
        assert!(d("1") > d("0.999999999999999999999999999999"));
        assert!(d("1e1000") > d("9e999"));
        assert!(d("0.99") < d("1"));
    }

    #[test]
    fn the_small_amount_ordering_agrees_with_the_digit_one() {
        let values: Vec<Decimal> = [
            "1",
            "2",
            "9",
            "10",
            "0.37",
            "0.5",
            "0.99",
            "0.999",
            "1.01",
            "37",
            "370",
            "1e19",
            "1e-19",
            "3e18",
            "18446744073709551615",
            "18446744073709551616",
            "0.18446744073709551615",
            "1e20",
            "123456.789",
        ]
        .iter()
        .map(|s| d(s))
        .collect();
        for a in &values {
            for b in &values {
                assert_eq!(a.cmp_magnitude(b), a.cmp_by_digits(b), "{a} against {b}");
            }
        }
    }

    #[test]
    fn rejects_malformed() {
        for s in [
            "", "-", ".", "1.2.3", "1 ", " 1", "¥1", "1e", "1e+", "0x10", "1,5", "e5",
        ] {
            assert!(Decimal::parse(s).is_err(), "{s:?}");
        }
    }

    #[test]
    fn arithmetic_is_exact() {
        let add = |a: &str, b: &str| d(a).checked_add(&d(b)).map(|x| x.to_string());
        assert_eq!(add("0.1", "0.2").as_deref(), Some("0.3"));
        assert_eq!(add("-0.37", "0.37").as_deref(), Some("0"));
        assert_eq!(add("1", "-2.5").as_deref(), Some("-1.5"));
        assert_eq!(
            d("3").checked_sub(&d("0.01")).map(|x| x.to_string()).as_deref(),
            Some("2.99")
        );
        assert_eq!(
            d("1.5").checked_mul(&d("-2")).map(|x| x.to_string()).as_deref(),
            Some("-3")
        );
        assert_eq!(
            d("1").checked_div(&d("4")).map(|x| x.to_string()).as_deref(),
            Some("0.25")
        );
        assert_eq!(
            d("2").checked_div(&d("3")).map(|x| x.to_string()).as_deref(),
            Some("0.66666666666666666667")
        );
        assert_eq!(d("1").checked_div(&d("0")), None);
        assert_eq!(d("7").checked_rem(&d("2")).map(|x| x.to_string()).as_deref(), Some("1"));
        assert_eq!(
            d("-7").checked_rem(&d("2")).map(|x| x.to_string()).as_deref(),
            Some("-1")
        );
        assert_eq!(
            d("7.5").checked_rem(&d("2")).map(|x| x.to_string()).as_deref(),
            Some("1.5")
        );
        assert_eq!(d("7").checked_rem(&d("0")), None);
        assert_eq!(
            d("1e38").checked_mul(&d("1e38")).map(|x| x.to_string()).as_deref(),
            Some("1e76")
        );
        let big = d("99999999999999999999999999999999999999");
        assert_eq!(big.checked_add(&d("1")).map(|x| x.to_string()).as_deref(), Some("1e38"));
        assert_eq!(big.checked_add(&d("0.1")), None);
    }

    #[test]
    fn rounds_to_places() {
        let r = |a: &str, p: i64, m: Rounding| d(a).round_to(p, m).map(|x| x.to_string());
        assert_eq!(r("2.345", 2, Rounding::HalfAway).as_deref(), Some("2.35"));
        assert_eq!(r("-2.345", 2, Rounding::HalfAway).as_deref(), Some("-2.35"));
        assert_eq!(r("2.344", 2, Rounding::HalfAway).as_deref(), Some("2.34"));
        assert_eq!(r("2.349", 2, Rounding::Floor).as_deref(), Some("2.34"));
        assert_eq!(r("-2.341", 2, Rounding::Floor).as_deref(), Some("-2.35"));
        assert_eq!(r("2.341", 2, Rounding::Ceil).as_deref(), Some("2.35"));
        assert_eq!(r("-2.349", 2, Rounding::Ceil).as_deref(), Some("-2.34"));
        assert_eq!(r("1250", -2, Rounding::HalfAway).as_deref(), Some("1300"));
        assert_eq!(r("7", 0, Rounding::Floor).as_deref(), Some("7"));
        assert_eq!(r("0.5", 0, Rounding::HalfAway).as_deref(), Some("1"));
        assert_eq!(r("1", 31, Rounding::Floor), None);
        assert_eq!(d("1042").to_i64(), Some(1042));
        assert_eq!(d("-4.2e1").to_i64(), Some(-42));
        assert_eq!(d("4.2").to_i64(), None);
    }

    #[test]
    fn displays_plainly() {
        assert_eq!(d("0.370").to_string(), "0.37");
        assert_eq!(d("12e2").to_string(), "1200");
        assert_eq!(d("-0.005").to_string(), "-0.005");
        assert_eq!(d("5").to_string(), "5");
    }
}
