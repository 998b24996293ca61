//! The accept loop and the HTTP side: a thread per connection, TLS when
//! configured, then each request head decides: a WebSocket upgrade (handed
//! to a session) or an HTTP request (the bridge endpoints and the control
//! API).

use super::http::{self, Body, Conn, Head, HeadError, Response};
use super::multipart::{self, MultipartError};
use super::world::StoredFile;
use super::{actor, control, session, Inner};
use crate::transport::connect::{ws_config, SUBPROTOCOL};
use crate::transport::socket::lock;
use crate::transport::stream::{Stream, Tcp};
use serde_json::json;
use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;
use tungstenite::protocol::Role;
use tungstenite::WebSocket;

/// Time allowed for the TLS handshake and the first request head.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// An idle keep-alive connection is closed after this long.
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// A blocked write fails after this long.
const WRITE_TIMEOUT: Duration = Duration::from_secs(60);
/// How much of an unread request body is drained to keep a connection.
const DRAIN_LIMIT: u64 = 1 << 30;
/// The largest OAuth request body.
const MAX_OAUTH_BODY: usize = 64 * 1024;

const OAUTH_PATH: &str = "/bridge/api/client/v1/oauth/token";
const FILES_PATH: &str = "/bridge/api/client/v1/files";
const PREVIEW_PATH: &str = "/bridge/api/client/v1/files/preview";
const SERVER_PATH: &str = "/api/v4/server";
/// The product version `/api/v4/server` reports.
const PRODUCT_VERSION: &str = "5.5.6";

