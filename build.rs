// Compiles the shipped catalogue's dataset files into the binary (see src/catalogue.rs),
// so that adding a dataset file needs no Rust change.
use std::fmt::Write;

fn main() {
    let dir = std::path::Path::new("catalogue/datasets");
    println!("cargo:rerun-if-changed=catalogue");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("catalogue/datasets exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    let mut out = String::from("[\n");
    for f in files {
        // The path is joined to CARGO_MANIFEST_DIR when the crate compiles, not here: a
        // reused target directory (a fresh clone elsewhere, a git worktree) then never
        // embeds another checkout's catalogue.
        let rel = f.display().to_string();
        writeln!(
            out,
            "    ({rel:?}, include_str!(concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/\", {rel:?}))),"
        )
        .unwrap();
    }
    out.push(']');
    let dest = std::path::Path::new(&std::env::var("OUT_DIR").unwrap()).join("datasets.rs");
    std::fs::write(dest, out).unwrap();
}
