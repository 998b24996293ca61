//! A quick scan of a frame's envelope (`type`, `id`, `method` and where the
//! payload is) that does not parse the payload.
//!
//! The thread that reads the socket only needs the envelope to route a
//! frame; the payload is decoded, and so fully checked, by the thread that
//! wants it. Skipping the payload by its brackets and quotes costs a
//! fraction of a full JSON parse of it.
//!
//! What the scan checks:
//!
//! - Everything outside the payload, as JSON: the keys, and the values of
//!   `type`, `id`, `method` and of any other key (strings without control
//!   characters and with only the escapes JSON defines, numbers and `true`,
//!   `false`, `null` by their grammar, objects and arrays likewise, nested
//!   at most [`MAX_DEPTH`] deep).
//! - The payload only as far as finding its end takes: a number or `true`,
//!   `false`, `null` by its grammar; a string by its quotes; an object or
//!   array by its brackets, which must match by kind and nest at most
//!   [`MAX_DEPTH`] deep, and by the quotes of the strings in it.
//!
//! What it does not check: inside the payload, the escapes and characters
//! of strings, and everything between strings and brackets (commas, colons,
//! numbers, `true`, `false`, `null`).
//!
//! Anything the scan does not handle plainly (escaped keys or method names,
//! a `type` or `id` that is not a plain unsigned integer, duplicate keys,
//! deeper nesting, ...) makes it give up, and the frame goes through the
//! full parse instead. So when the scan accepts a frame whose payload is
//! valid JSON, the full parse accepts it too and reads the same envelope
//! and payload text. When the payload is not valid JSON, the full parse
//! rejects the frame, the scan reads the envelope the full parse reads with
//! a valid payload in its place, and decoding the payload fails.

use std::ops::Range;

/// The envelope of a frame, with byte ranges into its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Envelope {
    /// `type`.
    pub kind: u64,
    /// `id`.
    pub id: u64,
    /// The `method` string's contents (without quotes), if present and not
    /// `null`.
    pub method: Option<Range<usize>>,
    /// The `payload` value, if present and not `null`.
    pub payload: Option<Range<usize>>,
    /// The payload is an object holding the string `errorCode` (unescaped)
    /// as one of its own keys or values: only then can it be an error
    /// answer (see [`error_code`](super::frame::error_code)).
    pub error_key: bool,
}

/// Scans `text`; `None` when the frame needs the full parse.
pub(crate) fn scan(text: &str) -> Option<Envelope> {
    let b = text.as_bytes();
    let (mut kind, mut id, mut at) = match compact_start(b) {
        Some((kind, id, next)) => (Some(kind), Some(id), next),
        None => {
            let at = skip_ws(b, 0);
            if b.get(at) != Some(&b'{') {
                return None;
            }
            (None, None, at + 1)
        }
    };
    let (mut method, mut payload, mut error_key) = (None, None, false);
    loop {
        at = skip_ws(b, at);
        let key = plain_string(b, at)?;
        at = skip_ws(b, key.end + 1);
        if b.get(at) != Some(&b':') {
            return None;
        }
        at = skip_ws(b, at + 1);
        let end = match &b[key.clone()] {
            b"payload" => {
                let (end, has_error_key) = skip_payload(b, at)?;
                error_key = has_error_key;
                end
            }
            _ => check_value(b, at, MAX_DEPTH)?,
        };
        let value = at..end;
        at = skip_ws(b, value.end);
        let seen = match &b[key.clone()] {
            b"type" => kind.replace(unsigned(b, value)?).is_some(),
            b"id" => id.replace(unsigned(b, value)?).is_some(),
            b"method" => method
                .replace(nullable(b, value, |v| plain_string(b, v.start))?)
                .is_some(),
            b"payload" => payload.replace(nullable(b, value, Some)?).is_some(),
            _ => false,
        };
        if seen {
            return None; // a duplicate key: the full parse reports it
        }
        match b.get(at) {
            Some(b',') => at += 1,
            Some(b'}') => break,
            _ => return None,
        }
    }
    if skip_ws(b, at + 1) != b.len() {
        return None;
    }
    Some(Envelope {
        kind: kind?,
        id: id?,
        method: method.flatten(),
        payload: payload.flatten(),
        error_key,
    })
}

