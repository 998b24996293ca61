//! The `trueconf-bot` command-line tool.

fn main() {
    eprintln!("trueconf-bot: the command-line tool is not built yet");
    std::process::exit(2);
}
