//! The JSON frame that carries every WebSocket message in both directions.
//!
//! A request is `{"type":1,"id":N,"method":M,"payload":{..}}`, a response is
//! `{"type":2,"id":N,"payload":{..}}`. The payload is kept as raw JSON so the
//! I/O thread only parses the envelope; the typed payload is decoded by the
//! thread that wants it.

use serde::Deserialize;
use serde_json::value::RawValue;
use std::fmt::Write as _;

/// `MESSAGE_TYPE.REQUEST`.
pub const TYPE_REQUEST: u32 = 1;
/// `MESSAGE_TYPE.RESPONSE`.
pub const TYPE_RESPONSE: u32 = 2;

/// One decoded frame with its payload still raw.
#[derive(Debug)]
pub enum Frame {
    /// A request: a client command, or a server event.
    Request {
        /// The sender's request id.
        id: u64,
        /// The command or event name.
        method: String,
        /// The payload, `None` when absent.
        payload: Option<Box<RawValue>>,
    },
    /// A response to a request with the same id.
    Response {
        /// The id of the request answered.
        id: u64,
        /// The payload, `None` when absent (an acknowledgement).
        payload: Option<Box<RawValue>>,
    },
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
struct RawFrame {
    #[serde(
        rename = "type",
        deserialize_with = "crate::protocol::lenient::u64_any"
    )]
    kind: u64,
    #[serde(deserialize_with = "crate::protocol::lenient::u64_any")]
    id: u64,
    #[serde(default)]
    method: Option<String>,
    #[serde(default)]
    payload: Option<Box<RawValue>>,
}

impl Frame {
    /// Parses one text frame.
    pub fn parse(text: &str) -> Result<Frame, FrameError> {
        // Serde would also accept a JSON array for a struct; a frame is an object.
        if !text.trim_start().starts_with('{') {
            return Err(FrameError::Malformed(
                "a frame must be a JSON object".into(),
            ));
        }
        let raw: RawFrame =
            serde_json::from_str(text).map_err(|e| FrameError::Malformed(e.to_string()))?;
        // `"payload": null` is treated like an absent payload.
        let payload = raw.payload.filter(|p| p.get() != "null");
        match raw.kind {
            1 => Ok(Frame::Request {
                id: raw.id,
                method: raw.method.ok_or(FrameError::MissingMethod)?,
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

/// Writes a request frame around an already serialised payload.
pub fn request_text(id: u64, method: &str, payload_json: &str) -> String {
    let mut out = String::with_capacity(48 + method.len() + payload_json.len());
    let _ = write!(out, "{{\"type\":1,\"id\":{id},\"method\":");
    // Method names are plain identifiers, but escape them anyway.
    out.push_str(&serde_json::to_string(method).unwrap_or_else(|_| "\"\"".into()));
    out.push_str(",\"payload\":");
    out.push_str(payload_json);
    out.push('}');
    out
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
    format!("{{\"type\":2,\"id\":{id}}}")
}

/// The `errorCode` of an error payload, if the payload is one. A code of 0
/// means success (the official SDK reads it so), so it is not an error.
pub fn error_code(payload: Option<&RawValue>) -> Option<u32> {
    #[derive(Deserialize)]
    struct ErrorPayload {
        #[serde(
            rename = "errorCode",
            deserialize_with = "crate::protocol::lenient::u32_any"
        )]
        error_code: u32,
    }
    let p = payload?;
    // Only objects can carry an error code; arrays (getChats) never do.
    // Most payloads are successes: skip the parse (and its "missing field"
    // error) when the key is not there at all.
    if !p.get().trim_start().starts_with('{') || !p.get().contains("\"errorCode\"") {
        return None;
    }
    serde_json::from_str::<ErrorPayload>(p.get())
        .ok()
        .map(|e| e.error_code)
        .filter(|&code| code != 0)
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
        assert_eq!(ack_text(9), r#"{"type":2,"id":9}"#);
        assert_eq!(response_text(9, "{}"), r#"{"type":2,"id":9,"payload":{}}"#);
    }

    #[test]
    fn finds_error_codes() {
        let p = RawValue::from_string(r#"{"errorCode":304}"#.into()).unwrap();
        assert_eq!(error_code(Some(&p)), Some(304));
        let p = RawValue::from_string(r#"[{"errorCode":304}]"#.into()).unwrap();
        assert_eq!(error_code(Some(&p)), None);
        assert_eq!(error_code(None), None);
        let p = RawValue::from_string(r#"{"errorCode":0,"chatId":"c"}"#.into()).unwrap();
        assert_eq!(error_code(Some(&p)), None, "0 is success");
    }
}
