//! The emulator's protocol rules, checked with a raw tungstenite client and
//! plain HTTP (not through the crate's own client). Every wait is bounded:
//! blocking reads with a timeout, never sleeps.
#![cfg(feature = "emulator")]

use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, Instant};
use trueconf_bot::emulator::{Direction, Emulator};
use tungstenite::client::IntoClientRequest;
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::{Message, WebSocket};

/// The longest any single wait may take.
const WAIT: Duration = Duration::from_secs(5);

fn emulator() -> Emulator {
    Emulator::builder()
        .user("bot", "secret", "Echo Bot")
        .user("alice", "alice-pw", "Alice")
        .start()
        .expect("emulator starts")
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(WAIT))
        .build()
        .new_agent()
}

/// POSTs JSON; returns the status and the parsed body.
fn post_json(agent: &ureq::Agent, url: &str, body: &Value) -> (u16, Value) {
    let mut resp = agent
        .post(url)
        .header("Content-Type", "application/json")
        .send(body.to_string().as_bytes())
        .expect("HTTP request");
    let status = resp.status().as_u16();
    let text = resp.body_mut().read_to_string().expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn token_with(agent: &ureq::Agent, base: &str, login: &str, password: &str) -> String {
    let (status, body) = post_json(
        agent,
        &format!("{base}/bridge/api/client/v1/oauth/token"),
        &json!({"client_id": "chat_bot", "grant_type": "password",
                "username": login, "password": password}),
    );
    assert_eq!(status, 201, "{body}");
    body["access_token"].as_str().expect("token").to_owned()
}

fn token(emu: &Emulator, login: &str, password: &str) -> String {
    token_with(&agent(), emu.url(), login, password)
}

/// A raw WebSocket client.
struct Ws<S: Read + Write> {
    ws: WebSocket<S>,
    /// The subprotocol the server selected.
    protocol: Option<String>,
}

fn connect(emu: &Emulator, path: &str, offer_protocol: bool) -> Ws<TcpStream> {
    let tcp = TcpStream::connect(emu.local_addr()).expect("TCP connect");
    tcp.set_read_timeout(Some(WAIT)).unwrap();
    handshake(
        tcp,
        &format!("ws://{}{path}", emu.local_addr()),
        offer_protocol,
    )
}

fn handshake<S: Read + Write>(stream: S, url: &str, offer_protocol: bool) -> Ws<S> {
    let mut request = url.into_client_request().unwrap();
    if offer_protocol {
        request
            .headers_mut()
            .insert("Sec-WebSocket-Protocol", "json.v1".parse().unwrap());
    }
    let (ws, response) = tungstenite::client::client(request, stream).expect("upgrade");
    let protocol = response
        .headers()
        .get("Sec-WebSocket-Protocol")
        .map(|v| v.to_str().unwrap().to_owned());
    Ws { ws, protocol }
}

impl<S: Read + Write> Ws<S> {
    fn send(&mut self, frame: Value) {
        self.ws
            .send(Message::text(frame.to_string()))
            .expect("send");
    }

    /// The next text frame as JSON; fails after [`WAIT`].
    fn recv(&mut self) -> Value {
        let text = self.recv_text();
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("bad frame {text:?}: {e}"))
    }

    fn recv_text(&mut self) -> String {
        loop {
            match self.ws.read().expect("a frame within the wait") {
                Message::Text(t) => return t.as_str().to_owned(),
                Message::Close(c) => panic!("closed: {c:?}"),
                _ => {}
            }
        }
    }

    /// Sends a request and returns its response payload, acknowledging any
    /// event that arrives first.
    fn request(&mut self, id: u64, method: &str, payload: Value) -> Value {
        self.send(json!({"type": 1, "id": id, "method": method, "payload": payload}));
        loop {
            let frame = self.recv();
            if frame["type"] == 1 {
                self.ack(&frame);
                continue;
            }
            assert_eq!(frame["id"], id, "{frame}");
            return frame["payload"].clone();
        }
    }

    fn ack(&mut self, event: &Value) {
        self.send(json!({"type": 2, "id": event["id"]}));
    }

    fn auth(&mut self, id: u64, token: &str) -> Value {
        self.request(id, "auth", json!({"token": token, "tokenType": "JWE"}))
    }

    /// Logs in asking for the messages that arrived while offline.
    fn auth_unread(&mut self, id: u64, token: &str) {
        let r = self.request(
            id,
            "auth",
            json!({"token": token, "tokenType": "JWE", "receiveUnread": true}),
        );
        assert!(r["userId"].is_string(), "{r}");
    }

    /// Acknowledges events until one with `method` arrives; returns it.
    fn event(&mut self, method: &str) -> Value {
        loop {
            let frame = self.recv();
            assert_eq!(frame["type"], 1, "expected an event: {frame}");
            self.ack(&frame);
            if frame["method"] == method {
                return frame;
            }
        }
    }

    /// Reads until the connection closes; returns the close code, if any.
    fn until_closed(&mut self) -> Option<CloseCode> {
        loop {
            match self.ws.read() {
                Ok(Message::Close(frame)) => return frame.map(|f| f.code),
                Ok(_) => {}
                Err(tungstenite::Error::Io(e))
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    panic!("still open after {WAIT:?}")
                }
                Err(_) => return None,
            }
        }
    }
}

fn code(payload: &Value) -> Option<u64> {
    payload.get("errorCode").and_then(Value::as_u64)
}

