//! The table of requests in flight: each request's entry holds its reply
//! once it arrives, until the caller takes it. The table also holds the
//! link new requests go out on, so that finding the link and registering a
//! request take one lock.
//!
//! Whoever reads a response fills its entry under the table's lock, and the
//! caller takes the reply out under the same lock: a request costs no
//! allocation of its own and no lock of its own. (A one-shot slot per
//! request, an `Arc` holding a mutex, cost an allocation, its reference
//! counts and a second lock per reply; with the link in this table too,
//! queuing and answering a pipelined request takes 0.03 µs less.)
//! A caller that must wait either parks (its entry names its thread, which
//! filling the entry unparks) or leads the socket's reads. Then its entry
//! says so: a thread that fills it while reading the same socket wakes the
//! leader's epoll, and whoever fails it (a lost link, the client closed)
//! wakes the leader of the link the entry names.

use crate::transport::socket::lock;
use std::collections::{hash_map, HashMap};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{Mutex, MutexGuard};
use std::thread::Thread;
use std::time::Instant;

/// Requests in flight by id, with their replies of type `T`, and the link
/// of type `L` that new requests go out on.
pub(crate) struct Replies<T, L> {
    table: Mutex<Table<T, L>>,
}

/// The entries, under the table's lock.
pub(crate) struct Table<T, L> {
    entries: HashMap<u64, Entry<T, L>, BuildHasherDefault<IdHasher>>,
    /// Entries whose reply has not arrived.
    unanswered: usize,
    /// Where new requests go out (`None`: wait for a link).
    pub(crate) link: Option<L>,
}

struct Entry<T, L> {
    /// The link the request went out on.
    generation: u64,
    state: State<T, L>,
}

enum State<T, L> {
    /// No reply yet; how the caller waits for it.
    Waiting(Waiter<L>),
    /// The reply, not taken yet.
    Answered(T),
}

/// How a caller waits for its reply.
enum Waiter<L> {
    /// Not waiting (yet).
    None,
    /// Parked: unpark it.
    Parked(Thread),
    /// Reading the socket of this link itself, asleep in its own epoll:
    /// whoever fills the entry from another thread must interrupt that
    /// wait.
    Leading(L),
}

/// What [`Replies::fill`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Filled {
    /// Delivered; a parked caller was unparked.
    Delivered,
    /// Delivered to a caller that leads the socket's reads: wake its epoll
    /// unless this thread is that leader.
    ToLeader,
    /// No such request (never sent, abandoned, or answered before): the
    /// reply was dropped.
    Unknown,
}

/// Hashes request ids (unique integers) with one multiplication.
#[derive(Default)]
pub(crate) struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

impl<T, L> Table<T, L> {
    /// Adds request `id`, sent on link `generation`, waiting for its reply.
    pub(crate) fn insert(&mut self, id: u64, generation: u64) {
        let entry = Entry {
            generation,
            state: State::Waiting(Waiter::None),
        };
        if let Some(old) = self.entries.insert(id, entry) {
            // Ids are never reused; keep the count right all the same.
            if matches!(old.state, State::Waiting(_)) {
                self.unanswered -= 1;
            }
        }
        self.unanswered += 1;
    }

    /// Whether any request still waits for its reply.
    pub(crate) fn any_unanswered(&self) -> bool {
        self.unanswered > 0
    }
}

impl<T, L> Replies<T, L> {
    pub(crate) fn new() -> Replies<T, L> {
        Replies {
            table: Mutex::new(Table {
                entries: HashMap::default(),
                unanswered: 0,
                link: None,
            }),
        }
    }

