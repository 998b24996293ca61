//! The connection: the I/O thread, the table of requests in flight, and the
//! link's life cycle (connect, authenticate, serve, reconnect, close).
//!
//! Callers queue requests on the current link and usually write them out
//! and read their responses themselves (combining writes and leader/follower
//! reads: the design and its measurements are in
//! [`crate::transport::socket`]). Whoever reads a frame routes it with
//! [`Inner::dispatch`]: a response goes into its request's entry in the
//! table of [`Replies`] (the waiter parks, or sleeps in the socket's epoll
//! if it leads), a server request is queued as an event and then
//! acknowledged. The I/O thread owns the life
//! cycle: it reads what no leader reads, writes batches, pings, tears a
//! failed link down (failing its calls) and reconnects.
//!
//! Request ids come from one process-wide counter, allocated under the
//! link's queue lock together with queuing the frame, and every writer
//! drains that queue in order: ids strictly increase on the wire.

use crate::auth::{self, Token};
use crate::client::Health;
use crate::config::Config;
use crate::error::{ApiErrorCode, Error, Result, TimeoutKind};
use crate::protocol::frame::{write_ack, write_request, Frame, FramePayload};
use crate::protocol::methods::{Auth, AuthResponse};
use crate::replies::{Filled, Replies};
use crate::time::deadline_after;
use crate::transport::connect::open_websocket;
use crate::transport::socket::{lock, Driver, Incoming, Leader, Led, Queued, Shared, Sink};
use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use tungstenite::protocol::frame::coding::CloseCode;

/// Request ids strictly increase for the life of the process, across
/// connections and clients, so no server ever sees an id go backwards.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// How long a clean close waits for the server's close reply.
const CLOSE_LINGER: Duration = Duration::from_millis(500);

/// What a request's entry in the table of [`Replies`] receives.
#[derive(Debug)]
pub(crate) enum Reply {
    /// The response payload (absent for a bare acknowledgement).
    Payload(Option<FramePayload>),
    /// The connection broke while the request was in flight.
    Lost,
    /// The client was closed.
    Closed,
}

/// An item of the event queue, decoded when the application reads it.
#[derive(Debug)]
pub(crate) enum EventItem {
    /// A server request.
    Wire {
        method: String,
        payload: Option<FramePayload>,
    },
    /// The connection was lost.
    Disconnected(String),
    /// A new connection is authenticated.
    Reconnected,
}

/// The connection's state, as reported by [`Health`](crate::Health).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConnectionState {
    /// Connected and authenticated: requests go out at once.
    Connected,
    /// The connection was lost; a new one is being established.
    Reconnecting,
    /// Closed by the application, or given up after a fatal error.
    Closed,
}

/// One WebSocket connection's shared half and its generation number.
pub(crate) struct Link {
    pub(crate) shared: Arc<Shared>,
    generation: u64,
}

struct Status {
    state: ConnectionState,
    link: Option<Arc<Link>>,
    /// The socket being authenticated, so closing can interrupt the wait.
    handshaking: Option<Arc<Shared>>,
    /// Why the client closed for good, when it was not the application.
    failure: Option<String>,
    /// Calls waiting for a link to send their request on.
    waiting: usize,
}

/// State shared by the client handles and the I/O thread.
pub(crate) struct Inner {
    pub(crate) config: Config,
    status: Mutex<Status>,
    status_changed: Condvar,
    /// Requests in flight, their replies until taken, and the link new
    /// requests go out on (set before `status` says connected; cleared when
    /// the link is withdrawn, before `status` says so, and when the client
    /// ends).
    replies: Replies<Reply, Arc<Link>>,
    shutdown: AtomicBool,
    user_id: Mutex<String>,
    token: Mutex<Option<Token>>,
    pub(crate) agent: auth::LazyAgent,
    tls_config: Option<Arc<rustls::ClientConfig>>,
    events_rx: Receiver<EventItem>,
    /// The sending end of the event queue; taken when the I/O thread ends,
    /// which closes the queue.
    events_tx: Mutex<Option<Sender<EventItem>>>,
    /// Upload progress watches by key: the file id and where its reports
    /// (and news of a new connection) go.
    progress_watchers: Mutex<HashMap<u64, (String, Sender<Watched>)>>,
    upload_limits: Mutex<Option<serde_json::Value>>,
    reconnects: AtomicU64,
    /// A response said the session is no longer authorized: the generation
    /// of that link plus one (0: none). Tied to the link, so a request made
    /// before its I/O thread starts serving is not lost, and a late answer
    /// from an old link never tears down a new one.
    reauth: AtomicU64,
    /// Offer the json.v1 subprotocol (cleared when the server ignores it).
    offer_subprotocol: AtomicBool,
    io_thread: Mutex<Option<(JoinHandle<()>, Receiver<()>)>>,
}

/// The I/O side's context: whoever runs the driver (the connecting thread,
/// then the I/O thread).
struct Io {
    inner: Arc<Inner>,
}

/// Ends the client if the I/O thread panics (a bug), so that callers, the
/// event queue and `close` see the end instead of waiting for a thread
/// that is gone.
struct StopsOnPanic(Arc<Inner>);

impl Drop for StopsOnPanic {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0
                .stop("its I/O thread panicked (a bug in trueconf-bot)".into());
        }
    }
}

/// What a [`ProgressWatch`] receives, in the order it happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Watched {
    /// Bytes of the file on the server so far, as a progress event reported.
    Progress(u64),
    /// A new connection is authenticated. The server keeps progress
    /// subscriptions per connection: those made before are gone, and
    /// reports sent while disconnected were lost.
    Relinked,
}

/// Upload progress reports for one file, and news of reconnections;
/// unregisters on drop.
pub(crate) struct ProgressWatch {
    inner: Arc<Inner>,
    key: u64,
    /// The reports and reconnections since the watch began.
    pub(crate) rx: Receiver<Watched>,
}

impl Drop for ProgressWatch {
    fn drop(&mut self) {
        lock(&self.inner.progress_watchers).remove(&self.key);
    }
}

