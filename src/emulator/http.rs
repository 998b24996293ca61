//! Minimal HTTP/1.1 for the emulator: request heads (httparse), bodies with
//! `Content-Length` or chunked framing, and responses with JSON or file
//! bodies. Everything a peer sends is validated; nothing here panics on
//! malformed input.

use crate::transport::stream::Stream;
use serde_json::Value;
use std::io::{self, Read, Write};

/// The largest request head accepted.
pub(crate) const MAX_HEAD: usize = 64 * 1024;
/// The most header lines accepted in a request head.
const MAX_HEADERS: usize = 100;
/// The longest chunk-size line (with extensions) or trailer line accepted.
const MAX_LINE: usize = 4096;
/// Read-buffer size.
const BUF: usize = 64 * 1024;

/// A buffered server-side HTTP connection.
#[derive(Debug)]
pub(crate) struct Conn {
    /// The byte stream (plain or TLS).
    pub stream: Stream,
    buf: Vec<u8>,
    start: usize,
    end: usize,
}

/// A parsed request head.
#[derive(Debug, Clone)]
pub(crate) struct Head {
    /// The request method, e.g. `POST`.
    pub method: String,
    /// The path, without the query string.
    pub path: String,
    /// The raw query string (after `?`), empty when absent.
    pub query: String,
    /// HTTP minor version: 0 for HTTP/1.0, 1 for HTTP/1.1.
    pub minor: u8,
    /// The header lines, names as sent.
    pub headers: Vec<(String, String)>,
}

/// Why no request head could be read.
#[derive(Debug)]
pub(crate) enum HeadError {
    /// The peer closed the connection between requests.
    Closed,
    /// The head exceeded [`MAX_HEAD`] or had too many lines.
    TooLarge,
    /// The head is not valid HTTP/1.x.
    Malformed(String),
    /// The socket failed or timed out.
    Io(io::Error),
}

impl Head {
    /// The first value of a header, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every value of a header.
    pub fn headers_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Whether a comma-separated header (e.g. `Connection`) holds `token`.
    pub fn has_token(&self, name: &str, token: &str) -> bool {
        self.headers_named(name)
            .flat_map(|v| v.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case(token))
    }

    /// Whether the connection stays open after this request.
    pub fn keep_alive(&self) -> bool {
        if self.has_token("connection", "close") {
            return false;
        }
        self.minor >= 1 || self.has_token("connection", "keep-alive")
    }

    /// A query parameter, percent-decoded.
    pub fn query_param(&self, name: &str) -> Option<String> {
        self.query.split('&').find_map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k) == name).then(|| percent_decode(v))
        })
    }

    /// The media type of `Content-Type`, lower case, without parameters.
    pub fn media_type(&self) -> Option<String> {
        self.header("content-type").map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
    }
}

/// Decodes `%XX` escapes and `+` (as a space); invalid escapes stay as they are.
pub(crate) fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => match (hex_val(bytes[i + 1]), hex_val(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h << 4 | l);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// How a request body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Framing {
    /// No body.
    Empty,
    /// `Content-Length` bytes.
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
}

/// The body framing a head declares, or why it is unacceptable.
pub(crate) fn framing(head: &Head) -> Result<Framing, String> {
    let codings: Vec<String> = head
        .headers_named("transfer-encoding")
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().to_ascii_lowercase())
        .filter(|t| !t.is_empty())
        .collect();
    if !codings.is_empty() {
        if head.minor == 0 {
            return Err("Transfer-Encoding in an HTTP/1.0 request".into());
        }
        if codings.last().map(String::as_str) != Some("chunked")
            || codings.iter().filter(|c| *c == "chunked").count() != 1
            || codings.len() != 1
        {
            return Err(format!(
                "unsupported Transfer-Encoding {}",
                codings.join(", ")
            ));
        }
        if head.header("content-length").is_some() {
            return Err("both Transfer-Encoding and Content-Length".into());
        }
        return Ok(Framing::Chunked);
    }
    let mut length = None;
    for v in head.headers_named("content-length") {
        for part in v.split(',') {
            let part = part.trim();
            if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(format!("bad Content-Length {v:?}"));
            }
            let n: u64 = part
                .parse()
                .map_err(|_| format!("bad Content-Length {v:?}"))?;
            if length.is_some_and(|l| l != n) {
                return Err("conflicting Content-Length values".into());
            }
            length = Some(n);
        }
    }
    Ok(match length {
        None | Some(0) => Framing::Empty,
        Some(n) => Framing::Length(n),
    })
}

