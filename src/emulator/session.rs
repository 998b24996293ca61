//! One WebSocket session of the emulator, run on the shared socket
//! [`Driver`], plus event delivery to every session of a user.
//!
//! Rules enforced here: errorCode 200 before `auth`, 201 for an unknown
//! token, 203 for an expired one, 2 for a repeated or lower request id; `auth`
//! is answered here (never by the World); events carry the session's own
//! increasing ids and the connection is closed when one stays
//! unacknowledged past the ack deadline; the socket is pinged every ping
//! interval. Events are written the moment they happen, from whichever
//! thread produced them, also while the client is idle. An event the World
//! addresses to one session (upload progress) goes to that connection only;
//! the connection number is the session's id in the World, and a session's
//! progress subscriptions end when its connection closes.

use super::tokens::{later, random_hex, uuid_like, TokenCheck};
use super::world::{Outbound, NO_RESPONSE};
use super::{Direction, FrameLog, Inner};
use crate::protocol::frame::{request_text, response_text, Frame};
use crate::transport::socket::{lock, Driver, Incoming, Shared};
use crate::transport::stream::Stream;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fmt;
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::{Message, WebSocket};

/// The most unread message events kept per offline user.
const UNREAD_CAP: usize = 10_000;
/// How long a closing session waits for the client's close reply.
const CLOSE_LINGER: Duration = Duration::from_millis(200);
/// The frame sent by the `send_malformed` fault.
pub(crate) const MALFORMED_FRAME: &str = "{\"type\":1,\"id\":";

/// Every live session, by connection and by authenticated user, and the
/// message events of users who had no session when they happened.
#[derive(Debug, Default)]
pub(crate) struct Registry {
    links: HashMap<u64, Arc<Link>>,
    by_user: HashMap<String, Vec<Arc<Link>>>,
    unread: HashMap<String, VecDeque<Unread>>,
}

#[derive(Debug, Clone)]
struct Unread {
    method: String,
    payload: String,
    /// A system envelope: only for sessions that asked for them.
    system: bool,
    /// The message id of a `sendMessage` event (read when acknowledged).
    message_id: Option<String>,
}

/// The part of a session other threads use to push frames to it.
pub(crate) struct Link {
    conn: u64,
    shared: Arc<Shared>,
    tcp: Option<TcpStream>,
    state: Mutex<LinkState>,
    killed: AtomicBool,
    /// `auth` asked for `receiveSystemMessageEnvelopes`.
    system_envelopes: AtomicBool,
}

impl fmt::Debug for Link {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Link").field("conn", &self.conn).finish()
    }
}

#[derive(Debug)]
struct LinkState {
    user: Option<Arc<str>>,
    /// When the session authenticated as `user`.
    joined: Instant,
    next_event: u64,
    /// Unacknowledged events by id, with when they were queued.
    pending: BTreeMap<u64, Pending>,
}

#[derive(Debug)]
struct Pending {
    sent: Instant,
    /// Message events: marked read when acknowledged, back to the unread
    /// queue if never acknowledged.
    replay: Option<Unread>,
}

/// Queues an event (a server request) to one session. `replay` is set for
/// message events.
fn push_event(frames: &FrameLog, link: &Link, method: &str, payload: &str, replay: Option<Unread>) {
    let became_busy = link.shared.enqueue_with(|q| {
        let mut st = lock(&link.state);
        let id = st.next_event;
        st.next_event += 1;
        let was_idle = st.pending.is_empty();
        st.pending.insert(
            id,
            Pending {
                sent: Instant::now(),
                replay,
            },
        );
        let text = request_text(id, method, payload);
        frames.record(link.conn, st.user.as_ref(), Direction::Out, &text);
        q.push(Message::Text(text.into()));
        was_idle
    });
    // The session thread may be waiting with a long timeout: have it start
    // the ack deadline's clock.
    if became_busy {
        link.shared.wake();
    }
}

