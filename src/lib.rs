//! A synchronous client for the TrueConf Server Chatbot API.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

#[cfg(feature = "emulator")]
pub mod emulator;
pub mod error;
pub mod protocol;
pub(crate) mod transport;

pub use error::{ApiErrorCode, Error, Result, TimeoutKind};
