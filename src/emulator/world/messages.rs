//! Messages: send, edit, forward, get, history, remove, chat activity.

use super::args::Args;
use super::codes::{CHAT_NOT_FOUND, MESSAGE_NOT_FOUND, NOT_ENOUGH_RIGHTS, UNKNOWN_MESSAGE};
use super::model::Author;
use super::render::{self, answer};
use super::roles::Action;
use super::{Outbound, World};
use crate::protocol::events::{MessageEdited, MessageRemoved};
use crate::protocol::methods::{
    ChatActivityResponse, ChatHistory, EditMessage, EditMessageResponse, Empty, ForwardMessage,
    GetChatHistory, GetMessageById, RemoveMessage, SendChatActivity, SendMessage, SentMessage,
};
use crate::protocol::{ChatActivity, Content, EnvelopeAuthor};
use serde_json::Value;

/// The `retryAfter` of sendChatActivity, in milliseconds.
const ACTIVITY_RETRY_MS: u64 = 3000;

/// A user message about to be posted.
#[derive(Debug)]
pub(super) struct NewMessage<'a> {
    /// The target chat.
    pub(super) chat_id: &'a str,
    /// The right it needs (sending, forwarding, files, polls).
    pub(super) action: Action,
    /// The envelope content (its variant is the envelope type).
    pub(super) content: Content,
    /// The message it replies to.
    pub(super) reply: Option<&'a str>,
}

impl World {
    /// Posts a user message to a chat the actor may write to, after the
    /// checks every sending method shares: 304, 305, 303 for the action (and
    /// for replying), 306 for a reply target that is not a visible message
    /// of that chat. Emits `sendMessage` to the others.
    pub(super) fn post_user_message(
        &mut self,
        actor: &str,
        new: NewMessage<'_>,
        out: &mut Vec<Outbound>,
    ) -> Result<SentMessage, u32> {
        let (chat, role) = self.member_chat(new.chat_id, actor)?;
        World::require(chat, role, new.action)?;
        let reply_to = match new.reply {
            Some(id) => {
                World::require(chat, role, Action::Reply)?;
                Some(self.reply_target(chat, id, actor)?)
            }
            None => None,
        };
        let author = Author::User(actor.to_string());
        let (message_id, box_id, timestamp) = self
            .post(new.chat_id, author, new.content, reply_to)
            .ok_or(CHAT_NOT_FOUND)?;
        self.emit_message(new.chat_id, box_id, actor, out);
        Ok(SentMessage {
            chat_id: new.chat_id.to_string(),
            message_id,
            timestamp,
        })
    }

    /// `sendMessage {chatId, content: {text, parseMode, buttons?},
    /// replyMessageId?}` -> `{chatId, messageId, timestamp}`.
    pub(super) fn send_message(
        &mut self,
        actor: &str,
        args: &Args,
        out: &mut Vec<Outbound>,
    ) -> Result<Value, u32> {
        args.check_text("/content", true)?;
        let req: SendMessage = args.decode()?;
        let new = NewMessage {
            chat_id: &req.chat_id,
            action: Action::Send,
            content: Content::Text(req.content.clone()),
            reply: req.reply_message_id.as_deref(),
        };
        answer(self.post_user_message(actor, new, out)?)
    }

    /// `editMessage {messageId, content}` -> `{messageId, timestamp}`: a full
    /// replacement of the text (buttons left out are removed). Only the
    /// author edits (303), only texts (307). Event `editMessage {chatId,
    /// messageId, timestamp, content}`.
    pub(super) fn edit_message(
        &mut self,
        actor: &str,
        args: &Args,
        out: &mut Vec<Outbound>,
    ) -> Result<Value, u32> {
        args.check_text("/content", true)?;
        let req: EditMessage = args.decode()?;
        let content = Content::Text(req.content);
        self.edit_own(actor, &req.message_id, 200, |_| content, out)
    }

