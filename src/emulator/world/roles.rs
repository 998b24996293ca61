//! The permission tables of guide section 4: 4.2 for regular chats (group,
//! p2p, favorites) and 4.3 for channels.
//!
//! Each row is written as in the guide, one character per column:
//! `owner admin user conf_owner conf_moderator favorites_owner [writer]`,
//! `+` allowed, `-` forbidden.

use super::model::{ChatType, Role};

/// What a participant tries to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    /// Reading messages.
    Read,
    /// Sending messages.
    Send,
    /// Adding participants to chat.
    AddParticipants,
    /// Removing participants from chat.
    RemoveParticipants,
    /// Editing own messages.
    EditOwn,
    /// Deleting own messages for oneself.
    DeleteOwnForSelf,
    /// Deleting own messages for all.
    DeleteOwnForAll,
    /// Deleting others' messages for oneself.
    DeleteOthersForSelf,
    /// Deleting others' messages for all.
    DeleteOthersForAll,
    /// Clearing chat history for oneself.
    ClearForSelf,
    /// Clearing chat history for all.
    ClearForAll,
    /// Replying to messages.
    Reply,
    /// Forwarding messages to/from chat.
    Forward,
    /// Sending files.
    SendFiles,
    /// Changing chat name.
    ChangeTitle,
    /// Changing chat icon.
    ChangeIcon,
    /// Changing chat participant roles.
    ChangeRoles,
    /// Changing chat owner.
    ChangeOwner,
    /// Sending polls.
    SendPolls,
}

/// Guide 4.2, columns owner admin user conf_owner conf_moderator
/// favorites_owner.
fn regular_row(action: Action) -> &'static str {
    match action {
        Action::Read => "++++++",
        Action::Send => "++++++",
        Action::AddParticipants => "++----",
        Action::RemoveParticipants => "++----",
        Action::EditOwn => "++++++",
        Action::DeleteOwnForSelf => "++++++",
        Action::DeleteOwnForAll => "++++++",
        Action::DeleteOthersForSelf => "+++++-",
        Action::DeleteOthersForAll => "++-++-",
        Action::ClearForSelf => "++++++",
        Action::ClearForAll => "++-++-",
        Action::Reply => "++++++",
        Action::Forward => "++++++",
        Action::SendFiles => "++++++",
        Action::ChangeTitle => "++----",
        Action::ChangeIcon => "++----",
        Action::ChangeRoles => "++-++-",
        Action::ChangeOwner => "+-----",
        Action::SendPolls => "+++---",
    }
}

/// Guide 4.3, columns owner admin user conf_owner conf_moderator
/// favorites_owner writer.
fn channel_row(action: Action) -> &'static str {
    match action {
        Action::Read => "+++++++",
        Action::Send => "++-++++",
        Action::AddParticipants => "++-----",
        Action::RemoveParticipants => "++-----",
        Action::EditOwn => "++-++++",
        Action::DeleteOwnForSelf => "++-+++-",
        Action::DeleteOwnForAll => "++-++++",
        Action::DeleteOthersForSelf => "++-++--",
        Action::DeleteOthersForAll => "++-++--",
        Action::ClearForSelf => "++-+++-",
        Action::ClearForAll => "++-++--",
        Action::Reply => "++-++++",
        Action::Forward => "+++++++",
        Action::SendFiles => "++-++++",
        Action::ChangeTitle => "++-----",
        Action::ChangeIcon => "++-----",
        Action::ChangeRoles => "++-----",
        Action::ChangeOwner => "+------",
        Action::SendPolls => "++----+",
    }
}

fn column(role: Role) -> usize {
    match role {
        Role::Owner => 0,
        Role::Admin => 1,
        Role::User => 2,
        Role::ConfOwner => 3,
        Role::ConfModerator => 4,
        Role::FavoritesOwner => 5,
        Role::Writer => 6,
    }
}

