//! Every typed method through a real socket: the exact frame the client
//! sends, the parse of the documented response, and its error response.

mod support;

use serde_json::{json, Value};
use std::sync::mpsc;
use std::time::Duration;
use support::peer::{script, Script};
use trueconf_bot::protocol::{ChatActivity, EditSurveyContent, ParticipantRole, SurveyContent};
use trueconf_bot::{ApiErrorCode, Client, Error};

/// One exchange: the payload the client must send for `method`, and the
/// payload the scripted server answers with.
struct Exchange {
    method: &'static str,
    sent: Value,
    answer: Value,
}

fn ex(method: &'static str, sent: Value, answer: Value) -> Exchange {
    Exchange {
        method,
        sent,
        answer,
    }
}

/// Serves the exchanges in order, then answers one more request of each
/// with an error code; reports each received frame to the test.
fn serve(exchanges: Vec<Exchange>) -> (Client, Script, mpsc::Receiver<Value>) {
    let (tx, rx) = mpsc::channel();
    let server = Script::serve(vec![script(move |peer| {
        peer.accept_auth("bot@srv");
        for e in exchanges {
            let req = peer.recv();
            assert_eq!(req["type"], 1);
            assert_eq!(req["method"], e.method, "{req}");
            assert_eq!(req["payload"], e.sent, "payload of {}", e.method);
            tx.send(req.clone()).unwrap();
            peer.reply(&req, e.answer);
        }
        loop {
            match peer.recv_message() {
                tungstenite::Message::Text(t) => {
                    let req: Value = serde_json::from_str(t.as_str()).unwrap();
                    let _ = tx.send(req.clone());
                    peer.reply(&req, json!({"errorCode": 303}));
                }
                _ => return,
            }
        }
    })]);
    let client = server
        .client()
        .request_timeout(Duration::from_secs(5))
        .connect()
        .unwrap();
    (client, server, rx)
}

const CHAT: &str = "4a1f88f1070d2f43d385cde9ff61964bc6b74477";
const MSG: &str = "8fe61d87-6db0-4792-8f5e-e5960c7d5a06";
const USER: &str = "user@video.example.com";

#[test]
fn chat_methods() {
    let chat_payload = json!({
        "chatId": CHAT, "title": "Admins", "chatType": 2, "unreadMessages": 0,
        "lastMessage": {"messageId": MSG, "timestamp": 1746028006345u64,
            "author": {"id": USER, "type": 1}, "type": 200,
            "content": {"text": "What's up?", "parseMode": "html"}}
    });
    let (c, server, _rx) = serve(vec![
        ex(
            "createP2PChat",
            json!({"userId": USER}),
            json!({"chatId": CHAT}),
        ),
        ex(
            "createGroupChat",
            json!({"title": "Admins"}),
            json!({"chatId": CHAT}),
        ),
        ex(
            "createChannel",
            json!({"title": "News"}),
            json!({"chatId": CHAT}),
        ),
        ex("createFavoritesChat", json!({}), json!({"chatId": CHAT})),
        ex("getChatByID", json!({"chatId": CHAT}), chat_payload.clone()),
        ex(
            "getChats",
            json!({"count": 10, "page": 1}),
            json!([chat_payload]),
        ),
        ex(
            "removeChat",
            json!({"chatId": CHAT}),
            json!({"chatId": CHAT}),
        ),
        ex(
            "clearHistory",
            json!({"chatId": CHAT, "forAll": true}),
            json!({}),
        ),
        ex(
            "editChatTitle",
            json!({"chatId": CHAT, "title": "T2"}),
            json!({"chatId": CHAT}),
        ),
        ex(
            "editChatAvatar",
            json!({"chatId": CHAT, "temporalFileId": "tf"}),
            json!({}),
        ),
    ]);
    assert_eq!(c.create_p2p_chat(USER).unwrap().chat_id, CHAT);
    assert_eq!(c.create_group_chat("Admins").unwrap().chat_id, CHAT);
    assert_eq!(c.create_channel("News").unwrap().chat_id, CHAT);
    assert_eq!(c.create_favorites_chat().unwrap().chat_id, CHAT);
    let chat = c.get_chat_by_id(CHAT).unwrap();
    assert_eq!((chat.title.as_str(), chat.unread_messages), ("Admins", 0));
    assert!(chat.last_message.is_some());
    let chats = c.get_chats(10, 1).unwrap();
    assert_eq!(chats.chats.len(), 1);
    assert_eq!(c.remove_chat(CHAT).unwrap().chat_id.as_deref(), Some(CHAT));
    c.clear_history(CHAT, true).unwrap();
    c.edit_chat_title(CHAT, "T2").unwrap();
    c.edit_chat_avatar(CHAT, "tf").unwrap();
    expect_303(c.get_chat_by_id(CHAT), "getChatByID");
    c.close();
    server.finish();
}

