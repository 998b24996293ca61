//! Chat methods: create, look up, list, remove, clear, rename, re-avatar.

use super::{checks, empty_payload, Empty};
use crate::protocol::lenient;
use crate::protocol::{Chat, ChatList, InvalidInput, Method};
use serde::{Deserialize, Serialize};

/// `{"chatId": ...}`: the answer to the chat-creating methods.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChatIdResponse {
    /// The created (or existing) chat's id.
    pub chat_id: String,
}

/// `createP2PChat`: the personal chat with a user (created if needed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateP2PChat {
    /// The other user's TrueConf ID.
    pub user_id: String,
}

impl CreateP2PChat {
    /// The personal chat with `user_id`.
    pub fn new(user_id: impl Into<String>) -> CreateP2PChat {
        CreateP2PChat {
            user_id: user_id.into(),
        }
    }
}

impl Method for CreateP2PChat {
    const NAME: &'static str = "createP2PChat";
    type Response = ChatIdResponse;
    fn validate(&self) -> Result<(), InvalidInput> {
        checks::id("userId", &self.user_id)
    }
}

/// `createGroupChat`. Sent with `title` (the SDK and spec 11.2.10); `name`
/// (spec 5.2's example) is accepted when decoding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateGroupChat {
    /// The chat's title.
    #[serde(alias = "name")]
    pub title: String,
}

impl CreateGroupChat {
    /// A group chat titled `title`.
    pub fn new(title: impl Into<String>) -> CreateGroupChat {
        CreateGroupChat {
            title: title.into(),
        }
    }
}

impl Method for CreateGroupChat {
    const NAME: &'static str = "createGroupChat";
    type Response = ChatIdResponse;
    fn validate(&self) -> Result<(), InvalidInput> {
        checks::title("title", &self.title)
    }
}

/// `createChannel`. Sent with `title`; `name` accepted when decoding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateChannel {
    /// The channel's title.
    #[serde(alias = "name")]
    pub title: String,
}

impl CreateChannel {
    /// A channel titled `title`.
    pub fn new(title: impl Into<String>) -> CreateChannel {
        CreateChannel {
            title: title.into(),
        }
    }
}

impl Method for CreateChannel {
    const NAME: &'static str = "createChannel";
    type Response = ChatIdResponse;
    fn validate(&self) -> Result<(), InvalidInput> {
        checks::title("title", &self.title)
    }
}

empty_payload! {
    /// `createFavoritesChat`: the bot's "Favorites" chat (payload `{}`).
    CreateFavoritesChat
}

impl CreateFavoritesChat {
    /// The request.
    pub fn new() -> CreateFavoritesChat {
        CreateFavoritesChat
    }
}

impl Method for CreateFavoritesChat {
    const NAME: &'static str = "createFavoritesChat";
    type Response = ChatIdResponse;
}

/// `getChatByID` (capital `ID` on the wire): one chat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetChatById {
    /// The chat id.
    pub chat_id: String,
}

impl GetChatById {
    /// The chat `chat_id`.
    pub fn new(chat_id: impl Into<String>) -> GetChatById {
        GetChatById {
            chat_id: chat_id.into(),
        }
    }
}

impl Method for GetChatById {
    const NAME: &'static str = "getChatByID";
    type Response = Chat;
    fn validate(&self) -> Result<(), InvalidInput> {
        checks::id("chatId", &self.chat_id)
    }
}

/// `getChats`: one page of the bot's chats.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetChats {
    /// At most this many chats.
    pub count: u32,
    /// The page number, from 1.
    pub page: u32,
}

impl GetChats {
    /// Page `page` (from 1) of `count` chats.
    pub fn new(count: u32, page: u32) -> GetChats {
        GetChats { count, page }
    }
}

impl Method for GetChats {
    const NAME: &'static str = "getChats";
    type Response = ChatList;
    fn validate(&self) -> Result<(), InvalidInput> {
        checks::positive("count", self.count.into())?;
        checks::positive("page", self.page.into())
    }
}

/// `removeChat`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RemoveChat {
    /// The chat to remove.
    pub chat_id: String,
}

