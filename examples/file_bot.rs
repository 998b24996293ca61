//! A bot that receives a file and sends one back: a short report on each
//! text file it gets.
//!
//! ```sh
//! cargo run --example file_bot --features emulator
//! ```
//!
//! The file is downloaded into memory (`client.download` writes into any
//! `Write`), and the report is uploaded from memory (`file_upload(..).reader`
//! takes any `Read`), as a reply with a caption. Offline, alice sends a file.

mod common;

use common::{bot_says, Bot};
use trueconf_bot::protocol::{Content, ParseMode};
use trueconf_bot::Event;

/// Files larger than this get a polite refusal instead of a report.
const MAX_BYTES: u64 = 10 << 20;

fn main() -> common::Result {
    let bot = Bot::start("File Bot")?;
    bot.run(
        |people| {
            let alice = people.get("alice")?;
            let chat = alice.chat_with_bot()?;
            let notes = "Buy milk\nCall the plumber\nBook the flight to Kazan\n";
            alice.send_file(&chat, "notes.txt", notes.as_bytes())?;
            // What alice sees arrive: the file, and its caption as a
            // message of its own.
            for message in alice.recent_messages(&chat, 2)?.iter().rev() {
                match &message.content {
                    Content::Attachment(file) => {
                        println!("alice receives: [file {}, {} bytes]", file.name, file.size)
                    }
                    other => println!("alice receives: {}", other.text().unwrap_or("?")),
                }
            }
            Ok(())
        },
        |client, event| {
            let Event::NewMessage(message) = event else {
                return Ok(());
            };
            let Content::Attachment(file) = &message.content else {
                return Ok(());
            };
            if client.is_me(&message.author.id) {
                return Ok(());
            }
            if file.size > MAX_BYTES {
                client.send_message(&message.chat_id, "That file is too big for me.")?;
                return Ok(());
            }
            let mut bytes = Vec::new();
            client.download(&file.file_id, &mut bytes)?;
            let text = String::from_utf8_lossy(&bytes);
            let report = format!(
                "{}: {} bytes, {} lines, {} words\n",
                file.name,
                bytes.len(),
                text.lines().count(),
                text.split_whitespace().count()
            );
            let stem = file
                .name
                .rsplit_once('.')
                .map_or(file.name.as_str(), |(s, _)| s);
            let name = format!("{stem}-report.txt");
            client
                .file_upload(&message.chat_id)
                .reader(report.as_bytes(), report.len() as u64, name.as_str())
                .caption("Here is your report", ParseMode::Text)
                .reply_to(&message.message_id)
                .send()?;
            bot_says(format_args!("[file {name}] {}", report.trim_end()));
            Ok(())
        },
    )
}
