//! Connection settings, as built by [`ClientBuilder`](crate::ClientBuilder).

use crate::auth::{Credentials, Token};
use crate::transport::endpoint::Endpoint;
use crate::transport::tls::TlsOptions;
use std::time::Duration;

/// How the client reconnects after losing the connection.
///
/// After a loss the client waits [`delay`](Self::delay)`(n)` and tries
/// again, where `n` counts the reconnect attempts in a row that failed so
/// far: `initial_delay` before the first, doubling up to `max_delay`.
///
/// An attempt fails when it cannot connect or log in, and also when the
/// connection it made is lost before it has proved stable, that is before
/// it stayed up for `stable_after` (see that field for how it is
/// measured). So a server that accepts the connection and the login and then
/// drops it at once is retried with growing delays, like one that refuses
/// it, and counts against `max_attempts` the same way. Once a connection
/// has stayed up for `stable_after`, the count starts again from zero: the
/// next loss is retried after `initial_delay`. The connection made by
/// [`ClientBuilder::connect`](crate::ClientBuilder::connect) is not a
/// reconnect attempt: however soon it is lost, the first reconnect waits
/// `initial_delay`.
#[derive(Debug, Clone, PartialEq)]
pub struct ReconnectPolicy {
    /// Reconnect at all. Without it a lost connection closes the client.
    pub enabled: bool,
    /// The first delay; it doubles after each failed attempt.
    pub initial_delay: Duration,
    /// The longest delay between attempts.
    pub max_delay: Duration,
    /// Give up after this many failed attempts in a row (`None`: never).
    /// Connections lost before `stable_after` count as failed attempts.
    pub max_attempts: Option<u32>,
    /// How much each delay is randomised either way, as a fraction of it
    /// (0.25: ±25 %; 0: exact delays). Spreads the reconnects of many bots
    /// after a server restart. Clamped to 0..=1.
    pub jitter: f64,
    /// How long a new connection must stay up to prove stable and reset the
    /// backoff (default 30 s, one keepalive interval). It is measured from
    /// the login to the loss; when the loss is the idle timeout (nothing
    /// received for a while), only up to the last frame received, since the
    /// connection was not known to work after that. Zero: every
    /// connection that logs in resets the backoff.
    pub stable_after: Duration,
}

/// The default [`ReconnectPolicy::stable_after`].
const STABLE_AFTER: Duration = Duration::from_secs(30);

impl Default for ReconnectPolicy {
    fn default() -> Self {
        ReconnectPolicy {
            enabled: true,
            initial_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(60),
            max_attempts: None,
            jitter: 0.25,
            stable_after: STABLE_AFTER,
        }
    }
}

impl ReconnectPolicy {
    /// Never reconnect.
    pub fn disabled() -> Self {
        ReconnectPolicy {
            enabled: false,
            ..ReconnectPolicy::default()
        }
    }

    /// Reconnects with this first delay, doubling up to `max_delay` (a
    /// `max_delay` below `initial_delay` is raised to it); the other
    /// settings as in the default policy (no attempt limit, ±25 % jitter,
    /// stable after 30 s).
    pub fn backoff(initial_delay: Duration, max_delay: Duration) -> Self {
        ReconnectPolicy {
            initial_delay,
            max_delay: max_delay.max(initial_delay),
            ..ReconnectPolicy::default()
        }
    }

    /// The same policy, giving up after `max` failed attempts in a row
    /// (`None`: never); connections lost before `stable_after` count as
    /// failed attempts.
    pub fn max_attempts(mut self, max: Option<u32>) -> Self {
        self.max_attempts = max;
        self
    }

    /// The same policy with another stable period (see the `stable_after`
    /// field).
    pub fn stable_after(mut self, after: Duration) -> Self {
        self.stable_after = after;
        self
    }

    /// Whether a connection that worked for `up` after logging in proved
    /// stable (it resets the backoff).
    pub(crate) fn is_stable(&self, up: Duration) -> bool {
        up >= self.stable_after
    }

    /// The same policy with another jitter fraction (see [`Self::jitter`]).
    pub fn jitter(mut self, fraction: f64) -> Self {
        self.jitter = fraction;
        self
    }

    /// The base delay before attempt `attempt` (0-based): `initial_delay`
    /// doubled `attempt` times, capped at `max_delay`.
    pub fn base_delay(&self, attempt: u32) -> Duration {
        self.initial_delay
            .saturating_mul(1u32 << attempt.min(31))
            .min(self.max_delay)
    }

