//! Connection settings, as built by [`ClientBuilder`](crate::ClientBuilder).

use crate::auth::{Credentials, Token};
use crate::transport::endpoint::Endpoint;
use crate::transport::tls::TlsOptions;
use std::time::Duration;

/// How the client reconnects after losing the connection.
#[derive(Debug, Clone, PartialEq)]
pub struct ReconnectPolicy {
    /// Reconnect at all. Without it a lost connection closes the client.
    pub enabled: bool,
    /// The first delay; it doubles after each failed attempt.
    pub initial_delay: Duration,
    /// The longest delay between attempts.
    pub max_delay: Duration,
    /// Give up after this many failed attempts in a row (`None`: never).
    pub max_attempts: Option<u32>,
}

impl Default for ReconnectPolicy {
    fn default() -> Self {
        ReconnectPolicy {
            enabled: true,
            initial_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(60),
            max_attempts: None,
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

    /// The delay before attempt `n` (0-based), with ±25 % jitter.
    pub fn delay(&self, attempt: u32) -> Duration {
        let base = self
            .initial_delay
            .saturating_mul(1u32.checked_shl(attempt.min(20)).unwrap_or(u32::MAX))
            .min(self.max_delay);
        let jitter = (random_u64() % 501) as f64 / 1000.0 + 0.75; // 0.75..=1.25
        base.mul_f64(jitter).min(self.max_delay)
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
    pub connect_timeout: Duration,
    pub auth_timeout: Duration,
    pub request_timeout: Duration,
    pub keepalive: Option<Duration>,
    pub idle_timeout: Option<Duration>,
    pub max_message_size: usize,
    pub reconnect: ReconnectPolicy,
    pub rewrite_download_urls: bool,
}
