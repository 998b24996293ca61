//! Bad input from the network: malformed JSON, frames of the wrong shape,
//! binary frames, unknown methods, responses for unknown ids are logged and
//! survived on the same connection. An oversized frame cannot be skipped
//! (tungstenite stops reading the stream at its header), so the client
//! drops that connection and reconnects: the call it answered fails with
//! `ConnectionLost`.
#![cfg(feature = "emulator")]

mod support;

use serde_json::json;
use std::time::Duration;
use support::peer::{script, Script};
use support::rel::*;
use trueconf_bot::{Client, Error, Event, ReconnectPolicy};
use tungstenite::Message;

#[test]
fn malformed_frames_and_unknown_events_from_the_emulator_are_survived() {
    let emu = emulator();
    let bot = bot_builder(&emu).connect().unwrap();
    let events = bot.events();
    emu.faults().send_malformed();
    emu.faults().send_unknown_event("fancyNewEvent");
    let (event, skipped) = expect_event(
        &events,
        "the unknown event",
        WAIT,
        |e| matches!(e, Event::Raw { method, .. } if method == "fancyNewEvent"),
    );
    assert!(skipped.is_empty(), "{skipped:?}");
    assert_eq!(event.to_json()["payload"], json!({}));
    wait_until("the unknown event's ack", WAIT, || {
        events_out(&emu, "fancyNewEvent")
            .iter()
            .all(|(_, _, acked)| *acked)
    });
    assert_answers(&emu, &bot);
    let health = bot.health();
    assert_eq!(
        (
            health.reconnects,
            health.requests_in_flight,
            health.queued_events
        ),
        (0, 0, 0)
    );
    bot.close();
}

