//! The minimal answering server and the raw tungstenite baselines.
//!
//! Both the server and the raw client write through [`Corked`]: frames are
//! buffered and written in one `write` right before the next blocking read.
//! A blocking round trip costs exactly what it costs with a plain socket
//! (one write, one read), while a pipelined burst of frames goes out in one
//! syscall, the way any event-loop server or client batches. Without it the
//! server's per-frame flush, not the socket, would be the ceiling.

use std::io::{self, ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};
use tungstenite::{Message, WebSocket};

/// A realistic new-message envelope (spec 10.6 plus the nested `chat`
/// object newer servers send).
pub const EVENT_PAYLOAD: &str = r#"{"chatId":"bd05af54347e04a1c44e70033d35834d4428bb5d","chat":{"chatId":"bd05af54347e04a1c44e70033d35834d4428bb5d","chatTitle":"Support team","chatType":1},"messageId":"d66254de-9d89-4130-8027-c5378f042800","timestamp":1746029007569,"author":{"id":"brown@video.example.com","type":1},"isEdited":false,"box":{"id":4,"position":"0"},"type":200,"content":{"text":"Hello! Could you send me the report for the last quarter, please?","parseMode":"text"}}"#;

/// The `sendMessage` request payload of every round trip.
pub const CHAT_ID: &str = "4a1f88f1070d2f43d385cde9ff61964bc6b74477";
/// The text of every round trip.
pub const TEXT: &str = "Hello, world!";

/// What the raw client sends: the same bytes the client's `send_message`
/// produces, pre-serialised.
pub fn raw_request(id: u64) -> String {
    format!("{{\"type\":1,\"id\":{id},\"method\":\"sendMessage\",\"payload\":{{\"chatId\":\"{CHAT_ID}\",\"replyMessageId\":null,\"content\":{{\"text\":\"{TEXT}\",\"parseMode\":\"text\"}}}}}}")
}

/// The server's answer to `sendMessage`.
const SENT: &str = r#"{"chatId":"4a1f88f1070d2f43d385cde9ff61964bc6b74477","messageId":"d66254de-9d89-4130-8027-c5378f042800","timestamp":1746029007569}"#;

/// A TCP stream whose writes wait for the next read (see the module docs).
pub struct Corked {
    tcp: TcpStream,
    out: Vec<u8>,
}

impl Corked {
    pub fn new(tcp: TcpStream) -> Corked {
        tcp.set_nodelay(true).unwrap();
        Corked {
            tcp,
            out: Vec::with_capacity(64 << 10),
        }
    }

    /// Writes what is buffered now.
    pub fn push(&mut self) -> io::Result<()> {
        if !self.out.is_empty() {
            self.tcp.write_all(&self.out)?;
            self.out.clear();
        }
        Ok(())
    }
}

impl Read for Corked {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.push()?;
        self.tcp.read(buf)
    }
}

impl Write for Corked {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.out.extend_from_slice(buf);
        if self.out.len() >= 256 << 10 {
            self.push()?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The same read size as the client's (tungstenite zero-fills its whole
/// read buffer before each read; the default 128 KiB would cost the raw
/// side several microseconds per round trip that the client does not pay).
fn ws_config() -> tungstenite::protocol::WebSocketConfig {
    tungstenite::protocol::WebSocketConfig::default().read_buffer_size(8 << 10)
}

/// Starts the answering server on loopback; returns its `http://` URL.
///
/// Every request gets a response: `auth` a user id, `sendMessage` a
/// `SentMessage`, anything else `{}`. `benchEvents` `{"count":N,"window":W}`
/// makes it push N `sendMessage` server requests (at most W unacknowledged),
/// then a final `benchDone` request once all N were acknowledged.
pub fn start() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for tcp in listener.incoming() {
            let Ok(tcp) = tcp else { continue };
            let _ = std::thread::Builder::new()
                .name("bench-server".into())
                .spawn(move || serve(tcp));
        }
    });
    url
}

