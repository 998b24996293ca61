//! `emulator`: a TrueConf server emulator for trying bots offline.

use crate::args::{Account, EmulatorArgs};
use crate::failure::{Failure, CONNECTION, USAGE};
use crate::output::{emit, note};
use serde_json::json;
use trueconf_bot::emulator::Emulator;

/// Starts the emulator, prints `{"listening": URL}` as the first stdout
/// line, and serves until the process is interrupted (Ctrl-C ends it).
pub fn run(args: EmulatorArgs) -> Result<(), Failure> {
    let users = if args.users.is_empty() {
        ["bot", "alice"]
            .map(|login| Account {
                login: login.into(),
                password: login.into(),
            })
            .to_vec()
    } else {
        args.users
    };
    let mut builder = Emulator::builder().server_name(&args.server_name);
    for user in &users {
        builder = builder.user(&user.login, &user.password, &user.login);
    }
    let emulator = builder.bind(&args.bind).start().map_err(|e| Failure {
        code: match e.kind() {
            std::io::ErrorKind::InvalidInput => USAGE,
            _ => CONNECTION,
        },
        message: format!("cannot start the emulator on {}: {e}", args.bind),
    })?;
    emit(&json!({ "listening": emulator.url() }))?;
    let logins: Vec<&str> = users.iter().map(|u| u.login.as_str()).collect();
    note(format_args!(
        "emulator of a TrueConf server at {} (users: {}); \
         control API under {}/emulator/v1/; Ctrl-C stops it",
        emulator.url(),
        logins.join(", "),
        emulator.url()
    ));
    loop {
        std::thread::park();
    }
}
