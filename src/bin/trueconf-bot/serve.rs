//! `emulator`: a TrueConf server emulator for trying bots offline.

use crate::args::{Account, EmulatorArgs};
use crate::failure::{Failure, CONNECTION, USAGE};
use crate::output::{emit, note};
use serde::Serialize;
use std::path::Path;
use trueconf_bot::emulator::{Emulator, EmulatorBuilder};

/// Starts the emulator, prints `{"listening": URL, "websocket": WS_URL}`
/// (plus `"caCert": FILE` with `--ca-out`) as the first stdout line, and
/// serves until SIGINT (Ctrl-C) or SIGTERM, then stops the emulator, which
/// removes the files uploaded to it. With `--ca-out` the CA file is complete
/// before that line appears.
pub fn run(args: EmulatorArgs) -> Result<(), Failure> {
    crate::interrupt::watch_for_this_thread()?;
    let mut users = args.accounts().map_err(Failure::usage)?;
    if users.is_empty() {
        users = ["bot", "alice"]
            .map(|login| Account {
                login: login.into(),
                password: login.into(),
            })
            .to_vec();
    }
    let mut builder = Emulator::builder().server_name(&args.server_name);
    for user in &users {
        builder = builder.user(&user.login, &user.password, &user.login);
    }
    builder = with_tls(builder, &args)?;
    let emulator = builder.bind(&args.bind).start().map_err(|e| Failure {
        code: match e.kind() {
            std::io::ErrorKind::InvalidInput => USAGE,
            _ => CONNECTION,
        },
        message: format!("cannot start the emulator on {}: {e}", args.bind),
    })?;
    let mut first = Listening {
        listening: emulator.url(),
        websocket: emulator.ws_url(),
        ca_cert: None,
    };
    if let Some(path) = &args.ca_out {
        let pem = emulator.ca_pem().ok_or_else(|| {
            Failure::usage("--ca-out needs --tls (a generated certificate) to write")
        })?;
        write_whole(path, pem.as_bytes()).map_err(|e| Failure::local(path, e))?;
        first.ca_cert = Some(path.to_string_lossy().into_owned());
    }
    emit(&first)?;
    let logins: Vec<&str> = users.iter().map(|u| u.login.as_str()).collect();
    note(format_args!(
        "emulator of a TrueConf server at {} (users: {}); \
         control API under {}/emulator/v1/; Ctrl-C stops it",
        emulator.url(),
        logins.join(", "),
        emulator.url()
    ));
    if let Some(path) = &args.ca_out {
        note(format_args!(
            "its CA certificate is in {0}: clients trust it with --ca-cert {0}",
            path.display()
        ));
    } else if args.tls {
        note("the certificate is generated: clients need --insecure (or --ca-out to save its CA)");
    }
    crate::interrupt::until_signal();
    drop(emulator);
    Ok(())
}

/// The first stdout line: where the emulator serves, in that order.
#[derive(Serialize)]
struct Listening<'a> {
    /// The base URL (`http://` or `https://`).
    listening: &'a str,
    /// The Chatbot WebSocket URL (`ws://` or `wss://`).
    websocket: String,
    /// The file `--ca-out` wrote.
    #[serde(rename = "caCert", skip_serializing_if = "Option::is_none")]
    ca_cert: Option<String>,
}

/// Adds the TLS choice of the command line: a generated certificate
/// (`--tls`) or the PEM files of `--tls-cert` and `--tls-key`, read now so
/// an unreadable file is a usage error naming it.
fn with_tls(builder: EmulatorBuilder, args: &EmulatorArgs) -> Result<EmulatorBuilder, Failure> {
    match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => {
            let cert_pem = std::fs::read(cert).map_err(|e| Failure::local(cert, e))?;
            let key_pem = std::fs::read(key).map_err(|e| Failure::local(key, e))?;
            Ok(builder.tls_pem(cert_pem, key_pem))
        }
        (None, None) if args.tls => Ok(builder.tls_generated()),
        (None, None) => Ok(builder),
        // clap requires both; kept as an error rather than a panic.
        _ => Err(Failure::usage("--tls-cert and --tls-key go together")),
    }
}

/// Writes `bytes` to `path` through a temporary file in the same directory
/// renamed over it, so a reader never sees a partial file.
fn write_whole(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let name = path
        .file_name()
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a file name"))?;
    let mut temp_name = name.to_os_string();
    temp_name.push(format!(".{}.tmp", std::process::id()));
    let temp = path.with_file_name(temp_name);
    let written = std::fs::write(&temp, bytes).and_then(|()| std::fs::rename(&temp, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    written
}
