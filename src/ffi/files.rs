//! Sending and downloading files.

use super::error::{guard, FfiError, TcbStatus};
use super::handle::{handle, TcbClient};
use super::strings::{opt_out_slot, opt_str_arg, str_arg, write_string};
use crate::protocol::ParseMode;
use std::ffi::c_char;
use std::path::Path;

/// Sends the file at `path` to a chat, with an optional plain-text
/// `caption` (NULL for none): creates the upload task, streams the file to
/// the server over HTTP (memory use does not grow with its size), and posts
/// it. The name and MIME type come from the path; the server's upload
/// limits, when known, are checked before uploading. Blocks until the
/// server has answered.
///
/// On success, when the out-parameters are not NULL, `*out_message_id` is
/// the new message's id and `*out_file_id` the file's id (for
/// `tcb_client_download_file`; NULL when the server does not report it),
/// each a new string to free with `tcb_string_free`.
///
/// Thread-safe: several threads may send files at once on one client.
///
/// # Safety
/// `client` must be a live handle; `chat_id` and `path` NUL-terminated
/// strings; `caption` NULL or a NUL-terminated string; `out_message_id` and
/// `out_file_id` NULL or writable storage for a pointer.
#[no_mangle]
pub unsafe extern "C" fn tcb_client_send_file(
    client: *const TcbClient,
    chat_id: *const c_char,
    path: *const c_char,
    caption: *const c_char,
    out_message_id: *mut *mut c_char,
    out_file_id: *mut *mut c_char,
) -> TcbStatus {
    guard(|| {
        // SAFETY: the caller passes NULL or writable pointer slots.
        let (out_message, out_file) =
            unsafe { (opt_out_slot(out_message_id), opt_out_slot(out_file_id)) };
        // SAFETY: the caller passes NUL-terminated strings (NULL allowed for
        // the caption).
        let (chat_id, path, caption) = unsafe {
            (
                str_arg(chat_id, "chat_id")?,
                str_arg(path, "path")?,
                opt_str_arg(caption, "caption")?,
            )
        };
        // SAFETY: the caller passes a live handle.
        let client = unsafe { handle(client) }?.client()?;
        let mut upload = client.file_upload(chat_id).path(Path::new(path));
        if let Some(caption) = caption {
            upload = upload.caption(caption, ParseMode::Text);
        }
        let sent = upload.send()?;
        if let Some(out) = out_message {
            // SAFETY: `out` is a slot checked by `opt_out_slot`.
            unsafe { write_string(out, sent.message_id) }?;
        }
        if let (Some(out), Some(file_id)) = (out_file, sent.file_id) {
            // SAFETY: `out` is a slot checked by `opt_out_slot`.
            unsafe { write_string(out, file_id) }?;
        }
        Ok(())
    })
}

/// Downloads a file by its id into the existing directory `dir`, under the
/// name the server reports made safe (nothing is written outside `dir`; an
/// existing file is not replaced, `name (1).ext` is used instead). The file
/// appears only once complete and its size verified. Waits while the file
/// is still uploading to the server; a file no longer available is
/// `TCB_STATUS_FILE`. `*out_path` (when not
/// NULL) is the written file's path, a new string to free with
/// `tcb_string_free`.
///
/// Thread-safe: several threads may download at once on one client.
///
/// # Safety
/// `client` must be a live handle; `file_id` and `dir` NUL-terminated
/// strings; `out_path` NULL or writable storage for a pointer.
#[no_mangle]
pub unsafe extern "C" fn tcb_client_download_file(
    client: *const TcbClient,
    file_id: *const c_char,
    dir: *const c_char,
    out_path: *mut *mut c_char,
) -> TcbStatus {
    guard(|| {
        // SAFETY: the caller passes NULL or a writable pointer slot.
        let out = unsafe { opt_out_slot(out_path) };
        // SAFETY: the caller passes NUL-terminated strings.
        let (file_id, dir) = unsafe { (str_arg(file_id, "file_id")?, str_arg(dir, "dir")?) };
        // SAFETY: the caller passes a live handle.
        let client = unsafe { handle(client) }?.client()?;
        let written = client.download_to_path(file_id, Path::new(dir))?;
        match out {
            Some(out) => {
                let path = written.into_os_string().into_string().map_err(|p| {
                    FfiError::new(
                        TcbStatus::Io,
                        format!("the downloaded file's path is not UTF-8: {p:?}"),
                    )
                })?;
                // SAFETY: `out` is a slot checked by `opt_out_slot`.
                unsafe { write_string(out, path) }
            }
            None => Ok(()),
        }
    })
}
