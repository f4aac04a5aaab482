//! One way to round and print a number, for every output (JSON, CSV, tables, workbooks,
//! chart labels and alt text, target forms, booklets).
//!
//! Conventions (DfE's):
//! * Figures are rounded **half away from zero** at the measure's published precision
//!   (`dps` in catalogue/measures.toml): 67.75% -> 68%, -0.185 -> -0.19, 2.675 -> 2.68 even
//!   though the binary 2.675 is slightly below the half.
//! * Gaps, differences and changes between figures are rounded at the same `dps`. Averages
//!   and quantiles of published figures (a neighbour average, an interpolated threshold) keep
//!   one place more ([`AVERAGE_EXTRA_DPS`]), as LAIT shows them.
//! * A rounded number is the double nearest its decimal, so its shortest representation
//!   (JSON, CSV, xlsx) has at most `dps` decimals: no `3.1000000000000014`.
//! * Zero has no sign: `-0.04` at 1 dp is `0.0`, printed `0.0`, never `-0.0`; a zero gap
//!   prints without `+` or `-` ("0.0", "0").
//! * Print style: percentages carry `%` ("68%"), progress scores and gaps their sign ("+1.3",
//!   "-0.18"); counts are whole ("285"). CSV and JSON carry plain numbers.
//! * Numbers no measure describes (a rebuilt figure's unrounded value, a share) are given at
//!   most [`FREE_DPS`] decimals; [`denoise`] is the last guard of every writer against float
//!   noise from arithmetic on figures.

use std::io::{self, Write};

use serde::Serialize;
use serde_json::ser::{Formatter, PrettyFormatter};
use serde_json::Value;

use crate::catalogue::Measure;
use crate::value::round_half_away;

/// Decimals of a figure with no measure, or a measure without `dps` context.
pub const DEFAULT_DPS: u32 = 1;
/// Decimals kept by numbers no measure describes (a rebuilt figure before rounding).
pub const FREE_DPS: u32 = 4;
/// Extra decimals of an average or quantile of published figures.
pub const AVERAGE_EXTRA_DPS: u32 = 1;

/// How a number is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// Digits only, for CSV and JSON text: "67.8", "-0.18", "285".
    Plain,
    /// A gap or change: "+1.3", "-0.2", and "0.0" for zero.
    Signed,
    /// For people, by unit: "68%" (percent), "+1.3" (progress), "47.6", "285".
    Print,
}

/// `v` rounded half away from zero to `dps` decimals, with zero unsigned.
pub fn round(v: f64, dps: u32) -> f64 {
    let r = round_half_away(v, dps);
    if r == 0.0 {
        0.0
    } else {
        r
    }
}

/// The decimals of `v`'s shortest representation, at most [`FREE_DPS`].
pub fn places(v: f64) -> u32 {
    let s = denoise(v).to_string();
    s.split_once('.')
        .map_or(0, |(_, f)| (f.len() as u32).min(FREE_DPS))
}

/// `a - b` at the measure's `dps`, or at the places of `a` and `b` where a figure carries
/// more (a LAIT figure published at 1 dp where the catalogue says 0): exact, without noise.
pub fn difference(a: f64, b: f64, dps: u32) -> f64 {
    round(a - b, dps.max(places(a)).max(places(b)))
}

/// [`round`] over an optional figure.
pub fn round_opt(v: Option<f64>, dps: u32) -> Option<f64> {
    v.map(|v| round(v, dps))
}

/// The measure's published decimals ([`DEFAULT_DPS`] without a measure).
pub fn dps_of(m: Option<&Measure>) -> u32 {
    m.map(|m| m.dps).unwrap_or(DEFAULT_DPS)
}

/// `v` rounded to `dps` and printed in `style` for a measure of `unit`
/// (percent | progress | score | count | days | ...).
pub fn format(v: f64, dps: u32, unit: &str, style: Style) -> String {
    let r = round(v, dps);
    let s = format!("{:.*}", dps as usize, r);
    let signed = |s: String| if r > 0.0 { format!("+{s}") } else { s };
    match style {
        Style::Plain => s,
        Style::Signed => signed(s),
        Style::Print => match unit {
            "percent" => format!("{s}%"),
            "progress" => signed(s),
            _ => s,
        },
    }
}

/// A measure's figure for print (empty when there is none): "68%", "47.6", "+1.3", "285".
pub fn format_measure(m: Option<&Measure>, v: Option<f64>) -> String {
    match v {
        Some(v) => format(
            v,
            dps_of(m),
            m.map(|m| m.unit.as_str()).unwrap_or(""),
            Style::Print,
        ),
        None => String::new(),
    }
}

