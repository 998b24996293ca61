//! STUB `World`, written by the infrastructure half only so that it builds
//! and can be tested before the real World (branch `emu-world`) lands.
//! It follows the interface of /work/notes/emulator-design.md exactly and
//! implements the bare minimum the infrastructure tests need: users,
//! `createP2PChat`, `createGroupChat`, `sendMessage` (with events to the
//! other members), `uploadFile`, `sendFile`, `getFileInfo`,
//! `getUserDisplayName`. Every other method answers errorCode 399.
//! DELETE THIS FILE when merging `emu-world`: theirs replaces it wholesale.
#![allow(dead_code)]

use serde_json::value::RawValue;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::path::PathBuf;

/// Settings the World needs from the emulator.
#[derive(Debug, Clone)]
pub(crate) struct WorldConfig {
    /// e.g. "emulator.local"; user ids are "login@server_name".
    pub server_name: String,
    /// Base URL for download URLs, e.g. "http://127.0.0.1:4309".
    pub server_url: String,
    /// getFileUploadLimits payload when set.
    pub upload_limits: Option<Value>,
}

/// An event for every session authenticated as `user_id`.
#[derive(Debug, Clone)]
pub(crate) struct Outbound {
    /// The addressee.
    pub user_id: String,
    /// The event method.
    pub method: String,
    /// The event payload.
    pub payload: Value,
}

/// A pending upload task.
#[derive(Debug, Clone)]
pub(crate) struct UploadTask {
    /// The user id that created it.
    pub owner: String,
    /// The announced size.
    pub file_size: u64,
    /// The announced name.
    pub file_name: String,
}

/// Why an upload was refused.
#[derive(Debug, Clone)]
pub(crate) struct UploadRejection {
    /// HTTP status.
    pub status: u16,
    /// The `error` code of the body.
    pub error: u32,
    /// The `error_description` of the body.
    pub description: String,
}

/// A file on disk.
#[derive(Debug, Clone)]
pub(crate) struct StoredFile {
    /// Where the bytes are.
    pub path: PathBuf,
    /// Their number.
    pub size: u64,
    /// The file name.
    pub name: String,
    /// The MIME type.
    pub mime_type: String,
}

#[derive(Debug)]
struct Chat {
    members: Vec<String>,
    next_box: u64,
}

/// STUB: the in-memory server state.
#[derive(Debug)]
pub(crate) struct World {
    config: WorldConfig,
    users: HashMap<String, String>,
    chats: HashMap<String, Chat>,
    tasks: HashMap<String, UploadTask>,
    temporal: HashMap<String, (StoredFile, Option<StoredFile>)>,
    files: HashMap<String, (StoredFile, Option<StoredFile>)>,
    next: u64,
}

fn field<'a>(p: &'a Value, name: &str) -> Result<&'a str, u32> {
    p.get(name).and_then(Value::as_str).ok_or(399)
}

impl World {
    /// A world with no users.
    pub fn new(config: WorldConfig) -> World {
        World {
            config,
            users: HashMap::new(),
            chats: HashMap::new(),
            tasks: HashMap::new(),
            temporal: HashMap::new(),
            files: HashMap::new(),
            next: 0,
        }
    }

    fn id(&mut self, prefix: &str) -> String {
        self.next += 1;
        format!("{prefix}{:032x}", self.next)
    }

    /// Adds a user; returns its id.
    pub fn add_user(&mut self, login: &str, display_name: &str) -> String {
        let id = format!("{login}@{}", self.config.server_name);
        self.users.insert(id.clone(), display_name.to_owned());
        id
    }

