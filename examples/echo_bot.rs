//! The quick start: a bot that answers every text message with the same
//! text.
//!
//! ```sh
//! cargo run --example echo_bot --features emulator
//! ```
//!
//! Without `TRUECONF_SERVER` it runs offline against the embedded emulator,
//! where alice says a few things and the bot echoes them. With
//! `TRUECONF_SERVER`, `TRUECONF_USER` and `TRUECONF_PASSWORD` (or
//! `TRUECONF_TOKEN`) it serves a real server until Ctrl-C.

mod common;

use common::{bot_says, Bot};
use trueconf_bot::protocol::methods::SendMessage;
use trueconf_bot::Event;

fn main() -> common::Result {
    let bot = Bot::start("Echo Bot")?;
    bot.run(
        // The offline demo's human side: alice opens a chat and talks.
        |people| {
            let alice = people.get("alice")?;
            let chat = alice.chat_with_bot()?;
            alice.say(&chat, "Hello, bot!")?;
            alice.say(&chat, "Can you hear me?")?;
            Ok(())
        },
        // The bot: echo every text message, as a reply to it.
        |client, event| {
            if let Event::NewMessage(message) = event {
                if let (Some(text), false) = (message.text(), client.is_me(&message.author.id)) {
                    let echo =
                        SendMessage::new(&message.chat_id, text).reply_to(&message.message_id);
                    client.request(&echo)?;
                    bot_says(text);
                }
            }
            Ok(())
        },
    )
}
