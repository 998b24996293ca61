//! An in-process TrueConf Bridge (feature `emulator`): HTTP and WebSocket on
//! one port, in-memory state, faithful to the Chatbot API spec.
//!
//! ```no_run
//! # fn main() -> std::io::Result<()> {
//! use trueconf_bot::emulator::Emulator;
//! let emu = Emulator::builder()
//!     .user("bot", "secret", "Echo Bot")
//!     .user("alice", "alice-pw", "Alice")
//!     .start()?;
//! println!("bridge at {}", emu.url());
//! let alice = emu.user("alice");
//! let chat = alice.create_p2p_chat("bot").expect("chat");
//! alice.send_message(&chat, "hello").expect("sent");
//! # Ok(()) }
//! ```
//!
//! The emulator serves:
//! - `POST /bridge/api/client/v1/oauth/token` (OAuth password grant),
//! - `POST /bridge/api/client/v1/files` (multipart upload with
//!   `Upload-Task-Id`), `GET /bridge/api/client/v1/files?file_id=` and
//!   `GET /bridge/api/client/v1/files/preview?file_id=` (downloads),
//! - `GET /api/v4/server` (product version and server name),
//! - the Chatbot WebSocket at `/websocket/chat_bot/` (also without the
//!   trailing slash), subprotocol `json.v1`,
//! - a control API under `/emulator/v1/` for programs in other languages:
//!   `POST act`, `POST press_button`, `GET|DELETE frames`, `GET users`,
//!   `POST files/progress`, `POST files/expire`, `PUT upload_limits`,
//!   `POST faults/<name>` (see [`Faults`] for the names).
//!
//! Everything stops when the [`Emulator`] is dropped (or [`Emulator::stop`]
//! is called): every thread is joined and the file store is removed.

mod actor;
mod control;
mod faults;
mod http;
mod multipart;
mod server;
mod session;
mod tls;
mod tokens;
pub(crate) mod world;

pub use actor::{Actor, SentFile};
pub use faults::Faults;

use crate::transport::socket::lock;
use faults::FaultState;
use serde_json::Value;
use session::Registry;
use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use tokens::Tokens;
use world::{World, WorldConfig};

/// The error [`Actor::call`] reports for a request the real server would
/// never answer (such as content with `parseMode: null`): no response
/// frame is sent for it on a WebSocket.
pub const NO_RESPONSE: u32 = world::NO_RESPONSE;

/// The default ack deadline for the emulator's own requests (events).
pub const DEFAULT_ACK_DEADLINE: Duration = Duration::from_secs(300);
/// The default WebSocket ping interval.
pub const DEFAULT_PING_INTERVAL: Duration = Duration::from_secs(5);
/// The default token lifetime (one year, as the spec says).
pub const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(365 * 24 * 3600);
/// The default upload progress event name (what servers in the field send).
pub const DEFAULT_PROGRESS_EVENT: &str = "uploadFileProgress";
/// The default largest WebSocket message accepted.
pub const DEFAULT_MAX_MESSAGE_SIZE: usize = 16 << 20;
/// How many frames the frame log keeps by default (the oldest go first).
pub const DEFAULT_FRAME_LOG_CAPACITY: usize = 100_000;

/// Which way a recorded frame went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// From the client to the emulator.
    In,
    /// From the emulator to the client.
    Out,
}

impl Direction {
    fn as_str(self) -> &'static str {
        match self {
            Direction::In => "in",
            Direction::Out => "out",
        }
    }
}

/// One WebSocket text frame as the emulator saw it. Tokens in `auth`
/// requests are replaced by `***`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameRecord {
    /// The connection number (one per TCP connection, from 1).
    pub connection: u64,
    /// The user id the connection was authenticated as, if it was then.
    pub user: Option<String>,
    /// Which way the frame went.
    pub direction: Direction,
    /// The frame's text.
    pub text: String,
    /// When the emulator read or wrote it.
    pub at: Instant,
}