    /// Runs one client method as `actor`.
    pub fn handle(
        &mut self,
        actor: &str,
        method: &str,
        payload: Option<&RawValue>,
        out: &mut Vec<Outbound>,
    ) -> Result<Value, u32> {
        let p: Value = match payload {
            Some(raw) => serde_json::from_str(raw.get()).map_err(|_| 399u32)?,
            None => json!({}),
        };
        match method {
            "createP2PChat" => {
                let other = field(&p, "userId")?.to_owned();
                if !self.users.contains_key(&other) {
                    return Err(399);
                }
                let id = self.id("p2p");
                self.chats.insert(
                    id.clone(),
                    Chat {
                        members: vec![actor.to_owned(), other],
                        next_box: 0,
                    },
                );
                Ok(json!({ "chatId": id }))
            }
            "createGroupChat" => {
                field(&p, "title")?;
                let id = self.id("group");
                self.chats.insert(
                    id.clone(),
                    Chat {
                        members: vec![actor.to_owned()],
                        next_box: 0,
                    },
                );
                Ok(json!({ "chatId": id }))
            }
            "sendMessage" => {
                let chat_id = field(&p, "chatId")?.to_owned();
                let content = p.get("content").cloned().ok_or(399u32)?;
                let message_id = self.id("msg");
                let chat = self.chats.get_mut(&chat_id).ok_or(304u32)?;
                if !chat.members.iter().any(|m| m == actor) {
                    return Err(305);
                }
                let box_id = chat.next_box;
                chat.next_box += 1;
                let ts = 1_700_000_000_000u64 + box_id;
                for m in chat.members.iter().filter(|m| *m != actor) {
                    out.push(Outbound {
                        user_id: m.clone(),
                        method: "sendMessage".into(),
                        payload: json!({
                            "chatId": chat_id, "messageId": message_id, "timestamp": ts,
                            "author": {"id": actor, "type": 1}, "isEdited": false,
                            "box": {"id": box_id, "position": ""}, "type": 200,
                            "content": content,
                        }),
                    });
                }
                Ok(json!({ "chatId": chat_id, "messageId": message_id, "timestamp": ts }))
            }
            "uploadFile" => {
                let size = p.get("fileSize").and_then(Value::as_u64).ok_or(399u32)?;
                let name = p
                    .get("fileName")
                    .and_then(Value::as_str)
                    .unwrap_or("file")
                    .to_owned();
                let id = self.id("task");
                self.tasks.insert(
                    id.clone(),
                    UploadTask {
                        owner: actor.to_owned(),
                        file_size: size,
                        file_name: name,
                    },
                );
                Ok(json!({ "uploadTaskId": id }))
            }
            "sendFile" => {
                let chat_id = field(&p, "chatId")?.to_owned();
                let tid = p
                    .pointer("/content/temporalFileId")
                    .and_then(Value::as_str)
                    .ok_or(399u32)?;
                let stored = self.temporal.remove(tid).ok_or(308u32)?;
                let file_id = self.id("file");
                self.files.insert(file_id.clone(), stored);
                let message_id = self.id("msg");
                Ok(json!({"chatId": chat_id, "messageId": message_id,
                          "timestamp": 1_700_000_000_000u64, "fileId": file_id}))
            }
            "getFileInfo" => {
                let file_id = field(&p, "fileId")?;
                let (f, preview) = self.files.get(file_id).ok_or(308u32)?;
                let url = &self.config.server_url;
                let previews: Vec<Value> = preview
                    .iter()
                    .map(|pv| {
                        json!({"name": pv.name, "size": pv.size, "mimeType": pv.mime_type,
                           "downloadUrl": format!("{url}/bridge/api/client/v1/files/preview?file_id={file_id}")})
                    })
                    .collect();
                Ok(
                    json!({"name": f.name, "size": f.size, "mimeType": f.mime_type,
                          "downloadUrl": format!("{url}/bridge/api/client/v1/files?file_id={file_id}"),
                          "readyState": 2, "previews": previews, "infoHash": file_id}),
                )
            }
            "getUserDisplayName" => {
                let user = field(&p, "userId")?;
                let name = self.users.get(user).ok_or(399u32)?;
                Ok(json!({ "displayName": name }))
            }
            _ => Err(399),
        }
    }

    /// The upload task with this id.
    pub fn upload_task(&self, task_id: &str) -> Option<UploadTask> {
        self.tasks.get(task_id).cloned()
    }

    /// Finishes an upload task with the received file.
    pub fn complete_upload(
        &mut self,
        task_id: &str,
        file: StoredFile,
        preview: Option<StoredFile>,
    ) -> Result<String, UploadRejection> {
        let Some(task) = self.tasks.remove(task_id) else {
            return Err(UploadRejection {
                status: 400,
                error: 407,
                description: "Upload task not found".into(),
            });
        };
        if task.file_size != file.size {
            return Err(UploadRejection {
                status: 400,
                error: 408,
                description: "File size differs from the upload task".into(),
            });
        }
        let id = self.id("tmp");
        self.temporal.insert(id.clone(), (file, preview));
        Ok(id)
    }

    /// A stored file (or its preview) by file id.
    pub fn download(&self, file_id: &str, preview: bool) -> Option<StoredFile> {
        let (f, p) = self.files.get(file_id)?;
        if preview {
            p.clone()
        } else {
            Some(f.clone())
        }
    }

    /// STUB: no upload progress.
    pub fn advance_upload(&mut self, _file_id: &str, _progress: u64, _out: &mut Vec<Outbound>) {}
}
