//! Participants and the role tables of guide section 4.

use super::super::codes::*;
use super::{s, T};
use serde_json::{json, Value};

fn role(t: &mut T, chat: &str, login: &str) -> String {
    let r = t.ok(
        "bot",
        "getChatParticipant",
        json!({"chatId": chat, "userId": T::id(login)}),
    );
    s(&r, "/role")
}

#[test]
fn add_participant_rules_and_events() {
    let mut t = T::new();
    let chat = t.group("bot", &["alice", "bob"]);
    let r = t.ok(
        "bot",
        "addChatParticipant",
        json!({"chatId": chat, "userId": T::id("carol")}),
    );
    assert_eq!(r, json!({}));
    assert_eq!(
        t.notified(),
        vec![T::id("alice"), T::id("bob"), T::id("carol")]
    );
    let (method, p) = &t.events("carol")[0];
    assert_eq!(method, "addChatParticipant");
    assert_eq!(p["chatId"], chat);
    assert_eq!(p["userId"], T::id("carol"));
    assert_eq!(p["addedBy"], json!({"id": T::id("bot"), "type": 1}));
    assert!(p["timestamp"].as_u64().is_some());
    let (method, env) = &t.events("alice")[1];
    assert_eq!(method, "sendMessage");
    assert_eq!(env["type"], 1);
    assert_eq!(
        env["content"],
        json!({"userId": T::id("carol"), "role": "user"})
    );
    assert_eq!(role(&mut t, &chat, "carol"), "user");
    // A plain user may not add (guide 4.2).
    let add = json!({"chatId": chat, "userId": T::id("dave")});
    assert_eq!(
        t.err("alice", "addChatParticipant", add.clone()),
        NOT_ENOUGH_RIGHTS
    );
    assert_eq!(t.err("dave", "addChatParticipant", add), NOT_A_PARTICIPANT);
    let again = json!({"chatId": chat, "userId": T::id("alice")});
    assert_eq!(t.err("bot", "addChatParticipant", again), ALREADY_IN_CHAT);
    let ghost = json!({"chatId": chat, "userId": "ghost@emu.local"});
    assert_eq!(t.err("bot", "addChatParticipant", ghost), ACCESS_DENIED);
    let nochat = json!({"chatId": "nope", "userId": T::id("dave")});
    assert_eq!(t.err("bot", "addChatParticipant", nochat), CHAT_NOT_FOUND);
}

#[test]
fn display_history_decides_what_a_newcomer_sees() {
    let mut t = T::new();
    let chat = t.group("bot", &[]);
    t.send("bot", &chat, "old");
    t.ok(
        "bot",
        "addChatParticipant",
        json!({"chatId": chat, "userId": T::id("alice")}),
    );
    let add = json!({"chatId": chat, "userId": T::id("bob"), "displayHistory": true});
    t.ok("bot", "addChatParticipant", add);
    let texts = |h: Vec<Value>| -> Vec<Value> { h.iter().map(|m| m["type"].clone()).collect() };
    assert_eq!(texts(t.history("alice", &chat)), vec![json!(1), json!(1)]);
    assert_eq!(
        texts(t.history("bob", &chat)),
        vec![json!(1), json!(1), json!(200)]
    );
}

