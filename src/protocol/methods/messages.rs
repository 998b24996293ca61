//! Message methods: send, edit, forward, fetch, list, remove, and the
//! chat activity indicator.

use super::{checks, Empty};
use crate::protocol::lenient;
use crate::protocol::{
    ChatActivity, Envelope, InlineKeyboard, InvalidInput, Method, ParseMode, TextContent,
};
use serde::{Deserialize, Serialize};

/// `{chatId, messageId, timestamp}`: the answer to `sendMessage`,
/// `forwardMessage` and `sendSurvey`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SentMessage {
    /// The chat the message went to.
    pub chat_id: String,
    /// The new message's id.
    pub message_id: String,
    /// When it was sent, in milliseconds since the Unix epoch.
    #[serde(deserialize_with = "lenient::u64_any")]
    pub timestamp: u64,
}

/// `{messageId, timestamp}`: the answer to `editMessage` and `editSurvey`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EditMessageResponse {
    /// The edited message (the spec's object section omits it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    /// When it was edited, in milliseconds since the Unix epoch.
    #[serde(deserialize_with = "lenient::u64_any")]
    pub timestamp: u64,
}

fn check_content(content: &TextContent) -> Result<(), InvalidInput> {
    checks::text("content.text", &content.text)?;
    checks::parse_mode("content.parseMode", &content.parse_mode)?;
    match &content.buttons {
        Some(keyboard) => keyboard.validate(),
        None => Ok(()),
    }
}

/// `sendMessage`: a text message, optionally a reply, optionally with
/// buttons. `replyMessageId` is always written (`null` when not a reply),
/// as the SDK does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SendMessage {
    /// The chat.
    pub chat_id: String,
    /// The message replied to.
    #[serde(default)]
    pub reply_message_id: Option<String>,
    /// The text, its parse mode and buttons.
    pub content: TextContent,
}

impl SendMessage {
    /// Plain text (parse mode `text`) to chat `chat_id`.
    pub fn new(chat_id: impl Into<String>, text: impl Into<String>) -> SendMessage {
        SendMessage {
            chat_id: chat_id.into(),
            reply_message_id: None,
            content: TextContent::new(text, ParseMode::Text),
        }
    }

    /// Sets how the text is rendered.
    pub fn parse_mode(mut self, parse_mode: ParseMode) -> SendMessage {
        self.content.parse_mode = parse_mode;
        self
    }

    /// Makes the message a reply to `message_id`.
    pub fn reply_to(mut self, message_id: impl Into<String>) -> SendMessage {
        self.reply_message_id = Some(message_id.into());
        self
    }

    /// Puts buttons under the message.
    pub fn buttons(mut self, buttons: impl Into<InlineKeyboard>) -> SendMessage {
        self.content.buttons = Some(buttons.into());
        self
    }
}

impl Method for SendMessage {
    const NAME: &'static str = "sendMessage";
    type Response = SentMessage;
    fn validate(&self) -> Result<(), InvalidInput> {
        checks::id("chatId", &self.chat_id)?;
        if let Some(reply) = &self.reply_message_id {
            checks::id("replyMessageId", reply)?;
        }
        check_content(&self.content)
    }
}

/// `editMessage`: replaces a message's text, parse mode and buttons (a full
/// overwrite: buttons left out are removed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EditMessage {
    /// The message.
    pub message_id: String,
    /// The new text, parse mode and buttons.
    pub content: TextContent,
}

impl EditMessage {
    /// Replaces message `message_id` with plain `text`.
    pub fn new(message_id: impl Into<String>, text: impl Into<String>) -> EditMessage {
        EditMessage {
            message_id: message_id.into(),
            content: TextContent::new(text, ParseMode::Text),
        }
    }

    /// Sets how the text is rendered.
    pub fn parse_mode(mut self, parse_mode: ParseMode) -> EditMessage {
        self.content.parse_mode = parse_mode;
        self
    }

    /// Puts buttons under the message.
    pub fn buttons(mut self, buttons: impl Into<InlineKeyboard>) -> EditMessage {
        self.content.buttons = Some(buttons.into());
        self
    }
}

impl Method for EditMessage {
    const NAME: &'static str = "editMessage";
    type Response = EditMessageResponse;
    fn validate(&self) -> Result<(), InvalidInput> {
        checks::id("messageId", &self.message_id)?;
        check_content(&self.content)
    }
}

/// `forwardMessage`: forwards a message to a chat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ForwardMessage {
    /// The destination chat.
    pub chat_id: String,
    /// The message forwarded.
    pub message_id: String,
}

