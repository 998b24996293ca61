//! The WebSocket driver shared by the client and the emulator.
//!
//! # Design: combining writes, leader/follower reads, one I/O thread
//!
//! One I/O thread owns a [`Driver`] and the connection's life cycle. Other
//! threads hold the [`Shared`] half and do the socket work of their own
//! requests themselves, so that a blocking call costs the thread hand-offs
//! of a bare socket, not two more:
//!
//! - **Writes combine.** A caller queues its frame under the queue lock
//!   ([`Shared::enqueue_with`]) and, if the socket lock is free, writes and
//!   flushes the whole queue on its own thread. If the socket lock is taken,
//!   it just returns: every holder of the socket lock checks the queue again
//!   after unlocking ([`Shared::write_out`]), so the frame goes out with the
//!   holder's batch and nobody wakes the I/O thread to write.
//! - **Pipelined requests batch.** A request sent without waiting while
//!   others are in flight ([`Shared::queue_batched`]) joins a batch: the
//!   caller writes it when it waits or the batch is long; otherwise the I/O
//!   thread does. The first batch wakes the I/O thread, which writes it at
//!   once and then writes later batches on a clock ([`BATCH_TICK`], 1 ms),
//!   without being woken again, for as long as callers keep leaving them:
//!   many requests per `write`, and no wake-up per batch.
//! - **Reads are led.** A caller that waits for its response and finds the
//!   leader role free ([`Shared::try_lead`]; a blocking call takes it before
//!   sending) waits on the socket itself, in its own epoll instance, and
//!   reads and routes every frame that arrives until its response is in.
//!   Meanwhile the socket is *removed* from the I/O thread's epoll (an
//!   interest that stays registered, even `EPOLLPRI`, is still woken by
//!   TCP's data-ready callback), so a response wakes exactly one thread.
//!   When the leader leaves, input goes back to the I/O thread at once if a
//!   caller is parked (or frames wait in user-space buffers), otherwise
//!   after [`HAND_BACK_AFTER`] (1 ms) unless a caller leads again first:
//!   call after call from one thread then costs no `epoll_ctl` at all. Re-
//!   adding the socket reports input that is already waiting, so nothing is
//!   missed; a response read by another thread for a leader asleep in its
//!   epoll wakes it explicitly (its epoll sees the socket drained).
//! - **The I/O thread** waits on the socket and a wake-up at once, reads
//!   whatever no leader reads (events, responses of parked callers), writes
//!   batches, flushes writes that returned `WouldBlock` once the socket
//!   turns writable, pings, and handles failures, close and reconnects. A
//!   failure seen by another thread is recorded and the I/O thread is woken
//!   to act on it. Events are queued (unbounded) and acknowledged by whoever
//!   reads them, after queuing; nobody ever blocks on the application.
//!
//! # Why, in numbers
//!
//! `benches/roundtrip`, 2-core VM shared with other builds, ratios to raw
//! tungstenite on the same answering server in the same run:
//!
//! | design | 1 caller | 16 threads | `Pending` window 256 |
//! |---|---:|---:|---:|
//! | I/O thread reads, wakes callers through a `bounded(1)` channel | 0.47-0.62x | 0.8-0.9x | 0.12-0.2x of corked raw |
//! | + one-shot slots, combining writes, leaders, I/O epoll toggled per call | 0.55-0.71x | 1.3x | 0.2x |
//! | + lazy hand-back (no `epoll_ctl` per call), 8 KiB read buffer, batched pipelined writes | 0.73-0.84x | 2.3-2.5x | 0.34-0.44x of corked raw (2.5-2.9x raw flushing each request) |
//! | + payloads left in their frame, requests encoded into one outbox buffer, batches written once per wake, short reads count as drained, envelope scanned rather than parsed | 0.80-0.92x | 2.4-2.6x | 0.42-0.51x of corked raw (3.2-4.3x raw flushing each request) |
//! | + batches written on a 1 ms clock once the I/O thread is woken for one (a tenth of the wake-ups, 40% fewer `write`s) | | | +40% over the row above in paired runs |
//! | + a 16 KiB read-ahead under tungstenite ([`Stream`]; 16,000 `recv`s per million pipelined calls instead of 86,000) | | | +8% over the row above in paired runs (another VM) |
//! | + batches of up to 128 requests instead of 64, replies kept in the table of requests (no per-request slot), one lock to queue a request, the envelope's compact start read directly, no `errorCode` search in payloads without the key | 1.27-1.44x | 6.6-7.5x | 0.50-0.56x of corked raw (the calling thread at about 0.82 µs of CPU a call instead of 0.98, same VM) |
//!
//! What bounds it now: a blocking call makes three syscalls where the bare
//! socket makes two (`epoll_wait` instead of a blocking `recv`). With many
//! threads every call is one park and one unpark, and on a 2-vCPU VM each
//! wake-up costs several microseconds on both sides (about 7 µs of the
//! ~17 µs of CPU per call); spinning or yielding instead of parking was
//! measured slower, waking callers after letting go of the socket (so
//! that they write at once) too, and leaving reads to the I/O thread
//! whenever callers are parked made no difference. A scheduler trace
//! (`perf sched timehist`) of 16 callers shows where the time goes: the
//! leader wakes the callers of its read pass one by one, about 8 µs per
//! wake-up, on the same vCPU as the answering server, while the other vCPU
//! runs the woken callers and then idles until the server answers. Handing
//! the wake-ups on from woken caller to woken caller, so that both vCPUs
//! share them, was measured slower still. Pipelined calls pay
//! JSON encoding and decoding of typed requests and responses (about half
//! of the client's instructions per call) where the raw baseline writes
//! pre-serialised text and parses nothing.
//!
//! A frame whose write returned `WouldBlock` is already queued inside
//! tungstenite (or rustls): it is never written again; the I/O thread
//! watches for writability and flushes it.

