//! Client lifecycle, configuration, messages and the generic call.

use super::error::{guard, FfiError, TcbStatus};
use super::handle::{handle, TcbClient};
use super::strings::{opt_out_slot, opt_str_arg, out_slot, str_arg, write_string};
use crate::protocol::methods::SendMessage;
use crate::protocol::ParseMode;
use crate::{Client, ClientBuilder};
use std::ffi::c_char;
use std::time::Duration;

/// Reads a parse mode name: NULL or `""` is `text`.
pub(crate) fn parse_mode(name: Option<&str>) -> Result<ParseMode, FfiError> {
    match name.unwrap_or("") {
        "" | "text" => Ok(ParseMode::Text),
        "markdown" => Ok(ParseMode::Markdown),
        "html" => Ok(ParseMode::Html),
        other => Err(FfiError::invalid(format!(
            "parse_mode must be \"text\", \"markdown\" or \"html\", not {other:?}"
        ))),
    }
}

/// Creates a client for the server at `url` (e.g. `https://video.example.com`
/// or `http://10.0.0.5:4309`), not connected yet. Configure it with the
/// `tcb_client_set_*` functions, then call `tcb_client_connect`.
///
/// On success `*out_client` is a new handle to free with `tcb_client_free`.
/// The URL is checked when connecting.
///
/// Thread-safe.
///
/// # Safety
/// `url` must be a NUL-terminated string; `out_client` must point to
/// writable storage for a pointer.
#[no_mangle]
pub unsafe extern "C" fn tcb_client_new(
    url: *const c_char,
    out_client: *mut *mut TcbClient,
) -> TcbStatus {
    guard(|| {
        if out_client.is_null() {
            return Err(FfiError::invalid("out_client must not be NULL"));
        }
        // SAFETY: checked non-NULL; the caller guarantees it is writable.
        unsafe { out_client.write(std::ptr::null_mut()) };
        // SAFETY: the caller passes a NUL-terminated string.
        let url = unsafe { str_arg(url, "url") }?;
        let client = Box::new(TcbClient::new(Client::builder(url)));
        // SAFETY: as above. The caller owns the box from here and frees it
        // with `tcb_client_free`.
        unsafe { out_client.write(Box::into_raw(client)) };
        Ok(())
    })
}

/// Runs `change` on the builder of the handle behind `client`.
///
/// # Safety
/// As [`handle`].
unsafe fn configure(
    client: *const TcbClient,
    change: impl FnOnce(ClientBuilder) -> ClientBuilder,
) -> Result<(), FfiError> {
    // SAFETY: forwarded from this function's contract.
    unsafe { handle(client) }?.configure(change)
}

/// Logs in with a login and password: a token is requested over HTTP when
/// connecting, and again whenever the server says it expired. The password
/// is copied and never logged.
///
/// Before `tcb_client_connect` only (`TCB_STATUS_STATE` after). Thread-safe.
///
/// # Safety
/// `client` must be a live handle; `login` and `password` NUL-terminated
/// strings.
#[no_mangle]
pub unsafe extern "C" fn tcb_client_set_credentials(
    client: *const TcbClient,
    login: *const c_char,
    password: *const c_char,
) -> TcbStatus {
    guard(|| {
        // SAFETY: the caller passes NUL-terminated strings.
        let (login, password) =
            unsafe { (str_arg(login, "login")?, str_arg(password, "password")?) };
        // SAFETY: the caller passes a live handle.
        unsafe { configure(client, |b| b.credentials(login, password)) }
    })
}

/// Authenticates with a ready access token. Set together with
/// `tcb_client_set_credentials`, both are kept: the token is used first,
/// and the login and password get a new one when the server refuses it.
///
/// Before `tcb_client_connect` only. Thread-safe.
///
/// # Safety
/// `client` must be a live handle; `token` a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn tcb_client_set_token(
    client: *const TcbClient,
    token: *const c_char,
) -> TcbStatus {
    guard(|| {
        // SAFETY: the caller passes a NUL-terminated string.
        let token = unsafe { str_arg(token, "token") }?;
        // SAFETY: the caller passes a live handle.
        unsafe { configure(client, |b| b.token(token)) }
    })
}

