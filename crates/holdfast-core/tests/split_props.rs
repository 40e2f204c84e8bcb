//! Property tests for `holdfast_core::split`.
//!
//! (a) Arbitrary text, biased toward the characters and keywords the splitter reacts to, never
//!     makes it panic, and whatever it returns is made of non-empty slices of the input.
//! (b) Simple statements joined with delimiters split back into exactly those statements.

use holdfast_core::split::{split, Dialect};
use proptest::prelude::*;

const DIALECTS: [Dialect; 3] = [Dialect::Postgres, Dialect::MySql, Dialect::Sqlite];

/// Pieces of text that exercise the lexers and block trackers.
const FRAGMENTS: &[&str] = &[
    "'",
    "\"",
    "$",
    ";",
    "-",
    "/",
    "*",
    "#",
    "\\",
    "`",
    "[",
    "]",
    "$$",
    "$a$",
    "$1",
    "--",
    "-- ",
    "/*",
    "*/",
    "/*!",
    "E'",
    "U&'",
    "''",
    "\n",
    "\r\n",
    " ",
    "\t",
    "BEGIN",
    "begin",
    "END",
    "CASE",
    "ATOMIC",
    "BEGIN ATOMIC",
    "END IF",
    "IF",
    "LOOP",
    "WHILE",
    "REPEAT",
    "DELIMITER ",
    "DELIMITER $$\n",
    "DELIMITER //\n",
    "DELIMITER ;\n",
    "CREATE ",
    "CREATE TRIGGER t ",
    "CREATE PROCEDURE p() ",
    "CREATE DEFINER=`a`@`b` FUNCTION ",
    "FOR EACH ROW ",
    "THEN ",
    "COPY t FROM stdin",
    "NOT ATOMIC",
    "x",
    "1",
    "é",
    "😀",
    "\u{0}",
];

/// Text built from fragments and arbitrary characters.
fn biased_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        4 => prop::sample::select(FRAGMENTS).prop_map(str::to_owned),
        1 => any::<char>().prop_map(String::from),
        1 => "[a-z ]{1,6}",
    ];
    prop::collection::vec(piece, 0..40).prop_map(|pieces| pieces.concat())
}

/// Checks what `split` promises for any input.
fn check_any_input(input: &str) -> Result<(), TestCaseError> {
    let max_line = input.matches('\n').count() + 1;
    for dialect in DIALECTS {
        if let Ok(statements) = split(input, dialect) {
            let mut previous_line = 1;
            for statement in &statements {
                prop_assert!(!statement.sql.is_empty(), "{dialect:?}: empty statement");
                prop_assert!(
                    input.contains(&statement.sql),
                    "{dialect:?}: {:?} is not part of the input",
                    statement.sql
                );
                // Trimmed of ASCII whitespace (the only whitespace SQL servers know).
                let ascii_space = |c: char| matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0b' | '\x0c');
                prop_assert_eq!(
                    statement.sql.trim_matches(ascii_space),
                    statement.sql.as_str()
                );
                prop_assert!(
                    (previous_line..=max_line).contains(&statement.line),
                    "{dialect:?}: line {} out of order or range",
                    statement.line
                );
                previous_line = statement.line;
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn never_panics_on_biased_text(input in biased_text()) {
        check_any_input(&input)?;
    }

    #[test]
    fn never_panics_on_arbitrary_text(input in any::<String>()) {
        check_any_input(&input)?;
    }
}

/// One simple statement: `SELECT` or `VALUES` with identifiers, numbers and quoted strings
/// (the strings may hold `;`, doubled quotes and keywords).
fn simple_statement() -> impl Strategy<Value = String> {
    let atom = prop_oneof![
        "c_[a-z0-9_]{0,8}",
        "[0-9]{1,6}",
        "'([a-z ;,.()]|''|begin|end|case|\\$\\$|--|/\\*){0,8}'",
    ];
    (
        prop::sample::select(&["SELECT", "select", "VALUES"][..]),
        prop::collection::vec(atom, 1..5),
    )
        .prop_map(|(verb, atoms)| {
            if verb == "VALUES" {
                format!("VALUES ({})", atoms.join(", "))
            } else {
                format!("{verb} {}", atoms.join(", "))
            }
        })
}

/// Text between statements: a delimiter with optional whitespace and comments around it that
/// every dialect reads the same way.
const SEPARATORS: &[&str] = &[
    ";\n",
    ";",
    " ;\r\n",
    ";\n-- note; it's\n",
    ";\n/* a; 'b' */ ",
    ";;\n\n",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn simple_statements_round_trip(
        statements in prop::collection::vec(simple_statement(), 1..8),
        separators in prop::collection::vec(prop::sample::select(SEPARATORS), 8),
        trailing in prop::sample::select(&["", ";", ";\n", "\n-- end\n"][..]),
    ) {
        let mut input = String::new();
        let mut lines = Vec::new();
        for (i, statement) in statements.iter().enumerate() {
            if i > 0 {
                input.push_str(separators[i - 1]);
            }
            lines.push(input.matches('\n').count() + 1);
            input.push_str(statement);
        }
        input.push_str(trailing);
        for dialect in DIALECTS {
            let got = split(&input, dialect);
            prop_assert!(got.is_ok(), "{:?}: {:?} on {:?}", dialect, got, input);
            let got = got.unwrap();
            let sqls: Vec<&str> = got.iter().map(|s| s.sql.as_str()).collect();
            prop_assert_eq!(&sqls, &statements, "{:?} on {:?}", dialect, input);
            let got_lines: Vec<usize> = got.iter().map(|s| s.line).collect();
            prop_assert_eq!(&got_lines, &lines, "{:?} on {:?}", dialect, input);
        }
    }
}

/// Large and pathological inputs finish quickly: the splitter is linear.
#[test]
fn large_inputs_split_in_linear_time() {
    let n = 100_000;
    let inputs = [
        "SELECT 1;\n".repeat(n),
        "$a".repeat(n),
        "$aaaaaaaa".repeat(n),
        "/* x */".repeat(n),
        "-".repeat(n),
        format!("SELECT '{}'", ";".repeat(n)),
        format!("DO $$ {} $$;", "$a$ ; ".repeat(n)),
        format!(
            "CREATE PROCEDURE p() BEGIN {} END;",
            "IF 1 THEN SELECT 1; END IF; ".repeat(n / 10)
        ),
        format!("DELIMITER $$\n{}", "END$$x".repeat(n)),
        "'".repeat(n),
        "BEGIN ATOMIC CASE ".repeat(n / 10),
    ];
    let start = std::time::Instant::now();
    for input in &inputs {
        for dialect in DIALECTS {
            let _ = split(input, dialect);
        }
    }
    // Generous: a quadratic splitter would take hours on these inputs.
    assert!(
        start.elapsed() < std::time::Duration::from_secs(60),
        "took {:?}",
        start.elapsed()
    );
    assert_eq!(
        split(&inputs[0], Dialect::Postgres).unwrap().len(),
        n,
        "every statement is found"
    );
}
