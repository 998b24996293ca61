//! The HTTP control API under `/emulator/v1/`, for tests in any language:
//!
//! - `POST /emulator/v1/act` `{"as": login, "method": M, "payload": {...}}`
//!   runs a method as that user (login or user id); 200 with the method's
//!   response payload, or 200 `{"errorCode": N}`; 404 for an unknown user;
//!   504 for a request the real server never answers. It runs on no
//!   connection: `subscribeFileProgress` keeps no subscription.
//! - `GET /emulator/v1/frames` the recorded WebSocket frames as a JSON array
//!   of `{connection, user, direction: "in"|"out", text}`; `?format=lines`
//!   for JSON lines; `?connection=N` and `?user=login|id` filter.
//!   `DELETE /emulator/v1/frames` forgets them.
//! - `POST /emulator/v1/press_button` `{"as", "messageId", "command"}`
//!   presses a command button as that user (a `command` event to the bot);
//!   200 `{}`, or 200 `{"errorCode": N}`.
//! - `GET /emulator/v1/users` the configured users
//!   (`[{login, userId, displayName}]`, never passwords).
//! - `POST /emulator/v1/files/progress` `{"fileId", "progress"}` advances a
//!   file that is still uploading (progress events to the connections
//!   subscribed to it); `POST /emulator/v1/files/expire`
//!   `{"fileId"}` makes a file NOT_AVAILABLE.
//! - `PUT /emulator/v1/upload_limits` `{maxSize?, extensions?}` replaces the
//!   upload limits (`{}`: none) and pushes `getFileUploadLimits`.
//! - `POST /emulator/v1/faults/<name>` with an optional JSON body: see
//!   [`super::Faults`].

use super::http::{Body, Head, Response};
use super::{session, Faults, Inner};
use crate::transport::socket::lock;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

const MAX_BODY: usize = 16 << 20;

fn bad(description: impl Into<String>) -> Response {
    Response::json(
        400,
        &json!({"error": "invalid_request", "error_description": description.into()}),
    )
}

fn ok() -> Response {
    Response::json(200, &json!({"ok": true}))
}

/// Reads a JSON body; an empty body reads as `{}`.
fn json_body(body: &mut Body<'_>) -> Result<Value, Response> {
    let bytes = body
        .read_limited(MAX_BODY)
        .map_err(|e| bad(format!("unreadable body: {e}")))?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(json!({}));
    }
    serde_json::from_slice(&bytes).map_err(|e| bad(format!("the body is not JSON: {e}")))
}

/// Answers one control request.
pub(crate) fn handle(inner: &Arc<Inner>, head: &Head, body: &mut Body<'_>) -> Response {
    let rest = head.path.strip_prefix("/emulator/v1/").unwrap_or("");
    let rest = rest.trim_end_matches('/');
    match (head.method.as_str(), rest) {
        ("POST", "act") => act(inner, body).unwrap_or_else(|r| r),
        ("POST", "press_button") => press_button(inner, body).unwrap_or_else(|r| r),
        ("GET", "frames") => frames(inner, head),
        ("DELETE", "frames") => {
            inner.frames.clear();
            ok()
        }
        ("GET", "users") => users(inner),
        ("POST", "files/progress") => progress(inner, body).unwrap_or_else(|r| r),
        ("POST", "files/expire") => expire(inner, body).unwrap_or_else(|r| r),
        ("PUT", "upload_limits") => json_body(body).map_or_else(
            |r| r,
            |v| {
                let limits = (!v.is_null() && v != json!({})).then_some(v);
                super::set_upload_limits(inner, limits);
                ok()
            },
        ),
        ("POST", name) if name.starts_with("faults/") => {
            fault(inner, &name["faults/".len()..], body).unwrap_or_else(|r| r)
        }
        (
            _,
            "act" | "press_button" | "frames" | "users" | "files/progress" | "files/expire"
            | "upload_limits",
        ) => Response::json(405, &json!({"error": "method_not_allowed"})),
        _ => Response::json(404, &json!({"error": "not_found"})),
    }
}

fn act(inner: &Arc<Inner>, body: &mut Body<'_>) -> Result<Response, Response> {
    let v = json_body(body)?;
    let who = v
        .get("as")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("\"as\" (a login) is required"))?;
    let method = v
        .get("method")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("\"method\" is required"))?;
    if method == "auth" {
        return Err(bad("auth is per connection; act runs API methods"));
    }
    let Some(login) = inner.settings.login_of(who) else {
        return Ok(Response::json(
            404,
            &json!({"error": "unknown_user", "error_description": format!("no user {who:?}")}),
        ));
    };
    let payload = v.get("payload").cloned().unwrap_or(Value::Null);
    let user_id = inner.settings.user_id(login);
    Ok(match inner.act(&user_id, method, &payload) {
        Ok(Value::Null) => Response::json(200, &json!({})),
        Ok(v) => Response::json(200, &v),
        Err(super::NO_RESPONSE) => Response::json(
            504,
            &json!({"error": "no_response",
                    "error_description": "the server never answers this request"}),
        ),
        Err(code) => Response::json(200, &json!({ "errorCode": code })),
    })
}

