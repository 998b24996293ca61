//! Sending, replies, edits, forwards, lookup, history, removal, activity.

use super::super::codes::*;
use super::{s, T};
use serde_json::{json, Value};

fn text(chat: &str, body: &str) -> Value {
    json!({"chatId": chat, "content": {"text": body, "parseMode": "text"}})
}

#[test]
fn send_message_answers_and_notifies_the_others() {
    let mut t = T::new();
    let chat = t.group("bot", &["alice", "bob"]);
    let r = t.ok("alice", "sendMessage", text(&chat, "hello"));
    assert_eq!(r["chatId"], chat);
    let id = s(&r, "/messageId");
    assert_eq!(id.len(), 36);
    assert_eq!(
        t.notified(),
        vec![T::id("bob"), T::id("bot")],
        "never echoed to the actor"
    );
    let (method, env) = &t.events("bot")[0];
    assert_eq!(method, "sendMessage");
    assert_eq!(
        *env,
        json!({
            "chatId": chat,
            "chat": {"chatId": chat, "chatTitle": "Test chat", "chatType": 2},
            "messageId": id,
            "timestamp": r["timestamp"],
            "author": {"id": T::id("alice"), "type": 1},
            "isEdited": false,
            "box": {"id": 2, "position": ""},
            "type": 200,
            "content": {"text": "hello", "parseMode": "text"},
        })
    );
    // Box ids count up per chat from 0.
    let other = t.group("carol", &[]);
    t.send("carol", &other, "first");
    let h = t.history("carol", &other);
    assert_eq!(h[0]["box"], json!({"id": 0, "position": ""}));
    assert_eq!(
        t.err("alice", "sendMessage", text("nope", "x")),
        CHAT_NOT_FOUND
    );
    assert_eq!(
        t.err("dave", "sendMessage", text(&chat, "x")),
        NOT_A_PARTICIPANT
    );
}

#[test]
fn p2p_events_carry_the_peer_as_title() {
    let mut t = T::new();
    let chat = s(
        &t.ok("alice", "createP2PChat", json!({"userId": T::id("bot")})),
        "/chatId",
    );
    t.send("alice", &chat, "hi bot");
    let env = &t.events("bot")[0].1;
    assert_eq!(
        env["chat"],
        json!({"chatId": chat, "chatTitle": T::id("alice"), "chatType": 1})
    );
}

#[test]
fn replies_must_target_the_same_chat() {
    let mut t = T::new();
    let chat = t.group("bot", &["alice"]);
    let other = t.group("bot", &[]);
    let first = t.send("alice", &chat, "question");
    let elsewhere = t.send("bot", &other, "elsewhere");
    let mut reply = text(&chat, "answer");
    reply["replyMessageId"] = json!(first);
    let r = t.ok("bot", "sendMessage", reply.clone());
    let env = &t.events("alice")[0].1;
    assert_eq!(env["replyMessageId"], first.as_str());
    assert_eq!(env["replyMessage"]["messageId"], first.as_str());
    assert_eq!(env["replyMessage"]["content"]["text"], "question");
    assert_eq!(env["replyMessage"]["chat"]["chatId"], chat.as_str());
    assert!(env["replyMessage"].get("replyMessage").is_none());
    let got = t.ok(
        "alice",
        "getMessageById",
        json!({"messageId": r["messageId"]}),
    );
    assert_eq!(got["replyMessageId"], first.as_str());
    reply["replyMessageId"] = json!(elsewhere);
    assert_eq!(
        t.err("bot", "sendMessage", reply.clone()),
        MESSAGE_NOT_FOUND
    );
    reply["replyMessageId"] = json!("no-such-id");
    assert_eq!(t.err("bot", "sendMessage", reply), MESSAGE_NOT_FOUND);
}

#[test]
fn edits_are_marked_own_only_and_keep_the_send_time() {
    let mut t = T::new();
    let chat = t.group("bot", &["alice"]);
    let sent = t.ok("bot", "sendMessage", text(&chat, "draft"));
    let id = s(&sent, "/messageId");
    let edit = json!({"messageId": id, "content": {"text": "final", "parseMode": "html"}});
    let r = t.ok("bot", "editMessage", edit.clone());
    assert_eq!(r["messageId"], id.as_str());
    assert!(r["timestamp"].as_u64() > sent["timestamp"].as_u64());
    assert_eq!(
        t.events("alice"),
        vec![(
            "editMessage".to_string(),
            json!({"chatId": chat, "messageId": id, "timestamp": r["timestamp"],
                   "content": {"text": "final", "parseMode": "html"}})
        )]
    );
    let got = t.ok("alice", "getMessageById", json!({"messageId": id}));
    assert_eq!(got["isEdited"], true);
    // The envelope's timestamp is when the message was sent; the edit's
    // time is in the answer and the event.
    assert_eq!(got["timestamp"], sent["timestamp"]);
    assert_eq!(got["content"]["text"], "final");
    assert_eq!(t.err("alice", "editMessage", edit), NOT_ENOUGH_RIGHTS);
    let ghost = json!({"messageId": "x", "content": {"text": "y", "parseMode": "text"}});
    assert_eq!(t.err("bot", "editMessage", ghost), MESSAGE_NOT_FOUND);
    // Only texts are edited by editMessage.
    let tmp = t.upload("bot", "a.png", 4, false);
    let f = t.ok(
        "bot",
        "sendFile",
        json!({"chatId": chat, "content": {"temporalFileId": tmp}}),
    );
    let on_file =
        json!({"messageId": f["messageId"], "content": {"text": "y", "parseMode": "text"}});
    assert_eq!(t.err("bot", "editMessage", on_file), UNKNOWN_MESSAGE);
}

