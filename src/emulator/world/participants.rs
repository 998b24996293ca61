//! Participants: add, remove, has, get, list, change role.

use super::args::Args;
use super::codes::{ALREADY_IN_CHAT, NOT_A_PARTICIPANT, NOT_ENOUGH_RIGHTS, ROLE_NOT_FOUND};
use super::model::{ChatType, Participant, Role};
use super::render::answer;
use super::roles::{self, Action};
use super::{Outbound, World};
use crate::protocol::events::{ParticipantAdded, ParticipantRemoved, ParticipantRoleChanged};
use crate::protocol::methods::{
    AddChatParticipant, ChangeParticipantRole, Empty, GetChatParticipant, GetChatParticipants,
    HasChatParticipant, RemoveChatParticipant, ResultResponse,
};
use crate::protocol::{
    AuthorType, ChatParticipant, Content, EnvelopeAuthor, ParticipantContent, ParticipantList,
    RemovedParticipantContent,
};
use serde_json::Value;

impl World {
    /// `addChatParticipant {chatId, userId, displayHistory?}` -> `{}`.
    /// The user joins as `user`; without `displayHistory` it sees only
    /// messages from its joining on. 304, 305 (actor), 303, 302 (unknown
    /// user), 309. Events: `addChatParticipant` to every participant but the
    /// actor (the added user included) and the ADD_PARTICIPANT envelope.
    pub(super) fn add_chat_participant(
        &mut self,
        actor: &str,
        args: &Args,
        out: &mut Vec<Outbound>,
    ) -> Result<Value, u32> {
        let req: AddChatParticipant = args.decode()?;
        let (chat_id, raw_user) = (req.chat_id, req.user_id);
        let display_history = req.display_history.unwrap_or(false);
        let (chat, role) = self.member_chat(&chat_id, actor)?;
        World::require(chat, role, Action::AddParticipants)?;
        let user = self.user_id(&raw_user)?;
        if chat.participant(&user).is_some() {
            return Err(ALREADY_IN_CHAT);
        }
        let timestamp = self.clock.now();
        if let Some(chat) = self.chats.get_mut(&chat_id) {
            let visible_from = if display_history { 0 } else { chat.next_box };
            chat.participants.push(Participant {
                user_id: user.clone(),
                role: Role::User,
                visible_from,
                read_upto: None,
            });
        }
        let others = self.chat(&chat_id)?.others(actor);
        let event = ParticipantAdded {
            chat_id: chat_id.clone(),
            user_id: user.clone(),
            added_by: Some(EnvelopeAuthor::user(actor)),
            timestamp,
        };
        World::emit_to(&others, &event, out);
        let content = Content::ParticipantAdded(ParticipantContent {
            user_id: user,
            role: Role::User.wire(),
        });
        self.post_system(&chat_id, content, actor, out);
        answer(Empty)
    }

    /// `removeChatParticipant {chatId, userId, clearHistory?}` -> `{}`.
    /// Owners and admins remove others (303 for the rest, and for anyone
    /// removing the owner); any non-owner may remove itself from a group or
    /// channel (leave). 304, 305 (actor or target). `clearHistory` is
    /// accepted and has no further effect: the removed user sees nothing of
    /// the chat anyway. Events: `removeChatParticipant` to every participant
    /// but the actor, the removed user included, and the REMOVE_PARTICIPANT
    /// envelope to those remaining.
    pub(super) fn remove_chat_participant(
        &mut self,
        actor: &str,
        args: &Args,
        out: &mut Vec<Outbound>,
    ) -> Result<Value, u32> {
        let req: RemoveChatParticipant = args.decode()?;
        let (chat_id, raw_user) = (req.chat_id, req.user_id);
        let (chat, role) = self.member_chat(&chat_id, actor)?;
        let user = self.actor_id(&raw_user);
        let target = chat.role_of(&user).ok_or(NOT_A_PARTICIPANT)?;
        let leaving = user == actor && matches!(chat.kind, ChatType::Group | ChatType::Channel);
        if !leaving {
            World::require(chat, role, Action::RemoveParticipants)?;
        }
        if target == Role::Owner {
            return Err(NOT_ENOUGH_RIGHTS);
        }
        let notified = chat.others(actor);
        let timestamp = self.clock.now();
        if let Some(chat) = self.chats.get_mut(&chat_id) {
            chat.participants.retain(|p| p.user_id != user);
        }
        let event = ParticipantRemoved {
            chat_id: chat_id.clone(),
            user_id: user.clone(),
            removed_by: Some(EnvelopeAuthor::user(actor)),
            timestamp,
        };
        World::emit_to(&notified, &event, out);
        let content = Content::ParticipantRemoved(RemovedParticipantContent { user_id: user });
        self.post_system(&chat_id, content, actor, out);
        answer(Empty)
    }

