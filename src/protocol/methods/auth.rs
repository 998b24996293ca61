//! `auth`: authorises the WebSocket connection with a token.

use crate::protocol::{InvalidInput, Method};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The token type the spec documents (the default here).
pub const TOKEN_TYPE_JWE: &str = "JWE";
/// The token type the official SDK sends.
pub const TOKEN_TYPE_JWT: &str = "JWT";

fn default_token_type() -> String {
    TOKEN_TYPE_JWE.to_string()
}

/// `auth`: the first request on a connection. Its `Debug` hides the token.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Auth {
    /// The token from the OAuth endpoint.
    pub token: String,
    /// `"JWE"` by default (the spec); the SDK sends `"JWT"`; both are accepted.
    #[serde(default = "default_token_type")]
    pub token_type: String,
    /// Whether the server should send messages that arrived while the bot
    /// was offline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receive_unread: Option<bool>,
    /// Whether the server should send system-message envelopes (types below
    /// 200) as `sendMessage` events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receive_system_message_envelopes: Option<bool>,
}

impl Auth {
    /// Authorises with `token` (token type `JWE`).
    pub fn new(token: impl Into<String>) -> Auth {
        Auth {
            token: token.into(),
            token_type: default_token_type(),
            receive_unread: None,
            receive_system_message_envelopes: None,
        }
    }

    /// Sets the token type (e.g. [`TOKEN_TYPE_JWT`]).
    pub fn token_type(mut self, token_type: impl Into<String>) -> Auth {
        self.token_type = token_type.into();
        self
    }

    /// Asks for (or declines) the messages that arrived while offline.
    pub fn receive_unread(mut self, receive: bool) -> Auth {
        self.receive_unread = Some(receive);
        self
    }

    /// Asks for (or declines) system-message envelopes.
    pub fn receive_system_messages(mut self, receive: bool) -> Auth {
        self.receive_system_message_envelopes = Some(receive);
        self
    }
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Auth")
            .field(
                "token",
                &format_args!("<{} chars hidden>", self.token.len()),
            )
            .field("token_type", &self.token_type)
            .field("receive_unread", &self.receive_unread)
            .field(
                "receive_system_message_envelopes",
                &self.receive_system_message_envelopes,
            )
            .finish()
    }
}

/// The answer to `auth`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthResponse {
    /// The bot's TrueConf ID, possibly with a `/resource` suffix.
    pub user_id: String,
    /// The connection's id, sent by current servers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection_id: Option<String>,
}

impl Method for Auth {
    const NAME: &'static str = "auth";
    type Response = AuthResponse;
    fn validate(&self) -> Result<(), InvalidInput> {
        super::checks::id("token", &self.token)?;
        super::checks::id("tokenType", &self.token_type)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::methods::testing::{assert_request, response};
    use serde_json::json;

    #[test]
    fn spec_2_3_auth() {
        assert_request(
            &Auth::new("someToken"),
            json!({"token": "someToken", "tokenType": "JWE"}),
        );
        let r = response::<Auth>(
            json!({"userId": "someTrueConfUserId@someTrueConfServeName/someHash"}),
        );
        assert_eq!(r.connection_id, None);
    }

    #[test]
    fn sdk_style_auth() {
        assert_request(
            &Auth::new("t")
                .token_type(TOKEN_TYPE_JWT)
                .receive_unread(false)
                .receive_system_messages(true),
            json!({
                "token": "t", "tokenType": "JWT",
                "receiveUnread": false, "receiveSystemMessageEnvelopes": true
            }),
        );
        let r = response::<Auth>(json!({"userId": "bot@srv/abc", "connectionId": "c-1"}));
        assert_eq!(r.connection_id.as_deref(), Some("c-1"));
    }

    #[test]
    fn token_is_required_and_hidden() {
        assert!(Auth::new(" ").validate().is_err());
        let shown = format!("{:?}", Auth::new("secret-token-value"));
        assert!(!shown.contains("secret"), "{shown}");
    }
}
