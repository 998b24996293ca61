//! Downloading files and previews: wait until the file is ready, stream
//! `GET downloadUrl` into a writer, verify the byte count.

use super::error::{FileError, Transfer};
use super::http;
use super::multipart::Progress;
use super::safe_path::{sanitize, TempFile};
use crate::error::{Error, Result, TimeoutKind};
use crate::Client;
use std::fmt;
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Bytes moved per read.
const CHUNK: usize = 64 * 1024;

/// What is downloaded: its URL, size and name.
struct Target {
    url: String,
    size: u64,
    name: String,
}

/// A download being prepared; from [`Client::file_download`].
#[must_use = "nothing is downloaded until to_writer(), to_dir() or to_file()"]
pub struct FileDownload<'a> {
    client: &'a Client,
    file_id: String,
    preview: Option<usize>,
    progress: Option<Progress<'a>>,
    ready_timeout: Duration,
    timeout: Duration,
    overwrite: bool,
}

impl fmt::Debug for FileDownload<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileDownload")
            .field("file_id", &self.file_id)
            .field("preview", &self.preview)
            .field("ready_timeout", &self.ready_timeout)
            .field("timeout", &self.timeout)
            .field("overwrite", &self.overwrite)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Downloads file `file_id` into `out` and returns the byte count
    /// (verified against the size the server reports). A file still
    /// uploading to the server is waited for up to the client's request
    /// timeout (see [`Client::wait_file_ready`]).
    pub fn download<W: Write + ?Sized>(
        &self,
        file_id: impl AsRef<str>,
        out: &mut W,
    ) -> Result<u64> {
        self.file_download(file_id.as_ref()).to_writer(out)
    }

    /// Downloads the first preview of file `file_id` into `out`.
    pub fn download_preview<W: Write + ?Sized>(
        &self,
        file_id: impl AsRef<str>,
        out: &mut W,
    ) -> Result<u64> {
        self.file_download(file_id.as_ref())
            .preview(0)
            .to_writer(out)
    }

    /// Downloads file `file_id` into directory `dir`, under the name the
    /// server reports made safe (never outside `dir`; an existing file is
    /// not replaced: `name (1).ext` is used instead). The file appears only
    /// when complete and verified. Returns its path.
    pub fn download_to_path(
        &self,
        file_id: impl AsRef<str>,
        dir: impl AsRef<Path>,
    ) -> Result<PathBuf> {
        self.file_download(file_id.as_ref()).to_dir(dir)
    }

    /// Starts a download with options (a preview, progress, timeouts).
    pub fn file_download(&self, file_id: impl Into<String>) -> FileDownload<'_> {
        FileDownload {
            client: self,
            file_id: file_id.into(),
            preview: None,
            progress: None,
            ready_timeout: self.timeout(),
            timeout: self.timeout(),
            overwrite: false,
        }
    }
}

impl<'a> FileDownload<'a> {
    /// Downloads the file's preview number `index` (0: the first) instead
    /// of the file.
    pub fn preview(mut self, index: usize) -> Self {
        self.preview = Some(index);
        self
    }

    /// Called as bytes arrive with `(bytes received, size)`; once with
    /// `(0, 0)` for an empty file.
    pub fn progress(mut self, progress: impl FnMut(u64, u64) + 'a) -> Self {
        self.progress = Some(Box::new(progress));
        self
    }

    /// How long to wait for a file still uploading to the server (default:
    /// the client's request timeout).
    pub fn ready_timeout(mut self, timeout: Duration) -> Self {
        self.ready_timeout = timeout;
        self
    }

    /// The longest the HTTP transfer may stall (no byte moving), and the
    /// longest wait for each answer (default: the client's request timeout).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// With [`to_dir`](FileDownload::to_dir): replace an existing file of
    /// the same name instead of picking a free `name (n)` (default: off).
    /// [`to_file`](FileDownload::to_file) always replaces the file it names.
    pub fn overwrite(mut self, overwrite: bool) -> Self {
        self.overwrite = overwrite;
        self
    }

    /// Downloads into `out`; returns the byte count. An error writing to
    /// `out` is [`Error::Io`].
    pub fn to_writer<W: Write + ?Sized>(mut self, out: &mut W) -> Result<u64> {
        let target = self.target()?;
        self.fetch(&target, out, Error::Io)
    }