#[test]
fn forwards_nest_the_original_envelope_without_box() {
    let mut t = T::new();
    let src = t.group("alice", &["bot"]);
    let dst = t.group("bot", &["bob"]);
    let orig = t.ok("alice", "sendMessage", text(&src, "news"));
    let id = s(&orig, "/messageId");
    let r = t.ok(
        "bot",
        "forwardMessage",
        json!({"chatId": dst, "messageId": id}),
    );
    assert_eq!(r["chatId"], dst.as_str());
    let env = &t.events("bob")[0].1;
    assert_eq!(env["type"], 201);
    assert_eq!(env["author"]["id"], T::id("bot"));
    assert_eq!(
        env["content"],
        json!({"chatId": src, "messageId": id, "timestamp": orig["timestamp"],
               "author": {"id": T::id("alice"), "type": 1}, "type": 200,
               "content": {"text": "news", "parseMode": "text"}, "isEdited": false})
    );
    // Forwarding the forward keeps the original inside, never nested twice.
    let again = t.ok(
        "bob",
        "forwardMessage",
        json!({"chatId": dst, "messageId": r["messageId"]}),
    );
    let fwd = t.ok(
        "bot",
        "getMessageById",
        json!({"messageId": again["messageId"]}),
    );
    assert_eq!(fwd["content"]["messageId"], id.as_str());
    assert_eq!(fwd["content"]["type"], 200);
    // Errors.
    let e = t.err(
        "bot",
        "forwardMessage",
        json!({"chatId": dst, "messageId": "x"}),
    );
    assert_eq!(e, MESSAGE_NOT_FOUND);
    let e = t.err(
        "bot",
        "forwardMessage",
        json!({"chatId": "nope", "messageId": id}),
    );
    assert_eq!(e, CHAT_NOT_FOUND);
    let alone = t.group("carol", &[]);
    let e = t.err(
        "bot",
        "forwardMessage",
        json!({"chatId": alone, "messageId": id}),
    );
    assert_eq!(e, NOT_A_PARTICIPANT);
    let system = t
        .history("bot", &dst)
        .last()
        .cloned()
        .expect("ADD_PARTICIPANT");
    let e = t.err(
        "bot",
        "forwardMessage",
        json!({"chatId": dst, "messageId": system["messageId"]}),
    );
    assert_eq!(e, UNKNOWN_MESSAGE);
}

#[test]
fn get_message_by_id_is_flat() {
    let mut t = T::new();
    let chat = t.group("bot", &["alice"]);
    let id = t.send("alice", &chat, "hi");
    let m = t.ok("bot", "getMessageById", json!({"messageId": id}));
    assert_eq!(m["chatId"], chat.as_str());
    assert!(m.get("chat").is_none());
    assert_eq!(m["replyMessageId"], Value::Null);
    assert_eq!(m["isEdited"], false);
    assert_eq!(m["box"], json!({"id": 1, "position": ""}));
    assert_eq!(
        t.err("carol", "getMessageById", json!({"messageId": id})),
        NOT_A_PARTICIPANT
    );
    assert_eq!(
        t.err("bot", "getMessageById", json!({"messageId": "x"})),
        MESSAGE_NOT_FOUND
    );
}

