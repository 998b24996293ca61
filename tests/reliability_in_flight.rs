//! Calls in flight when the connection drops fail at once with
//! `ConnectionLost` (outcome unknown) and are never retried; calls made
//! while reconnecting wait for the new connection up to their own timeout.
#![cfg(feature = "emulator")]

mod support;

use std::time::{Duration, Instant};
use support::rel::*;
use trueconf_bot::{ConnectionState, Error, Event, ReconnectPolicy, TimeoutKind};

#[test]
fn a_call_in_flight_fails_at_once_and_is_never_retried() {
    let emu = emulator();
    let bot = bot_builder(&emu).connect().unwrap();
    let events = bot.events();
    let chat = emu.user("alice").create_p2p_chat("bot").unwrap();
    expect_event(&events, "ChatCreated", WAIT, |e| {
        matches!(e, Event::ChatCreated(_))
    });

    // The server applies the request at once but holds its response back.
    emu.faults().delay_responses(Duration::from_secs(60));
    let pending = bot.send_message_pending(&chat, "maybe applied").unwrap();
    wait_until("the request reaching the server", WAIT, || {
        requests_in(&emu, "sendMessage").len() == 1
    });
    assert_eq!(bot.health().requests_in_flight, 1);

    let dropped = Instant::now();
    emu.faults().drop_connections();
    match pending.wait() {
        Err(Error::ConnectionLost { method }) => assert_eq!(method, "sendMessage"),
        other => panic!("expected ConnectionLost, got {other:?}"),
    }
    assert!(
        dropped.elapsed() < Duration::from_secs(5),
        "the loss must be reported at once, took {:?}",
        dropped.elapsed()
    );
    emu.faults().delay_responses(Duration::ZERO);

    let reason = expect_disconnected(&events);
    assert!(!reason.is_empty());
    expect_reconnected(&events);
    let health = bot.health();
    assert_eq!(health.state, ConnectionState::Connected);
    assert!(health.authorized);
    assert_eq!(health.reconnects, 1);
    assert_eq!(health.requests_in_flight, 0);

    // The outcome was unknown: here the server had applied it...
    let texts: Vec<String> = bot
        .get_chat_history(&chat, 10)
        .unwrap()
        .messages
        .iter()
        .filter_map(|m| m.text().map(str::to_owned))
        .collect();
    assert_eq!(texts, vec!["maybe applied".to_string()]);
    // ...and the client never sent it again.
    let sent = requests_in(&emu, "sendMessage");
    assert_eq!(sent.len(), 1, "{sent:?}");
    bot.close();
}

#[test]
fn calls_made_while_reconnecting_wait_for_the_connection() {
    let emu = emulator();
    let bot = bot_builder(&emu)
        .reconnect(ReconnectPolicy::backoff(
            Duration::from_millis(50),
            Duration::from_millis(100),
        ))
        .connect()
        .unwrap();
    let events = bot.events();
    // Refused until a call waits for the connection, then three more
    // times.
    emu.faults().refuse_next(u64::MAX);
    emu.faults().drop_connections();
    expect_disconnected(&events);
    assert_eq!(bot.health().state, ConnectionState::Reconnecting);
    assert!(!bot.health().authorized);
    let caller = {
        let bot = bot.clone();
        let alice = emu.user_id("alice");
        std::thread::spawn(move || bot.get_user_display_name(alice))
    };
    wait_until("the call waiting for the connection", WAIT, || {
        bot.health().waiting_for_connection == 1
    });
    emu.faults().refuse_next(3);

    // Made while the link was down: it waited, then went out on the new one.
    let name = caller.join().unwrap().unwrap();
    assert_eq!(name.display_name, "Alice");
    assert_eq!(bot.health().waiting_for_connection, 0);
    expect_reconnected(&events);

    // With no connection in sight the call's own timeout bounds the whole
    // wait (for the connection and the response together).
    emu.faults().refuse_next(1_000);
    emu.faults().drop_connections();
    expect_disconnected(&events);
    let short = bot.with_timeout(Duration::from_millis(300));
    let started = Instant::now();
    match short.get_user_display_name(emu.user_id("alice")) {
        Err(Error::Timeout { kind, after }) => {
            assert_eq!(kind, TimeoutKind::Request);
            assert_eq!(after, Duration::from_millis(300));
        }
        other => panic!("expected a timeout, got {other:?}"),
    }
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(300) && took < Duration::from_secs(5),
        "{took:?}"
    );
    emu.faults().refuse_next(0);
    expect_reconnected(&events);
    bot.close();
}
