//! Shared test helpers.
#![allow(dead_code)]

pub mod http;
pub mod peer;
#[cfg(feature = "emulator")]
pub mod rel;

/// A FIFO in the temp directory, new for this process (`mkfifo`); the test
/// removes it.
pub fn fifo(name: &str) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("tcb-{name}-{}", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let made = std::process::Command::new("mkfifo").arg(&path).status();
    assert!(made.is_ok_and(|s| s.success()), "mkfifo {}", path.display());
    path
}
