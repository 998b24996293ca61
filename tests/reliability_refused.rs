//! The next N connections are refused: the client retries with capped
//! exponential backoff (observed through the emulator's connection numbers
//! and loose timing ratios), and gives up after `max_attempts` with a clear
//! reason.
#![cfg(feature = "emulator")]

mod support;

use std::time::{Duration, Instant};
use support::rel::*;
use trueconf_bot::emulator::Direction;
use trueconf_bot::{ConnectionState, Error, ReconnectPolicy};

/// The emulator connection the client's newest `auth` came in on.
fn last_auth_connection(emu: &trueconf_bot::emulator::Emulator) -> u64 {
    emu.frames()
        .iter()
        .rev()
        .find(|r| r.direction == Direction::In && r.text.contains("\"method\":\"auth\""))
        .map(|r| r.connection)
        .expect("an auth frame")
}

#[test]
fn refused_connections_are_retried_with_growing_delays() {
    let emu = emulator();
    let policy = ReconnectPolicy::backoff(Duration::from_millis(40), Duration::from_millis(400))
        .jitter(0.25);
    let bot = bot_builder(&emu)
        .reconnect(policy.clone())
        .connect()
        .unwrap();
    let events = bot.events();
    let first = last_auth_connection(&emu);

    const REFUSED: u32 = 4;
    emu.faults().refuse_next(REFUSED as u64);
    emu.faults().drop_connections();
    expect_disconnected(&events);
    let lost = Instant::now();
    expect_reconnected(&events);
    let took = lost.elapsed();

    // Every attempt is one TCP connection: 4 refused, then the good one.
    assert_eq!(last_auth_connection(&emu), first + REFUSED as u64 + 1);
    assert_eq!(bot.health().reconnects, 1);
    // Delays 40, 80, 160, 320, 400 ms base (+-25 %) before the 5 attempts.
    let base: Duration = (0..=REFUSED).map(|n| policy.base_delay(n)).sum();
    assert_eq!(base, Duration::from_millis(1000));
    assert!(
        took >= base.mul_f64(0.6),
        "backoff too short: {took:?} for base {base:?}"
    );
    assert!(
        took <= base.mul_f64(6.0),
        "backoff too long: {took:?} for base {base:?}"
    );
    // The connection works again.
    assert_answers(&emu, &bot);
    bot.close();
}

#[test]
fn the_client_gives_up_after_max_attempts_with_a_clear_reason() {
    let emu = emulator();
    let bot = bot_builder(&emu)
        .reconnect(
            ReconnectPolicy::backoff(Duration::from_millis(10), Duration::from_millis(20))
                .max_attempts(Some(3)),
        )
        .connect()
        .unwrap();
    let events = bot.events();
    emu.faults().refuse_next(1_000);
    emu.faults().drop_connections();
    expect_disconnected(&events);
    let last = expect_disconnected(&events);
    assert!(
        last.contains("gave up reconnecting after 3 attempts"),
        "{last}"
    );
    // The stream ends, the state says why, calls fail at once.
    assert!(matches!(events.recv_timeout(WAIT), Err(Error::Closed)));
    let health = bot.health();
    assert_eq!(health.state, ConnectionState::Closed);
    assert!(!health.authorized);
    assert!(health.failure.unwrap().contains("3 attempts"));
    let started = Instant::now();
    match bot.get_user_display_name("alice") {
        Err(Error::Connect(why)) => assert!(why.contains("3 attempts"), "{why}"),
        other => panic!("{other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(1));
}