use super::outbox::Outbox;
use super::stream::Stream;
use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Registry, Token, Waker};
use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, TryLockError};
use std::time::{Duration, Instant};
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::protocol::CloseFrame;
use tungstenite::{Message, WebSocket};

const SOCKET: Token = Token(0);
const WAKE: Token = Token(1);
/// Frames read per pass before the socket lock is released for writers.
const READ_BATCH: usize = 256;
/// Batched frames queued before the queuing thread writes them itself.
const BATCH_MAX: usize = 128;

/// The half of a socket that any thread may use.
#[derive(Debug)]
pub struct Shared {
    ws: Mutex<WebSocket<Stream>>,
    outbox: Mutex<Outbox>,
    /// Wakes the I/O thread.
    waker: Waker,
    /// The I/O thread's epoll, to switch what it watches the socket for.
    registry: Registry,
    fd: RawFd,
    interest: Mutex<Watch>,
    /// Mirrors of `Watch::leading` and `Watch::read_armed`, readable
    /// without the lock.
    leading_now: AtomicBool,
    armed_now: AtomicBool,
    /// Callers parked until someone else reads their response.
    parked: AtomicUsize,
    /// The leader's own epoll; holding the lock is leading.
    lead: Mutex<LeadPoll>,
    /// Interrupts the leader's wait (the connection is being torn down).
    lead_waker: Waker,
    /// A failure seen outside the I/O thread, for it to act on.
    failure: Mutex<Option<LinkError>>,
    failed: AtomicBool,
    /// Some frame arrived since the I/O thread last looked (any reader).
    activity: AtomicBool,
    /// A batch was left for the I/O thread, which has not written it yet.
    flush_asked: AtomicBool,
    /// The I/O thread writes batches on its [`BATCH_TICK`] clock: a batch
    /// left to it goes out at the next tick without waking it.
    batch_clock_on: AtomicBool,
    /// The last read pass stopped before `WouldBlock`: complete frames may
    /// wait in user-space buffers, where epoll cannot see them.
    undrained: AtomicBool,
    /// Epoll reported the peer's side closed (or an error): no edge follows
    /// the end of the stream, so reads must reach it (see
    /// [`Stream::read_to_the_end`]).
    peer_closed: AtomicBool,
}

/// What the I/O thread's epoll watches the socket for.
#[derive(Debug)]
struct Watch {
    /// A caller leads: it reads, the I/O thread does not watch for input.
    leading: bool,
    /// The I/O thread's epoll watches for input.
    read_armed: bool,
    /// When the last leader left without handing input back to the I/O
    /// thread (see [`HAND_BACK_AFTER`]).
    left_at: Option<Instant>,
    /// A flush returned `WouldBlock`: watch for writability.
    write_blocked: bool,
    /// The I/O thread sleeps at most `HAND_BACK_AFTER` at a time.
    ticking: bool,
    /// The registration in the I/O thread's epoll (`None`: not registered).
    current: Option<Interest>,
}

impl Watch {
    fn wanted(&self) -> Option<Interest> {
        // Not registered at all rather than registered for something else:
        // any interest that stays registered (even `EPOLLPRI`) is woken by
        // the socket's data-ready callback.
        match (self.read_armed, self.write_blocked) {
            (true, false) => Some(Interest::READABLE),
            (true, true) => Some(Interest::READABLE | Interest::WRITABLE),
            (false, true) => Some(Interest::WRITABLE),
            (false, false) => None,
        }
    }
}

/// Frames queued by [`Shared::queue_batched`] and not yet sent on their
/// way with [`Shared::send_queued`].
#[derive(Debug)]
#[must_use = "queued frames wait for `Shared::send_queued`"]
pub struct Queued {
    /// They may wait for the batch (rather than be written now).
    defer: bool,
}

/// How long input stays unwatched by the I/O thread after a leader left
/// with nobody else waiting. A caller that makes call after call takes the
/// lead again well within this, so the socket is not removed from and
/// added back to the I/O thread's epoll on every call (two `epoll_ctl`s);
/// an event that arrives meanwhile is read at most this late (plus one
/// tick), and a caller that has to park hands input back at once.
const HAND_BACK_AFTER: Duration = Duration::from_millis(1);

#[derive(Debug)]
struct LeadPoll {
    poll: Poll,
    events: Events,
}

/// What arrived, handed to the frame callback.
#[derive(Debug)]
pub enum Incoming {
    /// A text frame.
    Text(tungstenite::Utf8Bytes),
    /// A binary frame (not part of the protocol), with its length.
    Binary(usize),
}

