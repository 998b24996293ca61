//! Users: registration, id resolution, getUserDisplayName.

use super::args::Args;
use super::codes::ACCESS_DENIED;
use super::model::User;
use super::render::answer;
use super::{Outbound, World};
use crate::protocol::methods::{DisplayName, GetUserDisplayName};
use serde_json::Value;

/// A user id without its `/resource` suffix, lowercased for lookups.
fn key(raw: &str) -> String {
    raw.split('/').next().unwrap_or(raw).trim().to_lowercase()
}

impl World {
    /// Registers a user and returns its id, `login@server_name`. Adding the
    /// same login again updates the display name.
    pub fn add_user(&mut self, login: &str, display_name: &str) -> String {
        let id = format!("{login}@{}", self.config.server_name);
        let user = self.users.entry(key(&id)).or_insert_with(|| User {
            id: id.clone(),
            display_name: String::new(),
        });
        user.display_name = display_name.to_string();
        user.id.clone()
    }

    /// The registered id a user id names (case and `/resource` ignored), or
    /// 302 when no such user exists.
    pub(super) fn user_id(&self, raw: &str) -> Result<String, u32> {
        self.users
            .get(&key(raw))
            .map(|u| u.id.clone())
            .ok_or(ACCESS_DENIED)
    }

    /// The actor's registered id; an unknown actor keeps its id (minus any
    /// `/resource`), so it simply belongs to no chat.
    pub(super) fn actor_id(&self, raw: &str) -> String {
        self.user_id(raw)
            .unwrap_or_else(|_| raw.split('/').next().unwrap_or(raw).to_string())
    }

    /// The display name of a registered user.
    pub fn display_name(&self, user_id: &str) -> Option<&str> {
        self.users
            .get(&key(user_id))
            .map(|u| u.display_name.as_str())
    }

    /// `getUserDisplayName {userId}` -> `{displayName}`; 302 for an unknown
    /// user.
    pub(super) fn get_user_display_name(
        &mut self,
        _actor: &str,
        args: &Args,
        _out: &mut Vec<Outbound>,
    ) -> Result<Value, u32> {
        let req: GetUserDisplayName = args.decode()?;
        let name = self.display_name(&req.user_id).ok_or(ACCESS_DENIED)?;
        answer(DisplayName {
            display_name: name.to_string(),
        })
    }
}
