//! What an envelope carries: its `content`, typed by the envelope's `type`.
//!
//! Decoding never fails: content whose shape does not match its type (or
//! whose type is unknown) becomes [`Content::Unknown`] with the raw JSON.
//!
//! Where the spec is ambiguous, the content's shape decides:
//! - type 2 is `REMOVE_PARTICIPANT`, but the spec's "new file" example sends
//!   an attachment with type 2: content with a `userId` is a removed
//!   participant, content shaped like a file (`name`, `fileId`/`id`) an
//!   attachment;
//! - type 0 (or no type, as in `editMessage` events and one spec example)
//!   is guessed from the shape: text, attachment or survey.
//!
//! Such guessed content is written back with its proper code (202, 200...).

use super::buttons::InlineKeyboard;
use super::enums::{EnvelopeType, FileReadyState, ParseMode, ParticipantRole};
use super::envelope::Envelope;
use super::lenient;
use super::survey::SurveyContent;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

/// Text with its parse mode (type 200), and the inline buttons under it.
/// Also the `content` of `sendMessage` and `editMessage` requests.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TextContent {
    /// The message text.
    pub text: String,
    /// How the text is rendered (`text` when absent).
    #[serde(default, deserialize_with = "lenient::null_default")]
    pub parse_mode: ParseMode,
    /// Inline buttons under the message (dropped if they do not decode).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::lossy_option"
    )]
    pub buttons: Option<InlineKeyboard>,
}

impl TextContent {
    /// Text with a parse mode and no buttons.
    pub fn new(text: impl Into<String>, parse_mode: ParseMode) -> TextContent {
        TextContent {
            text: text.into(),
            parse_mode,
            buttons: None,
        }
    }
}

/// The wire form of file content: the file id arrives as `fileId` (the SDK,
/// most examples) or `id` (spec 11.2.123).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FileWire {
    #[serde(default, deserialize_with = "lenient::null_default")]
    name: String,
    #[serde(default, deserialize_with = "lenient::null_default")]
    mime_type: String,
    #[serde(default, deserialize_with = "lenient::u64_or_zero")]
    size: u64,
    #[serde(default)]
    file_id: Option<String>,
    #[serde(default)]
    id: Option<String>,
    #[serde(default, deserialize_with = "lenient::lossy_option")]
    ready_state: Option<FileReadyState>,
    #[serde(default, deserialize_with = "lenient::opt_u64_any")]
    duration: Option<u64>,
}

impl FileWire {
    fn file_id(&mut self) -> Result<String, String> {
        self.file_id
            .take()
            .or_else(|| self.id.take())
            .ok_or_else(|| "file content without fileId or id".to_string())
    }
}

/// A file attachment (type 202).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", try_from = "FileWire")]
pub struct AttachmentContent {
    /// The file name on the sender's side.
    pub name: String,
    /// The MIME type, empty when unknown.
    pub mime_type: String,
    /// The size in bytes.
    pub size: u64,
    /// The file id for `getFileInfo` (`fileId` on the wire; `id` accepted).
    pub file_id: String,
    /// The file's state, when the server says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ready_state: Option<FileReadyState>,
}

impl TryFrom<FileWire> for AttachmentContent {
    type Error = String;
    fn try_from(mut wire: FileWire) -> Result<Self, String> {
        Ok(AttachmentContent {
            file_id: wire.file_id()?,
            name: wire.name,
            mime_type: wire.mime_type,
            size: wire.size,
            ready_state: wire.ready_state,
        })
    }
}

/// A voice message (type 205).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", try_from = "FileWire")]
pub struct VoiceContent {
    /// The file id for `getFileInfo` (`fileId` on the wire; `id` accepted).
    pub file_id: String,
    /// The size in bytes.
    pub size: u64,
    /// The MIME type.
    pub mime_type: String,
    /// The duration, when the server says (seconds).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration: Option<u64>,
}

impl TryFrom<FileWire> for VoiceContent {
    type Error = String;
    fn try_from(mut wire: FileWire) -> Result<Self, String> {
        Ok(VoiceContent {
            file_id: wire.file_id()?,
            size: wire.size,
            mime_type: wire.mime_type,
            duration: wire.duration,
        })
    }
}

/// A shared location (type 203).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LocationContent {
    /// Latitude in degrees.
    #[serde(deserialize_with = "lenient::f64_any")]
    pub latitude: f64,
    /// Longitude in degrees.
    #[serde(deserialize_with = "lenient::f64_any")]
    pub longitude: f64,
    /// The place's name, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

/// A participant and their role (type 1, participant added; type 110, role
/// changed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ParticipantContent {
    /// The participant's TrueConf ID.
    pub user_id: String,
    /// Their (new) role.
    pub role: ParticipantRole,
}

/// A removed participant (type 2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RemovedParticipantContent {
    /// The removed user's TrueConf ID.
    pub user_id: String,
}

/// A new chat title (type 21).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TitleChangedContent {
    /// The new title.
    pub title: String,
}

