//! Upload tasks, uploads, sendFile, getFileInfo, progress, limits, downloads.

use super::super::codes::*;
use super::{s, stored, T};
use serde_json::json;

#[test]
fn upload_tasks_and_completion() {
    let mut t = T::new();
    let r = t.ok(
        "bot",
        "uploadFile",
        json!({"fileSize": 1487, "fileName": "a.png"}),
    );
    let task = s(&r, "/uploadTaskId");
    let info = t.w.upload_task(&task).expect("task");
    assert_eq!(
        (info.owner.as_str(), info.file_size),
        (T::id("bot").as_str(), 1487)
    );
    assert_eq!(info.file_name.as_deref(), Some("a.png"));
    // The spec's request has no name.
    t.ok("bot", "uploadFile", json!({"fileSize": 3}));
    assert_eq!(
        t.err("bot", "uploadFile", json!({"fileName": "x"})),
        WRONG_PAYLOAD
    );
    assert_eq!(
        t.err("bot", "uploadFile", json!({"fileSize": -1})),
        WRONG_PAYLOAD
    );
    let unknown =
        t.w.complete_upload("nope", stored("a.png", 1487, "image/png"), None);
    assert_eq!(unknown.unwrap_err().error, UPLOAD_TASK_NOT_FOUND);
    let short =
        t.w.complete_upload(&task, stored("a.png", 10, "image/png"), None);
    let rejection = short.unwrap_err();
    assert_eq!((rejection.status, rejection.error), (400, INVALID_FILE));
    // A refused upload keeps its task; a completed one uses it up.
    let tmp =
        t.w.complete_upload(&task, stored("a.png", 1487, "image/png"), None);
    assert!(tmp.is_ok());
    assert!(t.w.upload_task(&task).is_none());
    let twice =
        t.w.complete_upload(&task, stored("a.png", 1487, "image/png"), None);
    assert_eq!(twice.unwrap_err().error, UPLOAD_TASK_NOT_FOUND);
}

#[test]
fn send_file_posts_an_attachment() {
    let mut t = T::new();
    let chat = t.group("bot", &["alice"]);
    let tmp = t.upload("bot", "report.png", 2156, false);
    let r = t.ok(
        "bot",
        "sendFile",
        json!({"chatId": chat, "content": {"temporalFileId": tmp}}),
    );
    let file_id = s(&r, "/fileId");
    assert_eq!(file_id.len(), 40);
    assert_eq!(r["chatId"], chat.as_str());
    assert!(r.get("captionMessageId").is_none());
    let env = &t.events("alice")[0].1;
    assert_eq!(env["type"], 202);
    assert_eq!(env["messageId"], r["messageId"]);
    assert_eq!(
        env["content"],
        json!({"name": "report.png", "mimeType": "image/png", "size": 2156, "fileId": file_id})
    );
    // A temporalFileId works once.
    let again = json!({"chatId": chat, "content": {"temporalFileId": tmp}});
    assert_eq!(t.err("bot", "sendFile", again), FILE_NOT_FOUND);
    // Someone else's upload is not ours to send.
    let theirs = t.upload("alice", "x.png", 1, false);
    let steal = json!({"chatId": chat, "content": {"temporalFileId": theirs}});
    assert_eq!(t.err("bot", "sendFile", steal), FILE_NOT_FOUND);
}

#[test]
fn send_file_with_caption_and_reply() {
    let mut t = T::new();
    let chat = t.group("bot", &["alice"]);
    let q = t.send("alice", &chat, "send me the report");
    let tmp = t.upload("bot", "r.pdf", 9, false);
    let payload = json!({"chatId": chat, "replyMessageId": q,
        "content": {"temporalFileId": tmp, "caption": {"text": "here", "parseMode": "text"}}});
    let r = t.ok("bot", "sendFile", payload);
    let caption = s(&r, "/captionMessageId");
    let ev = t.events("alice");
    assert_eq!(ev.len(), 2);
    assert_eq!(ev[0].1["replyMessageId"], q.as_str());
    assert_eq!(ev[1].1["messageId"], caption.as_str());
    assert_eq!(
        ev[1].1["content"],
        json!({"text": "here", "parseMode": "text"})
    );
    let long = t.upload("bot", "r.pdf", 9, false);
    let payload = json!({"chatId": chat,
        "content": {"temporalFileId": long, "caption": {"text": "x".repeat(4097), "parseMode": "text"}}});
    assert_eq!(t.err("bot", "sendFile", payload), WRONG_PAYLOAD);
}

