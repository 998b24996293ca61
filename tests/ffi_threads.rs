//! The C ABI's thread-safety promises, called from Rust threads: one handle
//! shared by senders, an event waiter and a closer.
#![cfg(all(feature = "ffi", feature = "emulator"))]
#![allow(unsafe_code)]

use std::ffi::{c_char, CStr, CString};
use std::ptr;
use std::time::{Duration, Instant};
use trueconf_bot::emulator::Emulator;
use trueconf_bot::ffi::*;

/// The handle, shareable between threads as the C docs promise.
#[derive(Clone, Copy)]
struct Shared(*const TcbClient);
// SAFETY: the C ABI documents every function used here as thread-safe on
// one handle; the handle is freed only after every thread is joined.
unsafe impl Send for Shared {}
// SAFETY: as above.
unsafe impl Sync for Shared {}

fn c(s: &str) -> CString {
    CString::new(s).unwrap()
}

/// Takes ownership of a string the library returned.
fn take(p: *mut c_char) -> String {
    assert!(!p.is_null());
    // SAFETY: `p` is a NUL-terminated string the library returned, freed once
    // right after copying.
    let s = unsafe { CStr::from_ptr(p) }.to_str().unwrap().to_owned();
    // SAFETY: as above.
    unsafe { tcb_string_free(p) };
    s
}

/// The calling thread's id in `/proc` (Linux).
fn thread_id() -> String {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap();
    stat.split(' ').next().unwrap().to_string()
}

/// Waits until thread `tid` of this process sleeps on a futex, as a thread
/// blocked waiting for a channel does (Linux).
fn wait_until_blocked(tid: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let wchan =
            std::fs::read_to_string(format!("/proc/self/task/{tid}/wchan")).unwrap_or_default();
        if wchan.starts_with("futex") {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "thread {tid} never blocked: {wchan:?}"
        );
        std::thread::yield_now();
    }
}

/// Closes `client` from this thread: the call blocked in `waiter` must end
/// with `TCB_STATUS_CLOSED` within `limit`. Frees the client.
fn closing_ends(
    client: *mut TcbClient,
    waiter: std::thread::JoinHandle<(TcbStatus, Duration, String)>,
    limit: Duration,
) {
    // SAFETY: valid handle.
    assert_eq!(unsafe { tcb_client_close(client) }, TcbStatus::Ok);
    let (status, waited, message) = waiter.join().unwrap();
    assert_eq!(status, TcbStatus::Closed, "{message}");
    assert!(waited < limit, "{waited:?}");
    // SAFETY: the blocked thread has been joined.
    unsafe { tcb_client_free(client) };
}

fn last_error() -> String {
    let mut message = ptr::null_mut();
    // SAFETY: `message` is a local pointer slot.
    assert_eq!(
        unsafe { tcb_last_error_message(&mut message) },
        TcbStatus::Ok
    );
    take(message)
}

/// A new handle for `emu`, logging in as `bot` with `password`.
fn configured(emu: &Emulator, password: &str) -> *mut TcbClient {
    let mut client = ptr::null_mut();
    // SAFETY: valid C strings and local out-parameters throughout.
    unsafe {
        assert_eq!(
            tcb_client_new(c(emu.url()).as_ptr(), &mut client),
            TcbStatus::Ok
        );
        assert_eq!(
            tcb_client_set_credentials(client, c("bot").as_ptr(), c(password).as_ptr()),
            TcbStatus::Ok
        );
        assert_eq!(
            tcb_client_set_timeouts(client, 5000, 5000, 5000),
            TcbStatus::Ok
        );
    }
    client
}

/// Connects `client`, which must succeed.
fn connect(client: *const TcbClient) {
    // SAFETY: a live handle.
    let status = unsafe { tcb_client_connect(client) };
    assert_eq!(status, TcbStatus::Ok, "{}", last_error());
}

fn connected(emu: &Emulator) -> *mut TcbClient {
    let client = configured(emu, "bot-pw");
    connect(client);
    client
}

fn p2p_chat(client: *const TcbClient, peer: &str) -> String {
    let mut out = ptr::null_mut();
    let payload = c(&format!("{{\"userId\":\"{peer}\"}}"));
    // SAFETY: valid handle, C strings and out-parameter.
    let status = unsafe {
        tcb_client_call(
            client,
            c("createP2PChat").as_ptr(),
            payload.as_ptr(),
            &mut out,
        )
    };
    assert_eq!(status, TcbStatus::Ok, "{}", last_error());
    let response: serde_json::Value = serde_json::from_str(&take(out)).unwrap();
    response["chatId"].as_str().unwrap().to_owned()
}