    /// `hasChatParticipant {chatId, userId}` -> `{result}`; 304, 305 (actor).
    pub(super) fn has_chat_participant(
        &mut self,
        actor: &str,
        args: &Args,
        _out: &mut Vec<Outbound>,
    ) -> Result<Value, u32> {
        let req: HasChatParticipant = args.decode()?;
        let user = self.actor_id(&req.user_id);
        let (chat, _) = self.member_chat(&req.chat_id, actor)?;
        answer(ResultResponse {
            result: chat.participant(&user).is_some(),
        })
    }

    /// `getChatParticipant {chatId, userId}` -> `{userId, role, type: 1}`;
    /// 304, 305 (actor or target).
    pub(super) fn get_chat_participant(
        &mut self,
        actor: &str,
        args: &Args,
        _out: &mut Vec<Outbound>,
    ) -> Result<Value, u32> {
        let req: GetChatParticipant = args.decode()?;
        let user = self.actor_id(&req.user_id);
        let (chat, _) = self.member_chat(&req.chat_id, actor)?;
        let role = chat.role_of(&user).ok_or(NOT_A_PARTICIPANT)?;
        answer(ChatParticipant {
            user_id: user,
            role: role.wire(),
            user_type: Some(AuthorType::User),
        })
    }

    /// `getChatParticipants {chatId, pageSize, pageNumber}` ->
    /// `{participants: [{userId, role}]}` in joining order. Pages count from
    /// 1 as clients use them (the guide's example asks page 1 of 100 and
    /// expects the first participants): offset = pageSize * (pageNumber - 1),
    /// page 0 read as 1. 304, 305.
    pub(super) fn get_chat_participants(
        &mut self,
        actor: &str,
        args: &Args,
        _out: &mut Vec<Outbound>,
    ) -> Result<Value, u32> {
        let req: GetChatParticipants = args.decode()?;
        let size = req.page_size as usize;
        let page = req.page_number.max(1) as usize;
        let (chat, _) = self.member_chat(&req.chat_id, actor)?;
        let participants = chat
            .participants
            .iter()
            .skip(size.saturating_mul(page - 1))
            .take(size)
            .map(|p| ChatParticipant::new(p.user_id.as_str(), p.role.wire()))
            .collect();
        answer(ParticipantList { participants })
    }

    /// `changeParticipantRole {chatId, userId, role}` -> `{}`.
    /// 312 for a role name that is unknown or not assignable in that chat
    /// type (groups: owner, admin, user; channels: also writer); 304, 305
    /// (actor or target), 303 per the tables. Making someone `owner` needs
    /// the right to change the owner and turns the previous owner into an
    /// `admin`; the owner's own role changes only that way (303). Events:
    /// `changeParticipantRole` to every participant but the actor, and the
    /// ROLE_CHANGED envelope.
    pub(super) fn change_participant_role(
        &mut self,
        actor: &str,
        args: &Args,
        out: &mut Vec<Outbound>,
    ) -> Result<Value, u32> {
        let req: ChangeParticipantRole = args.decode()?;
        let chat_id = req.chat_id;
        let user = self.actor_id(&req.user_id);
        let new_role = Role::from_wire(&req.role).ok_or(ROLE_NOT_FOUND)?;
        let (chat, role) = self.member_chat(&chat_id, actor)?;
        World::require(chat, role, Action::ChangeRoles)?;
        let current = chat.role_of(&user).ok_or(NOT_A_PARTICIPANT)?;
        if !roles::assignable(chat.kind, new_role) {
            return Err(ROLE_NOT_FOUND);
        }
        if new_role == Role::Owner {
            World::require(chat, role, Action::ChangeOwner)?;
        }
        if current == Role::Owner {
            return Err(NOT_ENOUGH_RIGHTS);
        }
        if current == new_role {
            return answer(Empty);
        }
        let mut changes = vec![(user.clone(), new_role)];
        if new_role == Role::Owner {
            changes.push((actor.to_string(), Role::Admin));
        }
        for (who, r) in changes {
            if let Some(p) = self
                .chats
                .get_mut(&chat_id)
                .and_then(|c| c.participant_mut(&who))
            {
                p.role = r;
            }
            let timestamp = self.clock.now();
            let others = self.chat(&chat_id)?.others(actor);
            let event = ParticipantRoleChanged {
                chat_id: chat_id.clone(),
                user_id: who.clone(),
                role: r.wire(),
                timestamp,
            };
            World::emit_to(&others, &event, out);
            let content = Content::RoleChanged(ParticipantContent {
                user_id: who,
                role: r.wire(),
            });
            self.post_system(&chat_id, content, actor, out);
        }
        answer(Empty)
    }
}
