//! The in-memory state: users, chats, participants, messages.

use serde_json::Value;
use std::collections::{BTreeMap, HashSet};

/// `ChatTypeEnum` (guide 11.1.4); there is no 4.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ChatType {
    /// 1, a personal chat between two users.
    P2p,
    /// 2, a group chat.
    Group,
    /// 5, a user's "Favorites" (saved messages).
    Favorites,
    /// 6, a channel.
    Channel,
}

impl ChatType {
    /// The number on the wire.
    pub(crate) fn code(self) -> u32 {
        match self {
            ChatType::P2p => 1,
            ChatType::Group => 2,
            ChatType::Favorites => 5,
            ChatType::Channel => 6,
        }
    }
}

/// `ChatParticipantRoleEnum`, sent as strings on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// `owner`
    Owner,
    /// `admin`
    Admin,
    /// `user`
    User,
    /// `conf_owner`
    ConfOwner,
    /// `conf_moderator`
    ConfModerator,
    /// `favorites_owner`
    FavoritesOwner,
    /// `writer`
    Writer,
}

impl Role {
    /// The wire name.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::User => "user",
            Role::ConfOwner => "conf_owner",
            Role::ConfModerator => "conf_moderator",
            Role::FavoritesOwner => "favorites_owner",
            Role::Writer => "writer",
        }
    }

    /// Parses a wire name.
    pub(crate) fn parse(name: &str) -> Option<Role> {
        Some(match name {
            "owner" => Role::Owner,
            "admin" => Role::Admin,
            "user" => Role::User,
            "conf_owner" => Role::ConfOwner,
            "conf_moderator" => Role::ConfModerator,
            "favorites_owner" => Role::FavoritesOwner,
            "writer" => Role::Writer,
            _ => return None,
        })
    }
}

/// A registered user.
#[derive(Debug, Clone)]
pub(crate) struct User {
    /// `login@server_name`.
    pub(crate) id: String,
    /// The display name.
    pub(crate) display_name: String,
}

/// Who wrote a message: `EnvelopeAuthor {id, type}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Author {
    /// Type 0: the server (system envelopes); the id is the server name.
    System(String),
    /// Type 1: a user.
    User(String),
}

impl Author {
    /// The author's id.
    pub(crate) fn id(&self) -> &str {
        match self {
            Author::System(id) | Author::User(id) => id,
        }
    }

    /// `EnvelopeAuthorTypeEnum`: 0 system, 1 user.
    pub(crate) fn kind(&self) -> u32 {
        match self {
            Author::System(_) => 0,
            Author::User(_) => 1,
        }
    }

    /// True when `user` wrote it.
    pub(crate) fn is(&self, user: &str) -> bool {
        matches!(self, Author::User(id) if id == user)
    }
}

/// Envelope types (`EnvelopeTypeEnum` plus the field facts).
pub(crate) mod kind {
    /// A participant was added.
    pub(crate) const ADD_PARTICIPANT: u32 = 1;
    /// A participant was removed.
    pub(crate) const REMOVE_PARTICIPANT: u32 = 2;
    /// The chat title changed.
    pub(crate) const TITLE_CHANGED: u32 = 21;
    /// The chat avatar changed.
    pub(crate) const AVATAR_CHANGED: u32 = 22;
    /// The history was cleared.
    pub(crate) const HISTORY_CLEARED: u32 = 23;
    /// A participant's role changed.
    pub(crate) const ROLE_CHANGED: u32 = 110;
    /// A text message.
    pub(crate) const TEXT: u32 = 200;
    /// A forwarded message.
    pub(crate) const FORWARD: u32 = 201;
    /// A file.
    pub(crate) const ATTACHMENT: u32 = 202;
    /// A survey (poll).
    pub(crate) const SURVEY: u32 = 204;
}

