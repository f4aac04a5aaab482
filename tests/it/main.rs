//! Integration tests: one binary (linking polars once), one module per area.

mod common;
mod cli;
mod real_data;
