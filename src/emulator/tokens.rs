//! OAuth access tokens shaped like the JWTs current servers issue: three
//! base64url parts whose payload carries `exp` (seconds since the epoch).
//! Plus the emulator's small sources of randomness for ids.

use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A fresh unpredictable-enough 64-bit value (not for cryptography: the
/// emulator's tokens only need to be distinct and unguessable in tests).
pub(crate) fn random_u64() -> u64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    h.write_u128(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    h.finish()
}

/// `n` random lowercase hex digits.
pub(crate) fn random_hex(n: usize) -> String {
    let mut s = String::with_capacity(n + 16);
    while s.len() < n {
        s.push_str(&format!("{:016x}", random_u64()));
    }
    s.truncate(n);
    s
}

/// A random id in the UUID layout (8-4-4-4-12 hex digits).
pub(crate) fn uuid_like() -> String {
    let h = random_hex(32);
    format!(
        "{}-{}-4{}-a{}-{}",
        &h[0..8],
        &h[8..12],
        &h[13..16],
        &h[17..20],
        &h[20..32]
    )
}

/// `base + d`, saturating at about a century for durations too long to add.
pub(crate) fn later(base: Instant, d: Duration) -> Instant {
    const CENTURY: Duration = Duration::from_secs(100 * 365 * 24 * 3600);
    base.checked_add(d.min(CENTURY))
        .or_else(|| base.checked_add(Duration::from_secs(24 * 3600)))
        .unwrap_or(base)
}

/// Base64url without padding.
pub(crate) fn base64url(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        let chars = chunk.len() + 1;
        for i in 0..chars {
            out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
        }
    }
    out
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// What a presented token turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TokenCheck {
    /// Valid for this login.
    Valid(String),
    /// Never issued here.
    Unknown,
    /// Issued, but expired (or expired by the fault).
    Expired,
}

struct Issued {
    login: String,
    expires: Instant,
    revoked: bool,
}

/// The issued tokens.
pub(crate) struct Tokens {
    lifetime: Duration,
    issuer: String,
    issued: HashMap<String, Issued>,
}

impl fmt::Debug for Tokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the tokens themselves.
        f.debug_struct("Tokens")
            .field("lifetime", &self.lifetime)
            .field("issued", &self.issued.len())
            .finish()
    }
}

impl Tokens {
    /// Tokens valid for `lifetime`, issued by `server_name`.
    pub fn new(lifetime: Duration, server_name: &str) -> Tokens {
        Tokens {
            lifetime,
            issuer: server_name.to_owned(),
            issued: HashMap::new(),
        }
    }

    /// The lifetime in whole seconds, as `expires_in` reports it.
    pub fn lifetime_secs(&self) -> u64 {
        self.lifetime.as_secs()
    }

    /// Issues a token for `login`.
    pub fn issue(&mut self, login: &str) -> String {
        let now = unix_now();
        let exp = now.saturating_add(self.lifetime.as_secs_f64().ceil() as u64);
        let header = base64url(br#"{"alg":"HS256","typ":"JWT"}"#);
        let claims = serde_json::json!({
            "iss": self.issuer,
            "sub": login,
            "iat": now,
            "exp": exp,
            "jti": uuid_like(),
        });
        let payload = base64url(claims.to_string().as_bytes());
        let sig = base64url(random_hex(64).as_bytes());
        let token = format!("{header}.{payload}.{sig}");
        self.issued.insert(
            token.clone(),
            Issued {
                login: login.to_owned(),
                expires: later(Instant::now(), self.lifetime),
                revoked: false,
            },
        );
        token
    }

    /// Checks a presented token.
    pub fn check(&self, token: &str) -> TokenCheck {
        match self.issued.get(token) {
            None => TokenCheck::Unknown,
            Some(t) if t.revoked || Instant::now() >= t.expires => TokenCheck::Expired,
            Some(t) => TokenCheck::Valid(t.login.clone()),
        }
    }

    /// Expires every token issued so far.
    pub fn expire_all(&mut self) {
        for t in self.issued.values_mut() {
            t.revoked = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url_matches_known_vectors() {
        assert_eq!(base64url(b""), "");
        assert_eq!(base64url(b"f"), "Zg");
        assert_eq!(base64url(b"fo"), "Zm8");
        assert_eq!(base64url(b"foo"), "Zm9v");
        assert_eq!(base64url(b"foob"), "Zm9vYg");
        assert_eq!(base64url(&[0xfb, 0xff]), "-_8");
    }

    #[test]
    fn tokens_are_jwt_shaped_and_expire() {
        let mut t = Tokens::new(Duration::from_secs(3600), "emu.local");
        let tok = t.issue("bot");
        let parts: Vec<&str> = tok.split('.').collect();
        assert_eq!(parts.len(), 3);
        assert!(parts.iter().all(|p| !p.is_empty()
            && p.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')));
        assert_eq!(t.check(&tok), TokenCheck::Valid("bot".into()));
        assert_eq!(t.check("nope"), TokenCheck::Unknown);
        t.expire_all();
        assert_eq!(t.check(&tok), TokenCheck::Expired);
        let mut t = Tokens::new(Duration::ZERO, "emu.local");
        let tok = t.issue("bot");
        assert_eq!(t.check(&tok), TokenCheck::Expired);
    }

    #[test]
    fn ids_look_right() {
        let u = uuid_like();
        assert_eq!(u.len(), 36);
        assert_eq!(u.matches('-').count(), 4);
        assert_ne!(random_u64(), random_u64());
    }
}
