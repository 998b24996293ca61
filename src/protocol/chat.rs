//! Chats and their participants.

use super::enums::{AuthorType, ChatType, ParticipantRole};
use super::envelope::Envelope;
use super::lenient;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

/// A chat, as returned by `getChatByID` and `getChats` and sent in the
/// chat-created events.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self", rename_all = "camelCase")]
pub struct Chat {
    /// The chat id.
    pub chat_id: String,
    /// The title (for a personal chat, the other user's TrueConf ID).
    #[serde(default, deserialize_with = "lenient::null_default")]
    pub title: String,
    /// The kind of chat.
    #[serde(default, deserialize_with = "lenient::null_default")]
    pub chat_type: ChatType,
    /// How many messages the bot has not read.
    #[serde(default, deserialize_with = "lenient::u32_or_zero")]
    pub unread_messages: u32,
    /// The chat's avatar, when the server sends one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar_url: Option<String>,
    /// The latest message (sent without `chatId`, `isEdited` and `box` per
    /// the spec; its `chat_id` is filled in from this chat's); `None` when
    /// `null`, absent or undecodable.
    #[serde(default, deserialize_with = "lenient::lossy_option")]
    pub last_message: Option<Envelope>,
}

impl Serialize for Chat {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        Chat::serialize(self, s)
    }
}

impl<'de> Deserialize<'de> for Chat {
    /// Decodes a chat; its `lastMessage`, which comes without a `chatId`
    /// (spec 5.4), gets the chat's.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut chat = Chat::deserialize(d)?;
        if let Some(last) = &mut chat.last_message {
            if last.chat_id.is_empty() {
                last.chat_id.clone_from(&chat.chat_id);
            }
        }
        Ok(chat)
    }
}

impl std::fmt::Debug for Chat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Chat")
            .field("chat_id", &self.chat_id)
            .field("title", &self.title)
            .field("chat_type", &self.chat_type)
            .field("unread_messages", &self.unread_messages)
            .field("avatar_url", &crate::secret::shown_url(&self.avatar_url))
            .field("last_message", &self.last_message)
            .finish()
    }
}

/// A chat participant and their role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChatParticipant {
    /// The participant's TrueConf ID.
    pub user_id: String,
    /// Their role in the chat.
    pub role: ParticipantRole,
    /// Whether the participant is a user or the system; `getChatParticipant`
    /// answers carry it (`type`).
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub user_type: Option<AuthorType>,
}

impl ChatParticipant {
    /// A participant with a role.
    pub fn new(user_id: impl Into<String>, role: ParticipantRole) -> ChatParticipant {
        ChatParticipant {
            user_id: user_id.into(),
            role,
            user_type: None,
        }
    }
}

/// The answer to `getChats`: the spec sends a bare array, some servers
/// `{"chats": [...]}`; both are read, the bare array is written. A chat that
/// does not decode is skipped with a warning.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[serde(transparent)]
pub struct ChatList {
    /// The chats of the requested page.
    pub chats: Vec<Chat>,
}

impl<'de> Deserialize<'de> for ChatList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let items = match Value::deserialize(d)? {
            Value::Array(items) => items,
            Value::Object(mut map) => match map.remove("chats") {
                Some(Value::Array(items)) => items,
                Some(Value::Null) | None => Vec::new(),
                Some(other) => {
                    return Err(serde::de::Error::custom(format!(
                        "`chats` is not a list: {other}"
                    )))
                }
            },
            Value::Null => Vec::new(),
            other => {
                return Err(serde::de::Error::custom(format!(
                    "a chat list is an array or {{\"chats\": [...]}}, got {other}"
                )))
            }
        };
        Ok(ChatList {
            chats: lenient::lossy_items(items),
        })
    }
}