/// A request in flight.
pub(crate) struct Call {
    id: u64,
    /// Its reply was taken (or the entry abandoned): nothing to clean up.
    settled: bool,
    /// The generation of the link the request went out on: waiting may
    /// lead that link's reads while it is the current one. (Not the link
    /// itself, so that a call kept after its link ended does not keep the
    /// link's socket open.) A link stops being the current one before its
    /// calls are failed (see [`Io::teardown`]): a call that finds another
    /// link, or none, waits for its reply alone.
    generation: u64,
    method: Cow<'static, str>,
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Call {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Call")
            .field("id", &self.id)
            .field("method", &self.method)
            .finish()
    }
}

impl Call {
    /// The request id on the wire.
    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    /// The method name.
    pub(crate) fn method(&self) -> &str {
        &self.method
    }

    /// Whether the reply (a response, or the call's failure) is in.
    pub(crate) fn is_answered(&self) -> bool {
        self.inner.replies.is_answered(self.id)
    }

    /// The method name, owned (free for the typed methods' static names).
    pub(crate) fn method_name(&self) -> Cow<'static, str> {
        self.method.clone()
    }

    /// Waits for the response payload. An `errorCode` payload becomes
    /// [`Error::Api`].
    ///
    /// A waiter whose response is not in yet reads the socket itself if no
    /// other thread does ("leads", see [`Shared::try_lead`]); otherwise it parks
    /// until the leader or the I/O thread hands it the response.
    pub(crate) fn wait(self, timeout: Duration) -> Result<Option<FramePayload>> {
        self.wait_until(deadline_after(timeout), timeout)
    }

    /// [`wait`](Self::wait) until `deadline`; `timeout` is what a timeout
    /// error reports.
    pub(crate) fn wait_until(
        mut self,
        deadline: Instant,
        timeout: Duration,
    ) -> Result<Option<FramePayload>> {
        if let Some(reply) = self.inner.replies.take(self.id) {
            self.settled = true;
            return self.interpret(reply);
        }
        let link = self.link();
        let leader = link.as_ref().and_then(|link| link.shared.try_lead());
        self.wait_led(deadline, timeout, link.as_ref(), leader)
    }

    /// [`wait`](Self::wait) until `deadline` (`timeout` is what the error
    /// reports) for a request sent on `link` (`None`: a link no longer
    /// current), leading its reads with `leader` if given and parking
    /// otherwise.
    fn wait_led(
        &mut self,
        deadline: Instant,
        timeout: Duration,
        link: Option<&Arc<Link>>,
        leader: Option<Leader<'_>>,
    ) -> Result<Option<FramePayload>> {
        let replies = &self.inner.replies;
        let id = self.id;
        let reply = match (link, leader) {
            (Some(link), Some(mut leader)) => {
                replies.set_leading(id, link.clone());
                let led = leader.run(
                    deadline,
                    || replies.is_answered(id),
                    |incoming, sink| self.inner.dispatch(incoming, sink),
                );
                let reply = replies.stop_leading(id);
                drop(leader);
                match (reply, led) {
                    (Some(reply), _) => Some(reply),
                    (None, Led::Failed) => replies.wait_until(id, deadline),
                    (None, Led::Done | Led::TimedOut) => None,
                }
            }
            (Some(link), None) => {
                link.shared.park();
                let reply = replies.wait_until(id, deadline);
                link.shared.unpark();
                reply
            }
            // Ended: its calls were failed already.
            (None, _) => replies.wait_until(id, deadline),
        };
        // Without a reply, the entry is abandoned; one that raced in still
        // counts.
        let reply = reply.or_else(|| replies.abandon(id));
        self.settled = true;
        match reply {
            Some(reply) => self.interpret(reply),
            None => Err(Error::Timeout {
                kind: TimeoutKind::Request,
                after: timeout,
            }),
        }
    }

    /// The link the request went out on, while it is the current one.
    fn link(&self) -> Option<Arc<Link>> {
        let generation = self.generation;
        self.inner
            .replies
            .link_if(|link| link.generation == generation)
    }

    /// The call's outcome from its reply.
    fn interpret(&self, reply: Reply) -> Result<Option<FramePayload>> {
        match reply {
            Reply::Payload(payload) => match payload.as_ref().map(FramePayload::error_code) {
                Some(Ok(Some(code))) => {
                    let code = ApiErrorCode::from_code(code);
                    if self.method != "auth" && is_deauthorized(code) {
                        // A link already retired needs no new session.
                        if let Some(link) = self.link() {
                            self.inner.request_reauth(code, &link);
                        }
                    }
                    Err(Error::Api {
                        method: self.method.to_string(),
                        code,
                    })
                }
                None | Some(Ok(None)) => Ok(payload),
                Some(Err(e)) => Err(Error::decode(
                    format!("the errorCode of the {} response", self.method),
                    e,
                    payload.as_ref().map_or("", FramePayload::get),
                )),
            },
            Reply::Lost => Err(Error::ConnectionLost {
                method: self.method.to_string(),
            }),
            Reply::Closed => Err(self.inner.closed_error()),
        }
    }
}

impl Drop for Call {
    fn drop(&mut self) {
        if !self.settled {
            self.inner.replies.abandon(self.id);
        }
    }
}