/// Sends each event to every session of its user, or to the one session it
/// is addressed to (while authenticated as its user). Called with the World
/// lock held, so events leave in the order the World produced them.
pub(crate) fn deliver(inner: &Inner, out: Vec<Outbound>) {
    if out.is_empty() {
        return;
    }
    let mut reg = lock(&inner.sessions);
    for ev in out {
        let method = if ev.method == "uploadFileProgress" || ev.method == "uploadingProgress" {
            inner.settings.progress_event_name.as_str()
        } else {
            ev.method.as_str()
        };
        let payload = ev.payload.to_string();
        let system = ev.is_system_envelope();
        let unread = (method == "sendMessage").then(|| Unread {
            method: method.to_owned(),
            payload: payload.clone(),
            system,
            message_id: ev
                .payload
                .get("messageId")
                .and_then(Value::as_str)
                .map(str::to_owned),
        });
        match reg.by_user.get(&ev.user_id) {
            Some(links) if !links.is_empty() => {
                for link in links {
                    if ev.session.is_some_and(|s| s != link.conn) {
                        continue;
                    }
                    if system && !link.system_envelopes.load(Ordering::Relaxed) {
                        continue;
                    }
                    push_event(&inner.frames, link, method, &payload, unread.clone());
                }
            }
            _ => {
                if let Some(u) = unread {
                    let queue = reg.unread.entry(ev.user_id).or_default();
                    if queue.len() >= UNREAD_CAP {
                        queue.pop_front();
                    }
                    queue.push_back(u);
                }
            }
        }
    }
}

fn links(inner: &Inner) -> Vec<Arc<Link>> {
    lock(&inner.sessions).links.values().cloned().collect()
}

fn authenticated(inner: &Inner) -> Vec<Arc<Link>> {
    lock(&inner.sessions)
        .by_user
        .values()
        .flatten()
        .cloned()
        .collect()
}

/// Wakes every session so it sees the shutdown flag or a fault.
pub(crate) fn wake_all(inner: &Inner) {
    for link in links(inner) {
        link.shared.wake();
    }
}

/// Fault: drops every WebSocket connection abruptly (no close frame).
pub(crate) fn drop_all(inner: &Inner) {
    for link in links(inner) {
        link.killed.store(true, Ordering::SeqCst);
        if let Some(tcp) = &link.tcp {
            let _ = tcp.shutdown(Shutdown::Both);
        }
        // The server knows at once: a client that reconnects finds the old
        // session gone and its unacknowledged messages unread.
        retire(inner, &link);
        link.shared.wake();
    }
    inner.faults.wake_all();
}

/// Fault: sends a frame that is not valid JSON to every authenticated
/// session.
pub(crate) fn send_malformed_all(inner: &Inner) {
    for link in authenticated(inner) {
        link.shared.enqueue_with(|q| {
            let user = lock(&link.state).user.clone();
            inner
                .frames
                .record(link.conn, user.as_ref(), Direction::Out, MALFORMED_FRAME);
            q.push(Message::Text(MALFORMED_FRAME.into()));
        });
    }
}

/// Fault: sends an event with `method` (and an empty payload) to every
/// authenticated session; it waits for its ack like any event.
pub(crate) fn send_event_all(inner: &Inner, method: &str, payload: &Value) {
    let payload = payload.to_string();
    for link in authenticated(inner) {
        push_event(&inner.frames, &link, method, &payload, None);
    }
}

/// Runs a session on an upgraded WebSocket until it ends.
pub(crate) fn run(inner: Arc<Inner>, conn: u64, ws: WebSocket<Stream>) {
    let tcp = ws.get_ref().tcp().try_clone().ok();
    let (driver, shared) = match Driver::new(ws) {
        Ok(d) => d,
        Err(e) => {
            log::debug!("connection {conn}: cannot drive the WebSocket: {e}");
            return;
        }
    };
    let link = Arc::new(Link {
        conn,
        shared,
        tcp,
        state: Mutex::new(LinkState {
            user: None,
            joined: Instant::now(),
            next_event: 1,
            pending: BTreeMap::new(),
        }),
        killed: AtomicBool::new(false),
        system_envelopes: AtomicBool::new(false),
    });
    lock(&inner.sessions).links.insert(conn, link.clone());
    let next_ping = later(Instant::now(), inner.settings.ping_interval);
    let mut session = Session {
        inner: inner.clone(),
        link: link.clone(),
        driver,
        last_id: None,
        user: None,
        delayed: VecDeque::new(),
        held: Vec::new(),
        next_ping,
        drop_after_auth: false,
    };
    let why = session.serve();
    log::debug!("connection {conn}: WebSocket session ended: {why}");
    drop(session);
    retire(&inner, &link);
}