impl Conn {
    /// Wraps a connected stream.
    pub fn new(stream: Stream) -> Conn {
        Conn {
            stream,
            buf: vec![0; BUF],
            start: 0,
            end: 0,
        }
    }

    fn buffered(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    fn consume(&mut self, n: usize) {
        self.start += n.min(self.end - self.start);
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
    }

    /// Reads more bytes into the buffer; `Ok(0)` at end of stream.
    fn fill(&mut self) -> io::Result<usize> {
        if self.end == self.buf.len() {
            if self.start > 0 {
                self.buf.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
            } else {
                let len = self.buf.len();
                self.buf.resize(len * 2, 0);
            }
        }
        loop {
            match self.stream.read(&mut self.buf[self.end..]) {
                Ok(n) => {
                    self.end += n;
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// Reads the next request head.
    pub fn read_head(&mut self) -> Result<Head, HeadError> {
        loop {
            // Tolerate empty lines before the request line (RFC 9112 2.2).
            while self
                .buffered()
                .first()
                .is_some_and(|b| *b == b'\r' || *b == b'\n')
            {
                self.consume(1);
            }
            if !self.buffered().is_empty() {
                let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
                let mut req = httparse::Request::new(&mut headers);
                match req.parse(&self.buf[self.start..self.end]) {
                    Ok(httparse::Status::Complete(n)) => {
                        let target = req.path.unwrap_or("/");
                        let (path, query) = target.split_once('?').unwrap_or((target, ""));
                        let head = Head {
                            method: req.method.unwrap_or("").to_owned(),
                            path: path.to_owned(),
                            query: query.to_owned(),
                            minor: req.version.unwrap_or(1),
                            headers: req
                                .headers
                                .iter()
                                .map(|h| {
                                    (
                                        h.name.to_owned(),
                                        String::from_utf8_lossy(h.value).trim().to_owned(),
                                    )
                                })
                                .collect(),
                        };
                        self.consume(n);
                        return Ok(head);
                    }
                    Ok(httparse::Status::Partial) => {}
                    Err(httparse::Error::TooManyHeaders) => return Err(HeadError::TooLarge),
                    Err(e) => return Err(HeadError::Malformed(e.to_string())),
                }
                if self.buffered().len() >= MAX_HEAD {
                    return Err(HeadError::TooLarge);
                }
            }
            let had = self.buffered().len();
            match self.fill() {
                Ok(0) if had == 0 => return Err(HeadError::Closed),
                Ok(0) => return Err(HeadError::Malformed("truncated request head".into())),
                Ok(_) => {}
                Err(e) => return Err(HeadError::Io(e)),
            }
        }
    }

    /// A reader over the body of the request whose head was just read.
    /// Answers `Expect: 100-continue` on the first read.
    pub fn body(&mut self, head: &Head) -> Result<Body<'_>, String> {
        let framing = framing(head)?;
        let state = match framing {
            Framing::Empty => BodyState::Done,
            Framing::Length(n) => BodyState::Length(n),
            Framing::Chunked => BodyState::ChunkSize,
        };
        let expect_continue = head.minor >= 1
            && head
                .header("expect")
                .is_some_and(|v| v.eq_ignore_ascii_case("100-continue"))
            && state != BodyState::Done;
        Ok(Body {
            conn: self,
            state,
            expect_continue,
            read: 0,
        })
    }

    /// Reads one CRLF- (or LF-) terminated line, without the terminator.
    fn read_line(&mut self) -> io::Result<Vec<u8>> {
        loop {
            if let Some(i) = self.buffered().iter().position(|b| *b == b'\n') {
                let mut line = self.buffered()[..i].to_vec();
                self.consume(i + 1);
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                return Ok(line);
            }
            if self.buffered().len() > MAX_LINE {
                return Err(invalid("chunked body: line too long"));
            }
            if self.fill()? == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "body ended early",
                ));
            }
        }
    }

    /// Splits the connection into its stream and the bytes read past the
    /// request head (the start of a WebSocket stream after an upgrade).
    pub fn into_parts(self) -> (Stream, Vec<u8>) {
        let leftover = self.buf[self.start..self.end].to_vec();
        (self.stream, leftover)
    }
}

fn invalid(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_owned())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BodyState {
    /// `Content-Length` bytes left.
    Length(u64),
    /// Expecting a chunk-size line.
    ChunkSize,
    /// Inside chunk data, bytes left.
    ChunkData(u64),
    /// Expecting the CRLF after chunk data.
    ChunkEnd,
    /// Reading trailer lines until the empty one.
    Trailers,
    /// The body is complete.
    Done,
}

/// A request body as a byte stream, with its framing removed.
#[derive(Debug)]
pub(crate) struct Body<'a> {
    conn: &'a mut Conn,
    state: BodyState,
    expect_continue: bool,
    read: u64,
}

