//! The WebSocket driver shared by the client and the emulator.
//!
//! One I/O thread owns a [`Driver`]: it waits on socket readiness and on a
//! wake-up at once (edge-triggered epoll through mio), reads every available
//! frame on each turn, and writes what other threads queued.
//!
//! Other threads hold the [`Shared`] half. They queue frames with
//! [`Shared::enqueue_with`] and then try to write them out themselves: if the
//! socket lock is free, the caller writes and flushes on its own thread (no
//! hand-off to the I/O thread); if another thread holds it, the I/O thread
//! is woken and writes the queue after it. This "combining" fast path halves
//! the thread hand-offs of a round trip compared with routing every write
//! through the I/O thread, which is what bounds a blocking client's rate.
//!
//! A frame whose write returned `WouldBlock` is already queued inside
//! tungstenite (or rustls): it is never written again; the I/O thread just
//! flushes once the socket turns writable.

use super::stream::Stream;
use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token, Waker};
use std::io;
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, TryLockError};
use std::time::Duration;
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::protocol::CloseFrame;
use tungstenite::{Message, WebSocket};

const SOCKET: Token = Token(0);
const WAKE: Token = Token(1);
/// Frames read per turn before the lock is released for writers.
const READ_BATCH: usize = 256;

/// The half of a socket that any thread may use.
#[derive(Debug)]
pub struct Shared {
    ws: Mutex<WebSocket<Stream>>,
    outbox: Mutex<Vec<Message>>,
    waker: Waker,
    broken: AtomicBool,
}

