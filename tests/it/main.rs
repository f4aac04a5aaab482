//! Integration tests: one binary (linking polars once), one module per area.

mod common;
mod analysis;
mod atomic;
mod browser;
mod booklet;
mod cli;
mod corpus;
mod fuzz;
mod hardening;
mod modern_layouts;
mod ofsted_frameworks;
mod charts;
mod council;
mod determinism;
mod disclosure;
mod docs;
mod escaping;
mod partnerships;
mod per_la;
mod pipeline;
mod pupils;
mod real_data;
mod targets;
mod trust;