#[test]
fn requests_before_auth_get_200_then_auth_with_an_oauth_token() {
    let emu = emulator();
    let mut ws = connect(&emu, "/websocket/chat_bot/", true);
    assert_eq!(ws.protocol.as_deref(), Some("json.v1"));
    let r = ws.request(1, "getChats", json!({"count": 10, "page": 1}));
    assert_eq!(code(&r), Some(200), "{r}");
    let r = ws.request(2, "sendMessage", json!({"chatId": "x"}));
    assert_eq!(code(&r), Some(200), "{r}");

    let token = token(&emu, "bot", "secret");
    let r = ws.auth(3, &token);
    let user_id = r["userId"].as_str().expect("userId");
    assert!(user_id.starts_with("bot@emulator.local/"), "{r}");
    assert!(user_id.len() > "bot@emulator.local/".len());
    let conn = r["connectionId"].as_str().expect("connectionId");
    assert_eq!((conn.len(), conn.matches('-').count()), (36, 4), "{conn}");

    let r = ws.request(4, "getChats", json!({"count": 10, "page": 1}));
    assert_eq!(code(&r), None, "{r}");
}

#[test]
fn a_login_may_name_this_server_but_no_other_and_no_resource() {
    let emu = emulator();
    let server = emu.server_name();
    let token = token(&emu, &format!("bot@{server}"), "secret");
    let mut ws = connect(&emu, "/websocket/chat_bot/", true);
    let r = ws.auth(1, &token);
    let user_id = r["userId"].as_str().expect("userId");
    assert!(user_id.starts_with(&format!("bot@{server}/")), "{r}");
    let url = format!("{}/bridge/api/client/v1/oauth/token", emu.url());
    for login in [
        "bot@elsewhere.local".to_string(),
        format!("bot@{server}/phone"),
    ] {
        let body = json!({"client_id": "chat_bot", "grant_type": "password",
                          "username": login, "password": "secret"});
        let (status, answer) = post_json(&agent(), &url, &body);
        assert_eq!(
            (status, answer["error"].as_str()),
            (400, Some("invalid_grant")),
            "{login}"
        );
    }
}

#[test]
fn bad_tokens_get_201_and_expired_tokens_203() {
    let emu = emulator();
    let mut ws = connect(&emu, "/websocket/chat_bot/", true);
    assert_eq!(code(&ws.auth(1, "garbage")), Some(201));
    assert_eq!(code(&ws.request(2, "auth", json!({}))), Some(201));
    let token = token(&emu, "bot", "secret");
    let r = ws.request(3, "auth", json!({"token": token, "tokenType": "JWT"}));
    assert!(r["userId"].is_string(), "JWT token type accepted: {r}");

    emu.faults().expire_tokens();
    let mut ws = connect(&emu, "/websocket/chat_bot/", true);
    assert_eq!(code(&ws.auth(1, &token)), Some(203));
    assert_eq!(
        code(&ws.request(2, "getChats", json!({"count": 10, "page": 1}))),
        Some(200)
    );
    let fresh = self::token(&emu, "bot", "secret");
    assert!(ws.auth(3, &fresh)["userId"].is_string());
}

#[test]
fn short_token_lifetime_expires() {
    let emu = Emulator::builder()
        .user("bot", "secret", "Bot")
        .token_lifetime(Duration::ZERO)
        .start()
        .unwrap();
    let token = token(&emu, "bot", "secret");
    let mut ws = connect(&emu, "/websocket/chat_bot", false);
    assert_eq!(code(&ws.auth(1, &token)), Some(203));
}

#[test]
fn repeated_and_lower_ids_get_error_2() {
    let emu = emulator();
    let token = token(&emu, "bot", "secret");
    let mut ws = connect(&emu, "/websocket/chat_bot/", true);
    assert!(ws.auth(10, &token)["userId"].is_string());
    assert_eq!(
        code(&ws.request(10, "getChats", json!({"count": 10, "page": 1}))),
        Some(2)
    );
    assert_eq!(
        code(&ws.request(7, "getChats", json!({"count": 10, "page": 1}))),
        Some(2)
    );
    assert_eq!(
        code(&ws.request(11, "getChats", json!({"count": 10, "page": 1}))),
        None
    );
    assert_eq!(
        code(&ws.request(11, "getChats", json!({"count": 10, "page": 1}))),
        Some(2)
    );
}

#[test]
fn events_are_pushed_while_the_client_is_idle_on_both_paths() {
    let emu = emulator();
    let token = token(&emu, "bot", "secret");
    // Without the trailing slash and without offering a subprotocol.
    let mut bare = connect(&emu, "/websocket/chat_bot", false);
    assert_eq!(bare.protocol, None);
    assert!(bare.auth(1, &token)["userId"].is_string());
    let mut slash = connect(&emu, "/websocket/chat_bot/", true);
    assert!(slash.auth(1, &token)["userId"].is_string());

    // The clients are idle (blocked in nothing): alice acts.
    let alice = emu.user("alice");
    let chat = alice.create_p2p_chat("bot").expect("p2p chat");
    let started = Instant::now();
    let sent = alice.send_message(&chat, "hello, bot").expect("sent");
    for ws in [&mut bare, &mut slash] {
        let ev = ws.event("sendMessage");
        assert_eq!(ev["payload"]["messageId"], sent.as_str(), "{ev}");
        assert_eq!(ev["payload"]["content"]["text"], "hello, bot");
    }
    assert!(started.elapsed() < Duration::from_secs(5));

    // Event ids are the session's own and increase.
    let a = alice.send_message(&chat, "one").unwrap();
    let b = alice.send_message(&chat, "two").unwrap();
    let e1 = bare.event("sendMessage");
    let e2 = bare.event("sendMessage");
    assert_eq!(
        (
            e1["payload"]["messageId"].as_str(),
            e2["payload"]["messageId"].as_str()
        ),
        (Some(a.as_str()), Some(b.as_str()))
    );
    assert!(e2["id"].as_u64() > e1["id"].as_u64());
}