/// What the frame callback may do besides reading a frame.
#[derive(Debug, Default)]
pub struct Sink {
    /// Replies to the frame just read, written to the socket before the
    /// next frame is read.
    replies: Vec<Message>,
    /// A response went to a caller that leads the reads from its own epoll:
    /// the pass interrupts that wait unless it is the leader's own.
    pub wake_leader: bool,
}

impl Sink {
    /// Replies (acknowledges) with the text `write` writes. The reply is
    /// written (buffered) on the socket right after the callback returns,
    /// before the next frame is read, and the reading thread holds the
    /// socket until it is: a request the application sends in reaction to
    /// what the reply answers goes out after it, and a close frame that
    /// follows goes out after it too.
    pub fn reply(&mut self, write: impl FnOnce(&mut Vec<u8>)) {
        let mut text = Vec::new();
        write(&mut text);
        match String::from_utf8(text) {
            Ok(text) => self.replies.push(Message::text(text)),
            Err(e) => log::error!("dropped a reply that is not UTF-8: {e}"),
        }
    }
}

/// Why a socket stopped.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    /// The peer closed the connection (with its close frame, if any).
    #[error("closed by peer{}", .0.as_ref().map(|c| format!(" ({} {})", c.code, c.reason)).unwrap_or_default())]
    Closed(Option<CloseFrame>),
    /// A frame exceeded the configured maximum size; the stream cannot be
    /// resynchronised.
    #[error("frame too large: {0}")]
    TooLarge(String),
    /// A WebSocket protocol violation by the peer.
    #[error("protocol error: {0}")]
    Protocol(String),
    /// The socket failed.
    #[error("socket error: {0}")]
    Io(#[from] io::Error),
}

impl LinkError {
    fn from_ws(e: tungstenite::Error) -> LinkError {
        use tungstenite::Error as E;
        match e {
            E::ConnectionClosed | E::AlreadyClosed => LinkError::Closed(None),
            E::Io(io) => LinkError::Io(io),
            E::Capacity(c) => LinkError::TooLarge(c.to_string()),
            other => LinkError::Protocol(other.to_string()),
        }
    }
}

fn is_would_block(e: &tungstenite::Error) -> bool {
    matches!(e, tungstenite::Error::Io(e) if e.kind() == io::ErrorKind::WouldBlock)
}

/// What one turn observed.
#[derive(Debug, Default, Clone, Copy)]
pub struct Turn {
    /// Some frame (any kind, pings included) arrived, on this thread or a
    /// leading caller's.
    pub received: bool,
    /// The wake-up fired.
    pub woken: bool,
}

/// How a [`Leader::run`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Led {
    /// `done()` turned true.
    Done,
    /// The deadline passed.
    TimedOut,
    /// The socket failed or was torn down; the I/O thread takes over.
    Failed,
}

/// One read pass: what it saw.
struct Pass {
    received: bool,
    /// Read until `WouldBlock`: nothing is left in user-space buffers.
    drained: bool,
}

/// The I/O thread's half of a socket.
#[derive(Debug)]
pub struct Driver {
    poll: Poll,
    events: Events,
    shared: Arc<Shared>,
    /// The last pass stopped reading before `WouldBlock`.
    more_to_read: bool,
    /// Writing batches on a [`BATCH_TICK`] clock: when the next batch is
    /// due. Set when a caller wakes this thread for a batch; cleared by a
    /// tick that finds none asked for.
    batch_clock: Option<Instant>,
}

/// How often the I/O thread writes the batches callers leave to it, once
/// woken for one: callers that keep queuing requests do not wake it again,
/// and each `write` carries what gathered in the meantime. (mio's epoll
/// waits in whole milliseconds: a shorter tick would be one anyway.)
const BATCH_TICK: Duration = Duration::from_millis(1);

impl Shared {
    /// Queues frames under the queue lock, then writes them out (or leaves
    /// them to the current socket holder). `fill` runs under the lock, so
    /// anything it does (such as allocating request ids) is ordered like
    /// the frames it queues.
    pub fn enqueue_with<R>(&self, fill: impl FnOnce(&mut Outbox) -> R) -> R {
        let r = {
            let mut outbox = lock(&self.outbox);
            let r = fill(&mut outbox);
            outbox.mark_urgent();
            r
        };
        self.write_out();
        r
    }

    /// Queues frames like [`enqueue_with`](Self::enqueue_with), but when
    /// `fill` returns `(_, true)` ("requests are in flight already") lets
    /// them gather into a batch instead of a `write` per frame: pipelined
    /// requests go out many per syscall. The batch is written by this
    /// thread when it is long ([`BATCH_MAX`]) or when the thread waits
    /// (leads), and otherwise by the I/O thread: the first batch wakes it
    /// and goes out at once, and while callers keep leaving batches it
    /// writes them every [`BATCH_TICK`] without being woken again.
    /// Such frames are not urgent: reading threads do not write them on
    /// their way (a `write` per read pass would split the batch again).
    ///
    /// Nothing is written or woken here: the caller passes the returned
    /// [`Queued`] to [`send_queued`](Self::send_queued) once it let go of
    /// its own locks.
    pub fn queue_batched<R>(&self, fill: impl FnOnce(&mut Outbox) -> (R, bool)) -> (R, Queued) {
        let mut outbox = lock(&self.outbox);
        let (r, defer) = fill(&mut outbox);
        let defer = defer && outbox.len() < BATCH_MAX;
        if !defer {
            outbox.mark_urgent();
        }
        (r, Queued { defer })
    }

