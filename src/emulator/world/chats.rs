//! Chats: creation of each type, getChatByID, getChats, removeChat,
//! clearHistory, editChatTitle, editChatAvatar.

use super::args::Args;
use super::codes::{ACCESS_DENIED, NOT_ENOUGH_RIGHTS, WRONG_PAYLOAD};
use super::model::{Chat, ChatType, Participant, Role};
use super::render::{self, answer};
use super::roles::Action;
use super::{Outbound, World};
use crate::protocol::events::{
    ChatAvatarChanged, ChatCreated, ChatKind, ChatRemoved, ChatTitleChanged, HistoryCleared,
};
use crate::protocol::methods::{
    ChatIdResponse, ClearHistory, CreateChannel, CreateGroupChat, CreateP2PChat, EditChatAvatar,
    EditChatTitle, EditChatTitleResponse, Empty, GetChatById, GetChats, RemoveChat,
    RemoveChatResponse,
};
use crate::protocol::{
    AvatarChangedContent, Content, HistoryClearedContent, ParticipantContent, TitleChangedContent,
};
use serde_json::Value;
use std::collections::BTreeMap;

/// `{chatId}`.
fn chat_id_answer(chat_id: &str) -> Result<Value, u32> {
    answer(ChatIdResponse {
        chat_id: chat_id.to_string(),
    })
}

/// The title of every favorites chat.
const FAVORITES_TITLE: &str = "Favorites";

impl World {
    /// Creates a chat with its participants (the first one is the creator).
    fn new_chat(&mut self, kind: ChatType, title: String, members: Vec<(String, Role)>) -> String {
        let id = self.ids.hex40();
        let activity = self.bump_activity();
        let participants = members
            .into_iter()
            .map(|(user_id, role)| Participant {
                user_id,
                role,
                visible_from: 0,
                read_upto: None,
            })
            .collect();
        self.chats.insert(
            id.clone(),
            Chat {
                id: id.clone(),
                kind,
                title,
                avatar_url: None,
                participants,
                messages: BTreeMap::new(),
                next_box: 0,
                activity,
            },
        );
        id
    }

    /// `createP2PChat {userId}` -> `{chatId}`: the existing chat with that
    /// user when there is one, else a new one (both participants `user`) and
    /// a `createP2PChat` event to the peer. 302 for an unknown user or
    /// oneself.
    pub(super) fn create_p2p_chat(
        &mut self,
        actor: &str,
        args: &Args,
        out: &mut Vec<Outbound>,
    ) -> Result<Value, u32> {
        let req: CreateP2PChat = args.decode()?;
        let peer = self.user_id(&req.user_id)?;
        if peer == actor {
            return Err(ACCESS_DENIED);
        }
        let pair = if actor < peer.as_str() {
            (actor.to_string(), peer.clone())
        } else {
            (peer.clone(), actor.to_string())
        };
        if let Some(id) = self.p2p.get(&pair) {
            return chat_id_answer(id);
        }
        let members = vec![(actor.to_string(), Role::User), (peer.clone(), Role::User)];
        let id = self.new_chat(ChatType::P2p, String::new(), members);
        self.p2p.insert(pair, id.clone());
        if let Some(chat) = self.chats.get(&id) {
            let created = ChatCreated {
                kind: ChatKind::P2p,
                chat: render::chat_object(chat, &peer),
            };
            out.push(render::event(&peer, &created));
        }
        chat_id_answer(&id)
    }

    /// `createGroupChat {title}` -> `{chatId}`.
    pub(super) fn create_group_chat(
        &mut self,
        actor: &str,
        args: &Args,
        out: &mut Vec<Outbound>,
    ) -> Result<Value, u32> {
        let req: CreateGroupChat = args.decode()?;
        self.create_multi(ChatType::Group, req.title, actor, args, out)
    }

    /// `createChannel {title}` -> `{chatId}`.
    pub(super) fn create_channel(
        &mut self,
        actor: &str,
        args: &Args,
        out: &mut Vec<Outbound>,
    ) -> Result<Value, u32> {
        let req: CreateChannel = args.decode()?;
        self.create_multi(ChatType::Channel, req.title, actor, args, out)
    }

