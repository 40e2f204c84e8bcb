//! Date shifts on the text of a date or timestamp (`YYYY-MM-DD`, then anything: the time and
//! zone are kept as they are).

use super::{Draw, TransformError};
use rand::RngExt;

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day number.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// The day number of the date `value` starts with.
fn parse(value: &str) -> Option<i64> {
    let head = value.get(..10)?;
    let mut parts = head.split('-');
    let y: i64 = parts.next()?.parse().ok()?;
    let m: i64 = parts.next()?.parse().ok()?;
    let d: i64 = parts.next()?.parse().ok()?;
    let days = days_from_civil(y, m, d);
    (civil_from_days(days) == (y, m, d)).then_some(days)
}

/// `value` moved by a drawn, non-zero number of days within ± `max_days`.
pub(super) fn shift(value: &str, max_days: u32, d: &mut Draw) -> Result<String, TransformError> {
    let day = parse(value).ok_or_else(|| {
        TransformError::Shape("date_shift needs a date or timestamp (YYYY-MM-DD…)".into())
    })?;
    let max = i64::from(max_days.max(1));
    let mut by = d.random_range(-max..max);
    if by >= 0 {
        by += 1;
    }
    let (y, m, dd) = civil_from_days(day + by);
    Ok(format!("{y:04}-{m:02}-{dd:02}{}", &value[10..]))
}

/// Days from `a` to `b` (tests).
#[cfg(test)]
pub(super) fn days_between(a: &str, b: &str) -> Option<i64> {
    Some(parse(b)? - parse(a)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar_round_trips_and_bad_dates_are_refused() {
        for z in -800_000..800_000i64 {
            if z % 997 == 0 {
                let (y, m, d) = civil_from_days(z);
                assert_eq!(days_from_civil(y, m, d), z);
            }
        }
        assert_eq!(parse("2024-02-30"), None);
        assert_eq!(parse("1970-01-02 10:00:00+00"), Some(1));
        assert_eq!(parse("yesterday"), None);
    }
}