/// Accepts connections until shutdown, a thread for each.
pub(crate) fn accept_loop(inner: Arc<Inner>, listener: TcpListener) {
    loop {
        let accepted = listener.accept();
        if inner.shutdown.load(Ordering::SeqCst) {
            break;
        }
        match accepted {
            Ok((tcp, peer)) => {
                let id = inner.next_conn.fetch_add(1, Ordering::Relaxed);
                log::trace!("connection {id} from {peer}");
                match tcp.try_clone() {
                    Ok(clone) => {
                        lock(&inner.http_conns).insert(id, clone);
                    }
                    Err(e) => {
                        log::debug!("connection {id}: {e}");
                        continue;
                    }
                }
                let worker = inner.clone();
                let spawned = std::thread::Builder::new()
                    .name(format!("emulator-conn-{id}"))
                    .spawn(move || serve_connection(worker, id, tcp));
                match spawned {
                    Ok(handle) => {
                        let mut threads = lock(&inner.threads);
                        reap(&mut threads);
                        threads.push(handle);
                    }
                    Err(e) => {
                        log::warn!("emulator: cannot start a connection thread: {e}");
                        lock(&inner.http_conns).remove(&id);
                    }
                }
            }
            Err(e) => {
                log::debug!("emulator accept: {e}");
                // Out of descriptors and the like: do not spin.
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    }
}

/// Joins the threads that have finished.
fn reap(threads: &mut Vec<JoinHandle<()>>) {
    let mut i = 0;
    while i < threads.len() {
        if threads[i].is_finished() {
            let _ = threads.swap_remove(i).join();
        } else {
            i += 1;
        }
    }
}

fn serve_connection(inner: Arc<Inner>, id: u64, tcp: TcpStream) {
    if inner.shutdown.load(Ordering::SeqCst) {
        lock(&inner.http_conns).remove(&id);
        return;
    }
    let _ = tcp.set_nodelay(true);
    let _ = tcp.set_read_timeout(Some(HANDSHAKE_TIMEOUT));
    let _ = tcp.set_write_timeout(Some(WRITE_TIMEOUT));
    serve(&inner, id, tcp);
    lock(&inner.http_conns).remove(&id);
}

fn tls_accept(config: Arc<rustls::ServerConfig>, tcp: TcpStream) -> io::Result<Stream> {
    let conn = rustls::ServerConnection::new(config).map_err(io::Error::other)?;
    let mut tls = rustls::StreamOwned::new(conn, Tcp::new(tcp));
    while tls.conn.is_handshaking() {
        tls.conn.complete_io(&mut tls.sock)?;
    }
    Ok(Stream::TlsServer(Box::new(tls)))
}

/// What a route answers.
enum Reply {
    Json(Response),
    File {
        file: File,
        size: u64,
        mime: String,
        name: String,
    },
}

fn serve(inner: &Arc<Inner>, id: u64, tcp: TcpStream) {
    let stream = match &inner.tls {
        Some(config) => match tls_accept(config.clone(), tcp) {
            Ok(s) => s,
            Err(e) => {
                log::debug!("connection {id}: TLS handshake failed: {e}");
                return;
            }
        },
        None => Stream::plain(tcp),
    };
    let mut conn = Conn::new(stream);
    loop {
        if inner.shutdown.load(Ordering::SeqCst) {
            return;
        }
        let head = match conn.read_head() {
            Ok(h) => h,
            Err(HeadError::Closed) => return,
            Err(HeadError::Io(e)) => {
                log::trace!("connection {id}: {e}");
                return;
            }
            Err(HeadError::TooLarge) => {
                let r = Response::json_close(
                    431,
                    &json!({"error": "invalid_request", "error_description": "request head too large"}),
                );
                let _ = http::write_response(&mut conn.stream, &r, false);
                return;
            }
            Err(HeadError::Malformed(why)) => {
                let r = Response::json_close(
                    400,
                    &json!({"error": "invalid_request", "error_description": format!("malformed request: {why}")}),
                );
                let _ = http::write_response(&mut conn.stream, &r, false);
                return;
            }
        };
        // The first head had HANDSHAKE_TIMEOUT; later ones wait longer.
        let _ = conn.stream.tcp().set_read_timeout(Some(IDLE_TIMEOUT));
        if !head.path.starts_with("/emulator/") && inner.faults.take_refusal() {
            log::debug!("connection {id}: refused by a fault");
            return;
        }
        if is_ws_path(&head.path) {
            match upgrade_refusal(&head) {
                Some(r) => {
                    let _ = http::write_response(&mut conn.stream, &r, false);
                    return;
                }
                None => {
                    upgrade(inner, id, conn, &head);
                    return;
                }
            }
        }
        let keep_alive = head.keep_alive();
        let mut body = match conn.body(&head) {
            Ok(b) => b,
            Err(why) => {
                let r = Response::json_close(
                    400,
                    &json!({"error": "invalid_request", "error_description": why}),
                );
                let _ = http::write_response(&mut conn.stream, &r, false);
                return;
            }
        };
        let reply = route(inner, &head, &mut body);
        // Answer first, then drain what the handler left unread: a client
        // still sending its body reads the answer once it is done.
        let close = matches!(&reply, Reply::Json(r) if r.close);
        let pause = inner.faults.download_pause();
        let written = write_reply(body.stream(), reply, keep_alive && !close, pause);
        if let Err(e) = written {
            log::trace!("connection {id}: writing the response: {e}");
            return;
        }
        let complete = body.is_done() || (!close && body.discard(DRAIN_LIMIT));
        if !keep_alive || close || !complete {
            return;
        }
    }
}

/// Writes `reply`; a file goes out with `pause` after each chunk (see
/// [`super::Faults::pace_downloads`]).
fn write_reply(
    out: &mut Stream,
    reply: Reply,
    keep_alive: bool,
    pause: std::time::Duration,
) -> io::Result<()> {
    match reply {
        Reply::Json(r) => http::write_response(out, &r, keep_alive),
        Reply::File {
            file,
            size,
            mime,
            name,
        } => {
            let headers = vec![
                ("Content-Type", mime),
                ("Content-Disposition", content_disposition(&name)),
            ];
            http::write_head(out, 200, &headers, size, keep_alive)?;
            let mut reader = file.take(size);
            // Paced: small chunks, each flushed, with a pause after each.
            let mut buf = vec![0u8; if pause.is_zero() { 256 } else { 64 } * 1024];
            let mut sent = 0u64;
            loop {
                let n = match reader.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(e),
                };
                out.write_all(&buf[..n])?;
                sent += n as u64;
                if !pause.is_zero() {
                    out.flush()?;
                    std::thread::sleep(pause);
                }
            }
            out.flush()?;
            if sent != size {
                // The announced length cannot be honoured: end the connection.
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "stored file shorter than announced",
                ));
            }
            Ok(())
        }
    }
}