    /// Edits a message of type `kind` written by the actor: 306, 305, 303,
    /// 307. Answers `{messageId, timestamp}`.
    pub(super) fn edit_own(
        &mut self,
        actor: &str,
        message_id: &str,
        kind: u32,
        change: impl FnOnce(&Content) -> Content,
        out: &mut Vec<Outbound>,
    ) -> Result<Value, u32> {
        let (chat, m) = self.visible_message(message_id, actor)?;
        if !m.author.is(actor) {
            return Err(NOT_ENOUGH_RIGHTS);
        }
        if m.kind() != kind {
            return Err(UNKNOWN_MESSAGE);
        }
        let role = chat.role_of(actor).ok_or(MESSAGE_NOT_FOUND)?;
        World::require(chat, role, Action::EditOwn)?;
        let (chat_id, box_id) = (chat.id.clone(), m.box_id);
        let content = change(&m.content);
        let timestamp = self.clock.now();
        let Some(chat) = self.chats.get_mut(&chat_id) else {
            return Err(MESSAGE_NOT_FOUND);
        };
        let Some(m) = chat.messages.get_mut(&box_id) else {
            return Err(MESSAGE_NOT_FOUND);
        };
        m.content = content.clone();
        m.is_edited = true;
        let event = MessageEdited {
            message_id: message_id.to_string(),
            chat_id: Some(chat_id.clone()),
            timestamp,
            content,
        };
        if let Some(m) = chat.messages.get(&box_id) {
            for p in &chat.participants {
                if p.user_id != actor && chat.visible_to(m, &p.user_id) {
                    out.push(render::event(&p.user_id, &event));
                }
            }
        }
        answer(EditMessageResponse {
            message_id: Some(message_id.to_string()),
            timestamp,
        })
    }

    /// `forwardMessage {chatId, messageId}` -> `{chatId, messageId,
    /// timestamp}`: a type 201 message whose content is the original
    /// envelope without its box. Forwarding a forward forwards the original
    /// (the content is kept, never nested twice); system envelopes cannot be
    /// forwarded (307). 306, 305, 304, 303 (forwarding out of the source and
    /// into the target per the tables).
    pub(super) fn forward_message(
        &mut self,
        actor: &str,
        args: &Args,
        out: &mut Vec<Outbound>,
    ) -> Result<Value, u32> {
        let req: ForwardMessage = args.decode()?;
        let (source, m) = self.visible_message(&req.message_id, actor)?;
        if m.is_system() {
            return Err(UNKNOWN_MESSAGE);
        }
        let role = source.role_of(actor).ok_or(MESSAGE_NOT_FOUND)?;
        World::require(source, role, Action::Forward)?;
        let content = match &m.content {
            forwarded @ Content::Forwarded(_) => forwarded.clone(),
            _ => Content::Forwarded(Box::new(render::forward_content(source, m))),
        };
        // A forwarded attachment becomes readable in the target chat.
        let file_id = match &content {
            Content::Forwarded(inner) => match &inner.content {
                Content::Attachment(a) => Some(a.file_id.clone()),
                _ => None,
            },
            _ => None,
        };
        let new = NewMessage {
            chat_id: &req.chat_id,
            action: Action::Forward,
            content,
            reply: None,
        };
        let sent = self.post_user_message(actor, new, out)?;
        if let Some(record) = file_id.and_then(|id| self.files.get_mut(&id)) {
            record.chats.insert(req.chat_id.clone());
        }
        answer(sent)
    }

    /// `getMessageById {messageId}` -> the envelope with a flat `chatId`;
    /// 306 (unknown, removed, or hidden for the actor), 305.
    pub(super) fn get_message_by_id(
        &mut self,
        actor: &str,
        args: &Args,
        _out: &mut Vec<Outbound>,
    ) -> Result<Value, u32> {
        let req: GetMessageById = args.decode()?;
        let (chat, m) = self.visible_message(&req.message_id, actor)?;
        answer(render::flat_envelope(chat, m))
    }