#[test]
fn participant_methods() {
    let (c, server, _rx) = serve(vec![
        ex(
            "addChatParticipant",
            json!({"chatId": CHAT, "userId": USER}),
            json!({}),
        ),
        ex(
            "removeChatParticipant",
            json!({"chatId": CHAT, "userId": USER}),
            json!({}),
        ),
        ex(
            "hasChatParticipant",
            json!({"chatId": CHAT, "userId": USER}),
            json!({"result": true}),
        ),
        ex(
            "getChatParticipant",
            json!({"chatId": CHAT, "userId": USER}),
            json!({"userId": USER, "role": "admin"}),
        ),
        ex(
            "getChatParticipants",
            json!({"chatId": CHAT, "pageSize": 100, "pageNumber": 1}),
            json!({"participants": [{"userId": USER, "role": "user"}, {"userId": "admin@video.example.com", "role": "admin"}]}),
        ),
        ex(
            "changeParticipantRole",
            json!({"chatId": CHAT, "userId": USER, "role": "admin"}),
            json!({}),
        ),
    ]);
    c.add_chat_participant(CHAT, USER).unwrap();
    c.remove_chat_participant(CHAT, USER).unwrap();
    assert!(c.has_chat_participant(CHAT, USER).unwrap().result);
    assert_eq!(
        c.get_chat_participant(CHAT, USER).unwrap().role,
        ParticipantRole::Admin
    );
    let list = c.get_chat_participants(CHAT, 100, 1).unwrap();
    assert_eq!(list.participants.len(), 2);
    assert_eq!(list.participants[0].role, ParticipantRole::User);
    c.change_participant_role(CHAT, USER, ParticipantRole::Admin)
        .unwrap();
    expect_303(c.add_chat_participant(CHAT, USER), "addChatParticipant");
    c.close();
    server.finish();
}

#[test]
fn message_methods() {
    let envelope = json!({
        "chatId": CHAT, "messageId": MSG, "timestamp": 1234567890,
        "author": {"id": USER, "type": 1}, "replyMessageId": null, "isEdited": true,
        "box": {"id": 123456, "position": "0"}, "type": 200,
        "content": {"text": "Hello, chat bot!", "parseMode": "html"}
    });
    let sent = json!({"chatId": CHAT, "messageId": MSG, "timestamp": 1735314170572u64});
    let (c, server, _rx) = serve(vec![
        ex(
            "sendMessage",
            json!({"chatId": CHAT, "replyMessageId": null, "content": {"text": "Hello, world!", "parseMode": "text"}}),
            sent.clone(),
        ),
        ex(
            "editMessage",
            json!({"messageId": MSG, "content": {"text": "Hello, world (edited)!", "parseMode": "text"}}),
            json!({"messageId": MSG, "timestamp": 1735314170572u64}),
        ),
        ex(
            "forwardMessage",
            json!({"chatId": CHAT, "messageId": MSG}),
            sent.clone(),
        ),
        ex(
            "getMessageById",
            json!({"messageId": MSG}),
            envelope.clone(),
        ),
        ex(
            "getChatHistory",
            json!({"chatId": CHAT, "count": 9999, "fromMessageId": null}),
            json!({"chatId": CHAT, "count": 1, "messages": [envelope]}),
        ),
        ex(
            "removeMessage",
            json!({"messageId": MSG, "forAll": true}),
            json!({}),
        ),
        ex(
            "sendChatActivity",
            json!({"chatId": CHAT, "activityType": "typing"}),
            json!({}),
        ),
        ex(
            "getUserDisplayName",
            json!({"userId": USER}),
            json!({"displayName": "Abe Chester"}),
        ),
    ]);
    let m = c.send_message(CHAT, "Hello, world!").unwrap();
    assert_eq!((m.message_id.as_str(), m.timestamp), (MSG, 1735314170572));
    assert_eq!(
        c.edit_message(MSG, "Hello, world (edited)!")
            .unwrap()
            .timestamp,
        1735314170572
    );
    c.forward_message(CHAT, MSG).unwrap();
    let e = c.get_message_by_id(MSG).unwrap();
    assert_eq!((e.message_id.as_str(), e.is_edited), (MSG, true));
    let h = c.get_chat_history(CHAT, 9999).unwrap();
    assert_eq!(h.messages.len(), 1);
    c.remove_message(MSG, true).unwrap();
    c.send_chat_activity(CHAT, ChatActivity::Typing).unwrap();
    assert_eq!(
        c.get_user_display_name(USER).unwrap().display_name,
        "Abe Chester"
    );
    expect_303(c.send_message(CHAT, "x"), "sendMessage");
    c.close();
    server.finish();
}

