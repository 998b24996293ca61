//! The command line: global connection options and one subcommand.
//!
//! The connection options are accepted both before the subcommand
//! (`trueconf-bot --server URL send ...`) and after it (`trueconf-bot send
//! --server URL ...`); [`crate::conn`] merges the two. They are not clap
//! "global" arguments because the `emulator` subcommand has its own `--user
//! LOGIN:PASSWORD`.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::time::Duration;
use trueconf_bot::protocol::ParseMode;
use trueconf_bot::ClientBuilder;

const AFTER_HELP: &str = "\
Results go to stdout as JSON (one object per line for lists and streams);
messages for people and progress bars go to stderr.

Exit status: 0 success, 1 the server answered with an error (an
error code, an HTTP error, an answer that cannot be read, a refused
transfer, a file not uploaded in time), 2 usage error or an unusable
local file, 3 connection or authentication failure, or a connect,
login or request timeout; 130 or 143 after SIGINT or SIGTERM (a
transfer under way stops and leaves nothing behind).";

const EMULATOR_AFTER_HELP: &str = "\
The first stdout line is {\"listening\": URL, \"websocket\": WS_URL} (with
\"caCert\": FILE after --ca-out); the rest goes to stderr.

Over TLS, with a client that trusts the generated CA:
  trueconf-bot emulator --tls --ca-out ca.pem
  trueconf-bot --server https://localhost:4309 --ca-cert ca.pem \\
      --user bot --password bot chats";

/// `trueconf-bot`: the TrueConf Chatbot API from the command line.
#[derive(Debug, Parser)]
#[command(
    name = "trueconf-bot",
    version,
    about = "Send messages and files, read chats and events of a TrueConf Server as a chatbot",
    after_help = AFTER_HELP,
    subcommand_required = true,
    arg_required_else_help = true
)]
pub struct Cli {
    /// Connection options given before the subcommand.
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
    #[command(flatten)]
    pub conn: ConnArgs,
}

/// How to reach and log in to the server; each option also comes from the
/// environment.
#[derive(Clone, Args)]
#[command(next_help_heading = "Connection")]
pub struct ConnArgs {
    /// Server base URL: https://video.example.com (port 443) or
    /// http://10.0.0.5:4309 (the bridge port)
    #[arg(long, env = "TRUECONF_SERVER", value_name = "URL")]
    pub server: Option<String>,
    /// The bot's login (with --password)
    #[arg(long, env = "TRUECONF_USER", value_name = "LOGIN")]
    pub user: Option<String>,
    /// The bot's password (prefer the environment variable: arguments are
    /// visible to other users of the machine)
    #[arg(
        long,
        env = "TRUECONF_PASSWORD",
        hide_env_values = true,
        value_name = "PW"
    )]
    pub password: Option<String>,
    /// An access token, instead of --user and --password
    #[arg(long, env = "TRUECONF_TOKEN", hide_env_values = true, value_name = "T")]
    pub token: Option<String>,
    /// Accept any TLS certificate (self-signed servers); gives up protection
    /// against impostors
    #[arg(long, env = "TRUECONF_INSECURE", value_parser = clap::builder::BoolishValueParser::new())]
    pub insecure: bool,
    /// Also trust the CA certificates in this PEM file
    #[arg(long, env = "TRUECONF_CA_CERT", value_name = "PEM")]
    pub ca_cert: Option<PathBuf>,
    /// How long connecting, logging in and each request may take, in
    /// seconds (default 10 each)
    #[arg(long, env = "TRUECONF_TIMEOUT", value_name = "SECS", value_parser = parse_secs)]
    pub timeout: Option<Duration>,
}

