//! Events: the spec's examples, field variants, and garbage.

use super::*;
use crate::protocol::{
    AuthorType, ChatType, Content, EnvelopeAuthor, ParseMode, ParticipantRole, TextContent,
};
use serde_json::json;

fn decode(method: &str, payload: Value) -> Event {
    let raw = RawValue::from_string(payload.to_string()).unwrap();
    decode_event(method, Some(&raw))
}

/// Decodes, then checks the event writes back under the same method and
/// decodes again to the same event (what the emulator relies on).
fn decode_round_trip(method: &str, payload: Value) -> Event {
    let event = decode(method, payload);
    let (wire_method, wire_payload) = event.to_wire().unwrap();
    assert_eq!(decode(&wire_method, wire_payload), event, "{method}");
    event
}

fn last_message(author_type: u32, type_code: u32, content: Value) -> Value {
    json!({
        "chatId": "08d5dbda94a9de4b7554e3b4355307f9e97ffdb7",
        "messageId": "cccea4a7-24b4-4b2c-8c50-67d01bce17bf",
        "timestamp": 1746029638147u64,
        "author": {"id": "user@video.example.com", "type": author_type},
        "type": type_code,
        "content": content
    })
}

#[test]
fn spec_10_1_personal_chat_created() {
    let payload = json!({
        "chatId": "bd05af54347e04a1c44e70033d35834d4428bb5d",
        "title": "brown@video.example.com",
        "chatType": 1,
        "lastMessage": {
            "chatId": "bd05af54347e04a1c44e70033d35834d4428bb5d",
            "messageId": "d8bdd362-2656-46ff-a1db-8dadd2b76250",
            "timestamp": 1746028006345u64,
            "author": {"id": "brown@video.example.com", "type": 1},
            "type": 200,
            "content": {"text": "What's up?", "parseMode": "text"}
        },
        "unreadMessages": 1
    });
    let Event::ChatCreated(created) = decode_round_trip("createP2PChat", payload) else {
        panic!("not a chat")
    };
    assert_eq!(created.kind, ChatKind::P2p);
    assert_eq!(created.chat.chat_type, ChatType::P2p);
    assert_eq!(created.chat.unread_messages, 1);
    let last = created.chat.last_message.unwrap();
    assert_eq!(last.text(), Some("What's up?"));
}

#[test]
fn spec_10_2_and_10_3_group_and_channel_created() {
    let role = json!({"userId": "bot@video.example.com", "role": "user"});
    for (method, chat_type, kind) in [
        ("createGroupChat", 2, ChatKind::Group),
        ("createChannel", 6, ChatKind::Channel),
    ] {
        let payload = json!({
            "chatId": "08d5dbda94a9de4b7554e3b4355307f9e97ffdb7",
            "title": "Marketing",
            "chatType": chat_type,
            "lastMessage": last_message(0, 110, role.clone()),
            "unreadMessages": 2
        });
        let Event::ChatCreated(created) = decode_round_trip(method, payload) else {
            panic!("{method}")
        };
        assert_eq!(created.kind, kind);
        let last = created.chat.last_message.unwrap();
        assert_eq!(last.author.author_type, AuthorType::System);
        assert!(matches!(
            last.content,
            Content::RoleChanged(ref r) if r.role == ParticipantRole::User
        ));
    }
}

#[test]
fn favorites_chat_created_with_null_last_message() {
    let payload = json!({
        "chatId": "fav", "title": null, "chatType": 5,
        "lastMessage": null, "unreadMessages": 0
    });
    let event = decode_round_trip("createFavoritesChat", payload);
    let Event::ChatCreated(created) = &event else {
        panic!("{event:?}")
    };
    assert_eq!(created.kind, ChatKind::Favorites);
    assert!(created.chat.last_message.is_none());
    let line = event.to_json();
    assert_eq!(line["event"], "chat_created");
    assert_eq!(line["chatKind"], "favorites");
    assert_eq!(line["chatId"], "fav");
}

