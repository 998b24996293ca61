//! Chat creation, lookup, listing, removal, history clearing, title, avatar.

use super::super::codes::*;
use super::{s, T};
use serde_json::json;

#[test]
fn p2p_chat_is_reused_and_announced_to_the_peer() {
    let mut t = T::new();
    let r = t.ok("bot", "createP2PChat", json!({"userId": T::id("alice")}));
    let chat = s(&r, "/chatId");
    assert_eq!(chat.len(), 40);
    assert_eq!(t.notified(), vec![T::id("alice")]);
    let ev = &t.events("alice")[0];
    assert_eq!(ev.0, "createP2PChat");
    assert_eq!(
        ev.1,
        json!({"chatId": chat, "title": T::id("bot"), "chatType": 1,
               "unreadMessages": 0, "lastMessage": null})
    );
    // Either side gets the same chat back, without a new event.
    let again = t.ok("alice", "createP2PChat", json!({"userId": T::id("bot")}));
    assert_eq!(s(&again, "/chatId"), chat);
    assert!(t.out.is_empty());
    // The title is the peer, per viewer.
    let info = t.ok("alice", "getChatByID", json!({"chatId": chat}));
    assert_eq!(info["title"], T::id("bot"));
    let e = t.err("bot", "createP2PChat", json!({"userId": "ghost@emu.local"}));
    assert_eq!(e, ACCESS_DENIED);
    assert_eq!(
        t.err("bot", "createP2PChat", json!({"userId": T::id("bot")})),
        ACCESS_DENIED
    );
}

#[test]
fn group_and_channel_creation() {
    let mut t = T::new();
    let g = t.ok("bot", "createGroupChat", json!({"title": "Team"}));
    let g = s(&g, "/chatId");
    let info = t.ok("bot", "getChatByID", json!({"chatId": g}));
    assert_eq!(info["chatType"], 2);
    assert_eq!(info["title"], "Team");
    let me = json!({"chatId": g, "userId": T::id("bot")});
    assert_eq!(t.ok("bot", "getChatParticipant", me)["role"], "owner");
    // The guide's table calls the field `name`.
    let c = t.ok("bot", "createChannel", json!({"name": "News"}));
    let info = t.ok("bot", "getChatByID", json!({"chatId": s(&c, "/chatId")}));
    assert_eq!(
        (info["chatType"].as_u64(), info["title"].as_str()),
        (Some(6), Some("News"))
    );
    assert_eq!(t.err("bot", "createGroupChat", json!({})), WRONG_PAYLOAD);
    assert_eq!(
        t.err("bot", "createGroupChat", json!({"title": ""})),
        WRONG_PAYLOAD
    );
    let long = json!({"title": "t".repeat(257)});
    assert_eq!(t.err("bot", "createChannel", long), WRONG_PAYLOAD);
    t.ok("bot", "createChannel", json!({"title": "t".repeat(256)}));
}

#[test]
fn creating_a_chat_with_participants_announces_it() {
    let mut t = T::new();
    let r = t.ok(
        "alice",
        "createGroupChat",
        json!({"title": "Lunch", "participants": [T::id("bot"), T::id("bob")]}),
    );
    let chat = s(&r, "/chatId");
    assert_eq!(t.notified(), vec![T::id("bob"), T::id("bot")]);
    let (method, p) = &t.events("bot")[0];
    assert_eq!(method, "createGroupChat");
    assert_eq!(
        (p["chatId"].as_str(), p["chatType"].as_u64()),
        (Some(chat.as_str()), Some(2))
    );
    assert_eq!(p["title"], "Lunch");
    assert_eq!(p["unreadMessages"], 2);
    assert_eq!(p["lastMessage"]["type"], 1);
    assert_eq!(
        p["lastMessage"]["author"],
        json!({"id": "emu.local", "type": 0})
    );
    assert_eq!(
        p["lastMessage"]["content"],
        json!({"userId": T::id("bob"), "role": "user"})
    );
    assert!(p["lastMessage"].get("box").is_none());
    let ghost = json!({"title": "x", "participants": ["ghost@emu.local"]});
    assert_eq!(t.err("alice", "createChannel", ghost), ACCESS_DENIED);
    let bad = json!({"title": "x", "participants": [1]});
    assert_eq!(t.err("alice", "createChannel", bad), WRONG_PAYLOAD);
}

