//! Strings across the boundary: borrowed UTF-8 C strings in, owned C
//! strings out (freed by [`tcb_string_free`]), and out-parameter slots.

use super::error::FfiError;
use std::ffi::{c_char, CStr, CString};

/// Borrows a required input string.
///
/// # Safety
/// `ptr` is NULL or a NUL-terminated string that stays valid and unchanged
/// for `'a` (the duration of the exported call).
pub(crate) unsafe fn str_arg<'a>(ptr: *const c_char, name: &str) -> Result<&'a str, FfiError> {
    // SAFETY: forwarded from this function's contract.
    unsafe { opt_str_arg(ptr, name) }?
        .ok_or_else(|| FfiError::invalid(format!("{name} must not be NULL")))
}

/// Borrows an optional input string: NULL is `None`.
///
/// # Safety
/// As [`str_arg`].
pub(crate) unsafe fn opt_str_arg<'a>(
    ptr: *const c_char,
    name: &str,
) -> Result<Option<&'a str>, FfiError> {
    if ptr.is_null() {
        return Ok(None);
    }
    // SAFETY: non-NULL, and the caller guarantees a NUL-terminated string
    // valid for 'a.
    let text = unsafe { CStr::from_ptr(ptr) };
    text.to_str()
        .map(Some)
        .map_err(|e| FfiError::invalid(format!("{name} is not valid UTF-8: {e}")))
}

/// A caller's `char **` out-parameter, checked and cleared.
#[derive(Debug)]
pub(crate) struct OutString(*mut *mut c_char);

/// Checks a required `char **` out-parameter and sets `*slot` to NULL, so
/// the caller sees NULL whatever happens next.
///
/// # Safety
/// `slot` is NULL or points to writable storage for a pointer.
pub(crate) unsafe fn out_slot(slot: *mut *mut c_char, name: &str) -> Result<OutString, FfiError> {
    // SAFETY: forwarded from this function's contract.
    unsafe { opt_out_slot(slot) }
        .ok_or_else(|| FfiError::invalid(format!("{name} must not be NULL")))
}

/// Like [`out_slot`] for an optional out-parameter: NULL means the caller
/// does not want that result.
///
/// # Safety
/// As [`out_slot`].
pub(crate) unsafe fn opt_out_slot(slot: *mut *mut c_char) -> Option<OutString> {
    if slot.is_null() {
        return None;
    }
    // SAFETY: non-NULL, and the caller guarantees it is writable.
    unsafe { slot.write(std::ptr::null_mut()) };
    Some(OutString(slot))
}

/// Converts a result for the caller; an interior NUL (which no C string
/// can hold) is an error rather than a silent cut. The error says that the
/// request itself was carried out, so that a caller does not repeat it.
pub(crate) fn to_c_string(text: String) -> Result<CString, FfiError> {
    CString::new(text).map_err(|_| {
        FfiError::new(
            super::TcbStatus::Protocol,
            "the request was carried out, but its result holds a NUL character \
             and cannot be returned as a C string",
        )
    })
}

/// Hands `text` to the caller through `out`.
///
/// # Safety
/// `out` is a slot from [`out_slot`] whose storage is still writable.
pub(crate) unsafe fn write_string(out: OutString, text: String) -> Result<(), FfiError> {
    let c = to_c_string(text)?;
    // SAFETY: forwarded from this function's contract.
    unsafe { write_c_string(out, c) };
    Ok(())
}

/// Hands an already converted string to the caller through `out` (for
/// results of several strings, converted first so that none is handed
/// out when one cannot be).
///
/// # Safety
/// As [`write_string`].
pub(crate) unsafe fn write_c_string(out: OutString, c: CString) {
    // SAFETY: `out.0` was checked non-NULL by `out_slot`; the caller
    // guarantees it is still writable. Ownership of the string passes to the
    // caller, who frees it with `tcb_string_free`.
    unsafe { out.0.write(c.into_raw()) };
}

/// Hands `text` (or NULL) to the caller through `out`.
///
/// # Safety
/// As [`write_string`].
pub(crate) unsafe fn write_opt_string(
    out: OutString,
    text: Option<String>,
) -> Result<(), FfiError> {
    match text {
        // SAFETY: forwarded from this function's contract.
        Some(text) => unsafe { write_string(out, text) },
        // `out_slot` already wrote NULL.
        None => Ok(()),
    }
}

/// Frees a string the library returned. NULL is ignored.
///
/// Thread-safe: any thread may free any string the library returned, once.
///
/// # Safety
/// `s` must be NULL or a string returned by this library that was not
/// freed yet; it must not be used afterwards.
#[no_mangle]
pub unsafe extern "C" fn tcb_string_free(s: *mut c_char) {
    if s.is_null() {
        return;
    }
    // A panic cannot happen here (dropping a CString only frees memory), but
    // keep the boundary rule anyway.
    let _ = std::panic::catch_unwind(|| {
        // SAFETY: `s` came from `CString::into_raw` in `write_string` and is
        // freed exactly once, per this function's contract.
        drop(unsafe { CString::from_raw(s) });
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_round_trip_and_are_freed() {
        let mut slot: *mut c_char = std::ptr::dangling_mut::<c_char>();
        // SAFETY: `slot` is a local, writable pointer slot.
        let out = unsafe { out_slot(&mut slot, "out") }.unwrap();
        assert!(slot.is_null(), "cleared before any result");
        // SAFETY: `out` refers to `slot`, still alive.
        unsafe { write_string(out, "héllo".into()) }.unwrap();
        // SAFETY: `slot` now holds a string the library returned.
        let back = unsafe { str_arg(slot, "s") }.unwrap().to_owned();
        assert_eq!(back, "héllo");
        // SAFETY: returned by `write_string`, freed once.
        unsafe { tcb_string_free(slot) };
    }

    #[test]
    fn null_and_bad_utf8_inputs_are_errors() {
        // SAFETY: NULL is allowed.
        let e = unsafe { str_arg(std::ptr::null(), "chat_id") }.unwrap_err();
        assert_eq!(e.message, "chat_id must not be NULL");
        let bad = b"\xff\xfe\0";
        // SAFETY: a NUL-terminated byte string living for the call.
        let e = unsafe { str_arg(bad.as_ptr().cast(), "text") }.unwrap_err();
        assert!(
            e.message.starts_with("text is not valid UTF-8"),
            "{}",
            e.message
        );
        // SAFETY: NULL is allowed.
        assert_eq!(unsafe { opt_str_arg(std::ptr::null(), "x") }.unwrap(), None);
    }

    #[test]
    fn interior_nul_is_reported() {
        assert!(to_c_string("a\0b".into()).is_err());
    }
}