/// The answer to `getChatParticipants`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ParticipantList {
    /// The participants of the requested page (`null` is empty; an entry
    /// that does not decode is skipped with a warning).
    #[serde(default, deserialize_with = "lenient::lossy_vec")]
    pub participants: Vec<ChatParticipant>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec_5_5_chats() -> Value {
        json!([
            {
                "chatId": "2b896a6ef210d6b2dcaebc2186c9a7974d616054",
                "title": "TrueConf Server Administrators’ Chat",
                "chatType": 2,
                "unreadMessages": 0,
                "lastMessage": {
                    "messageId": "267d61f2-2ba1-4e88-83ab-bb84415f31b6",
                    "timestamp": 1746028006345u64,
                    "author": {"id": "brown@video.example.com", "type": 1},
                    "type": 200,
                    "content": {"text": "What's up?", "parseMode": "html"}
                }
            },
            {
                "chatId": "4a1f88f1070d2f43d385cde9ff61964bc6b74477",
                "title": "chester@video.example.com",
                "chatType": 1,
                "unreadMessages": 1,
                "lastMessage": {
                    "messageId": "d4f756a2-8dd1-4cce-af7c-5a4311af0c79",
                    "timestamp": 1746028006690u64,
                    "author": {"id": "chester@video.example.com", "type": 1},
                    "type": 200,
                    "content": {"text": "Hello!", "parseMode": "html"}
                }
            },
            {
                "chatId": "5abba630dd1089090ba41c69c7aa34e4ba277a43",
                "title": "Project Announcements",
                "chatType": 6,
                "unreadMessages": 1,
                "lastMessage": {
                    "messageId": "267d61f2-2ba1-4e88-83ab-bb84415f31b6",
                    "timestamp": 1746028006345u64,
                    "author": {"id": "brown@video.example.com", "type": 1},
                    "type": 200,
                    "content": {"text": "Hello everyone!", "parseMode": "html"}
                }
            }
        ])
    }

    #[test]
    fn spec_5_5_chat_list_as_array_or_object() {
        let bare: ChatList = serde_json::from_value(spec_5_5_chats()).unwrap();
        assert_eq!(bare.chats.len(), 3);
        assert_eq!(bare.chats[2].chat_type, ChatType::Channel);
        assert_eq!(
            bare.chats[1].last_message.as_ref().and_then(|m| m.text()),
            Some("Hello!")
        );
        // The spec's lastMessage has no chatId: it gets its chat's.
        for chat in &bare.chats {
            assert_eq!(chat.last_message.as_ref().unwrap().chat_id, chat.chat_id);
        }
        let wrapped: ChatList = serde_json::from_value(json!({"chats": spec_5_5_chats()})).unwrap();
        assert_eq!(wrapped, bare);
        assert!(serde_json::to_value(&bare).unwrap().is_array());
        assert!(serde_json::from_value::<ChatList>(json!("x")).is_err());
    }

    #[test]
    fn null_last_message_and_bad_entries_are_tolerated() {
        let list: ChatList = serde_json::from_value(json!([
            {"chatId": "a", "title": null, "chatType": 9, "unreadMessages": "3", "lastMessage": null},
            {"title": "no id"},
            {"chatId": "b", "lastMessage": {"garbage": true}}
        ]))
        .unwrap();
        assert_eq!(list.chats.len(), 2);
        let a = &list.chats[0];
        assert_eq!(
            (a.title.as_str(), a.chat_type, a.unread_messages),
            ("", ChatType::Unknown(9), 3)
        );
        assert!(a.last_message.is_none() && list.chats[1].last_message.is_none());
        let out = serde_json::to_value(a).unwrap();
        assert_eq!(out["chatType"], 9);
        assert_eq!(out["lastMessage"], Value::Null);
    }

    #[test]
    fn spec_5_10_participants() {
        let list: ParticipantList = serde_json::from_value(json!({
            "participants": [
                {"userId": "user@video.example.com", "role": "user"},
                {"userId": "admin@video.example.com", "role": "admin"}
            ]
        }))
        .unwrap();
        assert_eq!(
            list.participants,
            vec![
                ChatParticipant::new("user@video.example.com", ParticipantRole::User),
                ChatParticipant::new("admin@video.example.com", ParticipantRole::Admin),
            ]
        );
        let p: ChatParticipant =
            serde_json::from_value(json!({"userId": "u", "role": 0, "type": 1})).unwrap();
        assert_eq!(p.role, ParticipantRole::Owner);
        assert_eq!(p.user_type, Some(AuthorType::User));
    }
}