/// `attachment` with an ASCII fallback and the UTF-8 name (RFC 6266).
fn content_disposition(name: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut encoded = String::new();
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            encoded.push(char::from(b));
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

fn is_ws_path(path: &str) -> bool {
    path == "/websocket/chat_bot/" || path == "/websocket/chat_bot"
}

/// Why a request to the WebSocket path cannot be upgraded, as a response.
fn upgrade_refusal(head: &Head) -> Option<Response> {
    let fail = |status: u16, why: &str| {
        Some(Response::json_close(
            status,
            &json!({"error": "invalid_request", "error_description": why}),
        ))
    };
    if head.method != "GET" {
        return fail(405, "the WebSocket endpoint takes GET");
    }
    if !head.has_token("upgrade", "websocket") {
        return Some(
            Response::json_close(
                426,
                &json!({"error": "invalid_request", "error_description": "WebSocket upgrade required"}),
            )
            .with_header("Upgrade", "websocket"),
        );
    }
    if !head.has_token("connection", "upgrade") {
        return fail(400, "Connection: Upgrade missing");
    }
    if head.header("sec-websocket-version").map(str::trim) != Some("13") {
        return Some(
            Response::json_close(
                426,
                &json!({"error": "invalid_request", "error_description": "WebSocket version 13 required"}),
            )
            .with_header("Sec-WebSocket-Version", "13"),
        );
    }
    if head
        .header("sec-websocket-key")
        .is_none_or(|k| k.trim().is_empty())
    {
        return fail(400, "Sec-WebSocket-Key missing");
    }
    None
}

/// Completes the upgrade and runs the session on this thread.
fn upgrade(inner: &Arc<Inner>, id: u64, mut conn: Conn, head: &Head) {
    let key = head.header("sec-websocket-key").unwrap_or("").trim();
    let accept = tungstenite::handshake::derive_accept_key(key.as_bytes());
    let offered = head
        .headers_named("sec-websocket-protocol")
        .flat_map(|v| v.split(','))
        .any(|p| p.trim() == SUBPROTOCOL);
    let mut response = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {accept}\r\n"
    );
    if offered {
        response.push_str(&format!("Sec-WebSocket-Protocol: {SUBPROTOCOL}\r\n"));
    }
    response.push_str("\r\n");
    let sent = conn
        .stream
        .write_all(response.as_bytes())
        .and_then(|()| conn.stream.flush());
    if let Err(e) = sent {
        log::debug!("connection {id}: upgrade failed: {e}");
        return;
    }
    lock(&inner.http_conns).remove(&id);
    let (stream, leftover) = conn.into_parts();
    let tcp = stream.tcp();
    let ready = tcp
        .set_read_timeout(None)
        .and_then(|()| tcp.set_write_timeout(None))
        .and_then(|()| tcp.set_nonblocking(true));
    if let Err(e) = ready {
        log::debug!("connection {id}: {e}");
        return;
    }
    let ws = WebSocket::from_partially_read(
        stream,
        leftover,
        Role::Server,
        Some(ws_config(inner.settings.max_message_size)),
    );
    session::run(inner.clone(), id, ws);
}

fn not_found() -> Reply {
    Reply::Json(Response::json(
        404,
        &json!({"error": "not_found", "error_description": "no such endpoint"}),
    ))
}

fn not_allowed(allow: &str) -> Reply {
    Reply::Json(
        Response::json(405, &json!({"error": "method_not_allowed"})).with_header("Allow", allow),
    )
}

fn route(inner: &Arc<Inner>, head: &Head, body: &mut Body<'_>) -> Reply {
    let method = head.method.as_str();
    if head.path.starts_with("/emulator/v1/") {
        return Reply::Json(control::handle(inner, head, body));
    }
    match head.path.as_str() {
        OAUTH_PATH if method == "POST" => Reply::Json(oauth(inner, head, body)),
        OAUTH_PATH => not_allowed("POST"),
        FILES_PATH if method == "POST" => Reply::Json(upload(inner, head, body)),
        FILES_PATH if method == "GET" => download(inner, head, false),
        FILES_PATH => not_allowed("GET, POST"),
        PREVIEW_PATH if method == "GET" => download(inner, head, true),
        PREVIEW_PATH => not_allowed("GET"),
        SERVER_PATH if method == "GET" => Reply::Json(Response::json(
            200,
            &json!({"product": {"version": PRODUCT_VERSION,
                                "display_name": inner.settings.server_name}}),
        )),
        SERVER_PATH => not_allowed("GET"),
        _ => not_found(),
    }
}

