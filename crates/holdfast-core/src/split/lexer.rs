//! A small dialect-aware tokenizer.
//!
//! The splitter does not need a real SQL lexer: it needs to know where strings, quoted
//! identifiers, comments and dollar-quoted bodies start and end (so that a `;` inside them is not
//! taken for a delimiter), where words are (to spot keywords such as `BEGIN`, `END` and `CASE`)
//! and where the current delimiter stands. Everything else is handed out one character at a
//! time as [`TokenKind::Other`].
//!
//! The lexer works on bytes. Every byte it reacts to is ASCII and every byte of a multi-byte
//! UTF-8 character (`>= 0x80`) counts as an identifier byte, so token boundaries always fall on
//! character boundaries and slicing the input at them never panics. Only ASCII whitespace is
//! whitespace, as in the servers' own lexers.

use super::{Dialect, SplitError};

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenKind {
    /// A run of ASCII whitespace.
    Whitespace,
    /// A `--` (or MySQL `#`) comment, up to but not including the end of the line.
    LineComment,
    /// A `/* … */` comment.
    BlockComment,
    /// A MySQL `/*! … */` or MariaDB `/*M! … */` executable comment: it is SQL, so it belongs
    /// to the statement it stands in.
    ExecComment,
    /// An identifier, keyword or number.
    Word,
    /// A string literal: `'…'`, PostgreSQL `E'…'` and `U&'…'`, MySQL `"…"`.
    String,
    /// A quoted identifier: `"…"`, `` `…` ``, `[…]`, PostgreSQL `U&"…"`.
    QuotedIdent,
    /// A PostgreSQL dollar-quoted string, `$$…$$` or `$tag$…$tag$`.
    DollarString,
    /// The current statement delimiter (`;` unless a MySQL `DELIMITER` command changed it).
    Delimiter,
    /// Any other single character (punctuation, operators).
    Other,
}

impl TokenKind {
    /// Whitespace and ordinary comments: text that is not part of a statement when it stands
    /// before the statement's first token.
    pub(crate) fn is_trivia(self) -> bool {
        matches!(
            self,
            TokenKind::Whitespace | TokenKind::LineComment | TokenKind::BlockComment
        )
    }
}

/// One token: its kind, its byte range in the input and the 1-based line it starts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Token {
    pub kind: TokenKind,
    pub start: usize,
    pub end: usize,
    pub line: usize,
}

/// ASCII whitespace as SQL servers see it (space, tab, LF, CR, VT, FF).
pub(crate) fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

/// Longest delimiter a MySQL `DELIMITER` command may set (the `mysql` client's own limit).
pub(crate) const MAX_DELIMITER_LEN: usize = 16;

/// Tokenizer over one input.
pub(crate) struct Lexer<'a> {
    src: &'a str,
    bytes: &'a [u8],
    pos: usize,
    line: usize,
    dialect: Dialect,
    delimiter: String,
}

impl<'a> Lexer<'a> {
    pub(crate) fn new(src: &'a str, dialect: Dialect) -> Self {
        Lexer {
            src,
            bytes: src.as_bytes(),
            pos: 0,
            line: 1,
            dialect,
            delimiter: ";".to_owned(),
        }
    }

