//! A `multipart/form-data` body built by hand and streamed: the part
//! headers are small byte strings, the contents are read from their
//! readers as the HTTP client asks for bytes, and the total length is known
//! in advance so the request carries a real `Content-Length`.

use super::error::FileError;
use std::io::{self, Read};

/// One part of the form: a field name, a file name, a MIME type and a
/// reader giving exactly `len` bytes.
pub(crate) struct Part<'a> {
    pub field: &'static str,
    pub file_name: String,
    pub mime_type: String,
    pub reader: Box<dyn Read + 'a>,
    pub len: u64,
}

/// Reports `(bytes of the first part sent, its length)`.
pub(crate) type Progress<'a> = Box<dyn FnMut(u64, u64) + 'a>;

enum Segment<'a> {
    Bytes(Vec<u8>),
    Content {
        reader: Box<dyn Read + 'a>,
        len: u64,
        /// Whether progress is reported for this part.
        tracked: bool,
    },
}

/// The streaming body. Reading it yields exactly [`MultipartBody::len`]
/// bytes, or fails when a part's reader gives fewer bytes than announced
/// (the failure is kept in [`MultipartBody::failure`]).
pub(crate) struct MultipartBody<'a> {
    segments: Vec<Segment<'a>>,
    /// The current segment and the bytes of it already produced.
    index: usize,
    done_in_segment: u64,
    len: u64,
    progress: Option<Progress<'a>>,
    failure: Option<FileError>,
}

/// A fresh boundary: 32 random hex digits after a recognisable prefix
/// (the whole is well under the 70 characters RFC 2046 allows).
pub(crate) fn new_boundary() -> String {
    let a = crate::config::random_u64();
    let b = crate::config::random_u64().rotate_left(17) ^ a.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    format!("----trueconf-bot-{a:016x}{b:016x}")
}