#[test]
fn spec_10_4_participant_added_with_string_timestamp() {
    let event = decode_round_trip(
        "addChatParticipant",
        json!({
            "chatId": "c8c3eee8-9ad0-4638-9692-ad16391a4256",
            "userId": "user@video.example.com",
            "addedBy": {"id": "admin@video.example.com", "type": 1},
            "timestamp": "1735370776"
        }),
    );
    assert_eq!(
        event,
        Event::ParticipantAdded(ParticipantAdded {
            chat_id: "c8c3eee8-9ad0-4638-9692-ad16391a4256".into(),
            user_id: "user@video.example.com".into(),
            added_by: Some(EnvelopeAuthor::user("admin@video.example.com")),
            timestamp: 1735370776,
        })
    );
}

#[test]
fn spec_10_5_participant_removed() {
    let Event::ParticipantRemoved(removed) = decode_round_trip(
        "removeChatParticipant",
        json!({
            "chatId": "c8c3eee8-9ad0-4638-9692-ad16391a4256",
            "userId": "user@video.example.com",
            "removedBy": {"id": "admin@video.example.com", "type": 1},
            "timestamp": "1735370778"
        }),
    ) else {
        panic!("not a removal")
    };
    assert_eq!(removed.timestamp, 1735370778);
    assert_eq!(removed.removed_by.unwrap().id, "admin@video.example.com");
    // Spec 11.2.48's table calls it addedBy.
    let Event::ParticipantRemoved(removed) = decode(
        "removeChatParticipant",
        json!({"chatId": "c", "userId": "u", "addedBy": {"id": "a", "type": 0}, "timestamp": 1}),
    ) else {
        panic!("addedBy not accepted")
    };
    assert_eq!(removed.removed_by, Some(EnvelopeAuthor::system("a")));
}

#[test]
fn spec_10_6_new_text_message() {
    let Event::NewMessage(message) = decode_round_trip(
        "sendMessage",
        json!({
            "chatId": "bd05af54347e04a1c44e70033d35834d4428bb5d",
            "messageId": "d66254de-9d89-4130-8027-c5378f042800",
            "timestamp": 1746029007569u64,
            "author": {"id": "brown@video.example.com", "type": 1},
            "isEdited": false,
            "box": {"id": 4, "position": "0"},
            "type": 200,
            "content": {"text": "Text", "parseMode": "html"}
        }),
    ) else {
        panic!("not a message")
    };
    assert_eq!(message.chat_id, "bd05af54347e04a1c44e70033d35834d4428bb5d");
    assert_eq!(
        message.content,
        Content::Text(TextContent::new("Text", ParseMode::Html))
    );
}

#[test]
fn spec_10_7_new_file_with_legacy_type_two() {
    let Event::NewMessage(message) = decode_round_trip(
        "sendMessage",
        json!({
            "chatId": "bea15543d971a83c8ba1f103104791762c6b4b8f",
            "messageId": "c8c3eee8-9ad0-4638-9692-ad16391a4256",
            "timestamp": 1735302531000u64,
            "author": {"id": "user@video.example.com", "type": 1},
            "isEdited": false,
            "box": {"id": 10, "position": ""},
            "type": 2,
            "content": {
                "name": "someimage.png",
                "mimeType": "image/png",
                "size": 2156,
                "fileId": "e09dbd63a16bd8cd7bddda7193c1c4ff0d2f6de5"
            }
        }),
    ) else {
        panic!("not a message")
    };
    let Content::Attachment(file) = &message.content else {
        panic!("{:?}", message.content)
    };
    assert_eq!((file.name.as_str(), file.size), ("someimage.png", 2156));
    assert_eq!(file.file_id, "e09dbd63a16bd8cd7bddda7193c1c4ff0d2f6de5");
}

