//! 16 threads x 1,000 calls through a connection dropped at random
//! moments, while alice keeps sending the bot messages. Every call either
//! gets its own response (checked against the emulator's frame log) or
//! `ConnectionLost`; none hangs; every event the client acknowledged
//! reached the application, once per delivery.
#![cfg(feature = "emulator")]

mod support;

use serde_json::Value;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};
use support::rel::*;
use trueconf_bot::emulator::Direction;
use trueconf_bot::{ConnectionState, Error, Event};

const THREADS: usize = 16;
const CALLS: usize = 1_000;
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// xorshift64: the drop schedule, reproducible from the seed it prints.
fn next(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

#[test]
fn calls_and_events_survive_random_drops() {
    let emu = emulator();
    let bot = bot_builder(&emu)
        .receive_unread(true)
        .request_timeout(REQUEST_TIMEOUT)
        .connect()
        .unwrap();
    let chat = emu.user("alice").create_p2p_chat("bot").unwrap();
    let started = Instant::now();

    // The application: every message event, in arrival order.
    let collector = {
        let events = bot.events();
        std::thread::spawn(move || {
            let mut received: HashMap<String, usize> = HashMap::new();
            let (mut disconnects, mut reconnects) = (0, 0);
            for event in events.iter() {
                match event {
                    Event::NewMessage(m) => *received.entry(m.message_id).or_default() += 1,
                    Event::Disconnected { .. } => disconnects += 1,
                    Event::Reconnected => reconnects += 1,
                    _ => {}
                }
            }
            (received, disconnects, reconnects)
        })
    };
    // Alice talks to the bot until the workers are done.
    let done = Arc::new(AtomicBool::new(false));
    let talker = {
        let alice = emu.user("alice");
        let (chat, done) = (chat.clone(), done.clone());
        std::thread::spawn(move || {
            let mut sent = 0;
            while !done.load(Ordering::Relaxed) && sent < 3_000 {
                alice.send_message(&chat, &format!("e{sent}")).unwrap();
                sent += 1;
                std::thread::yield_now();
            }
            sent
        })
    };
    // Drops at random moments until told to stop.
    let (stop_chaos, chaos_stop) = mpsc::channel::<()>();
    let chaos = {
        let faults = emu.faults();
        let seed = 0x9e37_79b9_7f4a_7c15u64 ^ started.elapsed().as_nanos() as u64;
        println!("drop schedule seed {seed:#x}");
        std::thread::spawn(move || {
            let mut state = seed | 1;
            let mut drops = 0;
            loop {
                let pause = Duration::from_millis(40 + next(&mut state) % 160);
                match chaos_stop.recv_timeout(pause) {
                    Err(mpsc::RecvTimeoutError::Timeout) => {
                        faults.drop_connections();
                        drops += 1;
                    }
                    _ => return drops,
                }
            }
        })
    };

    let (results_tx, results) = mpsc::channel();
    let calls_done = Arc::new(AtomicUsize::new(0));
    for t in 0..THREADS {
        let (bot, chat, tx) = (bot.clone(), chat.clone(), results_tx.clone());
        let calls_done = calls_done.clone();
        std::thread::spawn(move || {
            let mut ok = Vec::with_capacity(CALLS);
            let mut lost = 0;
            let mut slowest = Duration::ZERO;
            for i in 0..CALLS {
                let text = format!("w{t}-{i}");
                let call_started = Instant::now();
                match bot.send_message(&chat, &text) {
                    Ok(sent) => ok.push((text, sent.message_id)),
                    Err(Error::ConnectionLost { method }) => {
                        assert_eq!(method, "sendMessage");
                        lost += 1;
                    }
                    Err(e) => panic!("thread {t} call {i}: {e}"),
                }
                slowest = slowest.max(call_started.elapsed());
                calls_done.fetch_add(1, Ordering::Relaxed);
            }
            let _ = tx.send((ok, lost, slowest));
        });
    }
    drop(results_tx);
    let mut answered = Vec::new();
    let mut lost = 0;
    let mut slowest = Duration::ZERO;
    // A hung call fails the test instead of hanging it: every call is
    // bounded by the request timeout, so the count of finished calls never
    // stands still for longer (however slow the machine).
    let mut finished = 0;
    let (mut progress, mut progress_at) = (0, Instant::now());
    while finished < THREADS {
        let (ok, l, s) = match results.recv_timeout(Duration::from_millis(500)) {
            Ok(result) => result,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                let now_done = calls_done.load(Ordering::Relaxed);
                if now_done > progress {
                    (progress, progress_at) = (now_done, Instant::now());
                }
                assert!(
                    progress_at.elapsed() < 2 * REQUEST_TIMEOUT,
                    "no call finished for {:?}: a worker hung",
                    progress_at.elapsed()
                );
                continue;
            }
            Err(e) => panic!("a worker died: {e}"),
        };
        finished += 1;
        answered.extend(ok);
        lost += l;
        slowest = slowest.max(s);
    }
    let _ = stop_chaos.send(());
    let drops = chaos.join().unwrap();
    done.store(true, Ordering::Relaxed);
    let pushed = talker.join().unwrap();
    let calls_took = started.elapsed();
    assert_eq!(answered.len() + lost, THREADS * CALLS);
    assert!(slowest < REQUEST_TIMEOUT, "a call took {slowest:?}");

    // Let the last events land (a round trip on a connection that stays
    // up: the last drop may still be on its way when the state reads
    // connected), then stop the application's stream.
    let settled_by = Instant::now() + WAIT;
    loop {
        wait_until("the connection back", WAIT, || {
            bot.health().state == ConnectionState::Connected
        });
        match bot.get_user_display_name(emu.user_id("alice")) {
            Ok(_) => break,
            Err(Error::ConnectionLost { .. }) if Instant::now() < settled_by => {}
            Err(e) => panic!("the round trip after the drops: {e}"),
        }
    }
    bot.close();
    let (received, disconnects, reconnects) = collector.join().unwrap();

    // Each answer is the response to that call's own request: the frame
    // log maps (connection, request id) to the text sent and to the
    // message id answered.
    let frames = emu.frames();
    let mut text_of: HashMap<(u64, u64), String> = HashMap::new();
    let mut answer_of: HashMap<String, (u64, u64)> = HashMap::new();
    let mut deliveries: HashMap<String, (usize, usize)> = HashMap::new();
    let mut acks: std::collections::HashSet<(u64, u64)> = Default::default();
    let mut bot_events: Vec<(u64, u64, String)> = Vec::new();
    for r in &frames {
        let v: Value = json(r);
        let id = v["id"].as_u64().unwrap_or(u64::MAX);
        match (r.direction, v["type"].as_u64()) {
            (Direction::In, Some(1)) if v["method"] == "sendMessage" => {
                let text = v["payload"]["content"]["text"].as_str().unwrap_or("");
                text_of.insert((r.connection, id), text.to_string());
            }
            (Direction::In, Some(2)) => {
                acks.insert((r.connection, id));
            }
            (Direction::Out, Some(2)) => {
                if let Some(m) = v["payload"]["messageId"].as_str() {
                    answer_of.insert(m.to_string(), (r.connection, id));
                }
            }
            (Direction::Out, Some(1)) if v["method"] == "sendMessage" => {
                let m = v["payload"]["messageId"].as_str().unwrap_or("").to_string();
                bot_events.push((r.connection, id, m));
            }
            _ => {}
        }
    }
    for (text, message_id) in &answered {
        let key = answer_of
            .get(message_id)
            .unwrap_or_else(|| panic!("{message_id} was never answered on the wire"));
        assert_eq!(text_of.get(key), Some(text), "response to the wrong call");
    }
    // Events: every acknowledged delivery reached the application, and the
    // application saw each message at most once per delivery.
    for (connection, id, message_id) in &bot_events {
        let entry = deliveries.entry(message_id.clone()).or_default();
        entry.0 += 1;
        if acks.contains(&(*connection, *id)) {
            entry.1 += 1;
        }
    }
    let mut acked_messages = 0;
    for (message_id, (delivered, acked)) in &deliveries {
        let seen = received.get(message_id).copied().unwrap_or(0);
        if *acked > 0 {
            acked_messages += 1;
            assert!(seen >= *acked, "{message_id}: acked {acked}, seen {seen}");
        }
        assert!(
            seen <= *delivered,
            "{message_id}: delivered {delivered}, seen {seen}"
        );
    }
    assert!(received.keys().all(|m| deliveries.contains_key(m)));
    assert!(
        drops >= 3,
        "only {drops} drops: the run was too short to test"
    );
    assert!(reconnects >= 1 && disconnects >= reconnects);
    println!(
        "{} calls in {calls_took:?}: {} answered, {lost} lost; {drops} drops, {reconnects} reconnects; \
         {pushed} events pushed, {acked_messages} acked, {} received; slowest call {slowest:?}",
        THREADS * CALLS,
        answered.len(),
        received.values().sum::<usize>()
    );
}
