//! Surveys (polls).

use super::api;
use crate::protocol::methods::*;
use crate::protocol::{EditSurveyContent, SurveyContent};

api! {
    /// Sends a survey; build its content with [`SurveyContent::build`].
    send_survey / send_survey_pending (chat_id: impl Into<String>, content: SurveyContent)
        -> SendSurvey => SentMessage = SendSurvey::new(chat_id, content);
    /// Edits a survey message; build its content with
    /// [`EditSurveyContent::build`].
    edit_survey / edit_survey_pending (message_id: impl Into<String>, content: EditSurveyContent)
        -> EditSurvey => EditMessageResponse = EditSurvey::new(message_id, content);
}