/// Trusts the CA certificates in a PEM file, besides the system's roots
/// (for servers with a private CA). The file (a regular file or a pipe, at
/// most 16 MiB) is read now: an unreadable or invalid file fails with
/// `TCB_STATUS_CONFIG` and leaves the configuration as it was. A pipe may
/// keep this call waiting for up to 10 s of silence.
///
/// Before `tcb_client_connect` only. Thread-safe.
///
/// # Safety
/// `client` must be a live handle; `pem_path` a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn tcb_client_set_ca_file(
    client: *const TcbClient,
    pem_path: *const c_char,
) -> TcbStatus {
    guard(|| {
        // SAFETY: the caller passes a NUL-terminated string.
        let path = unsafe { str_arg(pem_path, "pem_path") }?;
        // SAFETY: the caller passes a live handle.
        unsafe { handle(client) }?.try_configure(|b| {
            let trusting = b.ca_cert_file(path);
            match trusting.ca_problem() {
                Some(problem) => Err(FfiError::new(TcbStatus::Config, problem)),
                None => Ok(trusting),
            }
        })
    })
}

/// Accepts any server certificate without checking it (`true`), for
/// self-signed servers in closed networks. This gives up protection
/// against impostors: enable it only when the user asks for it.
///
/// Before `tcb_client_connect` only. Thread-safe.
///
/// # Safety
/// `client` must be a live handle.
#[no_mangle]
pub unsafe extern "C" fn tcb_client_set_accept_invalid_certs(
    client: *const TcbClient,
    accept: bool,
) -> TcbStatus {
    guard(|| {
        // SAFETY: the caller passes a live handle.
        unsafe { configure(client, |b| b.danger_accept_invalid_certs(accept)) }
    })
}

/// Whether server events are kept for `tcb_client_next_event` (`true`, the
/// default). A program that only sends and never waits for events should
/// pass `false`: events are then acknowledged and dropped rather than kept
/// in memory, and `tcb_client_next_event` returns `TCB_STATUS_CLOSED`.
///
/// Before `tcb_client_connect` only. Thread-safe.
///
/// # Safety
/// `client` must be a live handle.
#[no_mangle]
pub unsafe extern "C" fn tcb_client_set_keep_events(
    client: *const TcbClient,
    keep: bool,
) -> TcbStatus {
    guard(|| {
        // SAFETY: the caller passes a live handle.
        unsafe { configure(client, |b| b.keep_events(keep)) }
    })
}

/// Sets the time limits in milliseconds; 0 leaves a limit as it is (10 s
/// each unless set before): `connect_ms` for TCP, TLS and the WebSocket
/// upgrade, `auth_ms` for the token and `auth` requests, `request_ms` for
/// each request's response (messages, calls, file steps).
///
/// Before `tcb_client_connect` only. Thread-safe.
///
/// # Safety
/// `client` must be a live handle.
#[no_mangle]
pub unsafe extern "C" fn tcb_client_set_timeouts(
    client: *const TcbClient,
    connect_ms: u32,
    auth_ms: u32,
    request_ms: u32,
) -> TcbStatus {
    guard(|| {
        let ms = |v: u32| (v > 0).then(|| Duration::from_millis(v.into()));
        // SAFETY: the caller passes a live handle.
        unsafe {
            configure(client, |mut b| {
                if let Some(t) = ms(connect_ms) {
                    b = b.connect_timeout(t);
                }
                if let Some(t) = ms(auth_ms) {
                    b = b.auth_timeout(t);
                }
                if let Some(t) = ms(request_ms) {
                    b = b.request_timeout(t);
                }
                b
            })
        }
    })
}

