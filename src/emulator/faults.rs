//! Fault injection: what a flaky network or server does to a bot.

use super::{session, Inner};
use crate::transport::socket::lock;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

/// The fault settings every connection consults.
#[derive(Debug, Default)]
pub(crate) struct FaultState {
    refuse: AtomicU64,
    drop_after_auth: AtomicU64,
    delay_micros: AtomicU64,
    download_pause_micros: AtomicU64,
    stalled: Mutex<bool>,
    unstalled: Condvar,
}

impl FaultState {
    /// Consumes one pending refusal, if any.
    pub(crate) fn take_refusal(&self) -> bool {
        self.refuse
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
    }

    /// Consumes one pending drop after a login, if any.
    pub(crate) fn take_drop_after_auth(&self) -> bool {
        self.drop_after_auth
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
    }

    /// How long WebSocket responses are held back.
    pub(crate) fn response_delay(&self) -> Duration {
        Duration::from_micros(self.delay_micros.load(Ordering::Relaxed))
    }

    /// The pause between the chunks of a file download.
    pub(crate) fn download_pause(&self) -> Duration {
        Duration::from_micros(self.download_pause_micros.load(Ordering::Relaxed))
    }

    /// Whether sessions have stopped reading.
    pub(crate) fn is_stalled(&self) -> bool {
        *lock(&self.stalled)
    }

    /// Blocks while stalled, until unstalled, `stop` or `killed` is set.
    pub(crate) fn wait_while_stalled(&self, stop: &AtomicBool, killed: &AtomicBool) {
        let mut stalled = lock(&self.stalled);
        while *stalled && !stop.load(Ordering::SeqCst) && !killed.load(Ordering::SeqCst) {
            stalled = match self
                .unstalled
                .wait_timeout(stalled, Duration::from_millis(100))
            {
                Ok((g, _)) => g,
                Err(p) => p.into_inner().0,
            };
        }
    }

    /// Wakes every session waiting in [`FaultState::wait_while_stalled`].
    pub(crate) fn wake_all(&self) {
        let _guard = lock(&self.stalled);
        self.unstalled.notify_all();
    }

    fn set_stalled(&self, on: bool) {
        *lock(&self.stalled) = on;
        self.unstalled.notify_all();
    }
}

/// Fault controls of a running emulator (from [`super::Emulator::faults`]).
/// The same faults are available over HTTP as
/// `POST /emulator/v1/faults/<name>` with a JSON body for parameters:
/// `drop_connections`, `refuse_next {"count": N}`,
/// `drop_after_auth {"count": N}`, `delay_responses {"millis": N}`,
/// `pace_downloads {"millis": N}`, `stall {"enabled": bool}`,
/// `send_malformed`, `send_unknown_event {"method": M}`, `expire_tokens`.
#[derive(Clone)]
pub struct Faults {
    inner: Arc<Inner>,
}

impl fmt::Debug for Faults {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Faults").finish_non_exhaustive()
    }
}

impl Faults {
    pub(crate) fn new(inner: Arc<Inner>) -> Faults {
        Faults { inner }
    }

    /// Drops every WebSocket connection at once, without a close frame, as
    /// a network failure would. (Plain HTTP connections stay open.)
    pub fn drop_connections(&self) {
        session::drop_all(&self.inner);
    }

    /// Refuses the next `n` HTTP requests (WebSocket upgrades included):
    /// the connection of each is closed without an answer as soon as its
    /// request head arrives (requests to the control API under
    /// `/emulator/` are not counted).
    pub fn refuse_next(&self, n: u64) {
        self.inner.faults.refuse.store(n, Ordering::SeqCst);
    }

    /// Drops the next `n` WebSocket sessions that log in right after the
    /// successful `auth` response is written (abruptly, without a close
    /// frame), as a server that accepts logins and then fails would. Failed
    /// logins are not counted. Zero cancels the ones still pending.
    pub fn drop_after_auth(&self, n: u64) {
        self.inner.faults.drop_after_auth.store(n, Ordering::SeqCst);
    }

    /// Holds back every WebSocket response by `delay` (zero: no delay).
    /// Requests still take effect at once, and events are not delayed.
    pub fn delay_responses(&self, delay: Duration) {
        self.inner
            .faults
            .delay_micros
            .store(micros(delay), Ordering::SeqCst);
    }

    /// Pauses `pause` between the 64 KiB chunks of every file download
    /// from now on (zero: no pause), as a slow link would: a test can catch
    /// a download half done.
    pub fn pace_downloads(&self, pause: Duration) {
        self.inner
            .faults
            .download_pause_micros
            .store(micros(pause), Ordering::SeqCst);
    }

    /// Stops (`true`) or resumes (`false`) reading from every WebSocket;
    /// events are still written while stalled.
    pub fn stall(&self, on: bool) {
        self.inner.faults.set_stalled(on);
        session::wake_all(&self.inner);
    }

    /// Sends a frame that is not valid JSON to every authenticated session.
    pub fn send_malformed(&self) {
        session::send_malformed_all(&self.inner);
    }

    /// Sends an event with this method (payload `{}`) to every
    /// authenticated session; it expects an ack like any event.
    pub fn send_unknown_event(&self, method: &str) {
        session::send_event_all(&self.inner, method, &serde_json::json!({}));
    }

    /// Expires every token issued so far: `auth` with one gets errorCode 203.
    pub fn expire_tokens(&self) {
        lock(&self.inner.tokens).expire_all();
    }
}

/// `d` in whole microseconds, saturating.
fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}
