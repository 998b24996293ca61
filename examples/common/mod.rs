//! What every example shares: connect to a real TrueConf server when
//! `TRUECONF_SERVER` is set, or else start the embedded emulator and play the
//! people the bot talks to, so the example shows a whole conversation and
//! then exits by itself.
//!
//! Real server: `TRUECONF_SERVER` (`https://video.example.com` or
//! `http://10.0.0.5:4309`), with `TRUECONF_USER` and `TRUECONF_PASSWORD`, or
//! `TRUECONF_TOKEN`; optionally `TRUECONF_CA_CERT` (a PEM file to trust) or
//! `TRUECONF_INSECURE=1` (accept any certificate).

#![allow(dead_code)] // each example uses a different part of this module

use std::collections::HashMap;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};
use trueconf_bot::emulator::{Actor, Emulator};
use trueconf_bot::protocol::Envelope;
use trueconf_bot::{Client, Event};

/// Errors of the examples.
pub type Error = Box<dyn std::error::Error + Send + Sync>;
/// `Result` with [`Error`].
pub type Result<T = (), E = Error> = std::result::Result<T, E>;

/// The people of the offline demo, besides the bot.
const PEOPLE: [(&str, &str); 3] = [("alice", "Alice"), ("bob", "Bob"), ("carol", "Carol")];

/// How long a person in the demo waits for the bot.
const PATIENCE: Duration = Duration::from_secs(10);

/// A connected bot, and the emulator when this is the offline demo.
pub struct Bot {
    /// The connection. (Declared first: it closes before the emulator stops.)
    pub client: Client,
    demo: Option<Demo>,
}

struct Demo {
    emulator: Emulator,
}

impl Bot {
    /// Connects to the server named by `TRUECONF_SERVER`, or starts the
    /// emulator (with the bot and alice, bob and carol) and connects to it.
    pub fn start(display_name: &str) -> Result<Bot> {
        match std::env::var("TRUECONF_SERVER") {
            Ok(server) if !server.is_empty() => {
                let client = connect_real(&server)?;
                eprintln!("connected to {server} as {}", client.user_id());
                Ok(Bot { client, demo: None })
            }
            _ => {
                let mut builder = Emulator::builder().user("bot", "bot-password", display_name);
                for (login, name) in PEOPLE {
                    builder = builder.user(login, &format!("{login}-password"), name);
                }
                let emulator = builder.start()?;
                let client = Client::builder(emulator.url())
                    .credentials("bot", "bot-password")
                    .connect()?;
                eprintln!(
                    "offline demo: a TrueConf server emulator at {} plays alice, bob and carol \
                     (set TRUECONF_SERVER to use a real server)",
                    emulator.url()
                );
                Ok(Bot {
                    client,
                    demo: Some(Demo { emulator }),
                })
            }
        }
    }

    /// Whether this is the offline demo.
    pub fn is_demo(&self) -> bool {
        self.demo.is_some()
    }

    /// A person of the demo (`alice`, `bob`, `carol`) acting on the emulator;
    /// `None` on a real server.
    pub fn person(&self, login: &str) -> Option<Actor> {
        self.demo.as_ref().map(|d| d.emulator.user(login))
    }

    /// Runs `handle` on every event.
    ///
    /// On a real server: until the connection closes (stop it with Ctrl-C).
    /// In the demo: `people` plays the humans on another thread, each of
    /// their actions waiting until the bot has handled the event it caused,
    /// and the bot stops when they are done. A failing handler is reported
    /// and the bot goes on, as a long-running bot should.
    pub fn run<P, H>(&self, people: P, mut handle: H) -> Result
    where
        P: FnOnce(&People) -> Result + Send + 'static,
        H: FnMut(&Client, &Event) -> Result,
    {
        let events = self.client.events();
        let (handled_tx, handled_rx) = mpsc::channel();
        let script = self.demo.as_ref().map(|demo| {
            let actors = PEOPLE
                .iter()
                .map(|(login, _)| (login.to_string(), demo.emulator.user(login)))
                .collect();
            let cast = People {
                actors,
                bot: demo.emulator.user_id("bot"),
                handled: handled_rx,
            };
            let client = self.client.clone();
            std::thread::spawn(move || {
                let result = people(&cast);
                // The people are done: closing ends the event loop below.
                client.close();
                result
            })
        });
        for event in events.iter() {
            if let Err(e) = handle(&self.client, &event) {
                eprintln!("handling {}: {e}", event.kind());
            }
            // Nobody listens on a real server; that is fine.
            let _ = handled_tx.send(event);
        }
        drop(handled_tx);
        match script {
            Some(thread) => thread.join().map_err(|_| "the demo's people panicked")?,
            None => Ok(()),
        }
    }
}