#[test]
fn spec_10_8_new_survey() {
    let Event::NewMessage(message) = decode_round_trip(
        "sendMessage",
        json!({
            "chatId": "bd05af54347e04a1c44e70033d35834d4428bb5d",
            "messageId": "d66254de-9d89-4130-8027-c5378f042800",
            "timestamp": 1746029007569u64,
            "author": {"id": "brown@video.example.com", "type": 1},
            "isEdited": false,
            "box": {"id": 4, "position": "0"},
            "type": 204,
            "content": {
                "url": "<tool_url>?id=...&k=...&mode=popup",
                "appVersion": 1,
                "path": "some_survey",
                "title": "Meeting survey",
                "description": "{{Survey}}",
                "buttonText": "{{Go to survey}}",
                "secret": "054c1cf18f1e64f4c38b256effedfe18debdcbba",
                "alt": "📊 <a href='https://server.url/webtools/survey?id=some_survey&error=autologin_not_supported'>Meeting survey</a>"
            }
        }),
    ) else {
        panic!("not a message")
    };
    assert!(matches!(message.content, Content::Survey(ref s) if s.path == "some_survey"));
}

#[test]
fn spec_10_9_message_edited() {
    let event = decode_round_trip(
        "editMessage",
        json!({
            "messageId": "d4d20b4f-e4a4-4abc-8e66-ff2e17f483b7",
            "timestamp": 1746029430000u64,
            "content": {"text": "🤝", "parseMode": "text"}
        }),
    );
    assert_eq!(
        event,
        Event::MessageEdited(MessageEdited {
            message_id: "d4d20b4f-e4a4-4abc-8e66-ff2e17f483b7".into(),
            chat_id: None,
            timestamp: 1746029430000,
            content: Content::Text(TextContent::new("🤝", ParseMode::Text)),
        })
    );
    // The SDK's shape: chatId, no messageId; nested chat also read.
    let Event::MessageEdited(edited) = decode(
        "editMessage",
        json!({"chat": {"chatId": "c"}, "timestamp": "5", "content": {"text": "x", "parseMode": "html"}}),
    ) else {
        panic!("sdk shape")
    };
    assert_eq!(
        (edited.chat_id.as_deref(), edited.message_id.as_str()),
        (Some("c"), "")
    );
}

#[test]
fn spec_10_10_message_removed() {
    let event = decode_round_trip(
        "removeMessage",
        json!({
            "chatId": "bd05af54347e04a1c44e70033d35834d4428bb5d",
            "messageId": "d4d20b4f-e4a4-4abc-8e66-ff2e17f483b7",
            "removedBy": {"id": "brown@video.example.com", "type": 1}
        }),
    );
    let Event::MessageRemoved(removed) = &event else {
        panic!("{event:?}")
    };
    assert_eq!(
        removed.removed_by,
        Some(EnvelopeAuthor::user("brown@video.example.com"))
    );
    let line = event.to_json();
    assert_eq!(line["event"], "message_removed");
    assert_eq!(line["removedBy"]["id"], "brown@video.example.com");
}

#[test]
fn upload_progress_under_both_method_names() {
    let payload = json!({"fileId": "e09dbd63a16bd8cd7bddda7193c1c4ff0d2f6de5", "progress": 123});
    let spec = decode("uploadingProgress", payload.clone());
    let field = decode_round_trip("uploadFileProgress", payload);
    assert_eq!(spec, field);
    assert!(matches!(spec, Event::UploadProgress(ref p) if p.progress == 123));
    assert_eq!(spec.to_wire().unwrap().0, "uploadFileProgress");
}

