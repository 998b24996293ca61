//! The enumerations of the wire format.
//!
//! Every enum keeps values this library does not know (`Unknown(..)`) and
//! writes them back unchanged, so a newer server never breaks decoding and the
//! emulator can send anything.

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use std::fmt;

/// Declares an enum carried on the wire as a number (sent as a number, also
/// accepted as a string holding one).
macro_rules! code_enum {
    (
        $(#[$meta:meta])*
        $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $code:literal, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )*
            /// A value this library does not know, kept as received.
            Unknown(u32),
        }

        impl $name {
            /// The value for a wire number.
            pub fn from_code(code: u32) -> Self {
                match code {
                    $( $code => $name::$variant, )*
                    other => $name::Unknown(other),
                }
            }

            /// The number on the wire.
            pub fn code(self) -> u32 {
                match self {
                    $( $name::$variant => $code, )*
                    $name::Unknown(code) => code,
                }
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_u32(self.code())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                crate::protocol::lenient::u32_any(d).map($name::from_code)
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                match self {
                    $( $name::$variant => f.write_str(stringify!($variant)), )*
                    $name::Unknown(code) => write!(f, "Unknown({code})"),
                }
            }
        }
    };
}

/// Declares an enum carried on the wire as a string.
macro_rules! string_enum {
    (
        $(#[$meta:meta])*
        $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $wire:literal, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )*
            /// A value this library does not know, kept as received.
            Unknown(String),
        }

        impl $name {
            /// The string on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    $( $name::$variant => $wire, )*
                    $name::Unknown(other) => other,
                }
            }

            /// The value for a wire string (unknown strings are kept).
            pub fn from_wire(wire: &str) -> Self {
                match wire {
                    $( $wire => $name::$variant, )*
                    other => $name::Unknown(other.to_string()),
                }
            }
        }

        impl From<&str> for $name {
            fn from(wire: &str) -> Self {
                $name::from_wire(wire)
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let wire = <::std::borrow::Cow<'_, str> as ::serde::Deserialize>::deserialize(d)?;
                Ok($name::from_wire(&wire))
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

code_enum! {
    /// `ChatTypeEnum`: what kind of chat a chat is.
    #[derive(Default)]
    ChatType {
        /// 0: the type is not defined (the default).
        #[default]
        Undefined = 0,
        /// 1: a personal (peer-to-peer) chat.
        P2p = 1,
        /// 2: a group chat.
        Group = 2,
        /// 3: a system chat.
        System = 3,
        /// 5: the "Favorites" chat (saved messages).
        Favorites = 5,
        /// 6: a channel.
        Channel = 6,
    }
}

code_enum! {
    /// `EnvelopeTypeEnum`: what an envelope's `content` holds. Codes below
    /// 200 are system messages (logging only; separate events report the
    /// actions themselves).
    EnvelopeType {
        /// 1: a participant was added.
        AddParticipant = 1,
        /// 2: a participant was removed. (One spec example also uses 2 for an
        /// attachment; see [`Content`](crate::protocol::Content).)
        RemoveParticipant = 2,
        /// 21: the chat title changed.
        EditChatTitle = 21,
        /// 22: the chat avatar changed.
        EditChatAvatar = 22,
        /// 23: the chat history was cleared.
        ClearChatHistory = 23,
        /// 110: a participant's role changed.
        ParticipantRole = 110,
        /// 200: a text message.
        PlainMessage = 200,
        /// 201: a forwarded message.
        ForwardedMessage = 201,
        /// 202: a file attachment.
        Attachment = 202,
        /// 203: a location.
        Location = 203,
        /// 204: a survey (poll).
        Survey = 204,
        /// 205: a voice message.
        VoiceMessage = 205,
    }
}

impl EnvelopeType {
    /// Whether this is a system message (code below 200).
    pub fn is_system(self) -> bool {
        self.code() < 200
    }
}

code_enum! {
    /// `EnvelopeAuthorTypeEnum`: who wrote a message or performed an action.
    AuthorType {
        /// 0: the server itself (the id is the server name).
        System = 0,
        /// 1: a server user (the id is a TrueConf ID).
        User = 1,
    }
}

code_enum! {
    /// `FileReadyStateEnum`: the state of a file on the server.
    FileReadyState {
        /// 0: removed (quota, retention time...).
        NotAvailable = 0,
        /// 1: still uploading to the server.
        Uploading = 1,
        /// 2: uploaded and downloadable.
        Ready = 2,
    }
}

string_enum! {
    /// `TextParseModeEnum`: how the server renders message text.
    #[derive(Default)]
    ParseMode {
        /// `text`: shown as is, HTML escaped (the default).
        #[default]
        Text = "text",
        /// `markdown`: basic Markdown.
        Markdown = "markdown",
        /// `html`: a subset of HTML.
        Html = "html",
    }
}

string_enum! {
    /// What a `sendChatActivity` request shows to the chat.
    ChatActivity {
        /// `typing`: the bot is typing.
        Typing = "typing",
        /// `choosing_sticker`: the bot is choosing a sticker.
        ChoosingSticker = "choosing_sticker",
        /// `uploading_file`: the bot is uploading a file.
        UploadingFile = "uploading_file",
    }
}

string_enum! {
    /// `OAUTH_ERROR`: why the token endpoint refused a request.
    OAuthError {
        /// `invalid_request`: malformed headers or body.
        InvalidRequest = "invalid_request",
        /// `invalid_client`: `client_id` is not `chat_bot`.
        InvalidClient = "invalid_client",
        /// `invalid_grant`: unknown login or wrong password.
        InvalidGrant = "invalid_grant",
        /// `unsupported_grant_type`: `grant_type` is not `password`.
        UnsupportedGrantType = "unsupported_grant_type",
    }
}

/// `ChatParticipantRoleEnum`: a participant's role in a chat.
///
/// Sent as a string (`"owner"`, `"admin"`...). Also accepted as the numeric
/// enum value (0..=6) of the spec's TypeScript definition; known numbers are
/// normalised to the named role (and written back as its string), unknown
/// numbers are kept as [`ParticipantRole::UnknownCode`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ParticipantRole {
    /// `owner` (0): the chat's owner.
    Owner,
    /// `admin` (1): an appointed moderator.
    Admin,
    /// `user` (2): a regular participant.
    User,
    /// `conf_owner` (3): the owner of a conference (conference chats only).
    ConfOwner,
    /// `conf_moderator` (4): a conference moderator (conference chats only).
    ConfModerator,
    /// `favorites_owner` (5): the owner of a "Favorites" chat.
    FavoritesOwner,
    /// `writer` (6): may write in a channel.
    Writer,
    /// A role string this library does not know, kept as received.
    Unknown(String),
    /// A role number this library does not know, kept as received.
    UnknownCode(u64),
}

const ROLES: [(ParticipantRole, &str); 7] = [
    (ParticipantRole::Owner, "owner"),
    (ParticipantRole::Admin, "admin"),
    (ParticipantRole::User, "user"),
    (ParticipantRole::ConfOwner, "conf_owner"),
    (ParticipantRole::ConfModerator, "conf_moderator"),
    (ParticipantRole::FavoritesOwner, "favorites_owner"),
    (ParticipantRole::Writer, "writer"),
];

impl ParticipantRole {
    /// The role for a wire string (unknown strings are kept).
    pub fn from_wire(wire: &str) -> Self {
        ROLES
            .iter()
            .find(|(_, name)| *name == wire)
            .map(|(role, _)| role.clone())
            .unwrap_or_else(|| ParticipantRole::Unknown(wire.to_string()))
    }

    /// The role for the spec's numeric enum value.
    pub fn from_code(code: u64) -> Self {
        usize::try_from(code)
            .ok()
            .and_then(|i| ROLES.get(i))
            .map(|(role, _)| role.clone())
            .unwrap_or(ParticipantRole::UnknownCode(code))
    }

    /// The string on the wire (an unknown number is shown as digits).
    pub fn as_str(&self) -> std::borrow::Cow<'_, str> {
        match self {
            ParticipantRole::Unknown(s) => s.as_str().into(),
            ParticipantRole::UnknownCode(c) => c.to_string().into(),
            known => ROLES
                .iter()
                .find(|(role, _)| role == known)
                .map(|(_, name)| *name)
                .unwrap_or_default()
                .into(),
        }
    }
}

