//! The emulator's world: in-memory users, chats, participants, messages and
//! files, and the semantics of every Chatbot API method.
//!
//! [`World::handle`] runs one client method as one user and answers with the
//! response payload or an API error code; events for the other users go to
//! an `out` vector of [`Outbound`]. The session layer (auth, ids, acks,
//! sockets) and the HTTP side live elsewhere in `crate::emulator`.
//!
//! Choices where the spec is silent (each also noted where it is coded):
//! - An unknown method is 104 (ROUTE_NOT_FOUND).
//! - A user id naming no registered user is 302 (ACCESS_DENIED). A
//!   `/resource` suffix on a user id is ignored; ids match case-insensitively.
//! - `parseMode: null` (in `content` or `content.caption`) gets no response at
//!   all: `Err(NO_RESPONSE)`.
//! - Requests decode into the client's own request types
//!   (`crate::protocol::methods`) and pass their `validate()`, plus the few
//!   strict checks a server adds (see `args`); any failure is 399.
//! - getChatHistory's `fromMessageId` is inclusive: the page starts with
//!   that message, then older ones. getChats and getChatParticipants count
//!   pages from 1:
//!   offset = size * (page - 1); getChats page 0 is 399 (validated like the
//!   client does), getChatParticipants page 0 is read as page 1.
//! - System envelopes (types 1, 2, 21, 22, 23, 110) are appended to history
//!   and also emitted as `sendMessage` events; sessions that did not ask for
//!   `receiveSystemMessageEnvelopes` must drop those
//!   ([`Outbound::is_system_envelope`]).
//!
//! Most methods run as a user. Upload progress subscriptions are state of
//! the session (the WebSocket connection) that made them, as on a real
//! server: `subscribeFileProgress` and `unsubscribeFileProgress` run as one
//! session of a user ([`SessionId`]), progress events go to the subscribed
//! sessions only ([`Outbound::session`]), and the session layer calls
//! [`World::end_session`] when a connection closes. Run without a session
//! (an actor, the control API's `act`), `subscribeFileProgress` answers as
//! usual but keeps nothing and sends nothing: there is no connection to
//! hold the subscription.

mod args;
mod chats;
mod codes;
mod files;
mod ids;
mod messages;
mod model;
mod participants;
mod render;
mod roles;
mod storage;
mod surveys;
mod users;

#[cfg(test)]
mod tests;

pub(crate) use codes::NO_RESPONSE;
pub(crate) use storage::{StoredFile, UploadTask};

use crate::protocol::events::ServerEvent;
use crate::protocol::Content;
use args::Args;
use ids::{Clock, IdGen};
use model::{Author, Chat, Message, Role};
use roles::Action;
use serde_json::value::RawValue;
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use storage::{FileRecord, PendingUpload};

/// How the world presents itself.
#[derive(Debug, Clone)]
pub(crate) struct WorldConfig {
    /// The server name, e.g. "emulator.local"; user ids are
    /// `login@server_name` and system envelopes are authored by it.
    pub server_name: String,
    /// The base URL of download URLs, e.g. "http://127.0.0.1:4309".
    pub server_url: String,
    /// The getFileUploadLimits payload, when set: `{maxSize?, extensions?:
    /// {mode: allow|block, list}}`; also enforced by uploadFile and uploads.
    pub upload_limits: Option<Value>,
}

/// A WebSocket session (connection) of a user, by its connection number:
/// what holds upload progress subscriptions.
pub(crate) type SessionId = u64;

/// An event for every session authenticated as `user_id`, or for one of
/// them.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Outbound {
    /// The user whose sessions receive it.
    pub user_id: String,
    /// Only this session receives it (while authenticated as `user_id`);
    /// `None`: every session of the user.
    pub session: Option<SessionId>,
    /// The event method, e.g. `sendMessage`.
    pub method: String,
    /// The event payload.
    pub payload: Value,
}

