//! The envelope: one message as received in events, by id, or in history.

use super::content::Content;
use super::enums::{AuthorType, ChatType, EnvelopeType};
use super::lenient;
use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;

/// Who wrote a message or performed an action (`author`, `addedBy`,
/// `removedBy`): `{id, type}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct EnvelopeAuthor {
    /// A TrueConf ID (for a user) or the server name (for the system).
    pub id: String,
    /// Whether `id` is a user or the server.
    #[serde(rename = "type")]
    pub author_type: AuthorType,
}

impl EnvelopeAuthor {
    /// A user author.
    pub fn user(id: impl Into<String>) -> EnvelopeAuthor {
        EnvelopeAuthor {
            id: id.into(),
            author_type: AuthorType::User,
        }
    }

    /// The server as author.
    pub fn system(server_name: impl Into<String>) -> EnvelopeAuthor {
        EnvelopeAuthor {
            id: server_name.into(),
            author_type: AuthorType::System,
        }
    }
}

/// A message's place in its chat (spec 3.8): the box number, then the
/// position inside the box. Orders by `id`, then by `position` compared as
/// ASCII bytes (so `"A" < "AAA" < "B"`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct EnvelopeBox {
    /// The box number, increasing from 0 within each chat.
    #[serde(deserialize_with = "lenient::u64_any")]
    pub id: u64,
    /// The position inside the box; empty when the box holds one message.
    #[serde(default, deserialize_with = "lenient::null_default")]
    pub position: String,
}

/// One message. See the module docs of [`content`](super::content) for how
/// `content` is typed.
///
/// The chat id arrives flat (`chatId`, older servers) or nested
/// (`chat: {chatId, chatTitle, chatType}`, newer servers); both are read.
/// When written, `chatId` is always flat, and the nested `chat` object is
/// added when the title or type is known, so both kinds of client read it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(from = "EnvelopeWire")]
pub struct Envelope {
    /// The message id.
    pub message_id: String,
    /// The chat id. A chat's `lastMessage` and the messages of a history
    /// come without one and get the enclosing answer's; empty only when
    /// nothing named the chat.
    pub chat_id: String,
    /// The chat title, when the server sent the nested `chat` object.
    pub chat_title: Option<String>,
    /// The chat type, when the server sent the nested `chat` object.
    pub chat_type: Option<ChatType>,
    /// When it was sent, in milliseconds since the Unix epoch.
    pub timestamp: u64,
    /// The id of the message this one replies to.
    pub reply_message_id: Option<String>,
    /// The message this one replies to, when the server expands it
    /// (`replyMessage`, one level deep).
    pub reply_message: Option<Box<Envelope>>,
    /// Whether it was ever edited.
    pub is_edited: bool,
    /// Who wrote it.
    pub author: EnvelopeAuthor,
    /// Its place in the chat; absent in a chat's `lastMessage` and in
    /// forwarded content.
    pub envelope_box: Option<EnvelopeBox>,
    /// What it carries.
    pub content: Content,
}

impl Envelope {
    /// A new, unedited message without reply or box (set those fields
    /// directly when needed).
    pub fn new(
        chat_id: impl Into<String>,
        message_id: impl Into<String>,
        timestamp: u64,
        author: EnvelopeAuthor,
        content: Content,
    ) -> Envelope {
        Envelope {
            message_id: message_id.into(),
            chat_id: chat_id.into(),
            chat_title: None,
            chat_type: None,
            timestamp,
            reply_message_id: None,
            reply_message: None,
            is_edited: false,
            author,
            envelope_box: None,
            content,
        }
    }

    /// The envelope type (the wire `type`).
    pub fn envelope_type(&self) -> EnvelopeType {
        self.content.envelope_type()
    }

    /// Whether this is a system message (type below 200).
    pub fn is_system(&self) -> bool {
        self.envelope_type().is_system()
    }

    /// The text, for a text message.
    pub fn text(&self) -> Option<&str> {
        self.content.text()
    }
}

