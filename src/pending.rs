//! A request sent now whose response is awaited later: pipelining from one
//! thread.

use crate::connection::Call;
use crate::error::{Error, Result};
use crate::protocol::frame::FramePayload;
use serde::de::DeserializeOwned;
use std::fmt;
use std::marker::PhantomData;
use std::time::{Duration, Instant};

/// A request on the wire whose response has not been awaited yet.
///
/// Returned by every `*_pending` method of [`Client`](crate::Client): send a
/// batch, then wait for each. Dropping it abandons the response.
///
/// A request sent while others are in flight joins a batch, written with
/// many others in one go: when a wait begins, when 128 have gathered, or
/// within about a millisecond otherwise.
#[must_use = "a pending request does nothing unless waited for"]
pub struct Pending<T> {
    call: Call,
    timeout: Duration,
    /// When the request was sent plus the timeout: [`Pending::wait`] waits
    /// no longer, so time spent waiting for a connection counts too.
    deadline: Instant,
    decode: fn(Option<&str>) -> std::result::Result<T, serde_json::Error>,
    _response: PhantomData<fn() -> T>,
}

impl<T> fmt::Debug for Pending<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pending")
            .field("id", &self.call.id())
            .field("method", &self.call.method())
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// Decodes a response payload; an absent payload reads as `{}`.
pub(crate) fn decode_payload<T: DeserializeOwned>(
    payload: Option<&str>,
) -> std::result::Result<T, serde_json::Error> {
    serde_json::from_str(payload.unwrap_or("{}"))
}

/// Decodes the payload of a successful response of `method`.
pub(crate) fn decode_response<T>(
    method: &str,
    payload: Option<FramePayload>,
    decode: fn(Option<&str>) -> std::result::Result<T, serde_json::Error>,
) -> Result<T> {
    let payload = payload.as_ref().map(FramePayload::get);
    decode(payload).map_err(|e| {
        Error::decode(
            format!("the {method} response"),
            e,
            payload.unwrap_or("(no payload)"),
        )
    })
}

impl<T: DeserializeOwned> Pending<T> {
    pub(crate) fn new(call: Call, timeout: Duration, deadline: Instant) -> Self {
        Pending {
            call,
            timeout,
            deadline,
            decode: decode_payload::<T>,
            _response: PhantomData,
        }
    }
}

impl<T> Pending<T> {
    /// The request id on the wire.
    pub fn id(&self) -> u64 {
        self.call.id()
    }

    /// Whether [`wait`](Self::wait) returns at once: the response or the
    /// call's failure is in, or its time is up (then `wait` says it timed
    /// out). Responses nobody waits for are read by the client's I/O
    /// thread, so this turns true by itself.
    pub fn is_ready(&self) -> bool {
        self.call.is_answered() || Instant::now() >= self.deadline
    }

    /// Waits for the response until the client's request timeout, counted
    /// from the call (including any wait for a reconnection), has passed.
    /// A response that already arrived is returned even after that.
    pub fn wait(self) -> Result<T> {
        let method = self.call.method_name();
        let payload = self.call.wait_until(self.deadline, self.timeout)?;
        decode_response(&method, payload, self.decode)
    }

    /// Waits for the response up to `timeout`.
    pub fn wait_timeout(self, timeout: Duration) -> Result<T> {
        let method = self.call.method_name();
        let payload = self.call.wait(timeout)?;
        decode_response(&method, payload, self.decode)
    }
}
