//! The opaque client handle and its states.

use super::error::{panic_message, FfiError, TcbStatus};
use crate::{Client, ClientBuilder};
use crossbeam_channel::{SendError, Sender};
use std::panic::{catch_unwind, AssertUnwindSafe};
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
            State::Connecting { .. } => "connecting",
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
    Connecting {
        builder: Box<ClientBuilder>,
        /// Never sent on: dropping it (`tcb_client_close` replacing the
        /// state) ends the connecting caller's wait.
        _closed: Sender<()>,
    },
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
            State::Connecting { .. } | State::Connected(_) => Err(FfiError::new(
                TcbStatus::State,
                "the client is already connected (or connecting): configure it before tcb_client_connect",
            )),
            State::Closed => Err(closed()),
        }
    }

    /// Connects with the configuration so far. Connecting runs on a
    /// thread of its own while the caller waits for it or for
    /// `tcb_client_close` from another thread, whichever comes first: the
    /// name lookup, TCP, TLS, the upgrade and the token request cannot be
    /// interrupted, but the caller's wait can. A connection that completes
    /// after the close is closed by that thread.
    pub(crate) fn connect(&self) -> Result<(), FfiError> {
        self.connect_with(ClientBuilder::connect)
    }

    /// [`connect`](Self::connect), connecting with `connect` (a panic in
    /// it is `TCB_STATUS_PANIC` with its message, as in any call).
    fn connect_with(
        &self,
        connect: impl FnOnce(ClientBuilder) -> crate::Result<Client> + Send + 'static,
    ) -> Result<(), FfiError> {
        let (builder, closing) = {
            let mut state = self.lock();
            let builder = match &*state {
                State::Configuring(builder) => builder.clone(),
                State::Connecting { .. } => {
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
            let (close, closing) = crossbeam_channel::bounded::<()>(0);
            *state = State::Connecting {
                builder: builder.clone(),
                _closed: close,
            };
            (builder, closing)
        };
        let (done, outcome) = crossbeam_channel::bounded(1);
        let spawned = std::thread::Builder::new()
            .name("trueconf-bot-connect".into())
            .spawn(move || {
                let connected = catch_unwind(AssertUnwindSafe(|| connect(*builder)))
                    .map_err(|payload| FfiError::new(TcbStatus::Panic, panic_message(&*payload)))
                    .and_then(|connected| connected.map_err(FfiError::from));
                if let Err(SendError(Ok(client))) = done.send(connected) {
                    // The caller left (closed meanwhile): nobody will use it.
                    client.close();
                }
            });
        let outcome = match spawned {
            Ok(_) => crossbeam_channel::select! {
                recv(outcome) -> got => Some(got.unwrap_or_else(|_| {
                    Err(FfiError::new(TcbStatus::Panic, "the connecting thread ended without an answer"))
                })),
                recv(closing) -> _ => None,
            },
            Err(e) => Some(Err(crate::Error::Io(e).into())),
        };
        let mut state = self.lock();
        match (outcome, std::mem::replace(&mut *state, State::Closed)) {
            (Some(Ok(client)), State::Connecting { .. }) => {
                *state = State::Connected(client);
                Ok(())
            }
            (Some(Err(e)), State::Connecting { builder, .. }) => {
                *state = State::Configuring(builder);
                Err(e)
            }
            // Closed by another thread meanwhile: stay closed.
            (outcome, _) => {
                drop(state);
                if let Some(Ok(client)) = outcome {
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
            State::Configuring(_) | State::Connecting { .. } => Err(FfiError::new(
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_while_connecting_is_a_panic_with_its_message() {
        let handle = TcbClient::new(ClientBuilder::new("http://127.0.0.1:1").token("t"));
        let e = handle
            .connect_with(|_| panic!("the connecting code broke"))
            .unwrap_err();
        assert_eq!(e.status, TcbStatus::Panic);
        assert!(
            e.message.contains("the connecting code broke"),
            "{}",
            e.message
        );
        // The configuration is kept, as after any failed attempt.
        assert!(matches!(&*handle.lock(), State::Configuring(_)));
    }
}