fn oauth_error(error: &str, description: &str) -> Response {
    Response::json(
        400,
        &json!({"error": error, "error_description": description}),
    )
}

/// `POST /bridge/api/client/v1/oauth/token`: the password grant.
fn oauth(inner: &Inner, head: &Head, body: &mut Body<'_>) -> Response {
    if head.media_type().as_deref() != Some("application/json") {
        return oauth_error("invalid_request", "Content-Type must be application/json");
    }
    let bytes = match body.read_limited(MAX_OAUTH_BODY) {
        Ok(b) => b,
        Err(_) => {
            return Response {
                close: true,
                ..oauth_error("invalid_request", "unreadable request body")
            }
        }
    };
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
        return oauth_error("invalid_request", "the body is not valid JSON");
    };
    let field = |name: &str| value.get(name).and_then(serde_json::Value::as_str);
    let (Some(client_id), Some(grant_type), Some(username), Some(password)) = (
        field("client_id"),
        field("grant_type"),
        field("username"),
        field("password"),
    ) else {
        return oauth_error(
            "invalid_request",
            "client_id, grant_type, username and password are required strings",
        );
    };
    if client_id != "chat_bot" {
        return oauth_error("invalid_client", "Invalid client");
    }
    if grant_type != "password" {
        return oauth_error("unsupported_grant_type", "Unsupported grant type");
    }
    // A login may name this server too (`login@server`, as the spec
    // allows), but not a resource.
    let login = match username.contains('/') {
        true => None,
        false => inner.settings.login_of(username),
    };
    let valid = login
        .and_then(|l| inner.settings.users.get(l))
        .is_some_and(|a| a.password == password);
    let (true, Some(login)) = (valid, login) else {
        return oauth_error("invalid_grant", "Invalid username or password");
    };
    let mut tokens = lock(&inner.tokens);
    let token = tokens.issue(login);
    Response::json(
        201,
        &json!({"access_token": token, "token_type": "JWE",
                "expires_in": tokens.lifetime_secs()}),
    )
}

fn file_error(error: u32, description: &str) -> Response {
    Response::json(
        400,
        &json!({"error": error, "error_description": description}),
    )
}

/// The largest preview part an upload may carry.
const PREVIEW_MAX: u64 = 32 << 20;

/// A part's file that refuses bytes beyond the part's limit (the upload
/// task's size for the file): an upload that grows past it ends there,
/// not once it has filled the disk.
struct Capped<W> {
    out: W,
    left: u64,
}

impl<W: Write> Write for Capped<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if buf.len() as u64 > self.left {
            return Err(io::Error::new(
                io::ErrorKind::FileTooLarge,
                "the part is larger than announced",
            ));
        }
        let n = self.out.write(buf)?;
        self.left -= n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// Removes the files of a failed upload.
struct Cleanup(Vec<PathBuf>);