fn skip_ws(b: &[u8], mut at: usize) -> usize {
    while matches!(b.get(at), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        at += 1;
    }
    at
}

/// The contents of the string starting at `at` (its opening quote), if it
/// has no escapes and no control characters (which JSON forbids raw; the
/// full parse rejects them).
fn plain_string(b: &[u8], at: usize) -> Option<Range<usize>> {
    if b.get(at) != Some(&b'"') {
        return None;
    }
    let start = at + 1;
    let end = quote_or_backslash(b, start)?;
    let plain = b[end] == b'"' && b[start..end].iter().all(|&c| c >= 0x20);
    plain.then_some(start..end)
}

/// The first `"` or `\\` at or after `from`, eight bytes at a time.
fn quote_or_backslash(b: &[u8], mut from: usize) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    while let Some(chunk) = b.get(from..from + 8) {
        let x = u64::from_le_bytes(chunk.try_into().ok()?);
        // A byte equal to the one sought becomes zero; the lowest zero
        // byte sets the lowest high bit (higher ones may be false hits).
        let quote = x ^ (ONES * u64::from(b'"'));
        let backslash = x ^ (ONES * u64::from(b'\\'));
        let found = ((quote.wrapping_sub(ONES) & !quote)
            | (backslash.wrapping_sub(ONES) & !backslash))
            & HIGH;
        if found != 0 {
            return Some(from + (found.trailing_zeros() / 8) as usize);
        }
        from += 8;
    }
    b.get(from..)?
        .iter()
        .position(|&c| c == b'"' || c == b'\\')
        .map(|p| from + p)
}

/// `Some(None)` for `null`, else what `f` makes of the value.
fn nullable<T>(
    b: &[u8],
    value: Range<usize>,
    f: impl FnOnce(Range<usize>) -> Option<T>,
) -> Option<Option<T>> {
    if &b[value.clone()] == b"null" {
        return Some(None);
    }
    f(value).map(Some)
}

/// A plain unsigned integer, or a string holding only one (the lenient
/// forms real servers send).
fn unsigned(b: &[u8], value: Range<usize>) -> Option<u64> {
    let digits = match plain_string(b, value.start) {
        Some(inner) if inner.end + 1 == value.end => &b[inner],
        Some(_) => return None,
        None => &b[value],
    };
    if !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    plain_digits(digits)
}

/// The value of a run of ASCII digits without a leading zero (`0` alone
/// excepted) that fits in a `u64`: anything else is left to the full parse
/// (which rejects 007).
fn plain_digits(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() || (digits.len() > 1 && digits[0] == b'0') {
        return None;
    }
    digits.iter().try_fold(0u64, |n, &d| {
        n.checked_mul(10)?.checked_add(u64::from(d - b'0'))
    })
}

/// The compact start every frame of the spec has, `{"type":T,"id":N,`,
/// read byte for byte: `(T, N, where the next key starts)`. Any other start
/// (whitespace, another key order, a quoted or fractional number, a frame
/// that ends after `id`) is left to the general loop, which reads it the
/// same way, only slower.
fn compact_start(b: &[u8]) -> Option<(u64, u64, usize)> {
    let digits = |from: usize| {
        let len = b
            .get(from..)?
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count();
        Some((plain_digits(&b[from..from + len])?, from + len))
    };
    const TYPE: &[u8] = b"{\"type\":";
    const ID: &[u8] = b",\"id\":";
    if !b.starts_with(TYPE) {
        return None;
    }
    let (kind, at) = digits(TYPE.len())?;
    if !b[at..].starts_with(ID) {
        return None;
    }
    let (id, at) = digits(at + ID.len())?;
    (b.get(at) == Some(&b',')).then_some((kind, id, at + 1))
}

