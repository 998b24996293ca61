//! The hot path under load, against a scripted peer: no call stalls, every
//! response reaches its own caller from many threads, events keep flowing
//! (and are acknowledged) while a handler calls the client.

mod support;

use serde_json::{json, Value};
use std::time::{Duration, Instant};
use support::peer::{script, Peer, Script};
use trueconf_bot::{Client, Event, ReconnectPolicy};
use tungstenite::Message;

fn client(url: &str, timeout: Duration) -> Client {
    Client::builder(url)
        .token("tok")
        .reconnect(ReconnectPolicy::disabled())
        .request_timeout(timeout)
        .connect()
        .expect("connect")
}

/// Answers every request with `{"echo": payload}` until the client closes;
/// returns the ids of the requests in arrival order.
fn echo_until_close(peer: &mut Peer) -> Vec<u64> {
    let mut ids = Vec::new();
    loop {
        let frame: Value = match peer.recv_message() {
            Message::Text(t) => serde_json::from_str(t.as_str()).unwrap(),
            Message::Close(_) => return ids,
            _ => continue,
        };
        if frame["type"] == 1 {
            ids.push(frame["id"].as_u64().unwrap());
            let payload = frame["payload"].clone();
            peer.reply(&frame, json!({ "echo": payload }));
        }
    }
}

#[test]
fn sequential_calls_never_wait_for_a_timeout() {
    let server = Script::serve(vec![script(|peer| {
        peer.accept_auth("bot@srv");
        let ids = echo_until_close(peer);
        assert_eq!(ids.len(), 3000);
        assert!(ids.windows(2).all(|w| w[0] < w[1]));
    })]);
    // A missed wake-up would show as a call taking the whole timeout.
    let c = client(&server.url, Duration::from_secs(20));
    let mut slowest = Duration::ZERO;
    for n in 0..3000 {
        let start = Instant::now();
        let got = c.call("echo", json!({ "n": n })).unwrap();
        slowest = slowest.max(start.elapsed());
        assert_eq!(got, json!({"echo": {"n": n}}));
    }
    // Far below the 20 s timeout a missed wake-up would run into.
    assert!(slowest < Duration::from_secs(5), "slowest call {slowest:?}");
    c.close();
    server.finish();
}

#[test]
fn many_threads_and_pending_calls_each_get_their_own_response() {
    let server = Script::serve(vec![script(|peer| {
        peer.accept_auth("bot@srv");
        let ids = echo_until_close(peer);
        assert_eq!(ids.len(), 8 * 200 + 2 * 500);
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "ids must increase");
    })]);
    let c = client(&server.url, Duration::from_secs(5));
    std::thread::scope(|s| {
        for t in 0..8 {
            let c = &c;
            s.spawn(move || {
                for n in 0..200 {
                    let got = c.call("echo", json!({"t": t, "n": n})).unwrap();
                    assert_eq!(got, json!({"echo": {"t": t, "n": n}}));
                }
            });
        }
        for t in 100..102 {
            let c = &c;
            s.spawn(move || {
                let pending: Vec<_> = (0..500)
                    .map(|n| c.call_pending("echo", json!({"t": t, "n": n})).unwrap())
                    .collect();
                for (n, p) in pending.into_iter().enumerate().rev() {
                    assert_eq!(p.wait().unwrap(), json!({"echo": {"t": t, "n": n}}));
                }
            });
        }
    });
    assert_eq!(c.health().requests_in_flight, 0);
    c.close();
    server.finish();
}

#[test]
fn a_handler_can_call_the_client_during_an_event_flood() {
    const EVENTS: u64 = 3000;
    let server = Script::serve(vec![script(|peer| {
        peer.accept_auth("bot@srv");
        for k in 1..=EVENTS {
            peer.send(json!({"type": 1, "id": k, "method": "someEvent", "payload": {"k": k}}));
        }
        let (mut acked, mut answered) = (Vec::new(), 0);
        while acked.len() < EVENTS as usize || answered < 30 {
            let frame = peer.recv();
            if frame["type"] == 2 {
                acked.push(frame["id"].as_u64().unwrap());
            } else {
                answered += 1;
                peer.reply(&frame, json!({"ok": true}));
            }
        }
        let expected: Vec<u64> = (1..=EVENTS).collect();
        assert_eq!(acked, expected, "every event acknowledged once, in order");
        let _ = peer.recv_message();
    })]);
    let c = client(&server.url, Duration::from_secs(5));
    let events = c.events();
    for k in 1..=EVENTS {
        match events.recv_timeout(Duration::from_secs(5)).unwrap() {
            Some(Event::Raw { method, payload }) => {
                assert_eq!(method, "someEvent");
                assert_eq!(payload, json!({ "k": k }));
            }
            other => panic!("{other:?}"),
        }
        if k % 100 == 0 {
            assert_eq!(c.call("reply", json!({})).unwrap(), json!({"ok": true}));
        }
    }
    c.close();
    server.finish();
}

#[test]
fn writes_that_would_block_are_flushed_once_the_peer_reads() {
    const CALLS: usize = 400;
    let (all_queued_tx, all_queued) = std::sync::mpsc::channel::<()>();
    let server = Script::serve(vec![script(move |peer| {
        peer.accept_auth("bot@srv");
        // Read nothing until the client has queued all 25 MiB: far more than
        // the socket buffers hold, so its writes returned WouldBlock and
        // must be finished later, each frame exactly once.
        all_queued.recv().expect("the client queued every request");
        let reqs: Vec<Value> = (0..CALLS).map(|_| peer.recv()).collect();
        for (n, req) in reqs.iter().enumerate() {
            assert_eq!(req["payload"]["n"], n, "frames in order, none repeated");
            assert_eq!(req["payload"]["blob"].as_str().unwrap().len(), 64 << 10);
        }
        for req in &reqs {
            peer.reply(req, json!({"n": req["payload"]["n"]}));
        }
        let _ = peer.recv_message();
    })]);
    // Correctness, not speed: 25 MiB through a debug build on a loaded
    // machine may take a while.
    let c = client(&server.url, Duration::from_secs(120));
    let blob = "x".repeat(64 << 10);
    let pending: Vec<_> = (0..CALLS)
        .map(|n| {
            c.call_pending("big", json!({"n": n, "blob": blob}))
                .unwrap()
        })
        .collect();
    all_queued_tx.send(()).unwrap();
    for (n, p) in pending.into_iter().enumerate() {
        assert_eq!(p.wait().unwrap(), json!({ "n": n }));
    }
    c.close();
    server.finish();
}

#[test]
fn an_event_right_after_a_call_is_not_held_back() {
    let server = Script::serve(vec![script(|peer| {
        peer.accept_auth("bot@srv");
        for k in 1..=20u64 {
            let req = peer.recv();
            peer.reply(&req, json!({}));
            peer.send(json!({"type": 1, "id": k, "method": "someEvent", "payload": {"k": k}}));
            assert_eq!(peer.recv(), json!({"type": 2, "id": k}));
        }
        let _ = peer.recv_message();
    })]);
    let c = client(&server.url, Duration::from_secs(5));
    let events = c.events();
    for k in 1..=20u64 {
        c.call("x", json!({})).unwrap();
        // The caller led the reads and left; the socket goes back to the
        // I/O thread within a few milliseconds, not at the next call (which
        // comes only after the event).
        match events.recv_timeout(Duration::from_secs(5)).unwrap() {
            Some(Event::Raw { payload, .. }) => assert_eq!(payload, json!({ "k": k })),
            other => panic!("{other:?}"),
        }
    }
    c.close();
    server.finish();
}
