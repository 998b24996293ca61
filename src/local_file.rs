//! The local files a user names (a file to send, a CA file), opened without
//! ever blocking: a FIFO with no writer would hold `open` until one comes.

use std::fs::{File, Metadata, OpenOptions};
use std::io::{self, Read};
use std::os::fd::OwnedFd;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

/// Opens `path` for reading at once, whatever it names, and says what it
/// is. Reads of a regular file are not affected by the open being
/// non-blocking.
pub(crate) fn open(path: &Path) -> io::Result<(File, Metadata)> {
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)?;
    let metadata = file.metadata()?;
    Ok((file, metadata))
}

/// The whole of a regular file or a pipe (a FIFO, or `<(...)` in a shell)
/// of at most `limit` bytes; `Err` says why not in words. A FIFO that no
/// one writes to reads as empty.
pub(crate) fn read_small(path: &Path, limit: u64) -> Result<Vec<u8>, String> {
    let (file, metadata) = open(path).map_err(|e| e.to_string())?;
    let file = if metadata.is_file() {
        file
    } else if metadata.file_type().is_fifo() {
        // From here on a read waits for the writer, and ends when it does.
        let pipe = mio::unix::pipe::Receiver::from(OwnedFd::from(file));
        pipe.set_nonblocking(false).map_err(|e| e.to_string())?;
        File::from(OwnedFd::from(pipe))
    } else {
        return Err("not a regular file or a pipe".into());
    };
    let mut bytes = Vec::new();
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    if bytes.len() as u64 > limit {
        return Err(format!("larger than {} MiB", limit >> 20));
    }
    Ok(bytes)
}