    /// `getChatHistory {chatId, count, fromMessageId?}` -> `{chatId, count,
    /// messages}`, newest first. As the guide has it, messages are returned
    /// "from the newest message (or from fromMessageId) to the oldest": the
    /// page starts with `fromMessageId` itself (306 when it is not a visible
    /// message of that chat), so a client paging back by the oldest id it
    /// has gets that message again first. Reading the newest page marks the
    /// chat read.
    pub(super) fn get_chat_history(
        &mut self,
        actor: &str,
        args: &Args,
        _out: &mut Vec<Outbound>,
    ) -> Result<Value, u32> {
        let req: GetChatHistory = args.decode()?;
        let (chat, role) = self.member_chat(&req.chat_id, actor)?;
        World::require(chat, role, Action::Read)?;
        let before = match &req.from_message_id {
            Some(id) => self.reply_target(chat, id, actor)?.1.saturating_add(1),
            None => chat.next_box,
        };
        // Nothing below the actor's visibility mark can show: skip it.
        let from = chat.participant(actor).map_or(0, |p| p.visible_from);
        let messages: Vec<_> = chat
            .messages
            .range(from..before.max(from))
            .rev()
            .filter(|(_, m)| chat.visible_to(m, actor))
            .take(req.count as usize)
            .map(|(_, m)| render::envelope(chat, m, actor))
            .collect();
        if req.from_message_id.is_none() {
            let newest = chat.next_box.checked_sub(1);
            if let Some(p) = self
                .chats
                .get_mut(&req.chat_id)
                .and_then(|c| c.participant_mut(actor))
            {
                p.read_upto = newest;
            }
        }
        answer(ChatHistory {
            chat_id: req.chat_id,
            count: u32::try_from(messages.len()).unwrap_or(u32::MAX),
            messages,
        })
    }

    /// `removeMessage {messageId, forAll}` -> `{}`. Own or others' messages,
    /// for oneself or for all, per the tables (303); `forAll` is required
    /// (399). For all: the message is deleted and the others who could see
    /// it get `removeMessage {chatId, messageId, removedBy}`; for oneself it
    /// is hidden for the actor only.
    pub(super) fn remove_message(
        &mut self,
        actor: &str,
        args: &Args,
        out: &mut Vec<Outbound>,
    ) -> Result<Value, u32> {
        args.require(&["/forAll"])?;
        let RemoveMessage {
            message_id,
            for_all,
        } = args.decode()?;
        let (chat, m) = self.visible_message(&message_id, actor)?;
        let role = chat.role_of(actor).ok_or(MESSAGE_NOT_FOUND)?;
        let action = match (m.author.is(actor), for_all) {
            (true, false) => Action::DeleteOwnForSelf,
            (true, true) => Action::DeleteOwnForAll,
            (false, false) => Action::DeleteOthersForSelf,
            (false, true) => Action::DeleteOthersForAll,
        };
        World::require(chat, role, action)?;
        let (chat_id, box_id) = (chat.id.clone(), m.box_id);
        let Some(chat) = self.chats.get_mut(&chat_id) else {
            return Err(MESSAGE_NOT_FOUND);
        };
        if !for_all {
            if let Some(m) = chat.messages.get_mut(&box_id) {
                m.hidden_for.insert(actor.to_string());
            }
            return answer(Empty);
        }
        let audience: Vec<String> = match chat.messages.get(&box_id) {
            Some(m) => chat
                .participants
                .iter()
                .filter(|p| p.user_id != actor && chat.visible_to(m, &p.user_id))
                .map(|p| p.user_id.clone())
                .collect(),
            None => Vec::new(),
        };
        chat.messages.remove(&box_id);
        self.messages.remove(&message_id);
        let event = MessageRemoved {
            chat_id,
            message_id,
            removed_by: Some(EnvelopeAuthor::user(actor)),
        };
        World::emit_to(&audience, &event, out);
        answer(Empty)
    }

    /// `sendChatActivity {chatId, activityType}` -> `{chatId, activityType,
    /// retryAfter}`; the type is typing, choosing_sticker or uploading_file
    /// (399 otherwise); needs the right to send (303). No event: clients in
    /// the field handle none.
    pub(super) fn send_chat_activity(
        &mut self,
        actor: &str,
        args: &Args,
        _out: &mut Vec<Outbound>,
    ) -> Result<Value, u32> {
        let req: SendChatActivity = args.decode()?;
        if matches!(req.activity_type, ChatActivity::Unknown(_)) {
            return Err(super::codes::WRONG_PAYLOAD);
        }
        let (chat, role) = self.member_chat(&req.chat_id, actor)?;
        World::require(chat, role, Action::Send)?;
        answer(ChatActivityResponse {
            chat_id: Some(req.chat_id),
            activity_type: Some(req.activity_type),
            retry_after: Some(ACTIVITY_RETRY_MS),
        })
    }
}