#[test]
fn field_events_from_the_sdk() {
    let Event::HistoryCleared(cleared) =
        decode_round_trip("clearHistory", json!({"chatId": "c", "forAll": "true"}))
    else {
        panic!("clearHistory")
    };
    assert!(cleared.for_all);
    let role = decode_round_trip(
        "changeParticipantRole",
        json!({"chatId": "c", "userId": "u", "role": "writer", "timestamp": 7}),
    );
    assert!(
        matches!(role, Event::ParticipantRoleChanged(ref r) if r.role == ParticipantRole::Writer)
    );
    let title = decode_round_trip("editChatTitle", json!({"chatId": "c", "title": "New"}));
    assert!(matches!(title, Event::ChatTitleChanged(ref t) if t.title == "New"));
    let avatar = decode_round_trip(
        "editChatAvatar",
        json!({"chatId": "c", "avatarUrl": "https://srv/avatar.png"}),
    );
    assert_eq!(avatar.kind(), "chat_avatar_changed");
    let removed = decode_round_trip("removeChat", json!({"chatId": "c"}));
    assert_eq!(
        removed,
        Event::ChatRemoved(ChatRemoved {
            chat_id: "c".into()
        })
    );
    let limits = decode_round_trip(
        "getFileUploadLimits",
        json!({"maxSize": 1000, "extensions": {"mode": "allow", "list": ["png"]}}),
    );
    assert!(matches!(limits, Event::UploadLimits(ref l) if l.max_size == Some(1000)));
}

#[test]
fn button_command() {
    let event = decode_round_trip(
        "command",
        json!({
            "commandId": "command-1",
            "commandSource": {
                "type": "inlineKeyboard",
                "buttonId": "button-1",
                "message": {
                    "chat": {"chatId": "c", "chatTitle": "Shop", "chatType": 2},
                    "messageId": "m", "timestamp": 1,
                    "author": {"id": "bot@srv", "type": 1},
                    "type": 200, "content": {"text": "Pick", "parseMode": "text"}
                }
            },
            "commandPayload": {"type": "userCommand", "command": "add_to_cart", "customData": "item:42"}
        }),
    );
    let Event::Command(command) = &event else {
        panic!("{event:?}")
    };
    assert_eq!(command.command_payload.command, "add_to_cart");
    assert_eq!(
        command.command_payload.custom_data.as_deref(),
        Some("item:42")
    );
    let message = command.command_source.message.as_ref().unwrap();
    assert_eq!(
        (message.chat_id.as_str(), message.chat_title.as_deref()),
        ("c", Some("Shop"))
    );
    assert_eq!(event.to_json()["commandPayload"]["command"], "add_to_cart");
    // Without commandId (server 5.5.6) and message.
    let bare = decode(
        "command",
        json!({"commandSource": {"type": "inlineKeyboard"}, "commandPayload": {"type": "userCommand", "command": "x"}}),
    );
    assert!(matches!(bare, Event::Command(ref c) if c.command_id.is_none()));
}

#[test]
fn unknown_fields_and_values_are_kept_or_ignored() {
    let Event::NewMessage(message) = decode_round_trip(
        "sendMessage",
        json!({
            "chat": {"chatId": "c", "chatType": 42},
            "messageId": "m", "timestamp": "17",
            "author": {"id": "a", "type": 9},
            "box": {"id": "3", "position": "B"},
            "type": 777,
            "content": {"sticker": "🐱"},
            "futureField": [1, 2, 3]
        }),
    ) else {
        panic!("not a message")
    };
    assert_eq!(message.chat_type, Some(ChatType::Unknown(42)));
    assert_eq!(message.author.author_type, AuthorType::Unknown(9));
    assert_eq!(
        message.content,
        Content::Unknown {
            type_code: 777,
            raw: json!({"sticker": "🐱"})
        }
    );
    let wire = Event::NewMessage(message).to_wire().unwrap().1;
    assert_eq!(
        (wire["type"].clone(), wire["author"]["type"].clone()),
        (json!(777), json!(9))
    );
}

