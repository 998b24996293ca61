//! The opaque client handle and its states.

use super::error::{FfiError, TcbStatus};
use crate::{Client, ClientBuilder};
use std::sync::{Mutex, MutexGuard};

/// An opaque client: configured, then connected, then closed. Create it
/// with `tcb_client_new`, free it with `tcb_client_free`.
pub struct TcbClient {
    state: Mutex<State>,
}

impl std::fmt::Debug for TcbClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = match &*self.lock() {
            State::Configuring(_) => "configuring",
            State::Connecting(_) => "connecting",
            State::Connected(_) => "connected",
            State::Closed => "closed",
        };
        f.debug_struct("TcbClient").field("state", &state).finish()
    }
}

enum State {
    /// Being configured; `tcb_client_connect` not called yet (or it failed).
    Configuring(Box<ClientBuilder>),
    /// `tcb_client_connect` is running; the builder is kept so a failed
    /// attempt can be retried.
    Connecting(Box<ClientBuilder>),
    Connected(Client),
    Closed,
}

impl TcbClient {
    pub(crate) fn new(builder: ClientBuilder) -> TcbClient {
        TcbClient {
            state: Mutex::new(State::Configuring(Box::new(builder))),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // The state is replaced whole under the lock, never left half
        // written, so a poisoned lock still holds a consistent state.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Changes the configuration; only before connecting.
    pub(crate) fn configure(
        &self,
        change: impl FnOnce(ClientBuilder) -> ClientBuilder,
    ) -> Result<(), FfiError> {
        self.try_configure(|b| Ok(change(b)))
    }

    /// Changes the configuration if `change` succeeds; on an error the
    /// configuration stays as it was.
    pub(crate) fn try_configure(
        &self,
        change: impl FnOnce(ClientBuilder) -> Result<ClientBuilder, FfiError>,
    ) -> Result<(), FfiError> {
        let mut state = self.lock();
        match &mut *state {
            State::Configuring(builder) => {
                **builder = change((**builder).clone())?;
                Ok(())
            }
            State::Connecting(_) | State::Connected(_) => Err(FfiError::new(
                TcbStatus::State,
                "the client is already connected (or connecting): configure it before tcb_client_connect",
            )),
            State::Closed => Err(closed()),
        }
    }

    /// Connects with the configuration so far. The lock is not held while
    /// connecting, so `tcb_client_close` from another thread stays prompt.
    pub(crate) fn connect(&self) -> Result<(), FfiError> {
        let builder = {
            let mut state = self.lock();
            let builder = match &*state {
                State::Configuring(builder) => builder.clone(),
                State::Connecting(_) => {
                    return Err(FfiError::new(
                        TcbStatus::State,
                        "tcb_client_connect is already running on another thread",
                    ))
                }
                State::Connected(_) => {
                    return Err(FfiError::new(TcbStatus::State, "already connected"))
                }
                State::Closed => return Err(closed()),
            };
            *state = State::Connecting(builder.clone());
            builder
        };
        let outcome = builder.connect();
        let mut state = self.lock();
        match (outcome, std::mem::replace(&mut *state, State::Closed)) {
            (Ok(client), State::Connecting(_)) => {
                *state = State::Connected(client);
                Ok(())
            }
            (Err(e), State::Connecting(builder)) => {
                *state = State::Configuring(builder);
                Err(e.into())
            }
            // Closed by another thread meanwhile: stay closed.
            (outcome, _) => {
                drop(state);
                if let Ok(client) = outcome {
                    client.close();
                }
                Err(closed())
            }
        }
    }

    /// The connected client (a cheap clone), for one call.
    pub(crate) fn client(&self) -> Result<Client, FfiError> {
        match &*self.lock() {
            State::Connected(client) => Ok(client.clone()),
            State::Configuring(_) | State::Connecting(_) => Err(FfiError::new(
                TcbStatus::State,
                "the client is not connected: call tcb_client_connect first",
            )),
            State::Closed => Err(closed()),
        }
    }

    /// Closes the connection (if any); later calls fail with `Closed`.
    pub(crate) fn close(&self) {
        let previous = std::mem::replace(&mut *self.lock(), State::Closed);
        if let State::Connected(client) = previous {
            client.close();
        }
    }
}

fn closed() -> FfiError {
    FfiError::new(TcbStatus::Closed, "the client is closed")
}

/// Borrows the handle behind a caller's pointer.
///
/// # Safety
/// `ptr` is NULL or a handle from `tcb_client_new` not yet freed, and stays
/// so for `'a` (the duration of the exported call).
pub(crate) unsafe fn handle<'a>(ptr: *const TcbClient) -> Result<&'a TcbClient, FfiError> {
    // SAFETY: forwarded from this function's contract; `as_ref` handles NULL.
    unsafe { ptr.as_ref() }.ok_or_else(|| FfiError::invalid("client must not be NULL"))
}
