//! The OAuth token request and token handling.

use crate::error::{Error, Result, TimeoutKind};
use crate::secret::Secret;
use crate::transport::endpoint::Endpoint;
use serde::Deserialize;
use std::fmt;
use std::time::{Duration, SystemTime};

/// The token endpoint path.
pub const TOKEN_PATH: &str = "/bridge/api/client/v1/oauth/token";

/// An access token for the WebSocket `auth` request.
#[derive(Clone)]
pub struct Token {
    value: Secret,
    /// The token type announced by the server ("JWE" per the spec).
    pub token_type: String,
    /// When the token stops working, from the JWT `exp` claim or the OAuth
    /// `expires_in`, when known.
    pub expires_at: Option<SystemTime>,
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Token")
            .field("value", &self.value)
            .field("token_type", &self.token_type)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

impl Token {
    /// A ready token, e.g. from configuration. Its expiry is read from the
    /// JWT `exp` claim when the token is a JWT.
    pub fn new(value: impl Into<String>) -> Token {
        let value = value.into();
        let expires_at = jwt_expiry(&value);
        Token {
            value: Secret::new(value),
            token_type: "JWE".into(),
            expires_at,
        }
    }

    /// The token text.
    pub fn expose(&self) -> &str {
        self.value.expose()
    }

    /// Whether the token expires within `margin` from now.
    pub fn expires_within(&self, margin: Duration) -> bool {
        match self.expires_at {
            // A margin beyond the representable future covers any expiry.
            Some(at) => crate::time::system_after(margin).is_none_or(|limit| at <= limit),
            None => false,
        }
    }
}

/// Reads the `exp` claim (seconds since the epoch) of a JWT-shaped token.
pub fn jwt_expiry(token: &str) -> Option<SystemTime> {
    let mut parts = token.split('.');
    let (_header, payload) = (parts.next()?, parts.next()?);
    parts.next()?;
    let trimmed = payload.trim_end_matches('=');
    let bytes = data_encoding::BASE64URL_NOPAD
        .decode(trimmed.as_bytes())
        .ok()?;
    #[derive(Deserialize)]
    struct Claims {
        #[serde(default, deserialize_with = "crate::protocol::lenient::opt_u64_any")]
        exp: Option<u64>,
    }
    let claims: Claims = serde_json::from_slice(&bytes).ok()?;
    // An `exp` too far out to represent means "no known expiry".
    crate::time::unix_seconds(claims.exp?)
}

/// Login and password of the bot's account.
#[derive(Clone)]
pub struct Credentials {
    /// The login (`bot`, `bot@server`, `domain\\bot`...).
    pub username: String,
    /// The password.
    pub password: Secret,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &self.password)
            .finish()
    }
}

/// Builds the HTTP agent that every HTTP call of a client uses. It follows
/// no redirect: the token endpoint and the file URLs answer directly, and a
/// redirect to another host would take a download (or hand over a token)
/// there. A 3xx is reported with its status like any other answer.
pub fn http_agent(tls: &crate::transport::tls::TlsOptions, timeout: Duration) -> ureq::Agent {
    ureq::Agent::config_builder()
        .tls_config(tls.ureq_config())
        .timeout_connect(Some(crate::time::bounded(timeout)))
        .http_status_as_error(false)
        .max_redirects(0)
        .user_agent(concat!("trueconf-bot-rs/", env!("CARGO_PKG_VERSION")))
        .build()
        .into()
}

/// The HTTP agent (token requests, files), built on first use.
///
/// Building one copies every trusted root certificate (system and WebPKI,
/// a few hundred KiB): doing it at connect time made each idle client cost
/// ~300 KiB and a third of the connect time, though a client authenticated
/// with a token may never make an HTTP call. Dereferences to the agent.
pub struct LazyAgent {
    tls: crate::transport::tls::TlsOptions,
    timeout: Duration,
    agent: std::sync::OnceLock<ureq::Agent>,
}

impl LazyAgent {
    /// An agent with these trust settings and connect timeout, once used.
    pub fn new(tls: &crate::transport::tls::TlsOptions, timeout: Duration) -> LazyAgent {
        LazyAgent {
            tls: tls.clone(),
            timeout,
            agent: std::sync::OnceLock::new(),
        }
    }

    /// The limits of a call of `kind` with its own `timeout`.
    pub fn limits(&self, kind: TimeoutKind, timeout: Duration) -> HttpLimits {
        HttpLimits {
            kind,
            timeout,
            connect: self.timeout,
        }
    }
}

impl std::ops::Deref for LazyAgent {
    type Target = ureq::Agent;
    fn deref(&self) -> &ureq::Agent {
        self.agent
            .get_or_init(|| http_agent(&self.tls, self.timeout))
    }
}

impl std::fmt::Debug for LazyAgent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LazyAgent")
            .field("built", &self.agent.get().is_some())
            .finish()
    }
}

