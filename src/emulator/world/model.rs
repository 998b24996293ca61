//! The in-memory state: users, chats, participants, messages.

use crate::protocol::{self, Content, EnvelopeAuthor, ParticipantRole};
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
    /// The wire type.
    pub(crate) fn wire(self) -> protocol::ChatType {
        match self {
            ChatType::P2p => protocol::ChatType::P2p,
            ChatType::Group => protocol::ChatType::Group,
            ChatType::Favorites => protocol::ChatType::Favorites,
            ChatType::Channel => protocol::ChatType::Channel,
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

    /// The wire role.
    pub(crate) fn wire(self) -> ParticipantRole {
        ParticipantRole::from_wire(self.name())
    }

    /// A known wire role; `None` for names and numbers outside the enum.
    pub(crate) fn from_wire(role: &ParticipantRole) -> Option<Role> {
        Some(match role {
            ParticipantRole::Owner => Role::Owner,
            ParticipantRole::Admin => Role::Admin,
            ParticipantRole::User => Role::User,
            ParticipantRole::ConfOwner => Role::ConfOwner,
            ParticipantRole::ConfModerator => Role::ConfModerator,
            ParticipantRole::FavoritesOwner => Role::FavoritesOwner,
            ParticipantRole::Writer => Role::Writer,
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
    /// True when `user` wrote it.
    pub(crate) fn is(&self, user: &str) -> bool {
        matches!(self, Author::User(id) if id == user)
    }

    /// The wire author `{id, type}`.
    pub(crate) fn wire(&self) -> EnvelopeAuthor {
        match self {
            Author::System(id) => EnvelopeAuthor::system(id.as_str()),
            Author::User(id) => EnvelopeAuthor::user(id.as_str()),
        }
    }
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
    /// The envelope content; its variant decides the envelope type.
    pub(crate) content: Content,
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
    /// The envelope type on the wire.
    pub(crate) fn kind(&self) -> u32 {
        self.content.type_code()
    }

    /// System envelopes have a type below 200.
    pub(crate) fn is_system(&self) -> bool {
        self.kind() < 200
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
        let from = self.participant(user)?.visible_from;
        self.messages
            .range(from..)
            .rev()
            .map(|(_, m)| m)
            .find(|m| !m.hidden_for.contains(user))
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
