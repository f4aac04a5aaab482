//! `attain booklet` and the `booklet` pipeline stage: the selection and flags checked, the
//! year chosen, then the renderer (`render::booklet`).

use crate::analysis::data::Data;
use crate::cli::BookletArgs;
use crate::commands::year::{results_year, SCHOOL_RESULTS};
use crate::commands::{validate, Code, Ctx};
use crate::store::schema::Level;

/// Booklets for the selection; the year they are for.
pub fn build(
    a: &BookletArgs,
    data: &Data,
) -> anyhow::Result<(crate::render::booklet::RunSummary, i32)> {
    let sel = a.sel.selection()?;
    if let Some(la) = &sel.la {
        validate::la(data, la)?;
    }
    let year = school_year(data, a.year.year)?;
    let opts = crate::render::booklet::Options {
        out: a.out.clone(),
        year,
        neighbours_model: a.neighbours,
        la_colour: a.colour.clone(),
        la_name: a.la_name.clone(),
        logo: a.logo.clone(),
        templates: a.templates.clone(),
        html: true,
        pdf: !a.html_only,
        pupils: (!a.pupils.is_empty()).then(|| crate::render::booklet::PupilInputs {
            paths: a.pupils.clone(),
            prior_means: a.prior_means.clone(),
            threshold: a.threshold,
            ledger: a.ledger.clone(),
        }),
    };
    let run = crate::render::booklet::run(data, &sel, &opts);
    if run.is_err() {
        // A named school the store has, but not for this year: say so, and which years it has.
        validate::schools_in_year(data, &sel.urns, year)?;
    }
    Ok((run?, year))
}

/// The year of a booklet or target form: `--year` as given (a school with no key-stage
/// results, or only an inspection, still has one), else the latest with KS2 or KS4 school
/// results (`results_year`).
pub fn school_year(data: &Data, requested: Option<i32>) -> anyhow::Result<i32> {
    match requested {
        Some(y) => Ok(y),
        None => results_year(data, None, SCHOOL_RESULTS, Level::School),
    }
}

pub fn cli(a: &BookletArgs, ctx: &Ctx) -> anyhow::Result<Code> {
    let opened = ctx.open(&a.store.store)?;
    let data = opened.data(None)?;
    let (s, year) = build(a, &data)?;
    crate::output::status(format!(
        "{} booklet(s) for {} in {} (figures {:.1} s, rendering {:.1} s); index {}",
        s.written,
        crate::year::academic_label(year),
        a.out.display(),
        s.seconds_prepare,
        s.seconds_render,
        a.out.join("index.html").display()
    ));
    if !s.no_attainment.is_empty() {
        crate::output::status(s.no_attainment_line());
    }
    Ok(Code::Ok)
}
