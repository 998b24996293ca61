//! Sockets: the server address, TLS, opening a WebSocket, and the driver
//! that one I/O thread runs over it. Knows frames, not methods.

pub mod connect;
pub mod endpoint;
pub mod outbox;
pub mod socket;
pub mod stream;
pub mod tls;