impl FrameRecord {
    /// The record as JSON (`connection`, `user`, `direction`, `text`).
    pub fn to_json(&self) -> Value {
        serde_json::json!({
            "connection": self.connection,
            "user": self.user,
            "direction": self.direction.as_str(),
            "text": self.text,
        })
    }
}

#[derive(Debug)]
struct Record {
    connection: u64,
    user: Option<Arc<str>>,
    direction: Direction,
    text: String,
    at: Instant,
}

/// The bounded log of frames.
#[derive(Debug)]
pub(crate) struct FrameLog {
    capacity: usize,
    records: Mutex<VecDeque<Record>>,
    /// Signalled on every recorded frame.
    recorded: Condvar,
}

impl FrameLog {
    fn new(capacity: usize) -> FrameLog {
        FrameLog {
            capacity,
            records: Mutex::new(VecDeque::new()),
            recorded: Condvar::new(),
        }
    }

    /// Whether frames are recorded at all.
    pub(crate) fn enabled(&self) -> bool {
        self.capacity > 0
    }

    /// Records one frame.
    pub(crate) fn record(
        &self,
        connection: u64,
        user: Option<&Arc<str>>,
        direction: Direction,
        text: &str,
    ) {
        if !self.enabled() {
            return;
        }
        let mut records = lock(&self.records);
        if records.len() >= self.capacity {
            records.pop_front();
        }
        records.push_back(Record {
            connection,
            user: user.cloned(),
            direction,
            text: text.to_owned(),
            at: Instant::now(),
        });
        drop(records);
        self.recorded.notify_all();
    }

    /// Waits until `done` holds for the recorded frames, up to `timeout`;
    /// whether it did.
    pub(crate) fn wait_until(
        &self,
        timeout: Duration,
        mut done: impl FnMut(&[FrameRecord]) -> bool,
    ) -> bool {
        let deadline = Instant::now() + timeout.min(Duration::from_secs(24 * 3600));
        let mut records = lock(&self.records);
        loop {
            if done(&Self::copy(&records)) {
                return true;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            records = self
                .recorded
                .wait_timeout(records, left)
                .map(|(g, _)| g)
                .unwrap_or_else(|p| p.into_inner().0);
        }
    }

    fn copy(records: &VecDeque<Record>) -> Vec<FrameRecord> {
        records
            .iter()
            .map(|r| FrameRecord {
                connection: r.connection,
                user: r.user.as_deref().map(str::to_owned),
                direction: r.direction,
                text: r.text.clone(),
                at: r.at,
            })
            .collect()
    }

    pub(crate) fn snapshot(&self) -> Vec<FrameRecord> {
        Self::copy(&lock(&self.records))
    }

    pub(crate) fn clear(&self) {
        lock(&self.records).clear();
    }
}

/// A configured account.
#[derive(Clone)]
pub(crate) struct Account {
    pub password: String,
    pub display_name: String,
}

impl fmt::Debug for Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Account")
            .field("password", &"***")
            .field("display_name", &self.display_name)
            .finish()
    }
}

/// Fixed settings of a running emulator.
#[derive(Debug)]
pub(crate) struct Settings {
    pub server_name: String,
    pub url: String,
    pub users: HashMap<String, Account>,
    pub ack_deadline: Duration,
    pub ping_interval: Duration,
    pub progress_event_name: String,
    pub max_message_size: usize,
}

impl Settings {
    /// The user id of a login.
    pub(crate) fn user_id(&self, login: &str) -> String {
        format!("{login}@{}", self.server_name)
    }

    /// The login for a login or a user id (`login@server[/resource]`) of a
    /// configured user.
    pub(crate) fn login_of<'a>(&self, who: &'a str) -> Option<&'a str> {
        let login = match who.split_once('@') {
            Some((login, rest)) => {
                let server = rest.split('/').next().unwrap_or("");
                if server != self.server_name {
                    return None;
                }
                login
            }
            None => who,
        };
        self.users.contains_key(login).then_some(login)
    }
}

