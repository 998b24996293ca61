//! A synchronous client for the TrueConf Server Chatbot API.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

#[cfg(feature = "emulator")]
pub mod emulator;
pub mod error;
pub mod protocol;
// Parts of the transport are only used once the client lands.
#[allow(dead_code)]
pub(crate) mod transport;

pub use error::{ApiErrorCode, Error, Result, TimeoutKind};