impl Body<'_> {
    /// Whether the whole body has been read.
    pub fn is_done(&self) -> bool {
        self.state == BodyState::Done
    }

    /// The connection's stream, to answer before the body is drained.
    pub fn stream(&mut self) -> &mut Stream {
        &mut self.conn.stream
    }

    /// Reads and discards the rest of the body, up to `limit` bytes. Returns
    /// whether the body ended within the limit. A body the peer was never
    /// told to send (`Expect: 100-continue` unanswered) is not read at all.
    pub fn discard(&mut self, limit: u64) -> bool {
        if self.expect_continue {
            return false;
        }
        let mut chunk = [0u8; 8192];
        let mut left = limit;
        while !self.is_done() {
            match self.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) if (n as u64) <= left => left -= n as u64,
                Ok(_) | Err(_) => return false,
            }
        }
        self.is_done()
    }

    /// Reads the whole body into memory, refusing one above `limit` bytes.
    pub fn read_limited(&mut self, limit: usize) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        let mut chunk = [0u8; 8192];
        loop {
            let n = self.read(&mut chunk)?;
            if n == 0 {
                return Ok(out);
            }
            if out.len() + n > limit {
                return Err(invalid("request body too large"));
            }
            out.extend_from_slice(&chunk[..n]);
        }
    }

    fn copy_out(&mut self, out: &mut [u8], max: u64) -> io::Result<usize> {
        if self.conn.buffered().is_empty() && self.conn.fill()? == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "body ended early",
            ));
        }
        let avail = self.conn.buffered();
        let n = avail
            .len()
            .min(out.len())
            .min(usize::try_from(max).unwrap_or(usize::MAX));
        out[..n].copy_from_slice(&avail[..n]);
        self.conn.consume(n);
        Ok(n)
    }
}