    /// The table, locked: to register a request together with other work
    /// done under the same lock.
    pub(crate) fn lock(&self) -> MutexGuard<'_, Table<T, L>> {
        lock(&self.table)
    }

    /// The link new requests go out on, if `accept` takes it.
    pub(crate) fn link_if(&self, accept: impl FnOnce(&L) -> bool) -> Option<L>
    where
        L: Clone,
    {
        self.lock()
            .link
            .as_ref()
            .filter(|link| accept(link))
            .cloned()
    }

    /// How many requests still wait for their reply.
    pub(crate) fn unanswered(&self) -> usize {
        self.lock().unanswered
    }

    /// Delivers the reply to request `id` and unparks its caller if it is
    /// parked. Only the first reply counts.
    pub(crate) fn fill(&self, id: u64, value: T) -> Filled {
        let waiter = {
            let mut table = self.lock();
            let Some(entry) = table.entries.get_mut(&id) else {
                return Filled::Unknown;
            };
            let waiter = match &mut entry.state {
                State::Waiting(waiter) => std::mem::replace(waiter, Waiter::None),
                State::Answered(_) => return Filled::Unknown,
            };
            entry.state = State::Answered(value);
            table.unanswered -= 1;
            waiter
        };
        wake(waiter)
    }

    /// Delivers a reply made by `value` to every request still waiting
    /// whose link `generation` is accepted by `on_link` (a connection lost,
    /// or the client closed), and unparks the parked callers. Returns the
    /// links whose reads a caller among them leads: their leader's epoll
    /// must be woken.
    pub(crate) fn fail_waiting(
        &self,
        on_link: impl Fn(u64) -> bool,
        value: impl Fn() -> T,
    ) -> Vec<L> {
        let waiters: Vec<Waiter<L>> = {
            let mut table = self.lock();
            let mut waiters = Vec::new();
            for entry in table.entries.values_mut() {
                if !on_link(entry.generation) {
                    continue;
                }
                if let State::Waiting(waiter) = &mut entry.state {
                    waiters.push(std::mem::replace(waiter, Waiter::None));
                    entry.state = State::Answered(value());
                }
            }
            table.unanswered -= waiters.len();
            waiters
        };
        waiters
            .into_iter()
            .filter_map(|waiter| match waiter {
                Waiter::Leading(link) => Some(link),
                parked => {
                    wake(parked);
                    None
                }
            })
            .collect()
    }

    /// Whether the reply to `id` arrived and was not taken yet.
    pub(crate) fn is_answered(&self, id: u64) -> bool {
        matches!(
            self.lock().entries.get(&id),
            Some(Entry {
                state: State::Answered(_),
                ..
            })
        )
    }

    /// The reply to `id`, if it arrived; the entry is gone then.
    pub(crate) fn take(&self, id: u64) -> Option<T> {
        take_answered(&mut self.lock(), id)
    }

    /// Marks the caller of `id` as leading the reads of `link` (waiting
    /// in its epoll rather than parked). Must be set before the leader's
    /// first check of [`is_answered`](Self::is_answered).
    pub(crate) fn set_leading(&self, id: u64, link: L) {
        if let Some(Entry {
            state: State::Waiting(waiter),
            ..
        }) = self.lock().entries.get_mut(&id)
        {
            *waiter = Waiter::Leading(link);
        }
    }

    /// Ends the leading of [`set_leading`](Self::set_leading) and takes the
    /// reply if it arrived.
    pub(crate) fn stop_leading(&self, id: u64) -> Option<T> {
        let mut table = self.lock();
        if let Some(Entry {
            state: State::Waiting(waiter),
            ..
        }) = table.entries.get_mut(&id)
        {
            *waiter = Waiter::None;
        }
        take_answered(&mut table, id)
    }

    /// Parks until the reply to `id` arrives or `deadline` passes.
    pub(crate) fn wait_until(&self, id: u64, deadline: Instant) -> Option<T> {
        loop {
            {
                let mut table = self.lock();
                let waiter = match table.entries.get_mut(&id) {
                    Some(Entry {
                        state: State::Waiting(waiter),
                        ..
                    }) => waiter,
                    Some(_) => return take_answered(&mut table, id),
                    None => return None, // taken or abandoned before
                };
                if Instant::now() >= deadline {
                    *waiter = Waiter::None;
                    return None;
                }
                *waiter = Waiter::Parked(std::thread::current());
            }
            // Spurious wake-ups (a stale unpark) just go round again.
            std::thread::park_timeout(deadline.saturating_duration_since(Instant::now()));
        }
    }

    /// Forgets request `id`: its reply, if it arrived meanwhile, is
    /// returned; a later one is dropped.
    pub(crate) fn abandon(&self, id: u64) -> Option<T> {
        let mut table = self.lock();
        let entry = table.entries.remove(&id)?;
        match entry.state {
            State::Answered(value) => Some(value),
            State::Waiting(_) => {
                table.unanswered -= 1;
                None
            }
        }
    }
}