#[test]
fn survey_methods() {
    let survey =
        SurveyContent::build_with_salt("video.example.com", "poll_1", "Lunch?", true, "salt");
    let edited = EditSurveyContent::build("video.example.com", "poll_2", "Dinner?", false);
    let (c, server, _rx) = serve(vec![
        ex(
            "sendSurvey",
            json!({"chatId": CHAT, "replyMessageId": null, "content": {
                "url": "https://video.example.com/webtools/survey", "appVersion": 1,
                "path": "poll_1", "title": "Lunch?", "description": "{{Anonymous survey}}",
                "buttonText": "{{Go to survey}}", "secret": survey.secret,
                "alt": "📊 <a href='https://video.example.com/webtools/survey?id=poll_1&error=autologin_not_supported'>Lunch?</a>"
            }}),
            json!({"chatId": CHAT, "messageId": MSG, "timestamp": 1735314170572u64}),
        ),
        ex(
            "editSurvey",
            json!({"messageId": MSG, "content": {
                "path": "poll_2", "title": "Dinner?", "description": "{{Survey}}",
                "buttonText": "{{Go to survey}}",
                "alt": "📊 <a href='https://video.example.com/webtools/survey?id=poll_2&error=autologin_not_supported'>Dinner?</a>"
            }}),
            json!({"messageId": MSG, "timestamp": 1735314170999u64}),
        ),
    ]);
    let sent = c.send_survey(CHAT, survey.clone()).unwrap();
    assert_eq!(
        (sent.message_id.as_str(), sent.timestamp),
        (MSG, 1735314170572)
    );
    assert_eq!(c.edit_survey(MSG, edited).unwrap().timestamp, 1735314170999);
    expect_303(c.send_survey(CHAT, survey), "sendSurvey");
    c.close();
    server.finish();
}

#[test]
fn file_methods() {
    let info = json!({
        "name": "AirHelp_Logo.webp", "size": 3446, "mimeType": "image/webp",
        "downloadUrl": "https://10.111.15.116/bridge/api/client/v1/files?file_id=e09d",
        "readyState": 2, "previews": null, "infoHash": "e09d"
    });
    let (c, server, _rx) = serve(vec![
        ex(
            "uploadFile",
            json!({"fileSize": 1487}),
            json!({"uploadTaskId": "2e95"}),
        ),
        ex(
            "sendFile",
            json!({"chatId": CHAT, "content": {"temporalFileId": "3250"}}),
            json!({"chatId": CHAT, "timestamp": 1735134222098u64, "messageId": MSG, "fileId": "e09d"}),
        ),
        ex("getFileInfo", json!({"fileId": "e09d"}), info),
        ex("getFileUploadLimits", json!({}), json!({"maxSize": 1000})),
        ex(
            "subscribeFileProgress",
            json!({"fileId": "e09d"}),
            json!({"result": true}),
        ),
        ex(
            "unsubscribeFileProgress",
            json!({"fileId": "e09d"}),
            json!({"result": true}),
        ),
    ]);
    assert_eq!(c.create_upload_task(1487).unwrap().upload_task_id, "2e95");
    assert_eq!(
        c.send_uploaded_file(CHAT, "3250")
            .unwrap()
            .file_id
            .as_deref(),
        Some("e09d")
    );
    let f = c.get_file_info("e09d").unwrap();
    assert_eq!((f.name.as_str(), f.size), ("AirHelp_Logo.webp", 3446));
    assert_eq!(c.get_file_upload_limits().unwrap().max_size, Some(1000));
    assert!(c.subscribe_file_progress("e09d").unwrap().result);
    assert!(c.unsubscribe_file_progress("e09d").unwrap().result);
    expect_303(c.get_file_info("e09d"), "getFileInfo");
    c.close();
    server.finish();
}

