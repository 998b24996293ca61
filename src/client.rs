//! The [`Client`] handle and its [`ClientBuilder`].

use crate::auth::{Credentials, Token};
use crate::config::{Config, ReconnectPolicy};
use crate::connection::{ConnectionState, Inner};
use crate::error::{Error, Result};
use crate::event::Events;
use crate::pending::{decode_payload, decode_response, Pending};
use crate::protocol::frame::with_json;
use crate::protocol::Method;
use crate::secret::Secret;
use crate::transport::endpoint::{Endpoint, DEFAULT_WS_PATH};
use crate::transport::tls::TlsOptions;
use serde::de::DeserializeOwned;
use std::borrow::Cow;
use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// A connection to a TrueConf server's Chatbot API.
///
/// `Client` is a cheap handle: clone it freely and share it between threads.
/// Every method blocks until the server answers or the request timeout runs
/// out. The connection closes cleanly when the last handle is dropped or
/// [`close`](Client::close) is called.
#[derive(Clone)]
pub struct Client {
    handle: Arc<Handle>,
    timeout: Duration,
}

/// Owns the connection; closes it when the last [`Client`] goes away.
struct Handle {
    inner: Arc<Inner>,
}

impl Drop for Handle {
    fn drop(&mut self) {
        self.inner.close();
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("server", &self.handle.inner.config.endpoint)
            .field("user_id", &self.user_id())
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// A snapshot of the connection's health.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Health {
    /// Connected, reconnecting or closed.
    pub state: ConnectionState,
    /// Connected and authenticated right now.
    pub authorized: bool,
    /// How many times the connection was re-established.
    pub reconnects: u64,
    /// Events received and not yet read by the application.
    pub queued_events: usize,
    /// Requests waiting for their response.
    pub requests_in_flight: usize,
    /// Calls waiting for a connection to send their request on (while
    /// the client reconnects).
    pub waiting_for_connection: usize,
    /// Why the client stopped on its own (it gave up reconnecting, lost
    /// the connection with reconnecting turned off, or its login was
    /// refused for good: a wrong or changed password, a refused token with
    /// no credentials to get a new one); `None` while it runs or after
    /// [`Client::close`].
    pub failure: Option<String>,
}

/// A request that cannot be encoded as JSON.
fn encode_error<M: Method>(e: serde_json::Error) -> Error {
    Error::Config(format!("cannot encode {}: {e}", M::NAME))
}

impl Client {
    /// Starts configuring a client for the server at `url`: e.g.
    /// `https://video.example.com` (port 443) or `http://127.0.0.1:4309`
    /// (the bridge port).
    pub fn builder(url: impl Into<String>) -> ClientBuilder {
        ClientBuilder::new(url)
    }

    /// The TrueConf ID the server authenticated this client as, as the
    /// server reports it: usually with an instance suffix
    /// (`bot@video.example.com/1b2cfb42f7`), while message authors carry
    /// the part before the `/`.
    pub fn user_id(&self) -> String {
        self.handle.inner.user_id()
    }

    /// Whether `user_id` names this client's own user: TrueConf IDs are
    /// compared without their instance suffix (`/...`) and regardless of
    /// ASCII case. The guide describes server requests as other users'
    /// actions and the emulator sends none for the bot's own messages, but
    /// a bot that reacts to messages should still skip its own with
    /// `client.is_me(&message.author.id)`: a server may send back one
    /// sent from another session of the same account, and an echo bot
    /// would then answer itself.
    pub fn is_me(&self, user_id: &str) -> bool {
        fn bare(id: &str) -> &str {
            id.split('/').next().unwrap_or(id)
        }
        bare(&self.user_id()).eq_ignore_ascii_case(bare(user_id))
    }

    /// The request timeout of this handle.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// A handle on the same connection whose requests wait up to `timeout`.
    pub fn with_timeout(&self, timeout: Duration) -> Client {
        Client {
            handle: self.handle.clone(),
            timeout,
        }
    }

