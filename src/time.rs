//! Deadlines that never overflow, whatever durations users or servers give.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A horizon far enough to mean "never" (about 100 years).
const FOREVER: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

/// `now + d`, saturating at about 100 years from now.
pub(crate) fn deadline_after(d: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(d.min(FOREVER)).unwrap_or(now)
}

/// `d`, cut to about 100 years: a limit that any `Instant` can be moved
/// by. For libraries that add a timeout to the clock unchecked (ureq).
pub(crate) fn bounded(d: Duration) -> Duration {
    d.min(FOREVER)
}

/// `now + d` on the wall clock, or `None` when it does not fit.
pub(crate) fn system_after(d: Duration) -> Option<SystemTime> {
    SystemTime::now().checked_add(d)
}

/// The Unix time `secs`, or `None` when it does not fit.
pub(crate) fn unix_seconds(secs: u64) -> Option<SystemTime> {
    UNIX_EPOCH.checked_add(Duration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn huge_durations_saturate_instead_of_panicking() {
        assert!(deadline_after(Duration::MAX) > Instant::now());
        assert!(Instant::now().checked_add(bounded(Duration::MAX)).is_some());
        assert_eq!(bounded(Duration::from_secs(5)), Duration::from_secs(5));
        assert!(system_after(Duration::MAX).is_none());
        assert!(unix_seconds(u64::MAX).is_none());
        assert!(unix_seconds(2_000_000_000).is_some());
    }
}