#[test]
fn invalid_requests_are_rejected_before_sending() {
    let (c, server, rx) = serve(vec![]);
    let long = "ы".repeat(4097);
    assert!(matches!(c.send_message(CHAT, long), Err(Error::Invalid(_))));
    assert!(matches!(c.send_message("", "hi"), Err(Error::Invalid(_))));
    assert!(matches!(
        c.create_group_chat("t".repeat(257)),
        Err(Error::Invalid(_))
    ));
    c.close();
    server.finish();
    assert!(rx.try_recv().is_err(), "nothing may reach the server");
}

#[test]
fn paging_stops_when_the_server_ignores_the_page_number() {
    let chat = |id: &str| json!({"chatId": id, "title": id, "chatType": 2, "unreadMessages": 0, "lastMessage": null});
    let page = json!([chat("a"), chat("b")]);
    let (c, server, _rx) = serve(vec![
        ex("getChats", json!({"count": 2, "page": 1}), page.clone()),
        ex("getChats", json!({"count": 2, "page": 2}), page),
    ]);
    let ids: Vec<String> = c.chats(2).map(|r| r.unwrap().chat_id).collect();
    assert_eq!(
        ids,
        ["a", "b"],
        "page 2 repeated page 1: the walk ends there"
    );
    c.close();
    server.finish();
}

#[test]
fn history_walks_back_on_a_server_that_leaves_from_message_id_out() {
    // The guide's server starts each page with `fromMessageId` (the
    // emulator's tests cover it); this one starts below it.
    let (c, server, _rx) = serve(vec![
        ex(
            "getChatHistory",
            json!({"chatId": CHAT, "count": 1, "fromMessageId": null}),
            history_page(&["m3"]),
        ),
        ex(
            "getChatHistory",
            json!({"chatId": CHAT, "count": 2, "fromMessageId": "m3"}),
            history_page(&["m2", "m1"]),
        ),
        ex(
            "getChatHistory",
            json!({"chatId": CHAT, "count": 2, "fromMessageId": "m1"}),
            history_page(&[]),
        ),
    ]);
    let ids: Vec<String> = c.history(CHAT, 1).map(|r| r.unwrap().message_id).collect();
    assert_eq!(ids, ["m3", "m2", "m1"]);
    c.close();
    server.finish();
}

#[test]
fn history_stops_on_a_server_that_ignores_from_message_id() {
    // Every page is the newest one: the walk would go round for ever.
    let newest = || history_page(&["m2", "m1"]);
    let (c, server, _rx) = serve(vec![
        ex(
            "getChatHistory",
            json!({"chatId": CHAT, "count": 2, "fromMessageId": null}),
            newest(),
        ),
        ex(
            "getChatHistory",
            json!({"chatId": CHAT, "count": 3, "fromMessageId": "m1"}),
            newest(),
        ),
    ]);
    let ids: Vec<String> = c.history(CHAT, 2).map(|r| r.unwrap().message_id).collect();
    assert_eq!(ids, ["m2", "m1"], "each message once, then the end");
    c.close();
    server.finish();
}

/// A `getChatHistory` answer with text messages `ids`, newest first.
fn history_page(ids: &[&str]) -> Value {
    let messages: Vec<Value> = ids
        .iter()
        .map(|id| {
            json!({"chatId": CHAT, "messageId": id, "timestamp": 1, "author": {"id": USER, "type": 1},
                   "isEdited": false, "box": {"id": 1, "position": "0"}, "type": 200,
                   "content": {"text": id, "parseMode": "text"}})
        })
        .collect();
    json!({"chatId": CHAT, "count": messages.len(), "messages": messages})
}

fn expect_303<T: std::fmt::Debug>(r: trueconf_bot::Result<T>, method: &str) {
    match r {
        Err(Error::Api { method: m, code }) => {
            assert_eq!(m, method);
            assert_eq!(code, ApiErrorCode::NotEnoughRights);
        }
        other => panic!("expected error 303 from {method}, got {other:?}"),
    }
}