    /// Sends frames queued by [`queue_batched`](Self::queue_batched) on
    /// their way: writes them now, or leaves them to the batch.
    pub fn send_queued(&self, queued: Queued) {
        if !queued.defer {
            self.write_out();
        } else if !self.flush_asked.load(Ordering::SeqCst)
            && !self.flush_asked.swap(true, Ordering::SeqCst)
            && !self.batch_clock_on.load(Ordering::SeqCst)
        {
            // Asked already: the I/O thread has yet to clear the flag, and
            // takes the queue (with these frames) after clearing it. Not
            // asked: this asks, then looks at `batch_clock_on`, while
            // `Driver::turn` stops the clock, then looks at `flush_asked`.
            // One of the two sees the other.
            self.wake();
        }
    }

    /// Writes the queue now if the socket is free. If another thread holds
    /// the socket, it writes the queue after its work: every holder checks
    /// the queue for urgent frames again after unlocking, through this
    /// function.
    pub fn write_out(&self) {
        loop {
            match self.ws.try_lock() {
                Ok(mut ws) => {
                    let r = self.flush_locked(&mut ws);
                    drop(ws);
                    if let Err(e) = r {
                        self.fail(e);
                        return;
                    }
                }
                Err(TryLockError::WouldBlock) => return,
                Err(TryLockError::Poisoned(_)) => {
                    self.fail(LinkError::Io(io::Error::other("a socket user panicked")));
                    return;
                }
            }
            // Locking the queue orders this check after any enqueue whose
            // `try_lock` above saw the socket taken by us.
            if !lock(&self.outbox).is_urgent() {
                return;
            }
        }
    }

    /// Wakes the I/O thread.
    pub fn wake(&self) {
        if let Err(e) = self.waker.wake() {
            log::warn!("cannot wake the I/O thread: {e}");
        }
    }

    /// Interrupts the current leader's wait, if any, so it sees what the
    /// I/O thread decided (e.g. its call failed with the connection).
    pub fn wake_leader(&self) {
        if let Err(e) = self.lead_waker.wake() {
            log::warn!("cannot wake the leading caller: {e}");
        }
    }

    /// Records a failure seen outside the I/O thread (or before it serves
    /// the link) and wakes it: its next turn reports the failure.
    pub fn fail(&self, e: LinkError) {
        match &e {
            // The peer's words may quote a secret: the I/O thread reports
            // them, without it.
            LinkError::Closed(_) => {
                log::debug!("socket closed by the peer, seen outside the I/O thread")
            }
            other => log::debug!("socket failed outside the I/O thread: {other}"),
        }
        lock(&self.failure).get_or_insert(e);
        self.failed.store(true, Ordering::Release);
        self.wake();
    }

    /// Writes every queued frame and flushes. `WouldBlock` is not an error:
    /// the bytes stay buffered and the I/O thread flushes them when the
    /// socket turns writable.
    fn flush_locked(&self, ws: &mut WebSocket<Stream>) -> Result<(), LinkError> {
        let frames = lock(&self.outbox).take();
        write_frames(ws, frames)?;
        match ws.flush() {
            Ok(()) => Ok(()),
            Err(e) if is_would_block(&e) => {
                self.watch(|w| w.write_blocked = true);
                Ok(())
            }
            Err(e) => Err(LinkError::from_ws(e)),
        }
    }

    /// Updates what the I/O thread's epoll watches the socket for.
    fn watch<R>(&self, change: impl FnOnce(&mut Watch) -> R) -> R {
        let mut w = lock(&self.interest);
        let r = change(&mut w);
        self.leading_now.store(w.leading, Ordering::SeqCst);
        self.armed_now.store(w.read_armed, Ordering::SeqCst);
        let wanted = w.wanted();
        if wanted != w.current {
            let fd = &mut SourceFd(&self.fd);
            let done = match (w.current, wanted) {
                (None, Some(i)) => self.registry.register(fd, SOCKET, i),
                (Some(_), Some(i)) => self.registry.reregister(fd, SOCKET, i),
                (Some(_), None) => self.registry.deregister(fd),
                (None, None) => Ok(()),
            };
            match done {
                Ok(()) => w.current = wanted,
                Err(e) => {
                    drop(w);
                    self.fail(LinkError::Io(e));
                }
            }
        }
        r
    }

    /// A caller is about to park until its response is read by someone
    /// else: make sure someone will read. Pair with [`Shared::unpark`].
    pub fn park(&self) {
        // Pairs with the leader's hand-over in `Leader::drop`: it clears
        // `leading_now`, then reads `parked`; this increments `parked`, then
        // reads `leading_now`. Sequentially consistent, so at least one of
        // the two sees the other and hands input to the I/O thread.
        self.parked.fetch_add(1, Ordering::SeqCst);
        if !self.armed_now.load(Ordering::SeqCst) && !self.leading_now.load(Ordering::SeqCst) {
            self.watch(|w| {
                if !w.leading {
                    w.read_armed = true;
                }
            });
        }
    }

