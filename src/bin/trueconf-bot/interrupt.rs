//! SIGINT and SIGTERM: the tool closes its client, so that a transfer under
//! way stops and removes its temporary file and `listen` ends, then exits
//! with 128 + the signal's number, as a shell reports a process the signal
//! killed. `emulator` instead waits in [`until_signal`], then stops its
//! server, which removes the files uploaded to it. A second signal, one
//! before the client exists, or a transfer still stuck [`GRACE`] later (a
//! read waiting on a silent server) ends the tool at once, removing the
//! temporary files of its downloads first.

use crate::failure::Failure;
use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Mutex, PoisonError};
use std::thread::Thread;
use std::time::Duration;
use trueconf_bot::Client;

/// The signal caught (0: none).
static CAUGHT: AtomicI32 = AtomicI32::new(0);
/// The client a signal closes (taken by the first signal).
static CLIENT: Mutex<Option<Client>> = Mutex::new(None);
/// The thread a signal wakes instead (see [`until_signal`]).
static WAITER: Mutex<Option<Thread>> = Mutex::new(None);

/// How long a closed client's work may take to end before the tool exits
/// without it.
const GRACE: Duration = Duration::from_secs(3);

/// Starts watching for SIGINT and SIGTERM on a thread of its own.
pub fn watch() -> Result<(), Failure> {
    let cannot = |e: std::io::Error| Failure::usage(format_args!("cannot watch for signals: {e}"));
    let mut signals = Signals::new([SIGINT, SIGTERM]).map_err(cannot)?;
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            for signal in signals.forever() {
                CAUGHT.store(signal, Ordering::SeqCst);
                if let Some(waiter) = WAITER.lock().unwrap_or_else(PoisonError::into_inner).take() {
                    waiter.unpark();
                    continue;
                }
                match take_client() {
                    Some(client) => {
                        let _ = std::thread::Builder::new()
                            .name("signal-grace".into())
                            .spawn(move || {
                                std::thread::sleep(GRACE);
                                exit_now(signal);
                            });
                        client.close();
                    }
                    None => exit_now(signal),
                }
            }
        })
        .map_err(cannot)?;
    Ok(())
}

/// Ends the tool now, as `signal` asks, leaving no partial download.
fn exit_now(signal: i32) -> ! {
    trueconf_bot::files::remove_partial_downloads();
    std::process::exit(128 + signal)
}

fn take_client() -> Option<Client> {
    CLIENT.lock().unwrap_or_else(PoisonError::into_inner).take()
}

/// [`watch`], with the first signal waking this thread (see
/// [`until_signal`]) instead of closing a client; a second one ends the tool
/// at once.
pub fn watch_for_this_thread() -> Result<(), Failure> {
    *WAITER.lock().unwrap_or_else(PoisonError::into_inner) = Some(std::thread::current());
    watch()
}

/// Blocks until SIGINT or SIGTERM, once [`watch_for_this_thread`] was
/// called on this thread; returns at once if one came already.
pub fn until_signal() {
    while CAUGHT.load(Ordering::SeqCst) == 0 {
        std::thread::park();
    }
}

/// Has a signal close `client` from now on.
pub fn protect(client: &Client) {
    *CLIENT.lock().unwrap_or_else(PoisonError::into_inner) = Some(client.clone());
}

/// The tool's work is done: drops the client kept for signals, so that the
/// last handle closes it cleanly (close frame 1000) as usual.
pub fn release() {
    drop(take_client());
}

/// The exit status of the signal caught, if one was.
pub fn exit_status() -> Option<u8> {
    let signal = CAUGHT.load(Ordering::SeqCst);
    u8::try_from(128 + signal).ok().filter(|_| signal != 0)
}
