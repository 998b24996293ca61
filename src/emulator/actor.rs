//! Acting as a configured user: every method runs through the same World
//! rules as a connected client, and its events reach the other users'
//! sessions, so a test can play the human side of a chat.

use super::world::StoredFile;
use super::Inner;
use crate::transport::socket::lock;
use serde_json::{json, Value};
use std::fmt;
use std::sync::Arc;

/// errorCode for a login the emulator does not know (INVALID_CREDENTIALS).
const UNKNOWN_USER: u32 = 201;

/// A configured user, acting without a connection (from
/// [`super::Emulator::user`]). Errors are API error codes; a login the
/// emulator does not know gets 201 on every call.
#[derive(Clone)]
pub struct Actor {
    inner: Arc<Inner>,
    login: String,
    user_id: String,
}

impl fmt::Debug for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Actor")
            .field("user_id", &self.user_id)
            .finish_non_exhaustive()
    }
}

/// What [`Actor::send_file`] sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentFile {
    /// The message carrying the file.
    pub message_id: String,
    /// The file's permanent id.
    pub file_id: String,
}

fn str_field(v: &Value, name: &str) -> Result<String, u32> {
    v.get(name)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or(300)
}

/// A MIME type guessed from a file name's extension.
pub(crate) fn guess_mime(name: &str) -> &'static str {
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "txt" | "log" => "text/plain",
        "csv" => "text/csv",
        "json" => "application/json",
        "pdf" => "application/pdf",
        "zip" => "application/zip",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "svg" => "image/svg+xml",
        "mp3" => "audio/mpeg",
        "ogg" => "audio/ogg",
        "mp4" => "video/mp4",
        "vcf" => "text/vcard",
        _ => "application/octet-stream",
    }
}

impl Actor {
    pub(crate) fn new(inner: Arc<Inner>, login: &str) -> Actor {
        let user_id = inner.settings.user_id(login);
        Actor {
            inner,
            login: login.to_owned(),
            user_id,
        }
    }

    /// The login.
    pub fn login(&self) -> &str {
        &self.login
    }

    /// The user id (`login@server_name`).
    pub fn user_id(&self) -> &str {
        &self.user_id
    }

    fn known(&self) -> Result<(), u32> {
        if self.inner.settings.users.contains_key(&self.login) {
            Ok(())
        } else {
            Err(UNKNOWN_USER)
        }
    }

    /// A user id for a login or a user id.
    fn expand(&self, user: &str) -> String {
        if user.contains('@') {
            user.to_owned()
        } else {
            self.inner.settings.user_id(user)
        }
    }

    /// Runs any client method with a JSON payload; returns the response
    /// payload or the error code ([`super::NO_RESPONSE`] for a request the
    /// real server never answers). The actor has no connection, so
    /// `subscribeFileProgress` keeps no subscription (progress
    /// subscriptions belong to a WebSocket connection).
    pub fn call(&self, method: &str, payload: Value) -> Result<Value, u32> {
        self.known()?;
        self.inner.act(&self.user_id, method, &payload)
    }

    /// `sendMessage` with plain text; returns the message id.
    pub fn send_message(&self, chat_id: &str, text: &str) -> Result<String, u32> {
        let r = self.call(
            "sendMessage",
            json!({"chatId": chat_id, "replyMessageId": null,
                   "content": {"text": text, "parseMode": "text"}}),
        )?;
        str_field(&r, "messageId")
    }

    /// `sendMessage` replying to `reply_to`; returns the message id.
    pub fn reply(&self, chat_id: &str, reply_to: &str, text: &str) -> Result<String, u32> {
        let r = self.call(
            "sendMessage",
            json!({"chatId": chat_id, "replyMessageId": reply_to,
                   "content": {"text": text, "parseMode": "text"}}),
        )?;
        str_field(&r, "messageId")
    }

    /// `editMessage` with plain text.
    pub fn edit_message(&self, message_id: &str, text: &str) -> Result<(), u32> {
        self.call(
            "editMessage",
            json!({"messageId": message_id, "content": {"text": text, "parseMode": "text"}}),
        )
        .map(drop)
    }

    /// `removeMessage`, for everyone or only for this user.
    pub fn remove_message(&self, message_id: &str, for_all: bool) -> Result<(), u32> {
        self.call(
            "removeMessage",
            json!({"messageId": message_id, "forAll": for_all}),
        )
        .map(drop)
    }

    /// `createP2PChat` with a user (login or user id); returns the chat id.
    pub fn create_p2p_chat(&self, user: &str) -> Result<String, u32> {
        let r = self.call("createP2PChat", json!({"userId": self.expand(user)}))?;
        str_field(&r, "chatId")
    }

    /// `createGroupChat`; returns the chat id.
    pub fn create_group_chat(&self, title: &str) -> Result<String, u32> {
        let r = self.call("createGroupChat", json!({ "title": title }))?;
        str_field(&r, "chatId")
    }

    /// `createChannel`; returns the chat id.
    pub fn create_channel(&self, title: &str) -> Result<String, u32> {
        let r = self.call("createChannel", json!({ "title": title }))?;
        str_field(&r, "chatId")
    }

