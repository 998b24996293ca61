//! `send-file` and `download`: the files API with a progress bar on stderr.

use crate::args::{DownloadArgs, SendFileArgs};
use crate::failure::Failure;
use crate::output::emit;
use crate::progress::Progress;
use serde_json::json;
use std::fs::File;
use std::path::{Path, PathBuf};
use trueconf_bot::protocol::ParseMode;
use trueconf_bot::Client;

/// `send-file`, with its local files checked before connecting.
#[derive(Debug)]
pub struct SendFile {
    args: SendFileArgs,
    label: String,
}

impl SendFile {
    /// Checks that the file (and the preview) can be read.
    pub fn prepare(args: SendFileArgs) -> Result<SendFile, Failure> {
        readable_file(&args.path)?;
        if let Some(preview) = &args.preview {
            readable_file(preview)?;
        }
        let label = args
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        Ok(SendFile { args, label })
    }

    /// Uploads and sends; prints the sent message with its `fileId`.
    pub fn run(self, client: &Client) -> Result<(), Failure> {
        let SendFile { args, label } = self;
        let mut bar = Progress::new(&label);
        let mut upload = client
            .file_upload(args.chat_id)
            .path(&args.path)
            .progress(|sent, total| bar.update(sent, total));
        if let Some(caption) = args.caption {
            upload = upload.caption(caption, ParseMode::Text);
        }
        if let Some(preview) = &args.preview {
            upload = upload.preview_path(preview);
        }
        let sent = upload.send();
        bar.finish();
        emit(&sent?)
    }
}

fn readable_file(path: &Path) -> Result<(), Failure> {
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_file() => File::open(path)
            .map(drop)
            .map_err(|e| Failure::local(path, e)),
        Ok(_) => Err(Failure::local(path, "not a regular file")),
        Err(e) => Err(Failure::local(path, e)),
    }
}

/// Where a download goes.
#[derive(Debug)]
enum Destination {
    /// A directory: the server's file name, sanitised, never replacing a
    /// file already there.
    Dir(PathBuf),
    /// This file, created or replaced once the download is complete.
    File(PathBuf),
    /// Standard output (`-o -`), as the bytes arrive.
    Stdout,
}

/// `download`, with its destination checked before connecting.
#[derive(Debug)]
pub struct Download {
    file_id: String,
    to: Destination,
}

impl Download {
    /// Decides where the file goes: `-o DIR`, `-o FILE`, or the current
    /// directory.
    pub fn prepare(args: DownloadArgs) -> Result<Download, Failure> {
        let to = match args.output {
            None => Destination::Dir(PathBuf::from(".")),
            Some(path) if path == Path::new("-") => Destination::Stdout,
            Some(path) if path.is_dir() => Destination::Dir(path),
            // `dir/` names a directory, even one that is not there.
            Some(path) if path.as_os_str().as_encoded_bytes().ends_with(b"/") => {
                return Err(Failure::local(&path, "no such directory"));
            }
            Some(path) => {
                let parent = match path.parent() {
                    Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
                    _ => PathBuf::from("."),
                };
                if !parent.is_dir() {
                    return Err(Failure::local(&parent, "no such directory"));
                }
                if path.exists() && !path.is_file() {
                    return Err(Failure::local(&path, "not a regular file"));
                }
                Destination::File(path)
            }
        };
        Ok(Download {
            file_id: args.file_id,
            to,
        })
    }

    /// Downloads; prints `{"path","size"}` (nothing more when the file
    /// itself goes to stdout).
    pub fn run(self, client: &Client) -> Result<(), Failure> {
        let mut bar = Progress::new("download");
        let download = client
            .file_download(self.file_id)
            .progress(|got, total| bar.update(got, total));
        let (path, size) = match self.to {
            Destination::Dir(dir) => {
                let path = download.to_dir(&dir);
                bar.finish();
                let path = path?;
                let size = std::fs::metadata(&path)
                    .map_err(|e| Failure::local(&path, e))?
                    .len();
                // `./name` reads better as `name`.
                let path = match path.strip_prefix(".") {
                    Ok(relative) if dir == Path::new(".") => relative.to_path_buf(),
                    _ => path,
                };
                (path, size)
            }
            Destination::File(path) => {
                // Replaced only once the download is complete.
                let size = download.to_file(&path);
                bar.finish();
                (path, size?)
            }
            Destination::Stdout => {
                let sent = download.to_writer(&mut std::io::stdout().lock());
                bar.finish();
                return match sent {
                    Err(trueconf_bot::Error::Io(e))
                        if e.kind() == std::io::ErrorKind::BrokenPipe =>
                    {
                        Err(Failure::stdout_closed())
                    }
                    other => other.map(drop).map_err(Failure::from),
                };
            }
        };
        emit(&json!({ "path": path.to_string_lossy(), "size": size }))
    }
}
