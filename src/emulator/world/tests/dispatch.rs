//! Routing, payload decoding, limits, parseMode null, users.

use super::super::codes::*;
use super::super::Outbound;
use super::T;
use serde_json::{json, value::RawValue};

#[test]
fn unknown_method_is_route_not_found() {
    let mut t = T::new();
    assert_eq!(t.err("bot", "sendSticker", json!({})), ROUTE_NOT_FOUND);
    assert_eq!(t.err("bot", "auth", json!({"token": "x"})), ROUTE_NOT_FOUND);
}

#[test]
fn payloads_that_do_not_decode_are_399() {
    let mut t = T::new();
    let chat = t.group("bot", &[]);
    // Not an object.
    let raw = RawValue::from_string("[1]".into()).unwrap();
    let r = t.w.handle(
        &T::id("bot"),
        Some(1),
        "getChatByID",
        Some(&raw),
        &mut t.out,
    );
    assert_eq!(r, Err(WRONG_PAYLOAD));
    // Missing and mistyped fields.
    assert_eq!(t.err("bot", "getChatByID", json!({})), WRONG_PAYLOAD);
    assert_eq!(
        t.err("bot", "getChatByID", json!({"chatId": 5})),
        WRONG_PAYLOAD
    );
    let c = json!({"chatId": chat, "count": "ten"});
    assert_eq!(t.err("bot", "getChatHistory", c), WRONG_PAYLOAD);
    let c = json!({"chatId": chat, "content": {"parseMode": "text"}});
    assert_eq!(t.err("bot", "sendMessage", c), WRONG_PAYLOAD);
    let c = json!({"chatId": chat, "content": "hi"});
    assert_eq!(t.err("bot", "sendMessage", c), WRONG_PAYLOAD);
    // Numbers and booleans must be JSON numbers and booleans, as the
    // guide's types say: a string in their place is refused.
    let c = json!({"chatId": chat, "count": "10"});
    assert_eq!(t.err("bot", "getChatHistory", c), WRONG_PAYLOAD);
    let c = json!({"count": 10, "page": "1"});
    assert_eq!(t.err("bot", "getChats", c), WRONG_PAYLOAD);
    let c = json!({"chatId": chat, "pageSize": "10", "pageNumber": 1});
    assert_eq!(t.err("bot", "getChatParticipants", c), WRONG_PAYLOAD);
    let c = json!({"fileSize": "5", "fileName": "a.txt"});
    assert_eq!(t.err("bot", "uploadFile", c), WRONG_PAYLOAD);
    let c = json!({"chatId": chat, "forAll": "true"});
    assert_eq!(t.err("bot", "clearHistory", c), WRONG_PAYLOAD);
    let sent = t.send("bot", &chat, "x");
    let c = json!({"messageId": sent, "forAll": 1});
    assert_eq!(t.err("bot", "removeMessage", c), WRONG_PAYLOAD);
    t.ok(
        "bot",
        "getChatHistory",
        json!({"chatId": chat, "count": 10}),
    );
    // An absent payload is fine where nothing is required.
    let r = t.w.handle(
        &T::id("bot"),
        Some(1),
        "createFavoritesChat",
        None,
        &mut t.out,
    );
    assert!(r.is_ok());
}

#[test]
fn parse_mode_null_gets_no_response_and_changes_nothing() {
    let mut t = T::new();
    let chat = t.group("bot", &["alice"]);
    let m = t.send("bot", &chat, "hi");
    let send = json!({"chatId": chat, "content": {"text": "x", "parseMode": null}});
    assert_eq!(t.err("bot", "sendMessage", send), NO_RESPONSE);
    assert!(t.out.is_empty());
    let edit = json!({"messageId": m, "content": {"text": "x", "parseMode": null}});
    assert_eq!(t.err("bot", "editMessage", edit), NO_RESPONSE);
    let tmp = t.upload("bot", "a.png", 3, false);
    let file = json!({"chatId": chat, "content": {"temporalFileId": tmp,
        "caption": {"text": "c", "parseMode": null}}});
    assert_eq!(t.err("bot", "sendFile", file), NO_RESPONSE);
    // Even for a chat that does not exist: the server never answers.
    let ghost = json!({"chatId": "nope", "content": {"text": "x", "parseMode": null}});
    assert_eq!(t.err("bot", "sendMessage", ghost), NO_RESPONSE);
    assert_eq!(t.history("bot", &chat).len(), 2, "ADD_PARTICIPANT + hi");
    // The upload was not consumed.
    let file = json!({"chatId": chat, "content": {"temporalFileId": tmp}});
    t.ok("bot", "sendFile", file);
}

#[test]
fn parse_modes_and_text_limits() {
    let mut t = T::new();
    let chat = t.group("bot", &[]);
    let send = |text: String, mode: serde_json::Value| json!({"chatId": chat, "content": {"text": text, "parseMode": mode}});
    assert_eq!(
        t.err("bot", "sendMessage", send("x".into(), json!("rtf"))),
        WRONG_PAYLOAD
    );
    let no_mode = json!({"chatId": chat, "content": {"text": "x"}});
    assert_eq!(t.err("bot", "sendMessage", no_mode), WRONG_PAYLOAD);
    for mode in ["text", "markdown", "html"] {
        t.ok("bot", "sendMessage", send("x".into(), json!(mode)));
    }
    // 4096 characters (not bytes) pass, 4097 do not.
    t.ok("bot", "sendMessage", send("é".repeat(4096), json!("text")));
    let long = send("a".repeat(4097), json!("text"));
    assert_eq!(t.err("bot", "sendMessage", long), WRONG_PAYLOAD);
}

