//! Users.

use super::api;
use crate::protocol::methods::*;

api! {
    /// A user's display name.
    get_user_display_name / get_user_display_name_pending (user_id: impl Into<String>)
        -> GetUserDisplayName => DisplayName = GetUserDisplayName::new(user_id);
}