/// State shared by every emulator thread.
pub(crate) struct Inner {
    pub settings: Settings,
    pub world: Mutex<World>,
    pub tokens: Mutex<Tokens>,
    pub sessions: Mutex<Registry>,
    pub faults: FaultState,
    pub frames: FrameLog,
    /// The current upload limits, pushed after `auth` when set.
    pub upload_limits: Mutex<Option<Value>>,
    pub shutdown: AtomicBool,
    pub files_dir: PathBuf,
    pub tls: Option<Arc<rustls::ServerConfig>>,
    pub next_conn: AtomicU64,
    pub next_file: AtomicU64,
    /// Open HTTP (not upgraded) connections, closed at stop.
    pub http_conns: Mutex<HashMap<u64, TcpStream>>,
    /// Connection threads, joined at stop.
    pub threads: Mutex<Vec<JoinHandle<()>>>,
}

impl Inner {
    /// A fresh path in the file store.
    pub(crate) fn new_file_path(&self, what: &str) -> PathBuf {
        let n = self.next_file.fetch_add(1, Ordering::Relaxed);
        self.files_dir.join(format!("{what}-{n}"))
    }

    /// Runs a method as a user through the World and delivers its events.
    /// There is no session: what belongs to a connection (a progress
    /// subscription) is not kept.
    pub(crate) fn act(&self, user_id: &str, method: &str, payload: &Value) -> Result<Value, u32> {
        let raw = match payload {
            Value::Null => None,
            p => Some(serde_json::value::to_raw_value(p).map_err(|_| 399u32)?),
        };
        let mut world = lock(&self.world);
        let mut out = Vec::new();
        let result = world.handle(user_id, None, method, raw.as_deref(), &mut out);
        session::deliver(self, out);
        result
    }
}

pub(crate) fn set_upload_limits(inner: &Inner, limits: Option<Value>) {
    let mut world = lock(&inner.world);
    *lock(&inner.upload_limits) = limits.clone();
    let mut out = Vec::new();
    world.set_upload_limits(limits, &mut out);
    session::deliver(inner, out);
}

enum TlsChoice {
    None,
    Generated,
    Pem { cert: Vec<u8>, key: Vec<u8> },
}

/// Configures and starts an [`Emulator`].
pub struct EmulatorBuilder {
    users: Vec<(String, Account)>,
    server_name: String,
    tls: TlsChoice,
    ack_deadline: Duration,
    ping_interval: Duration,
    token_lifetime: Duration,
    progress_event_name: String,
    upload_limits: Option<Value>,
    bind: String,
    max_message_size: usize,
    frame_log_capacity: usize,
}

impl fmt::Debug for EmulatorBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmulatorBuilder")
            .field(
                "users",
                &self
                    .users
                    .iter()
                    .map(|(l, _)| l.as_str())
                    .collect::<Vec<_>>(),
            )
            .field("server_name", &self.server_name)
            .field(
                "tls",
                &match self.tls {
                    TlsChoice::None => "none",
                    TlsChoice::Generated => "generated",
                    TlsChoice::Pem { .. } => "pem",
                },
            )
            .field("ack_deadline", &self.ack_deadline)
            .field("ping_interval", &self.ping_interval)
            .field("token_lifetime", &self.token_lifetime)
            .field("progress_event_name", &self.progress_event_name)
            .field("bind", &self.bind)
            .finish_non_exhaustive()
    }
}

impl Default for EmulatorBuilder {
    fn default() -> Self {
        EmulatorBuilder {
            users: Vec::new(),
            server_name: "emulator.local".into(),
            tls: TlsChoice::None,
            ack_deadline: DEFAULT_ACK_DEADLINE,
            ping_interval: DEFAULT_PING_INTERVAL,
            token_lifetime: DEFAULT_TOKEN_LIFETIME,
            progress_event_name: DEFAULT_PROGRESS_EVENT.into(),
            upload_limits: None,
            bind: "127.0.0.1:0".into(),
            max_message_size: DEFAULT_MAX_MESSAGE_SIZE,
            frame_log_capacity: DEFAULT_FRAME_LOG_CAPACITY,
        }
    }
}

