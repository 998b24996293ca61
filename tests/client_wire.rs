//! The client's frames on the wire, against a scripted peer.

mod support;

use serde_json::json;
use std::time::Duration;
use support::peer::{script, Script};
use trueconf_bot::{ApiErrorCode, Client, Error, Event, ReconnectPolicy};
use tungstenite::Message;

fn client(url: &str) -> Client {
    Client::builder(url)
        .token("tok")
        .reconnect(ReconnectPolicy::disabled())
        .request_timeout(Duration::from_secs(5))
        .connect()
        .expect("connect")
}

#[test]
fn auth_frame_is_exact_and_user_id_is_kept() {
    let (tx, rx) = std::sync::mpsc::channel();
    let server = Script::serve(vec![script(move |peer| {
        let auth = peer.accept_auth("bot@srv/abc");
        tx.send(auth).unwrap();
        let _ = peer.recv_message();
    })]);
    let c = client(&server.url);
    let auth = rx.recv().unwrap();
    assert_eq!(auth["type"], 1);
    assert!(auth["id"].as_u64().unwrap() > 0);
    assert_eq!(auth["payload"], json!({"token": "tok", "tokenType": "JWE"}));
    assert_eq!(auth.as_object().unwrap().len(), 4, "{auth}");
    assert_eq!(c.user_id(), "bot@srv/abc");
    c.close();
    server.finish();
}

#[test]
fn call_round_trip_and_error_code() {
    let server = Script::serve(vec![script(|peer| {
        peer.accept_auth("bot@srv");
        let req = peer.recv();
        assert_eq!(req["method"], "getUserDisplayName");
        assert_eq!(req["payload"], json!({"userId": "a@srv"}));
        peer.reply(&req, json!({"displayName": "Abe"}));
        let req = peer.recv();
        peer.reply(&req, json!({"errorCode": 304}));
        let _ = peer.recv_message();
    })]);
    let c = client(&server.url);
    let got = c
        .call("getUserDisplayName", json!({"userId": "a@srv"}))
        .unwrap();
    assert_eq!(got, json!({"displayName": "Abe"}));
    match c.call("getChatByID", json!({"chatId": "x"})) {
        Err(Error::Api { method, code }) => {
            assert_eq!(method, "getChatByID");
            assert_eq!(code, ApiErrorCode::ChatNotFound);
        }
        other => panic!("{other:?}"),
    }
    c.close();
    server.finish();
}

#[test]
fn a_call_payload_nested_too_deep_is_refused_before_the_wire() {
    let server = Script::serve(vec![script(|peer| {
        peer.accept_auth("bot@srv");
        // 126 levels go out (127 with the frame); the refused payloads
        // never do.
        let req = peer.recv();
        assert_eq!(req["method"], "getChats");
        peer.reply(&req, json!({}));
        let req = peer.recv();
        assert_eq!(req["method"], "echo");
        assert_eq!(req["payload"], json!({"n": 1}));
        peer.reply(&req, json!({"n": 1}));
        let _ = peer.recv_message();
    })]);
    let c = client(&server.url);
    let nested =
        |depth: usize| (1..depth).fold(json!([]), |inner, _| serde_json::Value::Array(vec![inner]));
    assert_eq!(c.call("getChats", nested(126)).unwrap(), json!({}));
    // Encoding 5,000 levels recursively would overflow a test's stack.
    for depth in [127, 5_000] {
        match c.call("getChats", nested(depth)) {
            Err(Error::Invalid(e)) => {
                assert_eq!(
                    e.to_string(),
                    "invalid payload: nests deeper than 126 levels"
                )
            }
            other => panic!("{depth}: {other:?}"),
        }
        assert!(matches!(
            c.call_pending("getChats", nested(depth)),
            Err(Error::Invalid(_))
        ));
    }
    assert_eq!(c.call("echo", json!({"n": 1})).unwrap(), json!({"n": 1}));
    c.close();
    server.finish();
}

