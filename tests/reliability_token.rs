//! Token expiry mid-session: with credentials the client fetches a new
//! token and carries on; without, it stops with a clear reason. A request
//! answered "not authorized"/"credentials expired" mid-session makes the
//! client re-authenticate on a fresh connection.
#![cfg(feature = "emulator")]

mod support;

use serde_json::{json, Value};
use std::time::{Duration, Instant};
use support::peer::{script, Script};
use support::rel::*;
use trueconf_bot::emulator::Direction;
use trueconf_bot::{ApiErrorCode, Client, ConnectionState, Error, ReconnectPolicy};

fn fetch_token(url: &str) -> String {
    let body = json!({"client_id": "chat_bot", "grant_type": "password",
                      "username": "bot", "password": "bot-pw"})
    .to_string();
    let mut response = ureq::post(format!("{url}/bridge/api/client/v1/oauth/token"))
        .header("Content-Type", "application/json")
        .send(&body)
        .unwrap();
    let text = response.body_mut().read_to_string().unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    v["access_token"].as_str().unwrap().to_string()
}

/// The auth answers the emulator sent, in order, as error codes (0: ok).
fn auth_answers(emu: &trueconf_bot::emulator::Emulator) -> Vec<u64> {
    let frames = emu.frames();
    let auth_ids: Vec<(u64, Value)> = frames
        .iter()
        .filter(|r| r.direction == Direction::In)
        .map(|r| (r.connection, json(r)))
        .filter(|(_, v)| v["method"] == "auth")
        .map(|(c, v)| (c, v["id"].clone()))
        .collect();
    frames
        .iter()
        .filter(|r| r.direction == Direction::Out)
        .map(|r| (r.connection, json(r)))
        .filter(|(c, v)| v["type"] == 2 && auth_ids.contains(&(*c, v["id"].clone())))
        .map(|(_, v)| v["payload"]["errorCode"].as_u64().unwrap_or(0))
        .collect()
}

#[test]
fn with_credentials_an_expired_token_is_renewed() {
    let emu = emulator();
    let bot = bot_builder(&emu).connect().unwrap();
    let events = bot.events();
    emu.faults().expire_tokens();
    emu.faults().drop_connections();
    expect_disconnected(&events);
    expect_reconnected(&events);
    // The old token was refused (203), a new one accepted.
    assert_eq!(auth_answers(&emu), vec![0, 203, 0]);
    assert_answers(&emu, &bot);
    assert_eq!(bot.health().reconnects, 1);
    bot.close();
}

