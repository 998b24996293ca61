//! Iterators that page through chats, participants and history.

use crate::error::Result;
use crate::protocol::{Chat, ChatParticipant, Envelope};
use crate::Client;
use std::collections::{HashSet, VecDeque};

impl Client {
    /// Every chat of the bot, fetched `page_size` at a time (pages from 1;
    /// a `page_size` of 0 is taken as 1).
    pub fn chats(&self, page_size: u32) -> ChatPages<'_> {
        Pages::new(
            page_size,
            move |size, page| self.get_chats(size, page).map(|list| list.chats),
            |chat: &Chat| chat.chat_id.clone(),
        )
    }

    /// Every participant of a chat, fetched `page_size` at a time (pages
    /// from 1; a `page_size` of 0 is taken as 1).
    pub fn participants(&self, chat_id: impl Into<String>, page_size: u32) -> ParticipantPages<'_> {
        let chat_id = chat_id.into();
        Pages::new(
            page_size,
            move |size, page| {
                self.get_chat_participants(chat_id.clone(), size, page)
                    .map(|list| list.participants)
            },
            |p: &ChatParticipant| p.user_id.clone(),
        )
    }

    /// A chat's messages from the newest back to the oldest, fetched
    /// `page_size` at a time by walking back with `fromMessageId` (a
    /// `page_size` of 0 is taken as 1).
    pub fn history(&self, chat_id: impl Into<String>, page_size: u32) -> HistoryPages<'_> {
        HistoryPages {
            client: self,
            chat_id: chat_id.into(),
            page_size: page_size.max(1),
            oldest: None,
            last_page: HashSet::new(),
            buffer: VecDeque::new(),
            done: false,
        }
    }
}

/// Yields each chat; see [`Client::chats`].
pub type ChatPages<'a> = Pages<'a, Chat>;

/// Yields each participant; see [`Client::participants`].
pub type ParticipantPages<'a> = Pages<'a, ChatParticipant>;

type FetchPage<'a, T> = Box<dyn FnMut(u32, u32) -> Result<Vec<T>> + 'a>;

/// Walks numbered pages (from 1) until a short page. A server that ignores
/// the page number (repeating the first page) ends the walk instead of
/// looping forever.
pub struct Pages<'a, T> {
    fetch: FetchPage<'a, T>,
    key: fn(&T) -> String,
    page_size: u32,
    page: u32,
    first_key: Option<String>,
    buffer: VecDeque<T>,
    done: bool,
}

impl<'a, T> Pages<'a, T> {
    fn new(
        page_size: u32,
        fetch: impl FnMut(u32, u32) -> Result<Vec<T>> + 'a,
        key: fn(&T) -> String,
    ) -> Self {
        Pages {
            fetch: Box::new(fetch),
            key,
            page_size: page_size.max(1),
            page: 1,
            first_key: None,
            buffer: VecDeque::new(),
            done: false,
        }
    }
}

impl<T> std::fmt::Debug for Pages<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pages")
            .field("page_size", &self.page_size)
            .field("page", &self.page)
            .field("buffered", &self.buffer.len())
            .field("done", &self.done)
            .finish()
    }
}

impl<T> Iterator for Pages<'_, T> {
    type Item = Result<T>;
    fn next(&mut self) -> Option<Result<T>> {
        if self.buffer.is_empty() && !self.done {
            match (self.fetch)(self.page_size, self.page) {
                Ok(items) => {
                    let first = items.first().map(self.key);
                    if self.page > 1 && first.is_some() && first == self.first_key {
                        log::warn!(
                            "the server ignores paging (page {} repeats page 1)",
                            self.page
                        );
                        self.done = true;
                        return None;
                    }
                    if self.page == 1 {
                        self.first_key = first;
                    }
                    self.done = (items.len() as u32) < self.page_size;
                    self.page += 1;
                    self.buffer.extend(items);
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
    /// The ids of the messages the last page yielded.
    last_page: HashSet<String>,
    buffer: VecDeque<Envelope>,
    done: bool,
}

impl Iterator for HistoryPages<'_> {
    type Item = Result<Envelope>;
    fn next(&mut self) -> Option<Result<Envelope>> {
        if self.buffer.is_empty() && !self.done {
            use crate::protocol::methods::GetChatHistory;
            let request = match &self.oldest {
                None => GetChatHistory::new(self.chat_id.clone(), self.page_size),
                // The guide's server starts the page with `fromMessageId`
                // itself: ask for one more, so that every page brings
                // `page_size` new messages (and a page size of 1 moves on).
                Some(from) => {
                    GetChatHistory::new(self.chat_id.clone(), self.page_size.saturating_add(1))
                        .from_message(from.clone())
                }
            };
            match self.client.request(&request) {
                Ok(page) => {
                    // Servers that leave `fromMessageId` out exist too: skip
                    // it where it is included, so each message is yielded
                    // once either way.
                    let fresh: Vec<Envelope> = page
                        .messages
                        .into_iter()
                        .filter(|m| Some(&m.message_id) != self.oldest.as_ref())
                        .collect();
                    // A page older than the last one shares nothing with
                    // it; a server that ignores `fromMessageId` repeats the
                    // newest page, and the walk would never end.
                    if fresh.iter().any(|m| self.last_page.contains(&m.message_id)) {
                        log::warn!(
                            "the server ignores fromMessageId (a page repeats messages); \
                             history of {} stops here",
                            self.chat_id
                        );
                        self.done = true;
                        return None;
                    }
                    self.last_page = fresh.iter().map(|m| m.message_id.clone()).collect();
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