#[test]
fn an_unacknowledged_event_closes_the_connection_at_the_deadline() {
    let emu = Emulator::builder()
        .user("bot", "secret", "Bot")
        .ack_deadline(Duration::from_secs(1))
        .start()
        .unwrap();
    let token = token(&emu, "bot", "secret");

    // An acknowledged event keeps the connection open past the deadline.
    let mut good = connect(&emu, "/websocket/chat_bot/", true);
    assert!(good.auth(1, &token)["userId"].is_string());
    emu.faults().send_unknown_event("someEvent");
    let ev = good.event("someEvent");
    assert_eq!(ev["payload"], json!({}));

    // This one never acknowledges.
    let mut bad = connect(&emu, "/websocket/chat_bot/", true);
    assert!(bad.auth(1, &token)["userId"].is_string());
    let started = Instant::now();
    emu.faults().send_unknown_event("anotherEvent");
    let ev = bad.recv();
    assert_eq!(ev["method"], "anotherEvent");
    let _ = good.event("anotherEvent");
    let closed = bad.until_closed();
    let after = started.elapsed();
    assert!(closed.is_some(), "closed with a close frame");
    assert!(
        after >= Duration::from_millis(950),
        "closed after {after:?}"
    );

    // `good` acknowledged both and is still served.
    assert_eq!(
        code(&good.request(2, "getChats", json!({"count": 10, "page": 1}))),
        None
    );
}

#[test]
fn oauth_answers_201_and_each_documented_error() {
    let emu = emulator();
    let agent = agent();
    let url = format!("{}/bridge/api/client/v1/oauth/token", emu.url());
    let good = json!({"client_id": "chat_bot", "grant_type": "password",
                      "username": "bot", "password": "secret"});
    let (status, body) = post_json(&agent, &url, &good);
    assert_eq!(status, 201);
    assert_eq!(body["token_type"], "JWE");
    assert_eq!(body["expires_in"], 365 * 24 * 3600);
    // JWT-shaped with an `exp` claim a year ahead.
    let token = body["access_token"].as_str().unwrap();
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3);
    let claims: Value = serde_json::from_slice(&base64url_decode(parts[1])).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let exp = claims["exp"].as_u64().expect("exp");
    assert!(exp >= now + 365 * 24 * 3600 - 5 && exp <= now + 365 * 24 * 3600 + 5);

    let with = |k: &str, v: Value| {
        let mut b = good.clone();
        b[k] = v;
        b
    };
    let cases = [
        (with("client_id", json!("web")), "invalid_client"),
        (with("grant_type", json!("code")), "unsupported_grant_type"),
        (with("password", json!("wrong")), "invalid_grant"),
        (with("username", json!("nobody")), "invalid_grant"),
        (with("password", json!(12)), "invalid_request"),
        (json!({"client_id": "chat_bot"}), "invalid_request"),
        (json!([1, 2]), "invalid_request"),
    ];
    for (body, error) in cases {
        let (status, answer) = post_json(&agent, &url, &body);
        assert_eq!(
            (status, answer["error"].as_str()),
            (400, Some(error)),
            "{body}"
        );
        assert!(answer["error_description"].is_string());
    }
    // Not JSON, and the wrong content type.
    let mut resp = agent
        .post(&url)
        .header("Content-Type", "application/json")
        .send("{not json")
        .unwrap();
    assert_eq!(resp.status().as_u16(), 400);
    let answer: Value = serde_json::from_str(&resp.body_mut().read_to_string().unwrap()).unwrap();
    assert_eq!(answer["error"], "invalid_request");
    let mut resp = agent
        .post(&url)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .send("client_id=chat_bot&grant_type=password&username=bot&password=secret")
        .unwrap();
    assert_eq!(resp.status().as_u16(), 400);
    let answer: Value = serde_json::from_str(&resp.body_mut().read_to_string().unwrap()).unwrap();
    assert_eq!(answer["error"], "invalid_request");
}

fn base64url_decode(s: &str) -> Vec<u8> {
    let val = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'-' => 62,
        b'_' => 63,
        _ => panic!("not base64url: {c}"),
    };
    let mut out = Vec::new();
    let mut acc = 0u32;
    let mut bits = 0;
    for c in s.bytes() {
        acc = acc << 6 | u32::from(val(c));
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

/// A multipart body with a `file` part and an optional `preview` part.
fn multipart(boundary: &str, file: (&str, &[u8]), preview: Option<(&str, &[u8])>) -> Vec<u8> {
    let mut body = Vec::new();
    let mut part = |name: &str, filename: &str, mime: &str, data: &[u8]| {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; \
                 filename=\"{filename}\"\r\nContent-Type: {mime}\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(data);
        body.extend_from_slice(b"\r\n");
    };
    part("file", file.0, "application/octet-stream", file.1);
    if let Some((name, data)) = preview {
        part("preview", name, "image/webp", data);
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    body
}

fn test_bytes(n: usize, seed: u32) -> Vec<u8> {
    let mut x = seed.wrapping_mul(2_654_435_761).max(1);
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 24) as u8
        })
        .collect()
}

/// A bot session with a group chat to send files into.
fn bot_with_chat(emu: &Emulator) -> (Ws<TcpStream>, String) {
    let token = token(emu, "bot", "secret");
    let mut ws = connect(emu, "/websocket/chat_bot/", true);
    assert!(ws.auth(1, &token)["userId"].is_string());
    let r = ws.request(2, "createGroupChat", json!({"title": "files"}));
    let chat = r["chatId"].as_str().expect("chatId").to_owned();
    (ws, chat)
}