impl EmulatorBuilder {
    /// Adds a user account (login, password, display name). A later call
    /// with the same login replaces the earlier one.
    pub fn user(mut self, login: &str, password: &str, display_name: &str) -> Self {
        self.users.retain(|(l, _)| l != login);
        self.users.push((
            login.to_owned(),
            Account {
                password: password.to_owned(),
                display_name: display_name.to_owned(),
            },
        ));
        self
    }

    /// The server name in user ids (`login@server_name`); default
    /// `emulator.local`.
    pub fn server_name(mut self, name: &str) -> Self {
        self.server_name = name.to_owned();
        self
    }

    /// Serves https/wss with a CA and a certificate for localhost,
    /// 127.0.0.1 and ::1 generated at start; see [`Emulator::ca_pem`].
    pub fn tls_generated(mut self) -> Self {
        self.tls = TlsChoice::Generated;
        self
    }

    /// Serves https/wss with this certificate chain and private key (PEM).
    pub fn tls_pem(mut self, cert_pem: impl AsRef<[u8]>, key_pem: impl AsRef<[u8]>) -> Self {
        self.tls = TlsChoice::Pem {
            cert: cert_pem.as_ref().to_vec(),
            key: key_pem.as_ref().to_vec(),
        };
        self
    }

    /// How long an event may stay unacknowledged before the connection is
    /// closed; default 300 s.
    pub fn ack_deadline(mut self, deadline: Duration) -> Self {
        self.ack_deadline = deadline;
        self
    }

    /// How often each WebSocket is pinged; default 5 s.
    pub fn ping_interval(mut self, interval: Duration) -> Self {
        self.ping_interval = interval.max(Duration::from_millis(1));
        self
    }

    /// How long issued tokens stay valid; default one year.
    pub fn token_lifetime(mut self, lifetime: Duration) -> Self {
        self.token_lifetime = lifetime;
        self
    }

    /// The upload progress event method: `uploadFileProgress` (default, as
    /// servers in the field send it) or `uploadingProgress` (as the spec
    /// spells it).
    pub fn progress_event_name(mut self, name: &str) -> Self {
        self.progress_event_name = name.to_owned();
        self
    }

    /// The `getFileUploadLimits` payload (`{maxSize?, extensions?}`). When
    /// set, it is also pushed as a `getFileUploadLimits` event after `auth`.
    pub fn upload_limits(mut self, limits: Value) -> Self {
        self.upload_limits = Some(limits);
        self
    }

    /// The address to listen on; default `127.0.0.1:0` (any free port).
    pub fn bind(mut self, addr: &str) -> Self {
        self.bind = addr.to_owned();
        self
    }

    /// The largest WebSocket message accepted; default 16 MiB.
    pub fn max_message_size(mut self, bytes: usize) -> Self {
        self.max_message_size = bytes.max(1024);
        self
    }

    /// How many frames [`Emulator::frames`] keeps (the oldest are dropped
    /// first); 0 turns recording off (for benchmarks). Default 100 000.
    pub fn frame_log_capacity(mut self, frames: usize) -> Self {
        self.frame_log_capacity = frames;
        self
    }