#[test]
fn garbage_falls_back_to_raw() {
    let cases = [
        ("sendMessage", Some(json!({"messageId": 5}))),
        ("sendMessage", Some(json!([1, 2]))),
        ("uploadFileProgress", Some(json!(["f", 5]))),
        ("addChatParticipant", Some(json!({"chatId": "c"}))),
        ("removeMessage", Some(json!("text"))),
        ("createGroupChat", Some(json!({"title": "no id"}))),
        ("editMessage", Some(json!({"timestamp": "soon"}))),
        ("somethingNew", Some(json!({"a": 1}))),
        ("sendMessage", None),
    ];
    for (method, payload) in cases {
        let event = match &payload {
            Some(p) => decode(method, p.clone()),
            None => decode_event(method, None),
        };
        let expected = Event::Raw {
            method: method.to_string(),
            payload: payload.clone().unwrap_or(Value::Null),
        };
        assert_eq!(event, expected, "{method} {payload:?}");
        let Event::Raw { payload: kept, .. } = &expected else {
            unreachable!()
        };
        assert_eq!(event.to_wire(), Some((method.to_string(), kept.clone())));
        let line = event.to_json();
        assert_eq!(
            (line["event"].clone(), line["method"].clone()),
            (json!("raw"), json!(method))
        );
    }
}

#[test]
fn lifecycle_events_are_not_wire_events() {
    let down = Event::Disconnected {
        reason: "connection reset".into(),
    };
    assert_eq!(down.to_wire(), None);
    assert_eq!(
        down.to_json(),
        json!({"event": "disconnected", "reason": "connection reset"})
    );
    assert_eq!(
        Event::Reconnected.to_json(),
        json!({"event": "reconnected"})
    );
    assert_eq!(Event::Reconnected.kind(), "reconnected");
}

#[test]
fn every_kind_is_distinct_snake_case() {
    let events = [
        decode(
            "sendMessage",
            json!({"messageId": "m", "timestamp": 1, "author": {"id": "a", "type": 1}}),
        ),
        decode(
            "editMessage",
            json!({"timestamp": 1, "content": {"text": "t"}}),
        ),
        decode("removeMessage", json!({"chatId": "c", "messageId": "m"})),
        decode("createChannel", json!({"chatId": "c"})),
        decode("removeChat", json!({"chatId": "c"})),
        decode(
            "addChatParticipant",
            json!({"chatId": "c", "userId": "u", "timestamp": 1}),
        ),
        decode(
            "removeChatParticipant",
            json!({"chatId": "c", "userId": "u", "timestamp": 1}),
        ),
        decode(
            "changeParticipantRole",
            json!({"chatId": "c", "userId": "u", "role": "user", "timestamp": 1}),
        ),
        decode("clearHistory", json!({"chatId": "c"})),
        decode("editChatTitle", json!({"chatId": "c", "title": "t"})),
        decode("editChatAvatar", json!({"chatId": "c"})),
        decode("getFileUploadLimits", json!({})),
        decode("uploadFileProgress", json!({"fileId": "f", "progress": 1})),
        decode(
            "command",
            json!({"commandSource": {}, "commandPayload": {"command": "c"}}),
        ),
        decode("mystery", json!({})),
        decode_event_text("sendMessage", Some("{\"text\":\"a\nb\"}")),
        Event::Disconnected {
            reason: String::new(),
        },
        Event::Reconnected,
    ];
    let mut kinds: Vec<_> = events.iter().map(Event::kind).collect();
    assert_eq!(
        events.iter().filter(|e| e.kind() == "raw").count(),
        1,
        "{events:#?}"
    );
    kinds.sort_unstable();
    kinds.dedup();
    assert_eq!(kinds.len(), events.len());
    assert!(kinds
        .iter()
        .all(|k| k.chars().all(|c| c.is_ascii_lowercase() || c == '_')));
}

