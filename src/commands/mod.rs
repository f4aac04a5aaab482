//! The library side of each CLI command: what `src/main.rs` calls after parsing flags, and
//! what pipeline stages call with the same arguments structs (`crate::cli`).

pub mod analysis;
pub mod audit;
pub mod bench;
pub mod booklet;
pub mod categorise;
pub mod charts;
pub mod demo;
pub mod ingest;
pub mod measures;
pub mod ofsted;
pub mod partnerships;
pub mod progress_bar;
pub mod pupils;
pub mod run;
pub mod shell;
pub mod targets;
pub mod trend;
pub mod validate;
pub mod workbook;
pub mod year;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::analysis::data::Data;
use crate::catalogue::Catalogue;
pub use crate::error::ExitCode as Code;
use crate::store::Store;

/// What every command shares: the catalogue flag, and how much to say on stderr.
pub struct Ctx {
    catalogue: Option<PathBuf>,
}

impl Ctx {
    /// Set up logging (`-v`/`-q`, or `ATTAIN_LOG` when set) and progress bars (a terminal on
    /// stderr and no `-q`), then the context commands run in.
    pub fn start(catalogue: Option<PathBuf>, verbose: u8, quiet: bool) -> Ctx {
        let default = match (quiet, verbose) {
            (true, _) => "error",
            (false, 0) => "warn",
            (false, 1) => "attain=info",
            (false, 2) => "attain=debug",
            _ => "trace",
        };
        let filter = tracing_subscriber::EnvFilter::try_from_env("ATTAIN_LOG")
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
        let _ = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .try_init();
        crate::output::set_quiet(quiet);
        progress_bar::install(quiet);
        Ctx { catalogue }
    }

    /// A context for a library caller (tests, pipeline stages): nothing is set up.
    pub fn plain(catalogue: Option<PathBuf>) -> Ctx {
        Ctx { catalogue }
    }

    pub fn catalogue(&self) -> anyhow::Result<Arc<Catalogue>> {
        Ok(Arc::new(Catalogue::load(self.catalogue.as_deref())?))
    }

    /// The opening most commands share: the catalogue loaded and the store at `--store`.
    pub fn open(&self, store: &Path) -> anyhow::Result<Opened> {
        Ok(Opened {
            catalogue: self.catalogue()?,
            store: Store::at(store),
        })
    }
}

/// The catalogue and the store a command reads (`Ctx::open`); `data` gives the figures.
pub struct Opened {
    pub catalogue: Arc<Catalogue>,
    pub store: Store,
}

impl Opened {
    /// The store's data, with `--la` (when given) checked against it: an LA the store does
    /// not know is exit 2 with a suggestion, never an empty answer.
    pub fn data(&self, la: Option<&str>) -> anyhow::Result<Data<'_>> {
        let data = Data::open(&self.store, &self.catalogue)?;
        if let Some(la) = la {
            validate::la(&data, la)?;
        }
        Ok(data)
    }
}