/// How deep the scan follows nested objects and arrays; deeper values make
/// it give up.
const MAX_DEPTH: u32 = 64;

/// The end of the payload starting at `at`: a string by its quotes, an
/// object or array by its brackets (matched by kind) and the quotes of the
/// strings in it, anything else by [`skip_scalar`]. Also whether it is an
/// object with the string `errorCode` directly inside.
fn skip_payload(b: &[u8], at: usize) -> Option<(usize, bool)> {
    match b.get(at)? {
        b'"' => Some((skip_string(b, at)?, false)),
        b'{' | b'[' => skip_brackets(b, at),
        _ => Some((skip_scalar(b, at)?, false)),
    }
}

/// The end of the object or array starting at `at`, found by its brackets
/// and quotes only; `None` if a bracket closes one of the other kind or the
/// nesting is deeper than [`MAX_DEPTH`]. Also whether it is an object with
/// the string `errorCode` (a key or a value, unescaped) directly inside.
fn skip_brackets(b: &[u8], at: usize) -> Option<(usize, bool)> {
    // One bit per open bracket, the innermost lowest: 1 for `{`, 0 for `[`.
    let mut braces = 0u64;
    let mut depth = 0;
    let mut error_key = false;
    let mut i = at;
    loop {
        match b.get(i)? {
            b'"' => {
                let end = skip_string(b, i)?;
                if depth == 1 && braces == 1 && end - i == 11 && &b[i..end] == b"\"errorCode\"" {
                    error_key = true;
                }
                i = end;
                continue;
            }
            &open @ (b'{' | b'[') => {
                if depth == MAX_DEPTH {
                    return None;
                }
                depth += 1;
                braces = braces << 1 | u64::from(open == b'{');
            }
            &close @ (b'}' | b']') => {
                if braces & 1 != u64::from(close == b'}') {
                    return None;
                }
                depth -= 1;
                braces >>= 1;
                if depth == 0 {
                    return Some((i + 1, error_key));
                }
            }
            _ => {}
        }
        i += 1;
    }
}

/// The end (past the closing quote) of the string starting at `at`, found
/// by its quotes only: its escapes and characters are not checked.
fn skip_string(b: &[u8], at: usize) -> Option<usize> {
    let mut i = at + 1;
    loop {
        i = quote_or_backslash(b, i)?;
        match b[i] {
            b'"' => return Some(i + 1),
            _ => i += 2, // an escape: skip the escaped byte
        }
    }
}

/// The end of the JSON value starting at `at`, checked in full; `None` if
/// it is not valid JSON or nests deeper than `depth`.
fn check_value(b: &[u8], at: usize, depth: u32) -> Option<usize> {
    let close = match b.get(at)? {
        b'"' => return check_string(b, at),
        b'{' => b'}',
        b'[' => b']',
        _ => return skip_scalar(b, at),
    };
    let depth = depth.checked_sub(1)?;
    let mut i = skip_ws(b, at + 1);
    if b.get(i) == Some(&close) {
        return Some(i + 1);
    }
    loop {
        if close == b'}' {
            i = skip_ws(b, check_string(b, i)?);
            if b.get(i) != Some(&b':') {
                return None;
            }
            i = skip_ws(b, i + 1);
        }
        i = skip_ws(b, check_value(b, i, depth)?);
        match *b.get(i)? {
            b',' => i = skip_ws(b, i + 1),
            c if c == close => return Some(i + 1),
            _ => return None,
        }
    }
}