impl Inner {
    /// Connects and authenticates on the calling thread, then starts the I/O
    /// thread. Errors of the first connection are returned as they are.
    pub(crate) fn connect(config: Config) -> Result<Arc<Inner>> {
        let tls_config = if config.endpoint.secure {
            Some(config.tls.rustls_config()?)
        } else {
            None
        };
        let agent = auth::LazyAgent::new(&config.tls, config.connect_timeout);
        let (events_tx, events_rx) = crossbeam_channel::unbounded();
        // Without a sender the queue is closed from the start: events are
        // acknowledged and dropped, and readers see the end at once.
        let events_tx = config.keep_events.then_some(events_tx);
        let token = config.token.clone();
        let inner = Arc::new(Inner {
            config,
            status: Mutex::new(Status {
                state: ConnectionState::Reconnecting,
                link: None,
                handshaking: None,
                failure: None,
                waiting: 0,
            }),
            status_changed: Condvar::new(),
            replies: Replies::new(),
            shutdown: AtomicBool::new(false),
            user_id: Mutex::new(String::new()),
            token: Mutex::new(token),
            agent,
            tls_config,
            events_rx,
            events_tx: Mutex::new(events_tx),
            progress_watchers: Mutex::new(HashMap::new()),
            upload_limits: Mutex::new(None),
            reconnects: AtomicU64::new(0),
            reauth: AtomicU64::new(0),
            offer_subprotocol: AtomicBool::new(true),
            io_thread: Mutex::new(None),
        });
        let io = Io {
            inner: inner.clone(),
        };
        let (driver, link, early) = io.establish(0)?;
        // Nobody holds the client yet: it cannot have been closed.
        io.inner.announce(&link, early, false);
        let (done_tx, done_rx) = crossbeam_channel::bounded(1);
        let thread = std::thread::Builder::new()
            .name("trueconf-bot-io".into())
            .spawn(move || {
                let _stops = StopsOnPanic(io.inner.clone());
                io.run(driver, link);
                let _ = done_tx.send(());
            })?;
        *lock(&inner.io_thread) = Some((thread, done_rx));
        Ok(inner)
    }

    /// Sends a request and waits for its response. The caller takes the
    /// lead of the link's reads before its request goes out if no other
    /// thread has it, so that the response wakes this thread only (see
    /// [`Shared::try_lead`]).
    pub(crate) fn call(
        self: &Arc<Self>,
        method: Cow<'static, str>,
        payload_json: &[u8],
        timeout: Duration,
    ) -> Result<Option<FramePayload>> {
        let deadline = deadline_after(timeout);
        if self.shutdown.load(Ordering::Acquire) {
            return Err(Error::Closed);
        }
        let early = self.replies.link_if(|_| true);
        let early_leader = early.as_ref().and_then(|link| link.shared.try_lead());
        match self.queue(method, payload_json, false) {
            Ok((call, link, queued)) => {
                let leader = match (&early, early_leader) {
                    (Some(early), Some(leader)) if early.generation == link.generation => {
                        Some(leader)
                    }
                    // Queued on another link than the one led (it changed
                    // meanwhile).
                    _ => link.shared.try_lead(),
                };
                send_and_wait(call, &link, queued, leader, deadline, timeout)
            }
            Err(method) => {
                // No link now: wait for one without keeping the lead of one
                // that is gone (its I/O thread reads its last answers), or
                // the link itself.
                drop(early_leader);
                drop(early);
                let (call, link, queued) = self
                    .queue_when_linked(method, payload_json, false, deadline)
                    .map_err(|e| match e {
                        // Timed out waiting for a connection: report this
                        // call's limit.
                        Error::Timeout { kind, .. } => Error::Timeout {
                            kind,
                            after: timeout,
                        },
                        other => other,
                    })?;
                let leader = link.shared.try_lead();
                send_and_wait(call, &link, queued, leader, deadline, timeout)
            }
        }
    }

    /// Queues a request on the current link, waiting for one until
    /// `deadline` while reconnecting.
    pub(crate) fn start_call(
        self: &Arc<Self>,
        method: Cow<'static, str>,
        payload_json: &[u8],
        deadline: Instant,
    ) -> Result<Call> {
        let (call, link, queued) = self.queue_when_linked(method, payload_json, true, deadline)?;
        link.shared.send_queued(queued);
        Ok(call)
    }

    /// [`queue`](Self::queue), waiting for a link up to `deadline`.
    fn queue_when_linked(
        self: &Arc<Self>,
        mut method: Cow<'static, str>,
        payload_json: &[u8],
        batch: bool,
        deadline: Instant,
    ) -> Result<(Call, Arc<Link>, Queued)> {
        loop {
            if self.shutdown.load(Ordering::Acquire) {
                return Err(Error::Closed);
            }
            match self.queue(method, payload_json, batch) {
                Ok(queued) => return Ok(queued),
                Err(unsent) => method = unsent,
            }
            self.wait_link(deadline)?;
        }
    }

