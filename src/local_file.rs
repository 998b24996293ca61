//! The local files a user names (a file to send, a CA file), opened without
//! ever blocking on a pipe: opening a FIFO that no one writes to would wait
//! for a writer for good, and reading a pipe whose writer never ends would
//! too.

use mio::unix::pipe::Receiver;
use mio::{Events, Interest, Poll, Token};
use std::fs::{File, OpenOptions};
use std::io::{self, Read};
use std::os::fd::OwnedFd;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;
use std::time::{Duration, Instant};

/// How long a pipe may stay silent before it ends.
const PIPE_WAIT: Duration = Duration::from_secs(10);

/// What a caller takes besides regular files.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Accept {
    /// Regular files only: anything else is not even opened (opening a
    /// FIFO as its reader would release, then break, a writer waiting
    /// there).
    Files,
    /// Regular files, FIFOs and pipes.
    FilesAndPipes,
}

/// What a path named, opened for reading.
pub(crate) enum Local {
    /// A regular file (blocking, as files are read), and its length.
    File(File, u64),
    /// A FIFO or a pipe (`<(...)` in a shell), not blocking.
    Pipe(Receiver),
    /// Anything else (a directory, a device, a socket, or a pipe where
    /// only files are taken): not opened.
    Other,
}

/// Opens `path` (following links) without waiting for a FIFO's writer.
/// What `accept` does not take is not even opened (unless the path changes
/// between the look and the open: then it is opened, non-blocking, and
/// still refused).
pub(crate) fn open(path: &Path, accept: Accept) -> io::Result<Local> {
    let kind = std::fs::metadata(path)?.file_type();
    let pipes = accept == Accept::FilesAndPipes;
    let taken = kind.is_file() || (pipes && kind.is_fifo());
    if !taken {
        return Ok(Local::Other);
    }
    let file = match OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
    {
        // Only a file under a lease refuses a non-blocking open; it is no
        // FIFO, so a plain open waits for the lease and nothing else.
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => File::open(path)?,
        other => other?,
    };
    // Looked at again: the path may name something else by now.
    let metadata = file.metadata()?;
    if pipes && metadata.file_type().is_fifo() {
        return Ok(Local::Pipe(Receiver::from(OwnedFd::from(file))));
    }
    if !metadata.is_file() {
        return Ok(Local::Other);
    }
    // Reads of a regular file block again, as usual (a few special files
    // would otherwise fail with `WouldBlock`). mio's pipe type only lends
    // its flag setter here, which works on any descriptor.
    let unblocked = Receiver::from(OwnedFd::from(file));
    unblocked.set_nonblocking(false)?;
    Ok(Local::File(
        File::from(OwnedFd::from(unblocked)),
        metadata.len(),
    ))
}

/// The whole of a regular file or a pipe of at most `limit` bytes; `Err`
/// says why not in words. A pipe may stay silent for at most
/// [`PIPE_WAIT`] (a FIFO's writer may come late) before it ends.
pub(crate) fn read_small(path: &Path, limit: u64) -> Result<Vec<u8>, String> {
    let mut bytes = Vec::new();
    match open(path, Accept::FilesAndPipes).map_err(|e| e.to_string())? {
        Local::File(file, _) => {
            file.take(limit.saturating_add(1))
                .read_to_end(&mut bytes)
                .map_err(|e| e.to_string())?;
        }
        Local::Pipe(pipe) => read_pipe(pipe, limit, &mut bytes).map_err(|e| e.to_string())?,
        Local::Other => return Err("not a regular file or a pipe".into()),
    }
    if bytes.len() as u64 > limit {
        return Err(format!("larger than {} MiB", limit >> 20));
    }
    Ok(bytes)
}

/// Reads `pipe` to its end into `bytes` (stopping past `limit`), waiting
/// up to [`PIPE_WAIT`] for each part of it.
fn read_pipe(mut pipe: Receiver, limit: u64, bytes: &mut Vec<u8>) -> io::Result<()> {
    let mut poll = Poll::new()?;
    let mut events = Events::with_capacity(2);
    poll.registry()
        .register(&mut pipe, Token(0), Interest::READABLE)?;
    let mut deadline = Instant::now() + PIPE_WAIT;
    // A FIFO read before any writer came reads as ended too: the end counts
    // only after some text, or once a writer has come and gone.
    let mut writer_gone = false;
    let mut chunk = [0u8; 8192];
    while bytes.len() as u64 <= limit {
        match pipe.read(&mut chunk) {
            Ok(0) if writer_gone || !bytes.is_empty() => return Ok(()),
            Ok(0) => {}
            Ok(n) => {
                bytes.extend_from_slice(&chunk[..n]);
                deadline = Instant::now() + PIPE_WAIT;
                continue;
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!(
                    "the pipe stayed silent for {} s without ending",
                    PIPE_WAIT.as_secs()
                ),
            ));
        }
        match poll.poll(&mut events, Some(left)) {
            Err(e) if e.kind() != io::ErrorKind::Interrupted => return Err(e),
            _ => writer_gone |= events.iter().any(|e| e.is_read_closed()),
        }
    }
    Ok(())
}