/// Whether `role` may do `action` in a chat of type `chat`.
///
/// A `writer` outside a channel (never assigned by the emulator) is treated
/// as a `user`.
pub(crate) fn allowed(chat: ChatType, role: Role, action: Action) -> bool {
    let row = match chat {
        ChatType::Channel => channel_row(action),
        ChatType::P2p | ChatType::Group | ChatType::Favorites => regular_row(action),
    };
    let role = if chat != ChatType::Channel && role == Role::Writer {
        Role::User
    } else {
        role
    };
    row.as_bytes().get(column(role)) == Some(&b'+')
}

/// The roles changeParticipantRole may assign in a chat of type `chat`
/// (conference and favorites roles are never assignable).
pub(crate) fn assignable(chat: ChatType, role: Role) -> bool {
    match chat {
        ChatType::Group => matches!(role, Role::Owner | Role::Admin | Role::User),
        ChatType::Channel => matches!(role, Role::Owner | Role::Admin | Role::User | Role::Writer),
        ChatType::P2p | ChatType::Favorites => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [Action; 19] = [
        Action::Read,
        Action::Send,
        Action::AddParticipants,
        Action::RemoveParticipants,
        Action::EditOwn,
        Action::DeleteOwnForSelf,
        Action::DeleteOwnForAll,
        Action::DeleteOthersForSelf,
        Action::DeleteOthersForAll,
        Action::ClearForSelf,
        Action::ClearForAll,
        Action::Reply,
        Action::Forward,
        Action::SendFiles,
        Action::ChangeTitle,
        Action::ChangeIcon,
        Action::ChangeRoles,
        Action::ChangeOwner,
        Action::SendPolls,
    ];

    #[test]
    fn rows_have_one_mark_per_column() {
        for a in ALL {
            assert_eq!(regular_row(a).len(), 6, "{a:?}");
            assert_eq!(channel_row(a).len(), 7, "{a:?}");
            assert!(regular_row(a).bytes().all(|b| b == b'+' || b == b'-'));
            assert!(channel_row(a).bytes().all(|b| b == b'+' || b == b'-'));
        }
    }

    #[test]
    fn group_tables_match_the_guide() {
        use ChatType::Group;
        assert!(allowed(Group, Role::User, Action::Send));
        assert!(!allowed(Group, Role::User, Action::AddParticipants));
        assert!(allowed(Group, Role::Admin, Action::AddParticipants));
        assert!(!allowed(Group, Role::User, Action::DeleteOthersForAll));
        assert!(allowed(Group, Role::User, Action::SendPolls));
        assert!(!allowed(Group, Role::Admin, Action::ChangeOwner));
        assert!(!allowed(Group, Role::FavoritesOwner, Action::SendPolls));
        assert!(!allowed(Group, Role::Writer, Action::AddParticipants));
    }

    #[test]
    fn channel_tables_match_the_guide() {
        use ChatType::Channel;
        assert!(!allowed(Channel, Role::User, Action::Send));
        assert!(allowed(Channel, Role::Writer, Action::Send));
        assert!(allowed(Channel, Role::User, Action::Read));
        assert!(allowed(Channel, Role::User, Action::Forward));
        assert!(!allowed(Channel, Role::Writer, Action::DeleteOwnForSelf));
        assert!(allowed(Channel, Role::Writer, Action::DeleteOwnForAll));
        assert!(allowed(Channel, Role::Writer, Action::SendPolls));
        assert!(!allowed(Channel, Role::Writer, Action::ChangeRoles));
        assert!(!allowed(Channel, Role::ConfOwner, Action::ChangeRoles));
    }

    #[test]
    fn assignable_roles() {
        assert!(assignable(ChatType::Channel, Role::Writer));
        assert!(!assignable(ChatType::Group, Role::Writer));
        assert!(!assignable(ChatType::Group, Role::FavoritesOwner));
        assert!(!assignable(ChatType::P2p, Role::Admin));
    }
}