    /// Allocates an id, registers the request and queues its frame on the
    /// current link, all under the table's lock; without a link, the
    /// method is handed back.
    /// The frame still has to be sent on its way (see
    /// [`Shared::send_queued`]). A `batch`ed request (one sent without
    /// waiting for it) is written with others when requests are in flight
    /// already (see [`Shared::queue_batched`]).
    fn queue(
        self: &Arc<Self>,
        method: Cow<'static, str>,
        payload_json: &[u8],
        batch: bool,
    ) -> std::result::Result<(Call, Arc<Link>, Queued), Cow<'static, str>> {
        let mut table = self.replies.lock();
        let Some(link) = table.link.clone() else {
            return Err(method);
        };
        let (id, queued) = link.shared.queue_batched(|outbox| {
            let in_flight = table.any_unanswered();
            let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
            table.insert(id, link.generation);
            outbox.push_text(|text| write_request(text, id, &method, payload_json));
            (id, batch && in_flight)
        });
        drop(table);
        let call = Call {
            id,
            settled: false,
            generation: link.generation,
            method,
            inner: self.clone(),
        };
        Ok((call, link, queued))
    }

    /// Waits up to `deadline` until a link is up (or the client ended).
    fn wait_link(&self, deadline: Instant) -> Result<()> {
        let mut status = lock(&self.status);
        loop {
            if self.shutdown.load(Ordering::Acquire) {
                return Err(Error::Closed);
            }
            match status.state {
                // The table's link is set before the state says connected
                // and cleared before it says otherwise, both changes
                // announced through `status_changed`.
                ConnectionState::Connected if self.replies.lock().link.is_some() => return Ok(()),
                ConnectionState::Closed => return Err(self.closed_error_locked(&status)),
                _ => {}
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(Error::Timeout {
                    kind: TimeoutKind::Request,
                    after: self.config.request_timeout,
                });
            }
            status.waiting += 1;
            status = self
                .status_changed
                .wait_timeout(status, left)
                .map(|(g, _)| g)
                .unwrap_or_else(|p| p.into_inner().0);
            status.waiting -= 1;
        }
    }

    /// The error for a call on a client that ended: [`Error::Closed`] after
    /// `close`, or why it stopped on its own.
    pub(crate) fn closed_error(&self) -> Error {
        self.closed_error_locked(&lock(&self.status))
    }

    fn closed_error_locked(&self, status: &Status) -> Error {
        match &status.failure {
            Some(why) => Error::Connect(format!("the client stopped: {why}")),
            None => Error::Closed,
        }
    }

    fn publish(&self, link: Arc<Link>) {
        self.replies.lock().link = Some(link.clone());
        let mut status = lock(&self.status);
        status.state = ConnectionState::Connected;
        status.link = Some(link);
        self.status_changed.notify_all();
    }

    /// The authenticated user id.
    pub(crate) fn user_id(&self) -> String {
        lock(&self.user_id).clone()
    }

    /// A snapshot of the connection's health.
    pub(crate) fn health(&self) -> Health {
        let (state, failure, waiting_for_connection) = {
            let status = lock(&self.status);
            (status.state, status.failure.clone(), status.waiting)
        };
        Health {
            state,
            authorized: state == ConnectionState::Connected,
            reconnects: self.reconnects.load(Ordering::Relaxed),
            queued_events: self.events_rx.len(),
            requests_in_flight: self.replies.unanswered(),
            waiting_for_connection,
            failure,
        }
    }

    /// Whether a link is up and authenticated right now.
    pub(crate) fn is_connected(&self) -> bool {
        lock(&self.status).state == ConnectionState::Connected
    }

    /// The receiving end of the event queue.
    pub(crate) fn events(&self) -> Receiver<EventItem> {
        self.events_rx.clone()
    }

    /// Registers interest in upload progress of `file_id` (and in every
    /// new connection, which ends the subscriptions of the old one); the
    /// watch ends when the returned guard drops, or when the client stops
    /// (its channel then disconnects).
    pub(crate) fn watch_progress(self: &Arc<Self>, file_id: &str) -> ProgressWatch {
        let (tx, rx) = crossbeam_channel::unbounded();
        let key = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        lock(&self.progress_watchers).insert(key, (file_id.to_string(), tx));
        ProgressWatch {
            inner: self.clone(),
            key,
            rx,
        }
    }

    /// The upload limits the server pushed, if any.
    pub(crate) fn upload_limits(&self) -> Option<serde_json::Value> {
        lock(&self.upload_limits).clone()
    }

    /// Records upload limits learnt from a `getFileUploadLimits` response.
    pub(crate) fn set_upload_limits(&self, limits: serde_json::Value) {
        *lock(&self.upload_limits) = Some(limits);
    }

    /// Closes the client: a clean close frame, pending calls fail with
    /// [`Error::Closed`], the I/O thread is joined (bounded wait).
    pub(crate) fn close(&self) {
        self.shutdown.store(true, Ordering::Release);
        {
            let status = lock(&self.status);
            if let Some(link) = &status.link {
                link.shared.wake();
            }
            if let Some(shared) = &status.handshaking {
                shared.wake();
            }
            self.status_changed.notify_all();
        }
        // Waiting callers fail now, not after the close handshake.
        self.fail_waiting(|_| true, || Reply::Closed);
        let thread = lock(&self.io_thread).take();
        if let Some((handle, done)) = thread {
            if handle.thread().id() == std::thread::current().id() {
                return;
            }
            // A connect attempt in progress cannot be interrupted: wait a
            // bounded time, then let the thread finish on its own.
            match done.recv_timeout(Duration::from_secs(2)) {
                Ok(()) | Err(RecvTimeoutError::Disconnected) => {
                    let _ = handle.join();
                }
                Err(RecvTimeoutError::Timeout) => {
                    // It finishes on its own once the attempt ends (it sees
                    // the shutdown before announcing a link); the client is
                    // closed for the application now.
                    log::debug!("the I/O thread is still connecting; detached");
                    self.finish(None);
                }
            }
        }
    }

    /// Routes one incoming frame: responses to their callers, server
    /// requests to the event queue (then acknowledged).
    pub(crate) fn dispatch(&self, incoming: Incoming, sink: &mut Sink) {
        self.route(incoming, sink, None);
    }

    /// [`Inner::dispatch`] during authentication: server requests are held
    /// in `early` (not queued, not acknowledged) until the link is announced
    /// ([`Inner::announce`]).
    fn dispatch_holding(&self, incoming: Incoming, sink: &mut Sink, early: &mut Early) {
        self.route(incoming, sink, Some(early));
    }

    /// Routes one frame; server requests go to `early` when it is given.
    fn route(&self, incoming: Incoming, sink: &mut Sink, early: Option<&mut Early>) {
        let text = match incoming {
            Incoming::Text(text) => text,
            Incoming::Binary(len) => {
                log::warn!("ignored a binary frame of {len} bytes (the protocol is JSON text)");
                return;
            }
        };
        match Frame::parse_shared(&text) {
            Ok(Frame::Response { id, payload }) => {
                match self.replies.fill(id, Reply::Payload(payload)) {
                    Filled::ToLeader => sink.wake_leader = true,
                    Filled::Delivered => {}
                    Filled::Unknown => {
                        log::debug!("dropped a response to unknown or abandoned request {id}")
                    }
                }
            }
            Ok(Frame::Request {
                id,
                method,
                payload,
            }) => {
                // Events may wait long in the queue: they keep only their
                // own bytes alive, not the read buffer they arrived in.
                let payload = payload.map(FramePayload::detached);
                if let Some(early) = early {
                    early.push((id, method, payload));
                    return;
                }
                self.observe(&method, payload.as_ref().map(FramePayload::get));
                // The ack is written before this thread lets go of the
                // socket (see `Sink::reply`): whatever the application sends
                // in reaction goes out after it.
                sink.reply(|text| write_ack(text, id));
                // Unbounded: the I/O thread never blocks on the application.
                self.queue_event(EventItem::Wire { method, payload });
            }
            Err(e) => {
                let excerpt: String = text.as_str().chars().take(200).collect();
                let excerpt = crate::secret::redact(&excerpt);
                log::warn!("dropped an unreadable frame ({e}): {excerpt}");
            }
        }
    }

    /// Lets internal waiters see events they depend on.
    fn observe(&self, method: &str, payload: Option<&str>) {
        match method {
            "uploadFileProgress" | "uploadingProgress" => {
                #[derive(serde::Deserialize)]
                struct Progress {
                    #[serde(rename = "fileId")]
                    file_id: String,
                    #[serde(deserialize_with = "crate::protocol::lenient::u64_any")]
                    progress: u64,
                }
                let Some(p) = payload.and_then(|p| serde_json::from_str::<Progress>(p).ok()) else {
                    return;
                };
                for (file_id, tx) in lock(&self.progress_watchers).values() {
                    if *file_id == p.file_id {
                        let _ = tx.send(Watched::Progress(p.progress));
                    }
                }
            }
            "getFileUploadLimits" => {
                if let Some(v) = payload.and_then(|p| serde_json::from_str(p).ok()) {
                    self.set_upload_limits(v);
                }
            }
            _ => {}
        }
    }

    /// Queues an event for the application (unbounded: the connection never
    /// blocks on the application).
    fn queue_event(&self, item: EventItem) {
        if let Some(tx) = &*lock(&self.events_tx) {
            let _ = tx.send(item);
        }
    }

    /// Publishes a newly authenticated link, counts and announces a
    /// reconnection (`Reconnected`, and [`Watched::Relinked`] to every
    /// progress watch), then queues and acknowledges the server requests
    /// held during authentication. The event queue stays locked
    /// throughout: a caller that leads the new link's reads from the moment
    /// it is published queues its events (and `Reconnected` precedes them)
    /// after these. `false`, and nothing done, if the client was closed
    /// meanwhile.
    fn announce(&self, link: &Arc<Link>, early: Early, reconnected: bool) -> bool {
        let events = lock(&self.events_tx);
        // Under the events lock: `finish` takes it too, so a client closed
        // after this check still sees this link published and closes it.
        if self.is_shutdown() {
            return false;
        }
        self.publish(link.clone());
        if reconnected {
            self.reconnects.fetch_add(1, Ordering::Relaxed);
            if let Some(tx) = &*events {
                let _ = tx.send(EventItem::Reconnected);
            }
            // After publishing: a watcher that subscribes again at once
            // finds the new link.
            for (_, tx) in lock(&self.progress_watchers).values() {
                let _ = tx.send(Watched::Relinked);
            }
        }
        if early.is_empty() {
            return true;
        }
        // Acknowledged before the application sees them, so that whatever
        // it sends in reaction goes out after the acks. Never blocks: the
        // socket is only tried, and whoever holds it writes the queue when
        // done.
        link.shared.enqueue_with(|q| {
            for (id, _, _) in &early {
                q.push_text(|text| write_ack(text, *id));
            }
        });
        for (_, method, payload) in early {
            self.observe(&method, payload.as_ref().map(FramePayload::get));
            if let Some(tx) = &*events {
                let _ = tx.send(EventItem::Wire { method, payload });
            }
        }
        true
    }

    /// Has the I/O thread replace the connection with a freshly
    /// authenticated one (a new token when the old one expired).
    fn request_reauth(&self, code: ApiErrorCode, link: &Link) {
        log::warn!("the server answered {code} mid-session; re-authenticating");
        // Calls made from now on wait for the new session.
        self.retire(link);
        self.reauth.store(link.generation + 1, Ordering::Release);
        link.shared.wake();
    }

    /// Withdraws `link` if it is the current one, so that no call is queued
    /// on it any more: new calls wait for the next link. Calls already sent
    /// on it are left to their answers.
    fn retire(&self, link: &Link) {
        // Under the table's lock, which queuing a call holds.
        {
            let mut table = self.replies.lock();
            if table
                .link
                .as_ref()
                .is_some_and(|current| current.generation == link.generation)
            {
                table.link = None;
            }
        }
        let mut status = lock(&self.status);
        if status
            .link
            .as_ref()
            .is_some_and(|current| current.generation == link.generation)
        {
            status.link = None;
            if status.state == ConnectionState::Connected {
                status.state = ConnectionState::Reconnecting;
            }
            self.status_changed.notify_all();
        }
    }

    /// Stops for good after a failure: tells the application in the event
    /// stream (a last `Disconnected` with the reason), then finishes.
    fn stop(&self, why: String) {
        self.queue_event(EventItem::Disconnected(format!(
            "the client stopped: {why}"
        )));
        self.finish(Some(why));
    }

    /// Ends for good: fails every waiter, closes the event queue (once
    /// drained) and marks the client closed. Idempotent; the first failure
    /// given is the one kept.
    fn finish(&self, failure: Option<String>) {
        if let Some(why) = &failure {
            log::error!("the client stops: {why}");
        }
        // The state first: whoever is woken below asks it why.
        {
            let mut status = lock(&self.status);
            status.state = ConnectionState::Closed;
            status.link = None;
            if status.failure.is_none() {
                status.failure = failure;
            }
            self.status_changed.notify_all();
        }
        // No call is queued from now on; those queued before fail.
        self.replies.lock().link = None;
        self.fail_waiting(|_| true, || Reply::Closed);
        lock(&self.events_tx).take();
        // Waits for uploads to finish see the end now, not at their timeout.
        lock(&self.progress_watchers).clear();
    }

    /// Fails the calls still waiting whose link `generation` `on_link`
    /// accepts, with a reply made by `value`; a caller among them that
    /// reads its link's socket itself is woken in its epoll.
    fn fail_waiting(&self, on_link: impl Fn(u64) -> bool, value: impl Fn() -> Reply) {
        for link in self.replies.fail_waiting(on_link, value) {
            link.shared.wake_leader();
        }
    }

    pub(crate) fn is_shutdown(&self) -> bool {
        self.shutdown.load(Ordering::Acquire)
    }

    /// Sleeps `delay` unless the client closes first (then returns true).
    fn sleep_unless_shutdown(&self, delay: Duration) -> bool {
        let deadline = deadline_after(delay);
        let mut status = lock(&self.status);
        loop {
            if self.is_shutdown() {
                return true;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            status = self
                .status_changed
                .wait_timeout(status, left)
                .map(|(g, _)| g)
                .unwrap_or_else(|p| p.into_inner().0);
        }
    }

    /// `text` (a server's words: a close reason, say) with the secrets it
    /// may quote hidden: this client's token and password, wherever they
    /// are, and secret fields and query parameters.
    fn without_secrets(&self, text: &str) -> String {
        let token = lock(&self.token).clone();
        let token = token.as_ref().map_or("", |t| t.expose());
        let password = self
            .config
            .credentials
            .as_ref()
            .map_or("", |c| c.password.expose());
        let text = crate::secret::without(text, token);
        let text = crate::secret::without(&text, password);
        crate::secret::redact(&text).into_owned()
    }

    /// The token to authenticate with: the cached one, or a new one from the
    /// credentials when there is none or it is about to expire.
    fn current_token(&self, force_new: bool) -> Result<Token> {
        let cached = lock(&self.token).clone();
        if let Some(token) = cached {
            let fresh = !token.expires_within(Duration::from_secs(60));
            if !force_new && (fresh || self.config.credentials.is_none()) {
                return Ok(token);
            }
        }
        let credentials =
            self.config.credentials.as_ref().ok_or_else(|| {
                Error::Config("no token and no credentials to request one".into())
            })?;
        let token = auth::request_token(
            &self.agent,
            &self.config.endpoint,
            credentials,
            self.config.auth_timeout,
        )?;
        *lock(&self.token) = Some(token.clone());
        Ok(token)
    }
}

