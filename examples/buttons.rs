//! A message with buttons, and the `command` event a press sends.
//!
//! ```sh
//! cargo run --example buttons --features emulator
//! ```
//!
//! Any text message gets a question with two buttons; a press is answered
//! and the question is edited to drop its buttons (an edit replaces the
//! whole content). Offline, alice asks and presses a button.

mod common;

use common::{bot_says, Bot};
use trueconf_bot::protocol::methods::{EditMessage, SendMessage};
use trueconf_bot::protocol::{Button, ButtonStyle, Content, InlineKeyboard};
use trueconf_bot::Event;

const QUESTION: &str = "Pizza or sushi?";

fn main() -> common::Result {
    let bot = Bot::start("Lunch Bot")?;
    bot.run(
        |people| {
            let alice = people.get("alice")?;
            let chat = alice.chat_with_bot()?;
            alice.say(&chat, "I'm hungry")?;
            // What alice sees: the bot's question and its buttons.
            let question = alice.last_message(&chat)?;
            if let Content::Text(text) = &question.content {
                let labels: Vec<&str> = text
                    .buttons
                    .iter()
                    .flat_map(|b| b.buttons())
                    .filter_map(|b| b.label.as_deref())
                    .collect();
                println!("alice sees: {} {labels:?}", text.text);
            }
            alice.press(&question.message_id, "pizza")?;
            Ok(())
        },
        |client, event| {
            match event {
                Event::NewMessage(message) if message.text().is_some() => {
                    if client.is_me(&message.author.id) {
                        return Ok(());
                    }
                    let buttons = InlineKeyboard::new().row([
                        Button::command("🍕 Pizza", "pizza").custom_data("large"),
                        Button::command("🍣 Sushi", "sushi").style(ButtonStyle::Primary),
                    ]);
                    client
                        .request(&SendMessage::new(&message.chat_id, QUESTION).buttons(buttons))?;
                    bot_says(format_args!("{QUESTION} [🍕 Pizza] [🍣 Sushi]"));
                }
                Event::Command(press) => {
                    let choice = &press.command_payload.command;
                    let data = press.command_payload.custom_data.as_deref().unwrap_or("-");
                    let Some(question) = &press.command_source.message else {
                        return Ok(());
                    };
                    // Replace the question, without buttons, and answer.
                    let asked = format!("{QUESTION} You chose {choice}.");
                    client.request(&EditMessage::new(&question.message_id, asked))?;
                    let answer = format!("One {choice} coming up (size: {data})!");
                    client.send_message(&question.chat_id, &answer)?;
                    bot_says(answer);
                }
                _ => {}
            }
            Ok(())
        },
    )
}
