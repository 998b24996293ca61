//! Turning a name the server reports into a safe file name, and writing a
//! download to a temporary file that becomes the real one only when
//! complete.

use crate::transport::socket::lock;
use std::fs::{File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The name used when nothing of the server's name survives.
pub(crate) const FALLBACK_NAME: &str = "file";

/// The longest name kept, in bytes: room is left for ` (999)` and for the
/// temporary name's prefix and suffix within the usual 255-byte limit.
const MAX_NAME_BYTES: usize = 200;

/// Device names Windows reserves in every directory, with any extension.
const RESERVED: &[&str] = &[
    "CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$", "COM0", "COM1", "COM2", "COM3", "COM4",
    "COM5", "COM6", "COM7", "COM8", "COM9", "LPT0", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6",
    "LPT7", "LPT8", "LPT9",
];

/// Characters replaced by `_`: controls (NUL included), characters Windows
/// forbids in names, and invisible bidirectional overrides that disguise
/// an extension.
fn unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(c, '<' | '>' | ':' | '"' | '|' | '?' | '*')
        || matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// A file name safe to create inside a directory, from whatever the server
/// reported: only the last path component is kept (`/` and `\` both
/// separate), unsafe characters become `_`, leading and trailing dots and
/// spaces go (so no `.`, `..` or hidden name), Windows device names get a
/// `_` prefix, and long names are shortened keeping the extension. Never
/// empty.
pub fn sanitize(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or("");
    let replaced: String = last
        .chars()
        .map(|c| if unsafe_char(c) { '_' } else { c })
        .collect();
    let trimmed = replaced.trim_matches(|c: char| c == '.' || c.is_whitespace());
    if trimmed.is_empty() {
        return FALLBACK_NAME.to_string();
    }
    let stem = trimmed.split('.').next().unwrap_or("").trim_end();
    let mut safe = if RESERVED.iter().any(|r| r.eq_ignore_ascii_case(stem)) {
        format!("_{trimmed}")
    } else {
        trimmed.to_string()
    };
    if safe.len() > MAX_NAME_BYTES {
        safe = shorten(&safe);
    }
    safe
}

/// Cuts a long name to [`MAX_NAME_BYTES`], keeping a short extension.
fn shorten(name: &str) -> String {
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e)
        .filter(|e| e.len() <= 16 && !e.is_empty());
    let keep = MAX_NAME_BYTES - ext.map_or(0, |e| e.len() + 1);
    let mut end = keep.min(name.len());
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    let stem = name[..end].trim_end_matches(['.', ' ']);
    match ext {
        Some(e) => format!("{stem}.{e}"),
        None => stem.to_string(),
    }
}

/// `name`, `name (1)`, `name (2)`... with the extension kept last.
fn numbered(name: &str, n: u32) -> String {
    if n == 0 {
        return name.to_string();
    }
    match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => format!("{stem} ({n}).{ext}"),
        _ => format!("{name} ({n})"),
    }
}

/// The temporary files of the downloads under way in this process.
static UNDER_WAY: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Removes the temporary files of the downloads under way in this process
/// (each would be removed when its download ends, even by an error, but
/// not when the process exits first). For a program about to exit without
/// finishing its downloads, e.g. from a signal handler: a file that a
/// download was about to complete is not removed, and a download that goes
/// on fails instead of completing.
pub fn remove_partial_downloads() {
    let paths = std::mem::take(&mut *lock(&UNDER_WAY));
    for path in paths {
        let _ = std::fs::remove_file(path);
    }
}

/// A temporary file in the target directory, removed on drop unless it
/// was [`persist`](TempFile::persist)ed.
pub(crate) struct TempFile {
    path: PathBuf,
    file: Option<File>,
}