/// Sends a request queued on `link` on its way, then waits for its
/// response, leading the link's reads with `leader` if given.
fn send_and_wait(
    mut call: Call,
    link: &Arc<Link>,
    queued: Queued,
    leader: Option<Leader<'_>>,
    deadline: Instant,
    timeout: Duration,
) -> Result<Option<FramePayload>> {
    link.shared.send_queued(queued);
    call.wait_led(deadline, timeout, Some(link), leader)
}

/// Whether a request's error code means the session lost its authorization.
fn is_deauthorized(code: ApiErrorCode) -> bool {
    matches!(
        code,
        ApiErrorCode::NotAuthorized | ApiErrorCode::CredentialsExpired
    )
}

/// Whether an error from establishing a connection should stop reconnecting.
fn is_fatal(e: &Error) -> bool {
    match e {
        Error::OAuth { .. } | Error::Config(_) | Error::Closed => true,
        Error::Api { code, .. } => matches!(
            code,
            ApiErrorCode::InvalidCredentials
                | ApiErrorCode::CredentialsExpired
                | ApiErrorCode::UserDisabled
                | ApiErrorCode::UnsupportedCredentials
        ),
        _ => false,
    }
}

/// Server requests that arrived while authenticating: delivered (queued,
/// then acknowledged) once the link is announced, so that `Reconnected`
/// precedes the events of the new connection.
type Early = Vec<(u64, String, Option<FramePayload>)>;