#[test]
fn favorites_chat_is_one_per_user() {
    let mut t = T::new();
    let a = s(&t.ok("bot", "createFavoritesChat", json!({})), "/chatId");
    let b = s(&t.ok("bot", "createFavoritesChat", json!({})), "/chatId");
    assert_eq!(a, b);
    let other = s(&t.ok("alice", "createFavoritesChat", json!({})), "/chatId");
    assert_ne!(a, other);
    let info = t.ok("bot", "getChatByID", json!({"chatId": a}));
    assert_eq!(info["chatType"], 5);
    let me = json!({"chatId": a, "userId": T::id("bot")});
    assert_eq!(
        t.ok("bot", "getChatParticipant", me)["role"],
        "favorites_owner"
    );
    t.send("bot", &a, "note to self");
    let add = json!({"chatId": a, "userId": T::id("alice")});
    assert_eq!(t.err("bot", "addChatParticipant", add), NOT_ENOUGH_RIGHTS);
}

#[test]
fn get_chat_by_id_shape_and_errors() {
    let mut t = T::new();
    let chat = t.group("bot", &["alice"]);
    t.send("alice", &chat, "hello");
    let info = t.ok("bot", "getChatByID", json!({"chatId": chat}));
    assert_eq!(info["unreadMessages"], 2);
    let last = &info["lastMessage"];
    assert_eq!(
        last["content"],
        json!({"text": "hello", "parseMode": "text"})
    );
    assert_eq!(last["author"], json!({"id": T::id("alice"), "type": 1}));
    // Spec 5.4: the lastMessage of this answer has no chatId, isEdited or
    // box (the chat-created events' lastMessage does name its chat).
    for key in ["chatId", "chat", "isEdited", "box"] {
        assert!(last.get(key).is_none(), "{key} in {last}");
    }
    assert!(last["messageId"].is_string() && last["timestamp"].is_u64());
    assert!(info.get("avatarUrl").is_none());
    // Reading the newest history page marks the chat read.
    t.history("bot", &chat);
    let info = t.ok("bot", "getChatByID", json!({"chatId": chat}));
    assert_eq!(info["unreadMessages"], 0);
    assert_eq!(
        t.err("bot", "getChatByID", json!({"chatId": "nope"})),
        CHAT_NOT_FOUND
    );
    assert_eq!(
        t.err("carol", "getChatByID", json!({"chatId": chat})),
        NOT_A_PARTICIPANT
    );
}

#[test]
fn get_chats_pages_from_one_newest_activity_first() {
    let mut t = T::new();
    let chats: Vec<String> = (0..5).map(|_| t.group("bot", &[])).collect();
    let page = |t: &mut T, count: u64, page: u64| -> Vec<String> {
        let r = t.ok("bot", "getChats", json!({"count": count, "page": page}));
        r.as_array()
            .expect("a bare array")
            .iter()
            .map(|c| s(c, "/chatId"))
            .collect()
    };
    assert_eq!(page(&mut t, 2, 1), vec![chats[4].clone(), chats[3].clone()]);
    assert_eq!(page(&mut t, 2, 2), vec![chats[2].clone(), chats[1].clone()]);
    assert_eq!(page(&mut t, 2, 3), vec![chats[0].clone()]);
    assert!(page(&mut t, 2, 4).is_empty());
    let zero = json!({"count": 2, "page": 0});
    assert_eq!(
        t.err("bot", "getChats", zero),
        WRONG_PAYLOAD,
        "pages count from 1"
    );
    // A new message moves a chat to the front.
    t.send("bot", &chats[1], "bump");
    assert_eq!(page(&mut t, 1, 1), vec![chats[1].clone()]);
    // Only the actor's chats.
    assert!(page(&mut t, 10, 1).len() == 5);
    let r = t.ok("alice", "getChats", json!({"count": 10, "page": 1}));
    assert_eq!(r, json!([]));
    assert_eq!(t.err("bot", "getChats", json!({"page": 1})), WRONG_PAYLOAD);
}