impl Outbound {
    /// The same event for one session of its user only.
    pub fn for_session(self, session: SessionId) -> Outbound {
        Outbound {
            session: Some(session),
            ..self
        }
    }

    /// A `sendMessage` event carrying a system envelope (type below 200).
    /// Sessions deliver these only when `auth` asked for
    /// `receiveSystemMessageEnvelopes`.
    pub fn is_system_envelope(&self) -> bool {
        self.method == "sendMessage"
            && self
                .payload
                .get("type")
                .and_then(Value::as_u64)
                .is_some_and(|t| t < 200)
    }
}

/// Where a message lives.
#[derive(Debug, Clone)]
struct MessageRef {
    chat_id: String,
    box_id: u64,
}

/// The whole in-memory state of one emulated server.
#[derive(Debug)]
pub(crate) struct World {
    config: WorldConfig,
    ids: IdGen,
    clock: Clock,
    /// Orders chats by last activity.
    activity: u64,
    /// Users by lowercased id.
    users: HashMap<String, model::User>,
    chats: HashMap<String, Chat>,
    messages: HashMap<String, MessageRef>,
    /// p2p chats by the sorted pair of user ids.
    p2p: HashMap<(String, String), String>,
    /// Favorites chats by owner.
    favorites: HashMap<String, String>,
    upload_tasks: HashMap<String, UploadTask>,
    /// Uploaded files not sent yet, by temporalFileId.
    pending: HashMap<String, PendingUpload>,
    files: HashMap<String, FileRecord>,
}

/// A method that runs as a user (the acting user id).
type Handler = fn(&mut World, &str, &Args, &mut Vec<Outbound>) -> Result<Value, u32>;

/// A method that runs as one session of a user (the acting user id and the
/// calling session, if any): its state belongs to the connection.
type SessionHandler =
    fn(&mut World, &str, Option<SessionId>, &Args, &mut Vec<Outbound>) -> Result<Value, u32>;

/// How a method runs.
#[derive(Clone, Copy)]
enum Route {
    /// As a user.
    User(Handler),
    /// As a session of a user.
    Session(SessionHandler),
}

impl World {
    /// An empty world.
    pub fn new(config: WorldConfig) -> World {
        World {
            config,
            ids: IdGen::new(),
            clock: Clock::default(),
            activity: 0,
            users: HashMap::new(),
            chats: HashMap::new(),
            messages: HashMap::new(),
            p2p: HashMap::new(),
            favorites: HashMap::new(),
            upload_tasks: HashMap::new(),
            pending: HashMap::new(),
            files: HashMap::new(),
        }
    }

    /// Runs one client method as `actor` (a user id) on `session` (the
    /// calling connection; `None` when acting without one). Ok is the
    /// response payload; Err is an API error code, or [`NO_RESPONSE`] when
    /// the real server would never answer. Events go to `out`.
    pub fn handle(
        &mut self,
        actor: &str,
        session: Option<SessionId>,
        method: &str,
        payload: Option<&RawValue>,
        out: &mut Vec<Outbound>,
    ) -> Result<Value, u32> {
        let route = Self::route(method).ok_or(codes::ROUTE_NOT_FOUND)?;
        let args = Args::parse(payload)?;
        if args.has_null_parse_mode() {
            return Err(NO_RESPONSE);
        }
        let actor = self.actor_id(actor);
        let first_event = out.len();
        let result = match route {
            Route::User(handler) => handler(self, &actor, &args, out),
            Route::Session(handler) => handler(self, &actor, session, &args, out),
        };
        if result.is_err() {
            // Handlers validate before they change anything; never leak
            // events of a failed request.
            out.truncate(first_event);
        }
        result
    }

