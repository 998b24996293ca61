//! From connection options to a connected [`Client`].

use crate::args::ConnArgs;
use crate::failure::Failure;
use clap::parser::ValueSource;
use clap::ArgMatches;
use trueconf_bot::{Client, ReconnectPolicy};

/// How to log in.
enum Login {
    Token(String),
    Password { user: String, password: String },
}

/// The connection options after merging the two places they can be given.
pub struct Settings {
    args: ConnArgs,
    login: Login,
    server: String,
}

/// Where an option's value came from: nowhere < default < environment <
/// command line.
type Source = Option<ValueSource>;

/// Merges the options given before the subcommand (`top`) with those given
/// after it (`sub`): for each option the more explicit source wins, and on a
/// tie the later one (after the subcommand).
pub fn settings(
    top: &ConnArgs,
    top_m: &ArgMatches,
    sub: &ConnArgs,
    sub_m: &ArgMatches,
) -> Result<Settings, Failure> {
    fn pick<T: Clone>(
        id: &str,
        top: &Option<T>,
        top_m: &ArgMatches,
        sub: &Option<T>,
        sub_m: &ArgMatches,
    ) -> (Option<T>, Source) {
        let (ts, ss) = (source(top_m, id), source(sub_m, id));
        if ss >= ts {
            (sub.clone(), ss)
        } else {
            (top.clone(), ts)
        }
    }
    let (server, _) = pick("server", &top.server, top_m, &sub.server, sub_m);
    let (user, user_src) = pick("user", &top.user, top_m, &sub.user, sub_m);
    let (password, pw_src) = pick("password", &top.password, top_m, &sub.password, sub_m);
    let (token, token_src) = pick("token", &top.token, top_m, &sub.token, sub_m);
    let (ca_cert, _) = pick("ca_cert", &top.ca_cert, top_m, &sub.ca_cert, sub_m);
    let (timeout, _) = pick("timeout", &top.timeout, top_m, &sub.timeout, sub_m);
    let args = ConnArgs {
        server,
        user,
        password,
        token,
        insecure: top.insecure || sub.insecure,
        ca_cert,
        timeout,
    };
    let server = args
        .server
        .clone()
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| Failure::usage("no server: give --server URL or set TRUECONF_SERVER"))?;
    let login = choose_login(&args, token_src, user_src.max(pw_src))?;
    Ok(Settings {
        args,
        login,
        server,
    })
}

fn source(m: &ArgMatches, id: &str) -> Source {
    // `try_` because a subcommand without connection options has no such id.
    m.try_contains_id(id)
        .ok()
        .filter(|&present| present)
        .and_then(|_| m.value_source(id))
}

/// A token or a login and password: the more explicit source wins (an
/// option beats the environment); both from the same source is ambiguous.
fn choose_login(args: &ConnArgs, token_src: Source, user_src: Source) -> Result<Login, Failure> {
    let token = args.token.clone().filter(|t| !t.is_empty());
    let use_token = match (&token, token_src > user_src) {
        (Some(_), true) => true,
        (Some(_), false) if token_src == user_src => {
            return Err(Failure::usage(
                "give either --token or --user and --password, not both",
            ))
        }
        _ => false,
    };
    if use_token {
        return Ok(Login::Token(token.unwrap_or_default()));
    }
    match (&args.user, &args.password) {
        (Some(user), Some(password)) => Ok(Login::Password {
            user: user.clone(),
            password: password.clone(),
        }),
        (Some(_), None) => Err(Failure::usage(
            "no password: give --password or set TRUECONF_PASSWORD",
        )),
        _ => Err(Failure::usage(
            "no credentials: give --user and --password (TRUECONF_USER, TRUECONF_PASSWORD) \
             or --token (TRUECONF_TOKEN)",
        )),
    }
}

impl Settings {
    /// Connects and logs in. One-shot commands do not reconnect: a lost
    /// connection fails the command instead of waiting.
    pub fn connect(&self, reconnect: bool) -> Result<Client, Failure> {
        let mut builder = Client::builder(self.server.clone());
        builder = match &self.login {
            Login::Token(token) => builder.token(token.clone()),
            Login::Password { user, password } => builder.credentials(user, password),
        };
        if self.args.insecure {
            builder = builder.danger_accept_invalid_certs(true);
        }
        if let Some(path) = &self.args.ca_cert {
            if let Err(e) = std::fs::metadata(path) {
                return Err(Failure::local(path, e));
            }
            builder = builder.ca_cert_file(path);
        }
        if let Some(timeout) = self.args.timeout {
            // Each step: connecting, logging in, and every request.
            builder = builder
                .connect_timeout(timeout)
                .auth_timeout(timeout)
                .request_timeout(timeout);
        }
        if !reconnect {
            builder = builder.reconnect(ReconnectPolicy::disabled());
        }
        let shown = builder.display_url();
        let client = builder.connect().map_err(|e| Failure::connect(&shown, e))?;
        crate::interrupt::protect(&client);
        Ok(client)
    }
}