/// Forwarded content nests envelopes; nesting is bounded by serde_json's
/// recursion limit (128), and the deepest accepted nesting decodes within a
/// 1 MiB stack even unoptimised.
fn decode_nested_forwards(depth: usize) -> &'static str {
    let mut payload = json!({"text": "bottom", "parseMode": "text"});
    let mut type_code = 200;
    for i in 0..depth {
        payload = json!({
            "chatId": "c", "messageId": format!("m{i}"), "timestamp": 1,
            "author": {"id": "a", "type": 1}, "type": type_code, "content": payload
        });
        type_code = 201;
    }
    let raw = RawValue::from_string(payload.to_string()).unwrap();
    std::thread::Builder::new()
        .stack_size(1024 * 1024)
        .spawn(move || decode_event("sendMessage", Some(&raw)).kind())
        .unwrap()
        .join()
        .unwrap()
}

#[test]
fn deeply_nested_forwards_do_not_overflow() {
    assert_eq!(decode_nested_forwards(126), "new_message");
    // Too deep for a JSON value too: kept as text.
    assert_eq!(decode_nested_forwards(300), "unreadable");
}

#[test]
fn nulls_and_nested_chats_where_the_spec_has_values_still_type_the_event() {
    let removed = decode(
        "removeMessage",
        json!({"chat": {"chatId": "c", "chatType": 2}, "messageId": "m",
               "removedBy": {"id": "u", "type": null}}),
    );
    let Event::MessageRemoved(removed) = removed else {
        panic!("{removed:?}")
    };
    assert_eq!((removed.chat_id.as_str(), removed.removed_by), ("c", None));
    // Without any chat it cannot be typed: it stays raw, not dropped.
    let chatless = decode("removeMessage", json!({"messageId": "m"}));
    assert_eq!(chatless.kind(), "raw");

    let edited = decode(
        "editMessage",
        json!({"chatId": "c", "messageId": "m", "timestamp": null,
               "content": {"text": "x", "parseMode": "text"}}),
    );
    assert!(
        matches!(edited, Event::MessageEdited(ref e) if e.timestamp == 0),
        "{edited:?}"
    );

    for method in ["addChatParticipant", "removeChatParticipant"] {
        let event = decode(
            method,
            json!({"chatId": "c", "userId": "u", "timestamp": null,
                   "addedBy": {"id": "a", "type": null}}),
        );
        let (user, timestamp, by) = match &event {
            Event::ParticipantAdded(p) => (&p.user_id, p.timestamp, &p.added_by),
            Event::ParticipantRemoved(p) => (&p.user_id, p.timestamp, &p.removed_by),
            other => panic!("{method}: {other:?}"),
        };
        assert_eq!((user.as_str(), timestamp, by), ("u", 0, &None), "{method}");
    }

    let role = decode(
        "changeParticipantRole",
        json!({"chatId": "c", "userId": "u", "role": "1", "timestamp": null}),
    );
    assert!(
        matches!(role, Event::ParticipantRoleChanged(ref r) if r.role == ParticipantRole::Admin),
        "{role:?}"
    );

    let command = decode(
        "command",
        json!({"commandSource": {"type": null},
               "commandPayload": {"type": null, "command": "/x"}}),
    );
    let Event::Command(command) = command else {
        panic!("{command:?}")
    };
    assert_eq!(
        (
            command.command_source.source_type.as_str(),
            command.command_payload.command.as_str()
        ),
        ("", "/x")
    );
}

#[test]
fn avatar_urls_hide_their_tokens_in_debug() {
    let url = "https://h/avatar?id=1&token=av-secret";
    let event = decode("editChatAvatar", json!({"chatId": "c", "avatarUrl": url}));
    let chat: crate::protocol::Chat =
        serde_json::from_value(json!({"chatId": "c", "avatarUrl": url})).unwrap();
    let content = Content::from_wire(22, json!({"avatarUrl": url}));
    for shown in [
        format!("{event:?}"),
        format!("{chat:?}"),
        format!("{content:?}"),
    ] {
        assert!(!shown.contains("av-secret"), "{shown}");
        assert!(shown.contains("id=1&token=***"), "{shown}");
    }
}
