//! The connection drops between an event and its acknowledgement.
//!
//! What the server does (and the emulator with it): a message event whose
//! ack never arrived stays unread; on the next `auth` with `receiveUnread`
//! it is sent again, otherwise it is left for `getChatHistory`. The client
//! acknowledges an event only after queueing it, so the application sees it
//! once per delivery: once before the drop, once more after `Reconnected`.
//! Nothing is lost; a bot must tolerate a repeated message id across a
//! reconnect.
#![cfg(feature = "emulator")]

mod support;

use std::time::Duration;
use support::rel::*;
use trueconf_bot::emulator::Emulator;
use trueconf_bot::{Client, Event, Events, ReconnectPolicy};

fn message_text(event: &Event) -> Option<&str> {
    match event {
        Event::NewMessage(m) => m.text(),
        _ => None,
    }
}

/// Connects the bot, opens a chat with alice, then has alice send `text`
/// while the emulator reads nothing: the event goes out, the app gets it,
/// the ack stays unread. Returns the chat id.
fn deliver_without_ack(emu: &Emulator, bot: &Client, events: &Events, text: &str) -> String {
    let chat = emu.user("alice").create_p2p_chat("bot").unwrap();
    expect_event(events, "ChatCreated", WAIT, |e| {
        matches!(e, Event::ChatCreated(_))
    });
    emu.faults().stall(true);
    emu.user("alice").send_message(&chat, text).unwrap();
    expect_event(events, "the first delivery", WAIT, |e| {
        message_text(e) == Some(text)
    });
    let out = events_out(emu, "sendMessage");
    assert_eq!(out.len(), 1);
    assert!(!out[0].2, "the emulator must not have read the ack yet");
    let _ = bot;
    chat
}

fn connect(emu: &Emulator, receive_unread: bool) -> Client {
    bot_builder(emu)
        .receive_unread(receive_unread)
        // Long enough for the emulator to retire the dropped session first.
        .reconnect(ReconnectPolicy::backoff(
            Duration::from_millis(150),
            Duration::from_millis(300),
        ))
        .connect()
        .unwrap()
}

#[test]
fn an_unacknowledged_event_is_delivered_again_after_reconnecting() {
    let emu = emulator();
    let bot = connect(&emu, true);
    let events = bot.events();
    deliver_without_ack(&emu, &bot, &events, "between event and ack");

    emu.faults().drop_connections();
    emu.faults().stall(false);
    expect_disconnected(&events);
    let before = expect_reconnected(&events);
    assert!(
        before.iter().all(|e| message_text(e).is_none()),
        "the redelivery must follow Reconnected: {before:?}"
    );
    expect_event(&events, "the redelivery", WAIT, |e| {
        message_text(e) == Some("between event and ack")
    });

    // Two deliveries on two connections; the second one acknowledged. The
    // ack goes out after the event is queued, so it may still be on its way.
    wait_until("the redelivery's ack", WAIT, || {
        events_out(&emu, "sendMessage").get(1).is_some_and(|o| o.2)
    });
    let out = events_out(&emu, "sendMessage");
    assert_eq!(out.len(), 2, "{out:?}");
    assert_ne!(out[0].0, out[1].0);
    assert_eq!((out[0].2, out[1].2), (false, true));
    assert_eq!(out[0].1["payload"], out[1].1["payload"]);
    // Exactly once per delivery: nothing more arrives.
    assert!(matches!(
        events.recv_timeout(Duration::from_millis(200)),
        Ok(None)
    ));
    bot.close();
}

#[test]
fn without_receive_unread_the_event_waits_in_the_history() {
    let emu = emulator();
    let bot = connect(&emu, false);
    let events = bot.events();
    let chat = deliver_without_ack(&emu, &bot, &events, "catch up with me");

    emu.faults().drop_connections();
    emu.faults().stall(false);
    expect_disconnected(&events);
    expect_reconnected(&events);
    let history = bot.get_chat_history(&chat, 5).unwrap();
    assert!(history
        .messages
        .iter()
        .any(|m| m.text() == Some("catch up with me")));
    assert_eq!(events_out(&emu, "sendMessage").len(), 1);
    bot.close();
}

#[test]
fn a_client_that_keeps_no_events_acknowledges_and_drops_them() {
    let emu = emulator();
    let bot = bot_builder(&emu).keep_events(false).connect().unwrap();
    // The queue is closed from the start: a reader sees its end at once.
    assert!(bot.events().recv().is_err());
    assert_eq!(bot.events().iter().count(), 0);
    let chat = emu.user("alice").create_p2p_chat("bot").unwrap();
    emu.user("alice").send_message(&chat, "anyone?").unwrap();
    wait_until("the message event acknowledged", WAIT, || {
        events_out(&emu, "sendMessage")
            .iter()
            .any(|(_, v, acked)| *acked && v["payload"]["content"]["text"] == "anyone?")
    });
    assert_eq!(bot.health().queued_events, 0);
    // Calls work as ever.
    bot.send_message(&chat, "only sending").unwrap();
}
