//! Participant methods: add, remove, check, look up, list, change role.

use super::{checks, Empty, ResultResponse};
use crate::protocol::{ChatParticipant, InvalidInput, Method, ParticipantList, ParticipantRole};
use serde::{Deserialize, Serialize};

/// Declares a `{chatId, userId}` request with its constructor.
macro_rules! chat_user_request {
    ($(#[$meta:meta])* $name:ident, $wire:literal, $response:ty) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(rename_all = "camelCase")]
        pub struct $name {
            /// The chat.
            pub chat_id: String,
            /// The user's TrueConf ID.
            pub user_id: String,
        }

        impl $name {
            /// The request for user `user_id` in chat `chat_id`.
            pub fn new(chat_id: impl Into<String>, user_id: impl Into<String>) -> $name {
                $name {
                    chat_id: chat_id.into(),
                    user_id: user_id.into(),
                }
            }
        }

        impl Method for $name {
            const NAME: &'static str = $wire;
            type Response = $response;
            fn validate(&self) -> Result<(), InvalidInput> {
                checks::id("chatId", &self.chat_id)?;
                checks::id("userId", &self.user_id)
            }
        }
    };
}

chat_user_request! {
    /// `hasChatParticipant`: whether a user is in a chat (deprecated by the
    /// SDK in favour of `getChatParticipant`).
    HasChatParticipant, "hasChatParticipant", ResultResponse
}

chat_user_request! {
    /// `getChatParticipant`: one participant's role (an error if the user is
    /// not in the chat).
    GetChatParticipant, "getChatParticipant", ChatParticipant
}

/// `addChatParticipant`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AddChatParticipant {
    /// The chat.
    pub chat_id: String,
    /// The user to add.
    pub user_id: String,
    /// Whether the new participant sees the earlier messages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_history: Option<bool>,
}

impl AddChatParticipant {
    /// Adds `user_id` to chat `chat_id`.
    pub fn new(chat_id: impl Into<String>, user_id: impl Into<String>) -> AddChatParticipant {
        AddChatParticipant {
            chat_id: chat_id.into(),
            user_id: user_id.into(),
            display_history: None,
        }
    }

    /// Shows (or hides) the earlier messages to the new participant.
    pub fn display_history(mut self, display: bool) -> AddChatParticipant {
        self.display_history = Some(display);
        self
    }
}

impl Method for AddChatParticipant {
    const NAME: &'static str = "addChatParticipant";
    type Response = Empty;
    fn validate(&self) -> Result<(), InvalidInput> {
        checks::id("chatId", &self.chat_id)?;
        checks::id("userId", &self.user_id)
    }
}

/// `removeChatParticipant`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RemoveChatParticipant {
    /// The chat.
    pub chat_id: String,
    /// The user to remove.
    pub user_id: String,
    /// Whether the user's messages are removed too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clear_history: Option<bool>,
}

impl RemoveChatParticipant {
    /// Removes `user_id` from chat `chat_id`.
    pub fn new(chat_id: impl Into<String>, user_id: impl Into<String>) -> RemoveChatParticipant {
        RemoveChatParticipant {
            chat_id: chat_id.into(),
            user_id: user_id.into(),
            clear_history: None,
        }
    }

    /// Removes (or keeps) the user's messages.
    pub fn clear_history(mut self, clear: bool) -> RemoveChatParticipant {
        self.clear_history = Some(clear);
        self
    }
}

impl Method for RemoveChatParticipant {
    const NAME: &'static str = "removeChatParticipant";
    type Response = Empty;
    fn validate(&self) -> Result<(), InvalidInput> {
        checks::id("chatId", &self.chat_id)?;
        checks::id("userId", &self.user_id)
    }
}

/// `getChatParticipants`: one page of a chat's participants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetChatParticipants {
    /// The chat.
    pub chat_id: String,
    /// Participants per page.
    pub page_size: u32,
    /// The page (the server starts at offset `pageSize * pageNumber`; the
    /// spec's example asks for page 1).
    pub page_number: u32,
}

impl GetChatParticipants {
    /// Page `page_number` of `page_size` participants of chat `chat_id`.
    pub fn new(
        chat_id: impl Into<String>,
        page_size: u32,
        page_number: u32,
    ) -> GetChatParticipants {
        GetChatParticipants {
            chat_id: chat_id.into(),
            page_size,
            page_number,
        }
    }
}

