//! Identifiers shaped like the real server's (40 hex digits for chats and
//! files, UUIDs for messages and tasks) and a strictly increasing clock.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Distinguishes worlds created in the same process, so ids never repeat
/// across emulators.
static WORLDS: AtomicU64 = AtomicU64::new(0);

/// A generator of unique identifiers (a counter mixed by splitmix64).
#[derive(Debug)]
pub(crate) struct IdGen {
    seed: u64,
    counter: u64,
}

fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl IdGen {
    /// A generator unique to this world.
    pub(crate) fn new() -> IdGen {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        let n = WORLDS.fetch_add(1, Ordering::Relaxed);
        IdGen {
            seed: splitmix(nanos ^ splitmix(n)),
            counter: 0,
        }
    }

    fn next(&mut self) -> (u64, u64) {
        self.counter += 1;
        // The counter in the low word keeps ids unique within the world.
        let hi = splitmix(self.seed ^ self.counter.rotate_left(17));
        (hi, self.counter ^ (self.seed & 0xFFFF_FFFF_0000_0000))
    }

    /// 40 hex digits, like chat ids and file ids.
    pub(crate) fn hex40(&mut self) -> String {
        let (hi, lo) = self.next();
        format!("{hi:016x}{:08x}{lo:016x}", splitmix(hi) as u32)
    }

    /// A UUID-shaped id, like message ids and upload task ids.
    pub(crate) fn uuid(&mut self) -> String {
        let (hi, lo) = self.next();
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            hi >> 32,
            (hi >> 16) & 0xFFFF,
            hi & 0xFFF,
            0x8000 | ((lo >> 48) & 0x3FFF),
            lo & 0xFFFF_FFFF_FFFF
        )
    }
}

/// Milliseconds since the epoch, strictly increasing per world so that
/// ordering by timestamp is never ambiguous.
#[derive(Debug, Default)]
pub(crate) struct Clock {
    last: u64,
}

impl Clock {
    /// The next timestamp: now, or one more than the previous one.
    pub(crate) fn now(&mut self) -> u64 {
        let wall = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        self.last = wall.max(self.last + 1);
        self.last
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn ids_are_unique_and_shaped() {
        let mut g = IdGen::new();
        let mut seen = HashSet::new();
        for _ in 0..1000 {
            let h = g.hex40();
            assert_eq!(h.len(), 40);
            assert!(h.chars().all(|c| c.is_ascii_hexdigit()));
            assert!(seen.insert(h));
            let u = g.uuid();
            assert_eq!(u.len(), 36);
            assert!(seen.insert(u));
        }
        let mut c = Clock::default();
        let (a, b) = (c.now(), c.now());
        assert!(b > a);
    }
}
