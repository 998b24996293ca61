//! Sending and downloading files.

use super::client::parse_mode;
use super::error::{guard, FfiError, TcbStatus};
use super::handle::{handle, TcbClient};
use super::strings::{
    opt_out_slot, opt_str_arg, str_arg, to_c_string, write_c_string, write_string, OutString,
};
use crate::protocol::ParseMode;
use std::ffi::c_char;
use std::path::Path;

/// Sends the file at `path` to a chat, with an optional plain-text
/// `caption` (NULL for none): creates the upload task, streams the file to
/// the server over HTTP (memory use does not grow with its size), and posts
/// it. The name and MIME type come from the path; the server's upload
/// limits, when known, are checked before uploading. Blocks until the
/// server has answered. `tcb_client_send_file_with_options` also takes a
/// preview image, a reply and the caption's parse mode.
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
        let outs = unsafe { (opt_out_slot(out_message_id), opt_out_slot(out_file_id)) };
        // SAFETY: the caller passes NUL-terminated strings (NULL allowed for
        // the caption).
        let (chat_id, path, caption) = unsafe {
            (
                str_arg(chat_id, "chat_id")?,
                str_arg(path, "path")?,
                opt_str_arg(caption, "caption")?,
            )
        };
        let options = FileOptions {
            caption: caption.map(|text| (text, ParseMode::Text)),
            ..FileOptions::default()
        };
        // SAFETY: the caller passes a live handle and writable slots.
        unsafe { send_file(client, chat_id, path, options, outs) }
    })
}

/// Options for `tcb_client_send_file_with_options`. Every pointer may be
/// NULL (the option is not used); the strings are borrowed for the call.
///
/// Set `struct_size` to `sizeof(TcbSendFileOptions)` and zero every field
/// you do not set, e.g. with designated initializers:
///
/// ```c
/// TcbSendFileOptions options = {
///     .struct_size = sizeof options,
///     .reply_to = message_id,
///     .preview_path = "preview.png",
/// };
/// ```
///
/// Later versions of the library may add fields at the end; a program
/// built against this header keeps working with them, because the size
/// tells the library which fields the program knows. A program built
/// against a newer header that sets a field this library does not know
/// gets `TCB_STATUS_INVALID_ARGUMENT` rather than a silently ignored
/// option.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct TcbSendFileOptions {
    /// `sizeof(TcbSendFileOptions)` as the program was compiled with.
    pub struct_size: usize,
    /// A caption under the file, posted as its own message right after it.
    pub caption: *const c_char,
    /// How the server renders the caption: `"text"` (also for NULL),
    /// `"markdown"` or `"html"`.
    pub caption_parse_mode: *const c_char,
    /// The id of the message the file answers (a reply).
    pub reply_to: *const c_char,
    /// A preview image shown in place of a plain file icon (MIME type
    /// guessed from its name, e.g. `.png`, `.jpg`, `.webp`).
    pub preview_path: *const c_char,
    // New fields go at the end only, and a later version reads them only
    // when `struct_size` covers them, so that programs built against this
    // header keep working. This is the first version: `read_options`
    // accepts no smaller size.
}

/// The largest `struct_size` accepted: far above any real version of the
/// structure, low enough that a garbage size is refused before reading.
const MAX_OPTIONS_SIZE: usize = 4096;

