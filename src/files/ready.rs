//! Waiting for a file that is still uploading to the server: subscribe to
//! its progress, wait for progress == size, unsubscribe.

use super::error::FileError;
use crate::error::{Error, Result, TimeoutKind};
use crate::protocol::methods::FileInfo;
use crate::protocol::FileReadyState;
use crate::Client;
use crossbeam_channel::RecvTimeoutError;
use std::time::{Duration, Instant};

/// What a `getFileInfo` answer means for a download.
enum State {
    Ready(FileInfo),
    Waiting(FileInfo),
}

fn classify(file_id: &str, info: FileInfo) -> Result<State> {
    match info.ready_state {
        FileReadyState::Ready => Ok(State::Ready(info)),
        FileReadyState::NotAvailable => Err(FileError::NotAvailable {
            file_id: file_id.to_string(),
        }
        .into()),
        // UPLOADING, or a state this library does not know: wait for it.
        _ => Ok(State::Waiting(info)),
    }
}

impl Client {
    /// The file's info once it is downloadable. A file still UPLOADING to
    /// the server is waited for up to `timeout`: the client subscribes to
    /// its upload progress, waits for the progress to reach the file's size
    /// ([`TimeoutKind::FileReady`] when it does not in time), then
    /// unsubscribes. A NOT_AVAILABLE file is [`FileError::NotAvailable`].
    ///
    /// Progress events still reach [`Client::events`] as usual.
    pub fn wait_file_ready(&self, file_id: &str, timeout: Duration) -> Result<FileInfo> {
        let deadline = crate::time::deadline_after(timeout);
        let info = match classify(file_id, self.get_file_info(file_id)?)? {
            State::Ready(info) => return Ok(info),
            State::Waiting(info) => info,
        };
        log::debug!(
            "file {file_id} is still uploading ({} bytes); waiting up to {timeout:?}",
            info.size
        );
        // Watch before subscribing, so no progress report is missed.
        let watch = self.inner().watch_progress(file_id);
        self.subscribe_file_progress(file_id)?;
        let waited = self.wait_watched(file_id, &watch.rx, deadline, timeout);
        if let Err(e) = self.unsubscribe_file_progress(file_id) {
            log::debug!("unsubscribing from the progress of {file_id}: {e}");
        }
        waited
    }

    fn wait_watched(
        &self,
        file_id: &str,
        progress: &crossbeam_channel::Receiver<u64>,
        deadline: Instant,
        timeout: Duration,
    ) -> Result<FileInfo> {
        let timed_out = || Error::Timeout {
            kind: TimeoutKind::FileReady,
            after: timeout,
        };
        // The upload may have ended between the first look and subscribing.
        let size = match classify(file_id, self.get_file_info(file_id)?)? {
            State::Ready(info) => return Ok(info),
            State::Waiting(info) => info.size,
        };
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match progress.recv_timeout(left) {
                Ok(bytes) if bytes >= size => break,
                Ok(bytes) => log::trace!("file {file_id}: {bytes} of {size} bytes on the server"),
                Err(RecvTimeoutError::Timeout) => return Err(timed_out()),
                Err(RecvTimeoutError::Disconnected) => return Err(Error::Closed),
            }
        }
        // The last report is in; the state may take a moment to follow.
        let mut pause = Duration::from_millis(10);
        loop {
            if let State::Ready(info) = classify(file_id, self.get_file_info(file_id)?)? {
                return Ok(info);
            }
            if Instant::now() + pause > deadline {
                return Err(timed_out());
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_secs(1));
        }
    }
}
