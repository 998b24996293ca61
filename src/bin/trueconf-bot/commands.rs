//! The commands that talk to a server, except files (see `files.rs`).

use crate::args::{CallArgs, HistoryArgs, ListenArgs, SendArgs};
use crate::failure::{Failure, CONNECTION};
use crate::output::{arg_or_stdin, emit, note};
use serde_json::{json, Value};
use trueconf_bot::protocol::methods::{GetChatHistory, SendMessage};
use trueconf_bot::{Client, Event};

/// The `send` request, built (and its text read) before connecting.
pub fn send_request(args: SendArgs) -> Result<SendMessage, Failure> {
    let text = arg_or_stdin(args.text)?;
    if text.trim().is_empty() {
        // Most likely a command before it in a pipe failed.
        return Err(Failure::usage("the text is empty: nothing to send"));
    }
    let mut request = SendMessage::new(args.chat_id, text).parse_mode(args.parse_mode.into());
    if let Some(reply_to) = args.reply_to {
        request = request.reply_to(reply_to);
    }
    Ok(request)
}

/// `send`: prints `{"chatId","messageId","timestamp"}`.
pub fn send(client: &Client, request: SendMessage) -> Result<(), Failure> {
    emit(&client.request(&request)?)
}

/// `chats`: every chat, one per line.
pub fn chats(client: &Client) -> Result<(), Failure> {
    for chat in client.chats(100) {
        emit(&chat?)?;
    }
    Ok(())
}

/// `chat`: one chat.
pub fn chat(client: &Client, chat_id: String) -> Result<(), Failure> {
    emit(&client.get_chat_by_id(chat_id)?)
}

/// `history`: up to `--count` messages, newest first, one per line.
pub fn history(client: &Client, args: HistoryArgs) -> Result<(), Failure> {
    let mut request = GetChatHistory::new(args.chat_id, args.count);
    if let Some(from) = args.from {
        request = request.from_message(from);
    }
    for message in client.request(&request)?.messages {
        emit(&message)?;
    }
    Ok(())
}

/// `participants`: every participant, one per line.
pub fn participants(client: &Client, chat_id: String) -> Result<(), Failure> {
    for participant in client.participants(chat_id, 100) {
        emit(&participant?)?;
    }
    Ok(())
}

/// `p2p`, `group`, `channel`: prints `{"chatId"}`.
pub fn created(chat_id: String) -> Result<(), Failure> {
    emit(&json!({ "chatId": chat_id }))
}

/// `listen`: every event as one JSON line until `--count` events, the idle
/// timeout, or an interrupt.
pub fn listen(client: &Client, args: ListenArgs) -> Result<(), Failure> {
    let events = client.events();
    note(format_args!(
        "connected as {}; waiting for events",
        client.user_id()
    ));
    // Messages and other server events count towards `--count`; the
    // connection's own events are printed but not counted.
    let mut seen = 0u64;
    let mut lost: Option<String> = None;
    while args.count.is_none_or(|n| seen < n) {
        let event = match args.idle_timeout {
            Some(idle) => match events.recv_timeout(idle)? {
                Some(event) => event,
                None => {
                    if let Some(reason) = lost {
                        return Err(Failure {
                            code: CONNECTION,
                            message: format!("still disconnected after {idle:?}: {reason}"),
                        });
                    }
                    note(format_args!("no event for {idle:?}; stopping"));
                    break;
                }
            },
            None => events.recv()?,
        };
        emit(&event.to_json())?;
        match event {
            Event::Disconnected { reason } => {
                note(format_args!("connection lost ({reason}); reconnecting"));
                lost = Some(reason);
            }
            Event::Reconnected => {
                note(format_args!("reconnected"));
                lost = None;
            }
            _ => seen += 1,
        }
    }
    Ok(())
}

/// The `call` payload, parsed (and read) before connecting.
pub fn call_payload(args: &mut CallArgs) -> Result<Value, Failure> {
    match args.payload.take() {
        None => Ok(json!({})),
        Some(text) => {
            let text = arg_or_stdin(text)?;
            serde_json::from_str::<Value>(&text)
                .map_err(|e| Failure::usage(format_args!("the payload is not JSON: {e}")))
        }
    }
}

/// `call`: any method; prints the response payload.
pub fn call(client: &Client, method: &str, payload: Value) -> Result<(), Failure> {
    emit(&client.call(method, payload)?)
}