#[test]
fn remove_participant_rules_and_events() {
    let mut t = T::new();
    let chat = t.group("bot", &["alice", "bob", "carol"]);
    let rm = |who: &str| json!({"chatId": chat, "userId": T::id(who), "clearHistory": false});
    assert_eq!(
        t.err("alice", "removeChatParticipant", rm("bob")),
        NOT_ENOUGH_RIGHTS
    );
    assert_eq!(t.ok("bot", "removeChatParticipant", rm("bob")), json!({}));
    assert_eq!(
        t.notified(),
        vec![T::id("alice"), T::id("bob"), T::id("carol")]
    );
    let (method, p) = &t.events("bob")[0];
    assert_eq!(method, "removeChatParticipant");
    assert_eq!(p["userId"], T::id("bob"));
    assert_eq!(p["removedBy"], json!({"id": T::id("bot"), "type": 1}));
    assert_eq!(
        t.events("bob").len(),
        1,
        "the removed user gets no envelope"
    );
    assert_eq!(t.events("alice")[1].1["type"], 2);
    assert_eq!(
        t.events("alice")[1].1["content"],
        json!({"userId": T::id("bob")})
    );
    assert_eq!(
        t.err("bob", "getChatByID", json!({"chatId": chat})),
        NOT_A_PARTICIPANT
    );
    assert_eq!(
        t.err("bot", "removeChatParticipant", rm("bob")),
        NOT_A_PARTICIPANT
    );
    // Leaving is always possible, except for the owner.
    t.ok("carol", "removeChatParticipant", rm("carol"));
    assert_eq!(
        t.err("bot", "removeChatParticipant", rm("bot")),
        NOT_ENOUGH_RIGHTS
    );
    // An admin removes users but never the owner.
    let promote = json!({"chatId": chat, "userId": T::id("alice"), "role": "admin"});
    t.ok("bot", "changeParticipantRole", promote);
    t.ok(
        "bot",
        "addChatParticipant",
        json!({"chatId": chat, "userId": T::id("dave")}),
    );
    t.ok("alice", "removeChatParticipant", rm("dave"));
    assert_eq!(
        t.err("alice", "removeChatParticipant", rm("bot")),
        NOT_ENOUGH_RIGHTS
    );
    // No removals in a p2p chat.
    let p = s(
        &t.ok("bot", "createP2PChat", json!({"userId": T::id("bob")})),
        "/chatId",
    );
    let e = t.err(
        "bot",
        "removeChatParticipant",
        json!({"chatId": p, "userId": T::id("bob")}),
    );
    assert_eq!(e, NOT_ENOUGH_RIGHTS);
}

#[test]
fn has_and_get_participant() {
    let mut t = T::new();
    let chat = t.group("bot", &["alice"]);
    let has = |who: &str| json!({"chatId": chat, "userId": T::id(who)});
    assert_eq!(
        t.ok("alice", "hasChatParticipant", has("bot")),
        json!({"result": true})
    );
    assert_eq!(
        t.ok("alice", "hasChatParticipant", has("bob")),
        json!({"result": false})
    );
    assert_eq!(
        t.err("bob", "hasChatParticipant", has("bot")),
        NOT_A_PARTICIPANT
    );
    let r = t.ok("alice", "getChatParticipant", has("alice"));
    assert_eq!(
        r,
        json!({"userId": T::id("alice"), "role": "user", "type": 1})
    );
    assert_eq!(
        t.err("alice", "getChatParticipant", has("bob")),
        NOT_A_PARTICIPANT
    );
    let nochat = json!({"chatId": "nope", "userId": T::id("bot")});
    assert_eq!(t.err("alice", "getChatParticipant", nochat), CHAT_NOT_FOUND);
}

#[test]
fn participants_page_from_one() {
    let mut t = T::new();
    let chat = t.group("bot", &["alice", "bob", "carol", "dave"]);
    let page = |t: &mut T, n: u64| -> Vec<String> {
        let r = t.ok(
            "alice",
            "getChatParticipants",
            json!({"chatId": chat, "pageSize": 2, "pageNumber": n}),
        );
        r["participants"]
            .as_array()
            .expect("participants")
            .iter()
            .map(|p| s(p, "/userId"))
            .collect()
    };
    assert_eq!(page(&mut t, 1), vec![T::id("bot"), T::id("alice")]);
    assert_eq!(page(&mut t, 2), vec![T::id("bob"), T::id("carol")]);
    assert_eq!(page(&mut t, 3), vec![T::id("dave")]);
    assert!(page(&mut t, 4).is_empty());
    assert_eq!(page(&mut t, 0), page(&mut t, 1));
    let r = t.ok(
        "alice",
        "getChatParticipants",
        json!({"chatId": chat, "pageSize": 1, "pageNumber": 1}),
    );
    assert_eq!(
        r,
        json!({"participants": [{"userId": T::id("bot"), "role": "owner"}]})
    );
    let bad = json!({"chatId": chat, "pageSize": 2});
    assert_eq!(t.err("alice", "getChatParticipants", bad), WRONG_PAYLOAD);
}

