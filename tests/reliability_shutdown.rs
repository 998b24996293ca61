//! Closing completes promptly whatever the client is doing: reconnecting
//! (waiting out a backoff, or authenticating against a silent server),
//! waiting for a response, waiting for a connection, or reading events.
#![cfg(feature = "emulator")]

mod support;

use std::time::{Duration, Instant};
use support::peer::{script, Script};
use support::rel::*;
use trueconf_bot::{Client, ConnectionState, Error, Event, ReconnectPolicy};

/// Promptly: well under every timeout and backoff the tests configure.
const PROMPT: Duration = Duration::from_secs(5);

fn assert_prompt(started: Instant, what: &str) {
    let took = started.elapsed();
    assert!(took < PROMPT, "{what} took {took:?}");
}

#[test]
fn close_while_waiting_out_a_backoff() {
    let emu = emulator();
    let bot = bot_builder(&emu)
        .reconnect(ReconnectPolicy::backoff(
            Duration::from_secs(30),
            Duration::from_secs(60),
        ))
        .connect()
        .unwrap();
    let events = bot.events();
    emu.faults().drop_connections();
    expect_disconnected(&events);
    let started = Instant::now();
    bot.close();
    assert_prompt(started, "close during a backoff");
    assert!(matches!(events.recv_timeout(PROMPT), Err(Error::Closed)));
    assert_eq!(bot.health().state, ConnectionState::Closed);
    assert!(bot.health().failure.is_none());
    assert!(matches!(bot.get_chats(10, 1), Err(Error::Closed)));
}

#[test]
fn close_while_authenticating_with_a_silent_server() {
    let (auth_seen, auth_rx) = std::sync::mpsc::channel();
    let server = Script::serve(vec![
        script(|peer| {
            peer.accept_auth("bot@srv");
            // Gone without a word when the first request comes.
            let _ = peer.recv();
            let _ = peer.ws.get_ref().shutdown(std::net::Shutdown::Both);
        }),
        script(move |peer| {
            let auth = peer.recv();
            assert_eq!(auth["method"], "auth");
            auth_seen.send(()).unwrap();
            // Never answers; waits for the client to leave.
            while peer.ws.read().is_ok() {}
        }),
    ]);
    let bot = Client::builder(&server.url)
        .token("tok")
        .reconnect(ReconnectPolicy::backoff(
            Duration::from_millis(1),
            Duration::from_millis(1),
        ))
        .auth_timeout(Duration::from_secs(30))
        .connect()
        .unwrap();
    let events = bot.events();
    assert!(matches!(
        bot.get_chats(10, 1),
        Err(Error::ConnectionLost { .. })
    ));
    expect_disconnected(&events);
    auth_rx.recv_timeout(WAIT).expect("the second auth");
    let started = Instant::now();
    bot.close();
    assert_prompt(started, "close during authentication");
    assert!(matches!(events.recv_timeout(PROMPT), Err(Error::Closed)));
    server.finish();
}

#[test]
fn close_while_a_reconnect_hangs_in_the_websocket_upgrade_ends_the_client_at_once() {
    let server = Script::serve_then_hang(vec![script(|peer| {
        peer.accept_auth("bot@srv");
        let _ = peer.ws.get_ref().shutdown(std::net::Shutdown::Both);
    })]);
    let bot = Client::builder(&server.url)
        .token("tok")
        .reconnect(quick_backoff())
        .connect_timeout(Duration::from_secs(60))
        .connect()
        .unwrap();
    let events = bot.events();
    expect_disconnected(&events);
    // The reconnect's TCP connect succeeds; its upgrade is never answered
    // and cannot be interrupted. `close` gives up waiting for it, but the
    // client is closed for the application all the same.
    server.wait_hung();
    bot.close();
    assert_eq!(bot.health().state, ConnectionState::Closed);
    assert!(matches!(events.recv_timeout(PROMPT), Err(Error::Closed)));
    assert!(matches!(bot.get_chats(10, 1), Err(Error::Closed)));
}

#[test]
fn close_while_a_call_waits_for_its_response() {
    let emu = emulator();
    let bot = bot_builder(&emu)
        .request_timeout(Duration::from_secs(30))
        .connect()
        .unwrap();
    emu.faults().delay_responses(Duration::from_secs(60));
    let caller = {
        let bot = bot.clone();
        std::thread::spawn(move || {
            let r = bot.get_chats(10, 1);
            (r, Instant::now())
        })
    };
    wait_until("the request reaching the server", WAIT, || {
        !requests_in(&emu, "getChats").is_empty()
    });
    let started = Instant::now();
    bot.close();
    assert_prompt(started, "close with a call waiting");
    let (result, returned) = caller.join().unwrap();
    assert!(matches!(result, Err(Error::Closed)), "{result:?}");
    assert!(returned.duration_since(started) < PROMPT);
}

#[test]
fn close_while_a_call_waits_for_a_connection() {
    let emu = emulator();
    let bot = bot_builder(&emu)
        .request_timeout(Duration::from_secs(30))
        .reconnect(ReconnectPolicy::backoff(
            Duration::from_millis(20),
            Duration::from_millis(40),
        ))
        .connect()
        .unwrap();
    let events = bot.events();
    emu.faults().refuse_next(1_000_000);
    emu.faults().drop_connections();
    expect_disconnected(&events);
    let caller = {
        let bot = bot.clone();
        std::thread::spawn(move || bot.get_chats(10, 1))
    };
    wait_until("the caller waiting for a connection", WAIT, || {
        bot.health().waiting_for_connection == 1
    });
    let started = Instant::now();
    bot.close();
    assert_prompt(started, "close with a caller waiting for a link");
    let result = caller.join().unwrap();
    assert!(matches!(result, Err(Error::Closed)), "{result:?}");
    assert_prompt(started, "the waiting caller");
}

#[test]
fn close_from_inside_the_event_loop() {
    let emu = emulator();
    let bot = bot_builder(&emu).connect().unwrap();
    let chat = emu.user("alice").create_p2p_chat("bot").unwrap();
    let handler = {
        let bot = bot.clone();
        std::thread::spawn(move || {
            let events = bot.events();
            let mut seen = 0;
            let mut closed_at = None;
            for event in events.iter() {
                seen += 1;
                if let Event::NewMessage(m) = &event {
                    if m.text() == Some("/quit") {
                        bot.close();
                        closed_at = Some(Instant::now());
                    }
                }
            }
            // The loop ends by itself once closed; drops the last handle.
            (seen, closed_at.map(|t| t.elapsed()))
        })
    };
    emu.user("alice").send_message(&chat, "/quit").unwrap();
    drop(bot);
    let (seen, after_close) = handler.join().unwrap();
    assert!(seen >= 2, "{seen}");
    assert!(after_close.expect("closed") < PROMPT);
}
