//! Errors by layer. Each carries the context a person needs to find the problem:
//! file, row and column for input; the flag or config file for configuration; the
//! output file or school (URN) for rendering.
//!
//! | layer | type | exit code |
//! |---|---|---|
//! | ingest (input files) | [`IngestError`], [`IngestFailures`] | 3 |
//! | store (the parquet tables) | [`StoreError`] | 3; 4 when writing it fails |
//! | configuration (flags, catalogue, pipeline, rules, templates) | [`ConfigError`] | 2 |
//! | render (booklets, charts, workbooks, written outputs) | [`RenderError`], [`RenderFailures`] | 4 |
//!
//! A run that finishes but met [`IngestWarning`]s (or unrecognised files in a directory)
//! exits with 1. Usage errors from the command line parser exit with 2 (clap's own code).
//! Every write is typed at its source, names the file and maps to 4: `atomic::write_atomic`
//! and the store's writes ([`StoreError::Write`]), output directories, results on stdout
//! (`output::stdout`), and commands that wrap their output errors in [`RenderError`] (the demo
//! generator, man pages, completions). A template that fails to render (minijinja) is a bad
//! template file: 2. Any other error that reaches here untyped is an input error (3).

use std::fmt;
use std::path::{Path, PathBuf};

/// Where in an input file something is: the file, and the row and column when known.
fn write_location(
    f: &mut fmt::Formatter<'_>,
    file: &Path,
    row: Option<u64>,
    column: Option<&str>,
) -> fmt::Result {
    write!(f, "{}", file.display())?;
    if let Some(r) = row {
        write!(f, ", row {r}")?;
    }
    if let Some(c) = column {
        write!(f, ", column {c}")?;
    }
    Ok(())
}

/// A problem in an input file that stops the ingest (nothing is written).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IngestError {
    pub file: PathBuf,
    /// 1-based line (CSV) or row (worksheet); `None` when it concerns the whole file.
    pub row: Option<u64>,
    pub column: Option<String>,
    pub message: String,
}

impl IngestError {
    pub fn at_file(file: &Path, message: impl Into<String>) -> IngestError {
        IngestError {
            file: file.to_path_buf(),
            row: None,
            column: None,
            message: message.into(),
        }
    }
    pub fn at(file: &Path, row: u64, column: Option<&str>, message: String) -> IngestError {
        IngestError {
            file: file.to_path_buf(),
            row: Some(row),
            column: column.map(str::to_string),
            message,
        }
    }
}

impl fmt::Display for IngestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_location(f, &self.file, self.row, self.column.as_deref())?;
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for IngestError {}

/// Something in an input file that attain read around (a repeated row, a guessed encoding,
/// a missing LA row...): the ingest goes on, says so, and exits with 1.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct IngestWarning {
    pub file: PathBuf,
    pub row: Option<u64>,
    pub column: Option<String>,
    pub message: String,
}

impl IngestWarning {
    pub fn at_file(file: &Path, message: impl Into<String>) -> IngestWarning {
        IngestWarning {
            file: file.to_path_buf(),
            row: None,
            column: None,
            message: message.into(),
        }
    }
    pub fn at(
        file: &Path,
        row: u64,
        column: Option<&str>,
        message: impl Into<String>,
    ) -> IngestWarning {
        IngestWarning {
            file: file.to_path_buf(),
            row: Some(row),
            column: column.map(str::to_string),
            message: message.into(),
        }
    }
}

impl fmt::Display for IngestWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_location(f, &self.file, self.row, self.column.as_deref())?;
        write!(f, ": {}", self.message)
    }
}

/// A configuration problem: catalogue, pipeline TOML, command-line values.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{file}: {message}")]
pub struct ConfigError {
    pub file: String,
    pub message: String,
}

impl ConfigError {
    pub fn new(file: impl Into<String>, message: impl Into<String>) -> ConfigError {
        ConfigError {
            file: file.into(),
            message: message.into(),
        }
    }
}