/// How serving a link ended.
struct Served {
    /// Why it ended, in words.
    reason: String,
    /// How long the link was known to work, from the start of serving: to
    /// the end, or to the last frame received when the end is the idle
    /// timeout (nothing was known to work after that frame).
    up: Duration,
}

impl Io {
    /// Opens a WebSocket and authenticates on it.
    fn establish(&self, generation: u64) -> Result<(Driver, Arc<Link>, Early)> {
        let inner = &self.inner;
        let config = &inner.config;
        let token = inner.current_token(false)?;
        let ws = open_websocket(
            &config.endpoint,
            &config.ws_path,
            inner.tls_config.clone(),
            config.connect_timeout,
            config.max_message_size,
            &inner.offer_subprotocol,
        )?;
        let (mut driver, shared) = Driver::new(ws)?;
        let link = Arc::new(Link { shared, generation });
        lock(&inner.status).handshaking = Some(link.shared.clone());
        let mut early = Early::new();
        let authorized = self.authenticate_renewing(&mut driver, &link, token, &mut early);
        lock(&inner.status).handshaking = None;
        authorized?;
        Ok((driver, link, early))
    }

    /// Authenticates with `token`; when the server refuses it as expired
    /// (203) or invalid (201) and credentials are known, once more with a
    /// new token.
    fn authenticate_renewing(
        &self,
        driver: &mut Driver,
        link: &Arc<Link>,
        token: Token,
        early: &mut Early,
    ) -> Result<()> {
        let inner = &self.inner;
        let config = &inner.config;
        match self.authenticate(driver, link, &token, early) {
            Err(Error::Api { code, .. })
                if config.credentials.is_some()
                    && matches!(
                        code,
                        ApiErrorCode::CredentialsExpired | ApiErrorCode::InvalidCredentials
                    ) =>
            {
                log::info!("the server refused the token ({code}); requesting a new one");
                let token = inner.current_token(true)?;
                self.authenticate(driver, link, &token, early)
            }
            other => other,
        }
    }