    /// The parked caller of [`Shared::park`] is awake.
    pub fn unpark(&self) {
        self.parked.fetch_sub(1, Ordering::SeqCst);
    }

    /// Shuts the socket down both ways at once, without a close handshake:
    /// the connection is abandoned, and the peer sees it end now rather than
    /// when the last handle goes away. It is marked broken under the socket
    /// lock, like a failed read: a caller still leading stops rather than
    /// reading on (frames still queued in the kernel or in buffers would
    /// otherwise reach the application after the link was reported lost).
    pub fn shutdown(&self) {
        let ws = lock(&self.ws);
        self.failed.store(true, Ordering::Release);
        let _ = ws.get_ref().tcp().shutdown(std::net::Shutdown::Both);
    }

    /// Notes whether `events` report the peer's side of the socket closed
    /// (or an error): from then on every read pass reads to the end of the
    /// stream, which a short read would otherwise hide.
    fn note_peer_closed(&self, events: &Events) {
        let closed = events
            .iter()
            .any(|e| e.token() == SOCKET && (e.is_read_closed() || e.is_error()));
        if closed {
            self.peer_closed.store(true, Ordering::Release);
        }
    }

    /// Whether a thread other than the I/O thread saw the socket fail.
    pub fn is_broken(&self) -> bool {
        self.failed.load(Ordering::Acquire)
    }

    /// Reads every available frame into `on_frame` (up to a batch), then
    /// writes what it and others queued: everything if `write_all`,
    /// otherwise only if some of it is urgent.
    fn read_pass(
        &self,
        on_frame: &mut impl FnMut(Incoming, &mut Sink),
        leader: bool,
        write_all: bool,
    ) -> Result<Pass, LinkError> {
        let mut pass = Pass {
            received: false,
            drained: false,
        };
        let mut ws = lock(&self.ws);
        // A socket that failed is never read again: tungstenite's state
        // after an error (a frame over the limit, say) is not fit for it.
        if self.is_broken() {
            // The I/O thread reports why (a leader may have failed between
            // the I/O thread's own check and this pass); a leader just
            // stops, the reason is the I/O thread's to report.
            let recorded = if leader {
                None
            } else {
                lock(&self.failure).take()
            };
            return Err(recorded.unwrap_or_else(|| {
                LinkError::Io(io::Error::other("the connection failed already"))
            }));
        }
        // A short read of an earlier pass (one that stopped at the batch
        // limit) promised `WouldBlock` to a reader that waits for the next
        // edge; this pass may have been woken by that very edge.
        ws.get_mut().forget_short_read();
        if self.peer_closed.load(Ordering::Acquire) {
            ws.get_mut().read_to_the_end();
        }
        let mut sink = Sink::default();
        let mut replied = false;
        let mut result = Ok(());
        for _ in 0..READ_BATCH {
            match ws.read() {
                Ok(msg) => {
                    pass.received = true;
                    match msg {
                        Message::Text(text) => on_frame(Incoming::Text(text), &mut sink),
                        Message::Binary(data) => on_frame(Incoming::Binary(data.len()), &mut sink),
                        Message::Close(frame) => {
                            // tungstenite queued the close reply; send it.
                            let _ = ws.flush();
                            result = Err(LinkError::Closed(frame));
                            break;
                        }
                        Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => {}
                    }
                    if !sink.replies.is_empty() && !ws.can_write() {
                        // Our close frame is out: nothing may follow it.
                        log::debug!(
                            "dropped {} replies: the connection is closing",
                            sink.replies.len()
                        );
                        sink.replies.clear();
                    }
                    if !sink.replies.is_empty() {
                        replied = true;
                        if let Err(e) = write_frames(&mut ws, sink.replies.drain(..)) {
                            result = Err(e);
                            break;
                        }
                    }
                }
                Err(e) if is_would_block(&e) => {
                    pass.drained = true;
                    break;
                }
                Err(e) => {
                    result = Err(LinkError::from_ws(e));
                    break;
                }
            }
        }
        if pass.received {
            self.activity.store(true, Ordering::Relaxed);
        }
        // Marked under the socket lock, before any other reader can take
        // it. A leader's failure is recorded with the mark (`fail`), so
        // that the I/O thread, which acts on it, finds the reason too; the
        // I/O thread gets its own back.
        let mut result = match result {
            Err(e) if leader => {
                self.fail(e);
                Err(LinkError::Io(io::Error::other(
                    "reported to the I/O thread",
                )))
            }
            Err(e) => {
                self.failed.store(true, Ordering::Release);
                Err(e)
            }
            ok => ok,
        };
        self.undrained.store(!pass.drained, Ordering::Relaxed);
        let urgent = lock(&self.outbox).is_urgent();
        if result.is_ok() && (write_all || urgent || replied) {
            result = self.flush_locked(&mut ws);
        }
        drop(ws);
        if sink.wake_leader && !leader {
            // The leader's epoll saw the response arrive but may find the
            // socket drained by this pass: wake it explicitly.
            self.wake_leader();
        }
        result?;
        if lock(&self.outbox).is_urgent() {
            self.write_out();
        }
        Ok(pass)
    }
    /// Takes the leader role if it is free: from now on this thread reads
    /// the socket (through [`Leader::run`]) and the I/O thread stops
    /// watching it for input, until the returned guard drops. Taking the
    /// lead before sending a request means its response wakes only this
    /// thread.
    pub fn try_lead(&self) -> Option<Leader<'_>> {
        let poll = self.lead.try_lock().ok()?;
        self.watch(|w| {
            w.leading = true;
            w.left_at = None;
            w.read_armed = false;
        });
        Some(Leader {
            shared: self,
            poll: Some(poll),
            drained: true,
        })
    }
}