impl Drop for Cleanup {
    fn drop(&mut self) {
        for p in &self.0 {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// `POST /bridge/api/client/v1/files`: streams the multipart body to the
/// file store and completes the upload task.
fn upload(inner: &Inner, head: &Head, body: &mut Body<'_>) -> Response {
    let Some(task_id) = head
        .header("upload-task-id")
        .map(str::trim)
        .filter(|t| !t.is_empty())
    else {
        return file_error(310, "No upload task ID provided");
    };
    let Some(task) = lock(&inner.world).upload_task(task_id) else {
        return file_error(407, "Upload task not found");
    };
    let Some(boundary) = head.header("content-type").and_then(multipart::boundary) else {
        return file_error(310, "The body must be multipart/form-data with a boundary");
    };
    let mut cleanup = Cleanup(Vec::new());
    let mut paths: HashMap<String, PathBuf> = HashMap::new();
    let parsed = multipart::parse(body, &boundary, |name| {
        if name != "file" && name != "preview" {
            return Ok(None);
        }
        if paths.contains_key(name) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("more than one {name:?} part"),
            ));
        }
        let path = inner.new_file_path(name);
        let file = File::create(&path)?;
        cleanup.0.push(path.clone());
        paths.insert(name.to_owned(), path);
        Ok(Some(Capped {
            out: io::BufWriter::with_capacity(64 * 1024, file),
            left: if name == "file" {
                task.file_size
            } else {
                PREVIEW_MAX
            },
        }))
    });
    let parts = match parsed {
        Ok(parts) => parts,
        Err(MultipartError::Malformed(why)) => {
            return file_error(310, &format!("Malformed multipart body: {why}"));
        }
        Err(MultipartError::Io(e)) if e.kind() == io::ErrorKind::FileTooLarge => {
            // The rest of the body is left unread: the connection ends.
            return Response {
                close: true,
                ..file_error(
                    408,
                    &format!(
                        "A part is larger than allowed (the file: the upload task's \
                         fileSize {}; a preview: {PREVIEW_MAX} bytes)",
                        task.file_size
                    ),
                )
            };
        }
        Err(MultipartError::Io(e)) => {
            log::debug!("upload failed: {e}");
            return Response {
                close: true,
                ..file_error(400, "The upload failed")
            };
        }
    };
    let stored = |name: &str| -> Option<StoredFile> {
        let part = parts.iter().find(|p| p.name == name)?;
        let path = paths.get(name)?.clone();
        let file_name = part.filename.clone().unwrap_or_else(|| {
            if name == "file" {
                task.file_name.clone().unwrap_or_else(|| "file".to_owned())
            } else {
                "preview".to_owned()
            }
        });
        let mime_type = part
            .content_type
            .clone()
            .unwrap_or_else(|| actor::guess_mime(&file_name).to_owned());
        Some(StoredFile {
            path,
            size: part.size,
            name: file_name,
            mime_type,
        })
    };
    let Some(file) = stored("file") else {
        return file_error(310, "The form has no \"file\" part");
    };
    let preview = stored("preview");
    if file.size != task.file_size {
        return file_error(
            408,
            &format!(
                "File size {} differs from the upload task's fileSize {}",
                file.size, task.file_size
            ),
        );
    }
    let part_name = |n: &str| {
        parts
            .iter()
            .find(|x| x.name == n)
            .and_then(|x| x.filename.clone())
    };
    if preview.is_some()
        && part_name("preview").is_some()
        && part_name("preview") == part_name("file")
    {
        return file_error(310, "The preview's file name must differ from the file's");
    }
    let result = lock(&inner.world).complete_upload(task_id, file, preview);
    match result {
        Ok(temporal) => {
            cleanup.0.clear();
            Response::json(200, &json!({ "temporalFileId": temporal }))
        }
        Err(rejection) => Response::json(
            rejection.status,
            &json!({"error": rejection.error, "error_description": rejection.description}),
        ),
    }
}

/// `GET .../files?file_id=` and `GET .../files/preview?file_id=`.
fn download(inner: &Inner, head: &Head, preview: bool) -> Reply {
    let Some(file_id) = head.query_param("file_id").filter(|f| !f.is_empty()) else {
        return Reply::Json(file_error(400, "file_id is required"));
    };
    let found = lock(&inner.world).download(&file_id, preview);
    let missing = || {
        Reply::Json(Response::json(
            404,
            &json!({"error": 308, "error_description": "File not found"}),
        ))
    };
    let Some(stored) = found else {
        return missing();
    };
    let Ok(file) = File::open(&stored.path) else {
        return missing();
    };
    let size = file.metadata().map(|m| m.len()).unwrap_or(stored.size);
    Reply::File {
        file,
        size,
        mime: stored.mime_type,
        name: stored.name,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_disposition_is_safe() {
        assert_eq!(
            content_disposition("a \"b\".txt"),
            "attachment; filename=\"a _b_.txt\"; filename*=UTF-8''a%20%22b%22.txt"
        );
        assert!(content_disposition("отчёт\r\n.pdf").is_ascii());
    }
}
