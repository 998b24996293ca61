//! A chat's whole history as JSON lines, oldest first.
//!
//! ```sh
//! cargo run --example history_export --features emulator
//! # a real server: the chat is the argument
//! TRUECONF_SERVER=https://video.example.com TRUECONF_USER=bot TRUECONF_PASSWORD=... \
//!     cargo run --example history_export --features emulator -- CHAT_ID > chat.jsonl
//! ```
//!
//! `client.history` walks back from the newest message a page at a time;
//! the messages are then put in chat order by their box (`box.id`, then
//! `box.position`), which is the server's order even when clocks disagree.
//! Offline, alice and the bot talk first (stderr says how much), then the
//! export goes to stdout.

mod common;

use common::Bot;
use trueconf_bot::protocol::sort_envelopes;

fn main() -> common::Result {
    let bot = Bot::start("Archivist")?;
    let client = &bot.client;
    let chat = match (std::env::args().nth(1), bot.person("alice")) {
        (Some(chat), _) => chat,
        (None, Some(alice)) => {
            // A short conversation to export.
            let fail = |code| format!("the demo failed with error {code}");
            let chat = alice.create_p2p_chat("bot").map_err(fail)?;
            let hello = alice
                .send_message(&chat, "Hi! Can you keep a record of this?")
                .map_err(fail)?;
            let request = trueconf_bot::protocol::methods::SendMessage::new(
                &chat,
                "Sure, I keep everything.",
            )
            .reply_to(&hello);
            client.request(&request)?;
            let typo = alice
                .send_message(&chat, "Meeting at 10 on Tusday")
                .map_err(fail)?;
            alice
                .edit_message(&typo, "Meeting at 10 on Tuesday")
                .map_err(fail)?;
            client.send_message(&chat, "Noted: meeting at 10 on Tuesday.")?;
            eprintln!("(alice and the bot exchanged 4 messages; exporting)");
            chat
        }
        (None, None) => return Err("give the chat id to export as the argument".into()),
    };

    // Pages of 2 to show the paging; use 50-100 on a real server.
    let mut messages = client.history(&chat, 2).collect::<Result<Vec<_>, _>>()?;
    sort_envelopes(&mut messages);
    for message in &messages {
        println!("{}", serde_json::to_string(message)?);
    }
    eprintln!("{} messages", messages.len());
    Ok(())
}