// The handshake callback's error type is tungstenite's, and large.
#[allow(clippy::result_large_err)]
fn serve(tcp: TcpStream) {
    // Echo the subprotocol the client offers (json.v1), as the scripted
    // peer of the tests does; a server that ignores it costs the client a
    // second upgrade (see `transport::connect`).
    let echo = |req: &tungstenite::handshake::server::Request,
                mut resp: tungstenite::handshake::server::Response| {
        if let Some(p) = req.headers().get("Sec-WebSocket-Protocol") {
            resp.headers_mut()
                .insert("Sec-WebSocket-Protocol", p.clone());
        }
        Ok(resp)
    };
    let Ok(mut ws) = tungstenite::accept_hdr_with_config(Corked::new(tcp), echo, Some(ws_config()))
    else {
        return;
    };
    loop {
        let text = match ws.read() {
            Ok(Message::Text(t)) => t,
            Ok(_) => continue,
            Err(tungstenite::Error::Io(e)) if e.kind() == ErrorKind::WouldBlock => continue,
            Err(_) => return,
        };
        let text = text.as_str();
        if text.starts_with("{\"type\":2") {
            continue; // an acknowledgement of one of our requests
        }
        let id = frame_id(text);
        let reply = if text.contains("\"method\":\"sendMessage\"") {
            format!("{{\"type\":2,\"id\":{id},\"payload\":{SENT}}}")
        } else if text.contains("\"method\":\"auth\"") {
            format!("{{\"type\":2,\"id\":{id},\"payload\":{{\"userId\":\"bench@srv\",\"connectionId\":\"c\"}}}}")
        } else {
            format!("{{\"type\":2,\"id\":{id},\"payload\":{{}}}}")
        };
        if ws.write(Message::text(reply)).is_err() {
            return;
        }
        if text.contains("\"method\":\"benchEvents\"") {
            let count = field_u64(text, "\"count\":");
            let window = field_u64(text, "\"window\":").max(1);
            if push_events(&mut ws, count, window).is_err() {
                return;
            }
        }
        if ws.flush().is_err() {
            return;
        }
    }
}

/// Pushes `count` events with at most `window` unacknowledged, then
/// `benchDone`.
fn push_events(ws: &mut WebSocket<Corked>, count: u64, window: u64) -> tungstenite::Result<()> {
    let (mut sent, mut acked) = (0u64, 0u64);
    while acked < count {
        while sent < count && sent - acked < window {
            sent += 1;
            ws.write(Message::text(format!(
                "{{\"type\":1,\"id\":{sent},\"method\":\"sendMessage\",\"payload\":{EVENT_PAYLOAD}}}"
            )))?;
        }
        ws.flush()?;
        if let Message::Text(t) = ws.read()? {
            if t.as_str().starts_with("{\"type\":2") {
                acked += 1;
            }
        }
    }
    ws.write(Message::text(format!(
        "{{\"type\":1,\"id\":{},\"method\":\"benchDone\",\"payload\":{{}}}}",
        count + 1
    )))?;
    ws.flush()
}

/// The `id` of a frame, by a plain scan (the raw side parses no JSON).
pub fn frame_id(text: &str) -> u64 {
    field_u64(text, "\"id\":")
}

fn field_u64(text: &str, key: &str) -> u64 {
    let at = text.find(key).map(|i| i + key.len()).unwrap_or(0);
    text[at..]
        .bytes()
        .take_while(u8::is_ascii_digit)
        .fold(0, |n, b| n * 10 + u64::from(b - b'0'))
}

/// A raw tungstenite client: TCP_NODELAY, corked writes, no JSON.
pub fn raw_client(url: &str) -> WebSocket<Corked> {
    let addr = url.trim_start_matches("http://");
    let tcp = TcpStream::connect(addr).unwrap();
    let (ws, _) = tungstenite::client::client_with_config(
        format!("ws://{addr}/websocket/chat_bot/"),
        Corked::new(tcp),
        Some(ws_config()),
    )
    .unwrap();
    ws
}

fn read_text(ws: &mut WebSocket<Corked>) -> tungstenite::Utf8Bytes {
    loop {
        if let Message::Text(t) = ws.read().unwrap() {
            return t;
        }
    }
}