    /// `addChatParticipant` (login or user id).
    pub fn add_participant(&self, chat_id: &str, user: &str) -> Result<(), u32> {
        self.call(
            "addChatParticipant",
            json!({"chatId": chat_id, "userId": self.expand(user)}),
        )
        .map(drop)
    }

    /// `removeChatParticipant` (login or user id).
    pub fn remove_participant(&self, chat_id: &str, user: &str) -> Result<(), u32> {
        self.call(
            "removeChatParticipant",
            json!({"chatId": chat_id, "userId": self.expand(user)}),
        )
        .map(drop)
    }

    /// `changeParticipantRole` (login or user id; role as the wire string,
    /// e.g. `"admin"`).
    pub fn change_role(&self, chat_id: &str, user: &str, role: &str) -> Result<(), u32> {
        self.call(
            "changeParticipantRole",
            json!({"chatId": chat_id, "userId": self.expand(user), "role": role}),
        )
        .map(drop)
    }

    /// Presses the command button `command` under message `message_id`, as
    /// a person would in a TrueConf client: a `command` event goes to the
    /// button's `to` user, or else to the message's author. The event
    /// carries the message (with the nested `chat`), the button id when it
    /// has one, and the button's `customData`. Errors: those of
    /// `getMessageById` (306, 305...), and 399 when the message has no
    /// command button with this command.
    pub fn press_button(&self, message_id: &str, command: &str) -> Result<(), u32> {
        let mut message = self.call("getMessageById", json!({ "messageId": message_id }))?;
        let button = message
            .pointer("/content/buttons")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_array)
            .flatten()
            .find(|b| {
                b.get("type").and_then(Value::as_str) == Some("command")
                    && b.get("command").and_then(Value::as_str) == Some(command)
            })
            .cloned()
            .ok_or(399u32)?;
        let chat_id = str_field(&message, "chatId")?;
        let chat = self.call("getChatByID", json!({ "chatId": chat_id }))?;
        if let Some(fields) = message.as_object_mut() {
            fields.insert(
                "chat".into(),
                json!({"chatId": chat_id, "chatTitle": chat.get("title"),
                       "chatType": chat.get("chatType")}),
            );
        }
        let to = match button.get("to").and_then(Value::as_str) {
            Some(to) => self.expand(to),
            None => message
                .pointer("/author/id")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or(300u32)?,
        };
        let mut source = json!({"type": "inlineKeyboard", "message": message});
        if let Some(id) = button.get("id") {
            source["buttonId"] = id.clone();
        }
        let mut payload = json!({"type": "userCommand", "command": command});
        if let Some(data) = button.get("customData") {
            payload["customData"] = data.clone();
        }
        super::session::deliver(
            &self.inner,
            vec![super::world::Outbound {
                user_id: to,
                session: None,
                method: "command".into(),
                payload: json!({
                    "commandId": format!("command-{}", super::tokens::random_hex(8)),
                    "commandSource": source,
                    "commandPayload": payload,
                }),
            }],
        );
        Ok(())
    }

    /// Sends a file as this user: the upload task, the upload itself
    /// (straight into the file store) and `sendFile`.
    pub fn send_file(&self, chat_id: &str, name: &str, bytes: &[u8]) -> Result<SentFile, u32> {
        self.send_file_with_preview(chat_id, name, bytes, None)
    }

    /// [`Actor::send_file`] with an optional preview image (name, bytes).
    pub fn send_file_with_preview(
        &self,
        chat_id: &str,
        name: &str,
        bytes: &[u8],
        preview: Option<(&str, &[u8])>,
    ) -> Result<SentFile, u32> {
        let task = self.call(
            "uploadFile",
            json!({"fileSize": bytes.len(), "fileName": name}),
        )?;
        let task_id = str_field(&task, "uploadTaskId")?;
        let store = |what: &str, name: &str, data: &[u8]| -> Result<StoredFile, u32> {
            let path = self.inner.new_file_path(what);
            std::fs::write(&path, data).map_err(|e| {
                log::warn!("emulator file store: {e}");
                400u32
            })?;
            Ok(StoredFile {
                path,
                size: data.len() as u64,
                name: name.to_owned(),
                mime_type: guess_mime(name).to_owned(),
            })
        };
        let file = store("file", name, bytes)?;
        let preview = match preview {
            Some((pname, pdata)) => Some(store("preview", pname, pdata)?),
            None => None,
        };
        let temporal = {
            let paths: Vec<_> = std::iter::once(file.path.clone())
                .chain(preview.as_ref().map(|p| p.path.clone()))
                .collect();
            let result = lock(&self.inner.world).complete_upload(&task_id, file, preview);
            match result {
                Ok(id) => id,
                Err(rejection) => {
                    for p in paths {
                        let _ = std::fs::remove_file(p);
                    }
                    return Err(rejection.error);
                }
            }
        };
        let sent = self.call(
            "sendFile",
            json!({"chatId": chat_id, "content": {"temporalFileId": temporal}}),
        )?;
        Ok(SentFile {
            message_id: str_field(&sent, "messageId")?,
            file_id: str_field(&sent, "fileId")?,
        })
    }
}
