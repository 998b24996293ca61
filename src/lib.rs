//! A synchronous client for the [TrueConf Server] Chatbot API: log in as a
//! bot user, chat, send and receive files, from plain blocking Rust: no async
//! runtime.
//!
//! ```
//! # #[cfg(feature = "emulator")] {
//! use std::time::Duration;
//! use trueconf_bot::protocol::Content;
//! use trueconf_bot::{Client, Event};
//! # let emulator = trueconf_bot::emulator::Emulator::builder()
//! #     .user("bot", "secret", "Bot").user("alice", "pw", "Alice").start()?;
//! # let url = emulator.url();
//! # let alice = emulator.user("alice");
//! # let chat = alice.create_p2p_chat("bot").unwrap();
//! # alice.send_message(&chat, "hello").unwrap();
//!
//! // `url` is e.g. "https://video.example.com" or "http://10.0.0.5:4309".
//! let bot = Client::builder(url).credentials("bot", "secret").connect()?;
//!
//! // Answer every text message, until nothing arrives for a second.
//! for event in bot.events().timeout_iter(Duration::from_secs(1)) {
//!     if let Event::NewMessage(message) = event {
//!         if let Content::Text(text) = &message.content {
//!             bot.send_message(&message.chat_id, format!("you said: {}", text.text))?;
//!         }
//!     }
//! }
//! # }
//! # Ok::<(), trueconf_bot::Error>(())
//! ```
//!
//! # What it does
//!
//! - [`Client`] holds one WebSocket connection to the server. It is a cheap
//!   `Clone + Send + Sync` handle: share it between threads. Every API
//!   method blocks until the server answers or the request timeout (10 s by
//!   default, [`Client::with_timeout`] per call) runs out; its `_pending`
//!   twin sends now and lets you wait later, so one thread can pipeline.
//! - Every Chatbot API method is typed ([`protocol::methods`]), and
//!   [`Client::call`] sends any other method as raw JSON.
//! - Server events (new messages, chat changes, button presses, upload
//!   progress, ...) arrive as typed [`Event`]s through [`Client::events`],
//!   in order, each acknowledged to the server as soon as it is queued.
//!   Anything the library cannot type still arrives, as [`Event::Raw`]
//!   (or [`Event::Unreadable`], with its text, when it is not even JSON).
//! - The connection heals itself: keepalive pings, reconnects with backoff,
//!   a new token when the old one expires (when it knows the password), and
//!   [`Event::Disconnected`] / [`Event::Reconnected`] so a bot can catch up.
//! - Errors are one [`Error`] type that says what failed: the API's error
//!   codes as [`ApiErrorCode`], which timeout fired, TLS trust, OAuth
//!   refusals. Passwords and tokens never appear in `Debug` output, errors or
//!   this crate's logs (its dependencies `tungstenite` and `ureq` log whole
//!   frames and bodies at trace level: keep those at debug).
//!
//! # Threads
//!
//! One I/O thread per client owns the connection: keepalive, reconnects,
//! and reading whatever no caller reads. A calling thread writes its own
//! request and, if no other thread is reading the socket, reads it itself
//! until its response is in (handing other callers theirs and queuing
//! events); otherwise it sleeps until the reader hands it the response.
//! Nothing the application does (or fails to do) can block the I/O thread.
//!
//! # Features
//!
//! - `emulator`: [`emulator::Emulator`], an in-process TrueConf server (HTTP
//!   and WebSocket on one port, TLS on request, fault injection) to test
//!   bots offline.
//! - `cli`: the `trueconf-bot` command-line tool.
//! - `ffi`: the C ABI (`include/trueconf_bot.h`), built into
//!   `libtrueconf_bot.so` / `.a`.
//!
//! [TrueConf Server]: https://trueconf.com/products/tcsf/trueconf-server-free.html
#![deny(unsafe_code)]
#![warn(missing_docs)]

mod api;
mod auth;
mod client;
mod config;
mod connection;
#[cfg(feature = "emulator")]
pub mod emulator;
pub mod error;
mod event;
#[cfg(feature = "ffi")]
pub mod ffi;
pub mod files;
mod local_file;
mod pending;
pub mod protocol;
mod replies;
pub(crate) mod secret;
mod time;
pub(crate) mod transport;

pub use api::{ChatPages, HistoryPages, Pages, ParticipantPages};
pub use client::{Client, ClientBuilder, Health};
pub use config::ReconnectPolicy;
pub use connection::ConnectionState;
pub use error::{ApiErrorCode, Error, Result, TimeoutKind};
pub use event::Events;
pub use files::FileError;
pub use pending::Pending;
pub use protocol::events::Event;

// The README's Rust examples compile (and most run) as doctests.
#[cfg(all(doctest, feature = "emulator"))]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