/// Connects, authenticates and starts the client's I/O thread. Blocks up to
/// the connect and auth timeouts. After a failure the handle keeps its
/// configuration and may be reconfigured and connected again. Once
/// connected, the client reconnects by itself after a network loss.
///
/// Thread-safe; a second `tcb_client_connect` running at the same time, or
/// after success, fails with `TCB_STATUS_STATE`.
///
/// # Safety
/// `client` must be a live handle.
#[no_mangle]
pub unsafe extern "C" fn tcb_client_connect(client: *const TcbClient) -> TcbStatus {
    guard(|| {
        // SAFETY: the caller passes a live handle.
        unsafe { handle(client) }?.connect()
    })
}

/// Closes the connection (WebSocket close 1000) and stops the I/O thread.
/// Requests in flight on other threads fail with `TCB_STATUS_CLOSED`, as do
/// later calls; a `tcb_client_connect` under way on another thread returns
/// `TCB_STATUS_CLOSED` at once; file transfers under way stop with it at
/// their next read of the body. Closing twice, or closing a client never connected, is
/// fine. The handle must still be freed with `tcb_client_free`.
///
/// Thread-safe.
///
/// # Safety
/// `client` must be a live handle.
#[no_mangle]
pub unsafe extern "C" fn tcb_client_close(client: *const TcbClient) -> TcbStatus {
    guard(|| {
        // SAFETY: the caller passes a live handle.
        unsafe { handle(client) }?.close();
        Ok(())
    })
}

/// Closes the client if needed and frees the handle. NULL is ignored.
///
/// NOT thread-safe with respect to the handle: every other call on it must
/// have returned, and it must not be used afterwards.
///
/// # Safety
/// `client` must be NULL or a handle from `tcb_client_new` not yet freed.
#[no_mangle]
pub unsafe extern "C" fn tcb_client_free(client: *mut TcbClient) {
    if client.is_null() {
        return;
    }
    let _ = std::panic::catch_unwind(|| {
        // SAFETY: the handle came from `Box::into_raw` in `tcb_client_new`,
        // and the caller frees it once, with no other call in progress.
        let handle = unsafe { Box::from_raw(client) };
        handle.close();
    });
}

/// The TrueConf ID the server authenticated the client as, with the
/// server's instance suffix (e.g. `bot@video.example.com/1b2cfb42f7`;
/// message authors carry the part before the `/`). `*out_user_id` is a new
/// string to free with `tcb_string_free`.
///
/// Thread-safe.
///
/// # Safety
/// `client` must be a live handle; `out_user_id` must point to writable
/// storage for a pointer.
#[no_mangle]
pub unsafe extern "C" fn tcb_client_user_id(
    client: *const TcbClient,
    out_user_id: *mut *mut c_char,
) -> TcbStatus {
    guard(|| {
        // SAFETY: the caller passes a writable pointer slot.
        let out = unsafe { out_slot(out_user_id, "out_user_id") }?;
        // SAFETY: the caller passes a live handle.
        let client = unsafe { handle(client) }?.client()?;
        // SAFETY: `out` is a slot checked by `out_slot`.
        unsafe { write_string(out, client.user_id()) }
    })
}

