//! Chats: create, look up, list, remove, rename, clear.

use super::api;
use crate::protocol::methods::*;
use crate::protocol::{Chat, ChatList};

api! {
    /// Creates (or returns the existing) personal chat with a user.
    create_p2p_chat / create_p2p_chat_pending (user_id: impl Into<String>)
        -> CreateP2PChat => ChatIdResponse = CreateP2PChat::new(user_id);
    /// Creates a group chat; the bot becomes its owner.
    create_group_chat / create_group_chat_pending (title: impl Into<String>)
        -> CreateGroupChat => ChatIdResponse = CreateGroupChat::new(title);
    /// Creates a channel; the bot becomes its owner.
    create_channel / create_channel_pending (title: impl Into<String>)
        -> CreateChannel => ChatIdResponse = CreateChannel::new(title);
    /// Creates (or returns) the bot's "Favorites" chat.
    create_favorites_chat / create_favorites_chat_pending ()
        -> CreateFavoritesChat => ChatIdResponse = CreateFavoritesChat::new();
    /// A chat's title, type, unread count and last message.
    get_chat_by_id / get_chat_by_id_pending (chat_id: impl Into<String>)
        -> GetChatById => Chat = GetChatById::new(chat_id);
    /// One page of the bot's chats (pages count from 1). See
    /// [`Client::chats`](crate::Client::chats) to walk all pages.
    get_chats / get_chats_pending (count: u32, page: u32)
        -> GetChats => ChatList = GetChats::new(count, page);
    /// Deletes a chat.
    remove_chat / remove_chat_pending (chat_id: impl Into<String>)
        -> RemoveChat => RemoveChatResponse = RemoveChat::new(chat_id);
    /// Clears a chat's history, for the bot only or for everyone.
    clear_history / clear_history_pending (chat_id: impl Into<String>, for_all: bool)
        -> ClearHistory => Empty = ClearHistory::new(chat_id, for_all);
    /// Renames a group chat or channel (at most 256 characters).
    edit_chat_title / edit_chat_title_pending (chat_id: impl Into<String>, title: impl Into<String>)
        -> EditChatTitle => EditChatTitleResponse = EditChatTitle::new(chat_id, title);
    /// Sets a chat's avatar from an uploaded file (see
    /// [`Client::create_upload_task`](crate::Client::create_upload_task)).
    edit_chat_avatar / edit_chat_avatar_pending (chat_id: impl Into<String>, temporal_file_id: impl Into<String>)
        -> EditChatAvatar => Empty = EditChatAvatar::new(chat_id, temporal_file_id);
}