    /// The delay before attempt `attempt` (0-based): the base delay with the
    /// jitter applied, never above `max_delay`.
    pub fn delay(&self, attempt: u32) -> Duration {
        let base = self.base_delay(attempt);
        let jitter = if self.jitter.is_finite() {
            self.jitter.clamp(0.0, 1.0)
        } else {
            0.0
        };
        // A uniform factor in [1 - jitter, 1 + jitter].
        let unit = (random_u64() >> 11) as f64 / (1u64 << 53) as f64;
        let factor = 1.0 - jitter + 2.0 * jitter * unit;
        // `mul_f64` panics on overflow (a `max_delay` near `Duration::MAX`).
        Duration::try_from_secs_f64(base.as_secs_f64() * factor)
            .unwrap_or(self.max_delay)
            .min(self.max_delay)
    }
}

/// A random number from the standard library's hasher seed.
pub(crate) fn random_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0),
    );
    h.finish()
}

/// Everything a connection needs to know.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub endpoint: Endpoint,
    pub ws_path: String,
    pub tls: TlsOptions,
    pub credentials: Option<Credentials>,
    pub token: Option<Token>,
    pub receive_unread: Option<bool>,
    pub receive_system_envelopes: Option<bool>,
    /// Events reach the application (otherwise acknowledged and dropped).
    pub keep_events: bool,
    pub connect_timeout: Duration,
    pub auth_timeout: Duration,
    pub request_timeout: Duration,
    pub keepalive: Option<Duration>,
    pub idle_timeout: Option<Duration>,
    pub max_message_size: usize,
    pub reconnect: ReconnectPolicy,
    pub rewrite_download_urls: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_the_cap() {
        let p = ReconnectPolicy::backoff(Duration::from_secs(1), Duration::from_secs(60));
        let bases: Vec<u64> = (0..9).map(|n| p.base_delay(n).as_secs()).collect();
        assert_eq!(bases, [1, 2, 4, 8, 16, 32, 60, 60, 60]);
        assert_eq!(p.base_delay(u32::MAX), Duration::from_secs(60));
        let exact = p.clone().jitter(0.0);
        assert_eq!(exact.delay(3), Duration::from_secs(8));
    }

    #[test]
    fn jitter_stays_in_bounds_and_varies() {
        let p = ReconnectPolicy::default();
        let delays: Vec<Duration> = (0..200).map(|_| p.delay(2)).collect();
        for d in &delays {
            assert!(
                *d >= Duration::from_secs(3) && *d <= Duration::from_secs(5),
                "{d:?}"
            );
        }
        let distinct: std::collections::HashSet<_> = delays.iter().collect();
        assert!(distinct.len() > 50, "jitter should spread delays");
        for d in (0..200).map(|_| p.delay(30)) {
            assert!(d <= p.max_delay && d >= Duration::from_secs(45), "{d:?}");
        }
        // Out-of-range fractions are clamped, NaN means none.
        assert!(p.clone().jitter(7.0).delay(0) <= Duration::from_secs(2));
        assert_eq!(p.clone().jitter(f64::NAN).delay(0), Duration::from_secs(1));
    }

    #[test]
    fn a_connection_is_stable_after_the_stable_period() {
        let p = ReconnectPolicy::default();
        assert_eq!(p.stable_after, Duration::from_secs(30));
        assert_eq!(
            ReconnectPolicy::backoff(Duration::from_millis(1), Duration::from_millis(2))
                .stable_after,
            Duration::from_secs(30)
        );
        assert!(!p.is_stable(Duration::from_secs(29)));
        assert!(p.is_stable(Duration::from_secs(30)));
        let quick = p.stable_after(Duration::from_millis(500));
        assert!(quick.is_stable(Duration::from_millis(500)));
        assert!(!quick.is_stable(Duration::from_millis(499)));
        // Zero: every connection that logs in resets the backoff.
        assert!(ReconnectPolicy::default()
            .stable_after(Duration::ZERO)
            .is_stable(Duration::ZERO));
    }

    #[test]
    fn huge_delays_do_not_panic() {
        let policy = ReconnectPolicy::backoff(Duration::MAX, Duration::MAX);
        for attempt in [0, 1, 30, u32::MAX] {
            assert!(policy.delay(attempt) <= Duration::MAX);
        }
    }
}