#[test]
fn failed_send_file_keeps_the_upload() {
    let mut t = T::new();
    let chat = t.channel("bot", &["alice"]);
    let tmp = t.upload("alice", "a.png", 1, false);
    let payload = json!({"chatId": chat, "content": {"temporalFileId": tmp}});
    assert_eq!(
        t.err("alice", "sendFile", payload.clone()),
        NOT_ENOUGH_RIGHTS
    );
    let bad_reply =
        json!({"chatId": chat, "replyMessageId": "x", "content": {"temporalFileId": tmp}});
    let w = json!({"chatId": chat, "userId": T::id("alice"), "role": "writer"});
    t.ok("bot", "changeParticipantRole", w);
    assert_eq!(t.err("alice", "sendFile", bad_reply), MESSAGE_NOT_FOUND);
    let nochat = json!({"chatId": "nope", "content": {"temporalFileId": tmp}});
    assert_eq!(t.err("alice", "sendFile", nochat), CHAT_NOT_FOUND);
    t.ok("alice", "sendFile", payload);
}

#[test]
fn file_info_and_downloads() {
    let mut t = T::new();
    let chat = t.group("bot", &["alice"]);
    let r = t.send_file("alice", &chat, "pic.png", 3446, true);
    let id = s(&r, "/fileId");
    let info = t.ok("bot", "getFileInfo", json!({"fileId": id}));
    let url = format!("http://127.0.0.1:4309/bridge/api/client/v1/files?file_id={id}");
    let purl = format!("http://127.0.0.1:4309/bridge/api/client/v1/files/preview?file_id={id}");
    assert_eq!(
        info,
        json!({"name": "pic.png", "size": 3446, "mimeType": "image/png", "downloadUrl": url,
               "readyState": 2, "infoHash": id, "fileId": id,
               "previews": [{"name": "preview.webp", "mimeType": "image/webp", "size": 10,
                             "downloadUrl": purl}]})
    );
    assert_eq!(t.w.download(&id, false).map(|f| f.size), Some(3446));
    assert_eq!(
        t.w.download(&id, true).map(|f| f.name),
        Some("preview.webp".into())
    );
    assert!(t.w.download("nope", false).is_none());
    assert_eq!(
        t.err("carol", "getFileInfo", json!({"fileId": id})),
        FILE_NOT_FOUND
    );
    assert_eq!(
        t.err("bot", "getFileInfo", json!({"fileId": "nope"})),
        FILE_NOT_FOUND
    );
    // Without a preview part: no previews.
    let r = t.send_file("bot", &chat, "doc.txt", 5, false);
    let info = t.ok("alice", "getFileInfo", json!({"fileId": r["fileId"]}));
    assert_eq!(info["previews"], json!([]));
    assert!(t.w.download(&s(&r, "/fileId"), true).is_none());
}

#[test]
fn a_forwarded_file_is_readable_where_it_was_forwarded_to() {
    let mut t = T::new();
    let src = t.group("alice", &["bot"]);
    let dst = t.group("bot", &["bob"]);
    let r = t.send_file("alice", &src, "pic.png", 3446, true);
    let id = s(&r, "/fileId");
    assert_eq!(
        t.err("bob", "getFileInfo", json!({"fileId": id})),
        FILE_NOT_FOUND
    );
    t.ok(
        "bot",
        "forwardMessage",
        json!({"chatId": dst, "messageId": r["messageId"]}),
    );
    let info = t.ok("bob", "getFileInfo", json!({"fileId": id}));
    assert_eq!(info["name"], "pic.png");
    // Still not for someone outside both chats.
    assert_eq!(
        t.err("carol", "getFileInfo", json!({"fileId": id})),
        FILE_NOT_FOUND
    );
}

