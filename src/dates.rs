//! Calendar arithmetic without a date crate: days since 1970-01-01 <-> ISO dates.
//! (Howard Hinnant's civil-from-days algorithm.)

/// The calendar year now (UTC), for plausibility checks.
pub fn this_year() -> i32 {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    civil_from_days((secs / 86_400) as i64).0 as i32
}

pub fn iso_from_days(days: i64) -> String {
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}")
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// A date as the booklet prints it, in words: "12 March 2019" (GOV.UK style: no leading
/// zero, no ordinal, the month in full).
pub fn words_from_days(days: i64) -> String {
    let (y, m, d) = civil_from_days(days);
    format!("{d} {} {y}", MONTHS[m as usize - 1])
}

pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = if m > 2 { m - 3 } else { m + 9 } as i64;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Parse "YYYY-MM-DD", "DD-MM-YYYY" or "DD/MM/YYYY" (GIAS uses the latter two) into days since epoch.
pub fn parse_date(s: &str) -> Option<i64> {
    let s = s.trim();
    // The performance tables' school information (spine) writes dates as YYYYMMDD.
    if s.len() == 8 && s.bytes().all(|b| b.is_ascii_digit()) {
        let (y, m, d) = (
            s[..4].parse().ok()?,
            s[4..6].parse().ok()?,
            s[6..].parse().ok()?,
        );
        if !(1..=12).contains(&m) || !(1..=31).contains(&d) || !(1900..=2200).contains(&y) {
            return None;
        }
        return Some(days_from_civil(y, m, d));
    }
    let s = s.get(..10).unwrap_or(s);
    let parts: Vec<&str> = s.split(['-', '/']).collect();
    if parts.len() != 3 {
        return None;
    }
    let (y, m, d) = if parts[0].len() == 4 {
        (
            parts[0].parse().ok()?,
            parts[1].parse().ok()?,
            parts[2].parse().ok()?,
        )
    } else {
        (
            parts[2].parse().ok()?,
            parts[1].parse().ok()?,
            parts[0].parse().ok()?,
        )
    };
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || !(1900..=2200).contains(&y) {
        return None;
    }
    Some(days_from_civil(y, m, d))
}

/// The academic year (summer-end convention) a date falls in: 2018-09-01..2019-08-31 -> 2019.
pub fn academic_year_of(days: i64) -> i32 {
    let (y, m, _) = civil_from_days(days);
    if m >= 9 {
        y as i32 + 1
    } else {
        y as i32
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn round_trip() {
        assert_eq!(iso_from_days(0), "1970-01-01");
        assert_eq!(
            parse_date("2013-04-19").map(iso_from_days).unwrap(),
            "2013-04-19"
        );
        assert_eq!(
            parse_date("21-01-2021").map(iso_from_days).unwrap(),
            "2021-01-21"
        );
        assert_eq!(
            parse_date("20180912").map(iso_from_days).unwrap(),
            "2018-09-12"
        );
        assert_eq!(parse_date("20181312"), None);
        assert_eq!(
            parse_date("2019-03-12").map(words_from_days).unwrap(),
            "12 March 2019"
        );
        assert_eq!(
            parse_date("01/12/2025").map(words_from_days).unwrap(),
            "1 December 2025"
        );
        assert_eq!(
            crate::ingest::table::excel_serial_to_iso(41383.0),
            "2013-04-19"
        );
        assert_eq!(academic_year_of(parse_date("2018-09-01").unwrap()), 2019);
        assert_eq!(academic_year_of(parse_date("2019-08-31").unwrap()), 2019);
    }
}