    /// The text of `token`.
    pub(crate) fn text(&self, token: &Token) -> &'a str {
        &self.src[token.start..token.end]
    }

    /// The current delimiter.
    pub(crate) fn delimiter(&self) -> &str {
        &self.delimiter
    }

    /// Changes the delimiter. An empty delimiter is ignored (it would match everywhere).
    pub(crate) fn set_delimiter(&mut self, delimiter: &str) {
        if !delimiter.is_empty() {
            self.delimiter = delimiter.to_owned();
        }
    }

    /// The byte at the current position, if any.
    pub(crate) fn peek_byte(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    /// The text from the current position up to the next ASCII whitespace, at most `max_chars`
    /// characters, without consuming it.
    pub(crate) fn peek_until_space(&self, max_chars: usize) -> &'a str {
        let rest = &self.src[self.pos..];
        let end = rest
            .char_indices()
            .take(max_chars)
            .take_while(|&(_, c)| !(c.is_ascii() && is_space(c as u8)))
            .last()
            .map_or(0, |(i, c)| i + c.len_utf8());
        &rest[..end]
    }

    /// Consumes the rest of the current line, including its line feed, and returns it without
    /// the line feed.
    pub(crate) fn take_line(&mut self) -> &'a str {
        let start = self.pos;
        let end = line_end(self.bytes, start);
        let next = if end < self.bytes.len() {
            self.line += 1;
            end + 1
        } else {
            end
        };
        self.pos = next;
        &self.src[start..end]
    }

    /// The next token, `Ok(None)` at the end of the input.
    pub(crate) fn next_token(&mut self) -> Result<Option<Token>, SplitError> {
        let start = self.pos;
        if start >= self.bytes.len() {
            return Ok(None);
        }
        let line = self.line;
        let (kind, end) = self.scan(start, line)?;
        debug_assert!(end > start && end <= self.bytes.len());
        self.line += self.bytes[start..end]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        self.pos = end;
        Ok(Some(Token {
            kind,
            start,
            end,
            line,
        }))
    }

    fn scan(&self, start: usize, line: usize) -> Result<(TokenKind, usize), SplitError> {
        use Dialect::{MySql, Postgres, Sqlite};
        let b = self.bytes;
        if b[start..].starts_with(self.delimiter.as_bytes()) {
            return Ok((TokenKind::Delimiter, start + self.delimiter.len()));
        }
        let c = b[start];
        let next = b.get(start + 1).copied();
        if is_space(c) {
            let end = b[start..]
                .iter()
                .position(|&x| !is_space(x))
                .map_or(b.len(), |i| start + i);
            return Ok((TokenKind::Whitespace, end));
        }
        let dialect = self.dialect;
        match (dialect, c) {
            (_, b'\'') => self.quoted(
                start + 1,
                b'\'',
                dialect == MySql,
                TokenKind::String,
                "string",
                line,
            ),
            (MySql, b'"') => self.quoted(start + 1, b'"', true, TokenKind::String, "string", line),
            (_, b'"') => self.quoted(
                start + 1,
                b'"',
                false,
                TokenKind::QuotedIdent,
                "quoted identifier",
                line,
            ),
            (MySql | Sqlite, b'`') => self.quoted(
                start + 1,
                b'`',
                false,
                TokenKind::QuotedIdent,
                "quoted identifier",
                line,
            ),
            (Sqlite, b'[') => match b[start + 1..].iter().position(|&x| x == b']') {
                Some(i) => Ok((TokenKind::QuotedIdent, start + 1 + i + 1)),
                None => Err(unterminated(line, "quoted identifier")),
            },
            (_, b'-') if next == Some(b'-') && self.dash_comment_at(start) => {
                Ok((TokenKind::LineComment, line_end(b, start)))
            }
            (MySql, b'#') => Ok((TokenKind::LineComment, line_end(b, start))),
            (_, b'/') if next == Some(b'*') => self.block_comment(start, line),
            (Postgres, b'$') => self.dollar(start, line),
            _ if is_ident_start(dialect, c) => self.word(start, line),
            _ => Ok((TokenKind::Other, start + 1)),
        }
    }

    /// Whether the `--` at `start` opens a comment. MySQL wants whitespace, a control character
    /// or the end of the input after it (`1--1` is `1 - -1`).
    fn dash_comment_at(&self, start: usize) -> bool {
        self.dialect != Dialect::MySql
            || self
                .bytes
                .get(start + 2)
                .is_none_or(|&x| is_space(x) || x.is_ascii_control())
    }

    /// Scans a quoted string or identifier whose body starts at `from` and returns the end of
    /// its closing quote. A doubled quote stands for itself; with `backslash`, a backslash
    /// escapes the next byte.
    fn quoted(
        &self,
        from: usize,
        quote: u8,
        backslash: bool,
        kind: TokenKind,
        what: &'static str,
        line: usize,
    ) -> Result<(TokenKind, usize), SplitError> {
        let b = self.bytes;
        let mut i = from;
        while i < b.len() {
            let c = b[i];
            if backslash && c == b'\\' {
                i += 2;
            } else if c == quote {
                if b.get(i + 1) == Some(&quote) {
                    i += 2;
                } else {
                    return Ok((kind, i + 1));
                }
            } else {
                i += 1;
            }
        }
        Err(unterminated(line, what))
    }

    /// Scans a `/* … */` comment starting at `start` (nested in PostgreSQL).
    fn block_comment(&self, start: usize, line: usize) -> Result<(TokenKind, usize), SplitError> {
        let b = self.bytes;
        let body = start + 2;
        match self.dialect {
            Dialect::Postgres => {
                let mut depth = 1usize;
                let mut i = body;
                while i + 1 < b.len() {
                    match (b[i], b[i + 1]) {
                        (b'/', b'*') => {
                            depth += 1;
                            i += 2;
                        }
                        (b'*', b'/') => {
                            depth -= 1;
                            i += 2;
                            if depth == 0 {
                                return Ok((TokenKind::BlockComment, i));
                            }
                        }
                        _ => i += 1,
                    }
                }
                Err(unterminated(line, "block comment"))
            }
            Dialect::MySql | Dialect::Sqlite => {
                let kind = if self.dialect == Dialect::MySql
                    && (b[body..].starts_with(b"!") || b[body..].starts_with(b"M!"))
                {
                    TokenKind::ExecComment
                } else {
                    TokenKind::BlockComment
                };
                match self.src[body..].find("*/") {
                    Some(i) => Ok((kind, body + i + 2)),
                    None => Err(unterminated(line, "block comment")),
                }
            }
        }
    }

    /// Scans what starts with `$` in PostgreSQL: a dollar-quoted string, or else a lone `$`
    /// (a parameter such as `$1` or an operator character).
    fn dollar(&self, start: usize, line: usize) -> Result<(TokenKind, usize), SplitError> {
        let b = self.bytes;
        let tag_start = start + 1;
        if b.get(tag_start).is_some_and(u8::is_ascii_digit) {
            return Ok((TokenKind::Other, tag_start));
        }
        let tag_end = b[tag_start..]
            .iter()
            .position(|&x| !is_tag_byte(x))
            .map_or(b.len(), |i| tag_start + i);
        if b.get(tag_end) != Some(&b'$') {
            return Ok((TokenKind::Other, tag_start));
        }
        let opener = &self.src[start..tag_end + 1];
        let body = tag_end + 1;
        match self.src[body..].find(opener) {
            Some(i) => Ok((TokenKind::DollarString, body + i + opener.len())),
            None => Err(unterminated(line, "dollar-quoted string")),
        }
    }

    /// Scans a word, and PostgreSQL's `E'…'`, `U&'…'` and `U&"…"` whose prefix is a word.
    fn word(&self, start: usize, line: usize) -> Result<(TokenKind, usize), SplitError> {
        let b = self.bytes;
        let delimiter = self.delimiter.as_bytes();
        let mut end = start + 1;
        while end < b.len() && is_ident_byte(b[end]) {
            // The `mysql` client looks for its delimiter everywhere outside quotes and
            // comments, so `END$$` ends at `$$` once `DELIMITER $$` is in force.
            if self.dialect == Dialect::MySql && b[end..].starts_with(delimiter) {
                break;
            }
            end += 1;
        }
        if self.dialect == Dialect::Postgres {
            let word = &b[start..end];
            let rest = &b[end..];
            if word.eq_ignore_ascii_case(b"e") && rest.starts_with(b"'") {
                return self.quoted(end + 1, b'\'', true, TokenKind::String, "string", line);
            }
            if word.eq_ignore_ascii_case(b"u") && rest.starts_with(b"&'") {
                return self.quoted(end + 2, b'\'', false, TokenKind::String, "string", line);
            }
            if word.eq_ignore_ascii_case(b"u") && rest.starts_with(b"&\"") {
                return self.quoted(
                    end + 2,
                    b'"',
                    false,
                    TokenKind::QuotedIdent,
                    "quoted identifier",
                    line,
                );
            }
        }
        Ok((TokenKind::Word, end))
    }
}