/// Removes and returns the reply to `id` if it arrived.
fn take_answered<T, L>(table: &mut Table<T, L>, id: u64) -> Option<T> {
    match table.entries.entry(id) {
        hash_map::Entry::Occupied(entry) if matches!(entry.get().state, State::Answered(_)) => {
            match entry.remove().state {
                State::Answered(value) => Some(value),
                State::Waiting(_) => None,
            }
        }
        _ => None,
    }
}

/// Wakes a caller whose reply was delivered, if it is parked; says whether
/// it leads instead.
fn wake<L>(waiter: Waiter<L>) -> Filled {
    match waiter {
        Waiter::Parked(thread) => {
            thread.unpark();
            Filled::Delivered
        }
        Waiter::Leading(_) => Filled::ToLeader,
        Waiter::None => Filled::Delivered,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::Duration;

    fn is_parked(replies: &Replies<u8, ()>, id: u64) -> bool {
        matches!(
            replies.lock().entries.get(&id),
            Some(Entry {
                state: State::Waiting(Waiter::Parked(_)),
                ..
            })
        )
    }

    #[test]
    fn delivers_once_across_threads() {
        let replies: Arc<Replies<u8, ()>> = Arc::new(Replies::new());
        replies.lock().insert(1, 0);
        let filler = {
            let replies = replies.clone();
            std::thread::spawn(move || {
                // Fill only once the caller is parked.
                while !is_parked(&replies, 1) {
                    std::thread::yield_now();
                }
                assert_eq!(replies.fill(1, 7), Filled::Delivered);
                assert_eq!(replies.fill(1, 8), Filled::Unknown);
            })
        };
        let got = replies.wait_until(1, Instant::now() + Duration::from_secs(5));
        assert_eq!(got, Some(7));
        filler.join().unwrap();
        assert_eq!(replies.take(1), None, "taken once");
        assert_eq!(replies.unanswered(), 0);
        assert!(replies.lock().entries.is_empty());
    }

    #[test]
    fn times_out_empty_then_tells_a_leader() {
        let replies: Replies<u8, ()> = Replies::new();
        replies.lock().insert(1, 0);
        let start = Instant::now();
        assert_eq!(
            replies.wait_until(1, Instant::now() + Duration::from_millis(30)),
            None
        );
        assert!(start.elapsed() >= Duration::from_millis(30));
        replies.set_leading(1, ());
        assert!(!replies.is_answered(1));
        assert_eq!(replies.fill(1, 1), Filled::ToLeader);
        assert!(replies.is_answered(1));
        assert_eq!(replies.unanswered(), 0);
        assert_eq!(replies.stop_leading(1), Some(1));
        assert_eq!(replies.fill(2, 1), Filled::Unknown, "never sent");
    }

    #[test]
    fn failing_a_link_answers_only_its_waiting_requests() {
        let replies: Replies<&str, &str> = Replies::new();
        {
            let mut table = replies.lock();
            table.insert(1, 0);
            table.insert(2, 0);
            table.insert(3, 1);
            assert!(table.any_unanswered());
        }
        replies.fill(1, "answer");
        replies.set_leading(2, "link 0");
        assert_eq!(
            replies.fail_waiting(|g| g == 0, || "lost"),
            ["link 0"],
            "2 leads the reads of link 0"
        );
        assert_eq!(replies.unanswered(), 1);
        assert_eq!(replies.take(1), Some("answer"), "an answer stays");
        assert_eq!(replies.take(2), Some("lost"));
        assert_eq!(replies.take(3), None, "another link's call waits on");
        assert!(replies.fail_waiting(|_| true, || "closed").is_empty());
        assert_eq!(replies.abandon(3), Some("closed"));
        assert!(!replies.lock().any_unanswered());
    }

    #[test]
    fn an_abandoned_request_drops_its_late_reply() {
        let replies: Replies<u8, ()> = Replies::new();
        replies.lock().insert(1, 0);
        assert_eq!(replies.unanswered(), 1);
        assert_eq!(replies.abandon(1), None);
        assert_eq!(replies.unanswered(), 0);
        assert_eq!(replies.fill(1, 5), Filled::Unknown);
        assert!(replies.lock().entries.is_empty());
    }
}
