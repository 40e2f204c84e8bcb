//! Groups tokens into statements.
//!
//! A statement starts at its first token that is not whitespace or a comment and ends at the
//! next delimiter that stands outside any compound block. Compound blocks are recognised with
//! keyword heuristics, per dialect:
//!
//! * PostgreSQL: `BEGIN ATOMIC … END` (SQL-standard function bodies), with `CASE … END` counted
//!   inside them.
//! * MySQL / MariaDB: in `CREATE [OR REPLACE] [DEFINER = …] TRIGGER | PROCEDURE | FUNCTION |
//!   EVENT` statements, `BEGIN … END`, `CASE … END [CASE]`, and `IF`, `LOOP`, `WHILE`, `REPEAT`
//!   where they start a statement of the body, each closed by `END [IF | LOOP | …]`; also
//!   MariaDB's anonymous `BEGIN NOT ATOMIC … END`. Only while the delimiter is `;`: after a
//!   `DELIMITER` command the delimiter alone ends statements, as in the `mysql` client.
//! * SQLite: in `CREATE [TEMP | TEMPORARY] TRIGGER` statements, `BEGIN … END` with `CASE … END`.
//!
//! The client commands the splitter understands or refuses are handled here too: MySQL's
//! `DELIMITER`, psql's backslash meta-commands and PostgreSQL's `COPY … FROM stdin`.

use super::lexer::{is_space, Lexer, Token, TokenKind, MAX_DELIMITER_LEN};
use super::{Dialect, SplitError, Statement};

/// The keywords the splitter cares about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kw {
    Aggregate,
    Algorithm,
    Atomic,
    Begin,
    Case,
    Copy,
    Create,
    Definer,
    Do,
    Else,
    End,
    Event,
    From,
    Function,
    If,
    Loop,
    Not,
    Or,
    Procedure,
    Repeat,
    Replace,
    Row,
    Sql,
    Stdin,
    Temp,
    Temporary,
    Then,
    Trigger,
    View,
    While,
}

const KEYWORDS: &[(&str, Kw)] = &[
    ("aggregate", Kw::Aggregate),
    ("algorithm", Kw::Algorithm),
    ("atomic", Kw::Atomic),
    ("begin", Kw::Begin),
    ("case", Kw::Case),
    ("copy", Kw::Copy),
    ("create", Kw::Create),
    ("definer", Kw::Definer),
    ("do", Kw::Do),
    ("else", Kw::Else),
    ("end", Kw::End),
    ("event", Kw::Event),
    ("from", Kw::From),
    ("function", Kw::Function),
    ("if", Kw::If),
    ("loop", Kw::Loop),
    ("not", Kw::Not),
    ("or", Kw::Or),
    ("procedure", Kw::Procedure),
    ("repeat", Kw::Repeat),
    ("replace", Kw::Replace),
    ("row", Kw::Row),
    ("sql", Kw::Sql),
    ("stdin", Kw::Stdin),
    ("temp", Kw::Temp),
    ("temporary", Kw::Temporary),
    ("then", Kw::Then),
    ("trigger", Kw::Trigger),
    ("view", Kw::View),
    ("while", Kw::While),
];

/// The keyword `word` is, matched case-insensitively.
fn keyword(word: &str) -> Option<Kw> {
    if word.len() > "temporary".len() {
        return None;
    }
    KEYWORDS
        .iter()
        .find(|(name, _)| word.eq_ignore_ascii_case(name))
        .map(|&(_, kw)| kw)
}

/// The previous significant token of the current statement, as far as block tracking cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Prev {
    Nothing,
    Kw(Kw),
    Word,
    Semicolon,
    Colon,
    Other,
}

/// How far the statement's head has been recognised (MySQL and SQLite): block tracking applies
/// only to statements that create a trigger or stored program.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Head {
    Start,
    AfterCreate,
    DefinerEquals,
    DefinerValue(u8),
    /// MariaDB `BEGIN` as the first word: maybe `BEGIN NOT ATOMIC`.
    Begin,
    BeginNot,
    Routine,
    Plain,
}

