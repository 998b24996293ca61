//! One message to many chats, pipelined: every request goes out before the
//! first answer is awaited, so N chats cost about one round trip, not N.
//!
//! ```sh
//! cargo run --example broadcast --features emulator
//! # a real server: the chats are the arguments
//! TRUECONF_SERVER=https://video.example.com TRUECONF_USER=bot TRUECONF_PASSWORD=... \
//!     cargo run --example broadcast --features emulator -- CHAT_ID CHAT_ID...
//! ```
//!
//! Offline, alice, bob and carol each open a chat with the bot, the bot
//! broadcasts to all its chats, and each of them reads what arrived.

mod common;

use common::{bot_says, Bot};
use std::time::Instant;

const TEXT: &str = "The office is closed on Friday. Have a nice weekend!";

fn main() -> common::Result {
    let bot = Bot::start("Announcements")?;
    let client = &bot.client;
    let mut chats: Vec<String> = std::env::args().skip(1).collect();
    let people = ["alice", "bob", "carol"];
    let mut their_chats = Vec::new();
    if bot.is_demo() {
        for login in people {
            let person = bot.person(login).ok_or("no such person")?;
            let chat = person
                .create_p2p_chat("bot")
                .map_err(|code| format!("createP2PChat failed with error {code}"))?;
            their_chats.push((person, chat));
        }
        // Every chat the bot is in, page by page.
        for chat in client.chats(50) {
            chats.push(chat?.chat_id);
        }
    }
    if chats.is_empty() {
        return Err("give the chat ids to broadcast to as arguments".into());
    }

    // Send everything first...
    let started = Instant::now();
    let pending = chats
        .iter()
        .map(|chat| client.send_message_pending(chat, TEXT))
        .collect::<Result<Vec<_>, _>>()?;
    // ...then collect the answers, each with its own outcome.
    let mut delivered = 0;
    for (chat, answer) in chats.iter().zip(pending) {
        match answer.wait() {
            Ok(sent) => {
                delivered += 1;
                eprintln!("{chat}: message {}", sent.message_id);
            }
            Err(e) => eprintln!("{chat}: {e}"),
        }
    }
    bot_says(format_args!(
        "{TEXT} (to {delivered} of {} chats in {:.1?})",
        chats.len(),
        started.elapsed()
    ));

    // What the people see.
    for (person, chat) in their_chats {
        let page = person
            .call(
                "getChatHistory",
                serde_json::json!({"chatId": chat, "count": 1}),
            )
            .map_err(|code| format!("getChatHistory failed with error {code}"))?;
        let text = page
            .pointer("/messages/0/content/text")
            .and_then(|t| t.as_str());
        println!(
            "{:>5} received: {}",
            person.login(),
            text.unwrap_or("(nothing)")
        );
    }
    Ok(())
}
