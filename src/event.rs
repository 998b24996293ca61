//! The event queue: server requests (new messages, chat changes...) and
//! connection life-cycle events, in arrival order.

use crate::connection::EventItem;
use crate::error::{Error, Result};
use crate::protocol::events::{decode_event_text, Event};
use crate::protocol::frame::FramePayload;
use crossbeam_channel::{Receiver, RecvTimeoutError, TryRecvError};
use std::time::Duration;

/// The receiving end of a client's events. Cheap to clone; clones share one
/// queue (each event goes to one reader).
///
/// Events are acknowledged to the server as soon as they are queued, and the
/// queue is unbounded, so a slow reader never stalls the connection.
///
/// An `Events` is itself an iterator: `for event in client.events()` waits
/// for each event and ends once the client is closed, as
/// [`iter`](Self::iter) does on a borrowed one.
#[derive(Debug, Clone)]
pub struct Events {
    rx: Receiver<EventItem>,
}

impl Events {
    pub(crate) fn new(rx: Receiver<EventItem>) -> Self {
        Events { rx }
    }

    fn decode(item: EventItem) -> Event {
        match item {
            EventItem::Wire { method, payload } => {
                decode_event_text(&method, payload.as_ref().map(FramePayload::get))
            }
            EventItem::Disconnected(reason) => Event::Disconnected { reason },
            EventItem::Reconnected => Event::Reconnected,
        }
    }

    /// Waits for the next event. Fails with [`Error::Closed`] once the client
    /// is closed (or keeps no events, see
    /// [`ClientBuilder::keep_events`](crate::ClientBuilder::keep_events))
    /// and the queue is empty.
    pub fn recv(&self) -> Result<Event> {
        self.rx.recv().map(Self::decode).map_err(|_| Error::Closed)
    }

    /// Waits up to `timeout`; `Ok(None)` when nothing arrived.
    pub fn recv_timeout(&self, timeout: Duration) -> Result<Option<Event>> {
        match self.rx.recv_timeout(timeout) {
            Ok(item) => Ok(Some(Self::decode(item))),
            Err(RecvTimeoutError::Timeout) => Ok(None),
            Err(RecvTimeoutError::Disconnected) => Err(Error::Closed),
        }
    }

    /// The next event if one is queued.
    pub fn try_recv(&self) -> Result<Option<Event>> {
        match self.rx.try_recv() {
            Ok(item) => Ok(Some(Self::decode(item))),
            Err(TryRecvError::Empty) => Ok(None),
            Err(TryRecvError::Disconnected) => Err(Error::Closed),
        }
    }

    /// How many events wait in the queue.
    pub fn len(&self) -> usize {
        self.rx.len()
    }

    /// Whether no event waits in the queue.
    pub fn is_empty(&self) -> bool {
        self.rx.is_empty()
    }

    /// Iterates until the client is closed.
    pub fn iter(&self) -> impl Iterator<Item = Event> + '_ {
        std::iter::from_fn(move || self.recv().ok())
    }

    /// Iterates until nothing arrives for `idle` (or the client closes).
    pub fn timeout_iter(&self, idle: Duration) -> impl Iterator<Item = Event> + '_ {
        std::iter::from_fn(move || self.recv_timeout(idle).ok().flatten())
    }
}

impl Iterator for Events {
    type Item = Event;
    /// Waits for the next event; `None` once the client is closed and the
    /// queue is empty.
    fn next(&mut self) -> Option<Event> {
        self.recv().ok()
    }
}