/// A new chat avatar (type 22).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AvatarChangedContent {
    /// Where the new avatar can be downloaded; `None` when it was removed.
    #[serde(default)]
    pub avatar_url: Option<String>,
}

impl std::fmt::Debug for AvatarChangedContent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AvatarChangedContent")
            .field("avatar_url", &crate::secret::shown_url(&self.avatar_url))
            .finish()
    }
}

/// The chat history was cleared (type 23).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryClearedContent {
    /// Whether it was cleared for everyone (`"true"` accepted).
    #[serde(default, deserialize_with = "lenient::bool_any")]
    pub for_all: bool,
}

/// An envelope's content, by envelope type.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Content {
    /// 200: text.
    Text(TextContent),
    /// 202 (or a file-shaped 2): a file.
    Attachment(AttachmentContent),
    /// 201: a forwarded message, itself an envelope (without a box).
    Forwarded(Box<Envelope>),
    /// 203: a location.
    Location(LocationContent),
    /// 204: a survey.
    Survey(SurveyContent),
    /// 205: a voice message.
    Voice(VoiceContent),
    /// 1: a participant was added (system message).
    ParticipantAdded(ParticipantContent),
    /// 2: a participant was removed (system message).
    ParticipantRemoved(RemovedParticipantContent),
    /// 21: the chat title changed (system message).
    TitleChanged(TitleChangedContent),
    /// 22: the chat avatar changed (system message).
    AvatarChanged(AvatarChangedContent),
    /// 23: the history was cleared (system message).
    HistoryCleared(HistoryClearedContent),
    /// 110: a participant's role changed (system message).
    RoleChanged(ParticipantContent),
    /// Content of an unknown type, or that did not match its type.
    Unknown {
        /// The envelope's `type`.
        type_code: u32,
        /// The `content` as received.
        raw: Value,
    },
}

impl Content {
    /// The envelope type this content is sent with.
    pub fn envelope_type(&self) -> EnvelopeType {
        EnvelopeType::from_code(self.type_code())
    }

    /// The `type` number this content is sent with.
    pub fn type_code(&self) -> u32 {
        match self {
            Content::Text(_) => 200,
            Content::Forwarded(_) => 201,
            Content::Attachment(_) => 202,
            Content::Location(_) => 203,
            Content::Survey(_) => 204,
            Content::Voice(_) => 205,
            Content::ParticipantAdded(_) => 1,
            Content::ParticipantRemoved(_) => 2,
            Content::TitleChanged(_) => 21,
            Content::AvatarChanged(_) => 22,
            Content::HistoryCleared(_) => 23,
            Content::RoleChanged(_) => 110,
            Content::Unknown { type_code, .. } => *type_code,
        }
    }

    /// The text, for text content.
    pub fn text(&self) -> Option<&str> {
        match self {
            Content::Text(t) => Some(&t.text),
            _ => None,
        }
    }

    /// Types the raw `content` of an envelope of type `type_code`. Never
    /// fails: anything that does not fit is [`Content::Unknown`].
    pub fn from_wire(type_code: u32, raw: Value) -> Content {
        let typed = match type_code {
            200 => decode(&raw).map(Content::Text),
            201 => decode(&raw).map(|e| Content::Forwarded(Box::new(e))),
            202 => decode(&raw).map(Content::Attachment),
            203 => decode(&raw).map(Content::Location),
            204 => decode(&raw).map(Content::Survey),
            205 => decode(&raw).map(Content::Voice),
            1 => decode(&raw).map(Content::ParticipantAdded),
            2 if has_key(&raw, "userId") || !looks_like_file(&raw) => {
                decode(&raw).map(Content::ParticipantRemoved)
            }
            2 => decode(&raw).map(Content::Attachment),
            21 => decode(&raw).map(Content::TitleChanged),
            22 => decode(&raw).map(Content::AvatarChanged),
            23 => decode(&raw).map(Content::HistoryCleared),
            110 => decode(&raw).map(Content::RoleChanged),
            0 => Content::guess(&raw),
            _ => Err(format!("unknown envelope type {type_code}")),
        };
        typed.unwrap_or_else(|reason| {
            log::debug!("content of envelope type {type_code} kept raw: {reason}");
            Content::Unknown { type_code, raw }
        })
    }

    /// Guesses untyped content from its shape.
    fn guess(raw: &Value) -> Result<Content, String> {
        if has_key(raw, "text") {
            decode(raw).map(Content::Text)
        } else if looks_like_file(raw) {
            decode(raw).map(Content::Attachment)
        } else if has_key(raw, "url") && has_key(raw, "title") {
            decode(raw).map(Content::Survey)
        } else {
            Err("untyped content of an unknown shape".into())
        }
    }
}

fn decode<T: for<'de> Deserialize<'de>>(raw: &Value) -> Result<T, String> {
    T::deserialize(raw).map_err(|e| e.to_string())
}

fn has_key(raw: &Value, key: &str) -> bool {
    raw.get(key).is_some()
}

