//! Helpers for the reliability tests: an emulator with a bot and alice, a
//! client with short timings, bounded waits on events and on the
//! emulator's frame log.

#![allow(dead_code)]

use serde_json::Value;
use std::time::{Duration, Instant};
use trueconf_bot::emulator::{Direction, Emulator, EmulatorBuilder, FrameRecord};
use trueconf_bot::{Client, ClientBuilder, Event, Events, ReconnectPolicy};

/// The longest any single wait in these tests may take.
pub const WAIT: Duration = Duration::from_secs(10);

/// An emulator builder with the users `bot` and `alice`.
pub fn emulator_builder() -> EmulatorBuilder {
    Emulator::builder()
        .user("bot", "bot-pw", "Bot")
        .user("alice", "alice-pw", "Alice")
}

/// A started emulator with `bot` and `alice`.
pub fn emulator() -> Emulator {
    emulator_builder().start().expect("emulator starts")
}

/// Backoff for tests: 20 ms doubling to 200 ms, no limit.
pub fn quick_backoff() -> ReconnectPolicy {
    ReconnectPolicy::backoff(Duration::from_millis(20), Duration::from_millis(200))
}

/// A client builder logging in as `bot`, with short backoff and timeouts.
pub fn bot_builder(emu: &Emulator) -> ClientBuilder {
    Client::builder(emu.url())
        .credentials("bot", "bot-pw")
        .reconnect(quick_backoff())
        .connect_timeout(Duration::from_secs(5))
        .auth_timeout(Duration::from_secs(5))
        .request_timeout(WAIT)
}

/// Waits (bounded) for an event matching `want`; returns it and the events
/// skipped before it.
pub fn expect_event(
    events: &Events,
    what: &str,
    timeout: Duration,
    mut want: impl FnMut(&Event) -> bool,
) -> (Event, Vec<Event>) {
    let deadline = Instant::now() + timeout;
    let mut skipped = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match events.recv_timeout(left) {
            Ok(Some(ev)) if want(&ev) => return (ev, skipped),
            Ok(Some(ev)) => skipped.push(ev),
            Ok(None) => panic!("no {what} within {timeout:?}; got {skipped:?}"),
            Err(e) => panic!("event stream ended waiting for {what}: {e}; got {skipped:?}"),
        }
    }
}

/// Waits for `Disconnected` and returns its reason.
pub fn expect_disconnected(events: &Events) -> String {
    match expect_event(events, "Disconnected", WAIT, |e| {
        matches!(e, Event::Disconnected { .. })
    })
    .0
    {
        Event::Disconnected { reason } => reason,
        _ => unreachable!(),
    }
}

/// Waits for `Reconnected`; returns the events skipped before it.
pub fn expect_reconnected(events: &Events) -> Vec<Event> {
    expect_event(events, "Reconnected", WAIT, |e| {
        matches!(e, Event::Reconnected)
    })
    .1
}

/// Asserts that `bot` works over its current connection: a request gets
/// its answer (alice's display name).
pub fn assert_answers(emu: &Emulator, bot: &Client) {
    let name = bot
        .get_user_display_name(emu.user_id("alice"))
        .expect("an answer over the current connection");
    assert_eq!(name.display_name, "Alice");
}

/// Polls `cond` until it holds; fails the test after `timeout`. For state
/// only observable by looking (the emulator's frame log, health).
pub fn wait_until(what: &str, timeout: Duration, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    let mut pause = Duration::from_millis(1);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(50));
    }
}

/// A recorded frame parsed as JSON (`Value::Null` when it is not JSON).
pub fn json(record: &FrameRecord) -> Value {
    serde_json::from_str(&record.text).unwrap_or(Value::Null)
}

/// The requests the client sent with `method`, in order.
pub fn requests_in(emu: &Emulator, method: &str) -> Vec<(u64, Value)> {
    emu.frames()
        .iter()
        .filter(|r| r.direction == Direction::In)
        .map(|r| (r.connection, json(r)))
        .filter(|(_, v)| v["type"] == 1 && v["method"] == method)
        .collect()
}

/// The events (server requests) the emulator sent with `method`, with the
/// connection, and whether the client acknowledged each.
pub fn events_out(emu: &Emulator, method: &str) -> Vec<(u64, Value, bool)> {
    let frames = emu.frames();
    let acks: std::collections::HashSet<(u64, u64)> = frames
        .iter()
        .filter(|r| r.direction == Direction::In)
        .filter_map(|r| {
            let v = json(r);
            (v["type"] == 2).then(|| v["id"].as_u64().map(|id| (r.connection, id)))?
        })
        .collect();
    frames
        .iter()
        .filter(|r| r.direction == Direction::Out)
        .map(|r| (r.connection, json(r)))
        .filter(|(_, v)| v["type"] == 1 && v["method"] == method)
        .map(|(c, v)| {
            let acked = v["id"].as_u64().is_some_and(|id| acks.contains(&(c, id)));
            (c, v, acked)
        })
        .collect()
}
