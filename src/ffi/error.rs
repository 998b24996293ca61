//! Status codes, the thread-local last error, and the guard that turns
//! errors and panics into a status.

use crate::error::Error;
use std::any::Any;
use std::cell::RefCell;
use std::ffi::c_char;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// What a function's call came to. 0 is success; every other value is a
/// failure whose details are in the thread's last error.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TcbStatus {
    /// Success.
    Ok = 0,
    /// A NULL pointer where one is required, a string that is not UTF-8, bad
    /// JSON, or a value the API rejects before sending (text too long...).
    InvalidArgument = 1,
    /// The server answered with an `errorCode`: see `tcb_last_error_code`.
    Api = 2,
    /// A limit ran out: connecting or logging in (`tcb_client_connect`), a
    /// request's timeout, an HTTP transfer's, a file that did not finish
    /// uploading to the server within the request timeout, or no event
    /// within the time given to `tcb_client_next_event`.
    Timeout = 3,
    /// The client is closed: by `tcb_client_close`, or (for
    /// `tcb_client_next_event`, once the events are read) because it
    /// stopped on its own, when calls fail with `TCB_STATUS_CONNECTION`
    /// and the message says why.
    Closed = 4,
    /// The handle is in the wrong state for the call: configuring a connected
    /// client, or a request before `tcb_client_connect`.
    State = 5,
    /// The connection could not be made, or broke while a request was in
    /// flight (its outcome is then unknown) or a download was under way.
    Connection = 6,
    /// A TLS failure (an untrusted certificate, a handshake error); an
    /// unusable CA file is `TCB_STATUS_CONFIG`.
    Tls = 7,
    /// The token endpoint refused the credentials.
    Auth = 8,
    /// An HTTP transfer got an unexpected status.
    Http = 9,
    /// A local file or socket I/O error.
    Io = 10,
    /// A file operation failed on the server side (not available, size
    /// mismatch...).
    File = 11,
    /// The server sent something that could not be decoded.
    Protocol = 12,
    /// A configuration value is unusable (bad URL, unreadable CA file, no
    /// credentials).
    Config = 13,
    /// A bug in the library: a Rust panic was caught at the boundary.
    Panic = 14,
}

/// An error on its way to the caller: a status, a message, an API code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FfiError {
    pub status: TcbStatus,
    pub message: String,
    /// The server's `errorCode`, 0 when there is none.
    pub api_code: u32,
}

impl FfiError {
    pub fn new(status: TcbStatus, message: impl Into<String>) -> FfiError {
        FfiError {
            status,
            message: message.into(),
            api_code: 0,
        }
    }

    pub fn invalid(message: impl Into<String>) -> FfiError {
        FfiError::new(TcbStatus::InvalidArgument, message)
    }
}

impl From<Error> for FfiError {
    fn from(e: Error) -> FfiError {
        let status = match &e {
            Error::Api { .. } => TcbStatus::Api,
            Error::Timeout { .. } => TcbStatus::Timeout,
            Error::Closed => TcbStatus::Closed,
            Error::ConnectionLost { .. }
            | Error::Connect(_)
            | Error::File(crate::files::FileError::CutShort { .. }) => TcbStatus::Connection,
            Error::Tls(_) => TcbStatus::Tls,
            Error::Io(_) => TcbStatus::Io,
            Error::Http { .. } => TcbStatus::Http,
            Error::OAuth { .. } => TcbStatus::Auth,
            Error::Decode { .. } => TcbStatus::Protocol,
            Error::Invalid(_) => TcbStatus::InvalidArgument,
            // The local side of a transfer (a full disk): an I/O error.
            Error::File(crate::files::FileError::Local { .. }) => TcbStatus::Io,
            Error::File(_) => TcbStatus::File,
            Error::Config(_) => TcbStatus::Config,
        };
        FfiError {
            status,
            api_code: e.api_code().map_or(0, |c| c.code()),
            message: e.to_string(),
        }
    }
}

thread_local! {
    static LAST_ERROR: RefCell<Option<FfiError>> = const { RefCell::new(None) };
}

fn set_last_error(mut e: Option<FfiError>) {
    // A message quoting the server may hold a NUL, which no C string can:
    // it is shown as U+FFFD so that the message can still be read.
    if let Some(e) = e.as_mut().filter(|e| e.message.contains('\0')) {
        e.message = e.message.replace('\0', "\u{FFFD}");
    }
    // `try_with`: during thread teardown the slot may be gone; nothing to
    // report to then.
    let _ = LAST_ERROR.try_with(|slot| *slot.borrow_mut() = e);
}

fn last_error() -> Option<FfiError> {
    LAST_ERROR
        .try_with(|slot| slot.borrow().clone())
        .ok()
        .flatten()
}

pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> String {
    let what = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".into());
    format!("internal error (please report it): {what}")
}

/// Runs one exported function's body: resets the last error, catches any
/// panic, and turns an error into its status plus the last error.
pub(crate) fn guard(body: impl FnOnce() -> Result<(), FfiError>) -> TcbStatus {
    set_last_error(None);
    let outcome = catch_unwind(AssertUnwindSafe(body))
        .unwrap_or_else(|payload| Err(FfiError::new(TcbStatus::Panic, panic_message(&*payload))));
    match outcome {
        Ok(()) => TcbStatus::Ok,
        Err(e) => {
            let status = e.status;
            set_last_error(Some(e));
            status
        }
    }
}