fn upload_task(ws: &mut Ws<TcpStream>, id: u64, size: usize, name: &str) -> String {
    let r = ws.request(
        id,
        "uploadFile",
        json!({"fileSize": size, "fileName": name}),
    );
    r["uploadTaskId"].as_str().expect("uploadTaskId").to_owned()
}

fn get(agent: &ureq::Agent, url: &str) -> (u16, Vec<u8>) {
    let mut resp = agent.get(url).call().expect("GET");
    let status = resp.status().as_u16();
    let body = resp
        .body_mut()
        .with_config()
        .limit(u64::MAX)
        .read_to_vec()
        .expect("body");
    (status, body)
}

#[test]
fn upload_with_content_length_then_download_byte_exact() {
    let emu = emulator();
    let (mut ws, chat) = bot_with_chat(&emu);
    let agent = agent();
    let data = test_bytes(300_000, 7);
    let preview = test_bytes(1_234, 9);
    let task = upload_task(&mut ws, 3, data.len(), "report.bin");
    let boundary = "----WebKitFormBoundaryQeFqWQPxCmHvCIyc";
    let body = multipart(
        boundary,
        ("report.bin", &data),
        Some(("preview-1.webp", &preview)),
    );
    let mut resp = agent
        .post(&format!("{}/bridge/api/client/v1/files", emu.url()))
        .header("Upload-Task-Id", &task)
        .header(
            "Content-Type",
            &format!("multipart/form-data; boundary={boundary}"),
        )
        .send(&body[..])
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let answer: Value = serde_json::from_str(&resp.body_mut().read_to_string().unwrap()).unwrap();
    let temporal = answer["temporalFileId"].as_str().expect("temporalFileId");

    let sent = ws.request(
        4,
        "sendFile",
        json!({"chatId": chat, "content": {"temporalFileId": temporal}}),
    );
    let file_id = sent["fileId"].as_str().expect("fileId");
    let info = ws.request(5, "getFileInfo", json!({ "fileId": file_id }));
    assert_eq!(info["size"], data.len());
    let url = info["downloadUrl"].as_str().expect("downloadUrl");
    assert!(url.starts_with(emu.url()), "{url}");
    let (status, got) = get(&agent, url);
    assert_eq!(status, 200);
    assert!(got == data, "downloaded bytes differ");
    let preview_url = info["previews"][0]["downloadUrl"]
        .as_str()
        .expect("preview");
    let (status, got) = get(&agent, preview_url);
    assert_eq!((status, got == preview), (200, true));
    // Unknown files are 404.
    let (status, _) = get(
        &agent,
        &format!("{}/bridge/api/client/v1/files?file_id=nope", emu.url()),
    );
    assert_eq!(status, 404);
}

/// Sends a raw HTTP/1.1 request and returns the status and the body.
fn raw_http(emu: &Emulator, head: &str, body_chunks: &[&[u8]]) -> (u16, Value) {
    let mut tcp = TcpStream::connect(emu.local_addr()).unwrap();
    tcp.set_read_timeout(Some(WAIT)).unwrap();
    tcp.write_all(head.as_bytes()).unwrap();
    for chunk in body_chunks {
        tcp.write_all(chunk).unwrap();
    }
    let mut reader = BufReader::new(tcp);
    let mut status_line = String::new();
    reader.read_line(&mut status_line).unwrap();
    let status: u16 = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("bad status line {status_line:?}"));
    let mut length = 0;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        if line.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                length = v.trim().parse().unwrap();
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