    /// Sends `auth` on a fresh link and turns the driver until the answer.
    fn authenticate(
        &self,
        driver: &mut Driver,
        link: &Arc<Link>,
        token: &Token,
        early: &mut Early,
    ) -> Result<()> {
        let inner = &self.inner;
        let config = &inner.config;
        let mut request = Auth::new(token.expose()).token_type(token.token_type.clone());
        request.receive_unread = config.receive_unread;
        request.receive_system_message_envelopes = config.receive_system_envelopes;
        let payload = serde_json::to_string(&request)
            .map_err(|e| Error::Config(format!("cannot encode auth: {e}")))?;
        let deadline = deadline_after(config.auth_timeout);
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        inner.replies.lock().insert(id, link.generation);
        let call = Call {
            id,
            settled: false,
            generation: link.generation,
            method: Cow::Borrowed("auth"),
            inner: inner.clone(),
        };
        link.shared.enqueue_with(|q| {
            q.push_text(|text| write_request(text, id, "auth", payload.to_string().as_bytes()))
        });
        while !call.is_answered() {
            if inner.is_shutdown() {
                return Err(Error::Closed);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(Error::Timeout {
                    kind: TimeoutKind::Auth,
                    after: config.auth_timeout,
                });
            }
            let turned = driver.turn(Some(left), |incoming, sink| {
                inner.dispatch_holding(incoming, sink, early)
            });
            if let Err(e) = turned {
                if !call.is_answered() {
                    let e = inner.without_secrets(&e.to_string());
                    return Err(Error::Connect(format!("during authentication: {e}")));
                }
                // The answer came with the end of the connection (a server
                // that drops it right after the login): the login stands,
                // and serving the link reports the loss.
                link.shared.fail(e);
            }
        }
        let payload = call.wait(Duration::ZERO)?;
        let raw = payload.as_ref().map(FramePayload::get).unwrap_or("{}");
        // The answer may quote the token, in any field or in words: it is
        // shown without it (the token sent is the client's current one).
        let unreadable = |reason: &dyn std::fmt::Display| {
            Error::decode("the auth response", reason, &inner.without_secrets(raw))
        };
        let authorized: AuthResponse = serde_json::from_str(raw).map_err(|e| unreadable(&e))?;
        if authorized.user_id.trim().is_empty() {
            return Err(unreadable(&"the userId is empty"));
        }
        *lock(&inner.user_id) = authorized.user_id;
        Ok(())
    }

    /// The I/O thread: serve the link, and on loss reconnect until closed.
    ///
    /// The backoff carries over from one connection to the next until one
    /// proves stable: a link made by a reconnect attempt and lost before
    /// the policy's `stable_after` counts as a failed attempt, so a server
    /// that drops every connection right after the login is retried with
    /// growing delays (and counts against `max_attempts`).
    fn run(self, mut driver: Driver, mut link: Arc<Link>) {
        let policy = &self.inner.config.reconnect;
        // Failed reconnect attempts in a row: the next delay is
        // `policy.delay(failures)`.
        let mut failures = 0u32;
        // Whether the current link came from a reconnect attempt (the first
        // one came from `connect`).
        let mut reconnected = false;
        loop {
            let served = self.serve(&mut driver, &link);
            drop(driver);
            self.teardown(&link);
            if self.inner.is_shutdown() {
                break;
            }
            let Served { reason, up } = served;
            log::warn!("connection lost: {reason}");
            self.inner
                .queue_event(EventItem::Disconnected(reason.clone()));
            if !policy.enabled {
                self.inner.finish(Some(format!(
                    "connection lost ({reason}) and reconnecting is off"
                )));
                return;
            }
            if policy.is_stable(up) {
                failures = 0;
            } else if reconnected {
                failures = failures.saturating_add(1);
                let why = format!("the connection was lost {up:.0?} after logging in: {reason}");
                log::warn!("reconnect attempt {failures} failed: {why}");
                if policy.max_attempts.is_some_and(|max| failures >= max) {
                    self.inner.stop(format!(
                        "gave up reconnecting after {failures} attempts: {why}"
                    ));
                    return;
                }
            }
            match self.reconnect(link.generation + 1, &mut failures) {
                Some((d, l)) => {
                    driver = d;
                    link = l;
                    reconnected = true;
                }
                None => return,
            }
        }
        self.inner.finish(None);
    }

    /// Serves one link until it fails or the client closes; returns why and
    /// how long it was known to work.
    fn serve(&self, driver: &mut Driver, link: &Link) -> Served {
        let config = &self.inner.config;
        let started = Instant::now();
        let mut last_received = started;
        let mut next_ping = config.keepalive.map(deadline_after);
        let ended = |reason: String| Served {
            reason,
            up: started.elapsed(),
        };
        loop {
            if self.inner.is_shutdown() {
                driver.close(CloseCode::Normal, CLOSE_LINGER, |_, _| {});
                return ended("closed by the application".into());
            }
            let this_link = link.generation + 1;
            if self
                .inner
                .reauth
                .compare_exchange(this_link, 0, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
            {
                // New calls wait for the next link from now on; answers to
                // calls already sent, and events, are still taken while the
                // server answers the close (events without an ack: none can
                // follow a close frame, so the server may send them again).
                self.inner.retire(link);
                driver.close(CloseCode::Normal, CLOSE_LINGER, |incoming, sink| {
                    self.inner.dispatch(incoming, sink)
                });
                return ended("the server no longer accepts this session's authorization".into());
            }
            let now = Instant::now();
            let mut wait = Duration::from_secs(3600);
            if let Some(at) = next_ping {
                wait = wait.min(at.saturating_duration_since(now));
            }
            if let Some(idle) = config.idle_timeout {
                wait = wait.min(idle.saturating_sub(now.duration_since(last_received)));
            }
            match driver.turn(Some(wait), |incoming, sink| {
                self.inner.dispatch(incoming, sink)
            }) {
                Ok(turn) if turn.received => last_received = Instant::now(),
                Ok(_) => {}
                Err(e) => return ended(self.inner.without_secrets(&e.to_string())),
            }
            let now = Instant::now();
            if let Some(idle) = config.idle_timeout {
                if now.duration_since(last_received) >= idle {
                    return Served {
                        reason: format!("nothing received for {idle:?}"),
                        up: last_received.duration_since(started),
                    };
                }
            }
            if let (Some(at), Some(every)) = (next_ping, config.keepalive) {
                if now >= at {
                    driver.ping();
                    next_ping = Some(deadline_after(every));
                }
            }
        }
    }

    /// Retires the link (see [`Inner::retire`]) and fails its calls in
    /// flight.
    fn teardown(&self, link: &Link) {
        self.inner.retire(link);
        // Nothing more is read or written on it: let the server know now,
        // not when the link is dropped after reconnecting.
        link.shared.shutdown();
        let reply = || {
            if self.inner.is_shutdown() {
                Reply::Closed
            } else {
                Reply::Lost
            }
        };
        self.inner
            .fail_waiting(|generation| generation == link.generation, reply);
    }

    /// Reconnects with capped exponential backoff and jitter: waits
    /// `policy.delay(*failures)` before each attempt, and counts the
    /// attempts that fail in `failures` (failed attempts in a row so far,
    /// carried over from the links before that did not prove stable).
    fn reconnect(&self, generation: u64, failures: &mut u32) -> Option<(Driver, Arc<Link>)> {
        let policy = &self.inner.config.reconnect;
        loop {
            if self.inner.sleep_unless_shutdown(policy.delay(*failures)) {
                self.inner.finish(None);
                return None;
            }
            match self.establish(generation) {
                Ok((driver, link, early)) => {
                    log::info!(
                        "reconnected (attempt {} in a row)",
                        failures.saturating_add(1)
                    );
                    if !self.inner.announce(&link, early, true) {
                        // Closed while logging in: nobody was told of it.
                        drop(driver);
                        link.shared.shutdown();
                        self.inner.finish(None);
                        return None;
                    }
                    return Some((driver, link));
                }
                Err(_) if self.inner.is_shutdown() => {
                    self.inner.finish(None);
                    return None;
                }
                Err(e) if is_fatal(&e) => {
                    self.inner.stop(self.fatal_reason(&e));
                    return None;
                }
                Err(e) => {
                    *failures = failures.saturating_add(1);
                    log::warn!("reconnect attempt {failures} failed: {e}");
                    if policy.max_attempts.is_some_and(|max| *failures >= max) {
                        self.inner.stop(format!(
                            "gave up reconnecting after {failures} attempts: {e}"
                        ));
                        return None;
                    }
                }
            }
        }
    }

    /// Why a fatal reconnect error stops the client, in words.
    fn fatal_reason(&self, e: &Error) -> String {
        let renewable = matches!(
            e.api_code(),
            Some(ApiErrorCode::CredentialsExpired | ApiErrorCode::InvalidCredentials)
        );
        match (renewable, self.inner.config.credentials.is_some()) {
            (true, false) => format!(
                "the server refused the token ({e}) and no credentials are configured \
                 to request a new one"
            ),
            (true, true) => format!("the server refused a newly issued token ({e})"),
            _ => e.to_string(),
        }
    }
}

#[cfg(all(test, feature = "emulator"))]
mod tests {
    use super::*;
    use crate::emulator::{Emulator, EmulatorBuilder};
    use crate::{Client, ClientBuilder, Event};