/// Blocking round trips from one thread: rate and each call's latency.
pub fn blocking(url: &str, n: u64) -> (f64, Vec<Duration>) {
    let mut ws = raw_client(url);
    let mut lat = Vec::with_capacity(n as usize);
    let start = Instant::now();
    for id in 1..=n {
        let t = Instant::now();
        ws.send(Message::text(raw_request(id))).unwrap();
        read_text(&mut ws);
        lat.push(t.elapsed());
    }
    let rate = n as f64 / start.elapsed().as_secs_f64();
    hang_up(ws);
    (rate, lat)
}

/// Up to `window` requests in flight from one thread: rate.
pub fn pipelined(url: &str, n: u64, window: u64) -> f64 {
    let mut ws = raw_client(url);
    let start = Instant::now();
    let (mut sent, mut got) = (0u64, 0u64);
    while got < n {
        while sent < n && sent - got < window {
            sent += 1;
            ws.write(Message::text(raw_request(sent))).unwrap();
        }
        ws.flush().unwrap();
        read_text(&mut ws);
        got += 1;
    }
    let rate = n as f64 / start.elapsed().as_secs_f64();
    hang_up(ws);
    rate
}

/// Event intake: asks for `n` events, reads each (no JSON decoding),
/// acknowledges it, until `benchDone`: events/s.
pub fn events(url: &str, n: u64, window: u64) -> f64 {
    let mut ws = raw_client(url);
    let start = Instant::now();
    ws.send(Message::text(format!(
        "{{\"type\":1,\"id\":1,\"method\":\"benchEvents\",\"payload\":{{\"count\":{n},\"window\":{window}}}}}"
    )))
    .unwrap();
    let mut got = 0u64;
    loop {
        let t = read_text(&mut ws);
        let t = t.as_str();
        if !t.starts_with("{\"type\":1") {
            continue;
        }
        ws.write(Message::text(format!(
            "{{\"type\":2,\"id\":{}}}",
            frame_id(t)
        )))
        .unwrap();
        // Into the cork: written with the next read.
        ws.flush().unwrap();
        if t.contains("\"method\":\"benchDone\"") {
            break;
        }
        got += 1;
    }
    ws.flush().unwrap();
    assert_eq!(got, n);
    let rate = n as f64 / start.elapsed().as_secs_f64();
    hang_up(ws);
    rate
}

/// TCP connect, WebSocket upgrade and one `auth` round trip.
pub fn connect_auth(url: &str) -> Duration {
    let start = Instant::now();
    let mut ws = raw_client(url);
    ws.send(Message::text(
        r#"{"type":1,"id":1,"method":"auth","payload":{"token":"bench","tokenType":"JWE"}}"#,
    ))
    .unwrap();
    read_text(&mut ws);
    let took = start.elapsed();
    hang_up(ws);
    took
}

/// Sends a close frame and drops the connection.
pub fn hang_up(mut ws: WebSocket<Corked>) {
    let _ = ws.close(None);
    let _ = ws.flush();
    let _ = ws.get_mut().push();
}

/// Up to `window` requests in flight from one thread with plain
/// tungstenite on a plain socket: every request is flushed (one `write`
/// each), as a straightforward pipelining client does. For comparison with
/// the corked ceiling of [`pipelined`].
pub fn pipelined_plain(url: &str, n: u64, window: u64) -> f64 {
    let addr = url.trim_start_matches("http://");
    let tcp = TcpStream::connect(addr).unwrap();
    tcp.set_nodelay(true).unwrap();
    let (mut ws, _) = tungstenite::client::client_with_config(
        format!("ws://{addr}/websocket/chat_bot/"),
        tcp,
        Some(ws_config()),
    )
    .unwrap();
    let start = Instant::now();
    let (mut sent, mut got) = (0u64, 0u64);
    while got < n {
        while sent < n && sent - got < window {
            sent += 1;
            ws.send(Message::text(raw_request(sent))).unwrap();
        }
        loop {
            if let Message::Text(_) = ws.read().unwrap() {
                break;
            }
        }
        got += 1;
    }
    let rate = n as f64 / start.elapsed().as_secs_f64();
    let _ = ws.close(None);
    let _ = ws.flush();
    rate
}