/// The statement being built.
struct Current {
    dialect: Dialect,
    start: usize,
    line: usize,
    /// End of the last significant token so far.
    last_end: usize,
    /// Whether `;` inside blocks is kept (false after a MySQL `DELIMITER` change).
    track_blocks: bool,
    head: Head,
    prev: Prev,
    prev_line: usize,
    depth: usize,
    block_line: usize,
    is_copy: bool,
}

const COPY_FROM_STDIN: &str = "COPY … FROM stdin (inline data)";
const BLOCK: &str = "BEGIN … END block";

impl Current {
    fn new(dialect: Dialect, first: &Token, track_blocks: bool) -> Self {
        Current {
            dialect,
            start: first.start,
            line: first.line,
            last_end: first.end,
            track_blocks,
            head: Head::Start,
            prev: Prev::Nothing,
            prev_line: first.line,
            depth: 0,
            block_line: first.line,
            is_copy: false,
        }
    }

    /// Whether a `;` now would stand inside a block rather than end the statement.
    fn in_block(&self) -> bool {
        self.track_blocks && self.depth > 0
    }

    /// Takes in one significant token of the statement.
    fn feed(&mut self, token: &Token, text: &str) -> Result<(), SplitError> {
        let kw = if token.kind == TokenKind::Word {
            keyword(text)
        } else {
            None
        };
        if self.dialect == Dialect::Postgres {
            if self.prev == Prev::Nothing && kw == Some(Kw::Copy) {
                self.is_copy = true;
            }
            if self.is_copy && kw == Some(Kw::Stdin) && self.prev == Prev::Kw(Kw::From) {
                return Err(SplitError::Unsupported {
                    line: self.line,
                    what: COPY_FROM_STDIN.to_owned(),
                });
            }
        }
        self.advance_head(token.kind, kw, text);
        if self.track_blocks {
            if let Some(kw) = kw {
                self.track(kw, token.line);
            }
        }
        self.prev = match (token.kind, kw) {
            (TokenKind::Word, Some(kw)) => Prev::Kw(kw),
            (TokenKind::Word, None) => Prev::Word,
            (TokenKind::Delimiter, _) => Prev::Semicolon,
            (TokenKind::Other, _) if text == ":" => Prev::Colon,
            _ => Prev::Other,
        };
        self.prev_line = token.line;
        self.last_end = token.end;
        Ok(())
    }

    /// Recognises `CREATE … TRIGGER | PROCEDURE | FUNCTION | EVENT` (MySQL), `CREATE [TEMP]
    /// TRIGGER` (SQLite) and `BEGIN NOT ATOMIC` (MariaDB).
    fn advance_head(&mut self, kind: TokenKind, kw: Option<Kw>, text: &str) {
        use Dialect::{MySql, Postgres, Sqlite};
        let routine = |kw| {
            matches!(
                kw,
                Some(Kw::Trigger | Kw::Procedure | Kw::Function | Kw::Event)
            )
        };
        self.head = match (self.head, self.dialect) {
            (Head::Start, Postgres) => Head::Plain,
            (Head::Start, MySql | Sqlite) => match kw {
                Some(Kw::Create) => Head::AfterCreate,
                Some(Kw::Begin) if self.dialect == MySql => Head::Begin,
                _ => Head::Plain,
            },
            (Head::AfterCreate, MySql) => match kw {
                Some(Kw::Or | Kw::Replace | Kw::Aggregate) => Head::AfterCreate,
                Some(Kw::Definer) => Head::DefinerEquals,
                _ if routine(kw) => Head::Routine,
                _ => Head::Plain,
            },
            (Head::AfterCreate, Sqlite) => match kw {
                Some(Kw::Temp | Kw::Temporary) => Head::AfterCreate,
                Some(Kw::Trigger) => Head::Routine,
                _ => Head::Plain,
            },
            (Head::DefinerEquals, _) if kind == TokenKind::Other && text == "=" => {
                Head::DefinerValue(0)
            }
            (Head::DefinerEquals, _) => Head::Plain,
            (Head::DefinerValue(_), _) if routine(kw) => Head::Routine,
            (Head::DefinerValue(n), _) => match kw {
                Some(Kw::Sql | Kw::View | Kw::Algorithm) => Head::Plain,
                _ if n >= 8 => Head::Plain,
                _ => Head::DefinerValue(n + 1),
            },
            (Head::Begin, _) if kw == Some(Kw::Not) => Head::BeginNot,
            (Head::BeginNot, _) if kw == Some(Kw::Atomic) => {
                // The `BEGIN` two words back opened the block.
                self.open(self.line);
                Head::Routine
            }
            (Head::Begin | Head::BeginNot, _) => Head::Plain,
            (head @ (Head::Routine | Head::Plain), _) => head,
            (head, Postgres) => head,
        };
    }