    /// Downloads into directory `dir` (see [`Client::download_to_path`]).
    /// Local failures (the directory, a full disk) are [`FileError::Local`].
    pub fn to_dir(mut self, dir: impl AsRef<Path>) -> Result<PathBuf> {
        let dir = dir.as_ref();
        match std::fs::metadata(dir) {
            Ok(m) if m.is_dir() => {}
            Ok(_) => {
                let e = io::Error::new(io::ErrorKind::NotADirectory, "not a directory");
                return Err(FileError::local(dir, &e).into());
            }
            Err(e) => return Err(FileError::local(dir, &e).into()),
        }
        let target = self.target()?;
        let name = sanitize(&target.name);
        let temp = self.fetch_to_temp(&target, dir, &name)?;
        temp.persist(dir, &name, self.overwrite)
            .map_err(|e| FileError::local(dir, &e).into())
    }

    /// Downloads into the file `path`, creating or replacing it; returns
    /// the byte count. The bytes go to a temporary file beside it, which
    /// takes the name only once complete and verified: a failed or
    /// interrupted download leaves `path` as it was. A replaced file keeps
    /// its permissions (hard links to it keep the old content). A symbolic
    /// link is followed (the file it names is replaced or created); a
    /// read-only file, or anything that is not a regular file, is refused.
    /// Local failures are [`FileError::Local`].
    pub fn to_file(mut self, path: impl AsRef<Path>) -> Result<u64> {
        let (path, permissions) = replaceable_file(path.as_ref())?;
        let local = |e: &io::Error| Error::from(FileError::local(&path, e));
        let dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| local(&io::Error::other("not a file name")))?;
        let target = self.target()?;
        let mut temp = self.fetch_to_temp(&target, dir, name)?;
        if let Some(permissions) = &permissions {
            temp.set_permissions(permissions).map_err(|e| local(&e))?;
        }
        temp.persist(dir, name, true).map_err(|e| local(&e))?;
        Ok(target.size)
    }

    /// Fetches `target` into a new temporary file in `dir` (named after
    /// `name`), complete and flushed.
    fn fetch_to_temp(&mut self, target: &Target, dir: &Path, name: &str) -> Result<TempFile> {
        let at_dir = |e: io::Error| Error::from(FileError::local(dir, &e));
        let mut temp = TempFile::create(dir, name).map_err(at_dir)?;
        {
            let mut out = BufWriter::with_capacity(CHUNK, temp.file().map_err(at_dir)?);
            self.fetch(target, &mut out, at_dir)?;
            out.flush().map_err(at_dir)?;
        }
        Ok(temp)
    }

    /// Waits for the file and picks the file or the preview.
    fn target(&self) -> Result<Target> {
        let info = self
            .client
            .wait_file_ready(&self.file_id, self.ready_timeout)?;
        let no_url = || FileError::NoDownloadUrl {
            file_id: self.file_id.clone(),
        };
        match self.preview {
            None => Ok(Target {
                url: info.download_url.ok_or_else(no_url)?,
                size: info.size,
                name: info.name,
            }),
            Some(index) => {
                let preview =
                    info.previews
                        .into_iter()
                        .nth(index)
                        .ok_or_else(|| FileError::NoPreview {
                            file_id: self.file_id.clone(),
                            index,
                        })?;
                Ok(Target {
                    url: preview.download_url.ok_or_else(no_url)?,
                    size: preview.size,
                    name: preview.name,
                })
            }
        }
    }

    /// `GET` the target into `out`, counting and verifying the bytes.
    fn fetch<W: Write + ?Sized>(
        &mut self,
        target: &Target,
        out: &mut W,
        write_error: impl Fn(io::Error) -> Error,
    ) -> Result<u64> {
        let inner = self.client.inner();
        let url = if inner.config.rewrite_download_urls {
            inner.config.endpoint.rebase(&target.url)
        } else {
            target.url.clone()
        };
        let timeout = self.timeout;
        let mut response = inner
            .agent
            .get(&url)
            .config()
            .timeout_per_read(Some(crate::time::bounded(timeout)))
            .timeout_recv_response(Some(crate::time::bounded(timeout)))
            .build()
            .call()
            .map_err(|e| {
                http::transport_error(e, &url, inner.agent.limits(TimeoutKind::Http, timeout))
            })?;
        let status = response.status().as_u16();
        if status != 200 {
            let text = response
                .body_mut()
                .with_config()
                .limit(http::ERROR_BODY_LIMIT)
                .lossy_utf8(true)
                .read_to_string()
                .unwrap_or_default();
            return Err(http::refusal(Transfer::Download, status, &text, &url));
        }
        let expected = target.size;
        let mismatch = |actual| FileError::SizeMismatch {
            what: "the download",
            expected,
            actual,
        };
        let cut_short = |received| FileError::CutShort {
            what: "the download",
            received,
            expected,
        };
        if let Some(announced) = response.body().content_length() {
            if announced != expected {
                return Err(mismatch(announced).into());
            }
        }
        let mut body = http::UntilClosed::new(response.body_mut().as_reader(), inner);
        let mut buf = vec![0u8; CHUNK];
        let mut received = 0u64;
        loop {
            let n = match body.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(_) if body.stopped => return Err(Error::Closed),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if received < expected && is_cut_short(&e) => {
                    log::debug!("download of {} cut short: {e}", http::shown(&url));
                    return Err(cut_short(received).into());
                }
                Err(e) => return Err(http::body_error(e, timeout)),
            };
            let total = received + n as u64;
            if total > expected {
                return Err(mismatch(total).into());
            }
            out.write_all(&buf[..n]).map_err(&write_error)?;
            received = total;
            if let Some(progress) = self.progress.as_mut() {
                progress(received, expected);
            }
        }
        if received < expected {
            // The body ended as framed (by its length or its last chunk),
            // short: the server's answer, not a cut connection (which ends
            // the read with an error, above).
            return Err(mismatch(received).into());
        }
        if expected == 0 {
            if let Some(progress) = self.progress.as_mut() {
                progress(0, 0);
            }
        }
        out.flush().map_err(&write_error)?;
        Ok(received)
    }
}

