//! Opening a client WebSocket: TCP, TLS, and the upgrade, all blocking
//! under one deadline; the socket is switched to non-blocking afterwards.

use super::endpoint::Endpoint;
use super::stream::{Stream, Tcp};
use super::tls::{classify_io, describe};
use crate::error::{Error, Result, TimeoutKind};
use std::net::{IpAddr, SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tungstenite::client::IntoClientRequest;
use tungstenite::handshake::HandshakeError;
use tungstenite::protocol::WebSocketConfig;
use tungstenite::WebSocket;

/// The WebSocket subprotocol of the Chatbot API.
pub const SUBPROTOCOL: &str = "json.v1";

/// How much tungstenite reads per `read` call. Its default (128 KiB) is
/// zero-filled before every read, empty or not: with small JSON frames that
/// `memset` cost more than the syscall (a tenth of a blocking round trip in
/// profiles). 8 KiB still takes dozens of pipelined responses per read;
/// larger frames grow the buffer as they need.
pub const READ_BUFFER: usize = 8 << 10;

/// The WebSocket settings both sides use.
pub fn ws_config(max_message_size: usize) -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(READ_BUFFER)
        .max_message_size(Some(max_message_size))
        .max_frame_size(Some(max_message_size))
}

/// Resolves the endpoint's host by `deadline` (`timeout` is the limit a
/// timeout error names). The system resolver has no deadline of its own,
/// so host names are looked up on a short-lived thread; IP addresses need
/// no lookup.
fn resolve(endpoint: &Endpoint, deadline: Instant, timeout: Duration) -> Result<Vec<SocketAddr>> {
    if let Ok(ip) = endpoint.host.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, endpoint.port)]);
    }
    let (tx, rx) = crossbeam_channel::bounded(1);
    let (host, port) = (endpoint.host.clone(), endpoint.port);
    std::thread::Builder::new()
        .name("trueconf-bot-dns".into())
        .spawn(move || {
            let found = (host.as_str(), port)
                .to_socket_addrs()
                .map(|a| a.collect::<Vec<_>>());
            let _ = tx.send(found);
        })?;
    match rx.recv_deadline(deadline) {
        Ok(Ok(addrs)) => Ok(addrs),
        Ok(Err(e)) => Err(Error::Connect(format!(
            "cannot resolve {}: {e}",
            endpoint.host
        ))),
        Err(_) => Err(Error::Timeout {
            kind: TimeoutKind::Connect,
            after: timeout,
        }),
    }
}

/// Opens a TCP connection to the first address that answers by
/// `deadline`, the name lookup included (`timeout` is the limit a timeout
/// error names).
fn tcp_connect(endpoint: &Endpoint, deadline: Instant, timeout: Duration) -> Result<TcpStream> {
    let addrs = resolve(endpoint, deadline, timeout)?;
    let mut last = None;
    for addr in addrs {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        match TcpStream::connect_timeout(&addr, left) {
            Ok(s) => {
                s.set_nodelay(true)?;
                return Ok(s);
            }
            Err(e) => last = Some(e),
        }
    }
    match last {
        Some(e) if e.kind() == std::io::ErrorKind::TimedOut => Err(Error::Timeout {
            kind: TimeoutKind::Connect,
            after: timeout,
        }),
        Some(e) => Err(Error::Connect(format!("{}: {e}", endpoint.authority()))),
        None => Err(Error::Timeout {
            kind: TimeoutKind::Connect,
            after: timeout,
        }),
    }
}

/// Wraps a connected socket in client TLS and completes the handshake
/// before the deadline of `tcp`: running out of time is a
/// [`TimeoutKind::Connect`] timeout reported as `timeout`.
pub fn tls_client(
    endpoint: &Endpoint,
    tcp: Tcp,
    config: Arc<rustls::ClientConfig>,
    timeout: Duration,
) -> Result<Stream> {
    let name = rustls::pki_types::ServerName::try_from(endpoint.host.clone())
        .map_err(|e| Error::Config(format!("server name {:?}: {e}", endpoint.host)))?;
    let conn = rustls::ClientConnection::new(config, name).map_err(|e| Error::Tls(describe(&e)))?;
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    while tls.conn.is_handshaking() {
        tls.conn
            .complete_io(&mut tls.sock)
            .map_err(|e| handshake_io(e, "TLS handshake", timeout))?;
    }
    Ok(Stream::TlsClient(Box::new(tls)))
}

/// An I/O error of the TLS handshake or the WebSocket upgrade, which run
/// under the connect limit `timeout` (as the socket's deadline, see
/// [`Tcp`]): running out of it is [`TimeoutKind::Connect`].
fn handshake_io(e: std::io::Error, during: &str, timeout: Duration) -> Error {
    use std::io::ErrorKind::{TimedOut, WouldBlock};
    if matches!(e.kind(), TimedOut | WouldBlock) {
        return Error::Timeout {
            kind: TimeoutKind::Connect,
            after: timeout,
        };
    }
    match classify_io(e) {
        Error::Io(e) => Error::Connect(format!("{during}: {e}")),
        other => other,
    }
}

