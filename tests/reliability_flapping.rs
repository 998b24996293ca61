//! A flapping server: it accepts the connection and the login, then drops
//! the connection at once. The client backs off across those connections
//! (the delays between logins grow, as the emulator sees them), resets the
//! backoff once a connection has stayed up for the policy's
//! `stable_after`, and counts the dropped connections against
//! `max_attempts`.
#![cfg(feature = "emulator")]

mod support;

use std::time::{Duration, Instant};
use support::rel::*;
use trueconf_bot::emulator::{Direction, Emulator, FrameRecord};
use trueconf_bot::{ConnectionState, Error, Event, ReconnectPolicy};

/// Whether `r` is one of the client's `auth` requests.
fn is_auth(r: &FrameRecord) -> bool {
    r.direction == Direction::In && r.text.contains("\"method\":\"auth\"")
}

/// The client's `auth` requests among `frames`.
fn auths(frames: &[FrameRecord]) -> usize {
    frames.iter().filter(|r| is_auth(r)).count()
}

/// Waits until the emulator has seen `total` logins in all, and returns
/// when it read each one after the first `seen`.
fn auth_times(emu: &Emulator, seen: usize, total: usize, timeout: Duration) -> Vec<Instant> {
    let done = emu.wait_frames(timeout, |frames| auths(frames) >= total);
    let frames = emu.frames();
    let times: Vec<Instant> = frames
        .iter()
        .filter(|r| is_auth(r))
        .map(|r| r.at)
        .skip(seen)
        .take(total - seen)
        .collect();
    assert!(
        done,
        "only {} of {total} logins within {timeout:?}",
        seen + times.len()
    );
    times
}

#[test]
fn delays_grow_while_every_login_is_dropped_and_reset_once_a_connection_stays_up() {
    let emu = emulator();
    // Exact delays (no jitter): 50, 100, 200, 400, 800, 1600, 3200 ms...
    let policy = ReconnectPolicy::backoff(Duration::from_millis(50), Duration::from_millis(6400))
        .jitter(0.0)
        .stable_after(Duration::from_millis(500));
    let bot = bot_builder(&emu)
        .reconnect(policy.clone())
        .connect()
        .unwrap();
    let events = bot.events();
    let before = auths(&emu.frames());
    assert_eq!(before, 1);

    // The next 5 logins are dropped right after the server answers them;
    // the 6th connection stays up.
    const DROPPED: usize = 5;
    emu.faults().drop_after_auth(DROPPED as u64);
    let started = Instant::now();
    emu.faults().drop_connections();
    let times = auth_times(&emu, before, before + DROPPED + 1, Duration::from_secs(30));
    assert_eq!(times.len(), DROPPED + 1);

    // Before login k (1-based) the client waited delay(k - 1): each of the
    // dropped connections counted as a failed attempt. These bounds are
    // exact (the sleeps are never shorter, and the timestamps never early).
    for (k, at) in times.iter().enumerate() {
        let waited: Duration = (0..=k as u32).map(|n| policy.base_delay(n)).sum();
        let took = at.duration_since(started);
        assert!(
            took >= waited,
            "login {} after {took:?}, before the backoff of {waited:?}",
            k + 1
        );
    }
    // Between successive logins (as the emulator read them): the growing
    // delay, plus the time to notice the drop and to connect again, so
    // never less and not much more. The last gap, 1.6 s, shows the growth.
    let gaps: Vec<Duration> = times.windows(2).map(|w| w[1] - w[0]).collect();
    for (k, gap) in gaps.iter().enumerate() {
        let delay = policy.base_delay(k as u32 + 1);
        assert!(
            *gap >= delay && *gap <= delay + Duration::from_secs(2),
            "gap {k} was {gap:?} for a delay of {delay:?}; gaps {gaps:?}"
        );
    }

    // Six reconnections, five of them lost at once.
    let mut reconnected = 0;
    while reconnected < DROPPED + 1 {
        let (event, _) = expect_event(&events, "Reconnected", WAIT, |e| {
            matches!(e, Event::Reconnected)
        });
        assert!(matches!(event, Event::Reconnected));
        reconnected += 1;
    }
    // The last connection stays up past `stable_after`: nothing happens.
    let quiet = policy.stable_after + Duration::from_millis(300);
    match events.recv_timeout(quiet) {
        Ok(None) => {}
        other => panic!("the connection should have stayed up: {other:?}"),
    }
    assert_eq!(bot.health().state, ConnectionState::Connected);
    assert_eq!(bot.health().reconnects, DROPPED as u64 + 1);

    // It proved stable: the next loss is retried after the first delay
    // (50 ms) again, not after the 3.2 s the backoff would have reached
    // (the bound leaves room for a loaded machine below that).
    let lost = Instant::now();
    emu.faults().drop_connections();
    let after = auth_times(&emu, before + DROPPED + 1, before + DROPPED + 2, WAIT);
    let took = after[0].duration_since(lost);
    assert!(
        took >= policy.base_delay(0) && took < Duration::from_millis(2500),
        "reconnected {took:?} after a loss that followed a stable period"
    );
    expect_reconnected(&events);
    assert_answers(&emu, &bot);
    bot.close();
}

#[test]
fn connections_dropped_after_login_count_against_max_attempts() {
    let emu = emulator();
    let bot = bot_builder(&emu)
        .reconnect(
            ReconnectPolicy::backoff(Duration::from_millis(10), Duration::from_millis(40))
                .max_attempts(Some(3)),
        )
        .connect()
        .unwrap();
    let events = bot.events();
    emu.faults().drop_after_auth(1_000);
    emu.faults().drop_connections();

    // Each attempt logs in (Reconnected) and is lost (Disconnected); after
    // the third the client gives up and says why.
    let mut reconnects = 0;
    let last = loop {
        let (event, _) = expect_event(&events, "an event", WAIT, |_| true);
        match event {
            Event::Reconnected => reconnects += 1,
            Event::Disconnected { reason } if reason.starts_with("the client stopped") => {
                break reason
            }
            Event::Disconnected { .. } => {}
            other => panic!("unexpected {other:?}"),
        }
    };
    assert_eq!(reconnects, 3);
    assert!(
        last.contains("gave up reconnecting after 3 attempts") && last.contains("after logging in"),
        "{last}"
    );
    assert!(matches!(events.recv_timeout(WAIT), Err(Error::Closed)));
    let health = bot.health();
    assert_eq!(health.state, ConnectionState::Closed);
    assert_eq!(health.reconnects, 3);
    assert!(health.failure.unwrap().contains("3 attempts"));
    // The first connection and three attempts, each one login.
    assert_eq!(auths(&emu.frames()), 4);
}