/// The end (past the closing quote) of the string starting at `at`, if it
/// is valid JSON: no control characters, only the escapes JSON defines.
fn check_string(b: &[u8], at: usize) -> Option<usize> {
    if b.get(at) != Some(&b'"') {
        return None;
    }
    let mut i = at + 1;
    loop {
        match *b.get(i)? {
            b'"' => return Some(i + 1),
            b'\\' => match *b.get(i + 1)? {
                b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => i += 2,
                b'u' if b.get(i + 2..i + 6)?.iter().all(u8::is_ascii_hexdigit) => i += 6,
                _ => return None,
            },
            0..=0x1F => return None,
            _ => i += 1,
        }
    }
}

/// The end of the `true`, `false`, `null` or number starting at `at`;
/// `None` if there is none there.
fn skip_scalar(b: &[u8], at: usize) -> Option<usize> {
    let word: &[u8] = match b.get(at)? {
        b't' => b"true",
        b'f' => b"false",
        b'n' => b"null",
        _ => return skip_number(b, at),
    };
    b[at..].starts_with(word).then_some(at + word.len())
}

/// The end of the JSON number starting at `at`: an optional minus, an
/// integer part without leading zeros, then an optional fraction and
/// exponent, each with at least one digit.
fn skip_number(b: &[u8], at: usize) -> Option<usize> {
    let mut i = at + usize::from(b.get(at) == Some(&b'-'));
    i = match b.get(i)? {
        b'0' => i + 1,
        b'1'..=b'9' => skip_digits(b, i),
        _ => return None,
    };
    if b.get(i) == Some(&b'.') {
        i = some_digits(b, i + 1)?;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        i += usize::from(matches!(b.get(i), Some(b'+' | b'-')));
        i = some_digits(b, i)?;
    }
    Some(i)
}

/// The end of the run of ASCII digits starting at `at` (`at` if none).
fn skip_digits(b: &[u8], at: usize) -> usize {
    at + b[at..].iter().take_while(|c| c.is_ascii_digit()).count()
}