impl std::fmt::Debug for ConnArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let hidden = |v: &Option<String>| v.as_ref().map(|_| "***");
        f.debug_struct("ConnArgs")
            .field(
                "server",
                &self
                    .server
                    .as_deref()
                    .map(|url| ClientBuilder::new(url).display_url()),
            )
            .field("user", &self.user)
            .field("password", &hidden(&self.password))
            .field("token", &hidden(&self.token))
            .field("insecure", &self.insecure)
            .field("ca_cert", &self.ca_cert)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Send a text message; prints {"chatId","messageId","timestamp"}
    Send(SendArgs),
    /// Send a file; prints the sent message with its "fileId"
    SendFile(SendFileArgs),
    /// Download a file; prints {"path","size"}
    Download(DownloadArgs),
    /// List the bot's chats, one JSON object per line
    Chats(ConnOnly),
    /// Show one chat
    Chat(ChatArgs),
    /// Print a chat's messages, newest first, one per line
    History(HistoryArgs),
    /// List a chat's participants, one per line
    Participants(ChatArgs),
    /// Create (or find) the personal chat with a user; prints {"chatId"}
    P2p(P2pArgs),
    /// Create a group chat; prints {"chatId"}
    Group(TitleArgs),
    /// Create a channel; prints {"chatId"}
    Channel(TitleArgs),
    /// Print events as they arrive, one JSON object per line
    Listen(ListenArgs),
    /// Send any API method and print the response payload
    Call(CallArgs),
    /// Run a TrueConf server emulator until interrupted
    #[command(after_help = EMULATOR_AFTER_HELP)]
    Emulator(EmulatorArgs),
}

impl Command {
    /// The connection options given after the subcommand, if it connects.
    pub fn conn(&self) -> Option<&ConnArgs> {
        Some(match self {
            Command::Send(a) => &a.conn,
            Command::SendFile(a) => &a.conn,
            Command::Download(a) => &a.conn,
            Command::Chats(a) => &a.conn,
            Command::Chat(a) | Command::Participants(a) => &a.conn,
            Command::History(a) => &a.conn,
            Command::P2p(a) => &a.conn,
            Command::Group(a) | Command::Channel(a) => &a.conn,
            Command::Listen(a) => &a.conn,
            Command::Call(a) => &a.conn,
            Command::Emulator(_) => return None,
        })
    }
}

/// A subcommand with nothing but connection options.
#[derive(Debug, Args)]
pub struct ConnOnly {
    #[command(flatten)]
    pub conn: ConnArgs,
}

/// `send`.
#[derive(Debug, Args)]
pub struct SendArgs {
    /// The chat
    pub chat_id: String,
    /// The text; `-` reads it from stdin (one trailing newline is dropped)
    pub text: String,
    /// How the server renders the text
    #[arg(long, value_enum, default_value_t = ParseModeArg::Text)]
    pub parse_mode: ParseModeArg,
    /// Send as a reply to this message
    #[arg(long, value_name = "MSG_ID")]
    pub reply_to: Option<String>,
    #[command(flatten)]
    pub conn: ConnArgs,
}

/// `--parse-mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ParseModeArg {
    /// Shown as is
    Text,
    /// Basic Markdown
    Markdown,
    /// A subset of HTML
    Html,
}

impl From<ParseModeArg> for ParseMode {
    fn from(mode: ParseModeArg) -> ParseMode {
        match mode {
            ParseModeArg::Text => ParseMode::Text,
            ParseModeArg::Markdown => ParseMode::Markdown,
            ParseModeArg::Html => ParseMode::Html,
        }
    }
}

/// `send-file`.
#[derive(Debug, Args)]
pub struct SendFileArgs {
    /// The chat
    pub chat_id: String,
    /// The file to send
    pub path: PathBuf,
    /// A caption under the file
    #[arg(long, value_name = "TEXT")]
    pub caption: Option<String>,
    /// A preview image shown in place of the file
    #[arg(long, value_name = "PATH")]
    pub preview: Option<PathBuf>,
    #[command(flatten)]
    pub conn: ConnArgs,
}

/// `download`.
#[derive(Debug, Args)]
pub struct DownloadArgs {
    /// The file
    pub file_id: String,
    /// Where to save it: a file, an existing directory (default: the
    /// server's file name, sanitised, in the current directory), or - for
    /// stdout; a path ending in / must be an existing directory
    #[arg(short = 'o', long = "output", value_name = "PATH")]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub conn: ConnArgs,
}

/// `chat` and `participants`.
#[derive(Debug, Args)]
pub struct ChatArgs {
    /// The chat
    pub chat_id: String,
    #[command(flatten)]
    pub conn: ConnArgs,
}