/// Ends what the server keeps for a connection: its place in the registry
/// (its unacknowledged message events go back to the unread queue) and its
/// progress subscriptions. Idempotent: a dropped connection is retired at
/// once, and again when its thread ends.
fn retire(inner: &Inner, link: &Arc<Link>) {
    unregister(inner, link);
    lock(&inner.world).end_session(link.conn);
}

fn unregister(inner: &Inner, link: &Arc<Link>) {
    let mut reg = lock(&inner.sessions);
    reg.links.remove(&link.conn);
    let mut st = lock(&link.state);
    let Some(user) = st.user.take() else {
        return;
    };
    let key: &str = &user;
    // When the other sessions of the user joined: each got its own copy of
    // every message event sent after that.
    let others_joined: Vec<Instant> = match reg.by_user.get_mut(key) {
        Some(list) => {
            list.retain(|l| !Arc::ptr_eq(l, link));
            list.iter().map(|l| lock(&l.state).joined).collect()
        }
        None => Vec::new(),
    };
    if others_joined.is_empty() {
        reg.by_user.remove(key);
    }
    // Message events never acknowledged stay unread, unless another session
    // of the user has its own copy to acknowledge.
    let replays: Vec<Unread> = std::mem::take(&mut st.pending)
        .into_values()
        .filter(|p| others_joined.iter().all(|&joined| joined > p.sent))
        .filter_map(|p| p.replay)
        .collect();
    if !replays.is_empty() {
        let queue = reg.unread.entry(key.to_owned()).or_default();
        for u in replays {
            if queue.len() >= UNREAD_CAP {
                queue.pop_front();
            }
            queue.push_back(u);
        }
    }
}

struct Session {
    inner: Arc<Inner>,
    link: Arc<Link>,
    driver: Driver,
    last_id: Option<u64>,
    user: Option<Arc<str>>,
    /// Responses held back by the delay fault: (due, id, payload).
    delayed: VecDeque<(Instant, u64, String)>,
    /// Frames read just as a stall began, handled when it ends.
    held: Vec<String>,
    next_ping: Instant,
    /// The `drop_after_auth` fault: drop the connection once the `auth`
    /// response is out.
    drop_after_auth: bool,
}

#[derive(Deserialize)]
struct AuthPayload {
    #[serde(default)]
    token: Option<String>,
    #[serde(default, rename = "tokenType")]
    token_type: Option<String>,
    #[serde(default, rename = "receiveUnread")]
    receive_unread: Option<Value>,
    #[serde(default, rename = "receiveSystemMessageEnvelopes")]
    receive_system: Option<Value>,
}

