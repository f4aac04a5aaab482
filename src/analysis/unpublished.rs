//! Why a figure is missing. Either DfE published none that year (a `no_data` break in
//! `catalogue/breaks.toml`: no exams in 2019/20 and 2020/21, no KS2 progress for 2023/24 and
//! 2024/25, no Progress 8 for 2024/25 and 2025/26), or the file withheld it (SUPP, NE ...).
//! The analysis decides the reason; render only prints it.

use crate::catalogue::Catalogue;
use crate::value::Status;

/// The `no_data` breaks for a measure, group and year, as one sentence (None: figures exist).
pub fn not_published(cat: &Catalogue, measure: &str, group: &str, year: i32) -> Option<String> {
    let notes: Vec<&str> = cat
        .breaks_for_group(measure, group, year)
        .into_iter()
        .filter(|b| b.kind == "no_data")
        .map(|b| b.note.as_str())
        .collect();
    (!notes.is_empty()).then(|| notes.join("; "))
}

/// Why there is no value: the year's break first (it explains a withheld token too, such
/// as the `NA` a file may carry in a year without progress), else the status token and its
/// meaning. None for a published value or a blank cell outside a break year.
pub fn reason(
    cat: &Catalogue,
    measure: &str,
    group: &str,
    year: i32,
    status: Option<&str>,
) -> Option<String> {
    if let Some(r) = not_published(cat, measure, group, year) {
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
        assert!(reason(&cat, "ks2_read_progress", "all", 2024, None)
            .unwrap()
            .contains("no KS1 baseline"));
        assert!(
            reason(&cat, "ks2_read_progress", "disadvantaged", 2025, Some("NA"))
                .unwrap()
                .contains("no KS1 baseline")
        );
        assert!(reason(&cat, "ks4_progress8", "all", 2026, None)
            .unwrap()
            .contains("Progress 8 not published"));
        assert!(reason(&cat, "ks4_attainment8", "all", 2021, None)
            .unwrap()
            .contains("COVID"));
        // Prior-attainment bands only: the all-pupil figure exists that year.
        assert!(reason(&cat, "ks2_rwm_expected", "prior_low", 2024, None)
            .unwrap()
            .contains("prior-attainment"));
        assert_eq!(reason(&cat, "ks2_rwm_expected", "all", 2024, None), None);
        assert_eq!(
            reason(&cat, "ks2_rwm_expected", "all", 2023, Some("SUPP")).as_deref(),
            Some("SUPP: suppressed to protect small numbers")
        );
        assert_eq!(
            reason(&cat, "ks2_rwm_expected", "all", 2023, Some("ok")),
            None
        );
        // A comparability break is not a reason for a missing figure.
        assert_eq!(reason(&cat, "ks2_rwm_expected", "all", 2016, None), None);
    }
}
