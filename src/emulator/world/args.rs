//! Decoding of request payloads, strict like a server: a missing required
//! field or a value of the wrong type is 399 (wrong payload format).
//!
//! The server side decodes with `serde_json::Value` on purpose: the client's
//! wire types in `crate::protocol` are lenient (numbers as strings, `null`
//! for defaults), which is right for a client and wrong for a server that
//! must reject what real servers reject.

use super::codes::{NO_RESPONSE, WRONG_PAYLOAD};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

/// Longest text or caption, in characters.
pub(crate) const MAX_TEXT_CHARS: usize = 4096;
/// Longest chat title, in characters.
pub(crate) const MAX_TITLE_CHARS: usize = 256;
/// Most button rows, buttons per row, and buttons in all.
const MAX_BUTTON_ROWS: usize = 8;
const MAX_BUTTONS_PER_ROW: usize = 8;
const MAX_BUTTONS: usize = 64;

/// A request payload: a JSON object with typed, strict accessors.
#[derive(Debug)]
pub(crate) struct Args {
    map: Map<String, Value>,
}

impl Args {
    /// Decodes a payload; an absent payload is an empty object, anything but
    /// an object is 399.
    pub(crate) fn parse(payload: Option<&RawValue>) -> Result<Args, u32> {
        let Some(raw) = payload else {
            return Ok(Args { map: Map::new() });
        };
        match serde_json::from_str::<Value>(raw.get()) {
            Ok(Value::Object(map)) => Ok(Args { map }),
            Ok(Value::Null) => Ok(Args { map: Map::new() }),
            _ => Err(WRONG_PAYLOAD),
        }
    }

    /// Wraps an already decoded object (a nested `content`).
    fn from_map(map: Map<String, Value>) -> Args {
        Args { map }
    }

    /// The raw value of a key, `None` when absent or `null`.
    pub(crate) fn value(&self, key: &str) -> Option<&Value> {
        self.map.get(key).filter(|v| !v.is_null())
    }

    /// A required string.
    pub(crate) fn str(&self, key: &str) -> Result<String, u32> {
        self.opt_str(key)?.ok_or(WRONG_PAYLOAD)
    }

    /// An optional string: absent or `null` is `None`, another type is 399.
    pub(crate) fn opt_str(&self, key: &str) -> Result<Option<String>, u32> {
        match self.value(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(WRONG_PAYLOAD),
        }
    }

    /// A required unsigned integer (a JSON number, never a string).
    pub(crate) fn u64(&self, key: &str) -> Result<u64, u32> {
        self.opt_u64(key)?.ok_or(WRONG_PAYLOAD)
    }

    /// An optional unsigned integer.
    pub(crate) fn opt_u64(&self, key: &str) -> Result<Option<u64>, u32> {
        match self.value(key) {
            None => Ok(None),
            Some(v) => v.as_u64().map(Some).ok_or(WRONG_PAYLOAD),
        }
    }

    /// An optional boolean, `false` when absent or `null`.
    pub(crate) fn flag(&self, key: &str) -> Result<bool, u32> {
        match self.value(key) {
            None => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(_) => Err(WRONG_PAYLOAD),
        }
    }

    /// A required boolean.
    pub(crate) fn bool(&self, key: &str) -> Result<bool, u32> {
        match self.value(key) {
            Some(Value::Bool(b)) => Ok(*b),
            _ => Err(WRONG_PAYLOAD),
        }
    }

    /// A required nested object.
    pub(crate) fn object(&self, key: &str) -> Result<Args, u32> {
        self.opt_object(key)?.ok_or(WRONG_PAYLOAD)
    }

    /// An optional nested object.
    pub(crate) fn opt_object(&self, key: &str) -> Result<Option<Args>, u32> {
        match self.value(key) {
            None => Ok(None),
            Some(Value::Object(m)) => Ok(Some(Args::from_map(m.clone()))),
            Some(_) => Err(WRONG_PAYLOAD),
        }
    }

    /// A required string of at most `max` characters, not empty.
    pub(crate) fn bounded_str(&self, key: &str, max: usize) -> Result<String, u32> {
        let s = self.str(key)?;
        if s.is_empty() || s.chars().count() > max {
            return Err(WRONG_PAYLOAD);
        }
        Ok(s)
    }

    /// A required chat title (1 to 256 characters).
    pub(crate) fn title(&self, key: &str) -> Result<String, u32> {
        self.bounded_str(key, MAX_TITLE_CHARS)
    }

    /// A text content `{text, parseMode, buttons?}` under `key`, normalised.
    pub(crate) fn text_content(&self, key: &str) -> Result<Value, u32> {
        let content = self.object(key)?;
        content.as_text(true)
    }

    /// This object read as a text `{text, parseMode[, buttons]}`.
    ///
    /// `parseMode: null` is never answered by real servers: it yields
    /// [`NO_RESPONSE`]. A missing or unknown parse mode, a text over 4096
    /// characters, or buttons over the limits are 399.
    pub(crate) fn as_text(&self, allow_buttons: bool) -> Result<Value, u32> {
        if matches!(self.map.get("parseMode"), Some(Value::Null)) {
            return Err(NO_RESPONSE);
        }
        let text = self.str("text")?;
        if text.chars().count() > MAX_TEXT_CHARS {
            return Err(WRONG_PAYLOAD);
        }
        let mode = self.str("parseMode")?;
        if !matches!(mode.as_str(), "text" | "markdown" | "html") {
            return Err(WRONG_PAYLOAD);
        }
        let mut out = Map::new();
        out.insert("text".into(), Value::String(text));
        out.insert("parseMode".into(), Value::String(mode));
        if allow_buttons {
            if let Some(buttons) = self.value("buttons") {
                check_buttons(buttons)?;
                out.insert("buttons".into(), buttons.clone());
            }
        }
        Ok(Value::Object(out))
    }

    /// True when the payload holds `parseMode: null` anywhere a text can be
    /// (`content`, `content.caption`): such requests are never answered.
    pub(crate) fn has_null_parse_mode(&self) -> bool {
        fn null_mode(v: &Value) -> bool {
            matches!(v.get("parseMode"), Some(Value::Null))
        }
        match self.map.get("content") {
            Some(c) => null_mode(c) || c.get("caption").is_some_and(null_mode),
            None => false,
        }
    }
}

/// Rows of button objects within the documented limits.
fn check_buttons(buttons: &Value) -> Result<(), u32> {
    let rows = buttons.as_array().ok_or(WRONG_PAYLOAD)?;
    if rows.len() > MAX_BUTTON_ROWS {
        return Err(WRONG_PAYLOAD);
    }
    let mut total = 0usize;
    for row in rows {
        let row = row.as_array().ok_or(WRONG_PAYLOAD)?;
        if row.len() > MAX_BUTTONS_PER_ROW {
            return Err(WRONG_PAYLOAD);
        }
        total += row.len();
        for button in row {
            if !button.get("type").is_some_and(Value::is_string) {
                return Err(WRONG_PAYLOAD);
            }
        }
    }
    if total > MAX_BUTTONS {
        return Err(WRONG_PAYLOAD);
    }
    Ok(())
}
