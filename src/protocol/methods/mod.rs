//! The client commands: one request type per method (its payload, camelCase
//! on the wire) implementing [`Method`](super::Method), and the payloads of
//! their successful responses.
//!
//! Requests are written as the official SDK writes them (what real servers
//! accept) and read leniently, so the emulator can decode what any client
//! sends with the same types. Optional fields are left out when unset, except
//! `replyMessageId` of `sendMessage`/`sendSurvey` and `fromMessageId` of
//! `getChatHistory`, which clients in the field send as explicit `null`.

mod auth;
mod chats;
mod checks;
mod files;
mod messages;
mod participants;
mod surveys;
mod users;

pub use auth::{Auth, AuthResponse, TOKEN_TYPE_JWE, TOKEN_TYPE_JWT};
pub use chats::{
    ChatIdResponse, ClearHistory, CreateChannel, CreateFavoritesChat, CreateGroupChat,
    CreateP2PChat, EditChatAvatar, EditChatTitle, EditChatTitleResponse, GetChatById, GetChats,
    RemoveChat, RemoveChatResponse,
};
pub use files::{
    Caption, ExtensionsMode, FileExtensions, FileInfo, FilePreview, FileUploadLimits, GetFileInfo,
    GetFileUploadLimits, SendFile, SendFileContent, SendFileResponse, SubscribeFileProgress,
    UnsubscribeFileProgress, UploadFile, UploadTask,
};
pub use messages::{
    ChatActivityResponse, ChatHistory, EditMessage, EditMessageResponse, ForwardMessage,
    GetChatHistory, GetMessageById, RemoveMessage, SendChatActivity, SendMessage, SentMessage,
};
pub use participants::{
    AddChatParticipant, ChangeParticipantRole, GetChatParticipant, GetChatParticipants,
    HasChatParticipant, RemoveChatParticipant,
};
pub use surveys::{EditSurvey, SendSurvey};
pub use users::{DisplayName, GetUserDisplayName};

use serde::{Deserialize, Serialize};

/// At most this many characters (not bytes) of message text or caption.
pub const MAX_TEXT_CHARS: usize = 4096;
/// At most this many characters of chat title.
pub const MAX_TITLE_CHARS: usize = 256;

/// Declares a payload without fields: written as `{}`, read from any
/// payload (an object, `null`, or none at all).
macro_rules! empty_payload {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
        pub struct $name;

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                ::serde::ser::SerializeMap::end(s.serialize_map(Some(0))?)
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                <::serde::de::IgnoredAny as ::serde::Deserialize>::deserialize(d).map(|_| $name)
            }
        }
    };
}
pub(crate) use empty_payload;

empty_payload! {
    /// The payload of a success that carries nothing (`{}`). Also read from a
    /// `null` or missing payload, and from any object (extra fields ignored).
    Empty
}

/// `{"result": bool}`: the answer to `hasChatParticipant`,
/// `subscribeFileProgress` and `unsubscribeFileProgress`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResultResponse {
    /// The answer (`"true"` and `1` accepted).
    #[serde(deserialize_with = "super::lenient::bool_any")]
    pub result: bool,
}

#[cfg(test)]
pub(crate) mod testing {
    use crate::protocol::Method;
    use serde::de::DeserializeOwned;
    use serde_json::Value;
    use std::fmt::Debug;

    /// Checks a request against the spec's example payload, both ways, and
    /// that it passes validation.
    pub fn assert_request<M>(request: &M, expected: Value)
    where
        M: Method + DeserializeOwned + PartialEq + Debug,
    {
        assert_eq!(
            serde_json::to_value(request).unwrap(),
            expected,
            "{}",
            M::NAME
        );
        let decoded: M = serde_json::from_value(expected).unwrap();
        assert_eq!(&decoded, request, "{} decodes back", M::NAME);
        assert_eq!(request.validate(), Ok(()), "{}", M::NAME);
    }

    /// Decodes a documented response payload and checks it writes back the
    /// same (so the emulator sends the documented shape).
    pub fn response<M>(payload: Value) -> M::Response
    where
        M: Method,
        M::Response: serde::Serialize,
    {
        let decoded: M::Response = serde_json::from_value(payload.clone()).unwrap();
        assert_eq!(
            serde_json::to_value(&decoded).unwrap(),
            payload,
            "{}",
            M::NAME
        );
        decoded
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn empty_accepts_anything_and_writes_an_object() {
        for text in ["{}", "null", r#"{"chatId":"x"}"#] {
            assert_eq!(serde_json::from_str::<Empty>(text).unwrap(), Empty);
        }
        assert_eq!(serde_json::to_value(Empty).unwrap(), json!({}));
        let r: ResultResponse = serde_json::from_value(json!({"result": "true"})).unwrap();
        assert!(r.result);
    }
}