impl Read for Body<'_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.expect_continue {
            self.expect_continue = false;
            self.conn
                .stream
                .write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
            self.conn.stream.flush()?;
        }
        if out.is_empty() {
            return Ok(0);
        }
        loop {
            match self.state {
                BodyState::Done => return Ok(0),
                BodyState::Length(left) => {
                    let n = self.copy_out(out, left)?;
                    let left = left - n as u64;
                    self.state = if left == 0 {
                        BodyState::Done
                    } else {
                        BodyState::Length(left)
                    };
                    self.read += n as u64;
                    return Ok(n);
                }
                BodyState::ChunkSize => {
                    let line = self.conn.read_line()?;
                    let line = String::from_utf8_lossy(&line);
                    let size = line.split(';').next().unwrap_or("").trim();
                    if size.is_empty() || size.len() > 16 {
                        return Err(invalid("chunked body: bad chunk size"));
                    }
                    let size = u64::from_str_radix(size, 16)
                        .map_err(|_| invalid("chunked body: bad chunk size"))?;
                    self.state = if size == 0 {
                        BodyState::Trailers
                    } else {
                        BodyState::ChunkData(size)
                    };
                }
                BodyState::ChunkData(left) => {
                    let n = self.copy_out(out, left)?;
                    let left = left - n as u64;
                    self.state = if left == 0 {
                        BodyState::ChunkEnd
                    } else {
                        BodyState::ChunkData(left)
                    };
                    self.read += n as u64;
                    return Ok(n);
                }
                BodyState::ChunkEnd => {
                    if !self.conn.read_line()?.is_empty() {
                        return Err(invalid("chunked body: missing CRLF after chunk"));
                    }
                    self.state = BodyState::ChunkSize;
                }
                BodyState::Trailers => {
                    if self.conn.read_line()?.is_empty() {
                        self.state = BodyState::Done;
                    }
                }
            }
        }
    }
}

/// A response to write.
#[derive(Debug)]
pub(crate) struct Response {
    /// The status code.
    pub status: u16,
    /// Extra headers.
    pub headers: Vec<(&'static str, String)>,
    /// The body (JSON unless a header says otherwise).
    pub body: Vec<u8>,
    /// Close the connection after this response.
    pub close: bool,
}

impl Response {
    /// A JSON response.
    pub fn json(status: u16, value: &Value) -> Response {
        Response {
            status,
            headers: vec![("Content-Type", "application/json".into())],
            body: serde_json::to_vec(value).unwrap_or_else(|_| b"{}".to_vec()),
            close: false,
        }
    }

    /// A JSON response that also closes the connection.
    pub fn json_close(status: u16, value: &Value) -> Response {
        Response {
            close: true,
            ..Response::json(status, value)
        }
    }

    /// Adds a header.
    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Response {
        self.headers.push((name, value.into()));
        self
    }
}

/// The reason phrase for a status code.
pub(crate) fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        101 => "Switching Protocols",
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        411 => "Length Required",
        413 => "Content Too Large",
        415 => "Unsupported Media Type",
        426 => "Upgrade Required",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        _ => "Unknown",
    }
}