    /// A group or channel titled `title` (1 to 256 characters; the guide's
    /// table also names the field `name`, accepted too). The creator is
    /// `owner`.
    ///
    /// Emulator extension: an optional `participants` array of user ids adds
    /// those users at creation (as `user`, with an ADD_PARTICIPANT envelope
    /// each) and sends each of them the creation event, which is how a
    /// person creating a chat with the bot in it looks to the bot.
    fn create_multi(
        &mut self,
        kind: ChatType,
        title: String,
        actor: &str,
        args: &Args,
        out: &mut Vec<Outbound>,
    ) -> Result<Value, u32> {
        let mut members = vec![(actor.to_string(), Role::Owner)];
        if let Some(list) = args.value("participants") {
            let list = list.as_array().ok_or(WRONG_PAYLOAD)?;
            for raw in list {
                let id = self.user_id(raw.as_str().ok_or(WRONG_PAYLOAD)?)?;
                if !members.iter().any(|(m, _)| *m == id) {
                    members.push((id, Role::User));
                }
            }
        }
        let added: Vec<String> = members.iter().skip(1).map(|(id, _)| id.clone()).collect();
        let id = self.new_chat(kind, title, members);
        for user in &added {
            let content = Content::ParticipantAdded(ParticipantContent {
                user_id: user.clone(),
                role: Role::User.wire(),
            });
            // The creation event below carries them as lastMessage.
            self.post_system(&id, content, actor, &mut Vec::new());
        }
        let event_kind = if kind == ChatType::Channel {
            ChatKind::Channel
        } else {
            ChatKind::Group
        };
        if let Some(chat) = self.chats.get(&id) {
            for user in &added {
                let created = ChatCreated {
                    kind: event_kind,
                    chat: render::chat_object(chat, user),
                };
                out.push(render::event(user, &created));
            }
        }
        chat_id_answer(&id)
    }

    /// `createFavoritesChat {}` -> `{chatId}`: one per user, `favorites_owner`.
    pub(super) fn create_favorites_chat(
        &mut self,
        actor: &str,
        _args: &Args,
        _out: &mut Vec<Outbound>,
    ) -> Result<Value, u32> {
        if let Some(id) = self.favorites.get(actor) {
            return chat_id_answer(id);
        }
        let members = vec![(actor.to_string(), Role::FavoritesOwner)];
        let id = self.new_chat(ChatType::Favorites, FAVORITES_TITLE.into(), members);
        self.favorites.insert(actor.to_string(), id.clone());
        chat_id_answer(&id)
    }

    /// `getChatByID {chatId}` -> the chat object; 304, 305.
    pub(super) fn get_chat_by_id(
        &mut self,
        actor: &str,
        args: &Args,
        _out: &mut Vec<Outbound>,
    ) -> Result<Value, u32> {
        let req: GetChatById = args.decode()?;
        let (chat, _) = self.member_chat(&req.chat_id, actor)?;
        render::chat_answer(chat, actor)
    }

    /// `getChats {count, page}` -> a bare array of chat objects (as the
    /// guide's example), newest activity first; pages count from 1 (count
    /// or page 0 is 399, as the shared request type validates).
    pub(super) fn get_chats(
        &mut self,
        actor: &str,
        args: &Args,
        _out: &mut Vec<Outbound>,
    ) -> Result<Value, u32> {
        let req: GetChats = args.decode()?;
        let count = req.count as usize;
        let page = req.page.max(1) as usize;
        let mut mine: Vec<&Chat> = self
            .chats
            .values()
            .filter(|c| c.participant(actor).is_some())
            .collect();
        mine.sort_by_key(|c| std::cmp::Reverse(c.activity));
        let skip = count.saturating_mul(page - 1);
        let chats = mine
            .into_iter()
            .skip(skip)
            .take(count)
            .map(|c| render::chat_answer(c, actor))
            .collect::<Result<Vec<Value>, u32>>()?;
        Ok(Value::Array(chats))
    }

    /// `removeChat {chatId}` -> `{chatId}`. Groups and channels only by
    /// their owner (303); p2p and favorites by any participant. The chat is
    /// gone for everyone; the others get a `removeChat` event.
    pub(super) fn remove_chat(
        &mut self,
        actor: &str,
        args: &Args,
        out: &mut Vec<Outbound>,
    ) -> Result<Value, u32> {
        let chat_id = args.decode::<RemoveChat>()?.chat_id;
        let (chat, role) = self.member_chat(&chat_id, actor)?;
        if matches!(chat.kind, ChatType::Group | ChatType::Channel) && role != Role::Owner {
            return Err(NOT_ENOUGH_RIGHTS);
        }
        let others = chat.others(actor);
        self.drop_chat(&chat_id);
        let removed = ChatRemoved {
            chat_id: chat_id.clone(),
        };
        World::emit_to(&others, &removed, out);
        answer(RemoveChatResponse {
            chat_id: Some(chat_id),
        })
    }

