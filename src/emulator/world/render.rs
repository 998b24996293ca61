//! The JSON shapes the world sends: envelopes, chats, forwarded content.
//!
//! Message events and history entries carry BOTH the flat `chatId` (older
//! servers, the spec) and the nested `chat: {chatId, chatTitle, chatType}`
//! (newer servers; SDK 1.5 requires it). `getMessageById` answers with the
//! flat `chatId` only, as real servers do.

use super::model::{Author, Chat, Message};
use serde_json::{json, Map, Value};

/// `EnvelopeAuthor {id, type}`.
pub(crate) fn author(a: &Author) -> Value {
    json!({ "id": a.id(), "type": a.kind() })
}

/// An author object for a user (`addedBy`, `removedBy`).
pub(crate) fn user_ref(user_id: &str) -> Value {
    json!({ "id": user_id, "type": 1 })
}

/// The nested `chat` object of newer servers.
pub(crate) fn chat_ref(chat: &Chat, viewer: &str) -> Value {
    json!({
        "chatId": chat.id,
        "chatTitle": chat.title_for(viewer),
        "chatType": chat.kind.code(),
    })
}

fn base(chat: &Chat, m: &Message) -> Map<String, Value> {
    let mut o = Map::new();
    o.insert("chatId".into(), json!(chat.id));
    o.insert("messageId".into(), json!(m.id));
    o.insert("timestamp".into(), json!(m.timestamp));
    o.insert("author".into(), author(&m.author));
    o.insert("type".into(), json!(m.kind));
    o.insert("content".into(), m.content.clone());
    o
}

fn boxed(o: &mut Map<String, Value>, m: &Message) {
    o.insert("box".into(), json!({ "id": m.box_id, "position": "" }));
}

/// The envelope of a `sendMessage` event or a history entry, as `viewer`
/// sees it. A reply carries `replyMessageId` and, while the replied message
/// exists, `replyMessage` expanded one level deep.
pub(crate) fn envelope(chat: &Chat, m: &Message, viewer: &str) -> Value {
    Value::Object(envelope_map(chat, m, viewer, true))
}

fn envelope_map(chat: &Chat, m: &Message, viewer: &str, expand: bool) -> Map<String, Value> {
    let mut o = base(chat, m);
    o.insert("chat".into(), chat_ref(chat, viewer));
    boxed(&mut o, m);
    if m.is_system() {
        return o;
    }
    o.insert("isEdited".into(), json!(m.is_edited));
    if let Some((reply_id, reply_box)) = &m.reply_to {
        o.insert("replyMessageId".into(), json!(reply_id));
        let replied = chat.messages.get(reply_box).filter(|r| &r.id == reply_id);
        if let (true, Some(r)) = (expand, replied) {
            o.insert(
                "replyMessage".into(),
                Value::Object(envelope_map(chat, r, viewer, false)),
            );
        }
    }
    o
}

/// The `getMessageById` answer: flat `chatId`, `replyMessageId` (null when
/// none), no nested `chat`.
pub(crate) fn flat_envelope(chat: &Chat, m: &Message) -> Value {
    let mut o = base(chat, m);
    boxed(&mut o, m);
    o.insert("isEdited".into(), json!(m.is_edited));
    o.insert(
        "replyMessageId".into(),
        m.reply_to.as_ref().map_or(Value::Null, |(id, _)| json!(id)),
    );
    Value::Object(o)
}

/// A chat's `lastMessage`: no box, no isEdited.
pub(crate) fn last_message(chat: &Chat, m: &Message, viewer: &str) -> Value {
    let mut o = base(chat, m);
    o.insert("chat".into(), chat_ref(chat, viewer));
    Value::Object(o)
}

/// The content of a forward (type 201): the original envelope without box.
pub(crate) fn forward_content(chat: &Chat, m: &Message) -> Value {
    let mut o = base(chat, m);
    o.insert("isEdited".into(), json!(m.is_edited));
    Value::Object(o)
}

/// A chat object (getChatByID, getChats, chat-created events) for `viewer`.
pub(crate) fn chat_object(chat: &Chat, viewer: &str) -> Value {
    let mut o = Map::new();
    o.insert("chatId".into(), json!(chat.id));
    o.insert("title".into(), json!(chat.title_for(viewer)));
    o.insert("chatType".into(), json!(chat.kind.code()));
    o.insert("unreadMessages".into(), json!(chat.unread_for(viewer)));
    o.insert(
        "lastMessage".into(),
        chat.last_visible(viewer)
            .map_or(Value::Null, |m| last_message(chat, m, viewer)),
    );
    if let Some(url) = &chat.avatar_url {
        o.insert("avatarUrl".into(), json!(url));
    }
    Value::Object(o)
}