    fn route(method: &str) -> Option<Route> {
        if let Some(handler) = Self::session_route(method) {
            return Some(Route::Session(handler));
        }
        Some(Route::User(match method {
            "createP2PChat" => World::create_p2p_chat,
            "createGroupChat" => World::create_group_chat,
            "createChannel" => World::create_channel,
            "createFavoritesChat" => World::create_favorites_chat,
            "getChatByID" => World::get_chat_by_id,
            "getChats" => World::get_chats,
            "removeChat" => World::remove_chat,
            "clearHistory" => World::clear_history,
            "editChatTitle" => World::edit_chat_title,
            "editChatAvatar" => World::edit_chat_avatar,
            "addChatParticipant" => World::add_chat_participant,
            "removeChatParticipant" => World::remove_chat_participant,
            "hasChatParticipant" => World::has_chat_participant,
            "getChatParticipant" => World::get_chat_participant,
            "getChatParticipants" => World::get_chat_participants,
            "changeParticipantRole" => World::change_participant_role,
            "getUserDisplayName" => World::get_user_display_name,
            "sendMessage" => World::send_message,
            "editMessage" => World::edit_message,
            "forwardMessage" => World::forward_message,
            "getMessageById" => World::get_message_by_id,
            "getChatHistory" => World::get_chat_history,
            "removeMessage" => World::remove_message,
            "sendChatActivity" => World::send_chat_activity,
            "uploadFile" => World::upload_file,
            "sendFile" => World::send_file,
            "getFileInfo" => World::get_file_info,
            "getFileUploadLimits" => World::get_file_upload_limits,
            "sendSurvey" => World::send_survey,
            "editSurvey" => World::edit_survey,
            _ => return None,
        }))
    }

    /// The methods whose state belongs to the calling session.
    fn session_route(method: &str) -> Option<SessionHandler> {
        Some(match method {
            "subscribeFileProgress" => World::subscribe_file_progress,
            "unsubscribeFileProgress" => World::unsubscribe_file_progress,
            _ => return None,
        })
    }

    // ---- shared lookups and checks -------------------------------------

    /// The chat, or 304.
    fn chat(&self, chat_id: &str) -> Result<&Chat, u32> {
        self.chats.get(chat_id).ok_or(codes::CHAT_NOT_FOUND)
    }

    /// The chat and the actor's role in it: 304, then 305.
    fn member_chat(&self, chat_id: &str, actor: &str) -> Result<(&Chat, Role), u32> {
        let chat = self.chat(chat_id)?;
        let role = chat.role_of(actor).ok_or(codes::NOT_A_PARTICIPANT)?;
        Ok((chat, role))
    }

    /// 303 unless the role tables allow `action`.
    fn require(chat: &Chat, role: Role, action: Action) -> Result<(), u32> {
        if roles::allowed(chat.kind, role, action) {
            Ok(())
        } else {
            Err(codes::NOT_ENOUGH_RIGHTS)
        }
    }

    /// A message `actor` can see: 306 when unknown or hidden, 305 when the
    /// actor is not in its chat.
    fn visible_message(&self, message_id: &str, actor: &str) -> Result<(&Chat, &Message), u32> {
        let at = self
            .messages
            .get(message_id)
            .ok_or(codes::MESSAGE_NOT_FOUND)?;
        let chat = self.chat(&at.chat_id)?;
        if chat.participant(actor).is_none() {
            return Err(codes::NOT_A_PARTICIPANT);
        }
        let m = chat
            .messages
            .get(&at.box_id)
            .ok_or(codes::MESSAGE_NOT_FOUND)?;
        if !chat.visible_to(m, actor) {
            return Err(codes::MESSAGE_NOT_FOUND);
        }
        Ok((chat, m))
    }

    /// The reply target in `chat`: the id must name a message of that chat
    /// that `actor` can see (306 otherwise).
    fn reply_target(&self, chat: &Chat, reply_id: &str, actor: &str) -> Result<(String, u64), u32> {
        let at = self
            .messages
            .get(reply_id)
            .filter(|at| at.chat_id == chat.id)
            .ok_or(codes::MESSAGE_NOT_FOUND)?;
        let m = chat
            .messages
            .get(&at.box_id)
            .filter(|m| chat.visible_to(m, actor))
            .ok_or(codes::MESSAGE_NOT_FOUND)?;
        Ok((m.id.clone(), m.box_id))
    }

