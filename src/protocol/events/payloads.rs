//! The payloads of the server's requests (events), read leniently and
//! written in the shape the server sends, under the method name it uses.

use crate::protocol::envelope::ChatRefWire;
use crate::protocol::lenient;
use crate::protocol::methods::FileUploadLimits;
use crate::protocol::{Chat, Content, Envelope, EnvelopeAuthor, ParticipantRole};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// An event payload the server sends: its method name and wire payload (what
/// the emulator sends).
pub trait ServerEvent {
    /// The `method` of the server's request.
    fn wire_method(&self) -> &'static str;
    /// The `payload` of the server's request.
    fn wire_payload(&self) -> Value;
}

/// Implements [`ServerEvent`] for a type whose serialisation is its payload.
macro_rules! server_event {
    ($($name:ty => $method:literal),* $(,)?) => {$(
        impl ServerEvent for $name {
            fn wire_method(&self) -> &'static str {
                $method
            }
            fn wire_payload(&self) -> Value {
                serde_json::to_value(self).unwrap_or_else(|e| {
                    log::error!("cannot write a {} payload: {e}", $method);
                    Value::Null
                })
            }
        }
    )*};
}

/// The upload-progress method the spec documents; servers in the field send
/// `uploadFileProgress`. Both are read.
pub const UPLOADING_PROGRESS_SPEC_METHOD: &str = "uploadingProgress";

server_event! {
    Envelope => "sendMessage",
    MessageEdited => "editMessage",
    MessageRemoved => "removeMessage",
    ChatRemoved => "removeChat",
    ParticipantAdded => "addChatParticipant",
    ParticipantRemoved => "removeChatParticipant",
    ParticipantRoleChanged => "changeParticipantRole",
    HistoryCleared => "clearHistory",
    ChatTitleChanged => "editChatTitle",
    ChatAvatarChanged => "editChatAvatar",
    FileUploadLimits => "getFileUploadLimits",
    UploadProgress => "uploadFileProgress",
    ButtonCommand => "command",
}

/// `editMessage` event: a message's text changed. The spec sends
/// `messageId`, the SDK reads `chatId`; both are kept when present.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", from = "MessageEditedWire")]
pub struct MessageEdited {
    /// The edited message; empty if the server left it out.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub message_id: String,
    /// The chat, when the server says (flat `chatId` or nested `chat`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chat_id: Option<String>,
    /// When it was edited, in milliseconds since the Unix epoch (0 if the
    /// server did not say).
    pub timestamp: u64,
    /// The new content (typed by `type` if sent, else by its shape).
    pub content: Content,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MessageEditedWire {
    #[serde(default)]
    message_id: Option<String>,
    #[serde(default)]
    chat_id: Option<String>,
    #[serde(default, deserialize_with = "lenient::lossy_option")]
    chat: Option<ChatRefWire>,
    #[serde(default, deserialize_with = "lenient::u64_or_zero")]
    timestamp: u64,
    #[serde(rename = "type", default, deserialize_with = "lenient::opt_u32_any")]
    type_code: Option<u32>,
    #[serde(default)]
    content: Value,
}

impl From<MessageEditedWire> for MessageEdited {
    fn from(wire: MessageEditedWire) -> Self {
        MessageEdited {
            message_id: wire.message_id.unwrap_or_default(),
            chat_id: wire.chat_id.or(wire.chat.and_then(|c| c.chat_id)),
            timestamp: wire.timestamp,
            content: Content::from_wire(wire.type_code.unwrap_or(0), wire.content),
        }
    }
}

/// `removeMessage` event: a message was removed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", try_from = "MessageRemovedWire")]
pub struct MessageRemoved {
    /// The chat (flat `chatId` or nested `chat` on the wire).
    pub chat_id: String,
    /// The removed message.
    pub message_id: String,
    /// Who removed it, when the server says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub removed_by: Option<EnvelopeAuthor>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MessageRemovedWire {
    #[serde(default)]
    chat_id: Option<String>,
    #[serde(default, deserialize_with = "lenient::lossy_option")]
    chat: Option<ChatRefWire>,
    message_id: String,
    #[serde(default, deserialize_with = "lenient::lossy_option")]
    removed_by: Option<EnvelopeAuthor>,
}

impl TryFrom<MessageRemovedWire> for MessageRemoved {
    type Error = &'static str;
    fn try_from(wire: MessageRemovedWire) -> Result<Self, Self::Error> {
        Ok(MessageRemoved {
            chat_id: wire
                .chat_id
                .or(wire.chat.and_then(|c| c.chat_id))
                .ok_or("neither chatId nor chat.chatId")?,
            message_id: wire.message_id,
            removed_by: wire.removed_by,
        })
    }
}

/// Which chat-created event a [`ChatCreated`] came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChatKind {
    /// `createP2PChat`: a personal chat.
    P2p,
    /// `createGroupChat`: a group chat.
    Group,
    /// `createChannel`: a channel.
    Channel,
    /// `createFavoritesChat`: the "Favorites" chat.
    Favorites,
}