/// A file name as a quoted-string of `Content-Disposition`, escaped the way
/// browsers do it (HTML form encoding): `"` as `%22`, CR as `%0D`, LF as
/// `%0A`; other characters, UTF-8 included, as they are.
fn quote_file_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 2);
    out.push('"');
    for c in name.chars() {
        match c {
            '"' => out.push_str("%22"),
            '\r' => out.push_str("%0D"),
            '\n' => out.push_str("%0A"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

impl<'a> MultipartBody<'a> {
    /// The body of `parts` between `boundary` lines. The first part's bytes
    /// are reported to `progress`. MIME types must be valid header values.
    pub(crate) fn new(
        boundary: &str,
        parts: Vec<Part<'a>>,
        progress: Option<Progress<'a>>,
    ) -> MultipartBody<'a> {
        let mut segments = Vec::with_capacity(parts.len() * 2 + 1);
        let mut len = 0u64;
        for (i, part) in parts.into_iter().enumerate() {
            let head = format!(
                "{lead}--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename={name}\r\nContent-Type: {mime}\r\n\r\n",
                lead = if i == 0 { "" } else { "\r\n" },
                field = part.field,
                name = quote_file_name(&part.file_name),
                mime = part.mime_type,
            );
            len = len
                .saturating_add(head.len() as u64)
                .saturating_add(part.len);
            segments.push(Segment::Bytes(head.into_bytes()));
            segments.push(Segment::Content {
                reader: part.reader,
                len: part.len,
                tracked: i == 0,
            });
        }
        let tail = format!("\r\n--{boundary}--\r\n");
        len = len.saturating_add(tail.len() as u64);
        segments.push(Segment::Bytes(tail.into_bytes()));
        MultipartBody {
            segments,
            index: 0,
            done_in_segment: 0,
            len,
            progress,
            failure: None,
        }
    }

    /// The exact length of the body in bytes.
    pub(crate) fn len(&self) -> u64 {
        self.len
    }

    /// Why reading failed, when a part's reader broke its announced length.
    pub(crate) fn failure(&mut self) -> Option<FileError> {
        self.failure.take()
    }

    fn report(&mut self, sent: u64, total: u64) {
        if let Some(progress) = self.progress.as_mut() {
            progress(sent, total);
        }
    }

    fn next_segment(&mut self) {
        self.index += 1;
        self.done_in_segment = 0;
    }
}

impl Read for MultipartBody<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            let done = self.done_in_segment;
            let Some(segment) = self.segments.get_mut(self.index) else {
                return Ok(0);
            };
            match segment {
                Segment::Bytes(bytes) => {
                    let rest = bytes.get(done as usize..).unwrap_or(&[]);
                    if rest.is_empty() {
                        self.next_segment();
                        continue;
                    }
                    let n = rest.len().min(buf.len());
                    buf[..n].copy_from_slice(&rest[..n]);
                    self.done_in_segment += n as u64;
                    return Ok(n);
                }
                Segment::Content {
                    reader,
                    len,
                    tracked,
                } => {
                    let (len, tracked) = (*len, *tracked);
                    let left = len - done;
                    if left == 0 {
                        if tracked && len == 0 {
                            self.report(0, 0);
                        }
                        self.next_segment();
                        continue;
                    }
                    let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
                    let n = match reader.read(&mut buf[..want]) {
                        Ok(n) => n,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                        Err(e) => return Err(e),
                    };
                    if n == 0 {
                        self.failure = Some(FileError::SizeMismatch {
                            what: "the upload's source",
                            expected: len,
                            actual: done,
                        });
                        return Err(io::Error::new(
                            io::ErrorKind::UnexpectedEof,
                            format!("the source ended after {done} of {len} bytes"),
                        ));
                    }
                    self.done_in_segment += n as u64;
                    if tracked {
                        self.report(done + n as u64, len);
                    }
                    return Ok(n);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    fn part<'a>(field: &'static str, name: &str, mime: &str, data: &'a [u8]) -> Part<'a> {
        Part {
            field,
            file_name: name.into(),
            mime_type: mime.into(),
            reader: Box::new(data),
            len: data.len() as u64,
        }
    }

    /// Reads everything with a tiny buffer, to cross every segment edge.
    fn drain(body: &mut MultipartBody<'_>) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        let mut buf = [0u8; 3];
        loop {
            let n = body.read(&mut buf)?;
            if n == 0 {
                return Ok(out);
            }
            out.extend_from_slice(&buf[..n]);
        }
    }

    #[test]
    fn frames_a_file_and_a_preview_with_the_exact_length() {
        let seen = RefCell::new(Vec::new());
        let mut body = MultipartBody::new(
            "B",
            vec![
                part("file", "some_image.png", "image/png", b"PNGDATA"),
                part("preview", "p.webp", "image/webp", b"WEBP"),
            ],
            Some(Box::new(|sent, total| {
                seen.borrow_mut().push((sent, total))
            })),
        );
        let expected = "--B\r\n\
            Content-Disposition: form-data; name=\"file\"; filename=\"some_image.png\"\r\n\
            Content-Type: image/png\r\n\r\n\
            PNGDATA\r\n\
            --B\r\n\
            Content-Disposition: form-data; name=\"preview\"; filename=\"p.webp\"\r\n\
            Content-Type: image/webp\r\n\r\n\
            WEBP\r\n\
            --B--\r\n";
        assert_eq!(body.len(), expected.len() as u64);
        let out = drain(&mut body).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), expected);
        drop(body);
        assert_eq!(seen.into_inner(), vec![(3, 7), (6, 7), (7, 7)]);
    }

    #[test]
    fn empty_file_reports_once_and_frames_correctly() {
        let seen = RefCell::new(Vec::new());
        let mut body = MultipartBody::new(
            "B",
            vec![part("file", "empty.txt", "text/plain", b"")],
            Some(Box::new(|s, t| seen.borrow_mut().push((s, t)))),
        );
        let out = drain(&mut body).unwrap();
        assert_eq!(out.len() as u64, body.len());
        assert!(String::from_utf8(out)
            .unwrap()
            .ends_with("\r\n\r\n\r\n--B--\r\n"));
        drop(body);
        assert_eq!(seen.into_inner(), vec![(0, 0)]);
    }

    #[test]
    fn a_short_source_fails_with_a_size_mismatch() {
        let mut p = part("file", "a.bin", "application/octet-stream", b"abc");
        p.len = 10;
        let mut body = MultipartBody::new("B", vec![p], None);
        let err = drain(&mut body).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
        assert_eq!(
            body.failure(),
            Some(FileError::SizeMismatch {
                what: "the upload's source",
                expected: 10,
                actual: 3
            })
        );
    }

    #[test]
    fn a_long_source_is_cut_at_its_announced_length() {
        let mut p = part("file", "a.bin", "application/octet-stream", b"abcdef");
        p.len = 2;
        let mut body = MultipartBody::new("B", vec![p], None);
        let out = drain(&mut body).unwrap();
        assert_eq!(out.len() as u64, body.len());
        assert!(String::from_utf8(out)
            .unwrap()
            .contains("\r\n\r\nab\r\n--B--"));
    }

    #[test]
    fn file_names_cannot_break_the_header() {
        assert_eq!(
            quote_file_name("a\"b\r\nContent-Type: x.txt"),
            "\"a%22b%0D%0AContent-Type: x.txt\""
        );
        assert_eq!(quote_file_name("отчёт.pdf"), "\"отчёт.pdf\"");
        let b = new_boundary();
        assert!(b.len() <= 70 && b.is_ascii() && b != new_boundary());
    }
}
