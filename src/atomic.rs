//! Writing files so that a crash never leaves one half-written: every output goes to a
//! hidden temporary beside its final name and is renamed into place. Used by every layer
//! that writes (store, renderers, commands, pipeline).

use std::path::{Path, PathBuf};

use crate::error::RenderError;

/// Write `bytes` to `path` atomically: to a hidden temporary beside it (same directory, so
/// the same file system), then rename over the final name. A process killed at any point
/// leaves the old file or the new one. (No fsync: this guards against the process dying,
/// not against the machine losing power.) A failure names the file (exit code 4).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), RenderError> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| {
            // The usual cause: a file where a directory on the way should be. Name it.
            let why = match parent.ancestors().find(|a| a.is_file()) {
                Some(file) => format!("{} is a file, not a directory", file.display()),
                None => e.to_string(),
            };
            RenderError::write(
                path,
                format!("cannot create its directory {}: {why}", parent.display()),
            )
        })?;
    }
    let tmp = temporary_beside(path);
    if let Err(e) = std::fs::write(&tmp, bytes).and_then(|_| std::fs::rename(&tmp, path)) {
        let _ = std::fs::remove_file(&tmp);
        return Err(RenderError::write(path, e));
    }
    Ok(())
}

/// An exclusive lock on the directory `dir` (created if missing), held until the returned
/// handle is dropped or the process ends (the kernel releases it even after a kill). If
/// another process holds it, `waiting_for` is said once on stderr and the call waits. A lock
/// on the directory itself leaves no lock file among the outputs.
pub fn lock_dir(dir: &Path, waiting_for: &str) -> std::io::Result<std::fs::File> {
    std::fs::create_dir_all(dir)?;
    let handle = std::fs::File::open(dir)?;
    match handle.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            eprintln!(
                "attain: waiting for {waiting_for} ({} is locked by another attain process)",
                dir.display()
            );
            handle.lock()?;
        }
        Err(std::fs::TryLockError::Error(e)) => return Err(e),
    }
    Ok(handle)
}

/// The temporary name [`write_atomic`] writes to: `.<name>.tmp-<pid>` beside `path`.
pub fn temporary_beside(path: &Path) -> PathBuf {
    path.with_file_name(format!(
        ".{}{TMP_MARK}{}",
        path.file_name().unwrap_or_default().to_string_lossy(),
        std::process::id()
    ))
}

const TMP_MARK: &str = ".tmp-";

fn is_temporary(name: &str) -> bool {
    name.starts_with('.') && name.contains(TMP_MARK)
}

/// Remove temporaries a killed run left: under an output directory (recursively), or beside
/// an output file. Returns how many were removed.
pub fn remove_stale_temporaries(output: &Path) -> usize {
    fn sweep(dir: &Path, only_for: Option<&str>, removed: &mut usize) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().to_string();
            let path = e.path();
            let is_dir = e.file_type().map(|t| t.is_dir()).unwrap_or(false);
            if is_temporary(&name)
                && only_for.is_none_or(|f| name.starts_with(&format!(".{f}{TMP_MARK}")))
            {
                let gone = if is_dir {
                    std::fs::remove_dir_all(&path)
                } else {
                    std::fs::remove_file(&path)
                };
                *removed += gone.is_ok() as usize;
            } else if is_dir && only_for.is_none() {
                sweep(&path, None, removed);
            }
        }
    }
    let mut removed = 0;
    if output.is_dir() {
        sweep(output, None, &mut removed);
    } else if let (Some(parent), Some(name)) = (output.parent(), output.file_name()) {
        let parent = if parent.as_os_str().is_empty() {
            Path::new(".")
        } else {
            parent
        };
        sweep(parent, Some(&name.to_string_lossy()), &mut removed);
    }
    removed
}