    /// Sends a typed request and waits for its response.
    pub fn request<M: Method>(&self, request: &M) -> Result<M::Response> {
        request.validate()?;
        with_json(request, |payload| {
            self.call_raw(Cow::Borrowed(M::NAME), payload)
        })
        .map_err(|e| encode_error::<M>(e))?
    }

    /// Sends a typed request now; wait for the response later.
    pub fn request_pending<M: Method>(&self, request: &M) -> Result<Pending<M::Response>> {
        request.validate()?;
        with_json(request, |payload| {
            self.send_raw(Cow::Borrowed(M::NAME), payload)
        })
        .map_err(|e| encode_error::<M>(e))?
    }

    /// Sends any method with a JSON payload and waits for the response
    /// payload: the escape hatch for methods this library does not type.
    /// An `errorCode` answer becomes [`Error::Api`] (one whose code cannot
    /// be read as a code, [`Error::Decode`]). A payload nested deeper than
    /// 126 levels is [`Error::Invalid`], and is not sent.
    pub fn call(&self, method: &str, payload: serde_json::Value) -> Result<serde_json::Value> {
        check_call(method, &payload)?;
        with_json(&payload, |json| {
            self.call_raw(Cow::Owned(method.to_string()), json)
        })
        .map_err(|e| Error::Config(format!("cannot encode {method}: {e}")))?
    }

    /// Sends and waits, taking the lead of the reads before sending when
    /// it is free (see the connection module).
    fn call_raw<T: DeserializeOwned>(
        &self,
        method: Cow<'static, str>,
        payload_json: &[u8],
    ) -> Result<T> {
        let payload = self
            .handle
            .inner
            .call(method.clone(), payload_json, self.timeout)?;
        decode_response(&method, payload, decode_payload::<T>)
    }

    /// [`call`](Client::call), pipelined (the same checks: a payload
    /// nested deeper than 126 levels is [`Error::Invalid`]).
    pub fn call_pending(
        &self,
        method: &str,
        payload: serde_json::Value,
    ) -> Result<Pending<serde_json::Value>> {
        check_call(method, &payload)?;
        with_json(&payload, |json| {
            self.send_raw(Cow::Owned(method.to_string()), json)
        })
        .map_err(|e| Error::Config(format!("cannot encode {method}: {e}")))?
    }

    fn send_raw<T: DeserializeOwned>(
        &self,
        method: Cow<'static, str>,
        payload_json: &[u8],
    ) -> Result<Pending<T>> {
        let deadline = crate::time::deadline_after(self.timeout);
        let call = self
            .handle
            .inner
            .start_call(method, payload_json, deadline)
            .map_err(|e| match e {
                // Timed out waiting for a connection: report this handle's limit.
                Error::Timeout { kind, .. } => Error::Timeout {
                    kind,
                    after: self.timeout,
                },
                other => other,
            })?;
        Ok(Pending::new(call, self.timeout, deadline))
    }

    /// The events of this connection (new messages, chat changes, ...).
    /// Events are kept (unbounded) until read; see
    /// [`ClientBuilder::keep_events`] for a client that never reads them.
    pub fn events(&self) -> Events {
        Events::new(self.handle.inner.events())
    }

    /// The connection's health.
    pub fn health(&self) -> Health {
        self.handle.inner.health()
    }

    /// Closes the connection (close frame 1000) and stops the I/O thread.
    /// Calls in flight and later calls fail with [`Error::Closed`]; so do
    /// file uploads and downloads under way, at their next read of the
    /// body. The event stream ends once drained: events that arrived before
    /// the close stay readable (and in memory) until read, or until the
    /// last handle of the client is dropped.
    ///
    /// Returns within about 2 s even if the I/O thread is in the middle of
    /// a reconnect step that cannot be interrupted (DNS, TCP, TLS, the
    /// WebSocket upgrade, a token request): the client is closed at once
    /// all the same, and that thread ends on its own when the step does.
    pub fn close(&self) {
        self.handle.inner.close();
    }