/// The nested `chat` object of newer servers.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ChatRefWire {
    #[serde(default)]
    pub(crate) chat_id: Option<String>,
    #[serde(default)]
    pub(crate) chat_title: Option<String>,
    #[serde(default, deserialize_with = "lenient::lossy_option")]
    pub(crate) chat_type: Option<ChatType>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct EnvelopeWire {
    message_id: String,
    #[serde(default)]
    chat_id: Option<String>,
    #[serde(default, deserialize_with = "lenient::lossy_option")]
    chat: Option<ChatRefWire>,
    #[serde(deserialize_with = "lenient::u64_any")]
    timestamp: u64,
    #[serde(default)]
    reply_message_id: Option<String>,
    #[serde(default, deserialize_with = "lenient::lossy_option")]
    reply_message: Option<Box<Envelope>>,
    #[serde(default, deserialize_with = "lenient::bool_any")]
    is_edited: bool,
    author: EnvelopeAuthor,
    #[serde(rename = "box", default, deserialize_with = "lenient::lossy_option")]
    envelope_box: Option<EnvelopeBox>,
    #[serde(rename = "type", default, deserialize_with = "lenient::opt_u32_any")]
    type_code: Option<u32>,
    #[serde(default)]
    content: Value,
}

impl From<EnvelopeWire> for Envelope {
    fn from(wire: EnvelopeWire) -> Self {
        let (nested_id, chat_title, chat_type) = match wire.chat {
            Some(c) => (c.chat_id, c.chat_title, c.chat_type),
            None => (None, None, None),
        };
        Envelope {
            message_id: wire.message_id,
            chat_id: wire.chat_id.or(nested_id).unwrap_or_default(),
            chat_title,
            chat_type,
            timestamp: wire.timestamp,
            reply_message_id: wire.reply_message_id,
            reply_message: wire.reply_message,
            is_edited: wire.is_edited,
            author: wire.author,
            envelope_box: wire.envelope_box,
            content: Content::from_wire(wire.type_code.unwrap_or(0), wire.content),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ChatRefOut<'a> {
    chat_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    chat_title: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    chat_type: Option<ChatType>,
}

impl Serialize for Envelope {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        if !self.chat_id.is_empty() {
            map.serialize_entry("chatId", &self.chat_id)?;
        }
        if self.chat_title.is_some() || self.chat_type.is_some() {
            let chat = ChatRefOut {
                chat_id: &self.chat_id,
                chat_title: self.chat_title.as_deref(),
                chat_type: self.chat_type,
            };
            map.serialize_entry("chat", &chat)?;
        }
        map.serialize_entry("messageId", &self.message_id)?;
        map.serialize_entry("timestamp", &self.timestamp)?;
        map.serialize_entry("author", &self.author)?;
        if let Some(reply) = &self.reply_message_id {
            map.serialize_entry("replyMessageId", reply)?;
        }
        if let Some(reply) = &self.reply_message {
            map.serialize_entry("replyMessage", reply)?;
        }
        map.serialize_entry("isEdited", &self.is_edited)?;
        if let Some(b) = &self.envelope_box {
            map.serialize_entry("box", b)?;
        }
        map.serialize_entry("type", &self.content.type_code())?;
        map.serialize_entry("content", &self.content)?;
        map.end()
    }
}

/// Sorts envelopes into chat order: by box, then position (spec 3.8).
/// Envelopes without a box come first, by timestamp.
pub fn sort_envelopes(envelopes: &mut [Envelope]) {
    envelopes.sort_by(|a, b| {
        a.envelope_box
            .cmp(&b.envelope_box)
            .then(a.timestamp.cmp(&b.timestamp))
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::content::TextContent;
    use crate::protocol::enums::{ParseMode, ParticipantRole};
    use serde_json::json;

    fn envelope(v: Value) -> Envelope {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn spec_3_7_text_message() {
        let e = envelope(json!({
            "chatId": "1c1230635432aa7be051e4fda53a3d5a07c8c151",
            "messageId": "dfb127d0-d174-4e11-8394-19482a98607d",
            "timestamp": 1741881175593u64,
            "author": {"id": "user@video.example.com", "type": 1},
            "isEdited": false,
            "box": {"id": 2, "position": "0"},
            "type": 200,
            "content": {"text": "What's up?", "parseMode": "text"}
        }));
        assert_eq!(e.chat_id, "1c1230635432aa7be051e4fda53a3d5a07c8c151");
        assert_eq!(e.timestamp, 1741881175593);
        assert_eq!(e.author, EnvelopeAuthor::user("user@video.example.com"));
        assert_eq!(
            e.envelope_box,
            Some(EnvelopeBox {
                id: 2,
                position: "0".into()
            })
        );
        assert_eq!(e.text(), Some("What's up?"));
        assert!(!e.is_system());
    }

    #[test]
    fn nested_chat_object_is_read_and_written() {
        let wire = json!({
            "chat": {"chatId": "c1", "chatTitle": "Team", "chatType": 2},
            "messageId": "m1",
            "timestamp": "1735370776",
            "author": {"id": "a@s", "type": 1},
            "type": 200,
            "content": {"text": "hi", "parseMode": "markdown"},
            "somethingNew": {"x": 1}
        });
        let e = envelope(wire);
        assert_eq!(e.chat_id, "c1");
        assert_eq!(e.chat_title.as_deref(), Some("Team"));
        assert_eq!(e.chat_type, Some(ChatType::Group));
        assert_eq!(e.timestamp, 1735370776);
        let out = serde_json::to_value(&e).unwrap();
        assert_eq!(out["chatId"], "c1");
        assert_eq!(
            out["chat"],
            json!({"chatId": "c1", "chatTitle": "Team", "chatType": 2})
        );
        assert_eq!(envelope(out), e);
    }

    #[test]
    fn spec_11_2_2_system_message_round_trips() {
        let wire = json!({
            "chatId": "51ffe1b1-1515-498e-8501-233116adf9da",
            "messageId": "2913538a-90e3-4323-9048-b599e4248796",
            "timestamp": 1735330912,
            "author": {"id": "trueconf.server.name", "type": 0},
            "replyMessageId": "r1",
            "isEdited": false,
            "box": {"id": 2, "position": ""},
            "type": 1,
            "content": {"userId": "user@video.example.com", "role": "owner"}
        });
        let e = envelope(wire.clone());
        assert!(e.is_system());
        assert_eq!(e.author.author_type, AuthorType::System);
        assert!(matches!(
            &e.content,
            Content::ParticipantAdded(p) if p.role == ParticipantRole::Owner
        ));
        assert_eq!(serde_json::to_value(&e).unwrap(), wire);
    }

    #[test]
    fn spec_11_2_122_forwarded_message() {
        let e = envelope(json!({
            "chatId": "51ffe1b1-1515-498e-8501-233116adf9da",
            "messageId": "552a5a7c-02fd-4c30-a4f1-60c9cfff649c",
            "timestamp": 1735330914,
            "author": {"id": "user@video.example.com", "type": 1},
            "replyMessageId": null,
            "isEdited": false,
            "box": {"id": 5677289, "position": "COFFEE"},
            "type": 201,
            "content": {
                "chatId": "51ffe1b1-1515-498e-8501-233116adf9da",
                "messageId": "fdfa8fd6-b4f5-4ecc-8c7e-11e420105056",
                "timestamp": 1735330910,
                "author": {"id": "user@video.example.com", "type": 1},
                "replyMessageId": null,
                "isEdited": false,
                "type": 200,
                "content": {"text": "Hello, chat bot!", "parseMode": "text"}
            }
        }));
        let Content::Forwarded(inner) = &e.content else {
            panic!("{:?}", e.content)
        };
        assert_eq!(inner.message_id, "fdfa8fd6-b4f5-4ecc-8c7e-11e420105056");
        assert_eq!(inner.envelope_box, None);
        assert_eq!(inner.text(), Some("Hello, chat bot!"));
        assert_eq!(envelope(serde_json::to_value(&e).unwrap()), e);
    }

    #[test]
    fn spec_7_6_type_zero_text_is_read_as_text() {
        let e = envelope(json!({
            "chatId": "2b896a6ef210d6b2dcaebc2186c9a7974d616054",
            "messageId": "8fe61d87-6db0-4792-8f5e-e5960c7d5a06",
            "timestamp": 1234567890,
            "author": {"id": "user@video.example.com", "type": 1},
            "replyMessageId": null,
            "isEdited": true,
            "box": {"id": 123456, "position": "0"},
            "type": 0,
            "content": {"text": "Hello, chat bot!", "parseMode": "html"}
        }));
        assert!(e.is_edited);
        assert_eq!(
            e.content,
            Content::Text(TextContent::new("Hello, chat bot!", ParseMode::Html))
        );
    }

    #[test]
    fn expanded_reply_is_kept() {
        let wire = json!({
            "chat": {"chatId": "c", "chatTitle": null, "chatType": 1},
            "messageId": "m2", "timestamp": 2,
            "author": {"id": "a", "type": 1},
            "replyMessageId": "m1",
            "replyMessage": {
                "chatId": "c", "messageId": "m1", "timestamp": 1,
                "author": {"id": "b", "type": 1}, "isEdited": false,
                "type": 200, "content": {"text": "question", "parseMode": "text"}
            },
            "isEdited": false,
            "box": {"id": 3, "position": "incoming"},
            "type": 200,
            "content": {"text": "answer", "parseMode": "text"}
        });
        let e = envelope(wire);
        assert_eq!(e.chat_type, Some(ChatType::P2p));
        let reply = e.reply_message.as_deref().map(Envelope::text);
        assert_eq!(reply, Some(Some("question")));
        assert_eq!(envelope(serde_json::to_value(&e).unwrap()), e);
    }

    #[test]
    fn odd_fields_are_tolerated() {
        let e = envelope(json!({
            "messageId": "m",
            "timestamp": 1,
            "author": {"id": "a", "type": "1"},
            "isEdited": "true",
            "box": null,
            "type": "999",
            "content": {"novel": true}
        }));
        assert_eq!(e.chat_id, "");
        assert!(e.is_edited);
        assert_eq!(e.envelope_box, None);
        assert_eq!(e.envelope_type(), EnvelopeType::Unknown(999));
        let out = serde_json::to_value(&e).unwrap();
        assert_eq!(out["type"], 999);
        assert_eq!(out["content"], json!({"novel": true}));
        assert!(out.get("chatId").is_none());
    }

    #[test]
    fn boxes_sort_as_in_spec_3_8() {
        let b = |id, position: &str| EnvelopeBox {
            id,
            position: position.into(),
        };
        assert!(b(15, "A") < b(15, "AAA"));
        assert!(b(15, "AAA") < b(15, "B"));
        assert!(b(14, "z") < b(15, ""));
        let make = |id, position: &str| Envelope {
            envelope_box: Some(b(id, position)),
            ..Envelope::new(
                "c",
                position,
                1,
                EnvelopeAuthor::user("a"),
                Content::Text(TextContent::new("", ParseMode::Text)),
            )
        };
        let boxless = Envelope {
            envelope_box: None,
            ..make(0, "none")
        };
        let mut list = vec![
            make(15, "B"),
            make(15, "AAA"),
            boxless,
            make(15, "A"),
            make(1, ""),
        ];
        sort_envelopes(&mut list);
        let order: Vec<_> = list.iter().map(|e| e.message_id.as_str()).collect();
        assert_eq!(order, ["none", "", "A", "AAA", "B"]);
    }
}