    /// An emulator with user `bot` and the options `server` adds, and a
    /// client logged in as `bot` with the options `configure` adds.
    fn logged_in(
        server: impl FnOnce(EmulatorBuilder) -> EmulatorBuilder,
        configure: impl FnOnce(ClientBuilder) -> ClientBuilder,
    ) -> (Emulator, Client) {
        let emu = server(Emulator::builder().user("bot", "pw", "Bot"))
            .start()
            .unwrap();
        let client = configure(Client::builder(emu.url()).credentials("bot", "pw"))
            .connect()
            .unwrap();
        (emu, client)
    }

    /// Ends `client` as a panic of its I/O thread does.
    fn crash(client: &Client) {
        let inner = client.inner().clone();
        let crashed = std::thread::spawn(move || {
            let _stops = StopsOnPanic(inner);
            panic!("a bug");
        })
        .join();
        assert!(crashed.is_err());
    }

    #[test]
    fn a_caller_reading_the_socket_itself_learns_at_once_that_the_client_stopped() {
        // Also when its link was withdrawn before (a session no longer
        // authorized): the link is then in neither the table nor `status`.
        for withdrawn in [false, true] {
            // Nothing else (a ping, or its answer) wakes the caller.
            let (emu, client) = logged_in(
                |server| server.ping_interval(Duration::from_secs(3600)),
                |builder| {
                    builder
                        .request_timeout(Duration::from_secs(30))
                        .keepalive(None)
                        .idle_timeout(None)
                },
            );
            emu.faults().delay_responses(Duration::from_secs(60));
            let (tid_tx, tid_rx) = crossbeam_channel::bounded(1);
            let caller = {
                let client = client.clone();
                std::thread::spawn(move || {
                    let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap();
                    tid_tx
                        .send(stat.split(' ').next().unwrap().to_string())
                        .unwrap();
                    let started = Instant::now();
                    (client.get_chats(10, 1), started.elapsed())
                })
            };
            // The caller leads the reads: it sleeps in its own epoll
            // (`do_epoll_wait` or `ep_poll`, by kernel version).
            let wchan = format!("/proc/self/task/{}/wchan", tid_rx.recv().unwrap());
            let in_epoll = || {
                let at = std::fs::read_to_string(&wchan).unwrap_or_default();
                at.contains("epoll") || at == "ep_poll"
            };
            let deadline = Instant::now() + Duration::from_secs(10);
            while !in_epoll() {
                assert!(
                    Instant::now() < deadline,
                    "the caller never waited in epoll"
                );
                std::thread::yield_now();
            }
            if withdrawn {
                let inner = client.inner();
                inner.retire(&inner.replies.link_if(|_| true).unwrap());
            }
            crash(&client);
            let (result, took) = caller.join().unwrap();
            match result {
                Err(Error::Connect(message)) => {
                    assert!(message.contains("panicked"), "{message}")
                }
                other => panic!("{other:?}"),
            }
            assert!(
                took < Duration::from_secs(2),
                "withdrawn: {withdrawn}; not woken by the stop: {took:?}"
            );
        }
    }

    #[test]
    fn a_panic_on_the_io_thread_ends_the_client_for_everyone() {
        let (_emu, client) = logged_in(|server| server, |builder| builder);
        let events = client.events();
        crash(&client);
        let health = client.health();
        assert_eq!(health.state, ConnectionState::Closed);
        let why = health.failure.unwrap();
        assert!(why.contains("I/O thread panicked"), "{why}");
        match events.recv_timeout(Duration::from_secs(5)) {
            Ok(Some(Event::Disconnected { reason })) => {
                assert_eq!(reason, format!("the client stopped: {why}"))
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            events.recv_timeout(Duration::from_secs(5)),
            Err(Error::Closed)
        ));
        match client.get_chats(10, 1) {
            Err(Error::Connect(message)) => assert!(message.ends_with(&why), "{message}"),
            other => panic!("{other:?}"),
        }
    }
}