    pub(crate) fn inner(&self) -> &Arc<Inner> {
        &self.handle.inner
    }
}

/// Configures and connects a [`Client`].
#[derive(Clone)]
pub struct ClientBuilder {
    url: String,
    ws_path: String,
    tls: TlsOptions,
    ca_error: Option<String>,
    credentials: Option<Credentials>,
    token: Option<Token>,
    receive_unread: Option<bool>,
    receive_system_envelopes: Option<bool>,
    keep_events: bool,
    connect_timeout: Duration,
    auth_timeout: Duration,
    request_timeout: Duration,
    keepalive: Option<Duration>,
    idle_timeout: Option<Duration>,
    max_message_size: usize,
    reconnect: ReconnectPolicy,
    rewrite_download_urls: bool,
}

/// The deepest nesting of a [`Client::call`] payload: with its frame, the
/// 127 levels that serde_json reads (parsers of servers refuse deeper
/// frames too, and encoding much deeper ones would exhaust the stack).
const MAX_PAYLOAD_DEPTH: usize = 126;

/// Checks a [`Client::call`]: a method name, and a payload that can be
/// encoded without exhausting the stack.
fn check_call(method: &str, payload: &serde_json::Value) -> Result<()> {
    use serde_json::Value;
    if method.is_empty() {
        return Err(crate::protocol::InvalidInput::new("method", "must not be empty").into());
    }
    // Depth first, without recursion, through arrays and objects only.
    let nests = |value: &&Value| matches!(value, Value::Array(_) | Value::Object(_));
    let mut open = vec![(payload, 1)];
    while let Some((value, depth)) = open.pop() {
        if depth > MAX_PAYLOAD_DEPTH {
            return Err(crate::protocol::InvalidInput::new(
                "payload",
                format!("nests deeper than {MAX_PAYLOAD_DEPTH} levels"),
            )
            .into());
        }
        match value {
            Value::Array(items) => open.extend(items.iter().filter(nests).map(|v| (v, depth + 1))),
            Value::Object(fields) => {
                open.extend(fields.values().filter(nests).map(|v| (v, depth + 1)))
            }
            _ => {}
        }
    }
    Ok(())
}

/// The largest CA file read: far more than any bundle of certificates.
const MAX_PEM_FILE: u64 = 16 << 20;

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("url", &self.display_url())
            .field("ws_path", &crate::secret::redact(&self.ws_path))
            .field("tls", &self.tls)
            .field("credentials", &self.credentials)
            .field("token", &self.token)
            .field("request_timeout", &self.request_timeout)
            .finish_non_exhaustive()
    }
}

impl ClientBuilder {
    /// A builder with the defaults: 10 s timeouts, a ping every 30 s, a
    /// reconnect when nothing arrives for 90 s, reconnecting with backoff
    /// from 1 s to 60 s (reset once a connection stays up for 30 s; see
    /// [`ReconnectPolicy`]), 64 MiB maximum message size.
    pub fn new(url: impl Into<String>) -> Self {
        ClientBuilder {
            url: url.into(),
            ws_path: DEFAULT_WS_PATH.into(),
            tls: TlsOptions::default(),
            ca_error: None,
            credentials: None,
            token: None,
            receive_unread: None,
            receive_system_envelopes: None,
            keep_events: true,
            connect_timeout: Duration::from_secs(10),
            auth_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(10),
            keepalive: Some(Duration::from_secs(30)),
            idle_timeout: Some(Duration::from_secs(90)),
            max_message_size: 64 << 20,
            reconnect: ReconnectPolicy::default(),
            rewrite_download_urls: true,
        }
    }

    /// The server URL as it is safe to show (in messages and logs): its
    /// scheme and host part, with any user info masked and any path or
    /// query (which may carry a token) dropped.
    pub fn display_url(&self) -> String {
        crate::transport::endpoint::shown(&self.url)
    }

    /// Log in with a login and password (a token is requested over HTTP,
    /// and requested again whenever the server says it expired).
    pub fn credentials(mut self, login: impl Into<String>, password: impl Into<String>) -> Self {
        self.credentials = Some(Credentials {
            username: login.into(),
            password: Secret::new(password),
        });
        self
    }

