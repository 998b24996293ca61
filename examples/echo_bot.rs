//! The quick start: a bot that echoes every text message back.
//!
//! Without `TRUECONF_SERVER` it starts the embedded emulator and plays the
//! human side itself, so the output shows a real conversation.

use std::time::Duration;
use trueconf_bot::emulator::Emulator;
use trueconf_bot::protocol::Content;
use trueconf_bot::{Client, Event};

fn main() -> trueconf_bot::Result<()> {
    let emulator = Emulator::builder()
        .user("echo-bot", "bot-password", "Echo Bot")
        .user("alice", "alice-password", "Alice")
        .start()?;
    let bot = Client::builder(emulator.url())
        .credentials("echo-bot", "bot-password")
        .connect()?;
    println!("bot connected as {}", bot.user_id());

    let alice = emulator.user("alice");
    let chat = alice
        .create_p2p_chat("echo-bot")
        .expect("alice opens a chat");
    for text in ["hello", "how are you?", "bye"] {
        alice.send_message(&chat, text).expect("alice writes");
    }

    let events = bot.events();
    let mut echoed = 0;
    while let Some(event) = events.recv_timeout(Duration::from_secs(5))? {
        if let Event::NewMessage(message) = event {
            if let Content::Text(text) = &message.content {
                println!("alice: {}", text.text);
                bot.send_message(&message.chat_id, format!("echo: {}", text.text))?;
                println!("bot:   echo: {}", text.text);
                echoed += 1;
                if echoed == 3 {
                    break;
                }
            }
        }
    }
    bot.close();
    Ok(())
}
