//! One academic-year convention everywhere.
//!
//! A year is the calendar year of the summer in which results were taken:
//! 2019 means 2018/19. LAIT writes it "2019", Explore Education Statistics
//! "201819", the performance-tables download folder "2018-2019", and LAIT's
//! financial or rolling periods "2018-19" / "2017-19" / "2016/17-18/19".
//! All of these end in the summer (or March) of the same year, so the rule is:
//! the year a period label ends in.

/// Parse a period label into the year it ends in. Returns `None` for labels
/// that carry no year (`"0"`, empty) or are not year-like.
pub fn parse_year_label(label: &str) -> Option<i32> {
    let core = label.split('(').next().unwrap_or("").trim();
    if core.is_empty() {
        return None;
    }
    // EES six-digit form: 201819
    if core.len() == 6 && core.bytes().all(|c| c.is_ascii_digit()) {
        let first: i32 = core[..4].parse().ok()?;
        let second: i32 = core[4..].parse().ok()?;
        if (first + 1) % 100 == second {
            return Some(first + 1);
        }
        return None;
    }
    // Find the last run of digits; interpret 2-digit runs relative to the previous 4-digit year.
    let mut runs: Vec<&str> = Vec::new();
    let mut start = None;
    for (i, c) in core.char_indices() {
        if c.is_ascii_digit() {
            if start.is_none() {
                start = Some(i);
            }
        } else if let Some(s) = start.take() {
            runs.push(&core[s..i]);
        }
    }
    if let Some(s) = start {
        runs.push(&core[s..]);
    }
    if runs.is_empty() || core.bytes().any(|c| c.is_ascii_alphabetic()) {
        return None;
    }
    let last = *runs.last()?;
    let first_full = runs
        .iter()
        .find(|r| r.len() == 4)
        .and_then(|r| r.parse::<i32>().ok());
    let year = match last.len() {
        4 => last.parse::<i32>().ok()?,
        2 => {
            let century = first_full? / 100 * 100;
            let yy: i32 = last.parse().ok()?;
            let mut y = century + yy;
            if let Some(f) = first_full {
                if y < f {
                    y += 100;
                }
            }
            y
        }
        _ => return None,
    };
    (1990..=2100).contains(&year).then_some(year)
}

/// `2019` -> `"2018/19"`, for people.
pub fn academic_label(year: i32) -> String {
    format!("{}/{:02}", year - 1, year % 100)
}

/// A year label found in a path component: "2018-2019", "201819", "data_2024-2025".
pub fn year_from_path(path: &std::path::Path) -> Option<i32> {
    for comp in path.components().rev() {
        let s = comp.as_os_str().to_string_lossy();
        if let Some(y) = year_in_text(&s) {
            return Some(y);
        }
    }
    None
}

/// Finds "YYYY-YYYY" / "YYYY_YYYY" / "YYYYYY" (consecutive years) inside a text.
fn year_in_text(s: &str) -> Option<i32> {
    let b = s.as_bytes();
    let digits_at =
        |i: usize, n: usize| i + n <= b.len() && b[i..i + n].iter().all(|c| c.is_ascii_digit());
    let boundary = |i: usize| i >= b.len() || !b[i].is_ascii_digit();
    for i in 0..b.len() {
        if i > 0 && b[i - 1].is_ascii_digit() {
            continue;
        }
        if digits_at(i, 4)
            && i + 9 <= b.len()
            && (b[i + 4] == b'-' || b[i + 4] == b'_')
            && digits_at(i + 5, 4)
            && boundary(i + 9)
        {
            let a: i32 = s[i..i + 4].parse().ok()?;
            let z: i32 = s[i + 5..i + 9].parse().ok()?;
            if z == a + 1 && (1990..2100).contains(&z) {
                return Some(z);
            }
        }
        if digits_at(i, 6) && boundary(i + 6) {
            if let Some(y) = parse_year_label(&s[i..i + 6]) {
                return Some(y);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn labels() {
        assert_eq!(parse_year_label("2019"), Some(2019));
        assert_eq!(parse_year_label("201819"), Some(2019));
        assert_eq!(parse_year_label("2018/19"), Some(2019));
        assert_eq!(parse_year_label("2018-19"), Some(2019));
        assert_eq!(parse_year_label("2018-19 (OT)"), Some(2019));
        assert_eq!(parse_year_label("2019 (Rev)"), Some(2019));
        assert_eq!(parse_year_label("2017-19"), Some(2019));
        assert_eq!(parse_year_label("2016/17-18/19"), Some(2019));
        assert_eq!(parse_year_label("1999-00"), Some(2000));
        assert_eq!(parse_year_label("0"), None);
        assert_eq!(parse_year_label(""), None);
        assert_eq!(academic_label(2019), "2018/19");
    }

    #[test]
    fn paths() {
        assert_eq!(
            year_from_path(Path::new("a/2018-2019/england_census.csv")),
            Some(2019)
        );
        assert_eq!(
            year_from_path(Path::new("x/data_2024-2025/england_census.csv")),
            Some(2025)
        );
        assert_eq!(year_from_path(Path::new("x/201819/f.csv")), Some(2019));
        assert_eq!(
            year_from_path(Path::new("kspdeveloper-perf-tables/england_census.csv")),
            None
        );
        assert_eq!(year_from_path(Path::new("ks2/2018-850-ks2.csv")), None);
    }
}