    /// Authenticate with a ready token instead of (or before) credentials.
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(Token::new(token));
        self
    }

    /// The WebSocket path (default `/websocket/chat_bot/`); it must start
    /// with `/` (`connect` says so otherwise).
    pub fn ws_path(mut self, path: impl Into<String>) -> Self {
        self.ws_path = path.into();
        self
    }

    /// Trusts the CA certificates of a PEM text, in addition to the system
    /// and WebPKI roots.
    pub fn ca_cert_pem(mut self, pem: impl AsRef<[u8]>) -> Self {
        if let Err(e) = self.tls.add_ca_pem(pem.as_ref()) {
            // Reported as `Error::Config` by `connect`: the bare message.
            self.ca_error = Some(match e {
                Error::Config(message) => message,
                other => other.to_string(),
            });
        }
        self
    }

    /// Trusts the CA certificates of a PEM file: a regular file or a pipe
    /// (a FIFO, `<(...)` in a shell) of at most 16 MiB. A pipe may stay
    /// silent for at most 10 s before it ends (a FIFO's writer may come
    /// late).
    pub fn ca_cert_file(self, path: impl AsRef<Path>) -> Self {
        let path = path.as_ref();
        match crate::local_file::read_small(path, MAX_PEM_FILE) {
            Ok(pem) => self.ca_cert_pem(pem),
            Err(why) => {
                let mut this = self;
                this.ca_error = Some(format!("cannot read {}: {why}", path.display()));
                this
            }
        }
    }

    /// Why the CA certificates given so far cannot be used, if they cannot
    /// (reported by `connect`).
    #[cfg(feature = "ffi")]
    pub(crate) fn ca_problem(&self) -> Option<&str> {
        self.ca_error.as_deref()
    }

    /// Accepts any server certificate without verification (self-signed
    /// servers in closed networks). This gives up protection against
    /// impostors: use it only when asked for explicitly.
    pub fn danger_accept_invalid_certs(mut self, accept: bool) -> Self {
        self.tls.accept_any = accept;
        self
    }

    /// Ask the server to send messages that arrived while offline.
    pub fn receive_unread(mut self, on: bool) -> Self {
        self.receive_unread = Some(on);
        self
    }

    /// Ask the server to send system envelopes (participant added, title
    /// changed, ...) as `sendMessage` events too.
    pub fn receive_system_envelopes(mut self, on: bool) -> Self {
        self.receive_system_envelopes = Some(on);
        self
    }

    /// Whether server events reach [`Client::events`] (the default). A
    /// program that only sends (a broadcaster, a script) and never reads
    /// its events should pass `false`: events are then acknowledged and
    /// dropped, rather than kept in memory for a reader that never comes,
    /// and `events()` ends at once.
    pub fn keep_events(mut self, keep: bool) -> Self {
        self.keep_events = keep;
        self
    }

    /// Limit for TCP connect, TLS and the WebSocket upgrade, together: a
    /// server that answers a byte at a time still ends at this limit.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Limit for the token request and the `auth` request.
    pub fn auth_timeout(mut self, timeout: Duration) -> Self {
        self.auth_timeout = timeout;
        self
    }

    /// The default time each request waits for its response (10 s).
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// How often to send a WebSocket ping (`None`: never). Default 30 s.
    /// [`connect`](Self::connect) refuses zero.
    pub fn keepalive(mut self, every: Option<Duration>) -> Self {
        self.keepalive = every;
        self
    }

    /// Reconnect when nothing at all (not even a pong to the keepalive
    /// ping) arrives for this long (`None`: never). Default 90 s.
    /// [`connect`](Self::connect) refuses zero.
    pub fn idle_timeout(mut self, idle: Option<Duration>) -> Self {
        self.idle_timeout = idle;
        self
    }

    /// The largest message accepted from the server (default 64 MiB).
    ///
    /// A larger frame cannot be skipped: the WebSocket layer refuses it at
    /// its header and the stream cannot be resynchronised after it. The
    /// client therefore drops that connection and reconnects (a
    /// [`Disconnected`](crate::Event::Disconnected) event says "frame too
    /// large"); a call whose response was the oversized frame fails with
    /// [`Error::ConnectionLost`].
    pub fn max_message_size(mut self, bytes: usize) -> Self {
        self.max_message_size = bytes;
        self
    }

    /// How to reconnect after losing the connection.
    pub fn reconnect(mut self, policy: ReconnectPolicy) -> Self {
        self.reconnect = policy;
        self
    }

    /// Keep download URLs exactly as the server reports them, instead of
    /// pointing them at the configured server (the default, because servers
    /// behind NAT report internal addresses).
    pub fn keep_download_urls(mut self, keep: bool) -> Self {
        self.rewrite_download_urls = !keep;
        self
    }

    /// Connects, authenticates and starts the I/O thread.
    pub fn connect(self) -> Result<Client> {
        if let Some(e) = self.ca_error {
            return Err(Error::Config(e));
        }
        let endpoint = Endpoint::parse(&self.url)?;
        if !self.ws_path.starts_with('/') {
            return Err(Error::Config(format!(
                "ws_path {:?} must start with '/'",
                crate::secret::redact(&self.ws_path)
            )));
        }
        for (setting, every) in [
            ("keepalive", self.keepalive),
            ("idle_timeout", self.idle_timeout),
        ] {
            if every == Some(Duration::ZERO) {
                return Err(Error::Config(format!(
                    "{setting} must be longer than zero (None turns it off)"
                )));
            }
        }
        if self.credentials.is_none() && self.token.is_none() {
            return Err(Error::Config(
                "give credentials(login, password) or a token".into(),
            ));
        }
        let timeout = self.request_timeout;
        let config = Config {
            endpoint,
            ws_path: self.ws_path,
            tls: self.tls,
            credentials: self.credentials,
            token: self.token,
            receive_unread: self.receive_unread,
            receive_system_envelopes: self.receive_system_envelopes,
            keep_events: self.keep_events,
            connect_timeout: self.connect_timeout,
            auth_timeout: self.auth_timeout,
            request_timeout: self.request_timeout,
            keepalive: self.keepalive,
            idle_timeout: self.idle_timeout,
            max_message_size: self.max_message_size,
            reconnect: self.reconnect,
            rewrite_download_urls: self.rewrite_download_urls,
        };
        let inner = Inner::connect(config)?;
        Ok(Client {
            handle: Arc::new(Handle { inner }),
            timeout,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shareable<T: Clone + Send + Sync + 'static>() {}

    #[test]
    fn handles_are_clone_send_sync() {
        shareable::<Client>();
        shareable::<Events>();
        shareable::<ClientBuilder>();
    }

    #[test]
    fn builder_debug_hides_secrets() {
        let b = Client::builder("https://bot:url-secret@h/path?token=query-secret")
            .credentials("bot", "pw-secret")
            .token("tok-secret");
        let text = format!("{b:?}");
        for secret in ["pw-secret", "tok-secret", "url-secret", "query-secret"] {
            assert!(!text.contains(secret), "{text}");
        }
        assert_eq!(b.display_url(), "https://***@h");
    }

    #[test]
    fn connect_refuses_a_zero_keepalive_or_idle_timeout() {
        let zero = Some(Duration::ZERO);
        let builders = [
            (
                "keepalive",
                Client::builder("http://127.0.0.1:1").keepalive(zero),
            ),
            (
                "idle_timeout",
                Client::builder("http://127.0.0.1:1").idle_timeout(zero),
            ),
        ];
        for (setting, builder) in builders {
            match builder.token("t").connect() {
                Err(Error::Config(msg)) => assert!(msg.starts_with(setting), "{msg}"),
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn connect_needs_a_way_to_authenticate() {
        match Client::builder("http://127.0.0.1:1").connect() {
            Err(Error::Config(msg)) => assert!(msg.contains("credentials"), "{msg}"),
            other => panic!("{other:?}"),
        }
    }
}
