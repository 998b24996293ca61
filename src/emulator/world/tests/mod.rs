//! Unit tests of the world, one file per method family; no sockets.

mod chats;
mod dispatch;
mod files;
mod messages;
mod participants;
mod surveys;
mod wire;

use super::{Outbound, SessionId, StoredFile, World, WorldConfig};
use serde_json::{json, Value};

/// The server name of the test world.
pub(super) const SERVER: &str = "emu.local";
/// The logins every test world has.
const LOGINS: [&str; 5] = ["bot", "alice", "bob", "carol", "dave"];

/// A world with five users and the events of the last call.
pub(super) struct T {
    pub(super) w: World,
    pub(super) out: Vec<Outbound>,
}

impl T {
    pub(super) fn new() -> T {
        T::with_limits(None)
    }

    pub(super) fn with_limits(limits: Option<Value>) -> T {
        let mut w = World::new(WorldConfig {
            server_name: SERVER.into(),
            server_url: "http://127.0.0.1:4309/".into(),
            upload_limits: limits,
        });
        for login in LOGINS {
            let mut name = login.to_string();
            name[..1].make_ascii_uppercase();
            w.add_user(login, &name);
        }
        T { w, out: Vec::new() }
    }

    /// The user id of a login.
    pub(super) fn id(login: &str) -> String {
        format!("{login}@{SERVER}")
    }

    /// The session a login's calls run on, unless told otherwise: one per
    /// login (0 for a login the world does not have).
    pub(super) fn session(login: &str) -> SessionId {
        LOGINS
            .iter()
            .position(|l| *l == login)
            .map_or(0, |i| i as SessionId + 1)
    }

    /// Runs a method as `login` on its session; the events land in
    /// `self.out`.
    pub(super) fn call(&mut self, login: &str, method: &str, payload: Value) -> Result<Value, u32> {
        self.call_on(Some(T::session(login)), login, method, payload)
    }

    /// Runs a method as `login` on `session` (`None`: without one).
    pub(super) fn call_on(
        &mut self,
        session: Option<SessionId>,
        login: &str,
        method: &str,
        payload: Value,
    ) -> Result<Value, u32> {
        self.out.clear();
        let raw = serde_json::value::to_raw_value(&payload).expect("test payload");
        self.w
            .handle(&T::id(login), session, method, Some(&raw), &mut self.out)
    }

    /// A call on `session` that must succeed.
    pub(super) fn ok_on(
        &mut self,
        session: Option<SessionId>,
        login: &str,
        method: &str,
        payload: Value,
    ) -> Value {
        match self.call_on(session, login, method, payload) {
            Ok(v) => v,
            Err(code) => panic!("{method} as {login} on {session:?} failed with {code}"),
        }
    }

    /// A call that must succeed.
    pub(super) fn ok(&mut self, login: &str, method: &str, payload: Value) -> Value {
        match self.call(login, method, payload) {
            Ok(v) => v,
            Err(code) => panic!("{method} as {login} failed with {code}"),
        }
    }

    /// A call that must fail; its code.
    pub(super) fn err(&mut self, login: &str, method: &str, payload: Value) -> u32 {
        match self.call(login, method, payload) {
            Ok(v) => panic!("{method} as {login} succeeded: {v}"),
            Err(code) => code,
        }
    }

    /// The events of the last call for `login`, as (method, payload).
    pub(super) fn events(&self, login: &str) -> Vec<(String, Value)> {
        let id = T::id(login);
        self.out
            .iter()
            .filter(|o| o.user_id == id)
            .map(|o| (o.method.clone(), o.payload.clone()))
            .collect()
    }

    /// The users who got events from the last call, sorted, deduplicated.
    pub(super) fn notified(&self) -> Vec<String> {
        let mut users: Vec<String> = self.out.iter().map(|o| o.user_id.clone()).collect();
        users.sort();
        users.dedup();
        users
    }

    /// A chat created by `owner` with `members` added as `user`.
    fn multi(&mut self, method: &str, owner: &str, members: &[&str]) -> String {
        let chat = self.ok(owner, method, json!({ "title": "Test chat" }))["chatId"]
            .as_str()
            .expect("chatId")
            .to_string();
        for m in members {
            self.ok(
                owner,
                "addChatParticipant",
                json!({ "chatId": chat, "userId": T::id(m) }),
            );
        }
        chat
    }

    /// A group of `owner` with `members`.
    pub(super) fn group(&mut self, owner: &str, members: &[&str]) -> String {
        self.multi("createGroupChat", owner, members)
    }

    /// A channel of `owner` with `members`.
    pub(super) fn channel(&mut self, owner: &str, members: &[&str]) -> String {
        self.multi("createChannel", owner, members)
    }

    /// Sends a text; its message id.
    pub(super) fn send(&mut self, login: &str, chat: &str, text: &str) -> String {
        let payload = json!({
            "chatId": chat,
            "replyMessageId": null,
            "content": { "text": text, "parseMode": "text" },
        });
        self.ok(login, "sendMessage", payload)["messageId"]
            .as_str()
            .expect("messageId")
            .to_string()
    }

    /// The history as `login` sees it (newest first).
    pub(super) fn history(&mut self, login: &str, chat: &str) -> Vec<Value> {
        let payload = json!({ "chatId": chat, "count": 1000, "fromMessageId": null });
        match self.ok(login, "getChatHistory", payload)["messages"].take() {
            Value::Array(list) => list,
            other => panic!("messages: {other}"),
        }
    }

    /// Uploads a file through a task; its temporalFileId.
    pub(super) fn upload(&mut self, login: &str, name: &str, size: u64, preview: bool) -> String {
        let task = self.ok(
            login,
            "uploadFile",
            json!({ "fileSize": size, "fileName": name }),
        )["uploadTaskId"]
            .as_str()
            .expect("uploadTaskId")
            .to_string();
        let preview = preview.then(|| stored("preview.webp", 10, "image/webp"));
        self.w
            .complete_upload(&task, stored(name, size, "image/png"), preview)
            .expect("upload accepted")
    }

    /// Uploads a file (see [`T::upload`]) and sends it to `chat`; the
    /// `sendFile` response.
    pub(super) fn send_file(
        &mut self,
        login: &str,
        chat: &str,
        name: &str,
        size: u64,
        preview: bool,
    ) -> Value {
        let tmp = self.upload(login, name, size, preview);
        self.ok(
            login,
            "sendFile",
            json!({"chatId": chat, "content": {"temporalFileId": tmp}}),
        )
    }
}

/// A stored file description (no bytes needed by the world).
pub(super) fn stored(name: &str, size: u64, mime: &str) -> StoredFile {
    StoredFile {
        path: std::env::temp_dir().join(name),
        size,
        name: name.into(),
        mime_type: mime.into(),
    }
}

/// The string at a JSON pointer.
pub(super) fn s(v: &Value, pointer: &str) -> String {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("no string at {pointer} in {v}"))
        .to_string()
}
