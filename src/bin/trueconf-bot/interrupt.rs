//! SIGINT and SIGTERM: the tool closes its client, so that a transfer under
//! way stops and removes its temporary file and `listen` ends, then exits
//! with 128 + the signal's number, as a shell reports a process the signal
//! killed. A second signal, or one before the client exists, ends the tool
//! at once.

use crate::failure::Failure;
use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Mutex, PoisonError};
use trueconf_bot::Client;

/// The signal caught (0: none).
static CAUGHT: AtomicI32 = AtomicI32::new(0);
/// The client a signal closes (taken by the first signal).
static CLIENT: Mutex<Option<Client>> = Mutex::new(None);

/// Starts watching for SIGINT and SIGTERM on a thread of its own.
pub fn watch() -> Result<(), Failure> {
    let cannot = |e: std::io::Error| Failure::usage(format_args!("cannot watch for signals: {e}"));
    let mut signals = Signals::new([SIGINT, SIGTERM]).map_err(cannot)?;
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            for signal in signals.forever() {
                CAUGHT.store(signal, Ordering::SeqCst);
                let client = CLIENT.lock().unwrap_or_else(PoisonError::into_inner).take();
                match client {
                    Some(client) => client.close(),
                    None => std::process::exit(128 + signal),
                }
            }
        })
        .map_err(cannot)?;
    Ok(())
}

/// Has a signal close `client` from now on.
pub fn protect(client: &Client) {
    *CLIENT.lock().unwrap_or_else(PoisonError::into_inner) = Some(client.clone());
}

/// The exit status of the signal caught, if one was.
pub fn exit_status() -> Option<u8> {
    let signal = CAUGHT.load(Ordering::SeqCst);
    u8::try_from(128 + signal).ok().filter(|_| signal != 0)
}