impl Method for GetChatParticipants {
    const NAME: &'static str = "getChatParticipants";
    type Response = ParticipantList;
    fn validate(&self) -> Result<(), InvalidInput> {
        checks::id("chatId", &self.chat_id)?;
        checks::positive("pageSize", self.page_size.into())
    }
}

/// `changeParticipantRole`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChangeParticipantRole {
    /// The chat.
    pub chat_id: String,
    /// The participant.
    pub user_id: String,
    /// The new role (sent as its name, e.g. `"admin"`).
    pub role: ParticipantRole,
}

impl ChangeParticipantRole {
    /// Gives `user_id` the role `role` in chat `chat_id`.
    pub fn new(
        chat_id: impl Into<String>,
        user_id: impl Into<String>,
        role: ParticipantRole,
    ) -> ChangeParticipantRole {
        ChangeParticipantRole {
            chat_id: chat_id.into(),
            user_id: user_id.into(),
            role,
        }
    }
}

impl Method for ChangeParticipantRole {
    const NAME: &'static str = "changeParticipantRole";
    type Response = Empty;
    fn validate(&self) -> Result<(), InvalidInput> {
        checks::id("chatId", &self.chat_id)?;
        checks::id("userId", &self.user_id)?;
        checks::id("role", &self.role.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::methods::testing::{assert_request, response};
    use crate::protocol::AuthorType;
    use serde_json::json;

    const CHAT: &str = "c8c3eee8-9ad0-4638-9692-ad16391a4256";
    const USER: &str = "user@video.example.com";

    #[test]
    fn spec_5_7_add_chat_participant() {
        assert_request(
            &AddChatParticipant::new(CHAT, USER),
            json!({"chatId": CHAT, "userId": USER}),
        );
        assert_request(
            &AddChatParticipant::new(CHAT, USER).display_history(true),
            json!({"chatId": CHAT, "userId": USER, "displayHistory": true}),
        );
        response::<AddChatParticipant>(json!({}));
    }

    #[test]
    fn spec_5_8_remove_chat_participant() {
        assert_request(
            &RemoveChatParticipant::new(CHAT, USER),
            json!({"chatId": CHAT, "userId": USER}),
        );
        assert_request(
            &RemoveChatParticipant::new(CHAT, USER).clear_history(false),
            json!({"chatId": CHAT, "userId": USER, "clearHistory": false}),
        );
        response::<RemoveChatParticipant>(json!({}));
    }

    #[test]
    fn spec_5_9_has_chat_participant() {
        assert_request(
            &HasChatParticipant::new(CHAT, USER),
            json!({"chatId": CHAT, "userId": USER}),
        );
        assert!(response::<HasChatParticipant>(json!({"result": true})).result);
    }

    #[test]
    fn spec_5_10_get_chat_participants() {
        assert_request(
            &GetChatParticipants::new(CHAT, 100, 1),
            json!({"chatId": CHAT, "pageSize": 100, "pageNumber": 1}),
        );
        let list = response::<GetChatParticipants>(json!({"participants": [
            {"userId": USER, "role": "user"},
            {"userId": "admin@video.example.com", "role": "admin"}
        ]}));
        assert_eq!(list.participants[1].role, ParticipantRole::Admin);
        assert!(GetChatParticipants::new(CHAT, 0, 1).validate().is_err());
    }

    #[test]
    fn get_chat_participant_and_change_role() {
        assert_request(
            &GetChatParticipant::new(CHAT, USER),
            json!({"chatId": CHAT, "userId": USER}),
        );
        let p = response::<GetChatParticipant>(json!({"userId": USER, "role": "owner", "type": 1}));
        assert_eq!(p.user_type, Some(AuthorType::User));
        assert_request(
            &ChangeParticipantRole::new(CHAT, USER, ParticipantRole::Admin),
            json!({"chatId": CHAT, "userId": USER, "role": "admin"}),
        );
        response::<ChangeParticipantRole>(json!({}));
    }

    #[test]
    fn empty_ids_are_rejected() {
        assert_eq!(
            HasChatParticipant::new("", USER)
                .validate()
                .unwrap_err()
                .field,
            "chatId"
        );
        assert_eq!(
            AddChatParticipant::new(CHAT, "")
                .validate()
                .unwrap_err()
                .field,
            "userId"
        );
        let blank_role = ChangeParticipantRole::new(CHAT, USER, ParticipantRole::from_wire(""));
        assert!(blank_role.validate().is_err());
    }
}