/// The file a download to `path` writes (a symbolic link's target, even
/// one that does not exist yet), with the permissions of the regular file
/// it replaces; `None` when nothing is there yet.
fn replaceable_file(path: &Path) -> Result<(PathBuf, Option<std::fs::Permissions>)> {
    let local = |e: io::Error| Error::from(FileError::local(path, &e));
    let mut real = path.to_path_buf();
    for _ in 0..MAX_LINKS {
        match std::fs::symlink_metadata(&real) {
            Ok(m) if m.file_type().is_symlink() => {
                if names_an_open_file(&real) {
                    // `/dev/stdout`, `/proc/self/fd/1`: what the process
                    // has open, which a file renamed over its name would
                    // not reach (and the file it names would be replaced
                    // behind the back of whoever opened it).
                    let e = io::Error::new(
                        io::ErrorKind::InvalidInput,
                        "names a file descriptor of a process (/proc/PID/fd): write to the open file instead",
                    );
                    return Err(local(e));
                }
                let to = std::fs::read_link(&real).map_err(local)?;
                real = match real.parent() {
                    Some(dir) => dir.join(to),
                    None => to,
                };
            }
            Ok(m) if !m.is_file() => {
                let e = io::Error::new(io::ErrorKind::InvalidInput, "not a regular file");
                return Err(local(e));
            }
            Ok(m) if m.permissions().readonly() => {
                let e = io::Error::new(io::ErrorKind::PermissionDenied, "the file is read-only");
                return Err(local(e));
            }
            Ok(m) => return Ok((real, Some(m.permissions()))),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok((real, None)),
            Err(e) => return Err(local(e)),
        }
    }
    Err(local(io::Error::other("too many levels of symbolic links")))
}

/// Symbolic links followed before giving up (as the kernel's 40).
const MAX_LINKS: usize = 40;

/// Whether the symbolic link `link` is one of procfs' links to a process's
/// open files (`/proc/PID/fd/N`, also reached as `/dev/fd/N` or through
/// `/dev/stdout`).
fn names_an_open_file(link: &Path) -> bool {
    link.parent()
        .and_then(|dir| std::fs::canonicalize(dir).ok())
        .is_some_and(|dir| dir.starts_with("/proc") && dir.ends_with("fd"))
}

/// Whether a read error means the connection ended before the body did.
fn is_cut_short(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::UnexpectedEof
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe
    )
}
