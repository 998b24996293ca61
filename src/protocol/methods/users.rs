//! User methods.

use super::checks;
use crate::protocol::{InvalidInput, Method};
use serde::{Deserialize, Serialize};

/// `getUserDisplayName`: a user's display name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetUserDisplayName {
    /// The user's TrueConf ID.
    pub user_id: String,
}

impl GetUserDisplayName {
    /// The display name of `user_id`.
    pub fn new(user_id: impl Into<String>) -> GetUserDisplayName {
        GetUserDisplayName {
            user_id: user_id.into(),
        }
    }
}

/// The answer to `getUserDisplayName`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DisplayName {
    /// The name shown for the user on the server.
    pub display_name: String,
}

impl Method for GetUserDisplayName {
    const NAME: &'static str = "getUserDisplayName";
    type Response = DisplayName;
    fn validate(&self) -> Result<(), InvalidInput> {
        checks::id("userId", &self.user_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::methods::testing::{assert_request, response};
    use serde_json::json;

    #[test]
    fn spec_6_1_get_user_display_name() {
        assert_request(
            &GetUserDisplayName::new("user@video.example.com"),
            json!({"userId": "user@video.example.com"}),
        );
        let r = response::<GetUserDisplayName>(json!({"displayName": "Abe Chester"}));
        assert_eq!(r.display_name, "Abe Chester");
        assert!(GetUserDisplayName::new("").validate().is_err());
    }
}