fn connect_real(server: &str) -> Result<Client> {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let mut builder = Client::builder(server);
    builder = match (
        env("TRUECONF_TOKEN"),
        env("TRUECONF_USER"),
        env("TRUECONF_PASSWORD"),
    ) {
        (Some(token), None, None) => builder.token(token),
        (None, Some(user), Some(password)) => builder.credentials(user, password),
        _ => return Err("set TRUECONF_USER and TRUECONF_PASSWORD, or TRUECONF_TOKEN".into()),
    };
    if let Some(pem) = env("TRUECONF_CA_CERT") {
        builder = builder.ca_cert_file(pem);
    }
    // As the command-line tool reads it.
    match env("TRUECONF_INSECURE")
        .map(|v| v.to_ascii_lowercase())
        .as_deref()
    {
        None | Some("0" | "no" | "n" | "false" | "f" | "off") => {}
        Some("1" | "yes" | "y" | "true" | "t" | "on") => {
            builder = builder.danger_accept_invalid_certs(true)
        }
        Some(_) => return Err("TRUECONF_INSECURE: give 1/yes/true or 0/no/false".into()),
    }
    Ok(builder.connect()?)
}

/// The people of the demo, for [`Bot::run`].
pub struct People {
    actors: HashMap<String, Actor>,
    bot: String,
    handled: Receiver<Event>,
}

impl People {
    /// `alice`, `bob` or `carol`.
    pub fn get(&self, login: &str) -> Result<Person<'_>> {
        let actor = self
            .actors
            .get(login)
            .ok_or_else(|| format!("no {login} in the demo"))?;
        Ok(Person {
            actor,
            people: self,
        })
    }

    /// Waits until the bot has handled an event matching `wanted`.
    fn wait_for(&self, what: &str, wanted: impl Fn(&Event) -> bool) -> Result {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.handled.recv_timeout(left) {
                Ok(event) if wanted(&event) => return Ok(()),
                Ok(_) => {}
                Err(RecvTimeoutError::Timeout) => {
                    return Err(format!("the bot did not handle {what} within {PATIENCE:?}").into())
                }
                Err(RecvTimeoutError::Disconnected) => return Err("the bot stopped".into()),
            }
        }
    }
}

/// A person of the demo; each action that reaches the bot waits until the
/// bot has handled it, so the conversation prints in order.
pub struct Person<'a> {
    actor: &'a Actor,
    people: &'a People,
}

/// An emulator error code as an example error.
fn code(method: &str) -> impl Fn(u32) -> Error + '_ {
    move |code| format!("{method} failed with error {code}").into()
}

impl Person<'_> {
    /// The login.
    pub fn login(&self) -> &str {
        self.actor.login()
    }

    /// The emulator actor, for anything else.
    pub fn actor(&self) -> &Actor {
        self.actor
    }

    /// Opens (or finds) the personal chat with the bot.
    pub fn chat_with_bot(&self) -> Result<String> {
        self.actor
            .create_p2p_chat(&self.people.bot)
            .map_err(code("createP2PChat"))
    }

    /// Says `text` in a chat and waits until the bot has handled it.
    pub fn say(&self, chat_id: &str, text: &str) -> Result<String> {
        println!("{:>5}: {text}", self.login());
        let id = self
            .actor
            .send_message(chat_id, text)
            .map_err(code("sendMessage"))?;
        self.people.wait_for(
            "a message",
            |e| matches!(e, Event::NewMessage(m) if m.message_id == id),
        )?;
        Ok(id)
    }

    /// Sends a file and waits until the bot has handled it.
    pub fn send_file(&self, chat_id: &str, name: &str, bytes: &[u8]) -> Result<String> {
        println!("{:>5}: [file {name}, {} bytes]", self.login(), bytes.len());
        let sent = self
            .actor
            .send_file(chat_id, name, bytes)
            .map_err(code("sendFile"))?;
        let id = sent.message_id;
        self.people.wait_for(
            "a file",
            |e| matches!(e, Event::NewMessage(m) if m.message_id == id),
        )?;
        Ok(id)
    }

    /// Presses the command button `command` under a message and waits until
    /// the bot has handled the press.
    pub fn press(&self, message_id: &str, command: &str) -> Result {
        println!("{:>5}: [presses the `{command}` button]", self.login());
        self.actor
            .press_button(message_id, command)
            .map_err(code("pressing a button"))?;
        self.people.wait_for("a button press", |e| {
            matches!(e, Event::Command(c) if c.command_payload.command == command
                && c.command_source.message.as_ref().is_some_and(|m| m.message_id == message_id))
        })
    }

    /// The newest `count` messages of a chat, newest first, as this person
    /// sees them.
    pub fn recent_messages(&self, chat_id: &str, count: u32) -> Result<Vec<Envelope>> {
        let page = self
            .actor
            .call(
                "getChatHistory",
                serde_json::json!({"chatId": chat_id, "count": count, "fromMessageId": null}),
            )
            .map_err(code("getChatHistory"))?;
        let messages = page.get("messages").cloned().unwrap_or_default();
        Ok(serde_json::from_value(messages)?)
    }

    /// The newest message of a chat, as this person sees it.
    pub fn last_message(&self, chat_id: &str) -> Result<Envelope> {
        let mut newest = self.recent_messages(chat_id, 1)?;
        newest.pop().ok_or_else(|| "the chat is empty".into())
    }
}

/// Prints what the bot did, lined up with the people's lines.
pub fn bot_says(what: impl std::fmt::Display) {
    println!("  bot: {what}");
}
