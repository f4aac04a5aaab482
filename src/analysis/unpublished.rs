//! Why a figure is missing. Either DfE published none that year (a `no_data` break in
//! `catalogue/breaks.toml`: no exams in 2019/20 and 2020/21, no KS2 progress for 2023/24 and
//! 2024/25, no Progress 8 for 2024/25 and 2025/26, no KS2 results by school for 2021/22), or
//! the file withheld it (SUPP, NE ...). The analysis decides the reason; render only prints it.

use crate::catalogue::Catalogue;
use crate::value::Status;

/// The `no_data` breaks for a measure, group and year at a level (`school`, `la`,
/// `national`), as one sentence (None: figures exist).
pub fn not_published(
    cat: &Catalogue,
    measure: &str,
    group: &str,
    year: i32,
    level: &str,
) -> Option<String> {
    let breaks = cat.breaks_for_group(measure, group, year, Some(level));
    let notes: Vec<&str> = breaks
        .into_iter()
        .filter(|b| b.kind == "no_data")
        .map(|b| b.note.as_str())
        .collect();
    (!notes.is_empty()).then(|| notes.join("; "))
}

/// Why there is no value: the year's break first (it explains a withheld token too, such
/// as the `NA` a file may carry in a year without progress), else the status token and its
/// meaning. None for a published value, or a blank cell outside a break year.
pub fn reason(
    cat: &Catalogue,
    measure: &str,
    group: &str,
    year: i32,
    level: &str,
    status: Option<&str>,
) -> Option<String> {
    if let Some(r) = not_published(cat, measure, group, year, level) {
        return Some(r);
    }
    let s = Status::from_token(status?)?;
    (!matches!(s, Status::Ok | Status::Blank)).then(|| format!("{}: {}", s.token(), s.meaning()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_come_from_the_breaks_then_the_status() {
        let cat = Catalogue::builtin();
        let why = |m: &str, g: &str, y: i32, level: &str, status: Option<&str>| {
            reason(&cat, m, g, y, level, status)
        };
        assert!(why("ks2_read_progress", "all", 2024, "la", None)
            .unwrap()
            .contains("no KS1 baseline"));
        assert!(why(
            "ks2_read_progress",
            "disadvantaged",
            2025,
            "school",
            Some("NA")
        )
        .unwrap()
        .contains("no KS1 baseline"));
        assert!(why("ks4_progress8", "all", 2026, "national", None)
            .unwrap()
            .contains("Progress 8 not published"));
        assert!(why("ks4_attainment8", "all", 2021, "school", None)
            .unwrap()
            .contains("COVID"));
        // Prior-attainment bands only: the all-pupil figure exists that year.
        assert!(why("ks2_rwm_expected", "prior_low", 2024, "la", None)
            .unwrap()
            .contains("prior-attainment"));
        assert_eq!(why("ks2_rwm_expected", "all", 2024, "la", None), None);
        // 2021/22 KS2: LAs and England published, schools not.
        assert!(why("ks2_rwm_expected", "all", 2022, "school", None)
            .unwrap()
            .contains("by school"));
        assert_eq!(why("ks2_rwm_expected", "all", 2022, "la", None), None);
        assert_eq!(why("ks4_attainment8", "all", 2022, "school", None), None);
        assert_eq!(
            why("ks2_rwm_expected", "all", 2023, "school", Some("SUPP")).as_deref(),
            Some("SUPP: suppressed to protect small numbers")
        );
        assert_eq!(
            why("ks2_rwm_expected", "all", 2023, "school", Some("ok")),
            None
        );
        // A comparability break is not a reason for a missing figure.
        assert_eq!(why("ks2_rwm_expected", "all", 2016, "school", None), None);
    }
}