    /// The next activity number (chat ordering).
    fn bump_activity(&mut self) -> u64 {
        self.activity += 1;
        self.activity
    }

    /// Appends a message to a chat and returns its id, box id and timestamp.
    /// The author's read mark moves past it.
    fn post(
        &mut self,
        chat_id: &str,
        author: Author,
        content: Content,
        reply_to: Option<(String, u64)>,
    ) -> Option<(String, u64, u64)> {
        let id = self.ids.uuid();
        let timestamp = self.clock.now();
        let activity = self.bump_activity();
        let chat = self.chats.get_mut(chat_id)?;
        let box_id = chat.next_box;
        chat.next_box += 1;
        chat.activity = activity;
        if let Author::User(user) = &author {
            if let Some(p) = chat.participant_mut(user) {
                p.read_upto = Some(box_id);
            }
        }
        chat.messages.insert(
            box_id,
            Message {
                id: id.clone(),
                box_id,
                author,
                content,
                timestamp,
                is_edited: false,
                reply_to,
                hidden_for: HashSet::new(),
            },
        );
        self.messages.insert(
            id.clone(),
            MessageRef {
                chat_id: chat_id.to_string(),
                box_id,
            },
        );
        Some((id, box_id, timestamp))
    }

    /// Appends a system envelope (author: the server) and emits it to every
    /// participant but `actor`.
    fn post_system(
        &mut self,
        chat_id: &str,
        content: Content,
        actor: &str,
        out: &mut Vec<Outbound>,
    ) {
        let author = Author::System(self.config.server_name.clone());
        if let Some((_, box_id, _)) = self.post(chat_id, author, content, None) {
            self.emit_message(chat_id, box_id, actor, out);
        }
    }

    /// A `sendMessage` event for the message at `box_id` to every
    /// participant but `actor` who can see it.
    fn emit_message(&self, chat_id: &str, box_id: u64, actor: &str, out: &mut Vec<Outbound>) {
        let Some(chat) = self.chats.get(chat_id) else {
            return;
        };
        let Some(m) = chat.messages.get(&box_id) else {
            return;
        };
        for p in &chat.participants {
            if p.user_id != actor && chat.visible_to(m, &p.user_id) {
                out.push(render::event(
                    &p.user_id,
                    &render::envelope(chat, m, &p.user_id),
                ));
            }
        }
    }

    /// The same event to each of `users`.
    fn emit_to(users: &[String], e: &impl ServerEvent, out: &mut Vec<Outbound>) {
        out.extend(users.iter().map(|u| render::event(u, e)));
    }

    /// Removes a chat and everything indexed under it.
    fn drop_chat(&mut self, chat_id: &str) -> Option<Chat> {
        let chat = self.chats.remove(chat_id)?;
        for m in chat.messages.values() {
            self.messages.remove(&m.id);
        }
        self.p2p.retain(|_, id| id != chat_id);
        self.favorites.retain(|_, id| id != chat_id);
        Some(chat)
    }

    /// Marks the messages of a chat up to `message_id` as read by `user_id`
    /// (what a session may call when the user acknowledges a `sendMessage`
    /// event). Unknown ids are ignored.
    pub fn mark_read(&mut self, user_id: &str, message_id: &str) {
        let user = self.actor_id(user_id);
        let Some(at) = self.messages.get(message_id).cloned() else {
            return;
        };
        if let Some(p) = self
            .chats
            .get_mut(&at.chat_id)
            .and_then(|c| c.participant_mut(&user))
        {
            p.read_upto = Some(p.read_upto.map_or(at.box_id, |b| b.max(at.box_id)));
        }
    }
}
