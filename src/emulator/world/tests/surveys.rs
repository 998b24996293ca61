//! sendSurvey and editSurvey.

use super::super::codes::*;
use super::{s, T};
use serde_json::{json, Value};

fn survey(chat: &str) -> Value {
    json!({"chatId": chat, "replyMessageId": null, "content": {
        "url": "https://server.url/webtools/survey", "appVersion": 1,
        "path": "employee_testing", "title": "Employee survey",
        "description": "{{Survey}}", "buttonText": "{{Go to survey}}",
        "secret": "25690753a489f037af09b5cbce417b41374807fe",
        "alt": "📊 <a href='https://server.url/webtools/survey?id=employee_testing'>Employee survey</a>"}})
}

#[test]
fn send_survey_posts_type_204() {
    let mut t = T::new();
    let chat = t.group("bot", &["alice"]);
    let r = t.ok("bot", "sendSurvey", survey(&chat));
    assert_eq!(r["chatId"], chat.as_str());
    let env = &t.events("alice")[0].1;
    assert_eq!(env["type"], 204);
    assert_eq!(env["messageId"], r["messageId"]);
    assert_eq!(env["content"], survey(&chat)["content"]);
    // Every content field is required.
    let mut missing = survey(&chat);
    missing["content"].as_object_mut().unwrap().remove("secret");
    assert_eq!(t.err("bot", "sendSurvey", missing), WRONG_PAYLOAD);
    let mut wrong = survey(&chat);
    wrong["content"]["appVersion"] = json!("one");
    assert_eq!(t.err("bot", "sendSurvey", wrong), WRONG_PAYLOAD);
    // A group user may send polls (guide 4.2).
    t.ok("alice", "sendSurvey", survey(&chat));
}

#[test]
fn survey_rights_follow_the_tables() {
    let mut t = T::new();
    let channel = t.channel("bot", &["alice"]);
    assert_eq!(
        t.err("alice", "sendSurvey", survey(&channel)),
        NOT_ENOUGH_RIGHTS
    );
    let w = json!({"chatId": channel, "userId": T::id("alice"), "role": "writer"});
    t.ok("bot", "changeParticipantRole", w);
    t.ok("alice", "sendSurvey", survey(&channel));
    let fav = s(&t.ok("bot", "createFavoritesChat", json!({})), "/chatId");
    assert_eq!(t.err("bot", "sendSurvey", survey(&fav)), NOT_ENOUGH_RIGHTS);
    assert_eq!(t.err("bot", "sendSurvey", survey("nope")), CHAT_NOT_FOUND);
}

#[test]
fn edit_survey_merges_the_new_fields() {
    let mut t = T::new();
    let chat = t.group("bot", &["alice"]);
    let sent = t.ok("bot", "sendSurvey", survey(&chat));
    let id = s(&sent, "/messageId");
    let edit = json!({"messageId": id, "content": {
        "path": "marketing", "title": "Marketing survey", "description": "{{Anonymous survey}}",
        "buttonText": "{{Go to survey}}", "alt": "📊 marketing"}});
    let r = t.ok("bot", "editSurvey", edit.clone());
    assert_eq!(r["messageId"], id.as_str());
    let (method, ev) = &t.events("alice")[0];
    assert_eq!(method, "editMessage");
    assert_eq!(ev["content"]["title"], "Marketing survey");
    assert_eq!(
        ev["content"]["secret"],
        "25690753a489f037af09b5cbce417b41374807fe"
    );
    let got = t.ok("alice", "getMessageById", json!({"messageId": id}));
    assert_eq!(
        (got["isEdited"].as_bool(), got["content"]["path"].as_str()),
        (Some(true), Some("marketing"))
    );
    assert_eq!(
        t.err("alice", "editSurvey", edit.clone()),
        NOT_ENOUGH_RIGHTS
    );
    let text = t.send("bot", &chat, "not a survey");
    let mut on_text = edit.clone();
    on_text["messageId"] = json!(text);
    assert_eq!(t.err("bot", "editSurvey", on_text), UNKNOWN_MESSAGE);
    let mut partial = edit;
    partial["content"].as_object_mut().unwrap().remove("alt");
    assert_eq!(t.err("bot", "editSurvey", partial), WRONG_PAYLOAD);
}