#[test]
fn history_is_newest_first_and_pages_back_from_the_given_message() {
    let mut t = T::new();
    let chat = t.group("bot", &[]);
    let ids: Vec<String> = (0..7)
        .map(|i| t.send("bot", &chat, &i.to_string()))
        .collect();
    let page = |t: &mut T, from: Value| -> Vec<String> {
        let r = t.ok(
            "bot",
            "getChatHistory",
            json!({"chatId": chat, "count": 3, "fromMessageId": from}),
        );
        assert_eq!(r["chatId"], chat.as_str());
        let list = r["messages"].as_array().expect("messages").clone();
        assert_eq!(r["count"], list.len());
        list.iter().map(|m| s(m, "/messageId")).collect()
    };
    assert_eq!(
        page(&mut t, Value::Null),
        vec![ids[6].clone(), ids[5].clone(), ids[4].clone()]
    );
    assert_eq!(
        page(&mut t, json!(ids[4])),
        vec![ids[4].clone(), ids[3].clone(), ids[2].clone()]
    );
    assert_eq!(
        page(&mut t, json!(ids[1])),
        vec![ids[1].clone(), ids[0].clone()]
    );
    assert_eq!(page(&mut t, json!(ids[0])), vec![ids[0].clone()]);
    // Entries carry both the flat chatId and the nested chat.
    let h = t.history("bot", &chat);
    assert_eq!(h[0]["chatId"], chat.as_str());
    assert_eq!(h[0]["chat"]["chatType"], 2);
    let other = t.group("bot", &[]);
    let foreign = t.send("bot", &other, "x");
    let bad = json!({"chatId": chat, "count": 3, "fromMessageId": foreign});
    assert_eq!(t.err("bot", "getChatHistory", bad), MESSAGE_NOT_FOUND);
    let none = json!({"chatId": chat, "count": 0});
    assert_eq!(t.err("bot", "getChatHistory", none), WRONG_PAYLOAD);
    let e = t.err(
        "alice",
        "getChatHistory",
        json!({"chatId": chat, "count": 3}),
    );
    assert_eq!(e, NOT_A_PARTICIPANT);
}

#[test]
fn removal_for_self_and_for_all() {
    let mut t = T::new();
    let chat = t.group("bot", &["alice", "bob"]);
    let mine = t.send("alice", &chat, "mine");
    let theirs = t.send("bob", &chat, "theirs");
    let rm = |id: &str, all: bool| json!({"messageId": id, "forAll": all});
    // Own, for oneself: hidden for the actor only, nobody is told.
    t.ok("alice", "removeMessage", rm(&mine, false));
    assert!(t.out.is_empty());
    assert_eq!(
        t.err("alice", "getMessageById", json!({"messageId": mine})),
        MESSAGE_NOT_FOUND
    );
    t.ok("bob", "getMessageById", json!({"messageId": mine}));
    // Others', for all: a plain user may not, the owner may.
    assert_eq!(
        t.err("alice", "removeMessage", rm(&theirs, true)),
        NOT_ENOUGH_RIGHTS
    );
    assert_eq!(t.ok("bot", "removeMessage", rm(&theirs, true)), json!({}));
    assert_eq!(t.notified(), vec![T::id("alice"), T::id("bob")]);
    assert_eq!(
        t.events("bob")[0],
        (
            "removeMessage".into(),
            json!({"chatId": chat, "messageId": theirs, "removedBy": {"id": T::id("bot"), "type": 1}})
        )
    );
    assert_eq!(
        t.err("bob", "getMessageById", json!({"messageId": theirs})),
        MESSAGE_NOT_FOUND
    );
    // Own, for all: everyone may in a group; only those who saw it are told.
    let last = t.send("alice", &chat, "oops");
    t.ok("bob", "removeMessage", rm(&last, false));
    t.ok("alice", "removeMessage", rm(&last, true));
    assert_eq!(t.notified(), vec![T::id("bot")]);
    assert_eq!(
        t.err("alice", "removeMessage", json!({"messageId": last})),
        WRONG_PAYLOAD
    );
    assert_eq!(
        t.err("alice", "removeMessage", rm("x", true)),
        MESSAGE_NOT_FOUND
    );
}

#[test]
fn channel_writers_delete_own_for_all_but_not_for_self() {
    let mut t = T::new();
    let chat = t.channel("bot", &["alice"]);
    let w = json!({"chatId": chat, "userId": T::id("alice"), "role": "writer"});
    t.ok("bot", "changeParticipantRole", w);
    let id = t.send("alice", &chat, "post");
    let self_only = json!({"messageId": id, "forAll": false});
    assert_eq!(
        t.err("alice", "removeMessage", self_only),
        NOT_ENOUGH_RIGHTS
    );
    t.ok(
        "alice",
        "removeMessage",
        json!({"messageId": id, "forAll": true}),
    );
}

#[test]
fn chat_activity() {
    let mut t = T::new();
    let chat = t.channel("bot", &["alice"]);
    let typing = json!({"chatId": chat, "activityType": "typing"});
    let r = t.ok("bot", "sendChatActivity", typing.clone());
    assert_eq!(
        r,
        json!({"chatId": chat, "activityType": "typing", "retryAfter": 3000})
    );
    assert!(t.out.is_empty());
    assert_eq!(
        t.err("alice", "sendChatActivity", typing),
        NOT_ENOUGH_RIGHTS
    );
    let bad = json!({"chatId": chat, "activityType": "dancing"});
    assert_eq!(t.err("bot", "sendChatActivity", bad), WRONG_PAYLOAD);
}
