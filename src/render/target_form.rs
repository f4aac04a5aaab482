//! The target form sent to each school: an xlsx with the school's suggested targets (the
//! booklet's figures) and one empty "Agreed target" cell per measure. Only those cells are
//! unlocked (the sheet is protected without a password) and each accepts only a number in
//! the measure's range. `ingest::target_return` reads the form back by the same labels.

use rust_xlsxwriter::{
    Color, DataValidation, DataValidationRule, Format, FormatAlign, FormatBorder, Workbook,
    XlsxError,
};

use crate::ingest::target_return::layout;
use crate::number;
use crate::render::booklet::model::TargetFigures;
use crate::year::academic_label;

/// One measure's row.
#[derive(Debug, Clone)]
pub struct FormRow {
    pub measure: String,
    pub label: String,
    pub description: String,
    /// percent | score | progress
    pub unit: String,
    pub dps: u32,
    /// The values an agreed target may take.
    pub range: Option<(f64, f64)>,
    pub figures: TargetFigures,
}

/// One school's form.
#[derive(Debug, Clone)]
pub struct Form {
    pub urn: String,
    pub name: String,
    pub la_code: String,
    pub la_name: String,
    /// The results the suggestions are built on; the targets are for the year after.
    pub base_year: i32,
    pub rows: Vec<FormRow>,
}

/// The table's columns, in order. The last is the one schools fill in.
pub fn columns(base_year: i32) -> Vec<String> {
    let (now, next) = (academic_label(base_year), academic_label(base_year + 1));
    vec![
        layout::MEASURE_ID.to_string(),
        "Measure".into(),
        "Description".into(),
        "Unit".into(),
        format!("Result {now}"),
        "Pupils".into(),
        format!("Estimate for {next}"),
        "95% range from".into(),
        "95% range to".into(),
        "Best 20% of similar schools".into(),
        "Best 5% of similar schools".into(),
        "LA top-10% threshold".into(),
        "Neighbours' top quartile".into(),
        layout::AGREED.to_string(),
    ]
}

fn unit_text(unit: &str, range: Option<(f64, f64)>) -> String {
    let u = match unit {
        "percent" => "% of pupils",
        "progress" => "progress score",
        "score" => "score",
        other => other,
    };
    match range {
        Some((lo, hi)) => format!("{u}, {lo} to {hi}"),
        None => u.to_string(),
    }
}

fn number_format(unit: &str, dps: u32) -> String {
    let digits = if dps == 0 {
        "0".to_string()
    } else {
        format!("0.{}", "0".repeat(dps as usize))
    };
    // Progress scores carry their sign, as the booklet prints them.
    if unit == "progress" {
        format!("+{digits};-{digits};{digits}")
    } else {
        digits
    }
}