/// The leader role over a socket's reads; see [`Shared::try_lead`].
#[derive(Debug)]
pub struct Leader<'a> {
    shared: &'a Shared,
    poll: Option<MutexGuard<'a, LeadPoll>>,
    /// The last pass read until `WouldBlock`.
    drained: bool,
}

impl Leader<'_> {
    /// Waits on the socket and reads every frame into `on_frame` until
    /// `done()` holds or `deadline` passes.
    pub fn run(
        &mut self,
        deadline: Instant,
        done: impl Fn() -> bool,
        mut on_frame: impl FnMut(Incoming, &mut Sink),
    ) -> Led {
        let shared = self.shared;
        let Some(lead) = self.poll.as_mut() else {
            return Led::Failed;
        };
        // Nothing buffered in user space: whatever arrives (or arrived) is
        // reported by epoll, so wait before the first read rather than
        // paying a read that returns `WouldBlock`.
        let mut read = shared.undrained.load(Ordering::Relaxed);
        if !read && lock(&shared.outbox).mark_urgent() {
            // Batched requests must go out before this thread sleeps.
            shared.write_out();
        }
        loop {
            if shared.is_broken() {
                return Led::Failed;
            }
            if read {
                match shared.read_pass(&mut on_frame, true, true) {
                    Ok(pass) => self.drained = pass.drained,
                    // Recorded for the I/O thread already.
                    Err(_) => return Led::Failed,
                }
            }
            read = true;
            if done() {
                return Led::Done;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Led::TimedOut;
            }
            if !self.drained {
                // Complete frames may wait in user-space buffers, where
                // epoll cannot see them: read on before sleeping.
                continue;
            }
            let LeadPoll { poll, events } = &mut **lead;
            match poll.poll(events, Some(left)) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    shared.fail(LinkError::Io(e));
                    return Led::Failed;
                }
            }
            shared.note_peer_closed(events);
        }
    }
}

impl Drop for Leader<'_> {
    fn drop(&mut self) {
        // Hand input back to the I/O thread now if others wait for it (its
        // epoll reports input that is already waiting when the socket is
        // added back); otherwise after `HAND_BACK_AFTER`, unless this
        // thread leads again first.
        let drained = self.drained;
        let shared = self.shared;
        let wake = shared.watch(|w| {
            w.leading = false;
            shared.leading_now.store(false, Ordering::SeqCst);
            if shared.parked.load(Ordering::SeqCst) > 0 || !drained {
                w.read_armed = true;
                // Frames may wait in user-space buffers that epoll cannot
                // see: the I/O thread must read them now.
                !drained
            } else {
                w.left_at = Some(Instant::now());
                // The I/O thread must tick to hand input back in time.
                !w.ticking
            }
        });
        drop(self.poll.take());
        if wake {
            self.shared.wake();
        }
    }
}

impl Driver {
    /// Takes over an open, non-blocking WebSocket.
    pub fn new(mut ws: WebSocket<Stream>) -> io::Result<(Driver, Arc<Shared>)> {
        // Every reader here waits on edge-triggered epoll before reading
        // again.
        ws.get_mut()
            .assume_drained_after_short_reads(super::stream::READ_AHEAD);
        let poll = Poll::new()?;
        let fd = ws.get_ref().tcp().as_raw_fd();
        poll.registry()
            .register(&mut SourceFd(&fd), SOCKET, Interest::READABLE)?;
        let waker = Waker::new(poll.registry(), WAKE)?;
        let lead_poll = Poll::new()?;
        lead_poll
            .registry()
            .register(&mut SourceFd(&fd), SOCKET, Interest::READABLE)?;
        let lead_waker = Waker::new(lead_poll.registry(), WAKE)?;
        let shared = Arc::new(Shared {
            ws: Mutex::new(ws),
            outbox: Mutex::new(Outbox::default()),
            waker,
            registry: poll.registry().try_clone()?,
            fd,
            interest: Mutex::new(Watch {
                leading: false,
                read_armed: true,
                left_at: None,
                write_blocked: false,
                ticking: false,
                current: Some(Interest::READABLE),
            }),
            lead: Mutex::new(LeadPoll {
                poll: lead_poll,
                events: Events::with_capacity(4),
            }),
            lead_waker,
            failure: Mutex::new(None),
            failed: AtomicBool::new(false),
            activity: AtomicBool::new(false),
            leading_now: AtomicBool::new(false),
            armed_now: AtomicBool::new(true),
            parked: AtomicUsize::new(0),
            undrained: AtomicBool::new(true),
            flush_asked: AtomicBool::new(false),
            batch_clock_on: AtomicBool::new(false),
            peer_closed: AtomicBool::new(false),
        });
        let driver = Driver {
            poll,
            events: Events::with_capacity(8),
            shared: shared.clone(),
            // The upgrade may have buffered frames already: read first.
            more_to_read: true,
            batch_clock: None,
        };
        Ok((driver, shared))
    }