impl ForwardMessage {
    /// Forwards message `message_id` to chat `chat_id`.
    pub fn new(chat_id: impl Into<String>, message_id: impl Into<String>) -> ForwardMessage {
        ForwardMessage {
            chat_id: chat_id.into(),
            message_id: message_id.into(),
        }
    }
}

impl Method for ForwardMessage {
    const NAME: &'static str = "forwardMessage";
    type Response = SentMessage;
    fn validate(&self) -> Result<(), InvalidInput> {
        checks::id("chatId", &self.chat_id)?;
        checks::id("messageId", &self.message_id)
    }
}

/// `getMessageById`: one message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetMessageById {
    /// The message.
    pub message_id: String,
}

impl GetMessageById {
    /// Message `message_id`.
    pub fn new(message_id: impl Into<String>) -> GetMessageById {
        GetMessageById {
            message_id: message_id.into(),
        }
    }
}

impl Method for GetMessageById {
    const NAME: &'static str = "getMessageById";
    type Response = Envelope;
    fn validate(&self) -> Result<(), InvalidInput> {
        checks::id("messageId", &self.message_id)
    }
}

/// `getChatHistory`: messages from the newest (or from `fromMessageId`)
/// back. `fromMessageId` is always written (`null` when unset), as the SDK
/// does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetChatHistory {
    /// The chat.
    pub chat_id: String,
    /// At most this many messages.
    pub count: u32,
    /// Start from this message instead of the newest.
    #[serde(default)]
    pub from_message_id: Option<String>,
}

impl GetChatHistory {
    /// The newest `count` messages of chat `chat_id`.
    pub fn new(chat_id: impl Into<String>, count: u32) -> GetChatHistory {
        GetChatHistory {
            chat_id: chat_id.into(),
            count,
            from_message_id: None,
        }
    }

    /// Starts from message `message_id`.
    pub fn from_message(mut self, message_id: impl Into<String>) -> GetChatHistory {
        self.from_message_id = Some(message_id.into());
        self
    }
}

/// The answer to `getChatHistory`. Messages that come without a `chatId`
/// (as in the guide's example) get the answer's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self", rename_all = "camelCase")]
pub struct ChatHistory {
    /// The chat.
    pub chat_id: String,
    /// How many messages came.
    #[serde(default, deserialize_with = "lenient::u32_or_zero")]
    pub count: u32,
    /// The messages, newest first (`null` is empty; a message that does not
    /// decode is skipped with a warning).
    #[serde(default, deserialize_with = "lenient::lossy_vec")]
    pub messages: Vec<Envelope>,
}

impl Serialize for ChatHistory {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        ChatHistory::serialize(self, s)
    }
}

impl<'de> Deserialize<'de> for ChatHistory {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut history = ChatHistory::deserialize(d)?;
        for m in &mut history.messages {
            if m.chat_id.is_empty() {
                m.chat_id.clone_from(&history.chat_id);
            }
        }
        Ok(history)
    }
}

impl Method for GetChatHistory {
    const NAME: &'static str = "getChatHistory";
    type Response = ChatHistory;
    fn validate(&self) -> Result<(), InvalidInput> {
        checks::id("chatId", &self.chat_id)?;
        checks::positive("count", self.count.into())?;
        match &self.from_message_id {
            Some(id) => checks::id("fromMessageId", id),
            None => Ok(()),
        }
    }
}

/// `removeMessage`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RemoveMessage {
    /// The message.
    pub message_id: String,
    /// For everyone (`true`) or only for the bot.
    #[serde(default)]
    pub for_all: bool,
}

impl RemoveMessage {
    /// Removes message `message_id`, for everyone if `for_all`.
    pub fn new(message_id: impl Into<String>, for_all: bool) -> RemoveMessage {
        RemoveMessage {
            message_id: message_id.into(),
            for_all,
        }
    }
}

impl Method for RemoveMessage {
    const NAME: &'static str = "removeMessage";
    type Response = Empty;
    fn validate(&self) -> Result<(), InvalidInput> {
        checks::id("messageId", &self.message_id)
    }
}

/// `sendChatActivity`: shows "typing..." (or another activity) in a chat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SendChatActivity {
    /// The chat.
    pub chat_id: String,
    /// What to show.
    pub activity_type: ChatActivity,
}

impl SendChatActivity {
    /// Shows `activity` in chat `chat_id`.
    pub fn new(chat_id: impl Into<String>, activity: ChatActivity) -> SendChatActivity {
        SendChatActivity {
            chat_id: chat_id.into(),
            activity_type: activity,
        }
    }
}

