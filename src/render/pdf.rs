//! PDF through Typst used as a library: a small `World` of our own holding one main
//! source, any number of in-memory files (charts as SVG), and the bundled fonts. No
//! network, no system fonts, no clock: the same input gives the same PDF.
//!
//! Speed over thousands of documents comes from Typst's memoisation being shared between
//! them (fonts parsed once, identical pieces of layout reused), which is why the markup is
//! evaluated through `eval` (see [`typst_to_pdf`]) and why caches are evicted gently.

use std::collections::HashMap;
use std::sync::OnceLock;

use typst::diag::{FileError, FileResult};
use typst::foundations::{Bytes, Datetime, Duration};
use typst::syntax::{FileId, RootedPath, Source, VirtualPath, VirtualRoot};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World};
use typst_layout::PagedDocument;

/// The fonts every document may use: DejaVu Sans (bundled in assets/fonts) and Typst's own.
struct Fonts {
    book: LazyHash<FontBook>,
    fonts: Vec<Font>,
}

fn fonts() -> &'static Fonts {
    static FONTS: OnceLock<Fonts> = OnceLock::new();
    FONTS.get_or_init(|| {
        let bundled: [&'static [u8]; 3] = [
            include_bytes!("../../assets/fonts/DejaVuSans.ttf"),
            include_bytes!("../../assets/fonts/DejaVuSans-Bold.ttf"),
            include_bytes!("../../assets/fonts/DejaVuSans-Oblique.ttf"),
        ];
        let mut fonts = Vec::new();
        for data in bundled.into_iter().chain(typst_assets::fonts()) {
            let bytes = Bytes::new(data);
            for i in 0.. {
                match Font::new(bytes.clone(), i) {
                    Some(f) => fonts.push(f),
                    None => break,
                }
            }
        }
        Fonts {
            book: LazyHash::new(FontBook::from_fonts(&fonts)),
            fonts,
        }
    })
}

fn library() -> &'static LazyHash<Library> {
    static LIB: OnceLock<LazyHash<Library>> = OnceLock::new();
    LIB.get_or_init(|| LazyHash::new(Library::default()))
}

fn file_id(path: &str) -> FileId {
    let vpath = VirtualPath::new(path).expect("a valid virtual path");
    RootedPath::new(VirtualRoot::Project, vpath).intern()
}

struct DocWorld {
    main: Source,
    files: HashMap<FileId, Bytes>,
    today: Option<Datetime>,
}

impl World for DocWorld {
    fn library(&self) -> &LazyHash<Library> {
        library()
    }
    fn book(&self) -> &LazyHash<FontBook> {
        &fonts().book
    }
    fn main(&self) -> FileId {
        self.main.id()
    }
    fn source(&self, id: FileId) -> FileResult<Source> {
        if id == self.main.id() {
            Ok(self.main.clone())
        } else {
            Err(FileError::NotSource)
        }
    }
    fn file(&self, id: FileId) -> FileResult<Bytes> {
        self.files
            .get(&id)
            .cloned()
            .ok_or_else(|| FileError::NotFound(id.get().vpath().get_without_slash().into()))
    }
    fn font(&self, index: usize) -> Option<Font> {
        fonts().fonts.get(index).cloned()
    }
    fn today(&self, _offset: Option<Duration>) -> Option<Datetime> {
        self.today
    }
}

/// Where the markup is stored in the `World`, read by the fixed main source.
const BODY: &str = "/document-body.typ";

/// Documents compiled by this process, and how many go between two cache evictions.
static COMPILED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
const EVICT_EVERY: usize = 10;

/// The main source: the markup, evaluated rather than parsed as a file of its own. Typst
/// keys its layout caches on content, styles and source spans; a file's spans are numbered
/// by position, so the same table cell in two booklets would never match. Everything that
/// `eval` produces carries the one span of this call instead, so what is the same in two
/// documents (headers, labels, LA and England figures, notes, chart labels) is laid out
/// once and reused by the next document, as long as the styles around it are the same too
/// (see templates/booklet.typ.j2: nothing school-specific in set or show rules).
const MAIN: &str = "#eval(read(\"document-body.typ\"), mode: \"markup\")\n";