/// `history`.
#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// The chat
    pub chat_id: String,
    /// At most this many messages
    #[arg(long, default_value_t = 50, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..))]
    pub count: u32,
    /// Start at this message (first, where the server includes it) instead
    /// of at the newest
    #[arg(long, value_name = "MSG_ID")]
    pub from: Option<String>,
    #[command(flatten)]
    pub conn: ConnArgs,
}

/// `p2p`.
#[derive(Debug, Args)]
pub struct P2pArgs {
    /// The user's TrueConf ID, e.g. alice@video.example.com
    pub user_id: String,
    #[command(flatten)]
    pub conn: ConnArgs,
}

/// `group` and `channel`.
#[derive(Debug, Args)]
pub struct TitleArgs {
    /// The title (at most 256 characters)
    pub title: String,
    #[command(flatten)]
    pub conn: ConnArgs,
}

/// `listen`.
#[derive(Debug, Args)]
pub struct ListenArgs {
    /// Stop after this many events (disconnected and reconnected, printed
    /// too, do not count)
    #[arg(long, value_name = "N")]
    pub count: Option<u64>,
    /// Stop when no event arrives for this many seconds (exit 3 if the
    /// connection is down then)
    #[arg(long, value_name = "SECS", value_parser = parse_secs)]
    pub idle_timeout: Option<Duration>,
    #[command(flatten)]
    pub conn: ConnArgs,
}

/// `call`.
#[derive(Debug, Args)]
pub struct CallArgs {
    /// The method, e.g. getChatByID
    pub method: String,
    /// The payload as JSON (default {}); `-` reads it from stdin
    pub payload: Option<String>,
    #[command(flatten)]
    pub conn: ConnArgs,
}

/// `emulator`.
#[derive(Debug, Args)]
pub struct EmulatorArgs {
    /// The address to listen on (port 0: any free port)
    #[arg(long, default_value = "127.0.0.1:4309", value_name = "ADDR:PORT")]
    pub bind: String,
    /// A user account, repeatable (default: bot:bot and alice:alice)
    #[arg(long = "user", value_name = "LOGIN:PASSWORD", value_parser = parse_account)]
    pub users: Vec<Result<Account, &'static str>>,
    /// The server name in user ids (login@NAME)
    #[arg(long, default_value = "emulator.local", value_name = "NAME")]
    pub server_name: String,
    /// Serve https:// and wss:// with a CA and a certificate for localhost,
    /// 127.0.0.1 and ::1 generated at start; clients trust it with --ca-cert
    /// (write it with --ca-out) or skip the check with --insecure
    #[arg(long, help_heading = "TLS", conflicts_with = "tls_cert")]
    pub tls: bool,
    /// Serve https:// and wss:// with this certificate chain (PEM, with
    /// --tls-key); the printed URL names localhost
    #[arg(long, help_heading = "TLS", value_name = "PEM", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The private key of --tls-cert (PEM)
    #[arg(long, help_heading = "TLS", value_name = "PEM", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// With --tls: write the generated CA certificate (PEM) to this file
    /// before the first line is printed, for clients' --ca-cert
    #[arg(long, help_heading = "TLS", value_name = "FILE", requires = "tls")]
    pub ca_out: Option<PathBuf>,
}

/// A `--user LOGIN:PASSWORD` of the emulator.
#[derive(Clone, PartialEq, Eq)]
pub struct Account {
    /// The login.
    pub login: String,
    /// The password.
    pub password: String,
}

impl std::fmt::Debug for Account {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Account")
            .field("login", &self.login)
            .field("password", &"***")
            .finish()
    }
}

/// A malformed value is kept as what is wrong with it: clap would quote
/// the value (the password) in its error; [`EmulatorArgs::accounts`]
/// reports it without.
fn parse_account(s: &str) -> Result<Result<Account, &'static str>, String> {
    Ok(match s.split_once(':') {
        None => Err("no ':' between the login and the password"),
        Some(("", _)) => Err("an empty login"),
        Some((login, _)) if login.contains('@') => {
            Err("a login with '@' (the emulator adds @NAME itself)")
        }
        Some((_, "")) => Err("an empty password"),
        Some((login, password)) => Ok(Account {
            login: login.to_owned(),
            password: password.to_owned(),
        }),
    })
}

