//! `send-file` and `download` (waiting for the files API).

use crate::args::{DownloadArgs, SendFileArgs};
use crate::failure::Failure;
use trueconf_bot::Client;

/// `send-file`, checked before connecting.
#[derive(Debug)]
pub struct SendFile(SendFileArgs);

impl SendFile {
    /// Checks the arguments.
    pub fn prepare(args: SendFileArgs) -> Result<SendFile, Failure> {
        Ok(SendFile(args))
    }

    /// Sends the file.
    pub fn run(self, _client: &Client) -> Result<(), Failure> {
        Err(Failure::usage("send-file is not available yet"))
    }
}

/// `download`, checked before connecting.
#[derive(Debug)]
pub struct Download(DownloadArgs);

impl Download {
    /// Checks the arguments.
    pub fn prepare(args: DownloadArgs) -> Result<Download, Failure> {
        Ok(Download(args))
    }

    /// Downloads the file.
    pub fn run(self, _client: &Client) -> Result<(), Failure> {
        Err(Failure::usage("download is not available yet"))
    }
}