/// A boolean flag as clients send it (`true`, or the string `"true"`).
fn flag(v: Option<&Value>) -> bool {
    match v {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

fn error_payload(code: u32) -> String {
    format!("{{\"errorCode\":{code}}}")
}

/// A frame for the frame log with its token hidden (the whole text when it
/// is not JSON).
fn redact_auth(text: &str) -> String {
    match serde_json::from_str::<Value>(text) {
        Ok(mut v) => {
            if let Some(t) = v.pointer_mut("/payload/token") {
                *t = Value::String("***".into());
            }
            v.to_string()
        }
        Err(_) => "<auth frame>".into(),
    }
}

impl Session {
    fn serve(&mut self) -> String {
        let deadline = self.inner.settings.ack_deadline;
        loop {
            if self.inner.shutdown.load(Ordering::SeqCst) {
                self.driver.close(CloseCode::Away, CLOSE_LINGER, |_, _| {});
                return "the emulator stopped".into();
            }
            if self.link.killed.load(Ordering::SeqCst) {
                if let Some(tcp) = &self.link.tcp {
                    let _ = tcp.shutdown(Shutdown::Both);
                }
                return "dropped by a fault".into();
            }
            if self.inner.faults.is_stalled() {
                self.inner
                    .faults
                    .wait_while_stalled(&self.inner.shutdown, &self.link.killed);
                continue;
            }
            let now = Instant::now();
            let oldest = lock(&self.link.state)
                .pending
                .values()
                .next()
                .map(|p| p.sent);
            if let Some(sent) = oldest {
                if now >= later(sent, deadline) {
                    self.driver
                        .close(CloseCode::Policy, CLOSE_LINGER, |_, _| {});
                    return format!("an event stayed unacknowledged for {deadline:?}");
                }
            }
            let mut wake_at = self.next_ping;
            if let Some(sent) = oldest {
                wake_at = wake_at.min(later(sent, deadline));
            }
            if let Some((due, _, _)) = self.delayed.front() {
                wake_at = wake_at.min(*due);
            }
            let mut texts: Vec<String> = Vec::new();
            let turn = self.driver.turn(
                Some(wake_at.saturating_duration_since(now)),
                |incoming, _| {
                    if let Incoming::Text(t) = incoming {
                        texts.push(t.as_str().to_owned());
                    }
                },
            );
            if let Err(e) = turn {
                return e.to_string();
            }
            if self.inner.faults.is_stalled() {
                // The stall began while this turn waited: these frames wait
                // for its end like the unread ones.
                self.held.extend(texts);
                continue;
            }
            let held = std::mem::take(&mut self.held);
            for text in held.iter().chain(&texts) {
                self.on_text(text);
            }
            self.release_delayed();
            if self.drop_after_auth && self.delayed.is_empty() {
                // The response is out (written when it was queued; flushed
                // here if it was not): the FIN follows it.
                self.link.shared.write_out();
                if let Some(tcp) = &self.link.tcp {
                    let _ = tcp.shutdown(Shutdown::Both);
                }
                return "dropped after auth by a fault".into();
            }
            let now = Instant::now();
            if now >= self.next_ping {
                self.driver.ping();
                self.next_ping = later(now, self.inner.settings.ping_interval);
            }
        }
    }

    fn on_text(&mut self, text: &str) {
        let frame = Frame::parse(text);
        let frames = &self.inner.frames;
        if frames.enabled() {
            // Any frame that may carry a token is redacted, parsable or not.
            let is_auth = matches!(&frame, Ok(Frame::Request { method, .. }) if method == "auth");
            if is_auth || text.contains("\"token\"") {
                let shown = redact_auth(text);
                frames.record(self.link.conn, self.user.as_ref(), Direction::In, &shown);
            } else {
                frames.record(self.link.conn, self.user.as_ref(), Direction::In, text);
            }
        }
        match frame {
            Err(e) => log::debug!("connection {}: ignoring a frame: {e}", self.link.conn),
            Ok(Frame::Response { id, .. }) => {
                let acked = lock(&self.link.state).pending.remove(&id);
                match acked {
                    None => log::debug!(
                        "connection {}: response to unknown event id {id}",
                        self.link.conn
                    ),
                    Some(Pending {
                        replay:
                            Some(Unread {
                                message_id: Some(message_id),
                                ..
                            }),
                        ..
                    }) => {
                        // An acknowledged message event counts as read.
                        if let Some(user) = &self.user {
                            lock(&self.inner.world).mark_read(user, &message_id);
                        }
                    }
                    Some(_) => {}
                }
            }
            Ok(Frame::Request {
                id,
                method,
                payload,
            }) => self.on_request(id, &method, payload.as_deref()),
        }
    }

    fn on_request(&mut self, id: u64, method: &str, payload: Option<&RawValue>) {
        if self.last_id.is_some_and(|last| id <= last) {
            self.respond(id, error_payload(2));
            return;
        }
        self.last_id = Some(id);
        if method == "auth" {
            self.auth(id, payload);
            return;
        }
        let Some(user) = self.user.clone() else {
            self.respond(id, error_payload(200));
            return;
        };
        let inner = self.inner.clone();
        let mut world = lock(&inner.world);
        let mut out = Vec::new();
        let session = Some(self.link.conn);
        let body = match world.handle(&user, session, method, payload, &mut out) {
            Ok(Value::Null) => Some("{}".to_owned()),
            Ok(v) => Some(v.to_string()),
            // What the real server never answers (`parseMode: null`).
            Err(NO_RESPONSE) => None,
            Err(code) => Some(error_payload(code)),
        };
        // The response goes out before the events the request caused.
        if let Some(body) = body {
            self.respond(id, body);
        }
        deliver(&inner, out);
    }

    fn auth(&mut self, id: u64, payload: Option<&RawValue>) {
        let parsed = payload.and_then(|p| serde_json::from_str::<AuthPayload>(p.get()).ok());
        let Some(p) = parsed else {
            self.respond(id, error_payload(201));
            return;
        };
        if !matches!(p.token_type.as_deref(), Some("JWE" | "JWT")) {
            self.respond(id, error_payload(201));
            return;
        }
        let token = p.token.unwrap_or_default();
        let checked = lock(&self.inner.tokens).check(&token);
        let login = match checked {
            TokenCheck::Valid(login) => login,
            TokenCheck::Unknown => {
                self.respond(id, error_payload(201));
                return;
            }
            TokenCheck::Expired => {
                self.respond(id, error_payload(203));
                return;
            }
        };
        let receive_unread = flag(p.receive_unread.as_ref());
        let receive_system = flag(p.receive_system.as_ref());
        let user_id: Arc<str> = self.inner.settings.user_id(&login).into();
        let body = serde_json::json!({
            "userId": format!("{user_id}/{}", random_hex(10)),
            "connectionId": uuid_like(),
        })
        .to_string();
        let inner = self.inner.clone();
        // Under the registry lock: no event can slip in between the
        // response and the unread replay.
        let mut reg = lock(&inner.sessions);
        let old = {
            let mut st = lock(&self.link.state);
            st.joined = Instant::now();
            st.user.replace(user_id.clone())
        };
        if let Some(old) = old {
            if let Some(list) = reg.by_user.get_mut(&*old) {
                list.retain(|l| !Arc::ptr_eq(l, &self.link));
            }
        }
        reg.by_user
            .entry(user_id.to_string())
            .or_default()
            .push(self.link.clone());
        self.link
            .system_envelopes
            .store(receive_system, Ordering::Relaxed);
        self.user = Some(user_id.clone());
        // Decided before the response goes out: a client that has its
        // answer never sees a fault set after that apply to this session.
        if self.inner.faults.take_drop_after_auth() {
            self.drop_after_auth = true;
        }
        self.respond(id, body);
        if receive_unread {
            if let Some(queue) = reg.unread.remove(&*user_id) {
                for u in queue {
                    if u.system && !receive_system {
                        continue;
                    }
                    let (method, payload) = (u.method.clone(), u.payload.clone());
                    push_event(&inner.frames, &self.link, &method, &payload, Some(u));
                }
            }
        }
        let limits = lock(&inner.upload_limits).clone();
        if let Some(limits) = limits {
            push_event(
                &inner.frames,
                &self.link,
                "getFileUploadLimits",
                &limits.to_string(),
                None,
            );
        }
    }

    fn respond(&mut self, id: u64, payload: String) {
        let delay = self.inner.faults.response_delay();
        if delay.is_zero() && self.delayed.is_empty() {
            self.send_response(id, &payload);
            return;
        }
        let mut due = later(Instant::now(), delay);
        if let Some((last, _, _)) = self.delayed.back() {
            due = due.max(*last);
        }
        self.delayed.push_back((due, id, payload));
    }

    fn release_delayed(&mut self) {
        let now = Instant::now();
        while self.delayed.front().is_some_and(|(due, _, _)| *due <= now) {
            if let Some((_, id, payload)) = self.delayed.pop_front() {
                self.send_response(id, &payload);
            }
        }
    }

    fn send_response(&self, id: u64, payload: &str) {
        let text = response_text(id, payload);
        self.link.shared.enqueue_with(|q| {
            self.inner
                .frames
                .record(self.link.conn, self.user.as_ref(), Direction::Out, &text);
            q.push(Message::Text(text.into()));
        });
    }
}
