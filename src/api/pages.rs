//! Iterators that page through chats, participants and history.

use crate::error::Result;
use crate::protocol::{Chat, ChatParticipant, Envelope};
use crate::Client;
use std::collections::VecDeque;

impl Client {
    /// Every chat of the bot, fetched `page_size` at a time (pages from 1).
    pub fn chats(&self, page_size: u32) -> ChatPages<'_> {
        ChatPages {
            client: self,
            page_size: page_size.max(1),
            page: 1,
            buffer: VecDeque::new(),
            done: false,
        }
    }

    /// Every participant of a chat, fetched `page_size` at a time.
    pub fn participants(&self, chat_id: impl Into<String>, page_size: u32) -> ParticipantPages<'_> {
        ParticipantPages {
            client: self,
            chat_id: chat_id.into(),
            page_size: page_size.max(1),
            page: 1,
            buffer: VecDeque::new(),
            done: false,
        }
    }

    /// A chat's messages from the newest back to the oldest, fetched
    /// `page_size` at a time by walking back with `fromMessageId`.
    pub fn history(&self, chat_id: impl Into<String>, page_size: u32) -> HistoryPages<'_> {
        HistoryPages {
            client: self,
            chat_id: chat_id.into(),
            page_size: page_size.max(1),
            oldest: None,
            buffer: VecDeque::new(),
            done: false,
        }
    }
}

/// Yields each chat; see [`Client::chats`].
#[derive(Debug)]
pub struct ChatPages<'a> {
    client: &'a Client,
    page_size: u32,
    page: u32,
    buffer: VecDeque<Chat>,
    done: bool,
}

impl Iterator for ChatPages<'_> {
    type Item = Result<Chat>;
    fn next(&mut self) -> Option<Result<Chat>> {
        if self.buffer.is_empty() && !self.done {
            match self.client.get_chats(self.page_size, self.page) {
                Ok(list) => {
                    self.done = (list.chats.len() as u32) < self.page_size;
                    self.page += 1;
                    self.buffer.extend(list.chats);
                }
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
            }
        }
        self.buffer.pop_front().map(Ok)
    }
}

/// Yields each participant; see [`Client::participants`].
#[derive(Debug)]
pub struct ParticipantPages<'a> {
    client: &'a Client,
    chat_id: String,
    page_size: u32,
    page: u32,
    buffer: VecDeque<ChatParticipant>,
    done: bool,
}

impl Iterator for ParticipantPages<'_> {
    type Item = Result<ChatParticipant>;
    fn next(&mut self) -> Option<Result<ChatParticipant>> {
        if self.buffer.is_empty() && !self.done {
            match self
                .client
                .get_chat_participants(self.chat_id.clone(), self.page_size, self.page)
            {
                Ok(list) => {
                    self.done = (list.participants.len() as u32) < self.page_size;
                    self.page += 1;
                    self.buffer.extend(list.participants);
                }
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
            }
        }
        self.buffer.pop_front().map(Ok)
    }
}

/// Yields messages newest first; see [`Client::history`].
#[derive(Debug)]
pub struct HistoryPages<'a> {
    client: &'a Client,
    chat_id: String,
    page_size: u32,
    oldest: Option<String>,
    buffer: VecDeque<Envelope>,
    done: bool,
}

impl Iterator for HistoryPages<'_> {
    type Item = Result<Envelope>;
    fn next(&mut self) -> Option<Result<Envelope>> {
        if self.buffer.is_empty() && !self.done {
            let mut request =
                crate::protocol::methods::GetChatHistory::new(self.chat_id.clone(), self.page_size);
            if let Some(from) = &self.oldest {
                request = request.from_message(from.clone());
            }
            match self.client.request(&request) {
                Ok(page) => {
                    // Whether `fromMessageId` itself is included varies:
                    // skip it so each message is yielded once.
                    let fresh: Vec<Envelope> = page
                        .messages
                        .into_iter()
                        .filter(|m| Some(&m.message_id) != self.oldest.as_ref())
                        .collect();
                    self.done = fresh.is_empty();
                    if let Some(last) = fresh.last() {
                        self.oldest = Some(last.message_id.clone());
                    }
                    self.buffer.extend(fresh);
                }
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
            }
        }
        self.buffer.pop_front().map(Ok)
    }
}