/// Like [`guard`] but leaves the last error alone: for the functions that
/// read it.
fn guard_keep(body: impl FnOnce() -> Result<(), FfiError>) -> TcbStatus {
    catch_unwind(AssertUnwindSafe(body))
        .unwrap_or_else(|_| Err(FfiError::new(TcbStatus::Panic, "")))
        .map_or_else(|e| e.status, |()| TcbStatus::Ok)
}

/// The message of the calling thread's last error: a new string to free
/// with `tcb_string_free`, or `NULL` when the last call succeeded.
///
/// Does not reset the last error, and leaves it as it was when it fails
/// itself (`TCB_STATUS_INVALID_ARGUMENT` for a NULL `out_message`).
/// Thread-safe: each thread has its own last error.
///
/// # Safety
/// `out_message` must be NULL (refused) or point to writable storage for a
/// pointer.
#[no_mangle]
pub unsafe extern "C" fn tcb_last_error_message(out_message: *mut *mut c_char) -> TcbStatus {
    guard_keep(|| {
        // SAFETY: the caller passes NULL or a writable pointer slot.
        let out = unsafe { super::strings::out_slot(out_message, "out_message") }?;
        let text = last_error().map(|e| e.message);
        // SAFETY: `out` came from `out_slot`, so it is a valid slot.
        unsafe { super::strings::write_opt_string(out, text) }
    })
}

/// The server's `errorCode` behind the calling thread's last error (e.g.
/// 304 chat not found), or 0 when the last error is not an API error or the
/// last call succeeded.
///
/// Does not reset the last error, and leaves it as it was when it fails
/// itself (`TCB_STATUS_INVALID_ARGUMENT` for a NULL `out_code`).
/// Thread-safe: each thread has its own last error.
///
/// # Safety
/// `out_code` must be NULL (refused) or point to writable storage for a
/// `uint32_t`.
#[no_mangle]
pub unsafe extern "C" fn tcb_last_error_code(out_code: *mut u32) -> TcbStatus {
    guard_keep(|| {
        if out_code.is_null() {
            return Err(FfiError::invalid("out_code must not be NULL"));
        }
        let code = last_error().map_or(0, |e| e.api_code);
        // SAFETY: checked non-NULL above; the caller guarantees it is
        // writable and aligned.
        unsafe { out_code.write(code) };
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ApiErrorCode;

    #[test]
    fn a_panic_becomes_a_status_and_a_message() {
        let status = guard(|| panic!("boom"));
        assert_eq!(status, TcbStatus::Panic);
        let e = last_error().expect("last error");
        assert!(e.message.contains("boom"), "{}", e.message);
        assert_eq!(e.api_code, 0);
    }

    #[test]
    fn a_message_with_a_nul_can_still_be_read() {
        guard(|| Err(FfiError::new(TcbStatus::Http, "HTTP 500: ab\0cd")));
        let mut message = std::ptr::null_mut();
        // SAFETY: a valid out slot; the string is freed below.
        let status = unsafe { tcb_last_error_message(&mut message) };
        assert_eq!(status, TcbStatus::Ok);
        // SAFETY: set by the call above to a string of ours.
        let text = unsafe { std::ffi::CStr::from_ptr(message) }
            .to_str()
            .unwrap()
            .to_owned();
        // SAFETY: ours, freed once.
        unsafe { crate::ffi::strings::tcb_string_free(message) };
        assert_eq!(text, "HTTP 500: ab\u{FFFD}cd");
    }

    #[test]
    fn local_trouble_of_a_transfer_is_an_io_status() {
        let full_disk = crate::files::FileError::Local {
            path: "out.bin".into(),
            kind: std::io::ErrorKind::StorageFull,
            message: "No space left on device".into(),
        };
        assert_eq!(FfiError::from(Error::File(full_disk)).status, TcbStatus::Io);
        let gone = crate::files::FileError::NotAvailable {
            file_id: "f".into(),
        };
        assert_eq!(FfiError::from(Error::File(gone)).status, TcbStatus::File);
        let cut = crate::files::FileError::CutShort {
            what: "the download",
            received: 5,
            expected: 10,
        };
        assert_eq!(
            FfiError::from(Error::File(cut)).status,
            TcbStatus::Connection
        );
    }

    #[test]
    fn success_resets_the_last_error() {
        guard(|| Err(FfiError::invalid("x")));
        assert!(last_error().is_some());
        assert_eq!(guard(|| Ok(())), TcbStatus::Ok);
        assert_eq!(last_error(), None);
    }

    #[test]
    fn api_errors_keep_their_code_and_meaning() {
        let e = FfiError::from(Error::Api {
            method: "getChatByID".into(),
            code: ApiErrorCode::from_code(304),
        });
        assert_eq!(e.status, TcbStatus::Api);
        assert_eq!(e.api_code, 304);
        assert!(e.message.contains("getChatByID"), "{}", e.message);
        let unknown = FfiError::from(Error::Api {
            method: "m".into(),
            code: ApiErrorCode::from_code(9999),
        });
        assert_eq!(unknown.api_code, 9999);
    }

    #[test]
    fn the_last_error_is_per_thread() {
        guard(|| Err(FfiError::invalid("here")));
        let other = std::thread::spawn(last_error).join().unwrap();
        assert_eq!(other, None);
        assert!(last_error().is_some());
    }
}