/// Compile Typst markup (plus named in-memory files, e.g. "chart1.svg") to PDF bytes.
/// `date` (y, m, d) becomes the document date and `title` its title; nothing reads the clock.
pub fn typst_to_pdf(
    markup: &str,
    files: &[(String, Vec<u8>)],
    date: Option<(i32, u8, u8)>,
    title: Option<&str>,
) -> Result<Vec<u8>, String> {
    let main = Source::new(file_id("/main.typ"), MAIN.to_string());
    let mut files: HashMap<FileId, Bytes> = files
        .iter()
        .map(|(name, data)| (file_id(&format!("/{name}")), Bytes::new(data.clone())))
        .collect();
    files.insert(file_id(BODY), Bytes::new(markup.as_bytes().to_vec()));
    let today = date.and_then(|(y, m, d)| Datetime::from_ymd(y, m, d));
    let world = DocWorld { main, files, today };
    let compiled = typst::compile::<PagedDocument>(&world).output;
    // Typst memoises across compilations; entries unused for about 30 documents are dropped
    // so that thousands of booklets in one run do not grow memory without bound, while what
    // the next booklets share (fonts, labels, headers) stays cached. Eviction walks every
    // cache, so it runs once every EVICT_EVERY documents (an entry's age counts evictions).
    if COMPILED.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % EVICT_EVERY == EVICT_EVERY - 1
    {
        typst::comemo::evict(30 / EVICT_EVERY);
    }
    let mut doc = compiled.map_err(|errs| {
        errs.iter()
            .map(|e| e.message.to_string())
            .collect::<Vec<_>>()
            .join("; ")
    })?;
    // The title is set here rather than by a `set document` rule in the markup: a
    // per-document value in the styles would make every cached layout a miss.
    if let Some(title) = title {
        doc.info_mut().title = Some(title.into());
    }
    let options = typst_pdf::PdfOptions {
        timestamp: today.map(typst_pdf::Timestamp::new_utc),
        ident: typst::foundations::Smart::Custom("attain".into()),
        ..Default::default()
    };
    typst_pdf::pdf(&doc, &options).map_err(|errs| {
        errs.iter()
            .map(|e| e.message.to_string())
            .collect::<Vec<_>>()
            .join("; ")
    })
}

/// Escape text for Typst markup: every character with a markup meaning is backslashed,
/// including those of shorthands (`...` an ellipsis, `1.` a numbered list, `--` a dash,
/// `~` a non-breaking space, quotes made curly, `//` a comment, `http://` a link).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if matches!(
            c,
            '\\' | '#'
                | '$'
                | '*'
                | '_'
                | '@'
                | '['
                | ']'
                | '<'
                | '>'
                | '`'
                | '~'
                | '/'
                | '"'
                | '='
                | '-'
                | '+'
                | '\''
                | '.'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compiles_markup_with_an_svg_and_awkward_text() {
        let svg = concat!(
            r##"<svg xmlns="http://www.w3.org/2000/svg" width="100" height="50">"##,
            r##"<rect width="100" height="50" fill="#0072B2"/></svg>"##
        )
        .as_bytes()
        .to_vec();
        let name = escape("St Mary & St John's <CE> #1 $5 *bold* @ref [x]");
        let markup = format!(
            "#set text(font: \"DejaVu Sans\")\n= {name}\n#image(\"chart.svg\", width: 4cm)\n"
        );
        let pdf = typst_to_pdf(
            &markup,
            &[("chart.svg".into(), svg.clone())],
            Some((2019, 9, 1)),
            Some("A title"),
        )
        .unwrap();
        assert!(pdf.starts_with(b"%PDF-"));
        let again = typst_to_pdf(
            &markup,
            &[("chart.svg".into(), svg.clone())],
            Some((2019, 9, 1)),
            Some("A title"),
        )
        .unwrap();
        assert_eq!(pdf, again, "the same input gives the same PDF");
    }

    #[test]
    fn shorthands_are_escaped_too() {
        // `...` would be an ellipsis, `1.` a numbered list, `--` a dash, `~` a no-break space,
        // `//` a comment and `http://` a link.
        assert_eq!(
            escape("1. Wait... -- ~ http://x"),
            "1\\. Wait\\.\\.\\. \\-\\- \\~ http:\\/\\/x"
        );
        assert_eq!(escape("مدرسة 7"), "مدرسة 7");
    }
}