/// The answer to `sendChatActivity` (every field optional; `{}` accepted).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChatActivityResponse {
    /// The chat.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chat_id: Option<String>,
    /// The activity shown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activity_type: Option<ChatActivity>,
    /// Milliseconds to wait before sending the activity again.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_u64_any"
    )]
    pub retry_after: Option<u64>,
}

impl Method for SendChatActivity {
    const NAME: &'static str = "sendChatActivity";
    type Response = ChatActivityResponse;
    fn validate(&self) -> Result<(), InvalidInput> {
        checks::id("chatId", &self.chat_id)?;
        checks::id("activityType", self.activity_type.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::methods::testing::{assert_request, response};
    use crate::protocol::{Button, Content};
    use serde_json::json;

    const CHAT: &str = "c8c3eee8-9ad0-4638-9692-ad16391a4256";
    const MSG: &str = "8fe61d87-6db0-4792-8f5e-e5960c7d5a06";

    #[test]
    fn spec_7_1_send_message_with_the_sdks_explicit_null_reply() {
        // The spec's example plus `"replyMessageId": null`, as the SDK sends.
        assert_request(
            &SendMessage::new(CHAT, "Hello, world!"),
            json!({
                "chatId": CHAT,
                "replyMessageId": null,
                "content": {"text": "Hello, world!", "parseMode": "text"}
            }),
        );
        // The spec's exact example (no replyMessageId) decodes too.
        let spec: SendMessage = serde_json::from_value(json!({
            "chatId": CHAT,
            "content": {"text": "Hello, world!", "parseMode": "text"}
        }))
        .unwrap();
        assert_eq!(spec, SendMessage::new(CHAT, "Hello, world!"));
        let r = response::<SendMessage>(json!({
            "chatId": CHAT,
            "messageId": "8fe61d87-6db0-4792-8f5e-e5960c7d5a06",
            "timestamp": 1735314170572u64
        }));
        assert_eq!(r.timestamp, 1735314170572);
    }

    #[test]
    fn spec_7_3_reply() {
        assert_request(
            &SendMessage::new(CHAT, "Hello, world!")
                .reply_to("3d968a21-543c-4fb2-9d8e-e31e3fbb35eb"),
            json!({
                "chatId": CHAT,
                "replyMessageId": "3d968a21-543c-4fb2-9d8e-e31e3fbb35eb",
                "content": {"text": "Hello, world!", "parseMode": "text"}
            }),
        );
    }

    #[test]
    fn send_message_with_buttons_and_markdown() {
        let request = SendMessage::new("chat-1", "*Pick*")
            .parse_mode(ParseMode::Markdown)
            .buttons(vec![vec![Button::command("OK", "confirm")]]);
        assert_request(
            &request,
            json!({
                "chatId": "chat-1",
                "replyMessageId": null,
                "content": {
                    "text": "*Pick*", "parseMode": "markdown",
                    "buttons": [[{"type": "command", "label": "OK", "command": "confirm"}]]
                }
            }),
        );
    }

    #[test]
    fn spec_7_4_edit_message() {
        assert_request(
            &EditMessage::new(MSG, "Hello, world (edited)!"),
            json!({
                "messageId": MSG,
                "content": {"text": "Hello, world (edited)!", "parseMode": "text"}
            }),
        );
        let r = response::<EditMessage>(json!({"messageId": MSG, "timestamp": 1735314170572u64}));
        assert_eq!(r.message_id.as_deref(), Some(MSG));
        let bare: EditMessageResponse =
            serde_json::from_value(json!({"timestamp": "1735314170572"})).unwrap();
        assert_eq!(bare.message_id, None);
    }

    #[test]
    fn spec_7_5_forward_message() {
        assert_request(
            &ForwardMessage::new("4a1f88f1070d2f43d385cde9ff61964bc6b74477", MSG),
            json!({"chatId": "4a1f88f1070d2f43d385cde9ff61964bc6b74477", "messageId": MSG}),
        );
        response::<ForwardMessage>(json!({
            "chatId": "4a1f88f1070d2f43d385cde9ff61964bc6b74477",
            "messageId": "3e168850-d9ea-45ec-a0f7-21c43e8ba2a8",
            "timestamp": 1735314170572u64
        }));
    }

    #[test]
    fn spec_7_6_get_message_by_id() {
        assert_request(&GetMessageById::new(MSG), json!({"messageId": MSG}));
        let e: Envelope = serde_json::from_value(json!({
            "chatId": "2b896a6ef210d6b2dcaebc2186c9a7974d616054",
            "messageId": MSG,
            "timestamp": 1234567890,
            "author": {"id": "user@video.example.com", "type": 1},
            "replyMessageId": null,
            "isEdited": true,
            "box": {"id": 123456, "position": "0"},
            "type": 0,
            "content": {"text": "Hello, chat bot!", "parseMode": "html"}
        }))
        .unwrap();
        assert!(matches!(e.content, Content::Text(_)));
    }

    #[test]
    fn spec_7_7_get_chat_history() {
        let chat = "4a1f88f1070d2f43d385cde9ff61964bc6b74477";
        assert_request(
            &GetChatHistory::new(chat, 9999).from_message("e37cfc52-592f-453f-a3dd-275170b2018d"),
            json!({
                "chatId": chat, "count": 9999,
                "fromMessageId": "e37cfc52-592f-453f-a3dd-275170b2018d"
            }),
        );
        assert_request(
            &GetChatHistory::new(chat, 5),
            json!({"chatId": chat, "count": 5, "fromMessageId": null}),
        );
        let history: ChatHistory = serde_json::from_value(json!({
            "chatId": chat,
            "count": 1,
            "messages": [{
                "messageId": MSG,
                "timestamp": 1234567890,
                "author": {"id": "user@video.example.com", "type": 1},
                "replyMessageId": null,
                "isEdited": true,
                "box": {"id": 123456, "position": ""},
                "type": 0,
                "content": {"text": "Hello, chat bot!", "parseMode": "html"}
            }]
        }))
        .unwrap();
        assert_eq!(history.messages.len(), 1);
        assert_eq!(history.messages[0].text(), Some("Hello, chat bot!"));
        // The example's messages carry no chatId: they get the answer's.
        assert_eq!(history.messages[0].chat_id, chat);
        // One that names its chat keeps it.
        let own: ChatHistory = serde_json::from_value(json!({
            "chatId": chat, "count": 1,
            "messages": [{"chatId": "other", "messageId": MSG, "timestamp": 1,
                          "author": {"id": "u@s", "type": 1}, "type": 200,
                          "content": {"text": "x", "parseMode": "text"}}]
        }))
        .unwrap();
        assert_eq!(own.messages[0].chat_id, "other");
        assert_eq!(serde_json::to_value(&own).unwrap()["chatId"], chat);
        let none: ChatHistory =
            serde_json::from_value(json!({"chatId": chat, "count": 0, "messages": null})).unwrap();
        assert!(none.messages.is_empty());
        assert!(GetChatHistory::new(chat, 0).validate().is_err());
    }

    #[test]
    fn spec_7_8_remove_message() {
        assert_request(
            &RemoveMessage::new(MSG, true),
            json!({"messageId": MSG, "forAll": true}),
        );
        response::<RemoveMessage>(json!({}));
    }

    #[test]
    fn send_chat_activity() {
        assert_request(
            &SendChatActivity::new("c", ChatActivity::Typing),
            json!({"chatId": "c", "activityType": "typing"}),
        );
        let r = response::<SendChatActivity>(
            json!({"chatId": "c", "activityType": "typing", "retryAfter": 5000}),
        );
        assert_eq!(r.retry_after, Some(5000));
    }

    #[test]
    fn text_is_limited_to_4096_characters_not_bytes() {
        let ok = "ж".repeat(4096); // 8192 bytes
        assert!(SendMessage::new("c", ok.clone()).validate().is_ok());
        assert!(EditMessage::new("m", ok).validate().is_ok());
        let long = "ж".repeat(4097);
        let err = SendMessage::new("c", long.clone()).validate().unwrap_err();
        assert_eq!(err.field, "content.text");
        assert!(EditMessage::new("m", long).validate().is_err());
        assert!(SendMessage::new("c", "x".repeat(4097)).validate().is_err());
    }

    #[test]
    fn ids_parse_modes_and_buttons_are_checked() {
        assert!(SendMessage::new("", "hi").validate().is_err());
        assert!(SendMessage::new("c", "hi").reply_to("").validate().is_err());
        assert!(EditMessage::new("", "hi").validate().is_err());
        assert!(ForwardMessage::new("c", "").validate().is_err());
        assert!(GetMessageById::new(" ").validate().is_err());
        assert!(RemoveMessage::new("", true).validate().is_err());
        let blank_mode = SendMessage::new("c", "hi").parse_mode(ParseMode::from_wire(""));
        assert_eq!(
            blank_mode.validate().unwrap_err().field,
            "content.parseMode"
        );
        let rows = vec![vec![Button::command("b", "/b")]; 9];
        assert!(SendMessage::new("c", "hi")
            .buttons(rows.clone())
            .validate()
            .is_err());
        assert!(EditMessage::new("m", "hi")
            .buttons(rows)
            .validate()
            .is_err());
    }
}