#[test]
fn progress_subscriptions() {
    let mut t = T::new();
    let chat = t.group("bot", &["alice"]);
    let r = t.send_file("alice", &chat, "big.bin", 1000, false);
    let id = s(&r, "/fileId");
    // READY already: one final event at once (guide 8.4), nothing kept.
    let sub = json!({"fileId": id});
    assert_eq!(
        t.ok("bot", "subscribeFileProgress", sub.clone()),
        json!({"result": true})
    );
    assert_eq!(
        t.events("bot"),
        vec![(
            "uploadFileProgress".into(),
            json!({"fileId": id, "progress": 1000})
        )]
    );
    // Still uploading: every step, then the final one, then nothing.
    let mut out = Vec::new();
    t.w.advance_upload(&id, 0, &mut out);
    assert!(out.is_empty());
    assert_eq!(t.ok("bot", "getFileInfo", sub.clone())["readyState"], 1);
    assert!(t.w.download(&id, false).is_none());
    t.ok("bot", "subscribeFileProgress", sub.clone());
    assert!(t.out.is_empty());
    t.w.advance_upload(&id, 400, &mut out);
    t.w.advance_upload(&id, 1000, &mut out);
    t.w.advance_upload(&id, 1000, &mut out);
    let progress: Vec<_> = out
        .iter()
        .map(|o| (o.user_id.clone(), o.session, o.payload["progress"].clone()))
        .collect();
    let bot = Some(T::session("bot"));
    assert_eq!(
        progress,
        vec![
            (T::id("bot"), bot, json!(400)),
            (T::id("bot"), bot, json!(1000))
        ]
    );
    assert_eq!(t.ok("bot", "getFileInfo", sub.clone())["readyState"], 2);
    // Unsubscribing stops the events.
    let mut out = Vec::new();
    t.w.advance_upload(&id, 10, &mut out);
    t.ok("bot", "subscribeFileProgress", sub.clone());
    assert_eq!(
        t.ok("bot", "unsubscribeFileProgress", sub.clone()),
        json!({"result": true})
    );
    t.w.advance_upload(&id, 1000, &mut out);
    assert!(out.is_empty());
    assert_eq!(
        t.err("bot", "subscribeFileProgress", json!({"fileId": "x"})),
        FILE_NOT_FOUND
    );
    assert_eq!(
        t.err("bot", "unsubscribeFileProgress", json!({"fileId": "x"})),
        FILE_NOT_FOUND
    );
}

/// Alice's file in a group with the bot, still uploading (0 of 1000
/// bytes); its id.
fn uploading(t: &mut T) -> String {
    let chat = t.group("bot", &["alice"]);
    let r = t.send_file("alice", &chat, "big.bin", 1000, false);
    let id = s(&r, "/fileId");
    t.w.advance_upload(&id, 0, &mut Vec::new());
    id
}

/// The progress events of one advance, as (user login, session, progress).
fn advance(t: &mut T, id: &str, progress: u64) -> Vec<(String, Option<u64>, u64)> {
    let mut out = Vec::new();
    t.w.advance_upload(id, progress, &mut out);
    out.iter()
        .map(|o| {
            assert_eq!(o.method, "uploadFileProgress");
            assert_eq!(o.payload["fileId"], id);
            let login = o.user_id.split('@').next().unwrap_or("").to_string();
            (login, o.session, o.payload["progress"].as_u64().unwrap())
        })
        .collect()
}

#[test]
fn progress_subscriptions_belong_to_the_session_that_made_them() {
    let mut t = T::new();
    let id = uploading(&mut t);
    let sub = json!({"fileId": id});
    // Two sessions of the bot, one subscribed, and alice's.
    let (first, second, alice) = (Some(11), Some(12), Some(21));
    t.ok_on(first, "bot", "subscribeFileProgress", sub.clone());
    t.ok_on(alice, "alice", "subscribeFileProgress", sub.clone());
    assert!(t.out.is_empty());
    assert_eq!(
        advance(&mut t, &id, 100),
        vec![("bot".into(), first, 100), ("alice".into(), alice, 100)]
    );
    // The second session subscribes too; unsubscribing on the first ends
    // only the first's subscription.
    t.ok_on(second, "bot", "subscribeFileProgress", sub.clone());
    assert_eq!(
        advance(&mut t, &id, 200),
        vec![
            ("bot".into(), first, 200),
            ("bot".into(), second, 200),
            ("alice".into(), alice, 200)
        ]
    );
    let r = t.ok_on(first, "bot", "unsubscribeFileProgress", sub.clone());
    assert_eq!(r, json!({"result": true}));
    assert_eq!(
        advance(&mut t, &id, 300),
        vec![("bot".into(), second, 300), ("alice".into(), alice, 300)]
    );
    // A closed session's subscriptions end with it; the other sessions'
    // go on, and a new session of the same user gets nothing until it
    // subscribes itself.
    t.w.end_session(12);
    assert_eq!(
        advance(&mut t, &id, 400),
        vec![("alice".into(), alice, 400)]
    );
    let third = Some(13);
    t.ok_on(third, "bot", "getFileInfo", sub.clone());
    assert_eq!(
        advance(&mut t, &id, 500),
        vec![("alice".into(), alice, 500)]
    );
    t.ok_on(third, "bot", "subscribeFileProgress", sub.clone());
    assert_eq!(
        advance(&mut t, &id, 1000),
        vec![("bot".into(), third, 1000), ("alice".into(), alice, 1000)]
    );
    // READY: the one final event goes to the subscribing session only.
    let r = t.ok_on(first, "bot", "subscribeFileProgress", sub.clone());
    assert_eq!(r, json!({"result": true}));
    let events: Vec<_> = t
        .out
        .iter()
        .map(|o| (o.user_id.clone(), o.session))
        .collect();
    assert_eq!(events, vec![(T::id("bot"), first)]);
}

