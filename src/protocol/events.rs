//! TEMPORARY STUB (not committed)
use serde_json::value::RawValue;
/// stub
#[derive(Debug)]
pub enum Event {
    /// stub
    Raw {
        method: String,
        payload: serde_json::Value,
    },
    /// stub
    Disconnected { reason: String },
    /// stub
    Reconnected,
}
/// stub
pub fn decode_event(method: &str, payload: Option<&RawValue>) -> Event {
    Event::Raw {
        method: method.into(),
        payload: payload
            .and_then(|p| serde_json::from_str(p.get()).ok())
            .unwrap_or_default(),
    }
}
