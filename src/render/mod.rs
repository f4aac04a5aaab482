//! Rendering: booklets (HTML and PDF), charts and workbooks from analysed figures.

pub mod booklet;
pub mod chart;
pub mod committee;
pub mod pdf;
pub mod target_form;
pub mod workbook;
