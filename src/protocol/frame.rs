//! The JSON frame that carries every WebSocket message in both directions.
//!
//! A request is `{"type":1,"id":N,"method":M,"payload":{..}}`, a response is
//! `{"type":2,"id":N,"payload":{..}}`. The payload is kept as raw JSON so the
//! I/O thread only parses the envelope; the typed payload is decoded by the
//! thread that wants it.

use super::envelope_scan::scan;
use serde::Deserialize;
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::cell::Cell;
use std::fmt::{self, Write as _};
use std::ops::Range;
use tungstenite::Utf8Bytes;

/// `MESSAGE_TYPE.REQUEST`.
pub const TYPE_REQUEST: u32 = 1;
/// `MESSAGE_TYPE.RESPONSE`.
pub const TYPE_RESPONSE: u32 = 2;

/// One decoded frame with its payload still raw: by default an owned
/// [`RawValue`], or a [`FramePayload`] left in the frame's own text
/// ([`Frame::parse_shared`]).
#[derive(Debug)]
pub enum Frame<P = Box<RawValue>> {
    /// A request: a client command, or a server event.
    Request {
        /// The sender's request id.
        id: u64,
        /// The command or event name.
        method: String,
        /// The payload, `None` when absent.
        payload: Option<P>,
    },
    /// A response to a request with the same id.
    Response {
        /// The id of the request answered.
        id: u64,
        /// The payload, `None` when absent (an acknowledgement).
        payload: Option<P>,
    },
}

/// A payload left where it arrived, in the text of its frame: reading a
/// frame copies nothing, and the thread that wants the payload decodes it
/// from there. Cheap to clone (the frame's text is shared).
#[derive(Clone)]
pub struct FramePayload {
    frame: Utf8Bytes,
    range: Range<usize>,
    /// The payload may carry an `errorCode` (see [`error_code`]): false
    /// only when the envelope scan found no such key in it.
    error_key: bool,
}

impl FramePayload {
    /// The payload's JSON text.
    pub fn get(&self) -> &str {
        &self.frame.as_str()[self.range.clone()]
    }

    /// The payload in an allocation of its own. A payload shares the read
    /// buffer its frame arrived in (several kilobytes, whatever the frame's
    /// size): one that may be held for long, such as a queued event, is
    /// detached so that it keeps only itself alive.
    pub fn detached(self) -> FramePayload {
        let len = self.range.len();
        FramePayload {
            frame: Utf8Bytes::from(self.get()),
            range: 0..len,
            error_key: self.error_key,
        }
    }

    /// [`error_code`] of this payload, without looking at it again when
    /// the envelope scan saw no `errorCode` key in it.
    pub(crate) fn error_code(&self) -> Result<Option<u32>, serde_json::Error> {
        match self.error_key {
            true => error_code(Some(self.get())),
            false => Ok(None),
        }
    }
}

impl fmt::Debug for FramePayload {
    // Payloads may carry secrets (tokens, links with keys): only the size.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FramePayload({} bytes)", self.range.len())
    }
}

/// Why a text frame could not be read as a protocol frame.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// The text is not JSON, or not an object of the expected shape.
    #[error("malformed frame: {0}")]
    Malformed(String),
    /// A request without a `method`.
    #[error("request frame without a method")]
    MissingMethod,
    /// `type` is neither 1 (request) nor 2 (response).
    #[error("unknown frame type {0}")]
    UnknownType(u64),
}

#[derive(Deserialize)]
struct RawFrame<'a> {
    #[serde(
        rename = "type",
        deserialize_with = "crate::protocol::lenient::u64_any"
    )]
    kind: u64,
    #[serde(deserialize_with = "crate::protocol::lenient::u64_any")]
    id: u64,
    #[serde(default, borrow)]
    method: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    payload: Option<&'a RawValue>,
}

impl Frame {
    /// Parses one text frame.
    pub fn parse(text: &str) -> Result<Frame, FrameError> {
        Frame::parse_with(text, RawValue::to_owned)
    }
}

