//! Chats: creation of each type, getChatByID, getChats, removeChat,
//! clearHistory, editChatTitle, editChatAvatar.

use super::args::Args;
use super::codes::{ACCESS_DENIED, NOT_ENOUGH_RIGHTS, WRONG_PAYLOAD};
use super::model::{kind, Chat, ChatType, Participant, Role};
use super::roles::Action;
use super::{render, Outbound, World};
use serde_json::{json, Value};
use std::collections::BTreeMap;

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
        let peer = self.user_id(&args.str("userId")?)?;
        if peer == actor {
            return Err(ACCESS_DENIED);
        }
        let pair = if actor < peer.as_str() {
            (actor.to_string(), peer.clone())
        } else {
            (peer.clone(), actor.to_string())
        };
        if let Some(id) = self.p2p.get(&pair) {
            return Ok(json!({ "chatId": id }));
        }
        let members = vec![(actor.to_string(), Role::User), (peer.clone(), Role::User)];
        let id = self.new_chat(ChatType::P2p, String::new(), members);
        self.p2p.insert(pair, id.clone());
        if let Some(chat) = self.chats.get(&id) {
            out.push(Outbound {
                user_id: peer.clone(),
                method: "createP2PChat".into(),
                payload: render::chat_object(chat, &peer),
            });
        }
        Ok(json!({ "chatId": id }))
    }

    /// `createGroupChat {title}` -> `{chatId}`.
    pub(super) fn create_group_chat(
        &mut self,
        actor: &str,
        args: &Args,
        out: &mut Vec<Outbound>,
    ) -> Result<Value, u32> {
        self.create_multi(ChatType::Group, "createGroupChat", actor, args, out)
    }

    /// `createChannel {title}` -> `{chatId}`.
    pub(super) fn create_channel(
        &mut self,
        actor: &str,
        args: &Args,
        out: &mut Vec<Outbound>,
    ) -> Result<Value, u32> {
        self.create_multi(ChatType::Channel, "createChannel", actor, args, out)
    }

    /// A group or channel: `title` (the guide's table also names it `name`,
    /// accepted too), 1 to 256 characters. The creator is `owner`.
    ///
    /// Emulator extension: an optional `participants` array of user ids adds
    /// those users at creation (as `user`, with an ADD_PARTICIPANT envelope
    /// each) and sends each of them the creation event, which is how a
    /// person creating a chat with the bot in it looks to the bot.
    fn create_multi(
        &mut self,
        kind: ChatType,
        event: &str,
        actor: &str,
        args: &Args,
        out: &mut Vec<Outbound>,
    ) -> Result<Value, u32> {
        let title = match args.value("title") {
            Some(_) => args.title("title")?,
            None => args.title("name")?,
        };
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
            let content = json!({ "userId": user, "role": Role::User.name() });
            self.post_system(&id, kind::ADD_PARTICIPANT, content, actor, &mut Vec::new());
        }
        if let Some(chat) = self.chats.get(&id) {
            for user in &added {
                out.push(Outbound {
                    user_id: user.clone(),
                    method: event.into(),
                    payload: render::chat_object(chat, user),
                });
            }
        }
        Ok(json!({ "chatId": id }))
    }

    /// `createFavoritesChat {}` -> `{chatId}`: one per user, `favorites_owner`.
    pub(super) fn create_favorites_chat(
        &mut self,
        actor: &str,
        _args: &Args,
        _out: &mut Vec<Outbound>,
    ) -> Result<Value, u32> {
        if let Some(id) = self.favorites.get(actor) {
            return Ok(json!({ "chatId": id }));
        }
        let members = vec![(actor.to_string(), Role::FavoritesOwner)];
        let id = self.new_chat(ChatType::Favorites, FAVORITES_TITLE.into(), members);
        self.favorites.insert(actor.to_string(), id.clone());
        Ok(json!({ "chatId": id }))
    }

    /// `getChatByID {chatId}` -> the chat object; 304, 305.
    pub(super) fn get_chat_by_id(
        &mut self,
        actor: &str,
        args: &Args,
        _out: &mut Vec<Outbound>,
    ) -> Result<Value, u32> {
        let (chat, _) = self.member_chat(&args.str("chatId")?, actor)?;
        Ok(render::chat_object(chat, actor))
    }

    /// `getChats {count, page}` -> a bare array of chat objects (as the
    /// guide's example), newest activity first; pages count from 1.
    pub(super) fn get_chats(
        &mut self,
        actor: &str,
        args: &Args,
        _out: &mut Vec<Outbound>,
    ) -> Result<Value, u32> {
        let count = args.u64("count")? as usize;
        let page = args.u64("page")?.max(1) as usize;
        let mut mine: Vec<&Chat> = self
            .chats
            .values()
            .filter(|c| c.participant(actor).is_some())
            .collect();
        mine.sort_by_key(|c| std::cmp::Reverse(c.activity));
        let skip = count.saturating_mul(page - 1);
        let list: Vec<Value> = mine
            .into_iter()
            .skip(skip)
            .take(count)
            .map(|c| render::chat_object(c, actor))
            .collect();
        Ok(Value::Array(list))
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
        let chat_id = args.str("chatId")?;
        let (chat, role) = self.member_chat(&chat_id, actor)?;
        if matches!(chat.kind, ChatType::Group | ChatType::Channel) && role != Role::Owner {
            return Err(NOT_ENOUGH_RIGHTS);
        }
        let others = chat.others(actor);
        self.drop_chat(&chat_id);
        World::emit_to(&others, "removeChat", &json!({ "chatId": chat_id }), out);
        Ok(json!({ "chatId": chat_id }))
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
        let chat_id = args.str("chatId")?;
        let for_all = args.flag("forAll")?;
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
            return Ok(json!({}));
        }
        if let Some(chat) = self.chats.get_mut(&chat_id) {
            let removed = std::mem::take(&mut chat.messages);
            for m in removed.values() {
                self.messages.remove(&m.id);
            }
        }
        let event = json!({ "chatId": chat_id, "forAll": true });
        World::emit_to(&others, "clearHistory", &event, out);
        let content = json!({ "forAll": true });
        self.post_system(&chat_id, kind::HISTORY_CLEARED, content, actor, out);
        Ok(json!({}))
    }

    /// `editChatTitle {chatId, title}` -> `{chatId, timestamp}`; title 1 to
    /// 256 characters (399); 304, 305, 303.
    pub(super) fn edit_chat_title(
        &mut self,
        actor: &str,
        args: &Args,
        out: &mut Vec<Outbound>,
    ) -> Result<Value, u32> {
        let chat_id = args.str("chatId")?;
        let title = args.title("title")?;
        let (chat, role) = self.member_chat(&chat_id, actor)?;
        World::require(chat, role, Action::ChangeTitle)?;
        let others = chat.others(actor);
        let timestamp = self.clock.now();
        if let Some(chat) = self.chats.get_mut(&chat_id) {
            chat.title = title.clone();
        }
        let event = json!({ "chatId": chat_id, "title": title });
        World::emit_to(&others, "editChatTitle", &event, out);
        self.post_system(
            &chat_id,
            kind::TITLE_CHANGED,
            json!({ "title": title }),
            actor,
            out,
        );
        Ok(json!({ "chatId": chat_id, "timestamp": timestamp }))
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
        let chat_id = args.str("chatId")?;
        let temporal = args.str("temporalFileId")?;
        let (chat, role) = self.member_chat(&chat_id, actor)?;
        World::require(chat, role, Action::ChangeIcon)?;
        let others = chat.others(actor);
        let file_id = self.claim_upload(&temporal, actor, &chat_id)?;
        let url = self.download_url(&file_id, false);
        if let Some(chat) = self.chats.get_mut(&chat_id) {
            chat.avatar_url = Some(url.clone());
        }
        let event = json!({ "chatId": chat_id, "avatarUrl": url });
        World::emit_to(&others, "editChatAvatar", &event, out);
        let content = json!({ "avatarUrl": url });
        self.post_system(&chat_id, kind::AVATAR_CHANGED, content, actor, out);
        Ok(json!({}))
    }
}