impl TempFile {
    /// Creates `.<name>.<random>.part` in `dir` (never an existing file).
    pub(crate) fn create(dir: &Path, name: &str) -> io::Result<TempFile> {
        // Room for the dot, the suffix and `.part` within a file name's
        // 255 bytes, whatever the length of `name`.
        let name = if name.len() > MAX_NAME_BYTES {
            shorten(name)
        } else {
            name.to_string()
        };
        let mut last_error = None;
        for _ in 0..16 {
            let path = dir.join(format!(".{name}.{:016x}.part", crate::config::random_u64()));
            match OpenOptions::new().write(true).create_new(true).open(&path) {
                Ok(file) => {
                    lock(&UNDER_WAY).push(path.clone());
                    return Ok(TempFile {
                        path,
                        file: Some(file),
                    });
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last_error = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last_error.unwrap_or_else(|| io::Error::other("no free temporary name")))
    }

    /// The open file.
    pub(crate) fn file(&mut self) -> io::Result<&mut File> {
        self.file
            .as_mut()
            .ok_or_else(|| io::Error::other("the temporary file is closed"))
    }

    /// Gives the file the permissions `like` has (before it replaces it).
    pub(crate) fn set_permissions(&mut self, like: &std::fs::Permissions) -> io::Result<()> {
        self.file()?.set_permissions(like.clone())
    }

    /// Gives the complete file its name in `dir`: `name`, or with
    /// `overwrite` off the first free of `name (1)`, `name (2)`... (an
    /// existing file is never replaced then).
    pub(crate) fn persist(
        mut self,
        dir: &Path,
        name: &str,
        overwrite: bool,
    ) -> io::Result<PathBuf> {
        if let Some(file) = self.file.take() {
            file.sync_all()?;
        }
        if overwrite {
            let target = dir.join(name);
            std::fs::rename(&self.path, &target)?;
            self.release();
            return Ok(target);
        }
        for n in 0..1000 {
            let target = dir.join(numbered(name, n));
            // A hard link never replaces an existing name.
            match std::fs::hard_link(&self.path, &target) {
                Ok(()) => {
                    let _ = std::fs::remove_file(&self.path);
                    self.release();
                    return Ok(target);
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(_) => {
                    // No hard links here (some file systems): check, then
                    // rename.
                    if std::fs::symlink_metadata(&target).is_ok() {
                        continue;
                    }
                    std::fs::rename(&self.path, &target)?;
                    self.release();
                    return Ok(target);
                }
            }
        }
        Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!("{name} and its numbered variants all exist"),
        ))
    }
}

impl TempFile {
    /// The file has its final name (or is gone): no longer under way.
    fn release(&mut self) {
        let path = std::mem::take(&mut self.path);
        lock(&UNDER_WAY).retain(|p| *p != path);
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        drop(self.file.take());
        if !self.path.as_os_str().is_empty() {
            let _ = std::fs::remove_file(&self.path);
            self.release();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_only_a_plain_last_component() {
        let cases = [
            ("report.pdf", "report.pdf"),
            ("../../etc/passwd", "passwd"),
            ("..\\..\\Windows\\win.ini", "win.ini"),
            ("/etc/shadow", "shadow"),
            ("C:\\boot.ini", "boot.ini"),
            ("C:evil.txt", "C_evil.txt"),
            ("..", FALLBACK_NAME),
            ("../", FALLBACK_NAME),
            ("", FALLBACK_NAME),
            ("   ", FALLBACK_NAME),
            (".bashrc", "bashrc"),
            ("name. ", "name"),
            ("a\0b.txt", "a_b.txt"),
            ("line\nbreak.txt", "line_break.txt"),
            ("what?.txt", "what_.txt"),
            ("CON", "_CON"),
            ("nul.txt", "_nul.txt"),
            ("Com1.tar.gz", "_Com1.tar.gz"),
            ("console.txt", "console.txt"),
            ("doc\u{202E}fdp.exe", "doc_fdp.exe"),
            ("отчёт.pdf", "отчёт.pdf"),
        ];
        for (given, want) in cases {
            assert_eq!(sanitize(given), want, "{given:?}");
        }
    }

    #[test]
    fn shortens_long_names_keeping_the_extension() {
        let long = format!("{}.pdf", "я".repeat(300));
        let s = sanitize(&long);
        assert!(s.len() <= MAX_NAME_BYTES && s.ends_with(".pdf"), "{s}");
        assert!(sanitize(&"x".repeat(1000)).len() <= MAX_NAME_BYTES);
    }

    #[test]
    fn numbered_names() {
        assert_eq!(numbered("a.txt", 0), "a.txt");
        assert_eq!(numbered("a.tar.gz", 2), "a.tar (2).gz");
        assert_eq!(numbered("README", 1), "README (1)");
    }

    #[test]
    fn temp_files_vanish_unless_persisted_and_never_clobber() {
        let dir = std::env::temp_dir().join(format!(
            "tcb-safe-path-{}-{:x}",
            std::process::id(),
            crate::config::random_u64()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let t = TempFile::create(&dir, "x.txt").unwrap();
        let tmp_path = t.path.clone();
        assert!(tmp_path.exists());
        drop(t);
        assert!(!tmp_path.exists());

        std::fs::write(dir.join("x.txt"), b"old").unwrap();
        let mut t = TempFile::create(&dir, "x.txt").unwrap();
        std::io::Write::write_all(t.file().unwrap(), b"new").unwrap();
        let at = t.persist(&dir, "x.txt", false).unwrap();
        assert_eq!(at, dir.join("x (1).txt"));
        assert_eq!(std::fs::read(dir.join("x.txt")).unwrap(), b"old");
        assert_eq!(std::fs::read(&at).unwrap(), b"new");

        let mut t = TempFile::create(&dir, "x.txt").unwrap();
        std::io::Write::write_all(t.file().unwrap(), b"newer").unwrap();
        let at = t.persist(&dir, "x.txt", true).unwrap();
        assert_eq!(std::fs::read(at).unwrap(), b"newer");
        let names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names.len(), 2, "no temporary file left: {names:?}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
