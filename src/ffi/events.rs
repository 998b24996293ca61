//! Events as JSON strings.

use super::error::{guard, FfiError, TcbStatus};
use super::handle::{handle, TcbClient};
use super::strings::{out_slot, write_string};
use std::ffi::c_char;
use std::time::Duration;

/// Waits up to `timeout_ms` milliseconds (0: do not wait) for the next
/// event of the client and returns it as one JSON object: `"event"` names
/// the kind (`"new_message"`, `"chat_created"`, `"participant_added"`,
/// `"disconnected"`, `"reconnected"`, `"raw"` for a method the library does
/// not know, `"unreadable"` with the `"text"` of a payload that is not
/// JSON...) and the other fields are the wire payload's, exactly what
/// the CLI's `trueconf-bot listen` prints. `*out_json` is a new string to
/// free with `tcb_string_free`.
///
/// Returns `TCB_STATUS_TIMEOUT` (with `*out_json` NULL) when no event came
/// in time, `TCB_STATUS_CLOSED` once the client is closed.
///
/// Thread-safe: threads waiting at once on one client each get different
/// events (every event goes to exactly one caller).
///
/// # Safety
/// `client` must be a live handle; `out_json` writable storage for a
/// pointer.
#[no_mangle]
pub unsafe extern "C" fn tcb_client_next_event(
    client: *const TcbClient,
    timeout_ms: u32,
    out_json: *mut *mut c_char,
) -> TcbStatus {
    guard(|| {
        // SAFETY: the caller passes a writable pointer slot.
        let out = unsafe { out_slot(out_json, "out_json") }?;
        // SAFETY: the caller passes a live handle.
        let client = unsafe { handle(client) }?.client()?;
        let events = client.events();
        let event = if timeout_ms == 0 {
            events.try_recv()?
        } else {
            events.recv_timeout(Duration::from_millis(timeout_ms.into()))?
        };
        let event = event.ok_or_else(|| {
            FfiError::new(
                TcbStatus::Timeout,
                format!("no event within {timeout_ms} ms"),
            )
        })?;
        // SAFETY: `out` is a slot checked by `out_slot`.
        unsafe { write_string(out, event.to_json().to_string()) }
    })
}
