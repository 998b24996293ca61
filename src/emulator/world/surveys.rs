//! Surveys (polls): sendSurvey and editSurvey.

use super::args::Args;
use super::messages::NewMessage;
use super::render::answer;
use super::roles::Action;
use super::{Outbound, World};
use crate::protocol::methods::{EditSurvey, SendSurvey};
use crate::protocol::{Content, SurveyContent};
use serde_json::Value;

/// The content fields sendSurvey requires (the guide marks all of them
/// required; the shared type defaults some, a server does not).
const SEND_FIELDS: [&str; 8] = [
    "/content/url",
    "/content/appVersion",
    "/content/path",
    "/content/title",
    "/content/description",
    "/content/buttonText",
    "/content/secret",
    "/content/alt",
];
/// The content fields editSurvey requires.
const EDIT_FIELDS: [&str; 5] = [
    "/content/path",
    "/content/title",
    "/content/description",
    "/content/buttonText",
    "/content/alt",
];

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
        args.require(&SEND_FIELDS)?;
        let req: SendSurvey = args.decode()?;
        let new = NewMessage {
            chat_id: &req.chat_id,
            action: Action::SendPolls,
            content: Content::Survey(req.content.clone()),
            reply: req.reply_message_id.as_deref(),
        };
        answer(self.post_user_message(actor, new, out)?)
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
        args.require(&EDIT_FIELDS)?;
        let req: EditSurvey = args.decode()?;
        let edit = req.content;
        let merge = move |old: &Content| match old {
            Content::Survey(s) => Content::Survey(SurveyContent {
                path: edit.path,
                title: edit.title,
                description: edit.description,
                button_text: edit.button_text,
                alt: edit.alt,
                ..s.clone()
            }),
            other => other.clone(),
        };
        self.edit_own(actor, &req.message_id, 204, merge, out)
    }
}