/// A gap or change in a measure's figure, signed, at its dps: "+4", "-0.18", "0".
pub fn format_gap(m: Option<&Measure>, v: Option<f64>) -> String {
    match v {
        Some(v) => format(v, dps_of(m), "", Style::Signed),
        None => String::new(),
    }
}

/// A number at most `max_dps` decimals long, without trailing zeros: 68 -> "68",
/// 64.70 -> "64.7" (chart labels, where whole figures show no ".0").
pub fn format_trimmed(v: f64, max_dps: u32) -> String {
    let s = format!("{:.*}", max_dps as usize, round(v, max_dps));
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// Float noise removed: `v` at 12 significant digits (well below any published precision,
/// well above binary error), zero unsigned. 0.1 + 0.2 -> 0.3; 51.1234091968308 is kept.
pub fn denoise(v: f64) -> f64 {
    if !v.is_finite() || v == 0.0 {
        return if v == 0.0 { 0.0 } else { v };
    }
    let r: f64 = format!("{v:.11e}").parse().unwrap_or(v);
    if r == 0.0 {
        0.0
    } else {
        r
    }
}

/// Every non-integer number in a JSON value [`denoise`]d (the writers' last guard).
pub fn denoise_json(v: &mut Value) {
    match v {
        Value::Number(n) if !n.is_i64() && !n.is_u64() => {
            if let Some(x) = n.as_f64() {
                *v = Value::from(denoise(x));
            }
        }
        Value::Array(a) => a.iter_mut().for_each(denoise_json),
        Value::Object(o) => o.values_mut().for_each(denoise_json),
        _ => {}
    }
}

/// Anything serialisable as pretty JSON text (fields in their declared order), with float
/// noise removed from every number.
pub fn to_json_pretty<T: Serialize + ?Sized>(v: &T) -> serde_json::Result<String> {
    let mut out = Vec::new();
    let mut ser =
        serde_json::Serializer::with_formatter(&mut out, Denoising(PrettyFormatter::new()));
    v.serialize(&mut ser)?;
    Ok(String::from_utf8(out).expect("serde_json writes UTF-8"))
}

/// serde_json's pretty layout, with each float [`denoise`]d as it is written.
struct Denoising<'a>(PrettyFormatter<'a>);

