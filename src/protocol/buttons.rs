//! Inline buttons under a message (`content.buttons` of `sendMessage` and
//! `editMessage`): rows of buttons, each of one type with its own field.
//!
//! Wire shape, as the official SDK sends it:
//! `{"type":"command","label":"Yes","command":"/yes","customData":"..."}`,
//! `{"type":"url","label":"Site","url":"https://..."}`,
//! `{"type":"message","label":"Hi","message":"Hello"}`,
//! `{"type":"copy","label":"Copy","data":"text"}`.

use super::InvalidInput;
use serde::{Deserialize, Serialize};

/// At most this many rows of buttons under one message.
pub const MAX_BUTTON_ROWS: usize = 8;
/// At most this many buttons in one row.
pub const MAX_BUTTONS_PER_ROW: usize = 8;
/// At most this many buttons under one message.
pub const MAX_BUTTONS: usize = 64;

string_enum! {
    /// What pressing a button does.
    ButtonType {
        /// `command`: sends a `command` event to the bot.
        Command = "command",
        /// `url`: opens a link.
        Url = "url",
        /// `message`: sends a message on the user's behalf.
        Message = "message",
        /// `copy`: copies text to the clipboard.
        Copy = "copy",
        /// `share`: shares content (seen in the SDK's enum, not sent by it).
        Share = "share",
    }
}

string_enum! {
    /// A button's look.
    ButtonStyle {
        /// `default`.
        Default = "default",
        /// `primary`.
        Primary = "primary",
        /// `danger`.
        Danger = "danger",
        /// `success`.
        Success = "success",
    }
}

/// One inline button. Build it with [`Button::command`], [`Button::url`],
/// [`Button::message`] or [`Button::copy`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Button {
    /// The button's type, which names the field holding its action.
    #[serde(rename = "type")]
    pub button_type: ButtonType,
    /// The text on the button.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// For `command`: the command sent to the bot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    /// For `url`: the link opened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// For `message`: the text sent on the user's behalf.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// For `copy`: the text copied (`data` on the wire).
    #[serde(rename = "data", default, skip_serializing_if = "Option::is_none")]
    pub copy_data: Option<String>,
    /// For `command`: extra data echoed back in the `command` event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_data: Option<String>,
    /// For `command`: whether the client waits for the bot's answer.
    #[serde(
        default,
        skip_serializing_if = "is_false",
        deserialize_with = "super::lenient::bool_any"
    )]
    pub wait_reply: bool,
    /// For `command`: the user the command is addressed to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// For `message`: put the text in the input box instead of sending it.
    #[serde(
        default,
        skip_serializing_if = "is_false",
        deserialize_with = "super::lenient::bool_any"
    )]
    pub draft: bool,
    /// The button's id, reported back in `commandSource.buttonId`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The button's look.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub style: Option<ButtonStyle>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl Button {
    fn new(button_type: ButtonType, label: impl Into<String>) -> Button {
        Button {
            button_type,
            label: Some(label.into()),
            command: None,
            url: None,
            message: None,
            copy_data: None,
            custom_data: None,
            wait_reply: false,
            to: None,
            draft: false,
            id: None,
            style: None,
        }
    }

    /// A button that sends `command` to the bot as a `command` event.
    pub fn command(label: impl Into<String>, command: impl Into<String>) -> Button {
        Button {
            command: Some(command.into()),
            ..Button::new(ButtonType::Command, label)
        }
    }

    /// A button that opens `url`.
    pub fn url(label: impl Into<String>, url: impl Into<String>) -> Button {
        Button {
            url: Some(url.into()),
            ..Button::new(ButtonType::Url, label)
        }
    }

    /// A button that sends `message` to the chat on the user's behalf.
    pub fn message(label: impl Into<String>, message: impl Into<String>) -> Button {
        Button {
            message: Some(message.into()),
            ..Button::new(ButtonType::Message, label)
        }
    }

    /// A button that copies `data` to the user's clipboard.
    pub fn copy(label: impl Into<String>, data: impl Into<String>) -> Button {
        Button {
            copy_data: Some(data.into()),
            ..Button::new(ButtonType::Copy, label)
        }
    }

    /// Sets the data echoed back in the `command` event (command buttons).
    pub fn custom_data(mut self, data: impl Into<String>) -> Button {
        self.custom_data = Some(data.into());
        self
    }

    /// Sets the button's id, reported back when it is pressed.
    pub fn id(mut self, id: impl Into<String>) -> Button {
        self.id = Some(id.into());
        self
    }

    /// Sets the button's look.
    pub fn style(mut self, style: ButtonStyle) -> Button {
        self.style = Some(style);
        self
    }

    /// Rejects an empty label (only a `url` button may omit its label, as
    /// the SDK allows) and a missing or empty action value.
    pub fn validate(&self) -> Result<(), InvalidInput> {
        let label_ok = match self.label.as_deref() {
            Some(label) => !label.trim().is_empty(),
            None => self.button_type == ButtonType::Url,
        };
        if !label_ok {
            return Err(InvalidInput::new(
                "content.buttons.label",
                "must not be empty",
            ));
        }
        let action = match self.button_type {
            ButtonType::Command => Some(("content.buttons.command", &self.command)),
            ButtonType::Url => Some(("content.buttons.url", &self.url)),
            ButtonType::Message => Some(("content.buttons.message", &self.message)),
            ButtonType::Copy => Some(("content.buttons.data", &self.copy_data)),
            ButtonType::Share | ButtonType::Unknown(_) => None,
        };
        if let Some((field, value)) = action {
            if value.as_deref().is_none_or(str::is_empty) {
                return Err(InvalidInput::new(
                    field,
                    format!("a {} button needs it", self.button_type),
                ));
            }
        }
        Ok(())
    }
}