impl RemoveChat {
    /// Removes chat `chat_id`.
    pub fn new(chat_id: impl Into<String>) -> RemoveChat {
        RemoveChat {
            chat_id: chat_id.into(),
        }
    }
}

/// The answer to `removeChat`: the spec echoes the chat id, the SDK reads
/// nothing; both `{chatId}` and `{}` are accepted.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RemoveChatResponse {
    /// The removed chat's id, when echoed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chat_id: Option<String>,
}

impl Method for RemoveChat {
    const NAME: &'static str = "removeChat";
    type Response = RemoveChatResponse;
    fn validate(&self) -> Result<(), InvalidInput> {
        checks::id("chatId", &self.chat_id)
    }
}

/// `clearHistory`: removes a chat's messages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClearHistory {
    /// The chat.
    pub chat_id: String,
    /// For everyone (`true`) or only for the bot.
    #[serde(default)]
    pub for_all: bool,
}

impl ClearHistory {
    /// Clears chat `chat_id`, for everyone if `for_all`.
    pub fn new(chat_id: impl Into<String>, for_all: bool) -> ClearHistory {
        ClearHistory {
            chat_id: chat_id.into(),
            for_all,
        }
    }
}

impl Method for ClearHistory {
    const NAME: &'static str = "clearHistory";
    type Response = Empty;
    fn validate(&self) -> Result<(), InvalidInput> {
        checks::id("chatId", &self.chat_id)
    }
}

/// `editChatTitle`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EditChatTitle {
    /// The chat.
    pub chat_id: String,
    /// The new title.
    pub title: String,
}

impl EditChatTitle {
    /// Renames chat `chat_id` to `title`.
    pub fn new(chat_id: impl Into<String>, title: impl Into<String>) -> EditChatTitle {
        EditChatTitle {
            chat_id: chat_id.into(),
            title: title.into(),
        }
    }
}

/// The answer to `editChatTitle` (`{chatId, timestamp}` per the SDK; both
/// optional here, `{}` is accepted).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EditChatTitleResponse {
    /// The chat.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chat_id: Option<String>,
    /// When the title changed, in milliseconds since the Unix epoch.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_u64_any"
    )]
    pub timestamp: Option<u64>,
}

impl Method for EditChatTitle {
    const NAME: &'static str = "editChatTitle";
    type Response = EditChatTitleResponse;
    fn validate(&self) -> Result<(), InvalidInput> {
        checks::id("chatId", &self.chat_id)?;
        checks::title("title", &self.title)
    }
}

/// `editChatAvatar`: sets a chat's avatar from an uploaded file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EditChatAvatar {
    /// The chat.
    pub chat_id: String,
    /// The `temporalFileId` of the uploaded image.
    pub temporal_file_id: String,
}

impl EditChatAvatar {
    /// Sets chat `chat_id`'s avatar to uploaded file `temporal_file_id`.
    pub fn new(chat_id: impl Into<String>, temporal_file_id: impl Into<String>) -> EditChatAvatar {
        EditChatAvatar {
            chat_id: chat_id.into(),
            temporal_file_id: temporal_file_id.into(),
        }
    }
}

