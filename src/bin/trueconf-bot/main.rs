//! `trueconf-bot`: the TrueConf Chatbot API from the command line.
//!
//! Results go to stdout as JSON (one object per line for lists and
//! streams), messages for people and progress bars to stderr. Exit status:
//! 0 success, 1 the server answered with an error (an error code, an HTTP
//! error, an answer that cannot be read, a refused transfer, a file not
//! uploaded in time), 2 usage error or an unusable local file, 3 connection
//! or authentication failure, or a connect, login or request timeout.
//! `trueconf-bot --help` lists the commands.

mod args;
mod commands;
mod conn;
mod failure;
mod files;
mod interrupt;
mod output;
mod progress;
mod serve;

use args::{Cli, Command};
use clap::{CommandFactory, FromArgMatches};
use failure::Failure;
use std::process::ExitCode;

fn main() -> ExitCode {
    let matches = match Cli::command().try_get_matches() {
        Ok(m) => m,
        // Help and version print to stdout and exit 0; usage errors exit 2.
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(e.exit_code().clamp(0, 255) as u8);
        }
    };
    let result = Cli::from_arg_matches(&matches)
        .map_err(|e| Failure::usage(e.kind()))
        .and_then(|cli| run(cli, &matches));
    interrupt::release();
    if let Some(status) = interrupt::exit_status() {
        // Interrupted: whatever failed, failed because of it.
        return ExitCode::from(status);
    }
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            if !failure.message.is_empty() {
                output::note(format_args!("error: {}", failure.message));
            }
            ExitCode::from(failure.code)
        }
    }
}

fn run(cli: Cli, matches: &clap::ArgMatches) -> Result<(), Failure> {
    let Cli { conn: top, command } = cli;
    let Some(sub) = command.conn() else {
        return match command {
            Command::Emulator(args) => serve::run(args),
            _ => Err(Failure::usage("this command needs a server")),
        };
    };
    interrupt::watch()?;
    let empty = clap::ArgMatches::default();
    let sub_m = matches.subcommand().map_or(&empty, |(_, m)| m);
    let settings = conn::settings(&top, matches, sub, sub_m)?;
    // Everything that can be checked locally is checked before connecting.
    match command {
        Command::Send(args) => {
            let request = commands::send_request(args)?;
            commands::send(&settings.connect(false)?, request)
        }
        Command::SendFile(args) => {
            let job = files::SendFile::prepare(args)?;
            job.run(&settings.connect(false)?)
        }
        Command::Download(args) => {
            let job = files::Download::prepare(args)?;
            job.run(&settings.connect(false)?)
        }
        Command::Chats(_) => commands::chats(&settings.connect(false)?),
        Command::Chat(args) => commands::chat(&settings.connect(false)?, args.chat_id),
        Command::History(args) => commands::history(&settings.connect(false)?, args),
        Command::Participants(args) => {
            commands::participants(&settings.connect(false)?, args.chat_id)
        }
        Command::P2p(args) => {
            let client = settings.connect(false)?;
            commands::created(client.create_p2p_chat(args.user_id)?.chat_id)
        }
        Command::Group(args) => {
            let client = settings.connect(false)?;
            commands::created(client.create_group_chat(args.title)?.chat_id)
        }
        Command::Channel(args) => {
            let client = settings.connect(false)?;
            commands::created(client.create_channel(args.title)?.chat_id)
        }
        // A stream: reconnect after a lost connection, like a bot would.
        Command::Listen(args) => commands::listen(&settings.connect(true)?, args),
        Command::Call(mut args) => {
            let payload = commands::call_payload(&mut args)?;
            commands::call(&settings.connect(false)?, &args.method, payload)
        }
        Command::Emulator(args) => serve::run(args),
    }
}
