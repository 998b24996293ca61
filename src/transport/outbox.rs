//! The queue of frames waiting to be written to a socket.
//!
//! Text frames are written back to back into one buffer, kept from batch to
//! batch, rather than allocated one by one: queuing a request costs no
//! allocation of its own, and the writer copies the whole batch into one
//! shared buffer that its frames are slices of (allocated and freed on the
//! writer's thread). Allocating a frame on the caller's thread and freeing
//! it on the writer's was, in profiles of pipelined requests, the main
//! source of lock contention inside the allocator.

use std::fmt;
use tungstenite::protocol::frame::coding::{Data, OpCode};
use tungstenite::protocol::frame::Frame;
use tungstenite::{Bytes, Message};

/// Frames waiting to be written, in order.
#[derive(Default)]
pub struct Outbox {
    /// The text (UTF-8) of the queued text frames, back to back.
    text: Vec<u8>,
    /// Every queued frame, in order.
    frames: Vec<Queued>,
    /// Some queued frame must go out now rather than with the next batch
    /// (see [`Outbox::mark_urgent`]).
    urgent: bool,
}

#[derive(Debug)]
enum Queued {
    /// A text frame ending at this offset of `text` (starting where the
    /// previous text frame ended).
    Text(usize),
    /// Any other frame, as it was given.
    Message(Message),
}

/// The text buffer is kept for the next batch up to this size.
const TEXT_KEEP: usize = 1 << 20;

impl fmt::Debug for Outbox {
    // Queued frames may carry secrets (the auth token): sizes only.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Outbox")
            .field("frames", &self.frames.len())
            .field("text_bytes", &self.text.len())
            .field("urgent", &self.urgent)
            .finish()
    }
}

impl Outbox {
    /// Queues a text frame that `write` appends to the buffer it is given,
    /// as UTF-8 (empty text is not a frame: nothing is queued then).
    pub fn push_text(&mut self, write: impl FnOnce(&mut Vec<u8>)) {
        let start = self.text.len();
        write(&mut self.text);
        if self.text.len() > start {
            self.frames.push(Queued::Text(self.text.len()));
        }
    }

    /// Queues any frame.
    pub fn push(&mut self, message: Message) {
        self.frames.push(Queued::Message(message));
    }

    /// Marks what is queued as due now: whoever holds the socket next
    /// writes it. Frames never marked wait for a writer that was asked to
    /// write the batch (or for the next urgent frame).
    /// Returns whether anything is queued.
    pub fn mark_urgent(&mut self) -> bool {
        self.urgent = !self.frames.is_empty();
        self.urgent
    }

    /// Whether some queued frame is due now.
    pub fn is_urgent(&self) -> bool {
        self.urgent
    }

    /// How many frames are queued.
    pub fn len(&self) -> usize {
        self.frames.len()
    }

    /// Takes every queued frame, in order, leaving the queue empty. The
    /// text is copied out (by the writing thread, which also frees it) and
    /// the buffer kept for the next batch.
    pub fn take(&mut self) -> impl Iterator<Item = Message> {
        self.urgent = false;
        let text = Bytes::copy_from_slice(&self.text);
        self.text.clear();
        if self.text.capacity() > TEXT_KEEP {
            self.text = Vec::new();
        }
        // The next batch is likely as long: room for it now, rather than
        // growing the list a step at a time again.
        let room = Vec::with_capacity(self.frames.len());
        let frames = std::mem::replace(&mut self.frames, room);
        let mut start = 0;
        frames.into_iter().map(move |frame| match frame {
            Queued::Text(end) => {
                let slice = text.slice(start..end);
                start = end;
                // A text frame as it is: the writers of `push_text` write
                // UTF-8, so it is not validated again.
                Message::Frame(Frame::message(slice, OpCode::Data(Data::Text), true))
            }
            Queued::Message(message) => message,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(outbox: &mut Outbox) -> Vec<String> {
        outbox
            .take()
            .map(|m| match m {
                Message::Frame(f) => {
                    assert_eq!(f.header().opcode, OpCode::Data(Data::Text));
                    assert!(f.header().is_final);
                    f.into_text().unwrap().to_string()
                }
                other => format!("{other:?}"),
            })
            .collect()
    }

    #[test]
    fn keeps_frames_in_order() {
        let mut q = Outbox::default();
        q.push_text(|t| t.extend_from_slice("{\"a\":1}".as_bytes()));
        q.push(Message::Ping(Bytes::new()));
        q.push_text(|t| t.extend_from_slice("{\"b\":\"é\"}".as_bytes()));
        q.push_text(|_| {});
        assert_eq!(q.len(), 3);
        assert!(!q.is_urgent());
        q.push_text(|t| t.extend_from_slice("{\"c\":3}".as_bytes()));
        assert!(q.mark_urgent() && q.is_urgent());
        assert_eq!(
            texts(&mut q),
            ["{\"a\":1}", "Ping(b\"\")", "{\"b\":\"é\"}", "{\"c\":3}"]
        );
        assert!(q.len() == 0 && !q.is_urgent());
        q.mark_urgent();
        assert!(!q.is_urgent(), "nothing queued is nothing due");
        q.push_text(|t| t.extend_from_slice("again".as_bytes()));
        assert_eq!(texts(&mut q), ["again"]);
    }
}