#[test]
fn remove_chat_rules_and_event() {
    let mut t = T::new();
    let chat = t.group("bot", &["alice", "bob"]);
    let m = t.send("alice", &chat, "hi");
    let rm = json!({"chatId": chat});
    assert_eq!(t.err("alice", "removeChat", rm.clone()), NOT_ENOUGH_RIGHTS);
    assert_eq!(t.err("carol", "removeChat", rm.clone()), NOT_A_PARTICIPANT);
    assert_eq!(
        t.ok("bot", "removeChat", rm.clone()),
        json!({"chatId": chat})
    );
    assert_eq!(t.notified(), vec![T::id("alice"), T::id("bob")]);
    assert_eq!(
        t.events("bob")[0],
        ("removeChat".into(), json!({"chatId": chat}))
    );
    assert_eq!(t.err("bot", "removeChat", rm), CHAT_NOT_FOUND);
    assert_eq!(
        t.err("alice", "getMessageById", json!({"messageId": m})),
        MESSAGE_NOT_FOUND
    );
    // A p2p chat can be removed by either side, and is created anew after.
    let p = s(
        &t.ok("bot", "createP2PChat", json!({"userId": T::id("bob")})),
        "/chatId",
    );
    t.ok("bob", "removeChat", json!({"chatId": p}));
    assert_eq!(t.notified(), vec![T::id("bot")]);
    let again = s(
        &t.ok("bot", "createP2PChat", json!({"userId": T::id("bob")})),
        "/chatId",
    );
    assert_ne!(p, again);
}

#[test]
fn clear_history_for_self_and_for_all() {
    let mut t = T::new();
    let chat = t.group("bot", &["alice", "bob"]);
    let m = t.send("alice", &chat, "one");
    t.send("bob", &chat, "two");
    // For oneself: only the actor stops seeing them, nobody is told.
    t.ok(
        "alice",
        "clearHistory",
        json!({"chatId": chat, "forAll": false}),
    );
    assert!(t.out.is_empty());
    assert!(t.history("alice", &chat).is_empty());
    assert_eq!(
        t.history("bob", &chat).len(),
        3,
        "bob joined after alice's envelope"
    );
    let e = t.err("alice", "getMessageById", json!({"messageId": m}));
    assert_eq!(e, MESSAGE_NOT_FOUND);
    t.send("bob", &chat, "three");
    assert_eq!(t.history("alice", &chat).len(), 1);
    // For all: users may not, the owner may.
    let all = json!({"chatId": chat, "forAll": true});
    assert_eq!(
        t.err("alice", "clearHistory", all.clone()),
        NOT_ENOUGH_RIGHTS
    );
    t.ok("bot", "clearHistory", all);
    let ev = t.events("bob");
    assert_eq!(
        ev[0],
        (
            "clearHistory".into(),
            json!({"chatId": chat, "forAll": true})
        )
    );
    assert_eq!(ev[1].0, "sendMessage");
    assert_eq!(ev[1].1["type"], 23);
    let h = t.history("bob", &chat);
    assert_eq!(h.len(), 1);
    assert_eq!(
        (h[0]["type"].as_u64(), &h[0]["content"]),
        (Some(23), &json!({"forAll": true}))
    );
    assert_eq!(
        t.err("bob", "getMessageById", json!({"messageId": m})),
        MESSAGE_NOT_FOUND
    );
    // Box ids keep counting after a clear.
    assert_eq!(h[0]["box"]["id"], 5);
    assert_eq!(
        t.err("bot", "clearHistory", json!({"chatId": "x"})),
        CHAT_NOT_FOUND
    );
}

