//! Escaping user text for the `html` and `markdown` parse modes.

/// Escapes text for a message sent with [`ParseMode::Html`]
/// (`&`, `<`, `>`, `"` and `'`), so it shows literally.
///
/// [`ParseMode::Html`]: crate::protocol::ParseMode::Html
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

/// The characters with a meaning in the server's Markdown (spec 7.2.1).
const MARKDOWN_SPECIALS: &[char] = &['\\', '*', '_', '~', '[', ']', '(', ')', '`'];

/// Escapes text for a message sent with [`ParseMode::Markdown`]: a backslash
/// goes before each of `\ * _ ~ [ ] ( )` and `` ` ``, so it shows literally.
///
/// [`ParseMode::Markdown`]: crate::protocol::ParseMode::Markdown
pub fn escape_markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if MARKDOWN_SPECIALS.contains(&c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_specials_are_escaped() {
        assert_eq!(
            escape_html(r#"<b>"Tom" & 'Jerry'</b>"#),
            "&lt;b&gt;&quot;Tom&quot; &amp; &#39;Jerry&#39;&lt;/b&gt;"
        );
        assert_eq!(escape_html("привет 👋"), "привет 👋");
    }

    #[test]
    fn markdown_specials_are_escaped() {
        assert_eq!(
            escape_markdown(r"**bold** _it_ ~~s~~ [a](b) `c` \"),
            r"\*\*bold\*\* \_it\_ \~\~s\~\~ \[a\]\(b\) \`c\` \\"
        );
        assert_eq!(escape_markdown("plain #1"), "plain #1");
    }
}
