//! 10,000 events pushed while the handler makes a request for each: the
//! event queue never blocks the I/O thread, so every request still gets
//! its response, and every event is delivered once, in order, and
//! acknowledged.
#![cfg(feature = "emulator")]

mod support;

use std::time::{Duration, Instant};
use support::rel::*;
use trueconf_bot::Event;

const EVENTS: usize = 10_000;

#[test]
fn ten_thousand_events_each_answered_with_a_request() {
    let emu = emulator();
    let bot = bot_builder(&emu).connect().unwrap();
    let alice = emu.user("alice");
    let chat = alice.create_p2p_chat("bot").unwrap();
    let handler = {
        let bot = bot.clone();
        std::thread::spawn(move || {
            let events = bot.events();
            let mut next = 0;
            let mut deepest_queue = 0;
            while next < EVENTS {
                match events.recv_timeout(WAIT) {
                    Ok(Some(Event::NewMessage(m))) => {
                        // In order, each exactly once.
                        assert_eq!(m.text(), Some(format!("m{next}").as_str()));
                        let fetched = bot.get_message_by_id(&m.message_id).unwrap();
                        assert_eq!(fetched.message_id, m.message_id);
                        assert_eq!(fetched.text(), m.text());
                        deepest_queue = deepest_queue.max(events.len());
                        next += 1;
                    }
                    Ok(Some(Event::ChatCreated(_))) => {}
                    other => panic!("after {next} events: {other:?}"),
                }
            }
            assert!(matches!(
                events.recv_timeout(Duration::from_millis(100)),
                Ok(None)
            ));
            deepest_queue
        })
    };
    let started = Instant::now();
    for i in 0..EVENTS {
        alice.send_message(&chat, &format!("m{i}")).unwrap();
    }
    let pushed = started.elapsed();
    let deepest_queue = handler.join().unwrap();
    let handled = started.elapsed();
    wait_until("every ack", WAIT, || {
        let out = events_out(&emu, "sendMessage");
        out.len() == EVENTS && out.iter().all(|(_, _, acked)| *acked)
    });
    assert_eq!(requests_in(&emu, "getMessageById").len(), EVENTS);
    let health = bot.health();
    assert_eq!((health.reconnects, health.requests_in_flight), (0, 0));
    println!(
        "pushed {EVENTS} events in {pushed:?}, handled in {handled:?}, deepest queue {deepest_queue}"
    );
    bot.close();
}