#[test]
fn buttons_are_kept_within_limits() {
    let mut t = T::new();
    let chat = t.group("bot", &[]);
    let button = json!({"type": "command", "label": "OK", "command": "ok"});
    let ok = json!({"chatId": chat, "content": {"text": "pick", "parseMode": "text",
        "buttons": [[button.clone(), button.clone()]]}});
    let id = t.ok("bot", "sendMessage", ok)["messageId"].clone();
    let m = t.ok("bot", "getMessageById", json!({"messageId": id}));
    assert_eq!(m["content"]["buttons"][0][1]["command"], "ok");
    let row: Vec<_> = (0..9).map(|_| button.clone()).collect();
    let wide = json!({"chatId": chat, "content": {"text": "x", "parseMode": "text",
        "buttons": [row]}});
    assert_eq!(t.err("bot", "sendMessage", wide), WRONG_PAYLOAD);
    let rows: Vec<_> = (0..9).map(|_| json!([button.clone()])).collect();
    let tall = json!({"chatId": chat, "content": {"text": "x", "parseMode": "text",
        "buttons": rows}});
    assert_eq!(t.err("bot", "sendMessage", tall), WRONG_PAYLOAD);
    let untyped = json!({"chatId": chat, "content": {"text": "x", "parseMode": "text",
        "buttons": [[{"label": "x"}]]}});
    assert_eq!(t.err("bot", "sendMessage", untyped), WRONG_PAYLOAD);
}

#[test]
fn failed_requests_emit_nothing() {
    let mut t = T::new();
    let chat = t.channel("bot", &["alice", "bob"]);
    let c = json!({"chatId": chat, "content": {"text": "x", "parseMode": "text"}});
    assert_eq!(t.err("alice", "sendMessage", c), NOT_ENOUGH_RIGHTS);
    assert!(t.out.is_empty());
}

#[test]
fn users_and_display_names() {
    let mut t = T::new();
    assert_eq!(T::id("alice"), "alice@emu.local");
    let r = t.ok(
        "bot",
        "getUserDisplayName",
        json!({"userId": "alice@emu.local"}),
    );
    assert_eq!(r, json!({"displayName": "Alice"}));
    // Case and a /resource suffix do not matter.
    let r = t.ok(
        "bot",
        "getUserDisplayName",
        json!({"userId": "ALICE@emu.local/web"}),
    );
    assert_eq!(r["displayName"], "Alice");
    let e = t.err(
        "bot",
        "getUserDisplayName",
        json!({"userId": "zed@emu.local"}),
    );
    assert_eq!(e, ACCESS_DENIED);
    assert_eq!(t.err("bot", "getUserDisplayName", json!({})), WRONG_PAYLOAD);
    // Registering again renames.
    assert_eq!(t.w.add_user("alice", "Alice B."), "alice@emu.local");
    assert_eq!(t.w.display_name("alice@emu.local"), Some("Alice B."));
}

#[test]
fn system_envelope_events_are_marked() {
    let sys = Outbound {
        user_id: "a".into(),
        session: None,
        method: "sendMessage".into(),
        payload: json!({"type": 1}),
    };
    assert!(sys.is_system_envelope());
    let text = Outbound {
        payload: json!({"type": 200}),
        ..sys.clone()
    };
    assert!(!text.is_system_envelope());
    let other = Outbound {
        method: "editChatTitle".into(),
        ..sys
    };
    assert!(!other.is_system_envelope());
}

#[test]
fn garbage_payloads_never_panic() {
    const METHODS: [&str; 32] = [
        "createP2PChat",
        "createGroupChat",
        "createChannel",
        "createFavoritesChat",
        "getChatByID",
        "getChats",
        "removeChat",
        "clearHistory",
        "editChatTitle",
        "editChatAvatar",
        "addChatParticipant",
        "removeChatParticipant",
        "hasChatParticipant",
        "getChatParticipant",
        "getChatParticipants",
        "changeParticipantRole",
        "getUserDisplayName",
        "sendMessage",
        "editMessage",
        "forwardMessage",
        "getMessageById",
        "getChatHistory",
        "removeMessage",
        "sendChatActivity",
        "uploadFile",
        "sendFile",
        "getFileInfo",
        "subscribeFileProgress",
        "unsubscribeFileProgress",
        "getFileUploadLimits",
        "sendSurvey",
        "editSurvey",
    ];
    let mut t = T::new();
    let chat = t.group("bot", &["alice"]);
    let msg = t.send("alice", &chat, "x");
    let payloads = [
        json!({}),
        json!({"chatId": null, "userId": null, "messageId": null, "content": null}),
        json!({"chatId": chat, "messageId": msg, "userId": u64::MAX, "count": u64::MAX,
               "page": u64::MAX, "pageSize": u64::MAX, "pageNumber": u64::MAX,
               "fileSize": -5, "forAll": "maybe", "role": [], "title": {"a": 1}}),
        json!({"chatId": chat, "messageId": msg, "count": 1, "page": 1, "pageSize": 1,
               "pageNumber": 0, "fromMessageId": msg, "userId": "@", "role": 99,
               "content": {"text": 5, "parseMode": [], "buttons": [[[]]],
                           "temporalFileId": {}, "caption": "x"}}),
        json!({"chatId": "", "messageId": "", "userId": "/", "title": "", "fileId": "",
               "content": {"text": "", "parseMode": "text", "buttons": []}}),
    ];
    for method in METHODS {
        for p in &payloads {
            let _ = t.call("alice", method, p.clone());
            let _ = t.call("nobody@else", method, p.clone());
        }
    }
    let raw = RawValue::from_string("\"a string\"".into()).unwrap();
    for method in METHODS {
        let r =
            t.w.handle("bot@emu.local", Some(1), method, Some(&raw), &mut t.out);
        assert_eq!(r, Err(WRONG_PAYLOAD), "{method}");
    }
}
