//! Surveys (polls): sendSurvey and editSurvey.

use super::args::Args;
use super::messages::NewMessage;
use super::model::kind;
use super::roles::Action;
use super::{Outbound, World};
use serde_json::{json, Map, Value};

/// The string fields of a survey's content, all required by sendSurvey.
const SEND_FIELDS: [&str; 7] = [
    "url",
    "path",
    "title",
    "description",
    "buttonText",
    "secret",
    "alt",
];
/// The fields editSurvey replaces, all required.
const EDIT_FIELDS: [&str; 5] = ["path", "title", "description", "buttonText", "alt"];

impl World {
    /// `sendSurvey {chatId, replyMessageId?, content: {url, appVersion, path,
    /// title, description, buttonText, secret, alt}}` -> `{chatId,
    /// messageId, timestamp}`: a type 204 message. Every content field is
    /// required (399). 304, 305, 303 (sending polls), 306.
    pub(super) fn send_survey(
        &mut self,
        actor: &str,
        args: &Args,
        out: &mut Vec<Outbound>,
    ) -> Result<Value, u32> {
        let chat_id = args.str("chatId")?;
        let reply = args.opt_str("replyMessageId")?;
        let given = args.object("content")?;
        let mut content = Map::new();
        content.insert("url".into(), json!(given.str("url")?));
        content.insert("appVersion".into(), json!(given.u64("appVersion")?));
        for field in SEND_FIELDS.iter().skip(1) {
            content.insert((*field).into(), json!(given.str(field)?));
        }
        self.post_user_message(
            actor,
            NewMessage {
                chat_id: &chat_id,
                action: Action::SendPolls,
                kind: kind::SURVEY,
                content: Value::Object(content),
                reply: reply.as_deref(),
            },
            out,
        )
    }

    /// `editSurvey {messageId, content: {path, title, description,
    /// buttonText, alt}}` -> `{messageId, timestamp}`: replaces those fields
    /// of the actor's own survey (303 for someone else's, 307 for a message
    /// that is not a survey, 306). The others get an `editMessage` event
    /// with the whole new content.
    pub(super) fn edit_survey(
        &mut self,
        actor: &str,
        args: &Args,
        out: &mut Vec<Outbound>,
    ) -> Result<Value, u32> {
        let message_id = args.str("messageId")?;
        let given = args.object("content")?;
        let mut changes = Vec::with_capacity(EDIT_FIELDS.len());
        for field in EDIT_FIELDS {
            changes.push((field, given.str(field)?));
        }
        let merge = move |old: &Value| {
            let mut content = old.as_object().cloned().unwrap_or_default();
            for (field, value) in changes {
                content.insert(field.into(), json!(value));
            }
            Value::Object(content)
        };
        self.edit_own(actor, &message_id, kind::SURVEY, merge, out)
    }
}