    /// Waits up to `timeout` for socket activity or a wake-up, then reads
    /// every available text frame into `on_frame` (which may queue replies in
    /// the vector it is given) and writes everything queued.
    pub fn turn(
        &mut self,
        timeout: Option<Duration>,
        mut on_frame: impl FnMut(Incoming, &mut Sink),
    ) -> Result<Turn, LinkError> {
        let mut turn = Turn::default();
        // While input is not watched here, tick to hand it back in time.
        let unwatched = self.shared.watch(|w| {
            if !w.read_armed && !w.leading {
                match w.left_at {
                    Some(at) if at.elapsed() < HAND_BACK_AFTER => {}
                    _ => {
                        w.read_armed = true;
                        w.left_at = None;
                    }
                }
            }
            w.ticking = !w.read_armed;
            w.ticking
        });
        let clock_on = self.batch_clock.is_some();
        self.shared.batch_clock_on.store(clock_on, Ordering::SeqCst);
        // A batch asked for while the clock ran (its last tick found none)
        // goes out now, before any longer sleep.
        let batch_due = !clock_on && self.shared.flush_asked.load(Ordering::SeqCst);
        let mut wait = if self.more_to_read || batch_due {
            Some(Duration::ZERO)
        } else if unwatched {
            Some(timeout.map_or(HAND_BACK_AFTER, |t| t.min(HAND_BACK_AFTER)))
        } else {
            timeout
        };
        if let Some(due) = self.batch_clock {
            let left = due.saturating_duration_since(Instant::now());
            wait = Some(wait.map_or(left, |w| w.min(left)));
        }
        match self.poll.poll(&mut self.events, wait) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(LinkError::Io(e)),
        }
        turn.woken = self.events.iter().any(|e| e.token() == WAKE);
        self.shared.note_peer_closed(&self.events);
        let writable = self
            .events
            .iter()
            .any(|e| e.token() == SOCKET && e.is_writable());
        if self.shared.is_broken() {
            return Err(lock(&self.shared.failure).take().unwrap_or_else(|| {
                LinkError::Io(io::Error::new(io::ErrorKind::BrokenPipe, "a write failed"))
            }));
        }
        if writable {
            // Flushed below; watch for writability again only if it blocks
            // again.
            self.shared.watch(|w| w.write_blocked = false);
        }
        // Batches: the wake-up for one writes it and starts the clock;
        // each tick writes what gathered since, and a tick with nothing
        // asked stops the clock.
        let batch = match self.batch_clock {
            Some(due) if Instant::now() >= due => {
                let asked = self.shared.flush_asked.swap(false, Ordering::AcqRel);
                self.batch_clock = asked.then(|| Instant::now() + BATCH_TICK);
                asked
            }
            Some(_) => false,
            None => {
                let asked = self.shared.flush_asked.swap(false, Ordering::AcqRel);
                if asked && turn.woken && !batch_due {
                    self.batch_clock = Some(Instant::now() + BATCH_TICK);
                }
                asked
            }
        };
        if self.events.is_empty() && !self.more_to_read {
            // A tick (or a timeout) with nothing to read: input belongs to
            // a leader (and is handed back at the start of the next turn),
            // or nothing arrived. A batch due goes out.
            if batch && lock(&self.shared.outbox).mark_urgent() {
                self.shared.write_out();
            }
            turn.received = self.shared.activity.swap(false, Ordering::Relaxed);
            return Ok(turn);
        }
        // Writing a batch, or able to write buffered bytes again.
        let write_all = batch || writable;
        let pass = self.shared.read_pass(&mut on_frame, false, write_all)?;
        // Frames read by leading callers count too.
        turn.received = self.shared.activity.swap(false, Ordering::Relaxed);
        // With edge-triggered readiness a pass that stopped early must be
        // continued on the next turn without waiting for a new edge.
        self.more_to_read = !pass.drained;
        Ok(turn)
    }

    /// Sends a WebSocket ping.
    pub fn ping(&self) {
        self.shared
            .enqueue_with(|q| q.push(Message::Ping(Vec::new().into())));
    }

    /// Closes cleanly: a close frame with `code`, then waits up to `linger`
    /// for the peer's close reply, handing frames that arrive meanwhile to
    /// `on_frame` (replies to them cannot be sent any more and are dropped).
    pub fn close(
        &mut self,
        code: CloseCode,
        linger: Duration,
        mut on_frame: impl FnMut(Incoming, &mut Sink),
    ) {
        {
            let mut ws = lock(&self.shared.ws);
            let _ = self.shared.flush_locked(&mut ws);
            let _ = ws.close(Some(CloseFrame {
                code,
                reason: "".into(),
            }));
            let _ = ws.flush();
        }
        let deadline = crate::time::deadline_after(linger);
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            if self.turn(Some(left), &mut on_frame).is_err() {
                break;
            }
        }
    }
}