impl ChatKind {
    /// The event's method name.
    pub fn method(self) -> &'static str {
        match self {
            ChatKind::P2p => "createP2PChat",
            ChatKind::Group => "createGroupChat",
            ChatKind::Channel => "createChannel",
            ChatKind::Favorites => "createFavoritesChat",
        }
    }

    /// The kind for an event's method name.
    pub fn from_method(method: &str) -> Option<ChatKind> {
        [
            ChatKind::P2p,
            ChatKind::Group,
            ChatKind::Channel,
            ChatKind::Favorites,
        ]
        .into_iter()
        .find(|kind| kind.method() == method)
    }
}

/// `createP2PChat` / `createGroupChat` / `createChannel` /
/// `createFavoritesChat` events: a chat with the bot was created. The wire
/// payload is the chat; the kind is the method.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatCreated {
    /// Which event it was.
    pub kind: ChatKind,
    /// The chat.
    pub chat: Chat,
}

impl ServerEvent for ChatCreated {
    fn wire_method(&self) -> &'static str {
        self.kind.method()
    }
    fn wire_payload(&self) -> Value {
        serde_json::to_value(&self.chat).unwrap_or_else(|e| {
            log::error!("cannot write a {} payload: {e}", self.kind.method());
            Value::Null
        })
    }
}

/// `removeChat` event: a chat was removed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChatRemoved {
    /// The removed chat.
    pub chat_id: String,
}

/// `addChatParticipant` event: a user joined a chat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ParticipantAdded {
    /// The chat.
    pub chat_id: String,
    /// The added user.
    pub user_id: String,
    /// Who added them, when the server says.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::lossy_option"
    )]
    pub added_by: Option<EnvelopeAuthor>,
    /// When, in milliseconds since the Unix epoch (strings accepted; 0 if
    /// the server did not say).
    #[serde(default, deserialize_with = "lenient::u64_or_zero")]
    pub timestamp: u64,
}

/// `removeChatParticipant` event: a user left or was removed from a chat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ParticipantRemoved {
    /// The chat.
    pub chat_id: String,
    /// The removed user.
    pub user_id: String,
    /// Who removed them, when the server says (`addedBy`, as spec 11.2.48's
    /// table names it, is accepted).
    #[serde(
        default,
        alias = "addedBy",
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::lossy_option"
    )]
    pub removed_by: Option<EnvelopeAuthor>,
    /// When, in milliseconds since the Unix epoch (strings accepted; 0 if
    /// the server did not say).
    #[serde(default, deserialize_with = "lenient::u64_or_zero")]
    pub timestamp: u64,
}

/// `changeParticipantRole` event: a participant's role changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ParticipantRoleChanged {
    /// The chat.
    pub chat_id: String,
    /// The participant.
    pub user_id: String,
    /// The new role.
    pub role: ParticipantRole,
    /// When, in milliseconds since the Unix epoch (strings accepted; 0 if
    /// the server did not say).
    #[serde(default, deserialize_with = "lenient::u64_or_zero")]
    pub timestamp: u64,
}

/// `clearHistory` event: a chat's history was cleared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryCleared {
    /// The chat.
    pub chat_id: String,
    /// Whether for everyone (`"true"` accepted).
    #[serde(default, deserialize_with = "lenient::bool_any")]
    pub for_all: bool,
}

/// `editChatTitle` event: a chat was renamed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChatTitleChanged {
    /// The chat.
    pub chat_id: String,
    /// The new title.
    pub title: String,
}

/// `editChatAvatar` event: a chat's avatar changed.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChatAvatarChanged {
    /// The chat.
    pub chat_id: String,
    /// Where the new avatar can be downloaded; `None` when removed.
    #[serde(default)]
    pub avatar_url: Option<String>,
}

impl std::fmt::Debug for ChatAvatarChanged {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChatAvatarChanged")
            .field("chat_id", &self.chat_id)
            .field("avatar_url", &crate::secret::shown_url(&self.avatar_url))
            .finish()
    }
}

/// `uploadFileProgress` (or `uploadingProgress`) event: how much of a file
/// the server has received.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UploadProgress {
    /// The file.
    pub file_id: String,
    /// Bytes uploaded so far; equal to the file's size when complete.
    #[serde(deserialize_with = "lenient::u64_any")]
    pub progress: u64,
}

/// Where a button press came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CommandSource {
    /// The source kind, e.g. `inlineKeyboard`.
    #[serde(rename = "type", default, deserialize_with = "lenient::null_default")]
    pub source_type: String,
    /// The message whose button was pressed (dropped if undecodable).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::lossy_option"
    )]
    pub message: Option<Envelope>,
    /// The pressed button's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub button_id: Option<String>,
    /// Whether the client waits for the bot's answer.
    #[serde(
        default,
        skip_serializing_if = "std::ops::Not::not",
        deserialize_with = "lenient::bool_any"
    )]
    pub wait_reply: bool,
}

/// What a button press asks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CommandPayload {
    /// The payload kind, e.g. `userCommand`.
    #[serde(rename = "type", default, deserialize_with = "lenient::null_default")]
    pub payload_type: String,
    /// The button's command.
    pub command: String,
    /// The button's custom data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_data: Option<String>,
}

/// `command` event: a user pressed a command button.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ButtonCommand {
    /// Where it was pressed.
    pub command_source: CommandSource,
    /// What it asks for.
    pub command_payload: CommandPayload,
    /// The command's id, as the server sends it (some servers leave it
    /// out). No API method takes it: answer a command with a message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command_id: Option<String>,
}
