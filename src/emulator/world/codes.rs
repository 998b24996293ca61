//! The API error codes the world answers with (guide section 3.6 and the
//! codes real clients know), and the marker for "send no response at all".

/// Returned as `Err(NO_RESPONSE)` by [`World::handle`](super::World::handle)
/// when the real server would never answer the request (a `parseMode: null`
/// in the content): the session must send NO response frame.
pub(crate) const NO_RESPONSE: u32 = u32::MAX;

/// 104 ROUTE_NOT_FOUND: the method is unknown to the server.
pub(crate) const ROUTE_NOT_FOUND: u32 = 104;
/// 300 INTERNAL_ERROR: a response that could not be written (never
/// expected).
pub(crate) const INTERNAL_ERROR: u32 = 300;
/// 302 ACCESS_DENIED: used by the emulator for a user id that names no user.
pub(crate) const ACCESS_DENIED: u32 = 302;
/// 303 NOT_ENOUGH_RIGHTS: the role tables of guide section 4 forbid it.
pub(crate) const NOT_ENOUGH_RIGHTS: u32 = 303;
/// 304 CHAT_NOT_FOUND.
pub(crate) const CHAT_NOT_FOUND: u32 = 304;
/// 305 USER_IS_NOT_CHAT_PARTICIPANT (the actor or the target user).
pub(crate) const NOT_A_PARTICIPANT: u32 = 305;
/// 306 MESSAGE_NOT_FOUND.
pub(crate) const MESSAGE_NOT_FOUND: u32 = 306;
/// 307 UNKNOWN_MESSAGE: the message exists but is of the wrong kind for the
/// method (editMessage on a file, editSurvey on a text, forwarding a system
/// envelope).
pub(crate) const UNKNOWN_MESSAGE: u32 = 307;
/// 308 FILE_NOT_FOUND.
pub(crate) const FILE_NOT_FOUND: u32 = 308;
/// 309 USER_ALREADY_IN_CHAT.
pub(crate) const ALREADY_IN_CHAT: u32 = 309;
/// 310 FILE_UPLOAD_FAILED.
pub(crate) const FILE_UPLOAD_FAILED: u32 = 310;
/// 312 ROLE_NOT_FOUND: a role name that is unknown or not assignable in that
/// kind of chat.
pub(crate) const ROLE_NOT_FOUND: u32 = 312;
/// 399 WRONG_PAYLOAD_FORMAT: a payload that does not decode (missing required
/// field, wrong type) or breaks a documented limit (text over 4096
/// characters, title over 256).
pub(crate) const WRONG_PAYLOAD: u32 = 399;
/// 403 FILE_UPLOAD_FORBIDDEN: the extension is blocked by the upload limits.
pub(crate) const UPLOAD_FORBIDDEN: u32 = 403;
/// 406 MAX_FILE_SIZE_EXCEEDED: larger than the upload limits' `maxSize`.
pub(crate) const MAX_SIZE_EXCEEDED: u32 = 406;
/// 407 UPLOAD_TASK_NOT_FOUND.
pub(crate) const UPLOAD_TASK_NOT_FOUND: u32 = 407;
/// 408 INVALID_FILE: the uploaded body differs from the task (size).
pub(crate) const INVALID_FILE: u32 = 408;
