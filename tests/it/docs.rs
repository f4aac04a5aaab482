//! Documentation generated from the catalogue stays equal to it.

#[test]
fn data_sources_lists_every_file_family_and_column_mapping_of_the_catalogue() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/data-sources.md");
    let doc = std::fs::read_to_string(&path).unwrap();
    let (start, end) = (
        "<!-- generated: column mappings -->\n",
        "<!-- end generated -->",
    );
    let (a, b) = (
        doc.find(start).expect("start marker") + start.len(),
        doc.find(end).expect("end marker"),
    );
    let generated = attain::commands::measures::column_mappings_markdown(
        &attain::catalogue::Catalogue::builtin(),
    );
    if std::env::var("ATTAIN_UPDATE_DOCS").is_ok() {
        std::fs::write(&path, format!("{}{generated}{}", &doc[..a], &doc[b..])).unwrap();
        return;
    }
    assert!(
        doc[a..b] == generated,
        "docs/data-sources.md is out of date: run ATTAIN_UPDATE_DOCS=1 cargo test \
        --release --test it data_sources"
    );
    for ds in &attain::catalogue::Catalogue::builtin().datasets {
        assert!(doc.contains(&format!("### `{}`", ds.id)), "{}", ds.id);
    }
}