/// The limits an HTTP call runs under, for naming the one that fired.
#[derive(Debug, Clone, Copy)]
pub struct HttpLimits {
    /// What the call is: [`TimeoutKind::Auth`] for a token request,
    /// [`TimeoutKind::Http`] for a transfer.
    pub kind: TimeoutKind,
    /// The call's own limit.
    pub timeout: Duration,
    /// The agent's limit on connecting (name lookup, TCP, TLS).
    pub connect: Duration,
}

/// Maps a ureq error to the crate's error.
pub fn http_error(e: ureq::Error, url: &str, limits: HttpLimits) -> Error {
    match e {
        ureq::Error::Timeout(ureq::Timeout::Resolve | ureq::Timeout::Connect) => Error::Timeout {
            kind: TimeoutKind::Connect,
            after: limits.connect,
        },
        ureq::Error::Timeout(_) => Error::Timeout {
            kind: limits.kind,
            after: limits.timeout,
        },
        ureq::Error::Io(io) => match crate::transport::tls::classify_io(io) {
            Error::Io(io) => Error::Connect(format!("{url}: {io}")),
            other => other,
        },
        ureq::Error::Rustls(tls) => Error::Tls(crate::transport::tls::describe(&tls)),
        ureq::Error::Tls(msg) => Error::Tls(msg.to_string()),
        ureq::Error::HostNotFound => Error::Connect(format!("{url}: host not found")),
        ureq::Error::ConnectionFailed => Error::Connect(format!("{url}: connection failed")),
        // ureq may quote the URL (a bad one, say) with its query.
        other => Error::Connect(format!(
            "{url}: {}",
            crate::secret::redact(&other.to_string())
        )),
    }
}

/// Requests a token with the password grant.
pub fn request_token(
    agent: &LazyAgent,
    endpoint: &Endpoint,
    credentials: &Credentials,
    timeout: Duration,
) -> Result<Token> {
    let limits = agent.limits(TimeoutKind::Auth, timeout);
    let url = endpoint.http_url(TOKEN_PATH);
    let body = serde_json::json!({
        "client_id": "chat_bot",
        "grant_type": "password",
        "username": credentials.username,
        "password": credentials.password.expose(),
    })
    .to_string();
    let mut response = agent
        .post(&url)
        .config()
        .timeout_global(Some(crate::time::bounded(timeout)))
        .build()
        .header("Content-Type", "application/json")
        .send(&body)
        .map_err(|e| http_error(e, &url, limits))?;
    let status = response.status().as_u16();
    let text = response
        .body_mut()
        .with_config()
        .limit(1 << 20)
        .read_to_string()
        .map_err(|e| http_error(e, &url, limits))?;
    parse_token_response(status, &text, &url)
}

/// Interprets the token endpoint's answer.
pub fn parse_token_response(status: u16, body: &str, url: &str) -> Result<Token> {
    #[derive(Deserialize)]
    struct Granted {
        access_token: String,
        #[serde(default)]
        token_type: Option<String>,
        #[serde(default, deserialize_with = "crate::protocol::lenient::opt_u64_any")]
        expires_in: Option<u64>,
    }
    #[derive(Deserialize)]
    struct Refused {
        error: serde_json::Value,
        #[serde(default)]
        error_description: Option<String>,
    }
    match status {
        200 | 201 => {
            let granted: Granted = serde_json::from_str(body)
                .map_err(|e| Error::decode("the token response", e, "(withheld: holds a token)"))?;
            let mut token = Token::new(granted.access_token);
            if let Some(t) = granted.token_type {
                token.token_type = t;
            }
            if token.expires_at.is_none() {
                token.expires_at = granted
                    .expires_in
                    .and_then(|s| crate::time::system_after(Duration::from_secs(s)));
            }
            Ok(token)
        }
        400 | 401 | 403 => match serde_json::from_str::<Refused>(body) {
            // The server's own words, bounded, with anything that looks
            // like a secret (an echoed request, say) redacted.
            Ok(Refused {
                error: serde_json::Value::String(error),
                error_description,
            }) => Err(Error::OAuth {
                error: excerpt(&error),
                description: excerpt(&error_description.unwrap_or_default()),
            }),
            // Not the OAuth shape (`error` is no code): the status and body.
            _ => Err(http_status(status, url, body)),
        },
        _ => Err(http_status(status, url, body)),
    }
}

/// An [`Error::Http`] with a bounded body excerpt, any secret it quotes
/// (an echoed request, say) redacted.
pub fn http_status(status: u16, url: &str, body: &str) -> Error {
    Error::Http {
        status,
        url: url.split('?').next().unwrap_or(url).to_string(),
        body: excerpt(body),
    }
}