impl Frame<FramePayload> {
    /// Parses one text frame, leaving the payload in `text` (no copy: the
    /// payload shares `text`).
    ///
    /// The payload is not checked here beyond its brackets and quotes: it
    /// is checked when it is decoded, by whoever wants it.
    pub fn parse_shared(text: &Utf8Bytes) -> Result<Frame<FramePayload>, FrameError> {
        if let Some(envelope) = scan(text.as_str()) {
            let payload = envelope.payload.map(|range| FramePayload {
                frame: text.clone(),
                range,
                error_key: envelope.error_key,
            });
            return match envelope.kind {
                1 => Ok(Frame::Request {
                    id: envelope.id,
                    method: text.as_str()[envelope.method.ok_or(FrameError::MissingMethod)?]
                        .to_owned(),
                    payload,
                }),
                2 => Ok(Frame::Response {
                    id: envelope.id,
                    payload,
                }),
                other => Err(FrameError::UnknownType(other)),
            };
        }
        let base = text.as_str().as_ptr() as usize;
        Frame::parse_with(text.as_str(), |raw| {
            let start = raw.get().as_ptr() as usize - base;
            FramePayload {
                frame: text.clone(),
                range: start..start + raw.get().len(),
                error_key: true,
            }
        })
    }
}

impl<P> Frame<P> {
    /// Parses `text`, keeping the payload as `keep` makes it.
    fn parse_with(text: &str, keep: impl FnOnce(&RawValue) -> P) -> Result<Frame<P>, FrameError> {
        // Serde would also accept a JSON array for a struct; a frame is an object.
        if !text.trim_start().starts_with('{') {
            return Err(FrameError::Malformed(
                "a frame must be a JSON object".into(),
            ));
        }
        let raw: RawFrame<'_> =
            serde_json::from_str(text).map_err(|e| FrameError::Malformed(e.to_string()))?;
        // `"payload": null` is treated like an absent payload.
        let payload = raw.payload.filter(|p| p.get() != "null").map(keep);
        match raw.kind {
            1 => Ok(Frame::Request {
                id: raw.id,
                method: raw.method.ok_or(FrameError::MissingMethod)?.into_owned(),
                payload,
            }),
            2 => Ok(Frame::Response {
                id: raw.id,
                payload,
            }),
            other => Err(FrameError::UnknownType(other)),
        }
    }

    /// The frame's id.
    pub fn id(&self) -> u64 {
        match self {
            Frame::Request { id, .. } | Frame::Response { id, .. } => *id,
        }
    }
}

thread_local! {
    /// A reused buffer: a request's payload is encoded without an
    /// allocation of its own.
    static PAYLOAD_SCRATCH: Cell<Vec<u8>> = const { Cell::new(Vec::new()) };
}

/// Buffers above this size are not kept for reuse.
const SCRATCH_KEEP: usize = 64 << 10;

/// Serialises `payload` to JSON (UTF-8 bytes) in a reused buffer and hands
/// it to `f`: no allocation for the intermediate text.
pub fn with_json<T: serde::Serialize + ?Sized, R>(
    payload: &T,
    f: impl FnOnce(&[u8]) -> R,
) -> Result<R, serde_json::Error> {
    // Taken out for the call: a nested use gets a fresh buffer.
    let mut bytes = PAYLOAD_SCRATCH.take();
    bytes.clear();
    let r = serde_json::to_writer(&mut bytes, payload).map(|()| f(&bytes));
    if bytes.capacity() <= SCRATCH_KEEP {
        PAYLOAD_SCRATCH.set(bytes);
    }
    r
}

/// Appends a request frame around an already serialised payload (UTF-8
/// JSON) to `out`.
pub fn write_request(out: &mut Vec<u8>, id: u64, method: &str, payload_json: &[u8]) {
    out.extend_from_slice(b"{\"type\":1,\"id\":");
    write_u64(out, id);
    out.extend_from_slice(b",\"method\":");
    // Method names are plain identifiers, but escape them anyway.
    if method
        .bytes()
        .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\')
    {
        out.push(b'"');
        out.extend_from_slice(method.as_bytes());
        out.push(b'"');
    } else if serde_json::to_writer(&mut *out, method).is_err() {
        out.extend_from_slice(b"\"\"");
    }
    out.extend_from_slice(b",\"payload\":");
    out.extend_from_slice(payload_json);
    out.push(b'}');
}