impl Method for EditChatAvatar {
    const NAME: &'static str = "editChatAvatar";
    type Response = Empty;
    fn validate(&self) -> Result<(), InvalidInput> {
        checks::id("chatId", &self.chat_id)?;
        checks::id("temporalFileId", &self.temporal_file_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::methods::testing::{assert_request, response};
    use crate::protocol::ChatType;
    use serde_json::json;

    const CHAT: &str = "2b896a6ef210d6b2dcaebc2186c9a7974d616054";

    #[test]
    fn spec_5_1_create_p2p_chat() {
        assert_request(
            &CreateP2PChat::new("user@video.example.com"),
            json!({"userId": "user@video.example.com"}),
        );
        let r = response::<CreateP2PChat>(
            json!({"chatId": "4a1f88f1070d2f43d385cde9ff61964bc6b74477"}),
        );
        assert_eq!(r.chat_id, "4a1f88f1070d2f43d385cde9ff61964bc6b74477");
    }

    #[test]
    fn spec_5_2_create_group_chat_sends_title_accepts_name() {
        let title = "TrueConf Server Administrators’ Chat";
        assert_request(&CreateGroupChat::new(title), json!({"title": title}));
        let from_name: CreateGroupChat = serde_json::from_value(json!({"name": title})).unwrap();
        assert_eq!(from_name, CreateGroupChat::new(title));
        response::<CreateGroupChat>(json!({"chatId": CHAT}));
    }

    #[test]
    fn spec_5_3_create_channel() {
        assert_request(
            &CreateChannel::new("Company news"),
            json!({"title": "Company news"}),
        );
        response::<CreateChannel>(json!({"chatId": CHAT}));
    }

    #[test]
    fn create_favorites_chat_sends_an_empty_object() {
        assert_request(&CreateFavoritesChat::new(), json!({}));
        let none: CreateFavoritesChat = serde_json::from_str("null").unwrap();
        assert_eq!(none, CreateFavoritesChat);
        response::<CreateFavoritesChat>(json!({"chatId": "fav"}));
    }

    #[test]
    fn spec_5_4_get_chat_by_id() {
        assert_request(&GetChatById::new(CHAT), json!({"chatId": CHAT}));
        let chat: Chat = serde_json::from_value(json!({
            "chatId": CHAT,
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
        }))
        .unwrap();
        assert_eq!(chat.chat_type, ChatType::Group);
        let last = chat.last_message.as_ref().map(|m| m.timestamp);
        assert_eq!(last, Some(1746028006345));
    }

    #[test]
    fn spec_5_5_get_chats() {
        assert_request(&GetChats::new(10, 1), json!({"count": 10, "page": 1}));
        assert!(GetChats::new(10, 0).validate().is_err());
        assert!(GetChats::new(0, 1).validate().is_err());
    }

    #[test]
    fn spec_5_6_remove_chat() {
        let id = "c8c3eee8-9ad0-4638-9692-ad16391a4256";
        assert_request(&RemoveChat::new(id), json!({"chatId": id}));
        let r = response::<RemoveChat>(json!({"chatId": id}));
        assert_eq!(r.chat_id.as_deref(), Some(id));
        let empty: RemoveChatResponse = serde_json::from_value(json!({})).unwrap();
        assert_eq!(empty.chat_id, None);
        assert!(RemoveChat::new("").validate().is_err());
    }

    #[test]
    fn clear_history_and_edits() {
        assert_request(
            &ClearHistory::new("c", true),
            json!({"chatId": "c", "forAll": true}),
        );
        response::<ClearHistory>(json!({}));
        assert_request(
            &EditChatTitle::new("c", "New"),
            json!({"chatId": "c", "title": "New"}),
        );
        let r = response::<EditChatTitle>(json!({"chatId": "c", "timestamp": 1735314170572u64}));
        assert_eq!(r.timestamp, Some(1735314170572));
        assert_request(
            &EditChatAvatar::new("c", "tmp-1"),
            json!({"chatId": "c", "temporalFileId": "tmp-1"}),
        );
        response::<EditChatAvatar>(json!({}));
        assert!(EditChatAvatar::new("c", "").validate().is_err());
    }

    #[test]
    fn titles_are_limited_to_256_characters() {
        let ok = "я".repeat(256);
        assert!(CreateGroupChat::new(ok.clone()).validate().is_ok());
        assert!(CreateChannel::new(ok.clone()).validate().is_ok());
        assert!(EditChatTitle::new("c", ok).validate().is_ok());
        let long = "я".repeat(257);
        let err = CreateGroupChat::new(long.clone()).validate().unwrap_err();
        assert_eq!(err.field, "title");
        assert!(CreateChannel::new(long.clone()).validate().is_err());
        assert!(EditChatTitle::new("c", long).validate().is_err());
        assert!(CreateGroupChat::new("").validate().is_err());
        assert!(EditChatTitle::new(" ", "t").validate().is_err());
    }
}
