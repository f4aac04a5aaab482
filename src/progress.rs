//! Progress of long work (files ingested, booklets rendered, charts drawn, pupil files read,
//! pipeline stages), reported through a hook the command line installs (indicatif bars in
//! `commands::progress_bar`). The library and the renderers only count; without a hook
//! (tests, library callers, `-q`, stderr not a terminal) counting costs nothing.

use std::sync::OnceLock;

/// Where progress goes: one bar per task.
pub trait Progress: Send + Sync {
    /// A task of `total` steps (0 when unknown) begins; the returned handle counts its steps.
    fn task(&self, what: &str, total: u64) -> Box<dyn TaskBar>;
}

/// One task's bar: a step done, and the end (when dropped).
pub trait TaskBar: Send + Sync {
    fn step(&self, n: u64);
    fn message(&self, _text: &str) {}
}

static HOOK: OnceLock<Box<dyn Progress>> = OnceLock::new();

/// Install the process's progress display (once; later calls are ignored).
pub fn install(p: Box<dyn Progress>) {
    let _ = HOOK.set(p);
}

/// A counted task; a no-op when no display is installed.
pub struct Task(Option<Box<dyn TaskBar>>);

impl Task {
    pub fn step(&self) {
        if let Some(b) = &self.0 {
            b.step(1);
        }
    }
    pub fn message(&self, text: &str) {
        if let Some(b) = &self.0 {
            b.message(text);
        }
    }
}

/// Begin a task of `total` steps (0 when unknown).
pub fn task(what: &str, total: usize) -> Task {
    Task(HOOK.get().map(|h| h.task(what, total as u64)))
}
