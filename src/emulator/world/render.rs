//! The wire shapes the world sends, built from the `crate::protocol` types
//! so the emulator and the client share one definition.
//!
//! Message events and history entries carry BOTH the flat `chatId` (older
//! servers, the spec) and the nested `chat: {chatId, chatTitle, chatType}`
//! (newer servers; SDK 1.5 requires it). `getMessageById` answers and
//! forwarded content carry the flat `chatId` only, as real servers do.

use super::model::{Chat, Message};
use super::{codes, Outbound};
use crate::protocol::events::ServerEvent;
use crate::protocol::{self, Envelope, EnvelopeBox};
use serde::Serialize;
use serde_json::Value;

/// Which parts of an envelope to write.
#[derive(Debug, Clone, Copy)]
struct Shape {
    /// The nested `chat` object (as seen by the viewer).
    nested_chat: bool,
    /// The `box`.
    with_box: bool,
    /// `replyMessage`, expanded one level deep.
    expand_reply: bool,
}

fn build(chat: &Chat, m: &Message, viewer: &str, shape: Shape) -> Envelope {
    let reply_message = match (&m.reply_to, shape.expand_reply) {
        (Some((id, box_id)), true) => chat.messages.get(box_id).filter(|r| &r.id == id).map(|r| {
            let inner = Shape {
                expand_reply: false,
                ..shape
            };
            Box::new(build(chat, r, viewer, inner))
        }),
        _ => None,
    };
    Envelope {
        message_id: m.id.clone(),
        chat_id: chat.id.clone(),
        chat_title: shape.nested_chat.then(|| chat.title_for(viewer)),
        chat_type: shape.nested_chat.then(|| chat.kind.wire()),
        timestamp: m.timestamp,
        reply_message_id: m.reply_to.as_ref().map(|(id, _)| id.clone()),
        reply_message,
        is_edited: m.is_edited,
        author: m.author.wire(),
        envelope_box: shape.with_box.then(|| EnvelopeBox {
            id: m.box_id,
            position: String::new(),
        }),
        content: m.content.clone(),
    }
}

/// The envelope of a `sendMessage` event or a history entry, as `viewer`
/// sees it: flat `chatId`, nested `chat`, box, and for a reply
/// `replyMessageId` plus `replyMessage` while the replied message exists.
pub(crate) fn envelope(chat: &Chat, m: &Message, viewer: &str) -> Envelope {
    let shape = Shape {
        nested_chat: true,
        with_box: true,
        expand_reply: true,
    };
    build(chat, m, viewer, shape)
}

/// The `getMessageById` answer: flat `chatId`, box, no nested `chat`.
pub(crate) fn flat_envelope(chat: &Chat, m: &Message) -> Envelope {
    let shape = Shape {
        nested_chat: false,
        with_box: true,
        expand_reply: false,
    };
    build(chat, m, "", shape)
}

/// A chat's `lastMessage`: no box.
pub(crate) fn last_message(chat: &Chat, m: &Message, viewer: &str) -> Envelope {
    let shape = Shape {
        nested_chat: true,
        with_box: false,
        expand_reply: false,
    };
    build(chat, m, viewer, shape)
}

/// The content of a forward (type 201): the original envelope without box.
pub(crate) fn forward_content(chat: &Chat, m: &Message) -> Envelope {
    let shape = Shape {
        nested_chat: false,
        with_box: false,
        expand_reply: false,
    };
    let mut e = build(chat, m, "", shape);
    e.reply_message_id = None;
    e
}

/// A chat object (getChatByID, getChats, chat-created events) for `viewer`.
pub(crate) fn chat_object(chat: &Chat, viewer: &str) -> protocol::Chat {
    protocol::Chat {
        chat_id: chat.id.clone(),
        title: chat.title_for(viewer),
        chat_type: chat.kind.wire(),
        unread_messages: u32::try_from(chat.unread_for(viewer)).unwrap_or(u32::MAX),
        avatar_url: chat.avatar_url.clone(),
        last_message: chat
            .last_visible(viewer)
            .map(|m| last_message(chat, m, viewer)),
    }
}

/// A chat object as `getChatByID` and `getChats` answer it: its
/// `lastMessage` has no `chatId`, `isEdited` or `box` (spec 5.4), unlike
/// the one in chat-created events.
pub(crate) fn chat_answer(chat: &Chat, viewer: &str) -> Result<Value, u32> {
    let mut chat = answer(chat_object(chat, viewer))?;
    if let Some(Value::Object(last)) = chat.get_mut("lastMessage") {
        for key in ["chatId", "chat", "isEdited", "box"] {
            last.remove(key);
        }
    }
    Ok(chat)
}

/// A response payload as JSON (300 if it cannot be written, which the
/// protocol types never cause).
pub(crate) fn answer<T: Serialize>(payload: T) -> Result<Value, u32> {
    serde_json::to_value(payload).map_err(|_| codes::INTERNAL_ERROR)
}

/// An event for `user`, with the method and payload the protocol type
/// defines.
pub(crate) fn event(user: &str, e: &impl ServerEvent) -> Outbound {
    Outbound {
        user_id: user.to_string(),
        session: None,
        method: e.wire_method().to_string(),
        payload: e.wire_payload(),
    }
}
