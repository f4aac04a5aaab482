//! `attain rank`, `attain gaps`, `attain reconcile`: printing the analysis.

use serde::Serialize;
use serde_json::Value;

use crate::analysis::aggregate::Reconciliation;
use crate::analysis::gaps::GapRow;
use crate::analysis::ranking::RankRow;
use crate::output::{Format, Report};

/// JSON prints every field of the rows; table and CSV print the named columns.
pub fn report<T: Serialize>(rows: &[T], columns: &[&str]) -> Report {
    let mut r = Report::new(columns);
    for row in rows {
        let v = serde_json::to_value(row).unwrap_or(Value::Null);
        r.push(
            columns
                .iter()
                .map(|c| v.get(*c).cloned().unwrap_or(Value::Null))
                .map(denoise)
                .collect(),
        );
    }
    r
}

/// Figures come rounded from the analysis; float noise is removed here as a last guard.
fn denoise(mut v: Value) -> Value {
    crate::number::denoise_json(&mut v);
    v
}

pub fn print<T: Serialize>(rows: &[T], columns: &[&str], format: Format) -> String {
    match format {
        Format::Json => crate::number::to_json_pretty(rows).unwrap_or_default() + "\n",
        f => report(rows, columns).render(f),
    }
}

pub fn print_rank(rows: &[RankRow], format: Format) -> String {
    print(
        rows,
        &[
            "la_code",
            "la_name",
            "value",
            "rank",
            "of",
            "quartile",
            "top10",
            "top10_threshold",
            "distance_to_top10",
            "sn_rank",
            "sn_of",
            "sn_average",
            "sn_top_quartile",
        ],
        format,
    )
}

pub fn print_gaps(rows: &[GapRow], format: Format) -> String {
    print(
        rows,
        &[
            "code",
            "name",
            "group",
            "group_value",
            "comparison",
            "comparison_value",
            "gap",
            "significance",
            "trend",
            "reason",
        ],
        format,
    )
}

pub fn print_reconcile(rows: &[Reconciliation], format: Format) -> String {
    print(
        rows,
        &[
            "code",
            "name",
            "group",
            "phase",
            "computed",
            "computed_rounded",
            "published",
            "difference",
            "schools",
            "schools_withheld",
            "cohort_withheld",
            "explanation",
        ],
        format,
    )
}
