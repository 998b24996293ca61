//! A one-shot reply slot: one allocation per request, and a parked thread
//! instead of a channel.
//!
//! A `crossbeam_channel::bounded(1)` per request allocated (and zeroed) an
//! array channel, and its receiver spun with `sched_yield` before sleeping;
//! in profiles of blocking calls both showed up beside the thread hand-offs.
//! A slot is a flag, a value and the waiting thread under one uncontended
//! mutex: filling it unparks the waiter only if one is parked.

use crate::transport::socket::lock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::thread::Thread;
use std::time::Instant;

/// A value delivered once, from any thread, to one waiter.
pub(crate) struct Slot<T> {
    /// Set (under the lock) when the value arrives; never cleared.
    filled: AtomicBool,
    state: Mutex<State<T>>,
}

struct State<T> {
    value: Option<T>,
    waiter: Waiter,
}

/// How the receiving thread waits.
enum Waiter {
    /// Not waiting (yet).
    None,
    /// Parked: unpark it.
    Parked(Thread),
    /// Reading the socket itself, asleep in its own epoll: whoever fills
    /// the slot from another thread must interrupt that wait.
    Leading,
}

/// What [`Slot::fill`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Filled {
    /// Delivered; a parked receiver was unparked.
    Delivered,
    /// Delivered to a receiver that leads the socket's reads: wake its
    /// epoll unless this thread is that leader.
    ToLeader,
    /// The slot was filled before; the value was dropped.
    Dropped,
}

impl<T> Slot<T> {
    pub(crate) fn new() -> Slot<T> {
        Slot {
            filled: AtomicBool::new(false),
            state: Mutex::new(State {
                value: None,
                waiter: Waiter::None,
            }),
        }
    }

    /// Whether the value arrived (it may have been taken since).
    pub(crate) fn is_filled(&self) -> bool {
        self.filled.load(Ordering::Acquire)
    }

    /// Delivers `value` and unparks the receiver, if it is parked. Only the
    /// first value counts; later ones are dropped.
    pub(crate) fn fill(&self, value: T) -> Filled {
        let waiter = {
            let mut state = lock(&self.state);
            if self.filled.load(Ordering::Relaxed) {
                return Filled::Dropped;
            }
            state.value = Some(value);
            self.filled.store(true, Ordering::Release);
            std::mem::replace(&mut state.waiter, Waiter::None)
        };
        match waiter {
            Waiter::Parked(thread) => {
                thread.unpark();
                Filled::Delivered
            }
            Waiter::Leading => Filled::ToLeader,
            Waiter::None => Filled::Delivered,
        }
    }

    /// Marks the receiver as leading (waiting in the socket's epoll rather
    /// than parked), or not any more. Must be set before the leader's first
    /// check of [`is_filled`](Self::is_filled).
    pub(crate) fn set_leading(&self, leading: bool) {
        let mut state = lock(&self.state);
        state.waiter = if leading && !self.is_filled() {
            Waiter::Leading
        } else {
            Waiter::None
        };
    }

    /// The value, if it arrived and was not taken yet.
    pub(crate) fn try_take(&self) -> Option<T> {
        if !self.is_filled() {
            return None;
        }
        lock(&self.state).value.take()
    }

    /// Parks until the value arrives or `deadline` passes.
    pub(crate) fn wait_until(&self, deadline: Instant) -> Option<T> {
        loop {
            {
                let mut state = lock(&self.state);
                if let Some(value) = state.value.take() {
                    return Some(value);
                }
                if self.filled.load(Ordering::Relaxed) {
                    return None; // taken before: a single waiter never gets here
                }
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    state.waiter = Waiter::None;
                    return None;
                }
                state.waiter = Waiter::Parked(std::thread::current());
            }
            // Spurious wake-ups (a stale unpark) just go round again.
            std::thread::park_timeout(deadline.saturating_duration_since(Instant::now()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::Duration;

    #[test]
    fn delivers_once_across_threads() {
        let slot = Arc::new(Slot::new());
        let filler = {
            let slot = slot.clone();
            std::thread::spawn(move || {
                // Fill only once the receiver is parked.
                while !matches!(lock(&slot.state).waiter, Waiter::Parked(_)) {
                    std::thread::yield_now();
                }
                assert_eq!(slot.fill(7), Filled::Delivered);
                assert_eq!(slot.fill(8), Filled::Dropped);
            })
        };
        let got = slot.wait_until(Instant::now() + Duration::from_secs(5));
        assert_eq!(got, Some(7));
        filler.join().unwrap();
        assert!(slot.is_filled());
        assert_eq!(slot.try_take(), None);
    }

    #[test]
    fn times_out_empty() {
        let slot: Slot<u8> = Slot::new();
        let start = Instant::now();
        assert_eq!(
            slot.wait_until(Instant::now() + Duration::from_millis(30)),
            None
        );
        assert!(start.elapsed() >= Duration::from_millis(30));
        slot.set_leading(true);
        assert_eq!(slot.fill(1), Filled::ToLeader);
        assert_eq!(slot.try_take(), Some(1));
    }
}