/// The end of the run of ASCII digits starting at `at`, if there is one.
fn some_digits(b: &[u8], at: usize) -> Option<usize> {
    let end = skip_digits(b, at);
    (end > at).then_some(end)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(text: &str) -> Option<(u64, u64, Option<&str>, Option<&str>)> {
        let e = scan(text)?;
        Some((
            e.kind,
            e.id,
            e.method.map(|r| &text[r]),
            e.payload.map(|r| &text[r]),
        ))
    }

    #[test]
    fn reads_common_envelopes() {
        assert_eq!(
            parts(r#"{"type":2,"id":17,"payload":{"chatId":"a\"}b","n":[1,{"x":"]"}]}}"#),
            Some((2, 17, None, Some(r#"{"chatId":"a\"}b","n":[1,{"x":"]"}]}"#)))
        );
        assert_eq!(
            parts(" {\n \"payload\" : [1, 2] , \"method\":\"sendMessage\", \"id\": \"9\", \"type\" :1 }\n"),
            Some((1, 9, Some("sendMessage"), Some("[1, 2]")))
        );
        assert_eq!(
            parts(r#"{"type":2,"id":3,"payload":null,"method":null,"extra":{"a":[]}}"#),
            Some((2, 3, None, None))
        );
        assert_eq!(
            parts(r#"{"type":2,"id":0,"payload":7}"#),
            Some((2, 0, None, Some("7")))
        );
        assert_eq!(parts(r#"{"type":2,"id":4}"#), Some((2, 4, None, None)));
        assert_eq!(
            parts(
                r#"{"type":2,"id":5,"x":[0,-1.5E+3,true,false,null,"\u00e9\n\/",{"a\"":{}}],"payload":-0.5e-7}"#
            ),
            Some((2, 5, None, Some("-0.5e-7")))
        );
        assert_eq!(
            parts(r#"{"type":2,"id":6,"payload":"a\q"}"#),
            Some((2, 6, None, Some(r#""a\q""#))),
            "a payload's strings are found by their quotes only"
        );
        assert_eq!(
            parts(r#"{"type":2,"id":18446744073709551615}"#),
            Some((2, u64::MAX, None, None))
        );
    }

    #[test]
    fn leaves_the_unusual_to_the_full_parse() {
        for text in [
            r#"{"type":2,"id":7.0}"#,
            r#"{"type":2,"id":-1}"#,
            r#"{"type":2,"id":007}"#,
            r#"{"type":2,"id":"7x"}"#,
            r#"{"type":2,"id":"\u0037"}"#,
            r#"{"type":1,"id":1,"method":"a\u0062"}"#,
            r#"{"ty\u0070e":2,"id":1}"#,
            r#"{"type":2,"id":1,"id":2}"#,
            r#"{"type":2}"#,
            r#"{"type":2,"id":1"#,
            r#"{"type":2,"id":1,"payload":{"a":"b}"#,
            r#"{"type":2,"id":1} x"#,
            r#"{}"#,
            r#"[1]"#,
            "",
            r#"{"type":2,"id":1,}"#,
            r#"{"type":2,"id":1,"payload":}"#,
            r#"{"type":2,"id":18446744073709551616}"#,
            "{\"type\":1,\"id\":1,\"method\":\"a\nb\"}",
            "{\"ty\tpe\":2,\"id\":1}",
            r#"{"type":2,"id":1,"x":NaN}"#,
            r#"{"type":2,"id":1,"x":"\q"}"#,
            r#"{"type":2,"id":1,"x":{"a":"\u00g0"}}"#,
            "{\"type\":2,\"id\":1,\"x\":[\"\t\"]}",
            r#"{"type":2,"id":1,"payload":{"a":[1}]}"#,
            r#"{"type":2,"id":1,"payload":[{]}"#,
            "{\"type\":2,\"id\":1,\"payload\":\u{feff}1}",
            r#"{"type":2,"id":1,"payload":-}"#,
            r#"{"type":2,"id":1,"payload":1.e5}"#,
            r#"{"type":2,"id":1,"payload":1e}"#,
            r#"{"type":2,"id":1,"payload":truth}"#,
        ] {
            assert_eq!(scan(text), None, "{text}");
        }
    }

    #[test]
    fn finds_quotes_and_backslashes_like_a_plain_search() {
        // Bytes one above the sought ones ('#', ']') are where the
        // eight-at-a-time test could see false hits.
        let alphabet = [b'a', b'"', b'\\', b'#', b']', b'!', 0x80, 0xFF, 0x00];
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..20_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let len = (seed % 40) as usize;
            let text: Vec<u8> = (0..len)
                .map(|k| alphabet[((seed >> (k % 50)) as usize + k * 7) % alphabet.len()])
                .collect();
            let from = (seed >> 58) as usize % (len + 1);
            let plain = text[from..]
                .iter()
                .position(|&c| c == b'"' || c == b'\\')
                .map(|p| from + p);
            assert_eq!(
                quote_or_backslash(&text, from),
                plain,
                "{text:?} from {from}"
            );
        }
    }

    #[test]
    fn follows_nesting_up_to_its_depth_limit() {
        let nested = |depth: usize| {
            "[{\"a\":".repeat(depth / 2)
                + &"[".repeat(depth % 2)
                + "1"
                + &"]".repeat(depth % 2)
                + &"}]".repeat(depth / 2)
        };
        for key in ["payload", "x"] {
            let at_limit = format!(r#"{{"type":2,"id":1,"{key}":{}}}"#, nested(64));
            assert!(scan(&at_limit).is_some(), "{key}");
            let deeper = format!(r#"{{"type":2,"id":1,"{key}":{}}}"#, nested(65));
            assert_eq!(scan(&deeper), None, "{key}");
        }
    }

    #[test]
    fn never_panics_on_cut_frames() {
        let text = r#"{"type":1,"id":"12","method":"sendMessage","payload":{"a":["x\"y",{"b":null}],"c":1e3}}"#;
        for end in 0..text.len() {
            let _ = scan(&text[..end]);
        }
        assert!(scan(text).is_some());
    }
}