    /// `clearHistory {chatId, forAll}` -> `{}`. For oneself the messages so
    /// far become invisible to the actor only (no event); for all they are
    /// deleted, a HISTORY_CLEARED envelope is appended and the others get a
    /// `clearHistory` event.
    pub(super) fn clear_history(
        &mut self,
        actor: &str,
        args: &Args,
        out: &mut Vec<Outbound>,
    ) -> Result<Value, u32> {
        let ClearHistory { chat_id, for_all } = args.decode()?;
        let (chat, role) = self.member_chat(&chat_id, actor)?;
        let action = if for_all {
            Action::ClearForAll
        } else {
            Action::ClearForSelf
        };
        World::require(chat, role, action)?;
        let others = chat.others(actor);
        if !for_all {
            if let Some(chat) = self.chats.get_mut(&chat_id) {
                let next = chat.next_box;
                if let Some(p) = chat.participant_mut(actor) {
                    p.visible_from = next;
                }
            }
            return answer(Empty);
        }
        if let Some(chat) = self.chats.get_mut(&chat_id) {
            let removed = std::mem::take(&mut chat.messages);
            for m in removed.values() {
                self.messages.remove(&m.id);
            }
        }
        let event = HistoryCleared {
            chat_id: chat_id.clone(),
            for_all: true,
        };
        World::emit_to(&others, &event, out);
        let content = Content::HistoryCleared(HistoryClearedContent { for_all: true });
        self.post_system(&chat_id, content, actor, out);
        answer(Empty)
    }

    /// `editChatTitle {chatId, title}` -> `{chatId, timestamp}`; title 1 to
    /// 256 characters (399); 304, 305, 303.
    pub(super) fn edit_chat_title(
        &mut self,
        actor: &str,
        args: &Args,
        out: &mut Vec<Outbound>,
    ) -> Result<Value, u32> {
        let EditChatTitle { chat_id, title } = args.decode()?;
        let (chat, role) = self.member_chat(&chat_id, actor)?;
        World::require(chat, role, Action::ChangeTitle)?;
        let others = chat.others(actor);
        let timestamp = self.clock.now();
        if let Some(chat) = self.chats.get_mut(&chat_id) {
            chat.title = title.clone();
        }
        let event = ChatTitleChanged {
            chat_id: chat_id.clone(),
            title: title.clone(),
        };
        World::emit_to(&others, &event, out);
        let content = Content::TitleChanged(TitleChangedContent { title });
        self.post_system(&chat_id, content, actor, out);
        answer(EditChatTitleResponse {
            chat_id: Some(chat_id),
            timestamp: Some(timestamp),
        })
    }

    /// `editChatAvatar {chatId, temporalFileId}` -> `{}`; the uploaded file
    /// becomes the avatar (its download URL is the `avatarUrl`); 304, 305,
    /// 303, 308.
    pub(super) fn edit_chat_avatar(
        &mut self,
        actor: &str,
        args: &Args,
        out: &mut Vec<Outbound>,
    ) -> Result<Value, u32> {
        let req: EditChatAvatar = args.decode()?;
        let (chat_id, temporal) = (req.chat_id, req.temporal_file_id);
        let (chat, role) = self.member_chat(&chat_id, actor)?;
        World::require(chat, role, Action::ChangeIcon)?;
        let others = chat.others(actor);
        let file_id = self.claim_upload(&temporal, actor, &chat_id)?;
        let url = self.download_url(&file_id, false);
        if let Some(chat) = self.chats.get_mut(&chat_id) {
            chat.avatar_url = Some(url.clone());
        }
        let event = ChatAvatarChanged {
            chat_id: chat_id.clone(),
            avatar_url: Some(url.clone()),
        };
        World::emit_to(&others, &event, out);
        let content = Content::AvatarChanged(AvatarChangedContent {
            avatar_url: Some(url),
        });
        self.post_system(&chat_id, content, actor, out);
        answer(Empty)
    }
}