    /// Block tracking for one keyword.
    fn track(&mut self, kw: Kw, line: usize) {
        let after_end = self.prev == Prev::Kw(Kw::End);
        match self.dialect {
            Dialect::Postgres => match kw {
                Kw::Atomic if self.prev == Prev::Kw(Kw::Begin) => self.open(self.prev_line),
                Kw::Case if self.depth > 0 && !after_end => self.open(line),
                Kw::End => self.close(),
                _ => {}
            },
            Dialect::MySql if self.head == Head::Routine => match kw {
                Kw::Begin => self.open(line),
                Kw::Case if !after_end => self.open(line),
                Kw::If | Kw::Loop | Kw::While | Kw::Repeat
                    if !after_end && self.at_body_statement_start() =>
                {
                    self.open(line)
                }
                Kw::End => self.close(),
                _ => {}
            },
            Dialect::Sqlite if self.head == Head::Routine => match kw {
                Kw::Begin => self.open(line),
                Kw::Case if !after_end => self.open(line),
                Kw::End => self.close(),
                _ => {}
            },
            Dialect::MySql | Dialect::Sqlite => {}
        }
    }

    /// Whether the previous token ends where a statement of a MySQL compound body may start,
    /// so that `IF` there is the `IF` statement rather than the `IF()` function or `IF [NOT]
    /// EXISTS`, and `REPEAT` the loop rather than the function.
    fn at_body_statement_start(&self) -> bool {
        matches!(
            self.prev,
            Prev::Semicolon
                | Prev::Colon
                | Prev::Kw(
                    Kw::Begin | Kw::Then | Kw::Else | Kw::Do | Kw::Loop | Kw::Repeat | Kw::Row
                )
        )
    }

    fn open(&mut self, line: usize) {
        if self.depth == 0 {
            self.block_line = line;
        }
        self.depth += 1;
    }

