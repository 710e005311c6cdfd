//! Exact decimal numbers: `"0.37"`, `0.37` and `"0.370"` are the same amount.

use std::cmp::Ordering;
use std::fmt;

/// The most significant digits a decimal may have.
pub const MAX_DIGITS: u32 = 38;

/// `coef × 10^exp`, negative when `neg`; normalised so that equal amounts are
/// equal values (no trailing zeros in `coef`, zero is never negative).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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
            return self.coef.cmp(&other.coef); // normalised: no trailing zeros
        }
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
        let digits = self.coef.to_string();
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
    fn rejects_malformed() {
        for s in [
            "", "-", ".", "1.2.3", "1 ", " 1", "¥1", "1e", "1e+", "0x10", "1,5", "e5",
        ] {
            assert!(Decimal::parse(s).is_err(), "{s:?}");
        }
    }

    #[test]
    fn displays_plainly() {
        assert_eq!(d("0.370").to_string(), "0.37");
        assert_eq!(d("12e2").to_string(), "1200");
        assert_eq!(d("-0.005").to_string(), "-0.005");
        assert_eq!(d("5").to_string(), "5");
    }
}
