//! Integration tests: one binary (linking polars once), one module per area.

mod analysis;
mod atomic;
mod booklet;
mod browser;
mod charts;
mod cli;
mod common;
mod corpus;
mod council;
mod determinism;
mod disclosure;
mod docs;
mod escaping;
mod fuzz;
mod hardening;
mod modern_layouts;
mod ofsted_frameworks;
mod partnerships;
mod per_la;
mod pipeline;
mod predecessors;
mod pupils;
mod real_data;
mod targets;
mod trust;