/// Writes frames into the socket's buffers (a `write` happens only when
/// they fill up). `WouldBlock` is not an error: the frame is queued and
/// goes out with the next flush.
fn write_frames(
    ws: &mut WebSocket<Stream>,
    frames: impl IntoIterator<Item = Message>,
) -> Result<(), LinkError> {
    for frame in frames {
        match ws.write(frame) {
            Ok(()) => {}
            Err(e) if is_would_block(&e) => {}
            Err(e) => return Err(LinkError::from_ws(e)),
        }
    }
    Ok(())
}

/// Locks a mutex, recovering from poisoning (a panicking holder never leaves
/// these structures half-updated in a way that matters).
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::net::{Shutdown, TcpListener, TcpStream};
    use tungstenite::protocol::Role;

    /// Waits (bounded, on epoll) until the peer's FIN has reached `tcp`.
    fn until_read_closed(tcp: &TcpStream) {
        let mut poll = Poll::new().unwrap();
        let mut events = Events::with_capacity(4);
        let fd = tcp.as_raw_fd();
        poll.registry()
            .register(&mut SourceFd(&fd), SOCKET, Interest::READABLE)
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(!left.is_zero(), "the FIN never arrived");
            poll.poll(&mut events, Some(left)).unwrap();
            if events.iter().any(|e| e.is_read_closed()) {
                break;
            }
        }
        poll.registry().deregister(&mut SourceFd(&fd)).unwrap();
    }

    /// A non-blocking client socket and the server's end of it.
    fn loopback_pair() -> (TcpStream, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let tcp = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server, _) = listener.accept().unwrap();
        tcp.set_nonblocking(true).unwrap();
        (tcp, server)
    }

    #[test]
    fn a_socket_that_failed_is_not_read_again() {
        let (tcp, mut server) = loopback_pair();
        // A text frame of 100 bytes where 16 is the limit.
        let mut frame = vec![0x81, 100];
        frame.extend([b'x'; 100]);
        server.write_all(&frame).unwrap();
        let config = tungstenite::protocol::WebSocketConfig::default().max_frame_size(Some(16));
        let ws = WebSocket::from_raw_socket(Stream::plain(tcp), Role::Client, Some(config));
        let (mut driver, shared) = Driver::new(ws).unwrap();
        let failed = loop {
            match driver.turn(Some(Duration::from_secs(5)), |_, _| {}) {
                Ok(_) => continue,
                Err(e) => break e,
            }
        };
        assert!(matches!(failed, LinkError::TooLarge(_)), "{failed:?}");
        // A caller that leads now (before the I/O thread tears the link
        // down) gives up at once rather than reading a broken stream.
        assert!(shared.is_broken());
        let mut leader = shared.try_lead().expect("the lead is free");
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut frames = 0;
        assert_eq!(
            leader.run(deadline, || false, |_, _| frames += 1),
            Led::Failed
        );
        assert_eq!(frames, 0);
    }

    #[test]
    fn a_socket_that_was_shut_down_is_not_read_again() {
        let (tcp, mut server) = loopback_pair();
        let ws = WebSocket::from_raw_socket(Stream::plain(tcp), Role::Client, None);
        let (driver, shared) = Driver::new(ws).unwrap();
        // The link is torn down (an idle timeout, a refused session) with a
        // frame on its way: the I/O thread has given the link up and is
        // about to report it lost, so a caller still leading must not hand
        // the application anything more from it.
        drop(driver);
        server.write_all(&[0x81, 2, b'h', b'i']).unwrap();
        let mut peek = [0u8; 4];
        let deadline = Instant::now() + Duration::from_secs(5);
        let tcp = shared
            .ws
            .lock()
            .unwrap()
            .get_ref()
            .tcp()
            .try_clone()
            .unwrap();
        while tcp.peek(&mut peek).map_or(0, |n| n) < 4 {
            assert!(Instant::now() < deadline, "the frame never arrived");
        }
        shared.shutdown();
        assert!(shared.is_broken());
        let mut leader = shared.try_lead().expect("the lead is free");
        let mut frames = 0;
        assert_eq!(
            leader.run(deadline, || false, |_, _| frames += 1),
            Led::Failed
        );
        assert_eq!(frames, 0);
    }

    #[test]
    fn a_last_frame_that_arrives_with_the_fin_ends_the_link_at_once() {
        let (tcp, mut server) = loopback_pair();
        // A text frame, then the end of the stream without a close frame
        // (as a server that answers and drops the connection), both in the
        // receive queue before the driver first waits: one epoll edge for
        // both, and a short read for the frame.
        server.write_all(&[0x81, 2, b'h', b'i']).unwrap();
        server.shutdown(Shutdown::Write).unwrap();
        until_read_closed(&tcp);
        let ws = WebSocket::from_raw_socket(Stream::plain(tcp), Role::Client, None);
        let (mut driver, _shared) = Driver::new(ws).unwrap();

        let started = Instant::now();
        let mut frames = Vec::new();
        loop {
            let turn = driver.turn(Some(Duration::from_secs(5)), |incoming, _| {
                if let Incoming::Text(text) = incoming {
                    frames.push(text.as_str().to_owned());
                }
            });
            // Without a frame or wake-up to come, a turn that misses the
            // end waits its whole timeout.
            assert!(
                started.elapsed() < Duration::from_secs(4),
                "the end of the stream went unnoticed"
            );
            if turn.is_err() {
                break;
            }
        }
        assert_eq!(frames, ["hi"]);
    }
}