/// Sends the file at `path` to a chat with `options` (NULL for none): as
/// `tcb_client_send_file`, plus a caption with a parse mode, a reply to a
/// message and a preview image (see `TcbSendFileOptions`). The file and the
/// preview are opened, and the options checked, before anything is
/// uploaded: a bad option or a missing preview sends nothing.
///
/// On success, when the out-parameters are not NULL, `*out_message_id` is
/// the new message's id and `*out_file_id` the file's id (NULL when the
/// server does not report it), each a new string to free with
/// `tcb_string_free`. On failure both are set to NULL.
///
/// `TCB_STATUS_INVALID_ARGUMENT` for a `struct_size` smaller than this
/// version's `sizeof(TcbSendFileOptions)` (or above 4096), for a field this
/// version does not know that is not zero, for an unknown parse mode, and
/// for a `path` or `preview_path` that is empty or names a directory (or
/// anything else that is not a file); `TCB_STATUS_IO` when the file or the
/// preview cannot be opened; `TCB_STATUS_API` when the server refuses (e.g.
/// the replied message is not in the chat).
///
/// Thread-safe: several threads may send files at once on one client.
///
/// # Safety
/// `client` must be a live handle; `chat_id` and `path` NUL-terminated
/// strings; `options` NULL or a pointer to `options->struct_size` readable
/// bytes starting with a `TcbSendFileOptions` whose string fields are NULL
/// or NUL-terminated strings; `out_message_id` and `out_file_id` NULL or
/// writable storage for a pointer.
#[no_mangle]
pub unsafe extern "C" fn tcb_client_send_file_with_options(
    client: *const TcbClient,
    chat_id: *const c_char,
    path: *const c_char,
    options: *const TcbSendFileOptions,
    out_message_id: *mut *mut c_char,
    out_file_id: *mut *mut c_char,
) -> TcbStatus {
    guard(|| {
        // SAFETY: the caller passes NULL or writable pointer slots.
        let outs = unsafe { (opt_out_slot(out_message_id), opt_out_slot(out_file_id)) };
        // SAFETY: the caller passes NUL-terminated strings.
        let (chat_id, path) = unsafe { (str_arg(chat_id, "chat_id")?, str_arg(path, "path")?) };
        // SAFETY: the caller passes NULL or a readable options structure of
        // `struct_size` bytes.
        let raw = unsafe { read_options(options) }?;
        // SAFETY: the caller passes NULL or NUL-terminated strings in the
        // structure, valid for the call.
        let (caption, mode, reply_to, preview) = unsafe {
            (
                opt_str_arg(raw.caption, "options->caption")?,
                opt_str_arg(raw.caption_parse_mode, "options->caption_parse_mode")?,
                opt_str_arg(raw.reply_to, "options->reply_to")?,
                opt_str_arg(raw.preview_path, "options->preview_path")?,
            )
        };
        let mode = parse_mode(mode)?;
        if preview.is_some_and(str::is_empty) {
            return Err(FfiError::invalid(
                "options->preview_path must not be empty (NULL for no preview)",
            ));
        }
        let options = FileOptions {
            caption: caption.map(|text| (text, mode)),
            reply_to,
            preview,
        };
        // SAFETY: the caller passes a live handle and writable slots.
        unsafe { send_file(client, chat_id, path, options, outs) }
    })
}

/// A copy of the caller's options (all NULL for a NULL pointer), after
/// checking its size: at least this version's structure, and any bytes
/// beyond it (fields of a newer version) zero.
///
/// # Safety
/// `options` is NULL or points to `struct_size` readable bytes that start
/// with a `TcbSendFileOptions`.
unsafe fn read_options(options: *const TcbSendFileOptions) -> Result<TcbSendFileOptions, FfiError> {
    const KNOWN: usize = std::mem::size_of::<TcbSendFileOptions>();
    if options.is_null() {
        return Ok(TcbSendFileOptions {
            struct_size: KNOWN,
            caption: std::ptr::null(),
            caption_parse_mode: std::ptr::null(),
            reply_to: std::ptr::null(),
            preview_path: std::ptr::null(),
        });
    }
    if !options.is_aligned() {
        return Err(FfiError::invalid(
            "options is not aligned for a TcbSendFileOptions",
        ));
    }
    // SAFETY: non-NULL and aligned; the caller guarantees the structure is
    // readable, and `struct_size` is its first field.
    let size = unsafe { std::ptr::addr_of!((*options).struct_size).read() };
    if !(KNOWN..=MAX_OPTIONS_SIZE).contains(&size) {
        return Err(FfiError::invalid(format!(
            "options->struct_size is {size}; set it to sizeof(TcbSendFileOptions) ({KNOWN} \
             for this version of the library)"
        )));
    }
    if size > KNOWN {
        // SAFETY: the caller guarantees `size` readable bytes from
        // `options`; the first KNOWN of them are this version's fields.
        let newer =
            unsafe { std::slice::from_raw_parts(options.cast::<u8>().add(KNOWN), size - KNOWN) };
        if newer.iter().any(|&b| b != 0) {
            return Err(FfiError::invalid(format!(
                "options sets fields this version of the library does not know \
                 (struct_size {size}, known {KNOWN}): leave them zero or use a newer library"
            )));
        }
    }
    // SAFETY: as above: aligned, readable, at least KNOWN bytes.
    Ok(unsafe { options.read() })
}