    fn close(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    /// The finished statement, its text running up to `end`.
    fn finish(self, src: &str, end: usize) -> Statement {
        let sql =
            src[self.start..end].trim_end_matches(|c: char| c.is_ascii() && is_space(c as u8));
        Statement {
            sql: sql.to_owned(),
            line: self.line,
        }
    }
}

/// Splits `src` into statements for `dialect`.
pub(super) fn split(src: &str, dialect: Dialect) -> Result<Vec<Statement>, SplitError> {
    let mut lexer = Lexer::new(src, dialect);
    let mut statements = Vec::new();
    let mut current: Option<Current> = None;
    while let Some(token) = lexer.next_token()? {
        if token.kind.is_trivia() {
            continue;
        }
        let text = lexer.text(&token);
        if token.kind == TokenKind::Delimiter {
            match current.take() {
                Some(mut statement) if statement.in_block() => {
                    statement.feed(&token, text)?;
                    current = Some(statement);
                }
                Some(statement) => statements.push(statement.finish(src, token.start)),
                None => {}
            }
            continue;
        }
        let statement = match current.as_mut() {
            Some(statement) => statement,
            None => {
                if client_command(&mut lexer, dialect, &token, text)? {
                    continue;
                }
                let track_blocks = lexer.delimiter() == ";";
                current.insert(Current::new(dialect, &token, track_blocks))
            }
        };
        statement.feed(&token, text)?;
    }
    if let Some(statement) = current {
        if statement.in_block() {
            return Err(SplitError::Unterminated {
                line: statement.block_line,
                what: BLOCK,
            });
        }
        // Without a delimiter, the statement ends with its last token: comments after it are
        // the file's, as they would be after a delimiter.
        let end = statement.last_end;
        statements.push(statement.finish(src, end));
    }
    Ok(statements)
}

/// Handles a client command at the start of a statement: MySQL's `DELIMITER` (returns true:
/// the line is consumed) and psql's backslash meta-commands (refused). Returns false when
/// `token` starts an ordinary statement.
fn client_command(
    lexer: &mut Lexer<'_>,
    dialect: Dialect,
    token: &Token,
    text: &str,
) -> Result<bool, SplitError> {
    let unsupported = |what: String| SplitError::Unsupported {
        line: token.line,
        what,
    };
    match dialect {
        Dialect::MySql
            if token.kind == TokenKind::Word && text.eq_ignore_ascii_case("delimiter") =>
        {
            match lexer.peek_byte() {
                Some(b' ' | b'\t') => {}
                None | Some(b'\n' | b'\r') => {
                    return Err(unsupported("DELIMITER without a delimiter".to_owned()))
                }
                // `delimiter(…)` or the like: not the client command.
                Some(_) => return Ok(false),
            }
            let rest = lexer.take_line();
            let arg = rest
                .trim_start_matches(|c: char| c.is_ascii() && is_space(c as u8))
                .split(|c: char| c.is_ascii() && is_space(c as u8))
                .next()
                .unwrap_or("");
            let arg = strip_quotes(arg);
            if arg.is_empty() {
                return Err(unsupported("DELIMITER without a delimiter".to_owned()));
            }
            if arg.contains('\\') {
                return Err(unsupported(format!(
                    "DELIMITER {arg} (a delimiter with a backslash)"
                )));
            }
            if arg.len() > MAX_DELIMITER_LEN {
                return Err(unsupported(format!(
                    "DELIMITER longer than {MAX_DELIMITER_LEN} bytes"
                )));
            }
            lexer.set_delimiter(arg);
            Ok(true)
        }
        Dialect::Postgres if text == "\\" => {
            let name = lexer.peek_until_space(32);
            Err(unsupported(format!("psql meta-command \\{name}")))
        }
        _ => Ok(false),
    }
}

/// `'$$'` → `$$` (the `mysql` client accepts a quoted delimiter).
fn strip_quotes(arg: &str) -> &str {
    let b = arg.as_bytes();
    match (b.first(), b.last()) {
        (Some(&q @ (b'\'' | b'"' | b'`')), Some(&l)) if b.len() >= 3 && q == l => {
            &arg[1..arg.len() - 1]
        }
        _ => arg,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sqls(src: &str, dialect: Dialect) -> Vec<String> {
        split(src, dialect)
            .unwrap_or_else(|e| panic!("{src:?}: {e}"))
            .into_iter()
            .map(|s| s.sql)
            .collect()
    }

    #[test]
    fn keywords_match_case_insensitively() {
        assert_eq!(keyword("BEGIN"), Some(Kw::Begin));
        assert_eq!(keyword("begin"), Some(Kw::Begin));
        assert_eq!(keyword("TemPorary"), Some(Kw::Temporary));
        assert_eq!(keyword("beginning"), None);
        assert_eq!(keyword("ends"), None);
        assert_eq!(keyword("é"), None);
    }

    #[test]
    fn quotes_are_stripped_from_delimiters() {
        assert_eq!(strip_quotes("'$$'"), "$$");
        assert_eq!(strip_quotes("\"//\""), "//");
        assert_eq!(strip_quotes("''"), "''");
        assert_eq!(strip_quotes("$$"), "$$");
        assert_eq!(strip_quotes("'"), "'");
    }

    #[test]
    fn mysql_routine_heads() {
        let cases = [
            ("CREATE PROCEDURE p() BEGIN SELECT 1; END", true),
            ("CREATE OR REPLACE FUNCTION f() RETURNS INT BEGIN RETURN 1; END", true),
            ("CREATE DEFINER=`root`@`%` TRIGGER t BEFORE INSERT ON x FOR EACH ROW BEGIN SET @a=1; END", true),
            ("CREATE DEFINER = 'a'@'b' EVENT e ON SCHEDULE EVERY 1 DAY DO BEGIN DELETE FROM t; END", true),
            ("CREATE DEFINER=CURRENT_USER() PROCEDURE p() BEGIN SELECT 1; END", true),
            ("CREATE AGGREGATE FUNCTION f(x INT) RETURNS INT BEGIN RETURN 1; END", true),
            ("BEGIN NOT ATOMIC SELECT 1; END", true),
        ];
        for (src, one) in cases {
            let got = sqls(src, Dialect::MySql);
            assert_eq!(got.len() == 1, one, "{src:?} → {got:?}");
        }
        // Not routines: `BEGIN` here is a transaction or a word.
        assert_eq!(
            sqls("BEGIN; SELECT 1", Dialect::MySql),
            ["BEGIN", "SELECT 1"]
        );
        assert_eq!(
            sqls("CREATE TABLE event (begin INT); SELECT 1", Dialect::MySql),
            ["CREATE TABLE event (begin INT)", "SELECT 1"]
        );
        assert_eq!(
            sqls(
                "CREATE DEFINER=root@localhost SQL SECURITY INVOKER VIEW v AS SELECT 1; SELECT 2",
                Dialect::MySql
            ),
            [
                "CREATE DEFINER=root@localhost SQL SECURITY INVOKER VIEW v AS SELECT 1",
                "SELECT 2"
            ]
        );
    }

    #[test]
    fn mysql_if_is_a_block_only_at_statement_start() {
        let src = "CREATE PROCEDURE p() BEGIN\n\
                   DROP TABLE IF EXISTS t;\n\
                   SET @x = IF(1, 2, 3);\n\
                   IF EXISTS (SELECT 1) THEN SELECT REPEAT('a', 2); ELSE IF 1 THEN SELECT 2; END IF; END IF;\n\
                   l: LOOP LEAVE l; END LOOP l;\n\
                   END;\nSELECT 9";
        let got = sqls(src, Dialect::MySql);
        assert_eq!(got.len(), 2, "{got:?}");
        assert_eq!(got[1], "SELECT 9");
    }

    #[test]
    fn postgres_begin_atomic_tracks_case() {
        let src = "CREATE FUNCTION f(x int) RETURNS int LANGUAGE sql BEGIN ATOMIC\n\
                   SELECT CASE WHEN x > 0 THEN 1 ELSE 0 END;\n\
                   END;\nSELECT 2";
        let got = sqls(src, Dialect::Postgres);
        assert_eq!(got.len(), 2, "{got:?}");
        // Outside BEGIN ATOMIC, CASE … END does not open anything.
        assert_eq!(
            sqls(
                "SELECT CASE WHEN 1=1 THEN 1 END; SELECT 2",
                Dialect::Postgres
            ),
            ["SELECT CASE WHEN 1=1 THEN 1 END", "SELECT 2"]
        );
    }

    #[test]
    fn unterminated_block_reports_the_opening_line() {
        let err = split(
            "SELECT 1;\nCREATE FUNCTION f() RETURNS int\nBEGIN ATOMIC\nSELECT 1;",
            Dialect::Postgres,
        )
        .unwrap_err();
        assert_eq!(
            err,
            SplitError::Unterminated {
                line: 3,
                what: BLOCK
            }
        );
    }
}
