//! Waiting for a file that is still uploading to the server: subscribe to
//! its progress, wait for progress == size, unsubscribe.
//!
//! The server keeps progress subscriptions per connection, and reports sent
//! while the client is disconnected are lost. So when the client reconnects
//! during the wait (the progress watch is told: [`Watched::Relinked`]), the
//! wait subscribes again on the new connection and looks at the file's
//! state once more (the upload may have finished meanwhile), then goes on
//! waiting until the same deadline.

use super::error::FileError;
use crate::connection::{ProgressWatch, Watched};
use crate::error::{Error, Result, TimeoutKind};
use crate::protocol::methods::FileInfo;
use crate::protocol::FileReadyState;
use crate::time::deadline_after;
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
    /// When the connection drops during the wait, the wait goes on across
    /// the reconnection: on the new connection it subscribes again and asks
    /// for the file's state again (the upload may have finished while the
    /// client was disconnected). The first look at the file's state is
    /// bounded by the client's request timeout (so that a `timeout` of zero
    /// still looks); each request of the wait after it by that and by what
    /// is left of `timeout`. Unsubscribing does not wait for its answer.
    ///
    /// Progress events still reach [`Client::events`] as usual.
    pub fn wait_file_ready(&self, file_id: impl AsRef<str>, timeout: Duration) -> Result<FileInfo> {
        let file_id = file_id.as_ref();
        let deadline = deadline_after(timeout);
        let info = match classify(file_id, self.get_file_info(file_id)?)? {
            State::Ready(info) => return Ok(info),
            State::Waiting(info) => info,
        };
        log::debug!(
            "file {file_id} is still uploading ({} bytes); waiting up to {timeout:?}",
            info.size
        );
        // Watch before subscribing, so no progress report (and no new
        // connection) is missed.
        let watch = self.inner().watch_progress(file_id);
        let mut wait = Wait {
            client: self,
            file_id,
            watch: &watch,
            deadline,
            timeout,
            subscribed: false,
        };
        let waited = wait.run(info.size);
        if wait.subscribed_on_current_link() {
            // Sent without waiting for the answer: the wait is over (maybe
            // at its deadline), and a server that does not answer must not
            // stretch it.
            if let Err(e) = self.unsubscribe_file_progress_pending(file_id) {
                log::debug!("unsubscribing from the progress of {file_id}: {e}");
            }
        }
        waited
    }
}

/// One wait for a file: its deadline, and whether the current connection
/// holds a progress subscription for it.
struct Wait<'a> {
    client: &'a Client,
    file_id: &'a str,
    watch: &'a ProgressWatch,
    deadline: Instant,
    /// What a timeout error reports.
    timeout: Duration,
    /// `subscribeFileProgress` succeeded, and no reconnection was seen since.
    subscribed: bool,
}

impl Wait<'_> {
    /// Subscribes, then waits for the progress to reach the size (`size`
    /// is the last size seen), subscribing again after each reconnection.
    fn run(&mut self, mut size: u64) -> Result<FileInfo> {
        let mut subscribe = true;
        loop {
            if subscribe {
                subscribe = false;
                match self.subscribe()? {
                    Some(State::Ready(info)) => return Ok(info),
                    Some(State::Waiting(info)) => size = info.size,
                    // The next connection will be announced on the watch.
                    None => {}
                }
            }
            match self.watch.rx.recv_timeout(self.left()) {
                Ok(Watched::Progress(bytes)) if bytes >= size => {
                    if let Some(info) = self.settle()? {
                        return Ok(info);
                    }
                }
                Ok(Watched::Progress(bytes)) => {
                    log::trace!(
                        "file {}: {bytes} of {size} bytes on the server",
                        self.file_id
                    )
                }
                Ok(Watched::Relinked) => {
                    log::debug!(
                        "reconnected while waiting for file {}; subscribing again",
                        self.file_id
                    );
                    self.subscribed = false;
                    subscribe = true;
                }
                Err(RecvTimeoutError::Timeout) => return Err(self.timed_out()),
                // The client ended: closed, or stopped on its own (and
                // then says why, as every other call does).
                Err(RecvTimeoutError::Disconnected) => {
                    return Err(self.client.inner().closed_error())
                }
            }
        }
    }

    /// Subscribes on the current connection, then asks for the file's
    /// state: the upload may have ended before the subscription (or while
    /// disconnected). `None`: the connection was lost meanwhile.
    fn subscribe(&mut self) -> Result<Option<State>> {
        let client = self.bounded()?;
        match client.subscribe_file_progress(self.file_id) {
            Ok(_) => self.subscribed = true,
            Err(e) => {
                self.recover(e)?;
                return Ok(None);
            }
        }
        self.state()
    }

    /// The last report is in; the state may take a moment to follow: asks
    /// for it with growing pauses until it is READY. `None`: the
    /// connection was lost meanwhile.
    fn settle(&self) -> Result<Option<FileInfo>> {
        let mut pause = Duration::from_millis(10);
        loop {
            match self.state()? {
                Some(State::Ready(info)) => return Ok(Some(info)),
                Some(State::Waiting(_)) => {}
                None => return Ok(None),
            }
            if Instant::now() + pause > self.deadline {
                return Err(self.timed_out());
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_secs(1));
        }
    }

    /// The file's state. `None`: the connection was lost meanwhile.
    fn state(&self) -> Result<Option<State>> {
        let client = self.bounded()?;
        match client.get_file_info(self.file_id) {
            Ok(info) => classify(self.file_id, info).map(Some),
            Err(e) => self.recover(e).map(|()| None),
        }
    }

    /// A handle whose requests end by the deadline at the latest.
    fn bounded(&self) -> Result<Client> {
        let left = self.left();
        if left.is_zero() {
            return Err(self.timed_out());
        }
        Ok(self.client.with_timeout(left.min(self.client.timeout())))
    }

    /// Whether the wait goes on after a request failed with `e`: a
    /// connection lost is followed by a new one, announced on the watch; a
    /// request that timed out at the deadline is the wait timing out; any
    /// other error ends the wait.
    fn recover(&self, e: Error) -> Result<()> {
        match e {
            Error::ConnectionLost { method } => {
                log::debug!(
                    "{method} for file {} was cut off; waiting for the next connection",
                    self.file_id
                );
                Ok(())
            }
            Error::Timeout { .. } if self.left().is_zero() => Err(self.timed_out()),
            e => Err(e),
        }
    }

    fn left(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }

    fn timed_out(&self) -> Error {
        Error::Timeout {
            kind: TimeoutKind::FileReady,
            after: self.timeout,
        }
    }

    /// Whether the connection that took the subscription is still the
    /// current one, so unsubscribing means something. A subscription ends
    /// with its connection: none is left to end while disconnected (and
    /// waiting for a connection to send one would outlast the deadline),
    /// nor after a reconnection not yet taken in by [`Wait::run`].
    fn subscribed_on_current_link(&self) -> bool {
        self.subscribed
            && self.client.inner().is_connected()
            && !self
                .watch
                .rx
                .try_iter()
                .any(|w| matches!(w, Watched::Relinked))
    }
}