#[test]
fn channel_roles_user_reads_writer_writes() {
    let mut t = T::new();
    let chat = t.channel("bot", &["alice", "bob"]);
    assert_eq!(role(&mut t, &chat, "alice"), "user");
    let post = json!({"chatId": chat, "content": {"text": "hi", "parseMode": "text"}});
    assert_eq!(
        t.err("alice", "sendMessage", post.clone()),
        NOT_ENOUGH_RIGHTS
    );
    let writer = json!({"chatId": chat, "userId": T::id("alice"), "role": "writer"});
    assert_eq!(t.ok("bot", "changeParticipantRole", writer), json!({}));
    let (method, p) = &t.events("alice")[0];
    assert_eq!(method, "changeParticipantRole");
    assert_eq!(p["role"], "writer");
    assert_eq!(
        (p["chatId"].as_str(), p["userId"].as_str()),
        (Some(chat.as_str()), Some(T::id("alice").as_str()))
    );
    assert!(p["timestamp"].as_u64().is_some());
    let env = &t.events("bob")[1].1;
    assert_eq!(env["type"], 110);
    assert_eq!(
        env["content"],
        json!({"userId": T::id("alice"), "role": "writer"})
    );
    t.ok("alice", "sendMessage", post.clone());
    // A writer still cannot add people or change roles.
    let add = json!({"chatId": chat, "userId": T::id("carol")});
    assert_eq!(
        t.err("alice", "addChatParticipant", add.clone()),
        NOT_ENOUGH_RIGHTS
    );
    let back = json!({"chatId": chat, "userId": T::id("bob"), "role": "writer"});
    assert_eq!(
        t.err("alice", "changeParticipantRole", back),
        NOT_ENOUGH_RIGHTS
    );
    // An admin may add.
    let admin = json!({"chatId": chat, "userId": T::id("bob"), "role": "admin"});
    t.ok("bot", "changeParticipantRole", admin);
    t.ok("bob", "addChatParticipant", add);
    t.ok("bob", "sendMessage", post);
}

#[test]
fn role_changes_validate_names_and_ownership() {
    let mut t = T::new();
    let chat = t.group("bot", &["alice", "bob"]);
    let set = |who: &str, r: &str| json!({"chatId": chat, "userId": T::id(who), "role": r});
    assert_eq!(
        t.err("bot", "changeParticipantRole", set("alice", "boss")),
        ROLE_NOT_FOUND
    );
    assert_eq!(
        t.err("bot", "changeParticipantRole", set("alice", "writer")),
        ROLE_NOT_FOUND
    );
    assert_eq!(
        t.err("bot", "changeParticipantRole", set("alice", "conf_owner")),
        ROLE_NOT_FOUND
    );
    assert_eq!(
        t.err("alice", "changeParticipantRole", set("bob", "admin")),
        NOT_ENOUGH_RIGHTS
    );
    assert_eq!(
        t.err("bot", "changeParticipantRole", set("carol", "admin")),
        NOT_A_PARTICIPANT
    );
    t.ok("bot", "changeParticipantRole", set("alice", "admin"));
    // An admin changes roles but not the owner's, and cannot hand out ownership.
    t.ok("alice", "changeParticipantRole", set("bob", "admin"));
    assert_eq!(
        t.err("alice", "changeParticipantRole", set("bot", "user")),
        NOT_ENOUGH_RIGHTS
    );
    assert_eq!(
        t.err("alice", "changeParticipantRole", set("bob", "owner")),
        NOT_ENOUGH_RIGHTS
    );
    // The owner hands over ownership and becomes an admin.
    t.ok("bot", "changeParticipantRole", set("bob", "owner"));
    let roles: Vec<_> = t
        .events("alice")
        .iter()
        .filter(|e| e.0 == "changeParticipantRole")
        .map(|e| e.1["role"].clone())
        .collect();
    assert_eq!(roles, vec![json!("owner"), json!("admin")]);
    assert_eq!(role(&mut t, &chat, "bob"), "owner");
    assert_eq!(role(&mut t, &chat, "bot"), "admin");
    // Setting the same role again changes nothing.
    t.ok("bob", "changeParticipantRole", set("alice", "admin"));
    assert!(t.out.is_empty());
}