#[test]
fn edit_chat_title() {
    let mut t = T::new();
    let chat = t.group("bot", &["alice"]);
    let r = t.ok(
        "bot",
        "editChatTitle",
        json!({"chatId": chat, "title": "New"}),
    );
    assert_eq!(r["chatId"], chat);
    assert!(r["timestamp"].as_u64().is_some());
    let ev = t.events("alice");
    assert_eq!(
        ev[0],
        (
            "editChatTitle".into(),
            json!({"chatId": chat, "title": "New"})
        )
    );
    assert_eq!(
        (ev[1].1["type"].as_u64(), &ev[1].1["content"]),
        (Some(21), &json!({"title": "New"}))
    );
    assert_eq!(ev[1].1["chat"]["chatTitle"], "New");
    assert_eq!(
        t.ok("alice", "getChatByID", json!({"chatId": chat}))["title"],
        "New"
    );
    let e = t.err(
        "alice",
        "editChatTitle",
        json!({"chatId": chat, "title": "Mine"}),
    );
    assert_eq!(e, NOT_ENOUGH_RIGHTS);
    let long = json!({"chatId": chat, "title": "x".repeat(257)});
    assert_eq!(t.err("bot", "editChatTitle", long), WRONG_PAYLOAD);
    let p = s(
        &t.ok("bot", "createP2PChat", json!({"userId": T::id("bob")})),
        "/chatId",
    );
    let e = t.err("bot", "editChatTitle", json!({"chatId": p, "title": "x"}));
    assert_eq!(e, NOT_ENOUGH_RIGHTS);
}

#[test]
fn edit_chat_avatar() {
    let mut t = T::new();
    let chat = t.group("bot", &["alice"]);
    let tmp = t.upload("bot", "logo.png", 100, false);
    let r = t.ok(
        "bot",
        "editChatAvatar",
        json!({"chatId": chat, "temporalFileId": tmp}),
    );
    assert_eq!(r, json!({}));
    let ev = t.events("alice");
    assert_eq!(ev[0].0, "editChatAvatar");
    let url = s(&ev[0].1, "/avatarUrl");
    assert!(url.starts_with("http://127.0.0.1:4309/bridge/api/client/v1/files?file_id="));
    assert_eq!(ev[1].1["type"], 22);
    assert_eq!(ev[1].1["content"]["avatarUrl"], url.as_str());
    assert_eq!(
        t.ok("alice", "getChatByID", json!({"chatId": chat}))["avatarUrl"],
        url.as_str()
    );
    // The upload is used up.
    let again = json!({"chatId": chat, "temporalFileId": tmp});
    assert_eq!(t.err("bot", "editChatAvatar", again), FILE_NOT_FOUND);
    let mine = t.upload("alice", "me.png", 5, false);
    let e = t.err(
        "alice",
        "editChatAvatar",
        json!({"chatId": chat, "temporalFileId": mine}),
    );
    assert_eq!(e, NOT_ENOUGH_RIGHTS);
}

#[test]
fn unread_counts_follow_read_marks() {
    let mut t = T::new();
    let chat = t.group("bot", &[]);
    t.ok(
        "bot",
        "addChatParticipant",
        json!({"chatId": chat, "userId": T::id("alice")}),
    );
    let first = t.send("bot", &chat, "one");
    t.send("bot", &chat, "two");
    let unread =
        |t: &mut T| t.ok("alice", "getChatByID", json!({"chatId": chat}))["unreadMessages"].clone();
    assert_eq!(unread(&mut t), 3);
    t.w.mark_read(&T::id("alice"), &first);
    assert_eq!(unread(&mut t), 1);
    t.w.mark_read(&T::id("alice"), "unknown");
    // Writing marks everything before read.
    t.send("alice", &chat, "three");
    assert_eq!(unread(&mut t), 0);
}