impl Formatter for Denoising<'_> {
    fn write_f64<W: ?Sized + Write>(&mut self, w: &mut W, value: f64) -> io::Result<()> {
        match serde_json::Number::from_f64(denoise(value)) {
            Some(n) => w.write_all(n.to_string().as_bytes()),
            None => w.write_all(b"null"),
        }
    }
    fn write_f32<W: ?Sized + Write>(&mut self, w: &mut W, value: f32) -> io::Result<()> {
        self.write_f64(w, value as f64)
    }
    fn begin_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_array(w)
    }
    fn end_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array(w)
    }
    fn begin_array_value<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.0.begin_array_value(w, first)
    }
    fn end_array_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array_value(w)
    }
    fn begin_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object(w)
    }
    fn end_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object(w)
    }
    fn begin_object_key<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.0.begin_object_key(w, first)
    }
    fn begin_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object_value(w)
    }
    fn end_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object_value(w)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::Catalogue;

    /// The shortest representation, as JSON, CSV and xlsx write it.
    fn repr(v: f64) -> String {
        serde_json::to_string(&v).unwrap()
    }

    #[test]
    fn rounds_half_away_from_zero_at_decimal_halves() {
        // Both are stored just below the half (2.67499999..., 1.00499999...).
        assert_eq!(repr(round(2.675, 2)), "2.68");
        assert_eq!(repr(round(1.005, 2)), "1.01");
        assert_eq!(repr(round(-2.675, 2)), "-2.68");
        assert_eq!(repr(round(0.125, 2)), "0.13");
        assert_eq!(repr(round(2.5, 0)), "3.0");
        assert_eq!(repr(round(-2.5, 0)), "-3.0");
        assert_eq!(repr(round(67.75, 1)), "67.8");
        assert_eq!(repr(round(-0.185, 2)), "-0.19");
        assert_eq!(repr(round(2.4999, 0)), "2.0");
    }

    #[test]
    fn float_noise_is_gone() {
        assert_eq!(repr(round(3.1000000000000014, 1)), "3.1");
        assert_eq!(repr(round(-0.25999999999999995, 2)), "-0.26");
        assert_eq!(repr(round(0.1 + 0.2, 1)), "0.3");
        assert_eq!(repr(round(51.1 - 47.3, 1)), "3.8");
        assert_eq!(repr(denoise(0.1 + 0.2)), "0.3");
        assert_eq!(repr(denoise(-0.25999999999999995)), "-0.26");
        assert_eq!(repr(denoise(51.1234091968308)), "51.1234091968");
        let mut j = serde_json::json!({"a": [3.1000000000000014, 2, -0.0], "b": 0.1});
        denoise_json(&mut j);
        assert_eq!(j.to_string(), r#"{"a":[3.1,2,0.0],"b":0.1}"#);
    }

    #[test]
    fn json_text_keeps_field_order_and_loses_noise() {
        #[derive(Serialize)]
        struct Row {
            z: f64,
            a: Vec<Option<f64>>,
        }
        let row = Row {
            z: 3.1000000000000014,
            a: vec![Some(-0.0), None, Some(2.0)],
        };
        let text = to_json_pretty(&row).unwrap();
        assert_eq!(
            text,
            "{\n  \"z\": 3.1,\n  \"a\": [\n    0.0,\n    null,\n    2.0\n  ]\n}"
        );
    }

    #[test]
    fn differences_keep_the_figures_places() {
        assert_eq!(repr(difference(51.1, 47.3, 1)), "3.8");
        assert_eq!(repr(difference(71.5, 49.0, 0)), "22.5");
        assert_eq!(repr(difference(-0.12, -0.03, 2)), "-0.09");
        assert_eq!(repr(difference(0.3, 0.3, 0)), "0.0");
        assert_eq!(places(68.0), 0);
        assert_eq!(places(3.1000000000000014), 1);
    }

    #[test]
    fn zero_has_no_sign() {
        assert_eq!(repr(round(-0.04, 1)), "0.0");
        assert_eq!(repr(round(-0.0, 2)), "0.0");
        assert!(round(-0.4, 0).is_sign_positive());
        assert_eq!(format(-0.04, 1, "score", Style::Plain), "0.0");
        assert_eq!(format(-0.04, 1, "progress", Style::Print), "0.0");
        assert_eq!(format(-0.004, 2, "", Style::Signed), "0.00");
        assert_eq!(format(0.0, 0, "", Style::Signed), "0");
        assert_eq!(format(-0.3, 0, "percent", Style::Print), "0%");
        assert_eq!(format_trimmed(-0.001, 2), "0");
        assert_eq!(repr(denoise(-0.0)), "0.0");
    }

    #[test]
    fn styles_by_unit() {
        assert_eq!(format(67.75, 0, "percent", Style::Print), "68%");
        assert_eq!(format(67.75, 0, "percent", Style::Plain), "68");
        assert_eq!(format(1.25, 1, "progress", Style::Print), "+1.3");
        assert_eq!(format(-1.25, 1, "progress", Style::Print), "-1.3");
        assert_eq!(format(4.0, 0, "", Style::Signed), "+4");
        assert_eq!(format(-38.0, 0, "", Style::Signed), "-38");
        assert_eq!(format(1_630_633.0, 0, "count", Style::Print), "1630633");
        assert_eq!(format(12_345_678.5, 0, "count", Style::Plain), "12345679");
        assert_eq!(format(4.75, 1, "days", Style::Print), "4.8");
        assert_eq!(format_trimmed(68.0, 2), "68");
        assert_eq!(format_trimmed(64.70, 2), "64.7");
        assert_eq!(format_trimmed(0.125, 2), "0.13");
    }

    #[test]
    fn reproduces_the_booklet_figures() {
        let cat = Catalogue::builtin();
        let f = |id: &str, v: f64| format_measure(cat.measure(id), Some(v));
        assert_eq!(f("ks2_rwm_expected", 67.75), "68%");
        assert_eq!(f("ks4_attainment8", 47.576), "47.6");
        assert_eq!(f("ks2_read_progress", 1.25), "+1.3");
        assert_eq!(f("ks4_progress8", -0.184), "-0.18");
        assert_eq!(f("ks4_progress8", -0.004), "0.00");
        assert_eq!(f("census_pupils", 285.0), "285");
        assert_eq!(format_measure(cat.measure("ks2_rwm_expected"), None), "");
        assert_eq!(format_measure(None, Some(3.12345)), "3.1");
        let gap = |id: &str, v: f64| format_gap(cat.measure(id), Some(v));
        assert_eq!(gap("ks2_rwm_expected", -38.0), "-38");
        assert_eq!(gap("ks2_rwm_expected", 0.4), "0");
        assert_eq!(gap("ks4_progress8", 0.125), "+0.13");
    }
}