pub fn xlsx(form: &Form) -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    let next = academic_label(form.base_year + 1);
    let title = Format::new().set_bold().set_font_size(14);
    let label = Format::new().set_bold();
    let text = Format::new().set_align(FormatAlign::Top);
    let wrap = Format::new().set_text_wrap().set_align(FormatAlign::Top);
    let note = Format::new().set_italic();
    let header = crate::render::workbook::header_format().set_border_bottom(FormatBorder::Thin);
    let agreed_header = header.clone().set_background_color("#FFE699");
    let ws = wb.add_worksheet();
    ws.set_name(layout::SHEET)?;
    ws.write_string_with_format(
        0,
        0,
        format!("Agreed targets for {next}: {}", form.name),
        &title,
    )?;
    let info = [
        (layout::URN_ROW, layout::URN, form.urn.clone()),
        (layout::SCHOOL_ROW, layout::SCHOOL, form.name.clone()),
        (layout::LA_CODE_ROW, layout::LA_CODE, form.la_code.clone()),
        (layout::LA_NAME_ROW, layout::LA_NAME, form.la_name.clone()),
        (layout::FOR_YEAR_ROW, layout::FOR_YEAR, next.clone()),
        (
            layout::BASE_YEAR_ROW,
            layout::BASE_YEAR,
            academic_label(form.base_year),
        ),
    ];
    for (row, name, value) in &info {
        ws.write_string_with_format(*row, 0, *name, &label)?;
        // Text, so a URN or LA code keeps its digits exactly.
        ws.write_string_with_format(*row, 1, value, &text)?;
    }
    ws.write_string_with_format(
        layout::NOTE_ROW,
        0,
        format!(
            "Type the target agreed with the LA for each measure in \
        the yellow {:?} column. The other cells are locked. Enter percentages as numbers (65 for \
        65%).",
            layout::AGREED
        ),
        &note,
    )?;
    ws.write_string_with_format(layout::NOTE_ROW + 1, 0, format!("The estimate is a model's figure for {next} from \
        this year's result and the school's context (95% range); the best 20% and 5% are figures reached by similar \
        schools. See the booklet's notes."), &note)?;

    let cols = columns(form.base_year);
    let agreed_col = (cols.len() - 1) as u16;
    for (c, name) in cols.iter().enumerate() {
        ws.write_string_with_format(
            layout::HEADER_ROW,
            c as u16,
            name,
            if c as u16 == agreed_col {
                &agreed_header
            } else {
                &header
            },
        )?;
    }
    for (c, w) in [
        24.0, 28.0, 48.0, 22.0, 11.0, 9.0, 13.0, 11.0, 11.0, 13.0, 13.0, 13.0, 13.0, 15.0,
    ]
    .iter()
    .enumerate()
    {
        ws.set_column_width(c as u16, *w)?;
    }
    // Wrapped rows get their height: LibreOffice keeps a row's default height otherwise, and
    // the lines would print over the next row.
    ws.set_row_height(layout::HEADER_ROW, 45.0)?;
    for (i, r) in form.rows.iter().enumerate() {
        let row = layout::HEADER_ROW + 1 + i as u32;
        let lines = [
            (&r.label, 28),
            (&r.description, 48),
            (&unit_text(&r.unit, r.range), 22),
        ]
        .iter()
        .map(|(t, w)| crate::render::workbook::wrapped_lines(t, *w))
        .max()
        .unwrap_or(1);
        ws.set_row_height(row, 15.0 * lines as f64)?;
        let num = Format::new()
            .set_num_format(number_format(&r.unit, r.dps))
            .set_align(FormatAlign::Top);
        let agreed = num
            .clone()
            .set_unlocked()
            .set_background_color("#FFF2CC")
            .set_border(FormatBorder::Thin)
            .set_border_color(Color::RGB(0x7F7F7F));
        ws.write_string_with_format(row, 0, &r.measure, &text)?;
        ws.write_string_with_format(row, 1, &r.label, &wrap)?;
        ws.write_string_with_format(row, 2, &r.description, &wrap)?;
        ws.write_string_with_format(row, 3, unit_text(&r.unit, r.range), &wrap)?;
        let f = &r.figures;
        let values = [
            Some(f.current),
            f.cohort,
            f.estimate,
            f.range.map(|x| x.0),
            f.range.map(|x| x.1),
            f.best20,
            f.best5,
            f.top10,
            f.sn_top_quartile,
        ];
        for (k, v) in values.iter().enumerate() {
            let col = 4 + k as u16;
            match v {
                // Pupils are whole; every figure is rounded as the booklet prints it.
                Some(v) if col == 5 => ws.write_number_with_format(
                    row,
                    col,
                    number::round(*v, 0),
                    &Format::new()
                        .set_num_format("0")
                        .set_align(FormatAlign::Top),
                )?,
                Some(v) => ws.write_number_with_format(row, col, number::round(*v, r.dps), &num)?,
                None => ws.write_blank(row, col, &text)?,
            };
        }
        ws.write_blank(row, agreed_col, &agreed)?;
        if let Some((lo, hi)) = r.range {
            let dv = DataValidation::new()
                .allow_decimal_number(DataValidationRule::Between(lo, hi))
                .set_input_title(layout::AGREED)?
                .set_input_message(format!("{}: a number from {lo} to {hi}.", r.label))?
                .set_error_title("Not a target for this measure")?
                .set_error_message(format!(
                    "The agreed target for {} must be a number from {lo} to {hi}.",
                    r.label
                ))?;
            ws.add_data_validation(row, agreed_col, row, agreed_col, &dv)?;
        }
    }
    ws.set_freeze_panes(layout::HEADER_ROW + 1, 2)?;
    // One landscape page per school: the whole form (every column, "Agreed target" too) scaled
    // to a single A4 page, dated from the data.
    let last_row = layout::HEADER_ROW + form.rows.len() as u32;
    ws.set_print_area(0, 0, last_row, agreed_col)?;
    ws.set_landscape();
    ws.set_paper_size(9);
    ws.set_print_fit_to_pages(1, 1);
    ws.set_margins(0.4, 0.4, 0.6, 0.6, 0.25, 0.25);
    ws.set_header(format!(
        "&L{}&R{}",
        form.la_name.replace('&', "&&"),
        form.name.replace('&', "&&")
    ));
    ws.set_footer(format!(
        "&L{}",
        crate::render::workbook::dated(form.base_year).replace('&', "&&")
    ));
    // Locked cells stay locked, without a password: the form guides, the import checks.
    ws.protect();
    crate::render::workbook::set_dated_properties(
        &mut wb,
        &format!("{}: agreed targets for {next}", form.name),
        form.base_year,
    )?;
    wb.save_to_buffer()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_units() {
        assert_eq!(number_format("percent", 0), "0");
        assert_eq!(number_format("progress", 2), "+0.00;-0.00;0.00");
        assert_eq!(
            unit_text("percent", Some((0.0, 100.0))),
            "% of pupils, 0 to 100"
        );
        assert_eq!(
            unit_text("progress", Some((-5.0, 5.0))),
            "progress score, -5 to 5"
        );
        assert_eq!(columns(2018).last().unwrap(), layout::AGREED);
        assert_eq!(columns(2018)[4], "Result 2017/18");
    }
}