/// Appends the decimal digits of `n`.
fn write_u64(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[at..]);
}

/// Text written by the functions here, which write UTF-8 only.
fn into_text(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// Writes a request frame around an already serialised payload.
pub fn request_text(id: u64, method: &str, payload_json: &str) -> String {
    let mut out = Vec::with_capacity(48 + method.len() + payload_json.len());
    write_request(&mut out, id, method, payload_json.as_bytes());
    into_text(out)
}

/// Writes a response frame around an already serialised payload.
pub fn response_text(id: u64, payload_json: &str) -> String {
    let mut out = String::with_capacity(32 + payload_json.len());
    let _ = write!(out, "{{\"type\":2,\"id\":{id},\"payload\":");
    out.push_str(payload_json);
    out.push('}');
    out
}

/// The bare acknowledgement of a server request: `{"type":2,"id":N}`.
pub fn ack_text(id: u64) -> String {
    let mut out = Vec::new();
    write_ack(&mut out, id);
    into_text(out)
}

/// Appends [`ack_text`] to `out`.
pub fn write_ack(out: &mut Vec<u8>, id: u64) {
    out.extend_from_slice(b"{\"type\":2,\"id\":");
    write_u64(out, id);
    out.push(b'}');
}

/// The `errorCode` of an error payload, if the payload is one. A code of 0
/// (or `null`) means success (the official SDK reads it so), so it is not
/// an error. A payload that has the key but no code it can be read as (a
/// negative or fractional number, a word, the key twice, ...) is still a
/// failure: `Err` says why the code is unreadable.
pub fn error_code(payload: Option<&str>) -> Result<Option<u32>, serde_json::Error> {
    #[derive(Deserialize)]
    struct ErrorPayload<'a> {
        #[serde(rename = "errorCode", borrow, default)]
        error_code: Option<&'a RawValue>,
    }
    let Some(p) = payload else {
        return Ok(None);
    };
    // Only objects can carry an error code; arrays (getChats) never do.
    // Most payloads are successes: skip the parse when the key is not
    // there at all.
    if !p.trim_start().starts_with('{') || !p.contains("\"errorCode\"") {
        return Ok(None);
    }
    let code = match serde_json::from_str::<ErrorPayload<'_>>(p) {
        Ok(ErrorPayload {
            error_code: Some(code),
        }) => code,
        Ok(ErrorPayload { error_code: None }) => return Ok(None),
        // Not JSON at all: decoding the payload reports that.
        Err(e) if e.is_syntax() || e.is_eof() => return Ok(None),
        // The key twice.
        Err(e) => return Err(e),
    };
    if code.get() == "null" {
        return Ok(None);
    }
    let code =
        crate::protocol::lenient::u32_any(&mut serde_json::Deserializer::from_str(code.get()))?;
    Ok((code != 0).then_some(code))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_request_and_response() {
        let f =
            Frame::parse(r#"{"type":1,"id":3,"method":"sendMessage","payload":{"a":1}}"#).unwrap();
        match f {
            Frame::Request {
                id,
                method,
                payload,
            } => {
                assert_eq!((id, method.as_str()), (3, "sendMessage"));
                assert_eq!(payload.unwrap().get(), r#"{"a":1}"#);
            }
            other => panic!("{other:?}"),
        }
        let f = Frame::parse(r#"{"type":2,"id":"7"}"#).unwrap();
        assert!(matches!(
            f,
            Frame::Response {
                id: 7,
                payload: None
            }
        ));
    }

    #[test]
    fn shared_payloads_stay_in_their_frame() {
        let text = Utf8Bytes::from(r#"{"type":2,"id":4,"payload":{"chatId":"c\"1"}}"#);
        match Frame::parse_shared(&text).unwrap() {
            Frame::Response {
                id: 4,
                payload: Some(p),
            } => {
                assert_eq!(p.get(), r#"{"chatId":"c\"1"}"#);
                assert_eq!(format!("{p:?}"), "FramePayload(17 bytes)");
                let alone = p.clone().detached();
                assert_eq!(alone.get(), p.get());
                assert_eq!(alone.frame.len(), 17, "only the payload is kept");
            }
            other => panic!("{other:?}"),
        }
        let text = Utf8Bytes::from(r#"{"payload":null,"id":1,"type":1,"method":"m\u0041"}"#);
        match Frame::parse_shared(&text).unwrap() {
            Frame::Request {
                id: 1,
                method,
                payload: None,
            } => assert_eq!(method, "mA"),
            other => panic!("{other:?}"),
        }
    }

    /// A frame, or why it was rejected, as text; `get` gives the payload's.
    fn summary<P>(frame: Result<Frame<P>, FrameError>, get: impl Fn(&P) -> &str) -> String {
        match frame {
            Ok(Frame::Request {
                id,
                method,
                payload,
            }) => format!("req {id} {method:?} {:?}", payload.as_ref().map(get)),
            Ok(Frame::Response { id, payload }) => {
                format!("resp {id} {:?}", payload.as_ref().map(get))
            }
            Err(e) => format!("error {e}"),
        }
    }

    #[test]
    fn the_quick_scan_agrees_with_the_full_parse() {
        let spec = include_str!("../../tests/data/spec_frames.jsonl");
        let extra = [
            r#"{"type":3,"id":1}"#,
            r#"{"type":1,"id":1,"payload":{}}"#,
            r#"{"type":1,"id":1,"method":null}"#,
            r#" { "id" : "5" , "type" : "2" , "payload" : [ {"a" : "\"}" } ] } "#,
        ];
        let mut scanned = 0;
        for line in spec.lines().chain(extra).filter(|l| !l.trim().is_empty()) {
            scanned += usize::from(scan(line).is_some());
            let full = summary(Frame::parse(line), |p| p.get());
            let shared = summary(Frame::parse_shared(&Utf8Bytes::from(line)), |p| p.get());
            assert_eq!(shared, full, "{line}");
        }
        assert!(
            scanned > 30,
            "the scan handles the spec's frames ({scanned})"
        );
    }

    /// Checks [`Frame::parse_shared`] against [`Frame::parse`] on `text`:
    /// both give the same frame or the same error, unless the scan accepts
    /// a payload that is not valid JSON. Then the full parse rejects the
    /// frame, and with a valid payload in its place reads what the scan
    /// read. A payload the scan saw no `errorCode` key in has no error
    /// code. Returns whether the scan accepted `text`.
    fn assert_agreement(text: &str) -> bool {
        let full = summary(Frame::parse(text), |p| p.get());
        let shared = summary(Frame::parse_shared(&Utf8Bytes::from(text)), |p| p.get());
        let Some(envelope) = scan(text) else {
            assert_eq!(shared, full, "{text:?}");
            return false;
        };
        if let (Some(payload), false) = (&envelope.payload, envelope.error_key) {
            let code = error_code(Some(&text[payload.clone()]));
            assert!(matches!(code, Ok(None)), "{text:?}: {code:?}");
        }
        let bad_payload = envelope
            .payload
            .filter(|p| serde_json::from_str::<serde::de::IgnoredAny>(&text[p.clone()]).is_err());
        let Some(bad) = bad_payload else {
            assert_eq!(shared, full, "{text:?}");
            return true;
        };
        assert!(full.starts_with("error malformed"), "{text:?}: {full}");
        let fixed = format!("{}0{}", &text[..bad.start], &text[bad.end..]);
        assert_eq!(
            summary(Frame::parse_shared(&Utf8Bytes::from(text)), |_| "0"),
            summary(Frame::parse(&fixed), |p| p.get()),
            "{text:?}"
        );
        true
    }

    /// A xorshift generator: the same sequence on every run.
    struct Rng(u64);

    impl Rng {
        /// A number below `n`.
        fn below(&mut self, n: usize) -> usize {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 % n as u64) as usize
        }

        /// One of `from`, the earlier ones more often.
        fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
            let last = self.below(from.len());
            from[self.below(last + 1)]
        }
    }

    /// Whitespace between tokens (mutations add other kinds).
    const SPACES: &[&str] = &["", "", "", " ", "\n", "\t", "\r\n "];

    /// Values for `type` and `id`, the valid first.
    #[rustfmt::skip]
    const NUMBERS: &[&str] = &[
        "2", "1", "3", "0", "7", "\"2\"", "18446744073709551615", "null", "00", "01", "-0",
        "-1", "1.0", "1e0", "2E0", "0.5", "18446744073709551616", "\" 2\"", "\"+2\"", "\"02\"",
        "\"\"", "\"\\u0032\"", "true", "[]", "{}", "2x", "\"2\"x", "\"\u{1}\"",
    ];

    /// Values for `method`, the valid first.
    #[rustfmt::skip]
    const METHODS: &[&str] = &[
        "\"sendMessage\"", "\"\"", "null", "\"é\"", "\"😀\"", "\"a\\\"b\"", "\"\\u0041\"",
        "\"a\u{1}b\"", "1", "{}", "[\"x\"]", "\"\\q\"", "\"unterminated", "\"m\\u00\"",
    ];

    /// Values for `payload` and other keys, the valid JSON first.
    #[rustfmt::skip]
    const VALUES: &[&str] = &[
        "{}", "{\"a\":1}", "[1,{\"b\":[2]}]", "[]", "null", "\"s\"", "\"a\\\\\"", "\"}\"",
        "\"]\"", "\"\\\"}\"", "1", "-1.5e-3", "0E+7", "true", "false", "\"\\u00e9\\/\\n\"",
        "{\"x\":\"\\ud800\"}", "{\"a\":[1}]", "[}", "{]", "{\"a\"}", "tru", "nul", "falsy",
        "\"\u{1}\"", "\"\\x\"", "{\"a\":1,}", "[1,]", "01", "1.", ".5", "+1", "-", "1e", "1e+",
        "NaN", "\"\\u12\"", "\"a\nb\"", "{:}", "[,]", "{\"a\" 1}", "{1:2}", "[1 2]",
        "{\"a\":1 \"b\":2}", "[\"\\q\"]", "{\"\\q\":1}", "{\"a\u{1}\":1}", "\u{a0}1",
        "{\"errorCode\":304}", "{\"errorCode\":0,\"a\":[\"errorCode\"]}", "{\"errorCode\":\"x\"}",
        "{\"b\":{\"errorCode\":1}}", "[{\"errorCode\":1}]", "{\"a\":\"errorCode\",\"errorCode\":2}",
        "{\"errorCode\":1,\"errorCode\":2}", "{ \"errorCode\" : 203 }", "{\"error\\u0043ode\":1}",
    ];

    /// Keys, the plain first.
    #[rustfmt::skip]
    const KEYS: &[&str] = &[
        "\"extra\"", "\"Type\"", "\"\"", "\"x\\\\\"", "\"type\"", "\"id\"", "\"method\"",
        "\"payload\"", "\"ty\\u0070e\"", "\"pay\\\"load\"", "\"typ\u{1}e\"", "\"\\q\"",
    ];

    /// Characters a mutation inserts or puts in place of another.
    const MUTATIONS: &[char] = &[
        '"', '\\', '{', '}', '[', ']', ',', ':', ' ', '0', 'e', '-', '.', '\u{0}', 'é', '\u{a0}',
        '\u{feff}',
    ];

    /// One of [`VALUES`], sometimes nested in brackets around the depths
    /// where the scan gives up, rarely closed by the wrong kind.
    fn value(r: &mut Rng) -> String {
        let inner = r.pick(VALUES);
        if r.below(6) != 0 {
            return inner.to_owned();
        }
        let depth = [1, 2, 63, 64, 65, 130][r.below(6)];
        let braces: Vec<bool> = (0..depth).map(|_| r.below(2) == 0).collect();
        let mut text = String::new();
        for &brace in &braces {
            text.push_str(if brace { "{\"k\":" } else { "[" });
        }
        text.push_str(inner);
        for &brace in braces.iter().rev() {
            text.push(if brace != (r.below(40) == 0) {
                '}'
            } else {
                ']'
            });
        }
        text
    }

    /// A frame of the pieces above in any order (a third of them in the
    /// spec's compact form, `type` then `id` first without spaces, which
    /// the scan reads by a faster path), sometimes with a few characters
    /// inserted, removed or replaced, sometimes cut short.
    fn frame(r: &mut Rng) -> String {
        let compact = r.below(3) == 0;
        let mut fields = vec![
            ("\"type\"".to_owned(), r.pick(&NUMBERS[..3]).to_owned()),
            ("\"id\"".to_owned(), r.pick(NUMBERS).to_owned()),
        ];
        if r.below(10) == 0 {
            fields[0].1 = r.pick(NUMBERS).to_owned();
        }
        if r.below(2) == 0 {
            fields.push(("\"method\"".to_owned(), r.pick(METHODS).to_owned()));
        }
        if r.below(4) != 0 {
            fields.push(("\"payload\"".to_owned(), value(r)));
        }
        for _ in 0..r.below(3) {
            fields.push((r.pick(KEYS).to_owned(), value(r)));
        }
        let fixed = if compact { 2 } else { 0 };
        for i in (fixed + 1..fields.len()).rev() {
            fields.swap(i, fixed + r.below(i + 1 - fixed));
        }
        let space = |r: &mut Rng, i: usize| if i < fixed { "" } else { r.pick(SPACES) };
        let mut text: String = space(r, 0).into();
        for (i, (key, value)) in fields.iter().enumerate() {
            text.push(if i == 0 { '{' } else { ',' });
            for part in [
                space(r, i),
                key,
                space(r, i),
                ":",
                space(r, i),
                value.as_str(),
            ] {
                text.push_str(part);
            }
            text.push_str(space(r, i));
        }
        text.push('}');
        text.push_str(r.pick(SPACES));
        let mut chars: Vec<char> = text.chars().collect();
        if r.below(4) == 0 {
            for _ in 0..1 + r.below(3) {
                let at = r.below(chars.len());
                let c = MUTATIONS[r.below(MUTATIONS.len())];
                match r.below(3) {
                    0 => {
                        chars.remove(at);
                    }
                    1 => chars.insert(at, c),
                    _ => chars[at] = c,
                }
            }
        }
        if r.below(10) == 0 {
            chars.truncate(r.below(chars.len() + 1));
        }
        chars.into_iter().collect()
    }

    #[test]
    fn the_quick_scan_agrees_with_the_full_parse_on_generated_frames() {
        let mut r = Rng(0x1234_5678_9abc_def1);
        let accepted = (0..50_000)
            .filter(|_| assert_agreement(&frame(&mut r)))
            .count();
        assert!(accepted > 5_000, "the scan accepts many ({accepted})");
    }

    #[test]
    fn the_quick_scan_gives_up_on_what_the_full_parse_rejects() {
        for text in [
            r#"{"type":2,"id":5,"payload":{"chatId":"c"},"extra":NaN}"#,
            r#"{"type":2,"id":5,"x":"\q","payload":{}}"#,
            "{\"type\":2,\"id\":5,\"note\":\"raw\ncontrol\",\"payload\":{}}",
            "{\"type\":2,\"id\":5,\"note\":[{\"a\":\"\u{1}\"}],\"payload\":{}}",
            r#"{"type":1,"id":5,"method":"sendMessage","payload":{"a":[1}]}"#,
            r#"{"type":2,"id":5,"payload":[{"a":1]}}"#,
            "{\"type\":2,\"id\":5,\"payload\":\u{a0}1}",
            "{\"type\":2,\"id\":5,\"x\":\u{feff}true,\"payload\":{}}",
            r#"{"type":2,"id":5,"x":tru,"payload":{}}"#,
            r#"{"type":2,"id":5,"x":01}"#,
            r#"{"type":2,"id":5,"x":1.}"#,
            r#"{"type":2,"id":5,"x":-}"#,
            r#"{"type":2,"id":5,"x":{"a" 1}}"#,
            r#"{"type":2,"id":5,"x":[1,]}"#,
            r#"{"type":2,"id":5,"x":"\u12"}"#,
            r#"{"type":2,"id":5,"payload":+1}"#,
            r#"{"type":2,"id":5,"payload":nul}"#,
        ] {
            assert_eq!(scan(text), None, "{text:?}");
            assert!(
                Frame::parse_shared(&Utf8Bytes::from(text)).is_err(),
                "{text:?}"
            );
        }
    }

    #[test]
    fn rejects_wrong_shapes() {
        assert!(matches!(
            Frame::parse("[1,2]"),
            Err(FrameError::Malformed(_))
        ));
        assert_eq!(
            Frame::parse(r#"{"type":1,"id":1}"#).unwrap_err(),
            FrameError::MissingMethod
        );
        assert_eq!(
            Frame::parse(r#"{"type":0,"id":1}"#).unwrap_err(),
            FrameError::UnknownType(0)
        );
    }

    #[test]
    fn writes_exact_frames() {
        assert_eq!(
            request_text(5, "auth", r#"{"token":"t"}"#),
            r#"{"type":1,"id":5,"method":"auth","payload":{"token":"t"}}"#
        );
        assert_eq!(
            request_text(6, "we\"ird", "{}"),
            r#"{"type":1,"id":6,"method":"we\"ird","payload":{}}"#
        );
        assert_eq!(with_json(&[1, 2], <[u8]>::to_vec).unwrap(), b"[1,2]");
        assert_eq!(ack_text(0), r#"{"type":2,"id":0}"#);
        assert_eq!(
            request_text(u64::MAX, "m", "1"),
            r#"{"type":1,"id":18446744073709551615,"method":"m","payload":1}"#
        );
        assert_eq!(ack_text(9), r#"{"type":2,"id":9}"#);
        assert_eq!(response_text(9, "{}"), r#"{"type":2,"id":9,"payload":{}}"#);
    }

    #[test]
    fn finds_error_codes() {
        let code = |p: &str| error_code(Some(p)).map_err(|e| e.to_string());
        assert_eq!(code(r#"{"errorCode":304}"#), Ok(Some(304)));
        assert_eq!(
            code(r#"{"errorDescription":"x","errorCode":"304"}"#),
            Ok(Some(304))
        );
        assert_eq!(code(r#"[{"errorCode":304}]"#), Ok(None));
        assert_eq!(error_code(None).ok(), Some(None));
        assert_eq!(
            code(r#"{"errorCode":0,"chatId":"c"}"#),
            Ok(None),
            "0 is success"
        );
        assert_eq!(code(r#"{"errorCode":null}"#), Ok(None));
        // The word only inside a value, not as a key of the payload.
        assert_eq!(
            code(r#"{"text":"\"errorCode\": 5","inner":{"errorCode":5}}"#),
            Ok(None)
        );
        // Not JSON: the payload's decoding reports it.
        assert_eq!(code(r#"{"errorCode":"#), Ok(None));
        // The key with a value that is no code is still a failure.
        for unreadable in [
            r#"{"errorCode":-1}"#,
            r#"{"errorCode":4294967296}"#,
            r#"{"errorCode":"E304","errorDescription":"chat not found"}"#,
            r#"{"errorCode":304,"errorCode":304}"#,
            r#"{"errorCode":304.5}"#,
            r#"{"errorCode":{"code":304}}"#,
        ] {
            assert!(code(unreadable).is_err(), "{unreadable}");
        }
    }
}