/// Whether a handshake failed only because the server did not echo the
/// offered subprotocol (the spec lets servers default to json.v1 silently).
fn is_unechoed_subprotocol(e: &HandshakeError<tungstenite::ClientHandshake<Stream>>) -> bool {
    matches!(
        e,
        HandshakeError::Failure(tungstenite::Error::Protocol(
            tungstenite::error::ProtocolError::SecWebSocketSubProtocolError(
                tungstenite::error::SubProtocolError::NoSubProtocol
            )
        ))
    )
}

/// Opens the WebSocket at `path`: TCP, TLS when the endpoint is secure, the
/// upgrade offering subprotocol `json.v1`. A server that accepts the upgrade
/// without echoing the subprotocol is retried once without offering it;
/// `offer_subprotocol` is cleared then, so reconnects skip the first try.
/// Both tries together end within `timeout`. Returns a non-blocking socket.
pub fn open_websocket(
    endpoint: &Endpoint,
    path: &str,
    tls: Option<Arc<rustls::ClientConfig>>,
    timeout: Duration,
    max_message_size: usize,
    offer_subprotocol: &std::sync::atomic::AtomicBool,
) -> Result<WebSocket<Stream>> {
    use std::sync::atomic::Ordering;
    // One limit for both tries.
    let limit = Limit {
        deadline: crate::time::deadline_after(timeout),
        timeout,
    };
    let offer = offer_subprotocol.load(Ordering::Relaxed);
    match open_once(endpoint, path, tls.clone(), limit, max_message_size, offer) {
        Err(Retry::WithoutSubprotocol) => {
            log::info!("the server does not echo subprotocol {SUBPROTOCOL}; connecting without it");
            offer_subprotocol.store(false, Ordering::Relaxed);
            open_once(endpoint, path, tls, limit, max_message_size, false)
                .map_err(Retry::into_error)
        }
        other => other.map_err(Retry::into_error),
    }
}

enum Retry {
    WithoutSubprotocol,
    Fail(Error),
}

impl Retry {
    fn into_error(self) -> Error {
        match self {
            Retry::Fail(e) => e,
            Retry::WithoutSubprotocol => {
                Error::Connect("WebSocket upgrade: subprotocol refused".into())
            }
        }
    }
}

impl From<Error> for Retry {
    fn from(e: Error) -> Self {
        Retry::Fail(e)
    }
}

impl From<std::io::Error> for Retry {
    fn from(e: std::io::Error) -> Self {
        Retry::Fail(e.into())
    }
}

/// When connecting must be done, and the limit that deadline came from
/// (what a timeout error names).
#[derive(Clone, Copy)]
struct Limit {
    deadline: Instant,
    timeout: Duration,
}

/// One try of [`open_websocket`]: TCP, TLS and the upgrade together within
/// `limit`.
fn open_once(
    endpoint: &Endpoint,
    path: &str,
    tls: Option<Arc<rustls::ClientConfig>>,
    limit: Limit,
    max_message_size: usize,
    offer_subprotocol: bool,
) -> std::result::Result<WebSocket<Stream>, Retry> {
    let Limit { deadline, timeout } = limit;
    let tcp = Tcp::until(tcp_connect(endpoint, deadline, timeout)?, deadline);
    let stream = match (endpoint.secure, tls) {
        (true, Some(config)) => tls_client(endpoint, tcp, config, timeout)?,
        (true, None) => return Err(Error::Config("TLS settings missing".into()).into()),
        (false, _) => Stream::plain_until(tcp),
    };
    let url = endpoint.ws_url(path);
    let mut request = url
        .as_str()
        .into_client_request()
        .map_err(|e| Error::Config(format!("WebSocket URL {url}: {e}")))?;
    if offer_subprotocol {
        request.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            tungstenite::http::HeaderValue::from_static(SUBPROTOCOL),
        );
    }
    let config = Some(ws_config(max_message_size));
    let (mut ws, _response) = tungstenite::client::client_with_config(request, stream, config)
        .map_err(|e| {
            if is_unechoed_subprotocol(&e) {
                return Retry::WithoutSubprotocol;
            }
            Retry::Fail(match e {
                HandshakeError::Failure(tungstenite::Error::Io(io)) => {
                    handshake_io(io, "WebSocket upgrade", timeout)
                }
                HandshakeError::Failure(tungstenite::Error::Http(resp)) => Error::Connect(format!(
                    "WebSocket upgrade refused with HTTP {} at {url}",
                    resp.status()
                )),
                HandshakeError::Failure(other) => {
                    Error::Connect(format!("WebSocket upgrade: {other}"))
                }
                HandshakeError::Interrupted(_) => Error::Timeout {
                    kind: TimeoutKind::Connect,
                    after: timeout,
                },
            })
        })?;
    ws.get_mut().clear_deadline()?;
    ws.get_ref().tcp().set_nonblocking(true)?;
    Ok(ws)
}