/// `POST press_button {"as", "messageId", "command"}`: see
/// [`super::Actor::press_button`].
fn press_button(inner: &Arc<Inner>, body: &mut Body<'_>) -> Result<Response, Response> {
    let v = json_body(body)?;
    let field = |name: &str| {
        v.get(name)
            .and_then(Value::as_str)
            .ok_or_else(|| bad(format!("\"{name}\" is required")))
    };
    let (who, message_id, command) = (field("as")?, field("messageId")?, field("command")?);
    let Some(login) = inner.settings.login_of(who) else {
        return Ok(Response::json(
            404,
            &json!({"error": "unknown_user", "error_description": format!("no user {who:?}")}),
        ));
    };
    Ok(
        match super::Actor::new(inner.clone(), login).press_button(message_id, command) {
            Ok(()) => Response::json(200, &json!({})),
            Err(code) => Response::json(200, &json!({ "errorCode": code })),
        },
    )
}

fn frames(inner: &Inner, head: &Head) -> Response {
    let connection = head
        .query_param("connection")
        .and_then(|c| c.parse::<u64>().ok());
    let user = head.query_param("user").map(|u| {
        if u.contains('@') {
            u
        } else {
            inner.settings.user_id(&u)
        }
    });
    let records: Vec<Value> = inner
        .frames
        .snapshot()
        .into_iter()
        .filter(|r| connection.is_none_or(|c| r.connection == c))
        .filter(|r| user.is_none() || r.user == user)
        .map(|r| r.to_json())
        .collect();
    if head.query_param("format").as_deref() == Some("lines") {
        let mut text = String::new();
        for r in records {
            text.push_str(&r.to_string());
            text.push('\n');
        }
        Response {
            status: 200,
            headers: vec![("Content-Type", "application/x-ndjson".into())],
            body: text.into_bytes(),
            close: false,
        }
    } else {
        Response::json(200, &Value::Array(records))
    }
}

fn users(inner: &Inner) -> Response {
    let mut list: Vec<Value> = inner
        .settings
        .users
        .iter()
        .map(|(login, account)| {
            json!({"login": login, "userId": inner.settings.user_id(login),
                   "displayName": account.display_name})
        })
        .collect();
    list.sort_by(|a, b| a["login"].as_str().cmp(&b["login"].as_str()));
    Response::json(200, &Value::Array(list))
}

fn progress(inner: &Inner, body: &mut Body<'_>) -> Result<Response, Response> {
    let v = json_body(body)?;
    let file_id = v
        .get("fileId")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("\"fileId\" is required"))?;
    let progress = v
        .get("progress")
        .and_then(Value::as_u64)
        .ok_or_else(|| bad("\"progress\" (bytes) is required"))?;
    let mut world = lock(&inner.world);
    let mut out = Vec::new();
    world.advance_upload(file_id, progress, &mut out);
    session::deliver(inner, out);
    Ok(ok())
}

fn expire(inner: &Inner, body: &mut Body<'_>) -> Result<Response, Response> {
    let v = json_body(body)?;
    let file_id = v
        .get("fileId")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("\"fileId\" is required"))?;
    Ok(if lock(&inner.world).expire_file(file_id) {
        ok()
    } else {
        Response::json(404, &json!({"error": "not_found"}))
    })
}

fn fault(inner: &Arc<Inner>, name: &str, body: &mut Body<'_>) -> Result<Response, Response> {
    let v = json_body(body)?;
    let faults = Faults::new(inner.clone());
    let number = |keys: &[&str]| keys.iter().find_map(|k| v.get(*k).and_then(Value::as_u64));
    match name.replace('-', "_").as_str() {
        "drop_connections" => faults.drop_connections(),
        "refuse_next" => {
            let n = number(&["count", "n"]).ok_or_else(|| bad("\"count\" is required"))?;
            faults.refuse_next(n);
        }
        "drop_after_auth" => {
            let n = number(&["count", "n"]).ok_or_else(|| bad("\"count\" is required"))?;
            faults.drop_after_auth(n);
        }
        "delay_responses" => {
            let ms = number(&["millis", "ms"]).ok_or_else(|| bad("\"millis\" is required"))?;
            faults.delay_responses(Duration::from_millis(ms));
        }
        "pace_downloads" => {
            let ms = number(&["millis", "ms"]).ok_or_else(|| bad("\"millis\" is required"))?;
            faults.pace_downloads(Duration::from_millis(ms));
        }
        "stall" => {
            let on = v.get("enabled").and_then(Value::as_bool).unwrap_or(true);
            faults.stall(on);
        }
        "send_malformed" => faults.send_malformed(),
        "send_unknown_event" => {
            let method = v
                .get("method")
                .and_then(Value::as_str)
                .unwrap_or("unknownEvent");
            faults.send_unknown_event(method);
        }
        "expire_tokens" => faults.expire_tokens(),
        _ => {
            return Ok(Response::json(
                404,
                &json!({"error": "unknown_fault", "error_description": format!("no fault {name:?}")}),
            ))
        }
    }
    Ok(ok())
}