/// What arrived in a turn, handed to the frame callback.
#[derive(Debug)]
pub enum Incoming<'a> {
    /// A text frame.
    Text(&'a str),
    /// A binary frame (not part of the protocol), with its length.
    Binary(usize),
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

/// What one turn observed.
#[derive(Debug, Default, Clone, Copy)]
pub struct Turn {
    /// Some frame (any kind, pings included) arrived.
    pub received: bool,
    /// The wake-up fired.
    pub woken: bool,
}

/// The I/O thread's half of a socket.
#[derive(Debug)]
pub struct Driver {
    poll: Poll,
    events: Events,
    shared: Arc<Shared>,
    /// The last turn stopped reading before `WouldBlock`.
    more_to_read: bool,
}

impl Shared {
    /// Queues frames under the queue lock, then writes them out (or has the
    /// I/O thread do it). `fill` runs under the lock, so anything it does
    /// (such as allocating request ids) is ordered like the frames it queues.
    pub fn enqueue_with<R>(&self, fill: impl FnOnce(&mut Vec<Message>) -> R) -> R {
        let r = fill(&mut lock(&self.outbox));
        self.write_out();
        r
    }

    /// Writes the queue now if the socket is free; otherwise wakes the I/O
    /// thread, which writes it after the current holder.
    pub fn write_out(&self) {
        match self.ws.try_lock() {
            Ok(mut ws) => {
                if let Err(e) = self.flush_locked(&mut ws) {
                    log::debug!("write failed: {e}");
                    self.broken.store(true, Ordering::Release);
                    self.wake();
                }
            }
            Err(TryLockError::WouldBlock) => self.wake(),
            Err(TryLockError::Poisoned(_)) => self.wake(),
        }
    }

    /// Wakes the I/O thread.
    pub fn wake(&self) {
        if let Err(e) = self.waker.wake() {
            log::warn!("cannot wake the I/O thread: {e}");
        }
    }

    /// Writes every queued frame and flushes. `WouldBlock` is not an error:
    /// the bytes stay buffered and the I/O thread flushes them when the
    /// socket turns writable.
    fn flush_locked(&self, ws: &mut WebSocket<Stream>) -> Result<(), LinkError> {
        let frames = std::mem::take(&mut *lock(&self.outbox));
        for frame in frames {
            match ws.write(frame) {
                Ok(()) => {}
                Err(tungstenite::Error::Io(e)) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(LinkError::from_ws(e)),
            }
        }
        match ws.flush() {
            Ok(()) => Ok(()),
            Err(tungstenite::Error::Io(e)) if e.kind() == io::ErrorKind::WouldBlock => Ok(()),
            Err(e) => Err(LinkError::from_ws(e)),
        }
    }

    /// Shuts the socket down both ways at once, without a close handshake:
    /// the connection is abandoned, and the peer sees it end now rather than
    /// when the last handle goes away.
    pub fn shutdown(&self) {
        let ws = lock(&self.ws);
        let _ = ws.get_ref().tcp().shutdown(std::net::Shutdown::Both);
    }

    /// Whether a writer on another thread saw the socket fail.
    pub fn is_broken(&self) -> bool {
        self.broken.load(Ordering::Acquire)
    }
}

impl Driver {
    /// Takes over an open, non-blocking WebSocket.
    pub fn new(ws: WebSocket<Stream>) -> io::Result<(Driver, Arc<Shared>)> {
        let poll = Poll::new()?;
        let fd = ws.get_ref().tcp().as_raw_fd();
        poll.registry().register(
            &mut SourceFd(&fd),
            SOCKET,
            Interest::READABLE | Interest::WRITABLE,
        )?;
        let waker = Waker::new(poll.registry(), WAKE)?;
        let shared = Arc::new(Shared {
            ws: Mutex::new(ws),
            outbox: Mutex::new(Vec::new()),
            waker,
            broken: AtomicBool::new(false),
        });
        let driver = Driver {
            poll,
            events: Events::with_capacity(8),
            shared: shared.clone(),
            // The upgrade may have buffered frames already: read first.
            more_to_read: true,
        };
        Ok((driver, shared))
    }

    /// Waits up to `timeout` for socket activity or a wake-up, then reads
    /// every available text frame into `on_frame` (which may queue replies in
    /// the vector it is given) and writes everything queued.
    pub fn turn(
        &mut self,
        timeout: Option<Duration>,
        mut on_frame: impl FnMut(Incoming<'_>, &mut Vec<Message>),
    ) -> Result<Turn, LinkError> {
        let mut turn = Turn::default();
        let wait = if self.more_to_read {
            Some(Duration::ZERO)
        } else {
            timeout
        };
        match self.poll.poll(&mut self.events, wait) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(LinkError::Io(e)),
        }
        turn.woken = self.events.iter().any(|e| e.token() == WAKE);
        if self.shared.is_broken() {
            return Err(LinkError::Io(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "a write failed",
            )));
        }
        let mut ws = lock(&self.shared.ws);
        let mut replies = Vec::new();
        let mut drained = false;
        for _ in 0..READ_BATCH {
            match ws.read() {
                Ok(msg) => {
                    turn.received = true;
                    match msg {
                        Message::Text(text) => {
                            on_frame(Incoming::Text(text.as_str()), &mut replies)
                        }
                        Message::Binary(data) => {
                            on_frame(Incoming::Binary(data.len()), &mut replies)
                        }
                        Message::Close(frame) => {
                            // tungstenite queued the close reply; send it.
                            let _ = ws.flush();
                            return Err(LinkError::Closed(frame));
                        }
                        Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => {}
                    }
                }
                Err(tungstenite::Error::Io(e)) if e.kind() == io::ErrorKind::WouldBlock => {
                    drained = true;
                    break;
                }
                Err(e) => return Err(LinkError::from_ws(e)),
            }
        }
        // With edge-triggered readiness a batch that stopped early must be
        // continued on the next turn without waiting for a new edge.
        self.more_to_read = !drained;
        if !replies.is_empty() {
            lock(&self.shared.outbox).extend(replies);
        }
        self.shared.flush_locked(&mut ws)?;
        Ok(turn)
    }

    /// Sends a WebSocket ping.
    pub fn ping(&self) {
        self.shared
            .enqueue_with(|q| q.push(Message::Ping(Vec::new().into())));
    }

    /// Closes cleanly: a close frame with `code`, then waits up to `linger`
    /// for the peer's close reply.
    pub fn close(&mut self, code: CloseCode, linger: Duration) {
        {
            let mut ws = lock(&self.shared.ws);
            let _ = self.shared.flush_locked(&mut ws);
            let _ = ws.close(Some(CloseFrame {
                code,
                reason: "".into(),
            }));
            let _ = ws.flush();
        }
        let deadline = std::time::Instant::now() + linger;
        while let Some(left) = deadline.checked_duration_since(std::time::Instant::now()) {
            if self.turn(Some(left), |_, _| {}).is_err() {
                break;
            }
        }
    }
}

/// Locks a mutex, recovering from poisoning (a panicking holder never leaves
/// these structures half-updated in a way that matters).
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}
