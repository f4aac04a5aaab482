//! `attain measures`: the canonical measures in the catalogue.

use serde_json::json;

use crate::catalogue::Catalogue;
use crate::output::Report;

pub fn measures_report(cat: &Catalogue, key_stage: Option<&str>) -> Report {
    let mut r = Report::new(&[
        "id",
        "key_stage",
        "unit",
        "polarity",
        "headline",
        "description",
    ]);
    for m in cat
        .measures
        .iter()
        .filter(|m| key_stage.is_none_or(|k| m.key_stage == k))
    {
        r.push(vec![
            json!(m.id),
            json!(m.key_stage),
            json!(m.unit),
            json!(m.polarity),
            json!(m.headline),
            json!(m.description),
        ]);
    }
    r
}

pub fn groups_report(cat: &Catalogue) -> Report {
    let mut r = Report::new(&["id", "complement", "description"]);
    for g in &cat.groups {
        r.push(vec![json!(g.id), json!(g.complement), json!(g.description)]);
    }
    r
}

/// Every file family the catalogue reads and what each of its columns becomes, as the
/// Markdown that docs/data-sources.md carries (a test keeps the two equal).
pub fn column_mappings_markdown(cat: &Catalogue) -> String {
    let mut out = String::new();
    let cell = |s: &str| s.replace('|', "\\|");
    let names = |n: &crate::catalogue::Names| {
        n.list()
            .iter()
            .map(|c| format!("`{c}`"))
            .collect::<Vec<_>>()
            .join(" / ")
    };
    let mut datasets: Vec<&crate::catalogue::Dataset> = cat.datasets.iter().collect();
    datasets.sort_by(|a, b| a.id.cmp(&b.id));
    for ds in datasets {
        out.push_str(&format!("### `{}`\n\n{}", ds.id, cell(&ds.description)));
        out.push_str(&format!(
            " Reader `{}`; recognised by {}",
            ds.reader,
            ds.recognise
                .all_of
                .iter()
                .map(|c| format!("`{c}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
        if !ds.recognise.any_of.is_empty() {
            out.push_str(&format!(
                " and one of {}",
                ds.recognise
                    .any_of
                    .iter()
                    .map(|c| format!("`{c}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        out.push_str(".\n");
        if let Some(reason) = &ds.skip_reason {
            out.push_str(&format!("Skipped: {}\n", cell(reason)));
        }
        for e in &ds.editions {
            out.push_str(&format!(
                "- year {} when the header has {}: {}\n",
                e.year,
                e.all_of.join(", "),
                cell(&e.note)
            ));
        }
        let k = &ds.keys;
        let keys: Vec<String> = [
            ("URN", &k.urn),
            ("LA code", &k.la),
            ("LA name", &k.la_name),
            ("establishment number", &k.estab),
            ("name", &k.name),
            ("type", &k.school_type),
            ("region", &k.region),
        ]
        .into_iter()
        .filter_map(|(what, n)| n.as_ref().map(|n| format!("{} = {what}", names(n))))
        .collect();
        if !keys.is_empty() {
            out.push_str(&format!("- keys: {}\n", keys.join("; ")));
        }
        let settings: Vec<String> = ds
            .settings
            .iter()
            .filter_map(|(key, v)| match v {
                // Value lists (maintained type names and groups) are not columns.
                toml::Value::String(s) => Some(format!("`{s}` = {key}")),
                toml::Value::Array(a)
                    if a.iter().all(|x| x.is_str()) && !key.contains("maintained") =>
                {
                    Some(format!(
                        "{} = {key}",
                        a.iter()
                            .filter_map(|x| x.as_str())
                            .map(|c| format!("`{c}`"))
                            .collect::<Vec<_>>()
                            .join(" / ")
                    ))
                }
                _ => None,
            })
            .collect();
        if !settings.is_empty() {
            out.push_str(&format!("- columns: {}\n", cell(&settings.join("; "))));
        }
        if !ds.columns.is_empty() {
            out.push_str("\n| column | measure | group | cohort | numerator | years |\n|---|---|---|---|---|---|\n");
            for c in &ds.columns {
                let years = c.years.map(|[a, b]| format!("{a}-{b}")).unwrap_or_default();
                let ratio = c
                    .ratio_scale
                    .map(|s| format!(" (count; value = count / cohort x {s})"))
                    .unwrap_or_default();
                out.push_str(&format!(
                    "| {}{ratio} | `{}` | `{}` | {} | {} | {years} |\n",
                    names(&c.source),
                    c.measure,
                    c.group,
                    c.cohort.as_ref().map(names).unwrap_or_default(),
                    c.numerator.as_ref().map(names).unwrap_or_default()
                ));
            }
        }
        if !ds.codes.is_empty() {
            out.push_str(&format!(
                "\n{} source codes map to catalogue measures (`catalogue/datasets/{}.toml`); the \
                rest are kept as `lait:<code>`.\n",
                ds.codes.len(),
                ds.id
            ));
        }
        out.push('\n');
    }
    out
}

/// `attain measures`: the measures (of one key stage) or the pupil groups.
pub fn cli(
    a: &crate::cli::MeasuresArgs,
    ctx: &crate::commands::Ctx,
) -> anyhow::Result<crate::commands::Code> {
    let cat = ctx.catalogue()?;
    let report = if a.groups {
        groups_report(&cat)
    } else {
        measures_report(&cat, a.key_stage.as_deref())
    };
    report.print(a.format.format)?;
    Ok(crate::commands::Code::Ok)
}