fn unterminated(line: usize, what: &'static str) -> SplitError {
    SplitError::Unterminated { line, what }
}

/// The position of the next line feed at or after `from`, or the end of the input.
fn line_end(b: &[u8], from: usize) -> usize {
    b[from..]
        .iter()
        .position(|&x| x == b'\n')
        .map_or(b.len(), |i| from + i)
}

/// A byte that can start a word. Digits start words too (numbers are words here). `$` starts
/// a word in MySQL and SQLite (where `$name` is a parameter); in PostgreSQL a leading `$` is
/// scanned as a dollar quote or parameter instead.
fn is_ident_start(dialect: Dialect, b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || b == b'_'
        || b >= 0x80
        || (b == b'$' && dialect != Dialect::Postgres)
}

/// A byte that can continue a word.
fn is_ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b >= 0x80
}

/// A byte of a dollar-quote tag: like an identifier, but without `$`.
fn is_tag_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(src: &str, dialect: Dialect) -> Vec<(TokenKind, &str)> {
        let mut lexer = Lexer::new(src, dialect);
        let mut out = Vec::new();
        while let Some(t) = lexer.next_token().expect("lexes") {
            out.push((t.kind, lexer.text(&t)));
        }
        out
    }

    fn significant(src: &str, dialect: Dialect) -> Vec<(TokenKind, &str)> {
        tokens(src, dialect)
            .into_iter()
            .filter(|(k, _)| *k != TokenKind::Whitespace)
            .collect()
    }

    fn error(src: &str, dialect: Dialect) -> SplitError {
        let mut lexer = Lexer::new(src, dialect);
        loop {
            match lexer.next_token() {
                Ok(Some(_)) => {}
                Ok(None) => panic!("expected an error lexing {src:?}"),
                Err(e) => return e,
            }
        }
    }

    use TokenKind::*;

    #[test]
    fn tokens_cover_the_input() {
        let src = "SELECT 'a;b', \"c\" -- x\n/* y */ FROM t;";
        let all = tokens(src, Dialect::Postgres);
        let joined: std::string::String = all.iter().map(|(_, t)| *t).collect();
        assert_eq!(joined, src);
    }

    #[test]
    fn postgres_strings() {
        assert_eq!(
            significant(
                "'it''s;' E'it\\'s; x' e'\\\\' U&'d\\0061t;a'",
                Dialect::Postgres
            ),
            vec![
                (String, "'it''s;'"),
                (String, "E'it\\'s; x'"),
                (String, "e'\\\\'"),
                (String, "U&'d\\0061t;a'"),
            ]
        );
        // Standard strings: a backslash is an ordinary character.
        assert_eq!(
            significant("'a\\' x", Dialect::Postgres),
            vec![(String, "'a\\'"), (Word, "x")]
        );
        // `E` as the end of a longer word is not a prefix.
        assert_eq!(
            significant("somE'x'", Dialect::Postgres),
            vec![(Word, "somE"), (String, "'x'")]
        );
    }

    #[test]
    fn postgres_quoted_identifiers() {
        assert_eq!(
            significant("\"a;\"\"b\" U&\"d;\"", Dialect::Postgres),
            vec![(QuotedIdent, "\"a;\"\"b\""), (QuotedIdent, "U&\"d;\"")]
        );
    }

    #[test]
    fn postgres_nested_block_comments() {
        assert_eq!(
            significant("/* a /* b; ' */ still */ x /**/ /*/ */", Dialect::Postgres),
            vec![
                (BlockComment, "/* a /* b; ' */ still */"),
                (Word, "x"),
                (BlockComment, "/**/"),
                (BlockComment, "/*/ */"),
            ]
        );
    }

    #[test]
    fn postgres_dollar_quotes() {
        assert_eq!(
            significant(
                "$$a;b$$ $fn$ x $$;$$ $fn$ $1 $_$;$_$ $ a$$b $x",
                Dialect::Postgres
            ),
            vec![
                (DollarString, "$$a;b$$"),
                (DollarString, "$fn$ x $$;$$ $fn$"),
                (Other, "$"),
                (Word, "1"),
                (DollarString, "$_$;$_$"),
                (Other, "$"),
                (Word, "a$$b"),
                (Other, "$"),
                (Word, "x"),
            ]
        );
        assert_eq!(
            significant("$a$ $b$ ; $b$ $a$", Dialect::Postgres),
            vec![(DollarString, "$a$ $b$ ; $b$ $a$")]
        );
        assert_eq!(
            significant("$é$x$é$", Dialect::Postgres),
            vec![(DollarString, "$é$x$é$")]
        );
    }

    #[test]
    fn postgres_comments_and_operators() {
        assert_eq!(
            significant("1--c;\n-2 - -3", Dialect::Postgres),
            vec![
                (Word, "1"),
                (LineComment, "--c;"),
                (Other, "-"),
                (Word, "2"),
                (Other, "-"),
                (Other, "-"),
                (Word, "3"),
            ]
        );
    }

    #[test]
    fn mysql_strings_and_identifiers() {
        assert_eq!(
            significant("'it\\'s;' \"a\\\";\" 'x''y' `a``;b`", Dialect::MySql),
            vec![
                (String, "'it\\'s;'"),
                (String, "\"a\\\";\""),
                (String, "'x''y'"),
                (QuotedIdent, "`a``;b`"),
            ]
        );
    }

    #[test]
    fn mysql_comments() {
        assert_eq!(
            significant(
                "1--1 -- c\n# h;\n/* b; */ /*!40101 SET x=1; */ /*M!100 y */ --",
                Dialect::MySql
            ),
            vec![
                (Word, "1"),
                (Other, "-"),
                (Other, "-"),
                (Word, "1"),
                (LineComment, "-- c"),
                (LineComment, "# h;"),
                (BlockComment, "/* b; */"),
                (ExecComment, "/*!40101 SET x=1; */"),
                (ExecComment, "/*M!100 y */"),
                (LineComment, "--"),
            ]
        );
        // MySQL block comments do not nest.
        assert_eq!(
            significant("/* a /* b */ c", Dialect::MySql),
            vec![(BlockComment, "/* a /* b */"), (Word, "c")]
        );
    }

    #[test]
    fn mysql_custom_delimiter_inside_words() {
        let mut lexer = Lexer::new("END$$ a$$b //", Dialect::MySql);
        lexer.set_delimiter("$$");
        let mut out = Vec::new();
        while let Some(t) = lexer.next_token().unwrap() {
            out.push((t.kind, lexer.text(&t)));
        }
        assert_eq!(
            out,
            vec![
                (Word, "END"),
                (Delimiter, "$$"),
                (Whitespace, " "),
                (Word, "a"),
                (Delimiter, "$$"),
                (Word, "b"),
                (Whitespace, " "),
                (Other, "/"),
                (Other, "/"),
            ]
        );
    }

    #[test]
    fn sqlite_quotes() {
        assert_eq!(
            significant("[a;b] `c;` \"d\"\"e\" 'f''g' $p", Dialect::Sqlite),
            vec![
                (QuotedIdent, "[a;b]"),
                (QuotedIdent, "`c;`"),
                (QuotedIdent, "\"d\"\"e\""),
                (String, "'f''g'"),
                (Word, "$p"),
            ]
        );
        // SQLite strings have no backslash escapes.
        assert_eq!(
            significant("'a\\' b", Dialect::Sqlite),
            vec![(String, "'a\\'"), (Word, "b")]
        );
    }

    #[test]
    fn lines_are_counted() {
        let src = "a\r\n'b\nc'\n\n/* d\n */ e";
        let mut lexer = Lexer::new(src, Dialect::Postgres);
        let mut lines = Vec::new();
        while let Some(t) = lexer.next_token().unwrap() {
            if !t.kind.is_trivia() {
                lines.push((lexer.text(&t), t.line));
            }
        }
        assert_eq!(lines, vec![("a", 1), ("'b\nc'", 2), ("e", 6)]);
    }

    #[test]
    fn unterminated_constructs_report_their_opening_line() {
        let cases: &[(&str, Dialect, usize, &str)] = &[
            ("\n'abc", Dialect::Postgres, 2, "string"),
            ("\n\nE'abc\\'", Dialect::Postgres, 3, "string"),
            ("\"abc", Dialect::Postgres, 1, "quoted identifier"),
            ("x\n/* a /* b */", Dialect::Postgres, 2, "block comment"),
            (
                "\n$fn$ body $$",
                Dialect::Postgres,
                2,
                "dollar-quoted string",
            ),
            ("'it\\'", Dialect::MySql, 1, "string"),
            ("\n`a", Dialect::MySql, 2, "quoted identifier"),
            ("/*! x", Dialect::MySql, 1, "block comment"),
            ("\n[a", Dialect::Sqlite, 2, "quoted identifier"),
            ("/* a", Dialect::Sqlite, 1, "block comment"),
        ];
        for &(src, dialect, line, what) in cases {
            assert_eq!(
                error(src, dialect),
                SplitError::Unterminated { line, what },
                "{src:?}"
            );
        }
    }

    #[test]
    fn multibyte_text_is_never_split() {
        for dialect in [Dialect::Postgres, Dialect::MySql, Dialect::Sqlite] {
            let src = "é€ 'ü' ∑$x$ 😀-- ß\n";
            let joined: std::string::String =
                tokens(src, dialect).iter().map(|(_, t)| *t).collect();
            assert_eq!(joined, src);
        }
    }

    #[test]
    fn helpers_read_lines_and_commands() {
        let mut lexer = Lexer::new("i file.sql\nnext", Dialect::Postgres);
        assert_eq!(lexer.peek_until_space(32), "i");
        assert_eq!(lexer.take_line(), "i file.sql");
        assert_eq!(lexer.peek_byte(), Some(b'n'));
        let t = lexer.next_token().unwrap().unwrap();
        assert_eq!((lexer.text(&t), t.line), ("next", 2));
        let lexer = Lexer::new("ééé", Dialect::Postgres);
        assert_eq!(lexer.peek_until_space(2), "éé");
    }
}