#[test]
fn upload_with_a_chunked_body() {
    let emu = emulator();
    let (mut ws, chat) = bot_with_chat(&emu);
    let data = test_bytes(70_001, 3);
    let task = upload_task(&mut ws, 3, data.len(), "chunked.bin");
    let body = multipart("b0undary", ("chunked.bin", &data), None);
    // Odd chunk sizes, an extension and a trailer.
    let mut chunked = Vec::new();
    for (i, piece) in body.chunks(4093).enumerate() {
        if i == 1 {
            chunked.extend_from_slice(format!("{:X};x=y\r\n", piece.len()).as_bytes());
        } else {
            chunked.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
        }
        chunked.extend_from_slice(piece);
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\nX-Trailer: 1\r\n\r\n");
    let head = format!(
        "POST /bridge/api/client/v1/files HTTP/1.1\r\nHost: x\r\nUpload-Task-Id: {task}\r\n\
         Content-Type: multipart/form-data; boundary=b0undary\r\nTransfer-Encoding: chunked\r\n\r\n"
    );
    let (status, answer) = raw_http(&emu, &head, &[&chunked[..1000], &chunked[1000..]]);
    assert_eq!(status, 200, "{answer}");
    let temporal = answer["temporalFileId"].as_str().expect("temporalFileId");
    let sent = ws.request(
        4,
        "sendFile",
        json!({"chatId": chat, "content": {"temporalFileId": temporal}}),
    );
    let info = ws.request(5, "getFileInfo", json!({"fileId": sent["fileId"]}));
    let (status, got) = get(&agent(), info["downloadUrl"].as_str().unwrap());
    assert_eq!((status, got.len()), (200, data.len()));
    assert!(got == data);
}

#[test]
fn upload_errors() {
    let emu = emulator();
    let (mut ws, _chat) = bot_with_chat(&emu);
    let agent = agent();
    let url = format!("{}/bridge/api/client/v1/files", emu.url());
    let body = multipart("bnd", ("a.txt", b"hello"), None);
    let post = |task: Option<&str>| {
        let mut req = agent
            .post(&url)
            .header("Content-Type", "multipart/form-data; boundary=bnd");
        if let Some(t) = task {
            req = req.header("Upload-Task-Id", t);
        }
        let mut resp = req.send(&body[..]).unwrap();
        let status = resp.status().as_u16();
        let v: Value = serde_json::from_str(&resp.body_mut().read_to_string().unwrap()).unwrap();
        (status, v)
    };
    let (status, v) = post(None);
    assert_eq!((status, v["error"].as_u64()), (400, Some(310)), "{v}");
    assert_eq!(v["error_description"], "No upload task ID provided");
    let (status, v) = post(Some("no-such-task"));
    assert_eq!(status, 400, "{v}");
    assert!(v["error"].as_u64().is_some_and(|c| c != 310), "{v}");
    // The task announced 6 bytes; the form carries 5.
    let task = upload_task(&mut ws, 3, 6, "a.txt");
    let (status, v) = post(Some(&task));
    assert_eq!((status, v["error"].as_u64()), (400, Some(408)), "{v}");
    // No `file` part at all.
    let task = upload_task(&mut ws, 4, 5, "a.txt");
    let (status, v) = raw_http(
        &emu,
        &format!(
            "POST /bridge/api/client/v1/files HTTP/1.1\r\nHost: x\r\nUpload-Task-Id: {task}\r\n\
             Content-Type: multipart/form-data; boundary=q\r\nContent-Length: 6\r\n\r\n"
        ),
        &[b"--q--\n"],
    );
    assert_eq!(status, 400, "{v}");
    // The task is still usable after a refused upload.
    let (status, v) = post(Some(&task));
    assert_eq!(status, 200, "{v}");
}

#[test]
fn http_basics_server_info_and_malformed_requests() {
    let emu = emulator();
    let agent = agent();
    let mut resp = agent
        .get(&format!("{}/api/v4/server", emu.url()))
        .call()
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let v: Value = serde_json::from_str(&resp.body_mut().read_to_string().unwrap()).unwrap();
    assert_eq!(
        v,
        json!({"product": {"version": "5.5.6", "display_name": "emulator.local"}})
    );
    let (status, _) = get(&agent, &format!("{}/no/such/path", emu.url()));
    assert_eq!(status, 404);
    let (status, v) = raw_http(&emu, "NOT HTTP AT ALL\r\n\r\n", &[]);
    assert_eq!(status, 400, "{v}");
    let (status, _) = raw_http(
        &emu,
        "POST /bridge/api/client/v1/oauth/token HTTP/1.1\r\nContent-Length: zz\r\n\r\n",
        &[],
    );
    assert_eq!(status, 400);
    // A plain GET of the WebSocket path is not an upgrade.
    let (status, _) = get(&agent, &format!("{}/websocket/chat_bot/", emu.url()));
    assert_eq!(status, 426);
}

#[test]
fn wss_and_https_with_the_generated_ca() {
    let emu = Emulator::builder()
        .user("bot", "secret", "Bot")
        .tls_generated()
        .start()
        .unwrap();
    assert!(emu.url().starts_with("https://localhost:"));
    let ca = emu.ca_pem().expect("generated CA");

    // HTTPS through ureq trusting only that CA.
    let cert = ureq::tls::Certificate::from_pem(ca.as_bytes()).unwrap();
    let tls = ureq::tls::TlsConfig::builder()
        .root_certs(ureq::tls::RootCerts::new_with_certs(&[cert]))
        .build();
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(WAIT))
        .tls_config(tls)
        .build()
        .new_agent();
    let token = token_with(&agent, emu.url(), "bot", "secret");

    // WSS through rustls trusting only that CA.
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls::pki_types::CertificateDer::pem_slice_iter(ca.as_bytes()) {
        roots.add(cert.unwrap()).unwrap();
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let tcp = TcpStream::connect(emu.local_addr()).unwrap();
    tcp.set_read_timeout(Some(WAIT)).unwrap();
    let conn = rustls::ClientConnection::new(
        Arc::new(config),
        rustls::pki_types::ServerName::try_from("localhost").unwrap(),
    )
    .unwrap();
    let stream = rustls::StreamOwned::new(conn, tcp);
    let mut ws = handshake(
        stream,
        &format!(
            "wss://localhost:{}/websocket/chat_bot/",
            emu.local_addr().port()
        ),
        true,
    );
    assert_eq!(ws.protocol.as_deref(), Some("json.v1"));
    assert!(ws.auth(1, &token)["userId"].is_string());
    let r = ws.request(2, "createGroupChat", json!({"title": "secure"}));
    assert!(r["chatId"].is_string(), "{r}");
    emu.faults().send_unknown_event("overTls");
    assert_eq!(ws.event("overTls")["method"], "overTls");
}

#[test]
fn control_api_acts_records_frames_and_injects_faults() {
    let emu = emulator();
    let agent = agent();
    let base = format!("{}/emulator/v1", emu.url());
    let token = token(&emu, "bot", "secret");
    let mut ws = connect(&emu, "/websocket/chat_bot/", true);
    assert!(ws.auth(1, &token)["userId"].is_string());

    let (status, r) = post_json(
        &agent,
        &format!("{base}/act"),
        &json!({"as": "alice", "method": "createP2PChat", "payload": {"userId": "bot@emulator.local"}}),
    );
    assert_eq!(status, 200, "{r}");
    let chat = r["chatId"].as_str().expect("chatId").to_owned();
    let (_, r) = post_json(
        &agent,
        &format!("{base}/act"),
        &json!({"as": "alice", "method": "sendMessage",
                "payload": {"chatId": chat, "content": {"text": "hi", "parseMode": "text"}}}),
    );
    assert!(r["messageId"].is_string(), "{r}");
    assert_eq!(ws.event("sendMessage")["payload"]["content"]["text"], "hi");
    let (_, r) = post_json(
        &agent,
        &format!("{base}/act"),
        &json!({"as": "alice", "method": "getChatByID", "payload": {"chatId": "nope"}}),
    );
    assert!(code(&r).is_some(), "{r}");
    let (status, _) = post_json(
        &agent,
        &format!("{base}/act"),
        &json!({"as": "nobody", "method": "getChats", "payload": {}}),
    );
    assert_eq!(status, 404);

    // Frames: the token never appears.
    let (status, lines) = get(&agent, &format!("{base}/frames?format=lines"));
    assert_eq!(status, 200);
    let lines = String::from_utf8(lines).unwrap();
    assert!(!lines.contains(&token));
    let records: Vec<Value> = lines
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(records
        .iter()
        .any(|r| r["direction"] == "in" && r["text"].as_str().unwrap().contains("\"***\"")));
    let frames = emu.frames();
    assert!(frames.len() >= records.len());
    assert!(frames
        .iter()
        .any(|f| f.direction == Direction::Out && f.user.as_deref() == Some("bot@emulator.local")));

    // Faults over HTTP.
    let (status, _) = post_json(
        &agent,
        &format!("{base}/faults/send_unknown_event"),
        &json!({"method": "fromHttp"}),
    );
    assert_eq!(status, 200);
    assert_eq!(ws.event("fromHttp")["method"], "fromHttp");
    let (status, _) = post_json(&agent, &format!("{base}/faults/send-malformed"), &json!({}));
    assert_eq!(status, 200);
    let text = ws.recv_text();
    assert!(serde_json::from_str::<Value>(&text).is_err(), "{text}");
    let (status, _) = post_json(&agent, &format!("{base}/faults/expire_tokens"), &json!({}));
    assert_eq!(status, 200);
    let mut late = connect(&emu, "/websocket/chat_bot/", true);
    assert_eq!(code(&late.auth(1, &token)), Some(203));
    let (status, _) = post_json(&agent, &format!("{base}/faults/no_such_fault"), &json!({}));
    assert_eq!(status, 404);
}

#[test]
fn drop_refuse_and_delay() {
    let emu = emulator();
    let token = token(&emu, "bot", "secret");
    let mut ws = connect(&emu, "/websocket/chat_bot/", true);
    assert!(ws.auth(1, &token)["userId"].is_string());

    // Dropped: the read fails promptly.
    emu.faults().drop_connections();
    assert!(ws.until_closed().is_none(), "no close frame on a drop");

    // Refused: the next connection is closed without an answer.
    emu.faults().refuse_next(1);
    let tcp = TcpStream::connect(emu.local_addr()).unwrap();
    tcp.set_read_timeout(Some(WAIT)).unwrap();
    let url = format!("ws://{}/websocket/chat_bot/", emu.local_addr());
    assert!(tungstenite::client::client(url.as_str(), tcp).is_err());
    let mut ws = connect(&emu, "/websocket/chat_bot/", true);

    // Delayed responses.
    emu.faults().delay_responses(Duration::from_millis(200));
    let started = Instant::now();
    assert!(ws.auth(1, &token)["userId"].is_string());
    assert!(started.elapsed() >= Duration::from_millis(190));
    emu.faults().delay_responses(Duration::ZERO);
    assert_eq!(
        code(&ws.request(2, "getChats", json!({"count": 10, "page": 1}))),
        None
    );
}

#[test]
fn drop_after_auth_answers_the_login_then_drops() {
    let emu = emulator();
    let agent = agent();
    let token = token(&emu, "bot", "secret");
    let (status, _) = post_json(
        &agent,
        &format!("{}/emulator/v1/faults/drop_after_auth", emu.url()),
        &json!({"count": 1}),
    );
    assert_eq!(status, 200);

    // A refused login is not counted: that connection stays up.
    let mut ws = connect(&emu, "/websocket/chat_bot/", true);
    assert_eq!(code(&ws.auth(1, "not-a-token")), Some(201));
    // The next login is answered, then the connection drops (no close frame).
    assert!(ws.auth(2, &token)["userId"].is_string());
    assert!(ws.until_closed().is_none(), "no close frame on a drop");

    // Only one: the next connection stays up.
    let mut ws = connect(&emu, "/websocket/chat_bot/", true);
    assert!(ws.auth(1, &token)["userId"].is_string());
    assert_eq!(
        code(&ws.request(2, "getChats", json!({"count": 10, "page": 1}))),
        None
    );
}

#[test]
fn messages_sent_while_offline_arrive_with_receive_unread() {
    let emu = emulator();
    let token = token(&emu, "bot", "secret");
    let alice = emu.user("alice");
    let chat = alice.create_p2p_chat("bot").unwrap();
    let m1 = alice.send_message(&chat, "while you were out").unwrap();
    let m2 = alice.send_message(&chat, "and again").unwrap();
    // Without receiveUnread nothing is replayed...
    let mut plain = connect(&emu, "/websocket/chat_bot/", true);
    assert!(plain.auth(1, &token)["userId"].is_string());
    emu.faults().send_unknown_event("marker");
    let first = plain.recv();
    assert_eq!(first["method"], "marker", "{first}");
    plain.ack(&first);
    // ...with it, both messages arrive, oldest first.
    let mut replay = connect(&emu, "/websocket/chat_bot/", true);
    replay.auth_unread(1, &token);
    let e1 = replay.event("sendMessage");
    let e2 = replay.event("sendMessage");
    assert_eq!(e1["payload"]["messageId"], m1.as_str());
    assert_eq!(e2["payload"]["messageId"], m2.as_str());
}

#[test]
fn an_ended_session_leaves_unread_only_the_messages_no_other_session_got() {
    let emu = emulator();
    let token = token(&emu, "bot", "secret");
    let alice = emu.user("alice");
    let chat = alice.create_p2p_chat("bot").unwrap();
    let mut old = connect(&emu, "/websocket/chat_bot/", true);
    assert!(old.auth(1, &token)["userId"].is_string());
    // m1 reaches only the old session; m2 reaches both, and only the new
    // one acknowledges it. The old session acknowledges neither.
    let m1 = alice.send_message(&chat, "before the new session").unwrap();
    assert_eq!(old.recv()["payload"]["messageId"], m1.as_str());
    let mut new = connect(&emu, "/websocket/chat_bot/", true);
    assert!(new.auth(1, &token)["userId"].is_string());
    let m2 = alice.send_message(&chat, "to both").unwrap();
    assert_eq!(old.recv()["payload"]["messageId"], m2.as_str());
    assert_eq!(
        new.event("sendMessage")["payload"]["messageId"],
        m2.as_str()
    );
    old.ws.close(None).unwrap();
    assert_eq!(old.until_closed(), None);

    // Once the server has retired the old session, a login that asks for
    // unread messages gets m1 (before the marker that follows the login)
    // and not m2. Until then a probe finds nothing and tries again.
    let deadline = Instant::now() + WAIT;
    let replayed = loop {
        let mut probe = connect(&emu, "/websocket/chat_bot/", true);
        probe.auth_unread(1, &token);
        emu.faults().send_unknown_event("marker");
        let mut replayed = Vec::new();
        loop {
            let frame = probe.recv();
            probe.ack(&frame);
            match frame["method"].as_str() {
                Some("marker") => break,
                _ => replayed.push(frame["payload"]["messageId"].clone()),
            }
        }
        if !replayed.is_empty() || Instant::now() > deadline {
            break replayed;
        }
    };
    assert_eq!(replayed, vec![json!(m1)]);
}

#[test]
fn stop_closes_sessions_and_joins_threads_promptly() {
    let mut emu = emulator();
    let token = token(&emu, "bot", "secret");
    let mut ws = connect(&emu, "/websocket/chat_bot/", true);
    assert!(ws.auth(1, &token)["userId"].is_string());
    // An idle keep-alive HTTP connection and a half-sent request.
    let mut idle = TcpStream::connect(emu.local_addr()).unwrap();
    idle.write_all(b"GET /api/v4/ser").unwrap();
    // Stall reading too: stop must still end the sessions.
    emu.faults().stall(true);
    let started = Instant::now();
    emu.stop();
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(ws.until_closed(), Some(CloseCode::Away));
    assert!(TcpStream::connect_timeout(&emu.local_addr(), Duration::from_secs(1)).is_err());
}

#[test]
fn extreme_settings_do_not_break_sessions() {
    let emu = Emulator::builder()
        .user("bot", "secret", "Bot")
        .ack_deadline(Duration::MAX)
        .ping_interval(Duration::MAX)
        .token_lifetime(Duration::MAX)
        .start()
        .unwrap();
    let token = token(&emu, "bot", "secret");
    let mut ws = connect(&emu, "/websocket/chat_bot/", true);
    assert!(ws.auth(1, &token)["userId"].is_string());
    emu.faults().send_unknown_event("x");
    let ev = ws.recv();
    assert_eq!(ev["method"], "x");
    assert_eq!(
        code(&ws.request(2, "getChats", json!({"count": 10, "page": 1}))),
        None
    );
}

#[test]
fn pings_at_the_interval_and_stall_stops_reading() {
    let emu = Emulator::builder()
        .user("bot", "secret", "Bot")
        .ping_interval(Duration::from_millis(50))
        .start()
        .unwrap();
    let token = token(&emu, "bot", "secret");
    let mut ws = connect(&emu, "/websocket/chat_bot/", true);
    assert!(ws.auth(1, &token)["userId"].is_string());
    let started = Instant::now();
    let first = ws.ws.read().expect("a ping within the wait");
    assert!(matches!(first, Message::Ping(_)), "{first:?}");
    assert!(started.elapsed() < Duration::from_secs(5));

    // Stalled: a request stays unanswered (pings stop too)...
    emu.faults().stall(true);
    ws.send(json!({"type": 1, "id": 2, "method": "getChats", "payload": {"count": 1, "page": 1}}));
    ws.ws
        .get_mut()
        .set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    // Pings already on their way may still come; then 300 ms of silence.
    let silent_by = Instant::now() + Duration::from_secs(5);
    loop {
        match ws.ws.read() {
            Ok(Message::Ping(_) | Message::Pong(_)) => {
                assert!(Instant::now() < silent_by, "pings went on while stalled");
            }
            Ok(other) => panic!("answered while stalled: {other:?}"),
            Err(tungstenite::Error::Io(e))
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                break
            }
            Err(e) => panic!("{e}"),
        }
    }
    // ...and is answered once reading resumes.
    ws.ws.get_mut().set_read_timeout(Some(WAIT)).unwrap();
    emu.faults().stall(false);
    let answer = ws.recv();
    assert_eq!(answer["id"], 2, "{answer}");
}