/// Sends a text message to a chat and waits for the server's answer.
///
/// `parse_mode` is `"text"` (also for NULL), `"markdown"` or `"html"`;
/// `reply_to` is the id of the message answered, or NULL. On success
/// `*out_message_id` (when `out_message_id` is not NULL) is the new
/// message's id, to free with `tcb_string_free`.
///
/// Thread-safe: several threads may send at once on one client.
///
/// # Safety
/// `client` must be a live handle; `chat_id` and `text` NUL-terminated
/// strings; `parse_mode` and `reply_to` NULL or NUL-terminated strings;
/// `out_message_id` NULL or writable storage for a pointer.
#[no_mangle]
pub unsafe extern "C" fn tcb_client_send_message(
    client: *const TcbClient,
    chat_id: *const c_char,
    text: *const c_char,
    parse_mode: *const c_char,
    reply_to: *const c_char,
    out_message_id: *mut *mut c_char,
) -> TcbStatus {
    guard(|| {
        // SAFETY: the caller passes NULL or a writable pointer slot.
        let out = unsafe { opt_out_slot(out_message_id) };
        // SAFETY: the caller passes NUL-terminated strings (NULL allowed for
        // the optional ones).
        let (chat_id, text, mode, reply_to) = unsafe {
            (
                str_arg(chat_id, "chat_id")?,
                str_arg(text, "text")?,
                opt_str_arg(parse_mode, "parse_mode")?,
                opt_str_arg(reply_to, "reply_to")?,
            )
        };
        let mut request = SendMessage::new(chat_id, text).parse_mode(self::parse_mode(mode)?);
        if let Some(reply) = reply_to {
            request = request.reply_to(reply);
        }
        // SAFETY: the caller passes a live handle.
        let client = unsafe { handle(client) }?.client()?;
        let sent = client.request(&request)?;
        match out {
            // SAFETY: `out` is a slot checked by `opt_out_slot`.
            Some(out) => unsafe { write_string(out, sent.message_id) },
            None => Ok(()),
        }
    })
}

/// Calls any API method with a JSON payload and returns the JSON response
/// payload: the escape hatch for everything without its own function
/// (`createP2PChat`, `getChats` with `{"count":100,"page":1}`,
/// `getChatHistory`...). `payload_json` NULL means `{}`, which only
/// methods without required fields accept. `*out_json` is a new string to free with `tcb_string_free`.
/// An `errorCode` answer is `TCB_STATUS_API` with the code in the last
/// error (`TCB_STATUS_PROTOCOL` when its code cannot be read as one). A
/// payload that is not JSON, or nests deeper than 126 levels, is
/// `TCB_STATUS_INVALID_ARGUMENT`, and nothing is sent.
///
/// Thread-safe: several threads may call at once on one client.
///
/// # Safety
/// `client` must be a live handle; `method` a NUL-terminated string;
/// `payload_json` NULL or a NUL-terminated string; `out_json` writable
/// storage for a pointer.
#[no_mangle]
pub unsafe extern "C" fn tcb_client_call(
    client: *const TcbClient,
    method: *const c_char,
    payload_json: *const c_char,
    out_json: *mut *mut c_char,
) -> TcbStatus {
    guard(|| {
        // SAFETY: the caller passes a writable pointer slot.
        let out = unsafe { out_slot(out_json, "out_json") }?;
        // SAFETY: the caller passes NUL-terminated strings (NULL allowed for
        // the payload).
        let (method, payload) = unsafe {
            (
                str_arg(method, "method")?,
                opt_str_arg(payload_json, "payload_json")?,
            )
        };
        let payload = match payload {
            None => serde_json::Value::Object(Default::default()),
            Some(text) => serde_json::from_str(text)
                .map_err(|e| FfiError::invalid(format!("payload_json is not valid JSON: {e}")))?,
        };
        // SAFETY: the caller passes a live handle.
        let client = unsafe { handle(client) }?.client()?;
        let response = client.call(method, payload)?;
        // SAFETY: `out` is a slot checked by `out_slot`.
        unsafe { write_string(out, response.to_string()) }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_modes_by_name() {
        assert_eq!(parse_mode(None).unwrap(), ParseMode::Text);
        assert_eq!(parse_mode(Some("")).unwrap(), ParseMode::Text);
        assert_eq!(parse_mode(Some("html")).unwrap(), ParseMode::Html);
        assert_eq!(parse_mode(Some("markdown")).unwrap(), ParseMode::Markdown);
        let e = parse_mode(Some("bbcode")).unwrap_err();
        assert_eq!(e.status, TcbStatus::InvalidArgument);
    }
}