/// A problem reading or writing the canonical store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the store at {dir} has no {table} table: run `attain ingest` first")]
    Missing { dir: PathBuf, table: &'static str },
    #[error("store {dir}: {message}")]
    Io { dir: PathBuf, message: String },
    #[error("store query: {0}")]
    Query(String),
    /// Writing the store failed (a full disk, no permission): an output write, exit code 4.
    #[error("cannot write the store at {path}: {message}")]
    Write { path: PathBuf, message: String },
}

impl From<polars::prelude::PolarsError> for StoreError {
    fn from(e: polars::prelude::PolarsError) -> Self {
        StoreError::Query(e.to_string())
    }
}

/// Process exit codes, one per failure class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitCode {
    Ok = 0,
    DataWarnings = 1,
    Usage = 2,
    Input = 3,
    Render = 4,
}

/// Map any error from the library to its exit code: the first typed error in the chain decides.
pub fn exit_code_for(err: &anyhow::Error) -> ExitCode {
    for cause in err.chain() {
        if cause.downcast_ref::<IngestError>().is_some()
            || cause.downcast_ref::<IngestFailures>().is_some()
            || cause.downcast_ref::<PupilRowErrors>().is_some()
        {
            return ExitCode::Input;
        }
        if cause.downcast_ref::<ConfigError>().is_some()
            || cause.downcast_ref::<minijinja::Error>().is_some()
        {
            return ExitCode::Usage;
        }
        if let Some(e) = cause.downcast_ref::<StoreError>() {
            return if matches!(e, StoreError::Write { .. }) {
                ExitCode::Render
            } else {
                ExitCode::Input
            };
        }
        if cause.downcast_ref::<RenderFailures>().is_some()
            || cause.downcast_ref::<RenderError>().is_some()
            || cause.downcast_ref::<DisclosureFindings>().is_some()
        {
            return ExitCode::Render;
        }
    }
    ExitCode::Input
}

/// One output that could not be made or written: the file (or school) and why.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{target}: {message}")]
pub struct RenderError {
    /// The output file, or "URN 123456" for one school's booklet.
    pub target: String,
    pub message: String,
}

impl RenderError {
    pub fn new(target: impl Into<String>, message: impl Into<String>) -> RenderError {
        RenderError {
            target: target.into(),
            message: message.into(),
        }
    }
    /// A failed write of an output file.
    pub fn write(path: &Path, err: impl fmt::Display) -> RenderError {
        RenderError::new(path.display().to_string(), format!("cannot write: {err}"))
    }
}

/// Several input files failed; the run reports all of them, not just the first.
#[derive(Debug, thiserror::Error)]
#[error("{} input file(s) failed:\n{}", .0.len(), .0.iter().map(|e| format!("  {e}")).collect::<Vec<_>>().join("\n"))]
pub struct IngestFailures(pub Vec<IngestError>);

/// Some outputs (booklets, charts) failed to render; the others were written.
#[derive(Debug, thiserror::Error)]
#[error("{} of {total} output(s) failed:\n{}", .failures.len(), .failures.iter().map(|e| format!("  \
    {e}")).collect::<Vec<_>>().join("\n"))]
pub struct RenderFailures {
    pub total: usize,
    pub failures: Vec<String>,
}

/// The disclosure audit found figures about groups of 1-5 pupils in rendered or exported files.
#[derive(Debug, thiserror::Error)]
#[error("disclosure audit: {} disclosive figure(s) found:\n{}", .0.len(), .0.iter().map(|e| format!("  \
    {e}")).collect::<Vec<_>>().join("\n"))]
pub struct DisclosureFindings(pub Vec<String>);

/// Rows of pupil-level files that failed validation (every one is listed).
#[derive(Debug, thiserror::Error)]
#[error("{} problem(s) in the pupil files; nothing was computed (--allow-bad-rows leaves the rows out \
    instead):\n{}", .0.len(), .0.iter().map(|e| format!("  {e}")).collect::<Vec<_>>().join("\n"))]
pub struct PupilRowErrors(pub Vec<IngestError>);