/// Advances a file still uploading through the control API.
fn advance_upload(agent: &ureq::Agent, emu: &Emulator, file_id: &str, progress: u64) {
    let (status, r) = post_json(
        agent,
        &format!("{}/emulator/v1/files/progress", emu.url()),
        &json!({"fileId": file_id, "progress": progress}),
    );
    assert_eq!(status, 200, "{r}");
}

/// The next frame must be the progress event of `file_id` at `progress`
/// bytes; it is acknowledged.
fn expect_progress(ws: &mut Ws<TcpStream>, file_id: &str, progress: u64) {
    let ev = ws.recv();
    assert_eq!(ev["type"], 1, "{ev}");
    assert_eq!(ev["method"], "uploadFileProgress", "{ev}");
    assert_eq!(
        ev["payload"],
        json!({"fileId": file_id, "progress": progress})
    );
    ws.ack(&ev);
}

/// Sends a marker event to every connection: each of `quiet` must receive
/// it next, so nothing (no progress event) was sent to it before.
fn expect_nothing_else(emu: &Emulator, marker: &str, quiet: &mut [&mut Ws<TcpStream>]) {
    emu.faults().send_unknown_event(marker);
    for ws in quiet {
        let ev = ws.recv();
        assert_eq!(
            ev["method"], marker,
            "expected nothing before {marker}: {ev}"
        );
        ws.ack(&ev);
    }
}

