//! Both sides of the wire share one definition: requests built with the
//! client's types are accepted, answers decode into the client's response
//! types, and every event decodes into a typed client event (never raw).

use super::{SERVER, T};
use crate::protocol::events::decode_event;
use crate::protocol::methods::*;
use crate::protocol::{Event, Method, ParseMode, ParticipantRole, SurveyContent};
use serde_json::value::to_raw_value;
use std::fmt::Debug;

/// Runs a client request as `login`; its typed answer. Every event of the
/// call must decode into a typed client event.
fn run<M: Method>(t: &mut T, login: &str, request: &M) -> M::Response
where
    M::Response: Debug,
{
    assert_eq!(request.validate(), Ok(()), "{}", M::NAME);
    let payload = serde_json::to_value(request).expect("request JSON");
    let answer = t.ok(login, M::NAME, payload);
    for o in &t.out {
        let raw = to_raw_value(&o.payload).expect("event JSON");
        let event = decode_event(&o.method, Some(&raw));
        assert!(
            !matches!(event, Event::Raw { .. }),
            "{} event {} did not decode: {}",
            M::NAME,
            o.method,
            o.payload
        );
    }
    match serde_json::from_value(answer.clone()) {
        Ok(typed) => typed,
        Err(e) => panic!("{} answer {answer} does not decode: {e}", M::NAME),
    }
}

#[test]
fn client_requests_round_trip() {
    let mut t = T::new();
    let (alice, bob) = (T::id("alice"), T::id("bob"));
    let p2p = run(&mut t, "bot", &CreateP2PChat::new(alice.as_str())).chat_id;
    let group = run(&mut t, "bot", &CreateGroupChat::new("Team")).chat_id;
    let channel = run(&mut t, "bot", &CreateChannel::new("News")).chat_id;
    run(&mut t, "bot", &CreateFavoritesChat::new());
    run(
        &mut t,
        "bot",
        &AddChatParticipant::new(group.as_str(), alice.as_str()),
    );
    run(
        &mut t,
        "bot",
        &AddChatParticipant::new(group.as_str(), bob.as_str()),
    );
    run(
        &mut t,
        "bot",
        &AddChatParticipant::new(channel.as_str(), bob.as_str()),
    );
    let role = ChangeParticipantRole::new(group.as_str(), alice.as_str(), ParticipantRole::Admin);
    run(&mut t, "bot", &role);
    let chat = run(&mut t, "bot", &GetChatById::new(group.as_str()));
    assert_eq!(chat.title, "Team");
    let chats = run(&mut t, "bot", &GetChats::new(10, 1));
    assert_eq!(chats.chats.len(), 4);
    let list = run(
        &mut t,
        "alice",
        &GetChatParticipants::new(group.as_str(), 10, 1),
    );
    assert_eq!(list.participants.len(), 3);
    let who = run(
        &mut t,
        "alice",
        &GetChatParticipant::new(group.as_str(), bob.as_str()),
    );
    assert_eq!(who.role, ParticipantRole::User);
    assert!(
        run(
            &mut t,
            "alice",
            &HasChatParticipant::new(group.as_str(), bob.as_str())
        )
        .result
    );
    let name = run(&mut t, "bot", &GetUserDisplayName::new(alice.as_str()));
    assert_eq!(name.display_name, "Alice");

    let sent = run(&mut t, "bot", &SendMessage::new(group.as_str(), "hello"));
    let reply = SendMessage::new(group.as_str(), "<b>re</b>")
        .parse_mode(ParseMode::Html)
        .reply_to(sent.message_id.as_str());
    let replied = run(&mut t, "alice", &reply);
    run(
        &mut t,
        "bot",
        &EditMessage::new(sent.message_id.as_str(), "hello!"),
    );
    let fwd = ForwardMessage::new(p2p.as_str(), replied.message_id.as_str());
    run(&mut t, "alice", &fwd);
    let got = run(
        &mut t,
        "bot",
        &GetMessageById::new(replied.message_id.as_str()),
    );
    assert_eq!(
        got.reply_message_id.as_deref(),
        Some(sent.message_id.as_str())
    );
    let history = run(&mut t, "bob", &GetChatHistory::new(group.as_str(), 50));
    assert_eq!(history.messages[0].message_id, replied.message_id);
    assert_eq!(history.messages[0].chat_title.as_deref(), Some("Team"));
    run(
        &mut t,
        "bot",
        &SendChatActivity::new(group.as_str(), crate::protocol::ChatActivity::Typing),
    );

    let task = run(&mut t, "bot", &UploadFile::new(4).file_name("a.txt"));
    let tmp =
        t.w.complete_upload(
            &task.upload_task_id,
            super::stored("a.txt", 4, "text/plain"),
            None,
        )
        .expect("upload");
    let send = SendFile::new(group.as_str(), tmp).caption("the file", ParseMode::Text);
    let file = run(&mut t, "bot", &send);
    let file_id = file.file_id.expect("fileId");
    assert!(file.caption_message_id.is_some());
    let info = run(&mut t, "bob", &GetFileInfo::new(file_id.as_str()));
    assert_eq!((info.size, info.name.as_str()), (4, "a.txt"));
    assert!(run(&mut t, "bob", &SubscribeFileProgress::new(file_id.as_str())).result);
    run(
        &mut t,
        "bob",
        &UnsubscribeFileProgress::new(file_id.as_str()),
    );
    run(&mut t, "bot", &GetFileUploadLimits::new());

    let survey = SurveyContent::build(SERVER, "poll", "Lunch?", false);
    let poll = run(&mut t, "bot", &SendSurvey::new(group.as_str(), survey));
    let edit = crate::protocol::EditSurveyContent::build(SERVER, "poll2", "Dinner?", true);
    run(
        &mut t,
        "bot",
        &EditSurvey::new(poll.message_id.as_str(), edit),
    );

    run(&mut t, "bot", &EditChatTitle::new(group.as_str(), "Team 2"));
    let task = run(&mut t, "bot", &UploadFile::new(3));
    let tmp =
        t.w.complete_upload(
            &task.upload_task_id,
            super::stored("a.png", 3, "image/png"),
            None,
        )
        .expect("upload");
    run(&mut t, "bot", &EditChatAvatar::new(group.as_str(), tmp));
    run(
        &mut t,
        "bot",
        &RemoveMessage::new(sent.message_id.as_str(), true),
    );
    run(
        &mut t,
        "bot",
        &RemoveChatParticipant::new(group.as_str(), bob.as_str()),
    );
    run(&mut t, "bot", &ClearHistory::new(group.as_str(), true));
    run(&mut t, "bot", &RemoveChat::new(group.as_str()));
}