#[test]
fn garbage_is_skipped_and_an_oversized_frame_costs_the_connection() {
    let server = Script::serve(vec![
        script(|peer| {
            peer.accept_auth("bot@srv");
            peer.ws
                .send(Message::Binary(vec![0, 159, 146, 150].into()))
                .unwrap();
            for garbage in [
                "not json at all",
                "",
                "[1,2,3]",
                "null",
                r#"{"type":7,"id":1}"#,
                r#"{"type":1,"id":2}"#,
                r#"{"type":"one","id":2,"method":"x"}"#,
                r#"{"type":2,"id":999999999,"payload":{"late":true}}"#,
                r#"{"type":2,"id":{"x":1}}"#,
                r#"{"type":2,"id":-5}"#,
                r#"{"type":1,"id":18446744073709551616,"method":"x"}"#,
            ] {
                peer.send_text(garbage);
            }
            peer.send_text(&format!("{{\"a\":{}", "[".repeat(60_000)));
            // Wrong payload shape, and a method nobody knows: events.
            peer.send_text(r#"{"type":1,"id":3,"method":"sendMessage","payload":[1,2]}"#);
            peer.send_text(r#"{"type":1,"id":4,"method":"brandNewThing","payload":{"x":1}}"#);
            assert_eq!(peer.recv(), json!({"type": 2, "id": 3}));
            assert_eq!(peer.recv(), json!({"type": 2, "id": 4}));
            let req = peer.recv();
            peer.reply(&req, json!({"displayName": "Alice"}));
            // Then a response larger than the client accepts.
            let req = peer.recv();
            peer.reply(&req, json!({"displayName": "x".repeat(100 * 1024)}));
            while peer.ws.read().is_ok() {}
        }),
        script(|peer| {
            peer.accept_auth("bot@srv");
            let req = peer.recv();
            peer.reply(&req, json!({"displayName": "Bob"}));
            let _ = peer.ws.read();
        }),
    ]);
    let bot = Client::builder(&server.url)
        .token("tok")
        .max_message_size(64 * 1024)
        .reconnect(ReconnectPolicy::backoff(
            Duration::from_millis(10),
            Duration::from_millis(50),
        ))
        .connect()
        .unwrap();
    let events = bot.events();
    let (wrong_shape, skipped) = expect_event(&events, "the raw sendMessage", WAIT, |_| true);
    assert!(skipped.is_empty());
    assert_eq!(
        wrong_shape,
        Event::Raw {
            method: "sendMessage".into(),
            payload: json!([1, 2])
        }
    );
    let (unknown, _) = expect_event(&events, "the unknown method", WAIT, |_| true);
    assert_eq!(unknown.kind(), "raw");
    // Same connection, still working.
    assert_eq!(
        bot.get_user_display_name("a@srv").unwrap().display_name,
        "Alice"
    );
    assert_eq!(bot.health().reconnects, 0);

    match bot.get_user_display_name("a@srv") {
        Err(Error::ConnectionLost { method }) => assert_eq!(method, "getUserDisplayName"),
        other => panic!("expected ConnectionLost, got {other:?}"),
    }
    let reason = expect_disconnected(&events);
    assert!(reason.contains("too large"), "{reason}");
    expect_reconnected(&events);
    assert_eq!(
        bot.get_user_display_name("a@srv").unwrap().display_name,
        "Bob"
    );
    let health = bot.health();
    assert_eq!((health.reconnects, health.requests_in_flight), (1, 0));
    bot.close();
    server.finish();
}

#[test]
fn an_error_answer_whose_code_cannot_be_read_is_still_a_failure() {
    const ANSWERS: [&str; 5] = [
        r#"{"errorCode":-1}"#,
        r#"{"errorCode":4294967296}"#,
        r#"{"errorCode":"E304","errorDescription":"chat not found"}"#,
        r#"{"errorCode":304,"errorCode":304}"#,
        r#"{"errorCode":304.5}"#,
    ];
    let server = Script::serve(vec![script(|peer| {
        peer.accept_auth("bot@srv");
        for answer in ANSWERS {
            let req = peer.recv();
            peer.send_text(&format!(
                r#"{{"type":2,"id":{},"payload":{answer}}}"#,
                req["id"]
            ));
        }
        let req = peer.recv();
        peer.reply(&req, json!({"errorCode": 0}));
        let _ = peer.ws.read();
    })]);
    let bot = server.client().connect().unwrap();
    for answer in ANSWERS {
        match bot.remove_message("m1", true) {
            Err(Error::Decode { what, raw, .. }) => {
                assert_eq!(what, "the errorCode of the removeMessage response");
                assert_eq!(raw, answer);
            }
            other => panic!("{answer}: {other:?}"),
        }
    }
    // A code of 0 is success.
    bot.remove_message("m1", true).unwrap();
    bot.close();
    server.finish();
}

#[test]
fn an_event_whose_payload_is_not_json_is_acknowledged_and_kept_as_text() {
    const PAYLOAD: &str = "{\"chatId\":\"c1\",\"content\":{\"text\":\"line1\nline2\"}}";
    let server = Script::serve(vec![script(|peer| {
        peer.accept_auth("bot@srv");
        peer.send_text(&format!(
            "{{\"type\":1,\"id\":41,\"method\":\"sendMessage\",\"payload\":{PAYLOAD}}}"
        ));
        assert_eq!(peer.recv(), json!({"type": 2, "id": 41}));
        let _ = peer.ws.read();
    })]);
    let bot = server.client().connect().unwrap();
    let (event, skipped) = expect_event(&bot.events(), "the raw event", WAIT, |_| true);
    assert!(skipped.is_empty());
    assert_eq!(
        event,
        Event::Unreadable {
            method: "sendMessage".into(),
            text: PAYLOAD.into()
        }
    );
    assert_eq!(
        event.to_json(),
        json!({"event": "unreadable", "method": "sendMessage", "text": PAYLOAD})
    );
    assert_eq!(event.to_wire(), None);
    bot.close();
    server.finish();
}

#[test]
fn an_unreadable_auth_answer_is_shown_without_the_token() {
    const TOKEN: &str = "tok-SECRET-1";
    for (answer, reason) in [
        (
            json!({"message": format!("bad token {TOKEN}"), "accessToken": TOKEN}),
            "missing field `userId`",
        ),
        (json!({"userId": " "}), "the userId is empty"),
    ] {
        let server = Script::serve(vec![script(move |peer| {
            let auth = peer.recv();
            assert_eq!(auth["method"], "auth");
            peer.reply(&auth, answer);
            let _ = peer.ws.read();
        })]);
        let e = server.client().token(TOKEN).connect().unwrap_err();
        let shown = format!("{e} {e:?}");
        assert!(!shown.contains("SECRET"), "{shown}");
        match e {
            Error::Decode {
                what, reason: why, ..
            } => {
                assert_eq!(what, "the auth response");
                assert!(why.starts_with(reason), "{why}");
            }
            other => panic!("{other:?}"),
        }
        server.finish();
    }
}

#[test]
fn a_token_endpoint_that_redirects_is_an_http_error_and_is_not_followed() {
    let token = r#"{"access_token":"not-yours","expires_in":3600000}"#;
    let (elsewhere, asked) = support::http::one_shot(
        format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{token}",
            token.len()
        )
        .into_bytes(),
    );
    let (origin, _) = support::http::one_shot(support::http::redirect(&format!(
        "http://{elsewhere}/bridge/api/client/v1/oauth/token"
    )));
    let e = Client::builder(format!("http://{origin}"))
        .credentials("bot", "pw")
        .reconnect(ReconnectPolicy::disabled())
        .connect()
        .unwrap_err();
    assert!(matches!(e, Error::Http { status: 302, .. }), "{e:?}");
    assert!(!asked.load(std::sync::atomic::Ordering::SeqCst));
}

#[test]
fn a_close_reason_quoting_the_token_is_shown_without_it() {
    use tungstenite::protocol::frame::coding::CloseCode;
    use tungstenite::protocol::CloseFrame;
    const TOKEN: &str = "tok-SECRET-2";
    let close = |peer: &mut support::peer::Peer, reason: String| {
        let _ = peer.ws.close(Some(CloseFrame {
            code: CloseCode::Policy,
            reason: reason.into(),
        }));
        while peer.ws.read().is_ok() {}
    };
    // During the login.
    let server = Script::serve(vec![script(move |peer| {
        let auth = peer.recv();
        close(
            peer,
            format!("bad token {}", auth["payload"]["token"].as_str().unwrap()),
        );
    })]);
    let e = server.client().token(TOKEN).connect().unwrap_err();
    let shown = format!("{e} {e:?}");
    assert!(
        shown.contains("bad token ***") && !shown.contains("SECRET"),
        "{shown}"
    );
    server.finish();
    // Once connected: the reason of the disconnection.
    let server = Script::serve(vec![script(move |peer| {
        peer.accept_auth("bot@srv");
        close(peer, format!("token {TOKEN} revoked"));
    })]);
    let bot = server.client().token(TOKEN).connect().unwrap();
    let reason = expect_disconnected(&bot.events());
    assert!(
        reason.contains("token *** revoked") && !reason.contains("SECRET"),
        "{reason}"
    );
    bot.close();
    server.finish();
}
