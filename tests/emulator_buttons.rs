//! The emulator's button presses, from Rust and over the control API: the
//! bot receives a `command` event carrying the pressed message.
#![cfg(feature = "emulator")]

use serde_json::{json, Value};
use std::time::Duration;
use trueconf_bot::emulator::Emulator;
use trueconf_bot::protocol::methods::SendMessage;
use trueconf_bot::protocol::{Button, InlineKeyboard};
use trueconf_bot::{Client, Event};

fn next_command(bot: &Client) -> trueconf_bot::protocol::events::ButtonCommand {
    let events = bot.events();
    loop {
        match events.recv_timeout(Duration::from_secs(5)) {
            Ok(Some(Event::Command(command))) => return command,
            Ok(Some(_)) => continue,
            other => panic!("no command event: {other:?}"),
        }
    }
}

#[test]
fn a_pressed_button_reaches_the_bot_from_rust_and_over_http() {
    let emu = Emulator::builder()
        .user("bot", "pw", "Bot")
        .user("alice", "pw", "Alice")
        .start()
        .expect("starts");
    let bot = Client::builder(emu.url())
        .credentials("bot", "pw")
        .connect()
        .expect("connects");
    let alice = emu.user("alice");
    let chat = alice.create_p2p_chat("bot").expect("chat");
    let keyboard = InlineKeyboard::new().row([
        Button::command("Yes", "yes")
            .custom_data("order-7")
            .id("b1"),
        Button::command("No", "no"),
    ]);
    let asked = bot
        .request(&SendMessage::new(&chat, "Confirm?").buttons(keyboard))
        .expect("sent");

    alice
        .press_button(&asked.message_id, "yes")
        .expect("pressed");
    let press = next_command(&bot);
    assert_eq!(press.command_payload.command, "yes");
    assert_eq!(
        press.command_payload.custom_data.as_deref(),
        Some("order-7")
    );
    assert_eq!(press.command_source.button_id.as_deref(), Some("b1"));
    let message = press.command_source.message.expect("the pressed message");
    assert_eq!(
        (message.message_id.as_str(), message.chat_id.as_str()),
        (asked.message_id.as_str(), chat.as_str())
    );
    assert!(press.command_id.is_some());

    // No such button, no such message: errors, and no event.
    assert_eq!(alice.press_button(&asked.message_id, "maybe"), Err(399));
    assert_eq!(alice.press_button("no-such-message", "yes"), Err(306));

    let url = format!("{}/emulator/v1/press_button", emu.url());
    let body = json!({"as": "alice", "messageId": asked.message_id, "command": "no"});
    let mut response = ureq::post(&url)
        .header("Content-Type", "application/json")
        .send(body.to_string())
        .expect("answered");
    let answer: Value =
        serde_json::from_str(&response.body_mut().read_to_string().expect("body")).expect("JSON");
    assert_eq!(answer, json!({}));
    assert_eq!(next_command(&bot).command_payload.command, "no");
}
