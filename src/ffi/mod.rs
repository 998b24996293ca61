//! The C ABI (feature `ffi`): the client for C, C++, Go, Python, C# and any
//! language that can call C. The header is `include/trueconf_bot.h`,
//! generated from this module by cbindgen.
//!
//! # Conventions
//!
//! - Every function returns a [`TcbStatus`] (`TCB_STATUS_OK` is 0) and
//!   writes its results through out-parameters. The free functions
//!   ([`tcb_client_free`], [`tcb_string_free`]) return nothing and accept
//!   `NULL`.
//! - On failure the calling thread's *last error* holds a message and, when
//!   the server answered with an `errorCode`, that code: read them with
//!   [`tcb_last_error_message`] and [`tcb_last_error_code`]. Every call
//!   except those two resets the last error first.
//! - No Rust panic crosses the boundary: it becomes `TCB_STATUS_PANIC`.
//! - Strings in and out are UTF-8 and NUL-terminated. Input strings are
//!   borrowed for the duration of the call only.
//! - Ownership: every `char *` the library writes to an out-parameter is
//!   owned by the caller and freed with [`tcb_string_free`]; the client
//!   handle from [`tcb_client_new`] is freed with [`tcb_client_free`].
//!   Out-parameters are set to `NULL` (or 0) when a call fails.
//! - Option structures ([`TcbSendFileOptions`]) start with `struct_size`,
//!   which the caller sets to `sizeof` the structure it was compiled with:
//!   fields are only ever added at the end (so that a program built
//!   against an older header keeps working with a newer library), and a
//!   field this library does not know is refused unless it is zero. The structure and its strings are borrowed
//!   for the call only.
//! - Threads: a connected client handle may be used from several threads at
//!   once (each function says so); only [`tcb_client_free`] needs every
//!   other call on that handle to have returned.
#![allow(unsafe_code)]
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(clippy::undocumented_unsafe_blocks)]

mod client;
mod error;
mod events;
mod files;
mod handle;
mod strings;

pub use client::{
    tcb_client_call, tcb_client_close, tcb_client_connect, tcb_client_free, tcb_client_new,
    tcb_client_send_message, tcb_client_set_accept_invalid_certs, tcb_client_set_ca_file,
    tcb_client_set_credentials, tcb_client_set_keep_events, tcb_client_set_timeouts,
    tcb_client_set_token, tcb_client_user_id,
};
pub use error::{tcb_last_error_code, tcb_last_error_message, TcbStatus};
pub use events::tcb_client_next_event;
pub use files::{
    tcb_client_download_file, tcb_client_send_file, tcb_client_send_file_with_options,
    TcbSendFileOptions,
};
pub use handle::TcbClient;
pub use strings::tcb_string_free;
