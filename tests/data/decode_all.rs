// Every decoding step the client runs on text from the network, for one
// frame. Shared (with `include!`) by the property test
// (tests/reliability_decode_props.rs) and the fuzz target (fuzz/): it must
// never panic, whatever the input.

/// The server requests the client types, plus names it does not know.
const EVENT_METHODS: &[&str] = &[
    "sendMessage",
    "editMessage",
    "removeMessage",
    "createP2PChat",
    "createGroupChat",
    "createChannel",
    "createFavoritesChat",
    "removeChat",
    "addChatParticipant",
    "removeChatParticipant",
    "changeParticipantRole",
    "clearHistory",
    "editChatTitle",
    "editChatAvatar",
    "getFileUploadLimits",
    "uploadFileProgress",
    "uploadingProgress",
    "command",
    "ping",
    "",
];

/// Decodes `raw` as the response payload of every method.
fn decode_responses(raw: &str) {
    use trueconf_bot::protocol::methods::*;
    use trueconf_bot::protocol::Method;
    macro_rules! each {
        ($($m:ty),* $(,)?) => {
            $(
                if let Ok(mut decoded) = serde_json::from_str::<<$m as Method>::Response>(raw) {
                    let _ = format!("{decoded:?}");
                    let _ = &mut decoded;
                }
            )*
        };
    }
    each!(
        Auth,
        SendMessage,
        EditMessage,
        ForwardMessage,
        GetMessageById,
        GetChatHistory,
        RemoveMessage,
        SendChatActivity,
        SendSurvey,
        EditSurvey,
        GetUserDisplayName,
        UploadFile,
        SendFile,
        GetFileInfo,
        SubscribeFileProgress,
        UnsubscribeFileProgress,
        GetFileUploadLimits,
        AddChatParticipant,
        RemoveChatParticipant,
        GetChatParticipants,
        HasChatParticipant,
        GetChatParticipant,
        ChangeParticipantRole,
        CreateP2PChat,
        CreateGroupChat,
        CreateChannel,
        CreateFavoritesChat,
        GetChatById,
        GetChats,
        RemoveChat,
        ClearHistory,
        EditChatTitle,
        EditChatAvatar,
    );
    if let Ok(mut history) = serde_json::from_str::<ChatHistory>(raw) {
        trueconf_bot::protocol::sort_envelopes(&mut history.messages);
    }
}

/// Decodes one event and everything the application may do with it.
fn decode_one_event(method: &str, payload: Option<&serde_json::value::RawValue>) {
    let event = trueconf_bot::protocol::decode_event(method, payload);
    let _ = event.kind();
    let _ = event.to_json().to_string();
    let _ = format!("{event:?}");
    if let Some((wire_method, wire_payload)) = event.to_wire() {
        // What the emulator writes back must decode too.
        if let Ok(raw) = serde_json::value::to_raw_value(&wire_payload) {
            let _ = trueconf_bot::protocol::decode_event(&wire_method, Some(&raw));
        }
    }
}

/// Runs `text` through frame parsing, event and response decoding, and
/// (when it is JSON) through every event and response type as a payload.
pub fn decode_all(text: &str) {
    use trueconf_bot::protocol::frame::{error_code, Frame};
    match Frame::parse(text) {
        Ok(Frame::Request {
            id,
            method,
            payload,
        }) => {
            decode_one_event(&method, payload.as_deref());
            let _ = trueconf_bot::protocol::frame::ack_text(id);
        }
        Ok(Frame::Response { payload, .. }) => {
            let _ = error_code(payload.as_deref().map(serde_json::value::RawValue::get));
            decode_responses(payload.as_deref().map(|p| p.get()).unwrap_or("{}"));
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
    // The reader routes with a quick scan of the envelope (payload checked
    // later): whenever the full parse accepts a frame, it must read the same
    // envelope and payload.
    let quick = Frame::parse_shared(&tungstenite::Utf8Bytes::from(text));
    match (Frame::parse(text), &quick) {
        (
            Ok(Frame::Request {
                id,
                method,
                payload,
            }),
            Ok(Frame::Request {
                id: qid,
                method: qmethod,
                payload: qpayload,
            }),
        ) => {
            assert_eq!((id, method.as_str()), (*qid, qmethod.as_str()), "{text}");
            assert_eq!(
                payload.as_ref().map(|p| p.get()),
                qpayload.as_ref().map(|p| p.get()),
                "{text}"
            );
        }
        (
            Ok(Frame::Response { id, payload }),
            Ok(Frame::Response {
                id: qid,
                payload: qpayload,
            }),
        ) => {
            assert_eq!(id, *qid, "{text}");
            assert_eq!(
                payload.as_ref().map(|p| p.get()),
                qpayload.as_ref().map(|p| p.get()),
                "{text}"
            );
        }
        (Ok(full), quick) => {
            panic!("the full parse read {full:?}, the quick one {quick:?}: {text}")
        }
        (Err(_), _) => {}
    }
    if let Ok(
        Frame::Response {
            payload: Some(p), ..
        }
        | Frame::Request {
            payload: Some(p), ..
        },
    ) = &quick
    {
        // A payload the scan let through is checked when decoded.
        let _ = error_code(Some(p.get()));
        decode_responses(p.get());
    }
    if let Ok(raw) = serde_json::from_str::<Box<serde_json::value::RawValue>>(text) {
        let _ = error_code(Some(raw.get()));
        for method in EVENT_METHODS {
            decode_one_event(method, Some(&raw));
        }
        decode_responses(raw.get());
    }
}
