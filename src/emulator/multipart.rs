//! A streaming `multipart/form-data` parser: each wanted part is written to
//! its own sink as it arrives, so a 1 GiB upload never sits in memory.

use std::io::{self, Read, Write};

/// Read size, and roughly the most memory the parser holds.
const CHUNK: usize = 64 * 1024;
/// The largest part-header block accepted.
const MAX_PART_HEAD: usize = 16 * 1024;
/// The most parts accepted in one body.
const MAX_PARTS: usize = 16;

/// One part that was kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Part {
    /// The form field name (`file`, `preview`).
    pub name: String,
    /// The `filename` of `Content-Disposition`, if any.
    pub filename: Option<String>,
    /// The part's `Content-Type`, if any.
    pub content_type: Option<String>,
    /// Bytes written to the sink.
    pub size: u64,
}

/// Why a multipart body was refused.
#[derive(Debug)]
pub(crate) enum MultipartError {
    /// The body is not valid multipart (the client's fault).
    Malformed(String),
    /// Reading the body or writing a sink failed.
    Io(io::Error),
}

impl From<io::Error> for MultipartError {
    fn from(e: io::Error) -> Self {
        // A body that violates its own framing is the client's fault too.
        if matches!(
            e.kind(),
            io::ErrorKind::InvalidData | io::ErrorKind::UnexpectedEof
        ) {
            MultipartError::Malformed(e.to_string())
        } else {
            MultipartError::Io(e)
        }
    }
}

/// The boundary parameter of a `multipart/form-data` content type.
pub(crate) fn boundary(content_type: &str) -> Option<String> {
    let mut params = split_params(content_type).into_iter();
    let media = params.next()?.0;
    if !media.eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    params
        .find(|(k, _)| k.eq_ignore_ascii_case("boundary"))
        .map(|(_, v)| v)
        .filter(|b| !b.is_empty() && b.len() <= 70)
}

/// Splits `a; k=v; k2="q v"` into `[("a",""), ("k","v"), ("k2","q v")]`,
/// honouring quoted strings with backslash escapes.
fn split_params(value: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut chars = value.chars().peekable();
    loop {
        let mut key = String::new();
        let mut val = String::new();
        let mut in_val = false;
        loop {
            match chars.next() {
                None | Some(';') => break,
                Some('=') if !in_val => in_val = true,
                Some('"') if in_val && val.trim().is_empty() => {
                    val.clear();
                    while let Some(c) = chars.next() {
                        match c {
                            '\\' => {
                                if let Some(n) = chars.next() {
                                    val.push(n)
                                }
                            }
                            '"' => break,
                            c => val.push(c),
                        }
                    }
                    // Skip anything up to the next separator.
                    while chars.peek().is_some_and(|c| *c != ';') {
                        chars.next();
                    }
                }
                Some(c) if in_val => val.push(c),
                Some(c) => key.push(c),
            }
        }
        let key = key.trim().to_owned();
        if !key.is_empty() {
            let trimmed = val.trim().to_owned();
            out.push((key, trimmed));
        }
        if chars.peek().is_none() {
            return out;
        }
    }
}

/// Decodes an RFC 8187 `filename*` value (`UTF-8''caf%C3%A9.txt`).
fn ext_value(v: &str) -> Option<String> {
    let mut it = v.splitn(3, '\'');
    let charset = it.next()?;
    let _lang = it.next()?;
    let encoded = it.next()?;
    if !charset.eq_ignore_ascii_case("utf-8") {
        return None;
    }
    // `+` is literal here, unlike in a query string.
    Some(super::http::percent_decode(&encoded.replace('+', "%2B")))
}

/// A read window over the body: `buf[start..end]` holds unconsumed bytes.
struct Scanner<'r, R: Read> {
    reader: &'r mut R,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    eof: bool,
}