impl From<&str> for ParticipantRole {
    fn from(wire: &str) -> Self {
        ParticipantRole::from_wire(wire)
    }
}

impl fmt::Display for ParticipantRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.as_str())
    }
}

impl Serialize for ParticipantRole {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            ParticipantRole::UnknownCode(code) => s.serialize_u64(*code),
            other => s.serialize_str(&other.as_str()),
        }
    }
}

impl<'de> Deserialize<'de> for ParticipantRole {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct RoleVisitor;
        impl Visitor<'_> for RoleVisitor {
            type Value = ParticipantRole;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a role name or its number")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ParticipantRole, E> {
                // A number sent as a string is the number.
                Ok(match v.trim().parse::<u64>() {
                    Ok(code) => ParticipantRole::from_code(code),
                    Err(_) => ParticipantRole::from_wire(v),
                })
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<ParticipantRole, E> {
                Ok(ParticipantRole::from_code(v))
            }
            fn visit_unit<E: de::Error>(self) -> Result<ParticipantRole, E> {
                // `null` where a role was due: a role nobody named.
                Ok(ParticipantRole::Unknown(String::new()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<ParticipantRole, E> {
                u64::try_from(v)
                    .map(ParticipantRole::from_code)
                    .map_err(|_| E::custom(format!("negative role number {v}")))
            }
        }
        d.deserialize_any(RoleVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn round_trip<T: Serialize + for<'de> Deserialize<'de>>(wire: serde_json::Value) -> T {
        let value: T = serde_json::from_value(wire.clone()).unwrap();
        assert_eq!(serde_json::to_value(&value).unwrap(), wire);
        value
    }

    #[test]
    fn numeric_enums_keep_unknown_values() {
        assert_eq!(round_trip::<ChatType>(json!(6)), ChatType::Channel);
        assert_eq!(round_trip::<ChatType>(json!(4)), ChatType::Unknown(4));
        assert_eq!(
            round_trip::<EnvelopeType>(json!(205)),
            EnvelopeType::VoiceMessage
        );
        assert_eq!(
            round_trip::<EnvelopeType>(json!(999)),
            EnvelopeType::Unknown(999)
        );
        assert_eq!(round_trip::<AuthorType>(json!(7)), AuthorType::Unknown(7));
        assert_eq!(
            round_trip::<FileReadyState>(json!(2)),
            FileReadyState::Ready
        );
        // Numbers sent as strings are accepted.
        let t: ChatType = serde_json::from_value(json!("2")).unwrap();
        assert_eq!(t, ChatType::Group);
        assert!(serde_json::from_value::<ChatType>(json!(-1)).is_err());
        assert!(serde_json::from_value::<ChatType>(json!({})).is_err());
    }

    #[test]
    fn every_known_code_round_trips() {
        for code in [1, 2, 21, 22, 23, 110, 200, 201, 202, 203, 204, 205] {
            let t = EnvelopeType::from_code(code);
            assert!(!matches!(t, EnvelopeType::Unknown(_)), "{code}");
            assert_eq!(t.code(), code);
        }
        assert!(EnvelopeType::ParticipantRole.is_system());
        assert!(!EnvelopeType::PlainMessage.is_system());
        for code in [0, 1, 2, 3, 5, 6] {
            assert_eq!(ChatType::from_code(code).code(), code);
        }
    }

    #[test]
    fn string_enums_keep_unknown_values() {
        assert_eq!(round_trip::<ParseMode>(json!("html")), ParseMode::Html);
        assert_eq!(
            round_trip::<ParseMode>(json!("bbcode")),
            ParseMode::Unknown("bbcode".into())
        );
        assert_eq!(
            round_trip::<ChatActivity>(json!("choosing_sticker")),
            ChatActivity::ChoosingSticker
        );
        assert_eq!(
            round_trip::<OAuthError>(json!("unsupported_grant_type")),
            OAuthError::UnsupportedGrantType
        );
        assert_eq!(
            round_trip::<OAuthError>(json!("slow_down")),
            OAuthError::Unknown("slow_down".into())
        );
    }

    #[test]
    fn roles_accept_strings_and_numbers() {
        assert_eq!(
            round_trip::<ParticipantRole>(json!("writer")),
            ParticipantRole::Writer
        );
        assert_eq!(
            round_trip::<ParticipantRole>(json!("guest")),
            ParticipantRole::Unknown("guest".into())
        );
        assert_eq!(
            round_trip::<ParticipantRole>(json!(42)),
            ParticipantRole::UnknownCode(42)
        );
        // A number sent as a string; `null` where a role was due.
        let decode = |wire| serde_json::from_value::<ParticipantRole>(wire).unwrap();
        assert_eq!(decode(json!("2")), ParticipantRole::User);
        assert_eq!(decode(json!(null)), ParticipantRole::Unknown(String::new()));
        let names = [
            "owner",
            "admin",
            "user",
            "conf_owner",
            "conf_moderator",
            "favorites_owner",
            "writer",
        ];
        for (code, name) in names.iter().enumerate() {
            let role: ParticipantRole = serde_json::from_value(json!(code)).unwrap();
            assert_eq!(serde_json::to_value(&role).unwrap(), json!(name));
            assert_eq!(role.to_string(), *name);
        }
        assert!(serde_json::from_value::<ParticipantRole>(json!(-3)).is_err());
    }
}