fn looks_like_file(raw: &Value) -> bool {
    has_key(raw, "fileId") || (has_key(raw, "name") && (has_key(raw, "id") || has_key(raw, "size")))
}

/// Writes the content's body only; the envelope writes its `type`.
impl Serialize for Content {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Content::Text(c) => c.serialize(s),
            Content::Attachment(c) => c.serialize(s),
            Content::Forwarded(e) => e.serialize(s),
            Content::Location(c) => c.serialize(s),
            Content::Survey(c) => c.serialize(s),
            Content::Voice(c) => c.serialize(s),
            Content::ParticipantAdded(c) | Content::RoleChanged(c) => c.serialize(s),
            Content::ParticipantRemoved(c) => c.serialize(s),
            Content::TitleChanged(c) => c.serialize(s),
            Content::AvatarChanged(c) => c.serialize(s),
            Content::HistoryCleared(c) => c.serialize(s),
            Content::Unknown { raw, .. } => raw.serialize(s),
        }
    }
}

/// Reads a body without a `type`: its shape decides (see the module docs).
impl<'de> Deserialize<'de> for Content {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Content::from_wire(0, Value::deserialize(d)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn type_two_is_decided_by_shape() {
        let removed = Content::from_wire(2, json!({"userId": "u@s"}));
        assert!(matches!(removed, Content::ParticipantRemoved(ref c) if c.user_id == "u@s"));
        let file = Content::from_wire(
            2,
            json!({"name": "a.png", "mimeType": "image/png", "size": 5, "fileId": "f1"}),
        );
        let Content::Attachment(a) = &file else {
            panic!("{file:?}")
        };
        assert_eq!((a.file_id.as_str(), a.size), ("f1", 5));
        assert_eq!(file.type_code(), 202, "written back as an attachment");
        assert!(matches!(
            Content::from_wire(2, json!({"weird": 1})),
            Content::Unknown { type_code: 2, .. }
        ));
    }

    #[test]
    fn attachments_accept_file_id_or_id() {
        let with_id: AttachmentContent =
            serde_json::from_value(json!({"name": "n", "mimeType": "", "size": "7", "id": "x"}))
                .unwrap();
        assert_eq!((with_id.file_id.as_str(), with_id.size), ("x", 7));
        let both: AttachmentContent =
            serde_json::from_value(json!({"name": "n", "size": 1, "id": "b", "fileId": "a"}))
                .unwrap();
        assert_eq!(both.file_id, "a");
        assert_eq!(
            serde_json::to_value(&both).unwrap(),
            json!({"name": "n", "mimeType": "", "size": 1, "fileId": "a"})
        );
        assert!(serde_json::from_value::<AttachmentContent>(json!({"name": "n"})).is_err());
    }

    #[test]
    fn content_of_the_wrong_shape_is_kept_raw() {
        for (code, raw) in [
            (200, json!({"parseMode": "text"})),
            (203, json!({"latitude": "north"})),
            (110, json!({"userId": 5})),
            (201, json!({"text": "not an envelope"})),
            (777, json!({"anything": [1, 2]})),
            (200, json!(null)),
            (0, json!("string")),
        ] {
            let c = Content::from_wire(code, raw.clone());
            assert_eq!(
                c,
                Content::Unknown {
                    type_code: code,
                    raw: raw.clone()
                }
            );
            assert_eq!(c.type_code(), code);
            assert_eq!(serde_json::to_value(&c).unwrap(), raw);
        }
    }

    #[test]
    fn sdk_content_types_decode() {
        let loc = Content::from_wire(
            203,
            json!({"latitude": 55.75, "longitude": "37.61", "title": "Red Square"}),
        );
        assert!(matches!(loc, Content::Location(ref l) if l.longitude == 37.61));
        let voice = Content::from_wire(
            205,
            json!({"fileId": "v", "size": 10, "mimeType": "audio/ogg", "duration": 3}),
        );
        assert!(matches!(voice, Content::Voice(ref v) if v.duration == Some(3)));
        let cleared = Content::from_wire(23, json!({"forAll": "true"}));
        assert!(matches!(cleared, Content::HistoryCleared(ref h) if h.for_all));
        let avatar = Content::from_wire(22, json!({"avatarUrl": null}));
        assert!(matches!(avatar, Content::AvatarChanged(ref a) if a.avatar_url.is_none()));
        let title = Content::from_wire(21, json!({"title": "New"}));
        assert_eq!(title.envelope_type(), EnvelopeType::EditChatTitle);
        let role = Content::from_wire(110, json!({"userId": "u", "role": 1}));
        assert!(matches!(role, Content::RoleChanged(ref r) if r.role == ParticipantRole::Admin));
    }

    #[test]
    fn text_with_bad_buttons_keeps_the_text() {
        let c = Content::from_wire(
            200,
            json!({"text": "hi", "parseMode": "html", "buttons": "nonsense"}),
        );
        assert_eq!(c, Content::Text(TextContent::new("hi", ParseMode::Html)));
    }
}