/// At most 300 characters of a server's text, secrets redacted.
pub(crate) fn excerpt(text: &str) -> String {
    let text = crate::secret::redact(text);
    let mut excerpt: String = text.chars().take(300).collect();
    if excerpt.len() < text.len() {
        excerpt.push_str("...");
    }
    excerpt
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    fn jwt(payload: &str) -> String {
        let enc = |s: &str| data_encoding::BASE64URL_NOPAD.encode(s.as_bytes());
        format!("{}.{}.sig", enc(r#"{"alg":"none"}"#), enc(payload))
    }

    #[test]
    fn a_timeout_names_the_limit_that_fired() {
        let limits = HttpLimits {
            kind: TimeoutKind::Auth,
            timeout: Duration::from_secs(3),
            connect: Duration::from_secs(1),
        };
        let timeout = |t| match http_error(ureq::Error::Timeout(t), "http://h/oauth/token", limits)
        {
            Error::Timeout { kind, after } => (kind, after.as_secs()),
            other => panic!("{other:?}"),
        };
        assert_eq!(timeout(ureq::Timeout::Connect), (TimeoutKind::Connect, 1));
        assert_eq!(timeout(ureq::Timeout::Resolve), (TimeoutKind::Connect, 1));
        assert_eq!(timeout(ureq::Timeout::Global), (TimeoutKind::Auth, 3));
        assert_eq!(timeout(ureq::Timeout::RecvResponse), (TimeoutKind::Auth, 3));
    }

    #[test]
    fn reads_jwt_expiry() {
        let t = Token::new(jwt(r#"{"exp":2000000000,"sub":"bot"}"#));
        assert_eq!(
            t.expires_at,
            Some(UNIX_EPOCH + Duration::from_secs(2_000_000_000))
        );
        assert!(Token::new("opaque").expires_at.is_none());
        assert!(Token::new(jwt(r#"{"sub":"x"}"#)).expires_at.is_none());
        assert!(Token::new(jwt(r#"{"exp":1}"#)).expires_within(Duration::ZERO));
        // Out-of-range claims mean "no known expiry", never a panic.
        let huge = Token::new(jwt(r#"{"exp":18446744073709551615}"#));
        assert!(huge.expires_at.is_none());
        assert!(Token::new(jwt(r#"{"exp":2000000000}"#)).expires_within(Duration::MAX));
    }

    #[test]
    fn parses_grant_and_refusals() {
        let t = parse_token_response(
            201,
            r#"{"access_token":"abc","token_type":"JWE","expires_in":31536000}"#,
            "u",
        )
        .unwrap();
        assert_eq!(t.expose(), "abc");
        assert!(!t.expires_within(Duration::from_secs(3600)));
        let forever = parse_token_response(
            201,
            r#"{"access_token":"abc","expires_in":18446744073709551615}"#,
            "u",
        )
        .unwrap();
        assert!(forever.expires_at.is_none());
        match parse_token_response(
            400,
            r#"{"error":"invalid_grant","error_description":"Invalid username or password"}"#,
            "u",
        ) {
            Err(Error::OAuth { error, description }) => {
                assert_eq!(error, "invalid_grant");
                assert_eq!(description, "Invalid username or password");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            parse_token_response(502, "bad gateway", "http://h/x?secret=1"),
            Err(Error::Http { status: 502, ref url, .. }) if url == "http://h/x"
        ));
        // A server that echoes the request in its error body.
        let echoed = r#"{"error":"oops","request":{"username":"bot","password":"pw-123"}}"#;
        match parse_token_response(500, echoed, "u") {
            Err(Error::Http { body, .. }) => {
                assert!(!body.contains("pw-123"), "{body}");
                assert!(body.contains(r#""password":"***""#), "{body}");
            }
            other => panic!("{other:?}"),
        }
        // A refusal whose `error` is no code but the echoed request: the
        // status and a redacted body, not an OAuth error quoting it.
        let refused = r#"{"error":{"code":"invalid_grant","request":{"username":"bot","password":"pw-123"}}}"#;
        match parse_token_response(400, refused, "u") {
            Err(e @ Error::Http { status: 400, .. }) => {
                let shown = format!("{e} {e:?}");
                assert!(!shown.contains("pw-123"), "{shown}");
                assert!(shown.contains("invalid_grant"), "{shown}");
            }
            other => panic!("{other:?}"),
        }
        // A description that quotes a secret field, and one too long.
        let quoting =
            r#"{"error":"invalid_grant","error_description":"{\"password\":\"pw-123\"}"}"#;
        match parse_token_response(400, quoting, "u") {
            Err(Error::OAuth { description, .. }) => {
                assert_eq!(description, r#"{"password":"***"}"#);
            }
            other => panic!("{other:?}"),
        }
        let long = format!(
            r#"{{"error":"invalid_grant","error_description":"{}"}}"#,
            "x".repeat(5000)
        );
        match parse_token_response(400, &long, "u") {
            Err(Error::OAuth { description, .. }) => {
                assert_eq!(description, format!("{}...", "x".repeat(300)));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn debug_never_shows_secrets() {
        let c = Credentials {
            username: "bot".into(),
            password: Secret::new("pw-123"),
        };
        let t = Token::new("tok-456");
        let text = format!("{c:?} {t:?}");
        assert!(
            !text.contains("pw-123") && !text.contains("tok-456"),
            "{text}"
        );
    }
}
