//! The typed methods of [`Client`](crate::Client), one file per family.
//!
//! Every method is declared once with [`api!`]: the macro generates the
//! blocking method and its `_pending` twin (send now, wait later) from the
//! same request constructor, so there is one request path for all of them.
//! For options beyond the positional arguments, build the request type from
//! [`crate::protocol::methods`] and pass it to
//! [`Client::request`](crate::Client::request) or
//! [`Client::request_pending`](crate::Client::request_pending).

mod chats;
mod files;
mod messages;
mod pages;
mod participants;
mod surveys;
mod users;

pub use pages::{ChatPages, HistoryPages, Pages, ParticipantPages};

/// Declares typed client methods: each line yields `name(args) ->
/// Result<Response>` and `name_pending(args) -> Result<Pending<Response>>`.
/// The response type is written out for the docs' sake; the compiler
/// checks that it is the request's `Method::Response`.
macro_rules! api {
    ($(
        $(#[$doc:meta])*
        $name:ident / $pending:ident ( $($arg:ident : $ty:ty),* ) -> $request:ty => $response:ty = $build:expr;
    )*) => {
        impl $crate::Client {
            $(
                $(#[$doc])*
                ///
                #[doc = concat!("Sends [`", stringify!($request), "`](crate::protocol::methods::", stringify!($request), ") and waits for the response.")]
                pub fn $name(&self, $($arg: $ty),*) -> $crate::Result<$response> {
                    self.request(&$build)
                }

                #[doc = concat!("[`Client::", stringify!($name), "`](crate::Client::", stringify!($name), "), pipelined: sends now, returns a [`Pending`](crate::Pending) to wait on later.")]
                pub fn $pending(&self, $($arg: $ty),*) -> $crate::Result<$crate::Pending<$response>> {
                    self.request_pending(&$build)
                }
            )*
        }
    };
}
pub(crate) use api;
