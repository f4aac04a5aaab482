//! Progress bars on stderr (indicatif) for `crate::progress` tasks: shown only when stderr is
//! a terminal and `-q` was not given, so logs, pipes and tests see none.

use std::io::IsTerminal;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

use crate::progress::{Progress, TaskBar};

struct Bars(MultiProgress);

struct Bar(ProgressBar);

impl Progress for Bars {
    fn task(&self, what: &str, total: u64) -> Box<dyn TaskBar> {
        let bar = if total > 0 {
            ProgressBar::new(total).with_style(
                ProgressStyle::with_template("{prefix:>12} [{bar:30}] {pos}/{len} {msg} ({eta})")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
            )
        } else {
            ProgressBar::new_spinner().with_style(
                ProgressStyle::with_template("{prefix:>12} {spinner} {pos} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            )
        };
        let bar = self.0.add(bar.with_prefix(what.to_string()));
        Box::new(Bar(bar))
    }
}

impl TaskBar for Bar {
    fn step(&self, n: u64) {
        self.0.inc(n);
    }
    fn message(&self, text: &str) {
        self.0.set_message(text.to_string());
    }
}

impl Drop for Bar {
    fn drop(&mut self) {
        self.0.finish_and_clear();
    }
}

/// Install the bars unless `quiet` or stderr is not a terminal.
pub fn install(quiet: bool) {
    if !quiet && std::io::stderr().is_terminal() {
        crate::progress::install(Box::new(Bars(MultiProgress::new())));
    }
}
