//! A synchronous client for the TrueConf Server Chatbot API.
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
mod pending;
pub mod protocol;
mod secret;
pub(crate) mod transport;

pub use api::{ChatPages, HistoryPages, ParticipantPages};
pub use client::{Client, ClientBuilder, Health};
pub use config::ReconnectPolicy;
pub use connection::ConnectionState;
pub use error::{ApiErrorCode, Error, Result, TimeoutKind};
pub use event::Events;
pub use pending::Pending;
pub use protocol::events::Event;