#[test]
fn one_handle_sends_from_many_threads_at_once() {
    let emu = Emulator::builder()
        .user("bot", "bot-pw", "Bot")
        .user("alice", "alice-pw", "Alice")
        .start()
        .unwrap();
    let client = connected(&emu);
    let chat = p2p_chat(client, &emu.user_id("alice"));
    let shared = Shared(client);
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let chat = chat.clone();
            std::thread::spawn(move || {
                let shared = shared;
                (0..10)
                    .map(|i| {
                        let mut id = ptr::null_mut();
                        let text = c(&format!("thread {t} message {i}"));
                        // SAFETY: the handle outlives the threads; valid C
                        // strings and out-parameter.
                        let status = unsafe {
                            tcb_client_send_message(
                                shared.0,
                                c(&chat).as_ptr(),
                                text.as_ptr(),
                                ptr::null(),
                                ptr::null(),
                                &mut id,
                            )
                        };
                        assert_eq!(status, TcbStatus::Ok, "{}", last_error());
                        take(id)
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut ids: Vec<String> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 40, "every message got its own id");
    let history = emu
        .user("alice")
        .call(
            "getChatHistory",
            serde_json::json!({"chatId": chat, "count": 100}),
        )
        .unwrap();
    assert_eq!(
        history.to_string().matches("message ").count(),
        40,
        "{history}"
    );
    // SAFETY: every other thread has been joined.
    unsafe { tcb_client_free(client) };
}

#[test]
fn close_from_another_thread_ends_an_event_wait() {
    let emu = Emulator::builder()
        .user("bot", "bot-pw", "Bot")
        .start()
        .unwrap();
    let client = connected(&emu);
    let shared = Shared(client);
    let (tid_tx, tid_rx) = std::sync::mpsc::channel();
    let waiter = std::thread::spawn(move || {
        let shared = shared;
        let mut json = ptr::null_mut();
        tid_tx.send(thread_id()).unwrap();
        let started = Instant::now();
        // SAFETY: the handle outlives this thread; local out-parameter.
        let status = unsafe { tcb_client_next_event(shared.0, 60_000, &mut json) };
        assert!(json.is_null());
        (status, started.elapsed(), last_error())
    });
    // Close must end the wait of a waiter blocked in next_event, long
    // before its 60 s.
    wait_until_blocked(&tid_rx.recv().unwrap());
    closing_ends(client, waiter, Duration::from_secs(10));
}

#[test]
fn a_failed_connect_keeps_the_configuration_for_a_retry() {
    let emu = Emulator::builder()
        .user("bot", "bot-pw", "Bot")
        .start()
        .unwrap();
    let client = configured(&emu, "wrong");
    // SAFETY: valid C strings and local out-parameters throughout.
    unsafe {
        assert_eq!(tcb_client_connect(client), TcbStatus::Auth);
        let mut code = 7;
        assert_eq!(tcb_last_error_code(&mut code), TcbStatus::Ok);
        assert_eq!(code, 0, "an OAuth refusal is not an API errorCode");
        assert_eq!(
            tcb_client_set_credentials(client, c("bot").as_ptr(), c("bot-pw").as_ptr()),
            TcbStatus::Ok
        );
        connect(client);
        let mut user = ptr::null_mut();
        assert_eq!(tcb_client_user_id(client, &mut user), TcbStatus::Ok);
        assert!(take(user).starts_with(&emu.user_id("bot")));
        tcb_client_free(client);
    }
}

#[test]
fn close_from_another_thread_ends_a_connect_under_way() {
    // A server that accepts and never answers: the connect would wait its
    // whole 20 s for the WebSocket upgrade.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (accepted_tx, accepted_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut open = Vec::new();
        for tcp in listener.incoming().flatten() {
            open.push(tcp);
            let _ = accepted_tx.send(());
        }
    });
    let mut client = ptr::null_mut();
    // SAFETY: valid C strings and local out-parameters.
    unsafe {
        assert_eq!(tcb_client_new(c(&url).as_ptr(), &mut client), TcbStatus::Ok);
        assert_eq!(
            tcb_client_set_token(client, c("tok").as_ptr()),
            TcbStatus::Ok
        );
        assert_eq!(
            tcb_client_set_timeouts(client, 20_000, 20_000, 20_000),
            TcbStatus::Ok
        );
    }
    let shared = Shared(client);
    let connecting = std::thread::spawn(move || {
        let shared = shared;
        let started = Instant::now();
        // SAFETY: the handle outlives this thread.
        let status = unsafe { tcb_client_connect(shared.0) };
        (status, started.elapsed(), last_error())
    });
    accepted_rx.recv_timeout(Duration::from_secs(10)).unwrap();
    closing_ends(client, connecting, Duration::from_secs(5));
}

#[test]
fn a_client_that_keeps_no_events_has_none_to_wait_for() {
    let emu = Emulator::builder()
        .user("bot", "bot-pw", "Bot")
        .user("alice", "alice-pw", "Alice")
        .start()
        .unwrap();
    let client = configured(&emu, "bot-pw");
    // SAFETY: a live handle.
    assert_eq!(
        unsafe { tcb_client_set_keep_events(client, false) },
        TcbStatus::Ok
    );
    connect(client);
    let chat = p2p_chat(client, &emu.user_id("alice"));
    emu.user("alice").send_message(&chat, "anyone?").unwrap();
    let started = Instant::now();
    let mut json = ptr::null_mut();
    // SAFETY: valid handle and local out-parameter.
    let status = unsafe { tcb_client_next_event(client, 30_000, &mut json) };
    assert_eq!(status, TcbStatus::Closed, "{}", last_error());
    assert!(json.is_null());
    assert!(started.elapsed() < Duration::from_secs(10));
    // SAFETY: no other call is in progress.
    unsafe { tcb_client_free(client) };
}
