//! Wire types of the Chatbot API: frames, enums, envelopes, chats, and each
//! method's request and response payloads. Serde only, no I/O.
//!
//! Every type here tolerates what real servers send: unknown fields are
//! ignored, unknown enum values are kept, `null` is accepted where a value is
//! documented, and numbers may arrive as strings.
//!
//! - [`frame`]: the JSON frame around every message;
//! - [`Method`] and [`methods`]: each client command's request and response;
//! - [`events`]: the server's requests as [`Event`]s ([`decode_event`]);
//! - [`envelope`] and [`content`]: a message and what it carries;
//! - [`chat`], [`buttons`], [`survey`]: chats, inline buttons, surveys;
//! - the enums ([`ChatType`], [`ParseMode`]...), [`text`] escaping, and
//!   [`lenient`] decoding helpers.
//!
//! The same types serve the client (writing requests, reading responses and
//! events) and the emulator (reading requests, writing responses and events).

pub mod frame;
pub mod lenient;
#[macro_use]
mod enums;
pub mod buttons;
pub mod chat;
pub mod content;
pub mod envelope;
mod envelope_scan;
pub mod events;
pub mod methods;
pub mod survey;
pub mod text;

pub use buttons::{Button, ButtonStyle, ButtonType, InlineKeyboard};
pub use chat::{Chat, ChatList, ChatParticipant, ParticipantList};
pub use content::{
    AttachmentContent, AvatarChangedContent, Content, HistoryClearedContent, LocationContent,
    ParticipantContent, RemovedParticipantContent, TextContent, TitleChangedContent, VoiceContent,
};
pub use enums::{
    AuthorType, ChatActivity, ChatType, EnvelopeType, FileReadyState, OAuthError, ParseMode,
    ParticipantRole,
};
pub use envelope::{sort_envelopes, Envelope, EnvelopeAuthor, EnvelopeBox};
pub use events::{decode_event, Event};
pub use survey::{EditSurveyContent, SurveyContent};
pub use text::{escape_html, escape_markdown};

use serde::de::DeserializeOwned;
use serde::Serialize;

/// A request input that the server would reject or mishandle, caught before
/// anything is sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {field}: {reason}")]
pub struct InvalidInput {
    /// The offending field, e.g. `content.text`.
    pub field: &'static str,
    /// What is wrong with it.
    pub reason: String,
}

impl InvalidInput {
    /// Builds an [`InvalidInput`].
    pub fn new(field: &'static str, reason: impl Into<String>) -> Self {
        InvalidInput {
            field,
            reason: reason.into(),
        }
    }
}

/// One client command of the Chatbot API: its wire name, its payload (the
/// implementing type) and the payload of its successful response.
pub trait Method: Serialize {
    /// The `method` field on the wire, e.g. `"sendMessage"`.
    const NAME: &'static str;
    /// The payload of a successful response.
    type Response: DeserializeOwned;
    /// Rejects locally what the server would reject or mishandle.
    fn validate(&self) -> Result<(), InvalidInput> {
        Ok(())
    }
}