impl EmulatorArgs {
    /// The `--user` accounts (none given: empty), or the usage error for
    /// a malformed or repeated one, which does not repeat its password.
    pub fn accounts(&self) -> Result<Vec<Account>, String> {
        let mut accounts: Vec<Account> = Vec::new();
        for (n, user) in self.users.iter().enumerate() {
            let at = |why: &str| format!("--user number {}: {why}; expected LOGIN:PASSWORD", n + 1);
            let account = user.clone().map_err(at)?;
            if accounts.iter().any(|a| a.login == account.login) {
                return Err(at(&format!("{} is given twice", account.login)));
            }
            accounts.push(account);
        }
        Ok(accounts)
    }
}

/// Seconds, fractions allowed: `10`, `0.5`.
fn parse_secs(s: &str) -> Result<Duration, String> {
    let secs: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("`{s}` is not a number of seconds"))?;
    if secs <= 0.0 {
        return Err("must be more than 0 seconds".into());
    }
    match Duration::try_from_secs_f64(secs) {
        // Less than a nanosecond rounds to nothing.
        Ok(d) if d.is_zero() => Err("must be at least 1 nanosecond".into()),
        other => other.map_err(|e| e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_password_token_and_url_secrets() {
        let cli = Cli::try_parse_from([
            "trueconf-bot",
            "--server",
            "https://bot:url-secret@h/?token=query-secret",
            "--password",
            "pw-secret",
            "--token",
            "tok-secret",
            "chats",
        ])
        .unwrap();
        let text = format!("{cli:?}");
        for secret in ["pw-secret", "tok-secret", "url-secret", "query-secret"] {
            assert!(!text.contains(secret), "{text}");
        }
    }
    use clap::CommandFactory;

    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn seconds_and_accounts_parse() {
        assert_eq!(parse_secs("0.5"), Ok(Duration::from_millis(500)));
        assert!(parse_secs("0").is_err() && parse_secs("x").is_err());
        assert_eq!(
            parse_secs("1e-12"),
            Err("must be at least 1 nanosecond".into())
        );
        let a = parse_account("bot:pa:ss").unwrap().unwrap();
        assert_eq!((a.login.as_str(), a.password.as_str()), ("bot", "pa:ss"));
        for bad in ["bot", ":pw", "bot@x:pw", "bot:"] {
            assert!(matches!(parse_account(bad), Ok(Err(_))), "{bad}");
        }
    }

    #[test]
    fn a_malformed_account_is_reported_without_its_password() {
        let cli = Cli::try_parse_from([
            "trueconf-bot",
            "emulator",
            "--user",
            "ok:pw",
            "--user",
            "bot@x:Hunter2pw",
        ])
        .unwrap();
        let Command::Emulator(args) = cli.command else {
            panic!("{cli:?}")
        };
        let e = args.accounts().unwrap_err();
        assert!(
            e.starts_with("--user number 2: a login with '@'")
                && e.ends_with("expected LOGIN:PASSWORD"),
            "{e}"
        );
        assert!(!e.contains("Hunter2pw") && !format!("{args:?}").contains("Hunter2pw"));
    }

    #[test]
    fn each_malformed_or_repeated_account_says_what_is_wrong() {
        let accounts = |users: &[&str]| {
            let mut argv = vec!["trueconf-bot", "emulator"];
            for user in users {
                argv.extend(["--user", user]);
            }
            let cli = Cli::try_parse_from(argv).unwrap();
            let Command::Emulator(args) = cli.command else {
                panic!("{cli:?}")
            };
            args.accounts()
        };
        let said = |users: &[&str]| accounts(users).unwrap_err();
        assert!(said(&["nocolon"]).contains("no ':'"));
        assert!(said(&[":pw"]).contains("an empty login"));
        assert!(said(&["a:"]).contains("an empty password"));
        let twice = said(&["a:first", "b:pw", "a:second"]);
        assert!(
            twice.starts_with("--user number 3: a is given twice"),
            "{twice}"
        );
        assert!(
            !twice.contains("first") && !twice.contains("second"),
            "{twice}"
        );
        assert_eq!(accounts(&["a:p:w"]).unwrap()[0].password, "p:w");
    }
}
