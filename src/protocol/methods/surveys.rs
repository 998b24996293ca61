//! Survey methods: post and edit a survey message. Build the content with
//! [`SurveyContent::build`] and [`EditSurveyContent::build`].

use super::checks;
use super::messages::{EditMessageResponse, SentMessage};
use crate::protocol::{EditSurveyContent, InvalidInput, Method, SurveyContent};
use serde::{Deserialize, Serialize};

/// `sendSurvey`: posts a survey message. `replyMessageId` is always written
/// (`null` when not a reply), as the SDK does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SendSurvey {
    /// The chat.
    pub chat_id: String,
    /// The message replied to.
    #[serde(default)]
    pub reply_message_id: Option<String>,
    /// The survey.
    pub content: SurveyContent,
}

impl SendSurvey {
    /// Posts `content` to chat `chat_id`.
    pub fn new(chat_id: impl Into<String>, content: SurveyContent) -> SendSurvey {
        SendSurvey {
            chat_id: chat_id.into(),
            reply_message_id: None,
            content,
        }
    }

    /// Makes the message a reply to `message_id`.
    pub fn reply_to(mut self, message_id: impl Into<String>) -> SendSurvey {
        self.reply_message_id = Some(message_id.into());
        self
    }
}

impl Method for SendSurvey {
    const NAME: &'static str = "sendSurvey";
    type Response = SentMessage;
    fn validate(&self) -> Result<(), InvalidInput> {
        checks::id("chatId", &self.chat_id)?;
        if let Some(reply) = &self.reply_message_id {
            checks::id("replyMessageId", reply)?;
        }
        checks::id("content.url", &self.content.url)?;
        checks::id("content.path", &self.content.path)?;
        checks::id("content.title", &self.content.title)?;
        checks::id("content.secret", &self.content.secret)
    }
}

/// `editSurvey`: changes a survey message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EditSurvey {
    /// The survey message.
    pub message_id: String,
    /// The new survey fields.
    pub content: EditSurveyContent,
}

impl EditSurvey {
    /// Replaces survey message `message_id` with `content`.
    pub fn new(message_id: impl Into<String>, content: EditSurveyContent) -> EditSurvey {
        EditSurvey {
            message_id: message_id.into(),
            content,
        }
    }
}

impl Method for EditSurvey {
    const NAME: &'static str = "editSurvey";
    type Response = EditMessageResponse;
    fn validate(&self) -> Result<(), InvalidInput> {
        checks::id("messageId", &self.message_id)?;
        checks::id("content.path", &self.content.path)?;
        checks::id("content.title", &self.content.title)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::methods::testing::{assert_request, response};
    use serde_json::json;

    const ALT: &str = "📊 <a href='https://server.url/webtools/survey?id=employee_testing&error=autologin_not_supported'>Employee survey</a>";

    #[test]
    fn spec_9_1_send_survey() {
        let content = SurveyContent {
            secret: "25690753a489f037af09b5cbce417b41374807fe".into(),
            ..SurveyContent::build("server.url", "employee_testing", "Employee survey", false)
        };
        let request = SendSurvey::new("5abba630dd1089090ba41c69c7aa34e4ba277a43", content)
            .reply_to("267d61f2-2ba1-4e88-83ab-bb84415f31b6");
        assert_request(
            &request,
            json!({
                "chatId": "5abba630dd1089090ba41c69c7aa34e4ba277a43",
                "replyMessageId": "267d61f2-2ba1-4e88-83ab-bb84415f31b6",
                "content": {
                    "url": "https://server.url/webtools/survey",
                    "appVersion": 1,
                    "path": "employee_testing",
                    "title": "Employee survey",
                    "description": "{{Survey}}",
                    "buttonText": "{{Go to survey}}",
                    "secret": "25690753a489f037af09b5cbce417b41374807fe",
                    "alt": ALT
                }
            }),
        );
        let r = response::<SendSurvey>(json!({
            "timestamp": 1750168761373u64,
            "messageId": "f8865b5c-877c-4a55-b175-a667ebf5f007",
            "chatId": "5abba630dd1089090ba41c69c7aa34e4ba277a43"
        }));
        assert_eq!(r.message_id, "f8865b5c-877c-4a55-b175-a667ebf5f007");
        let no_reply = SendSurvey::new("c", SurveyContent::build("s", "p", "t", true));
        assert_eq!(
            serde_json::to_value(&no_reply).unwrap()["replyMessageId"],
            json!(null)
        );
    }

    #[test]
    fn spec_9_2_edit_survey() {
        // The spec's example alt holds a literal `<title>` placeholder and an
        // old path; the alt here is built from the new path and title.
        let content = EditSurveyContent::build(
            "server.url",
            "employee_testing_marketing",
            "Employee survey of the Marketing department",
            false,
        );
        assert_request(
            &EditSurvey::new("f8865b5c-877c-4a55-b175-a667ebf5f007", content),
            json!({
                "messageId": "f8865b5c-877c-4a55-b175-a667ebf5f007",
                "content": {
                    "path": "employee_testing_marketing",
                    "title": "Employee survey of the Marketing department",
                    "description": "{{Survey}}",
                    "buttonText": "{{Go to survey}}",
                    "alt": "📊 <a href='https://server.url/webtools/survey?id=employee_testing_marketing&error=autologin_not_supported'>Employee survey of the Marketing department</a>"
                }
            }),
        );
        let r = response::<EditSurvey>(json!({
            "messageId": "f8865b5c-877c-4a55-b175-a667ebf5f007",
            "timestamp": 1735314170572u64
        }));
        assert_eq!(r.timestamp, 1735314170572);
    }

    #[test]
    fn empty_fields_are_rejected() {
        let content = SurveyContent::build("s", "", "t", false);
        assert_eq!(
            SendSurvey::new("c", content).validate().unwrap_err().field,
            "content.path"
        );
        let content = EditSurveyContent::build("s", "p", "t", false);
        assert!(EditSurvey::new("", content).validate().is_err());
    }
}