#[test]
fn progress_subscriptions_without_a_session_keep_nothing() {
    let mut t = T::new();
    let id = uploading(&mut t);
    let sub = json!({"fileId": id});
    let r = t.ok_on(None, "bot", "subscribeFileProgress", sub.clone());
    assert_eq!(r, json!({"result": true}));
    assert!(advance(&mut t, &id, 500).is_empty());
    let r = t.ok_on(None, "bot", "unsubscribeFileProgress", sub.clone());
    assert_eq!(r, json!({"result": true}));
    assert!(advance(&mut t, &id, 1000).is_empty());
    let r = t.ok_on(None, "bot", "subscribeFileProgress", sub.clone());
    assert_eq!(r, json!({"result": true}));
    assert!(t.out.is_empty());
    // The same errors as on a session.
    assert_eq!(
        t.call_on(None, "carol", "subscribeFileProgress", sub),
        Err(FILE_NOT_FOUND)
    );
}

#[test]
fn expired_files_are_not_available() {
    let mut t = T::new();
    let chat = t.group("bot", &[]);
    let r = t.send_file("bot", &chat, "old.zip", 7, false);
    let id = s(&r, "/fileId");
    assert!(t.w.expire_file(&id));
    assert!(!t.w.expire_file("nope"));
    let info = t.ok("bot", "getFileInfo", json!({"fileId": id}));
    assert_eq!(
        (info["readyState"].as_u64(), info["downloadUrl"].is_null()),
        (Some(0), true)
    );
    assert!(t.w.download(&id, false).is_none());
    let r = t.ok("bot", "subscribeFileProgress", json!({"fileId": id}));
    assert_eq!(r, json!({"result": false}));
    assert!(t.out.is_empty());
}

#[test]
fn upload_limits_are_reported_and_enforced() {
    let mut t = T::new();
    let none = t.ok("bot", "getFileUploadLimits", json!({}));
    assert_eq!(none, json!({"maxSize": null, "extensions": null}));
    let limits = json!({"maxSize": 100, "extensions": {"mode": "block", "list": ["exe", ".BAT"]}});
    let mut t = T::with_limits(Some(limits.clone()));
    assert_eq!(t.ok("bot", "getFileUploadLimits", json!({})), limits);
    let big = json!({"fileSize": 101, "fileName": "a.txt"});
    assert_eq!(t.err("bot", "uploadFile", big), MAX_SIZE_EXCEEDED);
    let exe = json!({"fileSize": 10, "fileName": "setup.EXE"});
    assert_eq!(t.err("bot", "uploadFile", exe), UPLOAD_FORBIDDEN);
    // The name given at upload time is checked too.
    let task = t.ok("bot", "uploadFile", json!({"fileSize": 10}));
    let task = s(&task, "/uploadTaskId");
    let bat =
        t.w.complete_upload(&task, stored("run.bat", 10, "text/plain"), None);
    assert_eq!(bat.unwrap_err().error, UPLOAD_FORBIDDEN);
    assert!(t
        .w
        .complete_upload(&task, stored("run.txt", 10, "text/plain"), None)
        .is_ok());
    // Allow lists admit only what they name; a change is pushed to everyone.
    let allow = json!({"maxSize": null, "extensions": {"mode": "allow", "list": ["png"]}});
    let mut out = Vec::new();
    t.w.set_upload_limits(Some(allow.clone()), &mut out);
    assert_eq!(out.len(), 5);
    assert!(out
        .iter()
        .all(|o| o.method == "getFileUploadLimits" && o.payload == allow));
    t.ok(
        "bot",
        "uploadFile",
        json!({"fileSize": 10, "fileName": "a.png"}),
    );
    let txt = json!({"fileSize": 10, "fileName": "a.txt"});
    assert_eq!(t.err("bot", "uploadFile", txt), UPLOAD_FORBIDDEN);
    t.ok("bot", "uploadFile", json!({"fileSize": 10}));
}