/// The options both send functions share, borrowed from the caller.
#[derive(Debug, Default)]
struct FileOptions<'a> {
    caption: Option<(&'a str, ParseMode)>,
    reply_to: Option<&'a str>,
    preview: Option<&'a str>,
}

/// Uploads and posts the file, then hands back its ids.
///
/// # Safety
/// `client` must be a live handle; the slots come from `opt_out_slot` and
/// are still writable.
unsafe fn send_file(
    client: *const TcbClient,
    chat_id: &str,
    path: &str,
    options: FileOptions<'_>,
    (out_message, out_file): (Option<OutString>, Option<OutString>),
) -> Result<(), FfiError> {
    // SAFETY: the caller passes a live handle.
    let client = unsafe { handle(client) }?.client()?;
    let mut upload = client.file_upload(chat_id).path(Path::new(path));
    if let Some((text, mode)) = options.caption {
        upload = upload.caption(text, mode);
    }
    if let Some(reply) = options.reply_to {
        upload = upload.reply_to(reply);
    }
    if let Some(preview) = options.preview {
        upload = upload.preview_path(Path::new(preview));
    }
    let sent = upload.send()?;
    // Both converted before either is handed out: on failure neither is.
    let message_id = to_c_string(sent.message_id)?;
    let file_id = sent.file_id.map(to_c_string).transpose()?;
    if let Some(out) = out_message {
        // SAFETY: `out` is a slot checked by `opt_out_slot`.
        unsafe { write_c_string(out, message_id) };
    }
    if let (Some(out), Some(file_id)) = (out_file, file_id) {
        // SAFETY: `out` is a slot checked by `opt_out_slot`.
        unsafe { write_c_string(out, file_id) };
    }
    Ok(())
}

/// Downloads a file by its id into the existing directory `dir`, under the
/// name the server reports made safe (nothing is written outside `dir`; an
/// existing file is not replaced, `name (1).ext` is used instead). The file
/// appears only once complete and its size verified. Waits while the file
/// is still uploading to the server, up to the request timeout
/// (`TCB_STATUS_TIMEOUT`); a file no longer available is
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

#[cfg(test)]
mod tests {
    use super::*;

    fn options() -> TcbSendFileOptions {
        TcbSendFileOptions {
            struct_size: std::mem::size_of::<TcbSendFileOptions>(),
            caption: std::ptr::null(),
            caption_parse_mode: std::ptr::null(),
            reply_to: std::ptr::null(),
            preview_path: std::ptr::null(),
        }
    }

    /// This version's options followed by one field of a later version.
    #[repr(C)]
    struct Newer {
        known: TcbSendFileOptions,
        later: usize,
    }

    #[test]
    fn null_options_are_the_defaults() {
        // SAFETY: NULL is allowed.
        let read = unsafe { read_options(std::ptr::null()) }.unwrap();
        assert!(read.caption.is_null() && read.reply_to.is_null());
        assert!(read.caption_parse_mode.is_null() && read.preview_path.is_null());
    }

    #[test]
    fn the_size_must_cover_this_version() {
        let text = c"x";
        let mut o = options();
        o.reply_to = text.as_ptr();
        // SAFETY: a live local structure of the size it states.
        let read = unsafe { read_options(&o) }.unwrap();
        assert_eq!(read.reply_to, text.as_ptr());
        for size in [0, 8, std::mem::size_of::<TcbSendFileOptions>() - 1, 1 << 20] {
            o.struct_size = size;
            // SAFETY: a live local structure; sizes below it are refused
            // before reading, sizes above the maximum too.
            let e = unsafe { read_options(&o) }.unwrap_err();
            assert_eq!(e.status, TcbStatus::InvalidArgument);
            assert!(e.message.contains("struct_size"), "{}", e.message);
        }
    }

    #[test]
    fn fields_of_a_newer_version_must_be_zero() {
        let mut newer = Newer {
            known: options(),
            later: 0,
        };
        newer.known.struct_size = std::mem::size_of::<Newer>();
        // SAFETY: a live local structure of the size it states.
        assert!(unsafe { read_options(&newer.known) }.is_ok());
        newer.later = 1;
        // SAFETY: as above.
        let e = unsafe { read_options(&newer.known) }.unwrap_err();
        assert_eq!(e.status, TcbStatus::InvalidArgument);
        assert!(e.message.contains("does not know"), "{}", e.message);
    }
}