/// The rows of buttons under a message (`content.buttons`: an array of rows,
/// each an array of buttons).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct InlineKeyboard {
    /// The rows, top to bottom.
    pub rows: Vec<Vec<Button>>,
}

impl InlineKeyboard {
    /// An empty keyboard.
    pub fn new() -> InlineKeyboard {
        InlineKeyboard::default()
    }

    /// Appends a row of buttons.
    pub fn row(mut self, buttons: impl IntoIterator<Item = Button>) -> InlineKeyboard {
        self.rows.push(buttons.into_iter().collect());
        self
    }

    /// All buttons, row by row.
    pub fn buttons(&self) -> impl Iterator<Item = &Button> {
        self.rows.iter().flatten()
    }

    /// Rejects more than 8 rows, 8 buttons in a row or 64 buttons in all, and
    /// any invalid button.
    pub fn validate(&self) -> Result<(), InvalidInput> {
        const FIELD: &str = "content.buttons";
        if self.rows.len() > MAX_BUTTON_ROWS {
            return Err(InvalidInput::new(
                FIELD,
                format!("{} rows, at most {MAX_BUTTON_ROWS}", self.rows.len()),
            ));
        }
        let total = self.buttons().count();
        if total > MAX_BUTTONS {
            return Err(InvalidInput::new(
                FIELD,
                format!("{total} buttons, at most {MAX_BUTTONS}"),
            ));
        }
        if let Some((i, row)) = self
            .rows
            .iter()
            .enumerate()
            .find(|(_, row)| row.len() > MAX_BUTTONS_PER_ROW)
        {
            return Err(InvalidInput::new(
                FIELD,
                format!(
                    "row {i} has {} buttons, at most {MAX_BUTTONS_PER_ROW}",
                    row.len()
                ),
            ));
        }
        self.buttons().try_for_each(Button::validate)
    }
}

impl From<Vec<Vec<Button>>> for InlineKeyboard {
    fn from(rows: Vec<Vec<Button>>) -> Self {
        InlineKeyboard { rows }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rows(rows: usize, per_row: usize) -> InlineKeyboard {
        (0..rows).fold(InlineKeyboard::new(), |kb, r| {
            kb.row((0..per_row).map(|b| Button::command(format!("b{r}.{b}"), "/x")))
        })
    }

    #[test]
    fn buttons_serialise_as_the_sdk_does() {
        let kb = InlineKeyboard::new()
            .row([
                Button::command("Yes", "/yes").custom_data("42"),
                Button::url("Site", "https://example.com"),
            ])
            .row([
                Button::message("Hi", "Hello").style(ButtonStyle::Primary),
                Button::copy("Copy", "secret").id("b4"),
            ]);
        let wire = json!([
            [
                {"type": "command", "label": "Yes", "command": "/yes", "customData": "42"},
                {"type": "url", "label": "Site", "url": "https://example.com"}
            ],
            [
                {"type": "message", "label": "Hi", "message": "Hello", "style": "primary"},
                {"type": "copy", "label": "Copy", "data": "secret", "id": "b4"}
            ]
        ]);
        assert_eq!(serde_json::to_value(&kb).unwrap(), wire);
        let back: InlineKeyboard = serde_json::from_value(wire).unwrap();
        assert_eq!(back, kb);
        assert!(kb.validate().is_ok());
    }

    #[test]
    fn unknown_button_types_round_trip() {
        let wire = json!({"type": "game", "label": "Play", "waitReply": true});
        let b: Button = serde_json::from_value(wire.clone()).unwrap();
        assert_eq!(b.button_type, ButtonType::Unknown("game".into()));
        assert_eq!(serde_json::to_value(&b).unwrap(), wire);
    }

    #[test]
    fn eight_rows_of_eight_are_the_limit() {
        assert!(rows(8, 8).validate().is_ok());
        let err = rows(9, 1).validate().unwrap_err();
        assert!(err.reason.contains("9 rows"), "{err}");
        let err = rows(1, 9).validate().unwrap_err();
        assert!(err.reason.contains("9 buttons"), "{err}");
        let mut kb = rows(8, 8);
        kb.rows[7].push(Button::copy("x", "y"));
        assert!(kb.validate().is_err());
    }

    #[test]
    fn sixty_five_buttons_are_rejected() {
        // 65 buttons cannot fit 8 rows of 8, so the total is checked before
        // the row width and named in the error.
        let kb = InlineKeyboard::from(vec![vec![Button::command("a", "/a"); 65]]);
        let err = kb.validate().unwrap_err();
        assert_eq!(err.field, "content.buttons");
        assert!(err.reason.contains("65 buttons"), "{err}");
    }

    #[test]
    fn labels_and_actions_are_required() {
        let kb = InlineKeyboard::new().row([Button::command("", "/x")]);
        assert_eq!(kb.validate().unwrap_err().field, "content.buttons.label");
        let kb = InlineKeyboard::new().row([Button::url("Site", "")]);
        assert_eq!(kb.validate().unwrap_err().field, "content.buttons.url");
        let mut b = Button::message("Hi", "x");
        b.label = None;
        assert!(b.validate().is_err());
        let mut b = Button::url("Site", "https://example.com");
        b.label = None;
        assert!(b.validate().is_ok(), "url buttons may omit the label");
    }
}