/// One message of a chat.
#[derive(Debug, Clone)]
pub(crate) struct Message {
    /// The message id.
    pub(crate) id: String,
    /// Its box id (0, 1, 2... per chat); the position is always "".
    pub(crate) box_id: u64,
    /// Who wrote it.
    pub(crate) author: Author,
    /// The envelope type.
    pub(crate) kind: u32,
    /// The envelope content, as sent on the wire.
    pub(crate) content: Value,
    /// Milliseconds since the epoch; updated by edits.
    pub(crate) timestamp: u64,
    /// Whether it was ever edited.
    pub(crate) is_edited: bool,
    /// The message it replies to: its id and box id (box ids are never
    /// reused, so the box finds it while it exists).
    pub(crate) reply_to: Option<(String, u64)>,
    /// Users who removed it for themselves.
    pub(crate) hidden_for: HashSet<String>,
}

impl Message {
    /// System envelopes have a type below 200.
    pub(crate) fn is_system(&self) -> bool {
        self.kind < 200
    }
}

/// A participant and what it can see.
#[derive(Debug, Clone)]
pub(crate) struct Participant {
    /// The user id.
    pub(crate) user_id: String,
    /// The role.
    pub(crate) role: Role,
    /// Messages with a lower box id are invisible to this participant
    /// (joined without displayHistory, or cleared the history for itself).
    pub(crate) visible_from: u64,
    /// Box ids up to this one (inclusive) count as read.
    pub(crate) read_upto: Option<u64>,
}

/// A chat of any type.
#[derive(Debug, Clone)]
pub(crate) struct Chat {
    /// The chat id.
    pub(crate) id: String,
    /// Its type.
    pub(crate) kind: ChatType,
    /// The title (p2p chats show the peer's id instead, per viewer).
    pub(crate) title: String,
    /// The avatar download URL, once set by editChatAvatar.
    pub(crate) avatar_url: Option<String>,
    /// Participants in the order they joined.
    pub(crate) participants: Vec<Participant>,
    /// Messages by box id.
    pub(crate) messages: BTreeMap<u64, Message>,
    /// The next box id.
    pub(crate) next_box: u64,
    /// Orders chats by last activity (creation or last message).
    pub(crate) activity: u64,
}

impl Chat {
    /// The participant record of `user`.
    pub(crate) fn participant(&self, user: &str) -> Option<&Participant> {
        self.participants.iter().find(|p| p.user_id == user)
    }

    /// The mutable participant record of `user`.
    pub(crate) fn participant_mut(&mut self, user: &str) -> Option<&mut Participant> {
        self.participants.iter_mut().find(|p| p.user_id == user)
    }

    /// The role of `user`, if a participant.
    pub(crate) fn role_of(&self, user: &str) -> Option<Role> {
        self.participant(user).map(|p| p.role)
    }

    /// The title as `viewer` sees it: the peer's id in a p2p chat.
    pub(crate) fn title_for(&self, viewer: &str) -> String {
        if self.kind == ChatType::P2p {
            if let Some(peer) = self.participants.iter().find(|p| p.user_id != viewer) {
                return peer.user_id.clone();
            }
        }
        self.title.clone()
    }

    /// Whether `user` can see `m`.
    pub(crate) fn visible_to(&self, m: &Message, user: &str) -> bool {
        match self.participant(user) {
            Some(p) => m.box_id >= p.visible_from && !m.hidden_for.contains(user),
            None => false,
        }
    }

    /// The ids of all participants but `except`.
    pub(crate) fn others(&self, except: &str) -> Vec<String> {
        self.participants
            .iter()
            .filter(|p| p.user_id != except)
            .map(|p| p.user_id.clone())
            .collect()
    }

    /// The newest message `user` can see.
    pub(crate) fn last_visible(&self, user: &str) -> Option<&Message> {
        self.messages
            .values()
            .rev()
            .find(|m| self.visible_to(m, user))
    }

    /// Messages `user` has not read: visible, by someone else, newer than
    /// the read mark.
    pub(crate) fn unread_for(&self, user: &str) -> usize {
        let Some(p) = self.participant(user) else {
            return 0;
        };
        let from = match p.read_upto {
            Some(b) => (b + 1).max(p.visible_from),
            None => p.visible_from,
        };
        self.messages
            .range(from..)
            .filter(|(_, m)| !m.author.is(user) && !m.hidden_for.contains(user))
            .count()
    }
}
