//! Calendar dates, `YYYY-MM-DD`, for effective dates and date fields.

use std::fmt;

/// A proleptic Gregorian date; orders chronologically.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    year: u16,
    month: u8,
    day: u8,
}

impl Date {
    /// Parses exactly `YYYY-MM-DD` and checks that the day exists.
    pub fn parse(s: &str) -> Option<Date> {
        let b = s.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let num = |r: std::ops::Range<usize>| -> Option<u16> {
            let part = s.get(r)?;
            if !part.bytes().all(|c| c.is_ascii_digit()) {
                return None;
            }
            part.parse().ok()
        };
        let year = num(0..4)?;
        let month = u8::try_from(num(5..7)?).ok()?;
        let day = u8::try_from(num(8..10)?).ok()?;
        if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
            return None;
        }
        Some(Date { year, month, day })
    }

    /// The date of a count of days since 1970-01-01 (for "today").
    pub fn from_unix_days(days: i64) -> Date {
        // Howard Hinnant's civil_from_days.
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        Date {
            year: u16::try_from(year.clamp(0, 9999)).unwrap_or(9999),
            month: u8::try_from(month).unwrap_or(1),
            day: u8::try_from(day).unwrap_or(1),
        }
    }

    /// Days since 1970-01-01 (negative before).
    pub fn unix_days(&self) -> i64 {
        // Howard Hinnant's days_from_civil.
        let (m, d) = (i64::from(self.month), i64::from(self.day));
        let y = i64::from(self.year) - i64::from(m <= 2);
        let era = y.div_euclid(400);
        let yoe = y.rem_euclid(400);
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    /// A date from its parts, if it exists (years 0 to 9999).
    pub fn from_parts(year: i64, month: u8, day: u8) -> Option<Date> {
        let year = u16::try_from(year).ok().filter(|y| *y <= 9999)?;
        ((1..=12).contains(&month) && day >= 1 && day <= days_in_month(year, month)).then_some(Date {
            year,
            month,
            day,
        })
    }

    pub fn year(&self) -> i64 {
        i64::from(self.year)
    }

    /// Moved by whole days; `None` outside years 0 to 9999.
    pub fn add_days(&self, n: i64) -> Option<Date> {
        let days = self.unix_days().checked_add(n)?;
        // Year 0 starts 719 528 days before 1970; year 10000 begins 2 932 897 days after.
        if !(-719_528..2_932_897).contains(&days) {
            return None;
        }
        Some(Date::from_unix_days(days))
    }

    /// Moved by whole months: the same day of the month, or, when that month
    /// is too short for it, the first of the month after (so 29 February
    /// plus one year is 1 March, as a birthday falls). `None` outside years 0 to 9999.
    pub fn add_months(&self, n: i64) -> Option<Date> {
        let index = (self.year() * 12 + i64::from(self.month) - 1).checked_add(n)?;
        let (year, month) = (index.div_euclid(12), u8::try_from(index.rem_euclid(12) + 1).ok()?);
        match Date::from_parts(year, month, self.day) {
            Some(d) => Some(d),
            None => {
                let next = index.checked_add(1)?;
                Date::from_parts(next.div_euclid(12), u8::try_from(next.rem_euclid(12) + 1).ok()?, 1)
            }
        }
    }

    /// Full years from `self` to `later`: the anniversaries reached, a
    /// 29 February anniversary falling on 1 March in other years. Negative
    /// (full years back) when `later` is earlier.
    pub fn years_until(&self, later: &Date) -> i64 {
        if later < self {
            return -later.years_until(self);
        }
        let mut years = later.year() - self.year();
        let anniversary = self.add_months(years * 12);
        if anniversary.is_some_and(|a| a > *later) {
            years -= 1;
        }
        years
    }

    /// Today's date in UTC.
    pub fn today() -> Date {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Date::from_unix_days(i64::try_from(secs / 86_400).unwrap_or(0))
    }
}

fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        2 if (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_real_dates_only() {
        assert!(Date::parse("2024-02-29").is_some());
        assert!(Date::parse("2023-02-29").is_none());
        assert!(Date::parse("2026-13-01").is_none());
        assert!(Date::parse("2026-1-01").is_none());
        assert_eq!(
            Date::parse("2026-11-27").map(|d| d.to_string()).as_deref(),
            Some("2026-11-27")
        );
    }

    fn d(s: &str) -> Date {
        Date::parse(s).unwrap_or_else(|| unreachable!("{s}"))
    }

    #[test]
    fn moves_by_calendar_units() {
        let shown = |x: Option<Date>| x.map(|x| x.to_string()).unwrap_or_default();
        assert_eq!(shown(d("2026-06-01").add_days(30)), "2026-07-01");
        assert_eq!(shown(d("2026-03-01").add_days(-1)), "2026-02-28");
        assert_eq!(shown(d("2024-02-29").add_months(12)), "2025-03-01");
        assert_eq!(shown(d("2024-02-29").add_months(48)), "2028-02-29");
        assert_eq!(shown(d("2026-01-31").add_months(1)), "2026-03-01");
        assert_eq!(shown(d("2026-12-15").add_months(1)), "2027-01-15");
        assert_eq!(shown(d("2026-01-15").add_months(-1)), "2025-12-15");
        assert_eq!(d("9999-12-31").add_days(1), None);
        assert_eq!(d("0000-01-01").add_days(-1), None);
        for s in [
            "1970-01-01",
            "2000-02-29",
            "1900-03-01",
            "2026-12-07",
            "0000-01-01",
            "9999-12-31",
        ] {
            assert_eq!(Date::from_unix_days(d(s).unix_days()), d(s), "{s}");
        }
    }

    #[test]
    fn full_years_between() {
        assert_eq!(d("2008-06-01").years_until(&d("2026-06-01")), 18);
        assert_eq!(d("2008-06-02").years_until(&d("2026-06-01")), 17);
        // 29 February: the birthday falls on 1 March in other years.
        assert_eq!(d("2008-02-29").years_until(&d("2026-02-28")), 17);
        assert_eq!(d("2008-02-29").years_until(&d("2026-03-01")), 18);
        assert_eq!(d("2008-02-29").years_until(&d("2028-02-29")), 20);
        assert_eq!(d("2008-02-29").years_until(&d("2028-02-28")), 19);
        assert_eq!(d("2026-06-01").years_until(&d("2008-06-01")), -18);
        assert_eq!(d("2026-06-01").years_until(&d("2026-06-01")), 0);
    }

    /// `years_until` and `add_months` agree (so `years_between(b, today) >= n`
    /// and `b + n years <= today` always agree), and moving by months is
    /// strictly increasing (which lint W0009 relies on).
    #[test]
    fn years_and_months_agree_exhaustively() {
        let start = d("2000-01-01").unix_days();
        for b in (0..4 * 366).map(|i| Date::from_unix_days(start + i)) {
            let mut prev = b.add_months(-31).unwrap_or_else(|| unreachable!());
            for m in -30..=30 {
                let next = b.add_months(m).unwrap_or_else(|| unreachable!());
                assert!(next > prev, "{b} + {m} months");
                prev = next;
            }
            for t in (0..40).map(|k| Date::from_unix_days(b.unix_days() + 17 * 366 + 7 * k)) {
                let years = b.years_until(&t);
                for n in 15..=20 {
                    let reached = b.add_months(12 * n).is_some_and(|a| a <= t);
                    assert_eq!(years >= n, reached, "born {b}, on {t}, {n} years");
                }
            }
        }
    }

    #[test]
    fn unix_days() {
        assert_eq!(Date::from_unix_days(0).to_string(), "1970-01-01");
        assert_eq!(Date::from_unix_days(20_419).to_string(), "2025-11-27");
    }
}