    /// Binds and starts serving.
    pub fn start(self) -> std::io::Result<Emulator> {
        let addr =
            self.bind.to_socket_addrs()?.next().ok_or_else(|| {
                std::io::Error::new(std::io::ErrorKind::InvalidInput, "no address")
            })?;
        let tls = match &self.tls {
            TlsChoice::None => None,
            TlsChoice::Generated => Some(tls::generated()?),
            TlsChoice::Pem { cert, key } => Some(tls::from_pem(cert, key)?),
        };
        let listener = TcpListener::bind(addr)?;
        let local = listener.local_addr()?;
        let wake_addr = match local.ip() {
            IpAddr::V4(ip) if ip.is_unspecified() => {
                SocketAddr::new(Ipv4Addr::LOCALHOST.into(), local.port())
            }
            IpAddr::V6(ip) if ip.is_unspecified() => {
                SocketAddr::new(Ipv6Addr::LOCALHOST.into(), local.port())
            }
            _ => local,
        };
        let url = match (&tls, wake_addr.ip()) {
            (Some(_), _) => format!("https://localhost:{}", local.port()),
            (None, IpAddr::V4(ip)) => format!("http://{ip}:{}", local.port()),
            (None, IpAddr::V6(ip)) => format!("http://[{ip}]:{}", local.port()),
        };
        let files_dir = std::env::temp_dir().join(format!(
            "trueconf-emulator-{}-{}",
            std::process::id(),
            tokens::random_hex(12)
        ));
        std::fs::create_dir_all(&files_dir)?;
        let mut world = World::new(WorldConfig {
            server_name: self.server_name.clone(),
            server_url: url.clone(),
            upload_limits: self.upload_limits.clone(),
        });
        for (login, account) in &self.users {
            world.add_user(login, &account.display_name);
        }
        let inner = Arc::new(Inner {
            settings: Settings {
                server_name: self.server_name.clone(),
                url: url.clone(),
                users: self.users.into_iter().collect(),
                ack_deadline: self.ack_deadline,
                ping_interval: self.ping_interval,
                progress_event_name: self.progress_event_name,
                max_message_size: self.max_message_size,
            },
            world: Mutex::new(world),
            tokens: Mutex::new(Tokens::new(self.token_lifetime, &self.server_name)),
            sessions: Mutex::new(Registry::default()),
            faults: FaultState::default(),
            frames: FrameLog::new(self.frame_log_capacity),
            upload_limits: Mutex::new(self.upload_limits),
            shutdown: AtomicBool::new(false),
            files_dir,
            tls: tls.as_ref().map(|t| t.config.clone()),
            next_conn: AtomicU64::new(1),
            next_file: AtomicU64::new(1),
            http_conns: Mutex::new(HashMap::new()),
            threads: Mutex::new(Vec::new()),
        });
        let accept = {
            let inner = inner.clone();
            std::thread::Builder::new()
                .name("emulator-accept".into())
                .spawn(move || server::accept_loop(inner, listener))
        };
        let accept = match accept {
            Ok(handle) => handle,
            Err(e) => {
                let _ = std::fs::remove_dir_all(&inner.files_dir);
                return Err(e);
            }
        };
        log::debug!("emulator listening on {local} ({url})");
        Ok(Emulator {
            inner,
            accept: Some(accept),
            local,
            wake_addr,
            ca_pem: tls.and_then(|t| t.ca_pem),
        })
    }
}

/// A running emulator. Dropping it stops it.
pub struct Emulator {
    inner: Arc<Inner>,
    accept: Option<JoinHandle<()>>,
    local: SocketAddr,
    wake_addr: SocketAddr,
    ca_pem: Option<String>,
}

impl fmt::Debug for Emulator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Emulator")
            .field("url", &self.inner.settings.url)
            .field("server_name", &self.inner.settings.server_name)
            .field("running", &self.accept.is_some())
            .finish()
    }
}

impl Emulator {
    /// A builder with no users, plain HTTP on 127.0.0.1 and a free port.
    pub fn builder() -> EmulatorBuilder {
        EmulatorBuilder::default()
    }

    /// The base URL: `http://ADDRESS:PORT` for the address bound
    /// (`127.0.0.1` unless [`EmulatorBuilder::bind`] chose another; an
    /// unspecified address gives a loopback one), or
    /// `https://localhost:PORT` with TLS.
    pub fn url(&self) -> &str {
        &self.inner.settings.url
    }

    /// The WebSocket URL (`ws://` or `wss://`, path `/websocket/chat_bot/`).
    pub fn ws_url(&self) -> String {
        let url = &self.inner.settings.url;
        let rest = url
            .strip_prefix("https://")
            .map(|r| format!("wss://{r}"))
            .or_else(|| url.strip_prefix("http://").map(|r| format!("ws://{r}")))
            .unwrap_or_else(|| url.clone());
        format!("{rest}/websocket/chat_bot/")
    }