impl<R: Read> Scanner<'_, R> {
    fn data(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    /// Reads more; returns false at end of stream. Unconsumed bytes move to
    /// the front first (few: the parser consumes all but a delimiter's
    /// length before asking for more), so the buffer only grows for part
    /// headers, which are bounded.
    fn fill(&mut self) -> io::Result<bool> {
        if self.eof {
            return Ok(false);
        }
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.end == self.buf.len() {
            let len = self.buf.len();
            self.buf.resize(len * 2, 0);
        }
        let n = loop {
            match self.reader.read(&mut self.buf[self.end..]) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        };
        self.end += n;
        if n == 0 {
            self.eof = true;
        }
        Ok(n > 0)
    }

    /// Makes at least `n` bytes available; false when the stream ends first.
    fn want(&mut self, n: usize) -> io::Result<bool> {
        while self.end - self.start < n {
            if !self.fill()? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    fn consume(&mut self, n: usize) {
        self.start += n.min(self.end - self.start);
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    let first = *needle.first()?;
    let mut from = 0;
    while from + needle.len() <= haystack.len() {
        let i = from + haystack[from..].iter().position(|b| *b == first)?;
        if haystack.len() - i < needle.len() {
            return None;
        }
        if &haystack[i..i + needle.len()] == needle {
            return Some(i);
        }
        from = i + 1;
    }
    None
}

/// Streams a multipart body. For each part, `sink(name)` is asked for a
/// writer: `Some` keeps the part (written there), `None` discards it.
/// Returns the kept parts in order.
pub(crate) fn parse<R: Read, W: Write>(
    body: &mut R,
    boundary: &str,
    mut sink: impl FnMut(&str) -> io::Result<Option<W>>,
) -> Result<Vec<Part>, MultipartError> {
    // The delimiter is CRLF "--" boundary; pretend the body starts with a
    // CRLF so the first delimiter (which may open the body) looks the same.
    let delim = format!("\r\n--{boundary}").into_bytes();
    let mut buf = vec![0u8; CHUNK];
    buf[..2].copy_from_slice(b"\r\n");
    let mut s = Scanner {
        reader: body,
        buf,
        start: 0,
        end: 2,
        eof: false,
    };
    // Preamble.
    loop {
        if let Some(i) = find(s.data(), &delim) {
            s.consume(i + delim.len());
            break;
        }
        let keep = delim.len() - 1;
        if s.data().len() > keep {
            let drop = s.data().len() - keep;
            s.consume(drop);
        }
        if !s.fill()? {
            return Err(MultipartError::Malformed(
                "no multipart boundary found".into(),
            ));
        }
    }
    let mut parts = Vec::new();
    let mut seen = 0;
    loop {
        // After a delimiter: "--" ends the body, else padding then CRLF.
        if !s.want(2)? {
            return Err(MultipartError::Malformed(
                "body ended after a boundary".into(),
            ));
        }
        if s.data().starts_with(b"--") {
            // The epilogue is ignored; the caller drains the body.
            return Ok(parts);
        }
        loop {
            if !s.want(2)? {
                return Err(MultipartError::Malformed(
                    "body ended after a boundary".into(),
                ));
            }
            match s.data()[0] {
                b' ' | b'\t' => s.consume(1),
                b'\r' if s.data()[1] == b'\n' => {
                    s.consume(2);
                    break;
                }
                _ => {
                    return Err(MultipartError::Malformed(
                        "garbage after a multipart boundary".into(),
                    ))
                }
            }
        }
        seen += 1;
        if seen > MAX_PARTS {
            return Err(MultipartError::Malformed("too many parts".into()));
        }
        // Part headers, up to an empty line.
        let head_len = loop {
            if s.data().starts_with(b"\r\n") {
                break 2;
            }
            if let Some(i) = find(s.data(), b"\r\n\r\n") {
                break i + 4;
            }
            if s.data().len() > MAX_PART_HEAD {
                return Err(MultipartError::Malformed("part headers too large".into()));
            }
            if !s.fill()? {
                return Err(MultipartError::Malformed(
                    "body ended in part headers".into(),
                ));
            }
        };
        let mut headers = [httparse::EMPTY_HEADER; 16];
        let (name, filename, content_type) = if head_len == 2 {
            (None, None, None)
        } else {
            match httparse::parse_headers(&s.data()[..head_len], &mut headers) {
                Ok(httparse::Status::Complete(_)) => {}
                _ => return Err(MultipartError::Malformed("bad part headers".into())),
            }
            let mut name = None;
            let mut filename = None;
            let mut filename_ext = None;
            let mut content_type = None;
            for h in headers.iter().filter(|h| !h.name.is_empty()) {
                let value = String::from_utf8_lossy(h.value).into_owned();
                if h.name.eq_ignore_ascii_case("content-disposition") {
                    let params = split_params(&value);
                    if !params
                        .first()
                        .is_some_and(|(k, _)| k.eq_ignore_ascii_case("form-data"))
                    {
                        return Err(MultipartError::Malformed(
                            "part disposition is not form-data".into(),
                        ));
                    }
                    for (k, v) in params.into_iter().skip(1) {
                        match k.to_ascii_lowercase().as_str() {
                            "name" => name = Some(v),
                            "filename" => filename = Some(v),
                            "filename*" => filename_ext = ext_value(&v),
                            _ => {}
                        }
                    }
                } else if h.name.eq_ignore_ascii_case("content-type") {
                    content_type = Some(value.trim().to_owned());
                }
            }
            (name, filename_ext.or(filename), content_type)
        };
        s.consume(head_len);
        let Some(name) = name else {
            return Err(MultipartError::Malformed("part without a name".into()));
        };
        let mut writer = sink(&name)?;
        let mut size = 0u64;
        // Part body, up to the next delimiter.
        loop {
            if let Some(i) = find(s.data(), &delim) {
                if let Some(w) = writer.as_mut() {
                    w.write_all(&s.data()[..i])?;
                }
                size += i as u64;
                s.consume(i + delim.len());
                break;
            }
            let keep = delim.len() - 1;
            if s.data().len() > keep {
                let n = s.data().len() - keep;
                if let Some(w) = writer.as_mut() {
                    w.write_all(&s.data()[..n])?;
                }
                size += n as u64;
                s.consume(n);
            }
            if !s.fill()? {
                return Err(MultipartError::Malformed(format!(
                    "body ended inside part {name:?}"
                )));
            }
        }
        if let Some(mut w) = writer {
            w.flush()?;
            parts.push(Part {
                name,
                filename,
                content_type,
                size,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;
    use std::rc::Rc;

    /// A reader that hands out at most `step` bytes per read.
    struct Trickle<'a>(&'a [u8], usize);
    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.0.len().min(buf.len()).min(self.1);
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    /// A sink whose bytes the test can read afterwards.
    #[derive(Clone, Default)]
    struct Sink(Rc<RefCell<Vec<u8>>>);
    impl Write for Sink {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.borrow_mut().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn run(body: &[u8], step: usize) -> Vec<Part> {
        parse(&mut Trickle(body, step), "XyZ", |_| Ok(Some(io::sink()))).unwrap()
    }

    #[test]
    fn parses_file_and_preview_at_any_read_size() {
        let file: Vec<u8> = (0..5000u32).map(|i| (i % 251) as u8).collect();
        let mut body = b"preamble\r\n--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a \\\"b\\\".png\"\r\nContent-Type: image/png\r\n\r\n".to_vec();
        body.extend_from_slice(&file);
        body.extend_from_slice(b"\r\n--XyZ  \r\nContent-Disposition: form-data; name=preview; filename*=UTF-8''caf%C3%A9.webp\r\n\r\nPV\r\n--XyZ--\r\nepilogue");
        for step in [1, 2, 7, 64, 100_000] {
            let parts = run(&body, step);
            assert_eq!(parts.len(), 2, "step {step}");
            assert_eq!(parts[0].name, "file");
            assert_eq!(parts[0].filename.as_deref(), Some("a \"b\".png"));
            assert_eq!(parts[0].content_type.as_deref(), Some("image/png"));
            assert_eq!(parts[0].size, 5000);
            assert_eq!(parts[1].filename.as_deref(), Some("café.webp"));
            assert_eq!(parts[1].size, 2);
        }
    }

    #[test]
    fn streams_exact_bytes_to_sinks() {
        let mut body = b"--XyZ\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\n".to_vec();
        // Content that nearly matches the delimiter.
        let content = b"\r\n--Xy\r\n--XyY\r\r\n-".repeat(100);
        body.extend_from_slice(&content);
        body.extend_from_slice(b"\r\n--XyZ--");
        for step in [1, 3, 4096] {
            let out = Sink::default();
            let parts = parse(&mut Trickle(&body, step), "XyZ", |_| Ok(Some(out.clone()))).unwrap();
            assert_eq!(parts.len(), 1);
            assert_eq!(*out.0.borrow(), content, "step {step}");
        }
    }

    #[test]
    fn empty_part_and_skipped_parts() {
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"other\"\r\n\r\nzzz\r\n--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"e\"\r\n\r\n\r\n--XyZ--\r\n";
        let out = Sink::default();
        let parts = parse(&mut &body[..], "XyZ", |name| {
            Ok((name == "file").then(|| out.clone()))
        })
        .unwrap();
        assert_eq!(parts.len(), 1);
        assert_eq!((parts[0].name.as_str(), parts[0].size), ("file", 0));
    }

    #[test]
    fn rejects_malformed_bodies() {
        let cases: [&[u8]; 5] = [
            b"no boundary at all",
            b"--XyZ\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nunterminated",
            b"--XyZ\r\nContent-Disposition: attachment; name=\"file\"\r\n\r\nx\r\n--XyZ--",
            b"--XyZ\r\nContent-Type: text/plain\r\n\r\nx\r\n--XyZ--",
            b"--XyZgarbage\r\n\r\n",
        ];
        for body in cases {
            let r = parse(&mut &body[..], "XyZ", |_| Ok(Some(Vec::new())));
            assert!(
                matches!(r, Err(MultipartError::Malformed(_))),
                "{:?}",
                String::from_utf8_lossy(body)
            );
        }
    }

    #[test]
    fn reads_boundaries() {
        assert_eq!(
            boundary("multipart/form-data; boundary=----WebKitFormBoundaryQe").as_deref(),
            Some("----WebKitFormBoundaryQe")
        );
        assert_eq!(
            boundary("Multipart/Form-Data; charset=x; boundary=\"a b\"").as_deref(),
            Some("a b")
        );
        assert_eq!(boundary("application/json; boundary=x"), None);
        assert_eq!(boundary("multipart/form-data"), None);
    }
}
