//! Keepalive: the client pings, notices a stalled server by its silence
//! (idle timeout) and reconnects; a quiet but healthy connection stays up;
//! server pings (WebSocket and JSON `ping` requests) are answered.
#![cfg(feature = "emulator")]

mod support;

use serde_json::json;
use std::time::{Duration, Instant};
use support::peer::{script, Script};
use support::rel::*;
use trueconf_bot::emulator::Emulator;
use trueconf_bot::Event;
use tungstenite::Message;

#[test]
fn a_stalled_server_is_noticed_and_left() {
    let emu = emulator_builder()
        .ping_interval(Duration::from_secs(60))
        .start()
        .unwrap();
    let idle = Duration::from_millis(500);
    let bot = bot_builder(&emu)
        .keepalive(Some(Duration::from_millis(100)))
        .idle_timeout(Some(idle))
        .auth_timeout(Duration::from_millis(300))
        .connect()
        .unwrap();
    let events = bot.events();
    let stalled = Instant::now();
    emu.faults().stall(true);
    let reason = expect_disconnected(&events);
    let noticed = stalled.elapsed();
    assert!(reason.contains("nothing received"), "{reason}");
    // Counted from the last frame received, which may be up to a ping
    // interval (or a late ping) older than `stalled`.
    assert!(noticed >= idle / 2, "{noticed:?}");
    assert!(noticed < idle * 8, "{noticed:?}");
    // While stalled, attempts fail at auth; once it resumes, one succeeds.
    emu.faults().stall(false);
    expect_reconnected(&events);
    assert_answers(&emu, &bot);
    bot.close();
}

#[test]
fn a_quiet_connection_is_kept_alive_by_pings() {
    // The emulator never pings: only the client's pings and their pongs
    // keep the idle timer from firing.
    let emu: Emulator = emulator_builder()
        .ping_interval(Duration::from_secs(60))
        .start()
        .unwrap();
    let bot = bot_builder(&emu)
        .keepalive(Some(Duration::from_millis(100)))
        .idle_timeout(Some(Duration::from_secs(2)))
        .connect()
        .unwrap();
    let events = bot.events();
    // Two idle timeouts' worth of silence from the application's side.
    match events.recv_timeout(Duration::from_secs(4)) {
        Ok(None) => {}
        other => panic!("expected no event, got {other:?}"),
    }
    assert_eq!(bot.health().reconnects, 0);
    bot.close();
}

#[test]
fn server_pings_are_answered() {
    let server = Script::serve(vec![script(|peer| {
        peer.accept_auth("bot@srv");
        peer.ws
            .send(Message::Ping(b"hb-1".to_vec().into()))
            .unwrap();
        loop {
            match peer.ws.read().unwrap() {
                Message::Pong(data) => {
                    assert_eq!(&data[..], b"hb-1");
                    break;
                }
                Message::Ping(_) => continue,
                other => panic!("expected a pong, got {other:?}"),
            }
        }
        // The spec's JSON ping is a request like any other: acknowledged.
        peer.send(json!({"type": 1, "id": 5, "method": "ping", "payload": {"data": "Hello"}}));
        let ack = peer.recv();
        assert_eq!(ack, json!({"type": 2, "id": 5}));
        let _ = peer.ws.read();
    })]);
    let bot = server.client().connect().unwrap();
    let (event, _) = expect_event(
        &bot.events(),
        "the ping request",
        WAIT,
        |e| matches!(e, Event::Raw { method, .. } if method == "ping"),
    );
    assert_eq!(event.to_json()["payload"]["data"], "Hello");
    bot.close();
    server.finish();
}