/// Writes a response head. `length` is the body length announced.
pub(crate) fn write_head(
    out: &mut impl Write,
    status: u16,
    headers: &[(&'static str, String)],
    length: u64,
    keep_alive: bool,
) -> io::Result<()> {
    let mut head = format!("HTTP/1.1 {status} {}\r\n", reason(status));
    head.push_str("Server: TrueConf Bridge (trueconf-bot emulator)\r\n");
    head.push_str("Access-Control-Allow-Origin: *\r\n");
    for (name, value) in headers {
        // Header values come from our own code; strip line breaks anyway.
        let value: String = value.chars().filter(|c| *c != '\r' && *c != '\n').collect();
        head.push_str(name);
        head.push_str(": ");
        head.push_str(&value);
        head.push_str("\r\n");
    }
    head.push_str(&format!("Content-Length: {length}\r\n"));
    head.push_str(if keep_alive {
        "Connection: keep-alive\r\n\r\n"
    } else {
        "Connection: close\r\n\r\n"
    });
    out.write_all(head.as_bytes())
}

/// Writes a whole response and flushes.
pub(crate) fn write_response(
    out: &mut impl Write,
    resp: &Response,
    keep_alive: bool,
) -> io::Result<()> {
    write_head(
        out,
        resp.status,
        &resp.headers,
        resp.body.len() as u64,
        keep_alive && !resp.close,
    )?;
    out.write_all(&resp.body)?;
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;
    use std::net::{TcpListener, TcpStream};

    /// A connection whose peer has already sent `bytes` and closed.
    fn conn_with(bytes: &[u8]) -> Conn {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server, _) = listener.accept().unwrap();
        client.write_all(bytes).unwrap();
        client.shutdown(std::net::Shutdown::Write).unwrap();
        // Keep the client's read side open for 100-continue writes.
        std::mem::forget(client);
        Conn::new(Stream::plain(server))
    }

    #[test]
    fn parses_heads_and_queries() {
        let mut c = conn_with(
            b"\r\nGET /a/b?file_id=x%2Fy&z=1 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
        );
        let h = c.read_head().unwrap();
        assert_eq!((h.method.as_str(), h.path.as_str()), ("GET", "/a/b"));
        assert_eq!(h.query_param("file_id").as_deref(), Some("x/y"));
        assert_eq!(h.query_param("missing"), None);
        assert!(!h.keep_alive());
        assert!(matches!(c.read_head(), Err(HeadError::Closed)));
    }

    #[test]
    fn rejects_garbage_and_truncation() {
        let mut c = conn_with(b"\x16\x03\x01garbage\r\n\r\n");
        assert!(matches!(c.read_head(), Err(HeadError::Malformed(_))));
        let mut c = conn_with(b"GET / HTTP/1.1\r\nHost: h\r\n");
        assert!(matches!(c.read_head(), Err(HeadError::Malformed(_))));
    }

    #[test]
    fn reads_chunked_and_length_bodies() {
        let mut c = conn_with(
            b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\n10\r\n0123456789abcdef\r\n0\r\nX-T: 1\r\n\r\n\
              POST / HTTP/1.1\r\nContent-Length: 4\r\n\r\nwxyz",
        );
        let h = c.read_head().unwrap();
        let mut body = c.body(&h).unwrap();
        let mut s = Vec::new();
        body.read_to_end(&mut s).unwrap();
        assert_eq!(s, b"abc0123456789abcdef");
        assert!(body.is_done());
        let h = c.read_head().unwrap();
        let got = c.body(&h).unwrap().read_limited(10).unwrap();
        assert_eq!(got, b"wxyz");
    }

    #[test]
    fn rejects_bad_framing() {
        let head = |headers: &[(&str, &str)]| Head {
            method: "POST".into(),
            path: "/".into(),
            query: String::new(),
            minor: 1,
            headers: headers
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect(),
        };
        assert!(framing(&head(&[("Content-Length", "-1")])).is_err());
        assert!(framing(&head(&[("Content-Length", "1"), ("Content-Length", "2")])).is_err());
        assert!(framing(&head(&[("Transfer-Encoding", "gzip")])).is_err());
        assert!(framing(&head(&[
            ("Transfer-Encoding", "chunked"),
            ("Content-Length", "2")
        ]))
        .is_err());
        assert_eq!(
            framing(&head(&[("content-length", "7")])),
            Ok(Framing::Length(7))
        );
        let mut c = conn_with(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n");
        let h = c.read_head().unwrap();
        let err = c.body(&h).unwrap().read_limited(100).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
    }

    #[test]
    fn writes_responses() {
        let mut out = Cursor::new(Vec::new());
        let r = Response::json(201, &serde_json::json!({"a": 1}));
        write_response(&mut out, &r, true).unwrap();
        let text = String::from_utf8(out.into_inner()).unwrap();
        assert!(text.starts_with("HTTP/1.1 201 Created\r\n"));
        assert!(text.contains("Content-Length: 7\r\n"));
        assert!(text.ends_with("\r\n\r\n{\"a\":1}"));
    }

    #[test]
    fn decodes_percent_escapes() {
        assert_eq!(percent_decode("a%20b+c%zz%4"), "a b c%zz%4");
    }
}
