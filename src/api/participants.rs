//! Chat participants: add, remove, look up, list, change roles.

use super::api;
use crate::protocol::methods::*;
use crate::protocol::{ChatParticipant, ParticipantList, ParticipantRole};

api! {
    /// Adds a user to a group chat or channel.
    add_chat_participant / add_chat_participant_pending (chat_id: impl Into<String>, user_id: impl Into<String>)
        -> AddChatParticipant => Empty = AddChatParticipant::new(chat_id, user_id);
    /// Removes a user from a group chat or channel.
    remove_chat_participant / remove_chat_participant_pending (chat_id: impl Into<String>, user_id: impl Into<String>)
        -> RemoveChatParticipant => Empty = RemoveChatParticipant::new(chat_id, user_id);
    /// Whether a user is in a chat.
    has_chat_participant / has_chat_participant_pending (chat_id: impl Into<String>, user_id: impl Into<String>)
        -> HasChatParticipant => ResultResponse = HasChatParticipant::new(chat_id, user_id);
    /// One participant and their role.
    get_chat_participant / get_chat_participant_pending (chat_id: impl Into<String>, user_id: impl Into<String>)
        -> GetChatParticipant => ChatParticipant = GetChatParticipant::new(chat_id, user_id);
    /// One page of a chat's participants (pages count from 1). See
    /// [`Client::participants`](crate::Client::participants) to walk all pages.
    get_chat_participants / get_chat_participants_pending (chat_id: impl Into<String>, page_size: u32, page_number: u32)
        -> GetChatParticipants => ParticipantList = GetChatParticipants::new(chat_id, page_size, page_number);
    /// Changes a participant's role.
    change_participant_role / change_participant_role_pending (chat_id: impl Into<String>, user_id: impl Into<String>, role: ParticipantRole)
        -> ChangeParticipantRole => Empty = ChangeParticipantRole::new(chat_id, user_id, role);
}