    /// The address the emulator listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// The server name in user ids.
    pub fn server_name(&self) -> &str {
        &self.inner.settings.server_name
    }

    /// The generated CA certificate (PEM), with [`EmulatorBuilder::tls_generated`].
    pub fn ca_pem(&self) -> Option<String> {
        self.ca_pem.clone()
    }

    /// The user id of a login: `login@server_name`.
    pub fn user_id(&self, login: &str) -> String {
        self.inner.settings.user_id(login)
    }

    /// Acts as a configured user: runs methods through the same rules as a
    /// connected client, with events to the other participants.
    pub fn user(&self, login: &str) -> Actor {
        Actor::new(self.inner.clone(), login)
    }

    /// Fault injection.
    pub fn faults(&self) -> Faults {
        Faults::new(self.inner.clone())
    }

    /// Every recorded WebSocket frame, oldest first.
    pub fn frames(&self) -> Vec<FrameRecord> {
        self.inner.frames.snapshot()
    }

    /// Waits until `done` holds for the frames recorded so far (checked
    /// again on every new frame), up to `timeout`; returns whether it did.
    /// Lets a test wait for the emulator to see or send something without
    /// sleeping.
    pub fn wait_frames(&self, timeout: Duration, done: impl FnMut(&[FrameRecord]) -> bool) -> bool {
        self.inner.frames.wait_until(timeout, done)
    }

    /// Forgets the recorded frames.
    pub fn clear_frames(&self) {
        self.inner.frames.clear()
    }

    /// Sets the upload progress of a file: below its size the file is
    /// still uploading (`readyState` 1; this is how a test makes a file
    /// that a user sent look unfinished, e.g. `advance_upload(id, 0)`
    /// right after [`Actor::send_file`]), and it turns ready when
    /// `progress` reaches its size. Progress events go to the connections
    /// subscribed to it (a subscription belongs to the connection that made
    /// it and ends when it closes). An unknown id is ignored.
    pub fn advance_upload(&self, file_id: &str, progress: u64) {
        let mut world = lock(&self.inner.world);
        let mut out = Vec::new();
        world.advance_upload(file_id, progress, &mut out);
        session::deliver(&self.inner, out);
    }

    /// Marks a sent file NOT_AVAILABLE (as quota or retention would): its
    /// `readyState` turns 0 and downloads answer 404. False for an unknown id.
    pub fn expire_file(&self, file_id: &str) -> bool {
        lock(&self.inner.world).expire_file(file_id)
    }

    /// Replaces the upload limits (`None`: no limits) and pushes
    /// `getFileUploadLimits` with the new payload to every user's sessions,
    /// as servers do when an administrator changes them.
    pub fn set_upload_limits(&self, limits: Option<Value>) {
        set_upload_limits(&self.inner, limits);
    }

    /// Stops serving: closes every connection (WebSockets with close code
    /// 1001), joins every thread and removes the file store. Also done on
    /// drop; calling it twice is harmless.
    pub fn stop(&mut self) {
        let Some(accept) = self.accept.take() else {
            return;
        };
        let inner = &self.inner;
        inner.shutdown.store(true, Ordering::SeqCst);
        // Wake the accept loop with a connection of our own.
        let _ = TcpStream::connect_timeout(&self.wake_addr, Duration::from_secs(1));
        if accept.join().is_err() {
            log::warn!("the emulator's accept thread panicked");
        }
        session::wake_all(inner);
        inner.faults.wake_all();
        for (_, tcp) in lock(&inner.http_conns).drain() {
            let _ = tcp.shutdown(std::net::Shutdown::Both);
        }
        let threads = std::mem::take(&mut *lock(&inner.threads));
        for t in threads {
            if t.join().is_err() {
                log::warn!("an emulator connection thread panicked");
            }
        }
        if let Err(e) = std::fs::remove_dir_all(&inner.files_dir) {
            log::debug!("removing the emulator's file store: {e}");
        }
        log::debug!("emulator at {} stopped", inner.settings.url);
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.stop();
    }
}