#[test]
fn without_credentials_an_expired_token_stops_the_client_clearly() {
    let emu = emulator();
    let bot = Client::builder(emu.url())
        .token(fetch_token(emu.url()))
        .reconnect(quick_backoff())
        .connect()
        .unwrap();
    let events = bot.events();
    emu.faults().expire_tokens();
    emu.faults().drop_connections();
    expect_disconnected(&events);
    let last = expect_disconnected(&events);
    assert!(
        last.contains("203") && last.contains("no credentials"),
        "{last}"
    );
    assert!(matches!(events.recv_timeout(WAIT), Err(Error::Closed)));
    assert_eq!(auth_answers(&emu), vec![0, 203]);
    let health = bot.health();
    assert_eq!(health.state, ConnectionState::Closed);
    assert!(health.failure.unwrap().contains("no credentials"));
    let started = Instant::now();
    match bot.get_user_display_name("alice") {
        Err(Error::Connect(why)) => assert!(why.contains("no credentials"), "{why}"),
        other => panic!("{other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(1));
}

#[test]
fn a_session_refused_mid_way_is_re_authenticated() {
    let server = Script::serve(vec![
        script(|peer| {
            peer.accept_auth("bot@srv");
            let req = peer.recv();
            peer.reply(&req, json!({"errorCode": 203}));
            // The client closes this connection to start afresh.
            loop {
                match peer.ws.read() {
                    Ok(tungstenite::Message::Close(_)) | Err(_) => break,
                    Ok(_) => continue,
                }
            }
        }),
        script(|peer| {
            peer.accept_auth("bot@srv");
            let req = peer.recv();
            assert_eq!(req["method"], "getUserDisplayName");
            peer.reply(&req, json!({"displayName": "Alice"}));
            let _ = peer.ws.read();
        }),
    ]);
    let bot = Client::builder(&server.url)
        .token("tok")
        .reconnect(ReconnectPolicy::backoff(
            Duration::from_millis(10),
            Duration::from_millis(50),
        ))
        .connect()
        .unwrap();
    let events = bot.events();
    match bot.get_user_display_name("a@srv") {
        Err(e) => assert_eq!(e.api_code(), Some(ApiErrorCode::CredentialsExpired)),
        other => panic!("{other:?}"),
    }
    let reason = expect_disconnected(&events);
    assert!(reason.contains("authoriz"), "{reason}");
    expect_reconnected(&events);
    assert_eq!(
        bot.get_user_display_name("a@srv").unwrap().display_name,
        "Alice"
    );
    bot.close();
    server.finish();
}

/// Reads the client's frames up to its close frame; returns the methods of
/// the requests among them.
fn requests_until_close(peer: &mut support::peer::Peer) -> Vec<String> {
    let mut methods = Vec::new();
    loop {
        match peer.ws.read() {
            Ok(tungstenite::Message::Text(t)) => {
                let v: Value = serde_json::from_str(t.as_str()).unwrap();
                if let Some(m) = v["method"].as_str() {
                    methods.push(m.to_string());
                }
            }
            Ok(tungstenite::Message::Close(_)) => return methods,
            Ok(_) => {}
            Err(e) => panic!("the link ended without a close frame: {e}"),
        }
    }
}

/// A peer for the second link: logs in, answers `getUserDisplayName`
/// requests, and holds the link until the client closes it.
fn second_link() -> Box<dyn FnOnce(&mut support::peer::Peer) + Send> {
    script(|peer| {
        peer.accept_auth("bot@srv");
        while let Ok(msg) = peer.ws.read() {
            if let tungstenite::Message::Text(t) = msg {
                let req: Value = serde_json::from_str(t.as_str()).unwrap();
                peer.reply(&req, json!({"displayName": "Alice"}));
            }
        }
    })
}

fn token_client(url: &str) -> Client {
    Client::builder(url)
        .token("tok")
        .reconnect(quick_backoff())
        .request_timeout(WAIT)
        .connect()
        .unwrap()
}

#[test]
fn answers_and_events_that_come_while_leaving_a_refused_session_are_taken() {
    let server = Script::serve(vec![
        script(|peer| {
            peer.accept_auth("bot@srv");
            let sent_first = peer.recv();
            let refused = peer.recv();
            peer.reply(&refused, json!({"errorCode": 203}));
            // The client leaves: wait for its next bytes (its close frame,
            // left unread so that this side may still send), then send what
            // a server may still send before it reads that close.
            let mut byte = [0u8; 1];
            assert_eq!(peer.ws.get_ref().peek(&mut byte).unwrap(), 1);
            peer.reply(&sent_first, json!({"displayName": "Alice"}));
            peer.send(json!({"type": 1, "id": 77, "method": "someEvent", "payload": {"x": 1}}));
            // The close frame is all the client sent after the refusal.
            assert_eq!(requests_until_close(peer), Vec::<String>::new());
            while peer.ws.read().is_ok() {}
        }),
        second_link(),
    ]);
    let bot = token_client(&server.url);
    let events = bot.events();
    let sent_first = bot.get_user_display_name_pending("alice@srv").unwrap();
    let refused = bot.call("fail", json!({})).unwrap_err();
    assert_eq!(refused.api_code(), Some(ApiErrorCode::CredentialsExpired));
    // Nobody waits on the link now: the I/O thread reads what comes.
    let (event, _) = expect_event(&events, "someEvent", WAIT, |e| e.kind() == "raw");
    assert_eq!(event.to_wire().unwrap().0, "someEvent");
    // The answer to a call made before the refusal still counts.
    assert_eq!(sent_first.wait().unwrap().display_name, "Alice");
    expect_reconnected(&events);
    bot.close();
}

#[test]
fn a_call_made_while_leaving_a_refused_session_waits_for_the_next_one() {
    let (seen_tx, seen_rx) = std::sync::mpsc::channel();
    let server = Script::serve(vec![
        script(move |peer| {
            peer.accept_auth("bot@srv");
            let refused = peer.recv();
            peer.reply(&refused, json!({"errorCode": 203}));
            seen_tx.send(requests_until_close(peer)).unwrap();
            let _ = peer.ws.close(None);
            while peer.ws.read().is_ok() {}
        }),
        second_link(),
    ]);
    let bot = token_client(&server.url);
    let refused = bot.get_user_display_name("alice@srv").unwrap_err();
    assert_eq!(refused.api_code(), Some(ApiErrorCode::CredentialsExpired));
    // Retried at once, while the first link is being closed.
    let retried = bot.get_user_display_name("alice@srv").unwrap();
    assert_eq!(retried.display_name, "Alice");
    // Nothing reached the refused session after its refusal.
    assert_eq!(seen_rx.recv_timeout(WAIT).unwrap(), Vec::<String>::new());
    bot.close();
}
