//! Decoding of request payloads.
//!
//! Requests decode into the client's own request types (`crate::protocol::
//! methods`), so both sides of the wire share one definition, and pass their
//! `validate()` (limits of text, titles, buttons, empty ids). Those types
//! are lenient, as a client must be; a server rejects more, so a few strict
//! checks on the raw JSON come on top: `parseMode: null` (never answered),
//! a missing or unknown parse mode, buttons that do not decode, and fields
//! the spec requires that the types default. Any failure is 399.

use super::codes::{NO_RESPONSE, WRONG_PAYLOAD};
use crate::protocol::methods::MAX_TEXT_CHARS;
use crate::protocol::{InlineKeyboard, Method};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

/// A request payload: always a JSON object.
#[derive(Debug)]
pub(crate) struct Args {
    value: Value,
}

impl Args {
    /// Reads a payload; an absent or `null` payload is an empty object,
    /// anything but an object is 399.
    pub(crate) fn parse(payload: Option<&RawValue>) -> Result<Args, u32> {
        let value = match payload {
            None => Value::Object(Map::new()),
            Some(raw) => match serde_json::from_str::<Value>(raw.get()) {
                Ok(v @ Value::Object(_)) => v,
                Ok(Value::Null) => Value::Object(Map::new()),
                _ => return Err(WRONG_PAYLOAD),
            },
        };
        Ok(Args { value })
    }

    /// The payload as request type `M`, validated: 399 otherwise.
    pub(crate) fn decode<M: Method + DeserializeOwned>(&self) -> Result<M, u32> {
        let request = M::deserialize(&self.value).map_err(|_| WRONG_PAYLOAD)?;
        request.validate().map_err(|_| WRONG_PAYLOAD)?;
        Ok(request)
    }

    /// The raw value at a key, `None` when absent or `null`.
    pub(crate) fn value(&self, key: &str) -> Option<&Value> {
        self.value.get(key).filter(|v| !v.is_null())
    }

    /// 399 unless every JSON pointer (e.g. `/content/secret`) names a
    /// present, non-null value.
    pub(crate) fn require(&self, pointers: &[&str]) -> Result<(), u32> {
        for p in pointers {
            if !matches!(self.value.pointer(p), Some(v) if !v.is_null()) {
                return Err(WRONG_PAYLOAD);
            }
        }
        Ok(())
    }

    /// The strict checks of a text object at a JSON pointer (`/content`,
    /// `/content/caption`): see [`check_text`]. An absent object passes (the
    /// typed decoding decides whether it is required).
    pub(crate) fn check_text(&self, pointer: &str, buttons: bool) -> Result<(), u32> {
        match self.value.pointer(pointer) {
            None | Some(Value::Null) => Ok(()),
            Some(text) => check_text(text, buttons),
        }
    }

    /// True when the payload holds `parseMode: null` where a text can be
    /// (`content`, `content.caption`): the real server never answers those.
    pub(crate) fn has_null_parse_mode(&self) -> bool {
        ["/content/parseMode", "/content/caption/parseMode"]
            .iter()
            .any(|p| matches!(self.value.pointer(p), Some(Value::Null)))
    }
}

/// A text object `{text, parseMode[, buttons]}` as a server reads it:
/// `parseMode: null` is [`NO_RESPONSE`]; a missing or unknown parse mode, a
/// text that is not a string or is over 4096 characters, and buttons that
/// do not decode or break the limits are 399.
fn check_text(obj: &Value, buttons: bool) -> Result<(), u32> {
    match obj.get("parseMode") {
        Some(Value::Null) => return Err(NO_RESPONSE),
        Some(Value::String(mode)) if matches!(mode.as_str(), "text" | "markdown" | "html") => {}
        _ => return Err(WRONG_PAYLOAD),
    }
    match obj.get("text") {
        Some(Value::String(t)) if t.chars().count() <= MAX_TEXT_CHARS => {}
        _ => return Err(WRONG_PAYLOAD),
    }
    match obj.get("buttons") {
        Some(b) if buttons && !b.is_null() => {
            let keyboard = InlineKeyboard::deserialize(b).map_err(|_| WRONG_PAYLOAD)?;
            keyboard.validate().map_err(|_| WRONG_PAYLOAD)
        }
        _ => Ok(()),
    }
}