/// Upload progress subscriptions belong to the connection that made them:
/// progress events go to the subscribed connections only, never to the
/// user's other connections; unsubscribing ends only the calling
/// connection's subscription; a closed connection's subscriptions end with
/// it, and the user's next connection gets nothing until it subscribes.
#[test]
fn progress_subscriptions_belong_to_the_connection_that_made_them() {
    let emu = emulator();
    let agent = agent();
    // Alice sends the bot a file that is still uploading on the server.
    let alice = emu.user("alice");
    let chat = alice.create_p2p_chat("bot").unwrap();
    let file = alice
        .send_file(&chat, "video.mp4", &test_bytes(1000, 3))
        .unwrap();
    let id = file.file_id.as_str();
    let sub = json!({ "fileId": id });
    advance_upload(&agent, &emu, id, 0);
    let token = token(&emu, "bot", "secret");
    let mut first = connect(&emu, "/websocket/chat_bot/", true);
    assert!(first.auth(1, &token)["userId"].is_string());
    let mut second = connect(&emu, "/websocket/chat_bot/", true);
    assert!(second.auth(1, &token)["userId"].is_string());

    // (1) The subscribed connection receives the progress; (2) the bot's
    // other connection, not subscribed, receives none.
    let r = first.request(2, "subscribeFileProgress", sub.clone());
    assert_eq!(r, json!({"result": true}));
    advance_upload(&agent, &emu, id, 100);
    expect_progress(&mut first, id, 100);
    expect_nothing_else(&emu, "marker1", &mut [&mut first, &mut second]);

    // (3) The subscribing connection closes and the bot connects again:
    // the new connection receives nothing until it subscribes itself.
    first.ws.close(None).unwrap();
    first.until_closed();
    drop(first);
    let mut third = connect(&emu, "/websocket/chat_bot/", true);
    assert!(third.auth(1, &token)["userId"].is_string());
    advance_upload(&agent, &emu, id, 200);
    expect_nothing_else(&emu, "marker2", &mut [&mut second, &mut third]);
    let r = third.request(2, "subscribeFileProgress", sub.clone());
    assert_eq!(r, json!({"result": true}));
    advance_upload(&agent, &emu, id, 300);
    expect_progress(&mut third, id, 300);
    expect_nothing_else(&emu, "marker3", &mut [&mut second, &mut third]);

    // (4) Both connections subscribed; unsubscribing on one does not end
    // the other's subscription.
    let r = second.request(2, "subscribeFileProgress", sub.clone());
    assert_eq!(r, json!({"result": true}));
    advance_upload(&agent, &emu, id, 400);
    expect_progress(&mut second, id, 400);
    expect_progress(&mut third, id, 400);
    let r = second.request(3, "unsubscribeFileProgress", sub.clone());
    assert_eq!(r, json!({"result": true}));
    advance_upload(&agent, &emu, id, 500);
    expect_progress(&mut third, id, 500);
    expect_nothing_else(&emu, "marker4", &mut [&mut second, &mut third]);
    // The last report (progress = size) ends the subscription.
    advance_upload(&agent, &emu, id, 1000);
    expect_progress(&mut third, id, 1000);
    advance_upload(&agent, &emu, id, 1000);
    expect_nothing_else(&emu, "marker5", &mut [&mut second, &mut third]);

    // On a READY file the one final event goes to the subscribing
    // connection alone.
    let r = second.request(4, "subscribeFileProgress", sub.clone());
    assert_eq!(r, json!({"result": true}));
    expect_progress(&mut second, id, 1000);
    expect_nothing_else(&emu, "marker6", &mut [&mut second, &mut third]);

    // Per connection in the frame log too: every progress event left on the
    // connection that was subscribed at the time. (The first connection is
    // left out: the emulator may still have been ending its session when
    // 200 was reported.)
    let progress_out: Vec<(u64, u64)> = emu
        .frames()
        .iter()
        .filter(|f| f.direction == Direction::Out)
        .filter_map(|f| {
            let v: Value = serde_json::from_str(&f.text).ok()?;
            (v["method"] == "uploadFileProgress")
                .then(|| (f.connection, v["payload"]["progress"].as_u64().unwrap()))
        })
        .collect();
    let [c1, c2, c3] = {
        let mut conns: Vec<u64> = emu
            .frames()
            .iter()
            .filter(|f| f.direction == Direction::In && f.text.contains("\"auth\""))
            .map(|f| f.connection)
            .collect();
        conns.dedup();
        <[u64; 3]>::try_from(conns).expect("three connections")
    };
    assert_eq!(progress_out.first(), Some(&(c1, 100)));
    assert_eq!(
        progress_out
            .iter()
            .filter(|(c, _)| *c != c1)
            .copied()
            .collect::<Vec<_>>(),
        vec![
            (c3, 300),
            (c2, 400),
            (c3, 400),
            (c3, 500),
            (c3, 1000),
            (c2, 1000)
        ]
    );
}
