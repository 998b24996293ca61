//! Many threads on one client, and requests made from an event loop while
//! events pile up.

mod support;

use serde_json::{json, Value};
use std::time::Duration;
use support::peer::{script, Peer, Script};
use trueconf_bot::{Client, Event, ReconnectPolicy};

/// Echoes every request's payload back as `{"echo": payload}` until the
/// client closes, checking that request ids strictly increase on the wire;
/// acknowledgements are counted.
fn echo_until_closed(peer: &mut Peer) -> usize {
    let mut acks = 0;
    let mut last_id = 0;
    loop {
        match peer.recv_message() {
            tungstenite::Message::Text(t) => {
                let frame: Value = serde_json::from_str(t.as_str()).unwrap();
                if frame["type"] == 2 {
                    acks += 1;
                } else {
                    let id = frame["id"].as_u64().unwrap();
                    assert!(
                        id > last_id,
                        "request ids must strictly increase: {id} after {last_id}"
                    );
                    last_id = id;
                    let payload = frame["payload"].clone();
                    peer.reply(&frame, json!({"echo": payload}));
                }
            }
            _ => return acks,
        }
    }
}

fn connect(url: &str) -> Client {
    Client::builder(url)
        .token("tok")
        .reconnect(ReconnectPolicy::disabled())
        .request_timeout(Duration::from_secs(10))
        .connect()
        .unwrap()
}

#[test]
fn sixteen_threads_each_get_their_own_responses() {
    let server = Script::serve(vec![script(|peer| {
        peer.accept_auth("bot@srv");
        echo_until_closed(peer);
    })]);
    let client = connect(&server.url);
    let threads: Vec<_> = (0..16)
        .map(|t| {
            let c = client.clone();
            std::thread::spawn(move || {
                for i in 0..300 {
                    let got = c.call("echo", json!({"t": t, "i": i})).unwrap();
                    assert_eq!(got, json!({"echo": {"t": t, "i": i}}));
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(client.health().requests_in_flight, 0);
    client.close();
    server.finish();
}

#[test]
fn a_handler_calling_the_client_during_an_event_flood_does_not_deadlock() {
    const EVENTS: usize = 2_000;
    let (acks_tx, acks_rx) = std::sync::mpsc::channel();
    let server = Script::serve(vec![script(move |peer| {
        peer.accept_auth("bot@srv");
        for id in 0..EVENTS {
            peer.send(
                json!({"type": 1, "id": id + 1, "method": "ping_event", "payload": {"n": id}}),
            );
        }
        acks_tx.send(echo_until_closed(peer)).unwrap();
    })]);
    let client = connect(&server.url);
    let events = client.events();
    for n in 0..EVENTS {
        match events.recv_timeout(Duration::from_secs(10)).unwrap() {
            Some(Event::Raw { method, payload }) => {
                assert_eq!(method, "ping_event");
                assert_eq!(payload["n"], n, "events arrive in order, exactly once");
                let got = client.call("echo", json!({"n": n})).unwrap();
                assert_eq!(got["echo"]["n"], n);
            }
            other => panic!("event {n}: {other:?}"),
        }
    }
    client.close();
    server.finish();
    assert_eq!(
        acks_rx.recv().unwrap(),
        EVENTS,
        "every event acknowledged once"
    );
}