#[test]
fn a_call_kept_after_its_connection_ended_does_not_keep_the_socket_open() {
    let server = Script::serve(vec![
        script(|peer| {
            peer.accept_auth("bot@srv");
            let _unanswered = peer.recv();
            // The connection ends here, without a close frame.
        }),
        script(|peer| {
            peer.accept_auth("bot@srv");
            let _ = peer.recv_message();
        }),
    ]);
    let port: u16 = server.url.rsplit(':').next().unwrap().parse().unwrap();
    let c = server
        .client()
        .reconnect(ReconnectPolicy::backoff(
            Duration::from_millis(10),
            Duration::from_millis(10),
        ))
        .connect()
        .expect("connect");
    let first = support::sockets_to(port);
    assert_eq!(first.len(), 1, "{first:?}");
    let events = c.events();
    let kept = c.send_message_pending("chat", "lost").unwrap();
    loop {
        match events.recv_timeout(Duration::from_secs(10)) {
            Ok(Some(Event::Reconnected)) => break,
            Ok(Some(_)) => continue,
            other => panic!("no reconnect: {other:?}"),
        }
    }
    // The first connection's socket is closed although `kept` still
    // refers to that connection.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while support::open_sockets().contains(&first[0]) {
        assert!(
            std::time::Instant::now() < deadline,
            "the first connection's socket is still open"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(matches!(kept.wait(), Err(Error::ConnectionLost { .. })));
    c.close();
    server.finish();
}

#[test]
fn ids_increase_and_out_of_order_responses_reach_their_callers() {
    let server = Script::serve(vec![script(|peer| {
        peer.accept_auth("bot@srv");
        let reqs: Vec<_> = (0..3).map(|_| peer.recv()).collect();
        let ids: Vec<u64> = reqs.iter().map(|r| r["id"].as_u64().unwrap()).collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
        for req in reqs.iter().rev() {
            let n = req["payload"]["n"].clone();
            peer.reply(req, json!({"echo": n}));
        }
        let _ = peer.recv_message();
    })]);
    let c = client(&server.url);
    let pending: Vec<_> = (0..3)
        .map(|n| c.call_pending("echo", json!({"n": n})).unwrap())
        .collect();
    for (n, p) in pending.into_iter().enumerate() {
        assert_eq!(p.wait().unwrap(), json!({"echo": n}));
    }
    c.close();
    server.finish();
}

#[test]
fn pipelined_requests_go_out_while_nobody_waits() {
    // Requests sent behind one in flight are batched for the I/O thread;
    // they must reach the server without the application waiting, even
    // when the I/O thread is busy reading (an event) meanwhile.
    let (tx, rx) = std::sync::mpsc::channel();
    let server = Script::serve(vec![script(move |peer| {
        peer.accept_auth("bot@srv");
        let first = peer.recv();
        peer.send(json!({"type": 1, "id": 5, "method": "someFutureEvent", "payload": {}}));
        let mut got = vec![first];
        while got.len() < 4 {
            let frame = peer.recv();
            if frame["type"] == 1 {
                got.push(frame);
            }
        }
        tx.send(
            got.iter()
                .map(|r| r["payload"]["n"].clone())
                .collect::<Vec<_>>(),
        )
        .unwrap();
        for req in &got {
            let n = req["payload"]["n"].clone();
            peer.reply(req, json!({"echo": n}));
        }
        let _ = peer.recv_message();
    })]);
    let c = client(&server.url);
    let mut pending = vec![c.call_pending("echo", json!({"n": 0})).unwrap()];
    c.events()
        .recv_timeout(Duration::from_secs(5))
        .unwrap()
        .expect("the event");
    pending.extend((1..4).map(|n| c.call_pending("echo", json!({"n": n})).unwrap()));
    let seen = rx
        .recv_timeout(Duration::from_secs(5))
        .expect("all four requests reached the server before any wait");
    assert_eq!(seen, [json!(0), json!(1), json!(2), json!(3)]);
    for (n, p) in pending.into_iter().enumerate() {
        assert_eq!(p.wait().unwrap(), json!({"echo": n}));
    }
    c.close();
    server.finish();
}

#[test]
fn server_requests_become_events_and_are_acknowledged() {
    let server = Script::serve(vec![script(|peer| {
        peer.accept_auth("bot@srv");
        peer.send(json!({"type": 1, "id": 77, "method": "someFutureEvent", "payload": {"x": 1}}));
        let ack = peer.recv();
        assert_eq!(ack, json!({"type": 2, "id": 77}));
        let _ = peer.recv_message();
    })]);
    let c = client(&server.url);
    let event = c
        .events()
        .recv_timeout(Duration::from_secs(5))
        .unwrap()
        .unwrap();
    match event {
        Event::Raw { method, payload } => {
            assert_eq!(method, "someFutureEvent");
            assert_eq!(payload, json!({"x": 1}));
        }
        other => panic!("{other:?}"),
    }
    c.close();
    server.finish();
}

#[test]
fn an_event_that_comes_with_the_close_is_acknowledged_before_the_close_reply() {
    let server = Script::serve(vec![script(|peer| {
        peer.accept_auth("bot@srv");
        // Past authentication (events held until it ends are another path).
        peer.send(json!({"type": 1, "id": 77, "method": "someFutureEvent", "payload": {}}));
        assert_eq!(peer.recv(), json!({"type": 2, "id": 77}));
        // The event and the close frame in one write: the client reads both
        // in one pass.
        let event = json!({"type": 1, "id": 78, "method": "someFutureEvent", "payload": {}});
        peer.ws.write(Message::text(event.to_string())).unwrap();
        peer.ws.close(None).unwrap();
        peer.ws.flush().unwrap();
        assert_eq!(peer.recv(), json!({"type": 2, "id": 78}));
        assert!(matches!(peer.recv_message(), Message::Close(_)));
    })]);
    let c = client(&server.url);
    for _ in 0..2 {
        let event = c.events().recv_timeout(Duration::from_secs(5)).unwrap();
        assert!(matches!(event, Some(Event::Raw { .. })), "{event:?}");
    }
    server.finish();
}

#[test]
fn close_sends_close_frame_1000_and_fails_later_calls() {
    let server = Script::serve(vec![script(|peer| {
        peer.accept_auth("bot@srv");
        match peer.recv_message() {
            tungstenite::Message::Close(Some(frame)) => {
                assert_eq!(u16::from(frame.code), 1000)
            }
            other => panic!("expected a close frame, got {other:?}"),
        }
    })]);
    let c = client(&server.url);
    c.close();
    assert!(matches!(c.call("x", json!({})), Err(Error::Closed)));
    assert!(matches!(c.events().recv(), Err(Error::Closed)));
    server.finish();
}

#[test]
fn calls_in_flight_fail_with_connection_lost_when_the_peer_vanishes() {
    let server = Script::serve(vec![script(|peer| {
        peer.accept_auth("bot@srv");
        let _req = peer.recv();
        // Drop the TCP connection without answering.
    })]);
    let c = client(&server.url);
    match c.call("sendMessage", json!({"chatId": "c"})) {
        Err(Error::ConnectionLost { method }) => assert_eq!(method, "sendMessage"),
        other => panic!("{other:?}"),
    }
    server.finish();
}

#[test]
fn a_silent_server_times_out_the_request_only() {
    let server = Script::serve(vec![script(|peer| {
        peer.accept_auth("bot@srv");
        let _ignored = peer.recv();
        let req = peer.recv();
        peer.reply(&req, json!({"ok": true}));
        let _ = peer.recv_message();
    })]);
    let c = client(&server.url);
    let quick = c.with_timeout(Duration::from_millis(200));
    match quick.call("slow", json!({})) {
        Err(Error::Timeout { kind, after }) => {
            assert_eq!(kind, trueconf_bot::TimeoutKind::Request);
            assert_eq!(after, Duration::from_millis(200));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(c.call("fast", json!({})).unwrap(), json!({"ok": true}));
    assert_eq!(c.health().requests_in_flight, 0);
    c.close();
    server.finish();
}
