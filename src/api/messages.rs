//! Messages: send, edit, forward, fetch, history, remove, activity.

use super::api;
use crate::protocol::methods::*;
use crate::protocol::{ChatActivity, Envelope};

api! {
    /// Sends a plain-text message. For markdown or HTML, replies and
    /// buttons, build a [`SendMessage`] and pass it to
    /// [`Client::request`](crate::Client::request).
    send_message / send_message_pending (chat_id: impl Into<String>, text: impl Into<String>)
        -> SendMessage => SentMessage = SendMessage::new(chat_id, text);
    /// Replaces the text of one of the bot's messages.
    edit_message / edit_message_pending (message_id: impl Into<String>, text: impl Into<String>)
        -> EditMessage => EditMessageResponse = EditMessage::new(message_id, text);
    /// Forwards a message to another chat.
    forward_message / forward_message_pending (chat_id: impl Into<String>, message_id: impl Into<String>)
        -> ForwardMessage => SentMessage = ForwardMessage::new(chat_id, message_id);
    /// One message by its id.
    get_message_by_id / get_message_by_id_pending (message_id: impl Into<String>)
        -> GetMessageById => Envelope = GetMessageById::new(message_id);
    /// The newest `count` messages of a chat, newest first. See
    /// [`Client::history`](crate::Client::history) to walk back further.
    get_chat_history / get_chat_history_pending (chat_id: impl Into<String>, count: u32)
        -> GetChatHistory => ChatHistory = GetChatHistory::new(chat_id, count);
    /// Deletes a message for the bot only or for everyone.
    remove_message / remove_message_pending (message_id: impl Into<String>, for_all: bool)
        -> RemoveMessage => Empty = RemoveMessage::new(message_id, for_all);
    /// Shows an activity (typing, ...) in a chat.
    send_chat_activity / send_chat_activity_pending (chat_id: impl Into<String>, activity: ChatActivity)
        -> SendChatActivity => ChatActivityResponse = SendChatActivity::new(chat_id, activity);
}
