//! Table-driven corpus for `holdfast_core::split`: for each dialect, inputs with the statements
//! (and, where given, the first lines) they must split into, and inputs that must be refused.

use holdfast_core::split::{split, Dialect, SplitError};

/// An input and the statements it splits into.
struct Case {
    name: &'static str,
    input: &'static str,
    statements: &'static [&'static str],
    /// The 1-based first line of each statement; empty when the case does not check lines.
    lines: &'static [usize],
}

/// An input that must fail to split.
struct Failure {
    name: &'static str,
    input: &'static str,
    expected: Expected,
}

enum Expected {
    Unterminated(usize, &'static str),
    Unsupported(usize, &'static str),
}

const fn ok(
    name: &'static str,
    input: &'static str,
    statements: &'static [&'static str],
    lines: &'static [usize],
) -> Case {
    Case {
        name,
        input,
        statements,
        lines,
    }
}

const fn unterminated(
    name: &'static str,
    input: &'static str,
    line: usize,
    what: &'static str,
) -> Failure {
    Failure {
        name,
        input,
        expected: Expected::Unterminated(line, what),
    }
}

const fn unsupported(
    name: &'static str,
    input: &'static str,
    line: usize,
    what: &'static str,
) -> Failure {
    Failure {
        name,
        input,
        expected: Expected::Unsupported(line, what),
    }
}

/// Runs every case, collecting all mismatches before failing.
fn check_cases(dialect: Dialect, cases: &[Case]) {
    let mut problems = Vec::new();
    for case in cases {
        match split(case.input, dialect) {
            Err(e) => problems.push(format!("{}: unexpected error {e:?}", case.name)),
            Ok(got) => {
                let sqls: Vec<&str> = got.iter().map(|s| s.sql.as_str()).collect();
                if sqls != case.statements {
                    problems.push(format!(
                        "{}:\n  expected {:#?}\n  got      {:#?}",
                        case.name, case.statements, sqls
                    ));
                    continue;
                }
                if !case.lines.is_empty() {
                    let lines: Vec<usize> = got.iter().map(|s| s.line).collect();
                    if lines != case.lines {
                        problems.push(format!(
                            "{}: lines expected {:?}, got {:?}",
                            case.name, case.lines, lines
                        ));
                    }
                }
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{dialect:?}: {} of {} cases failed:\n{}",
        problems.len(),
        cases.len(),
        problems.join("\n")
    );
}

fn check_failures(dialect: Dialect, failures: &[Failure]) {
    let mut problems = Vec::new();
    for failure in failures {
        let got = split(failure.input, dialect);
        let matches = match (&got, &failure.expected) {
            (Err(SplitError::Unterminated { line, what }), Expected::Unterminated(l, w)) => {
                line == l && what == w
            }
            (Err(SplitError::Unsupported { line, what }), Expected::Unsupported(l, w)) => {
                line == l && what == w
            }
            _ => false,
        };
        if !matches {
            let (line, what) = match failure.expected {
                Expected::Unterminated(l, w) => (l, format!("unterminated {w}")),
                Expected::Unsupported(l, w) => (l, format!("unsupported {w}")),
            };
            problems.push(format!(
                "{}: expected line {line}: {what}, got {got:?}",
                failure.name
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "{dialect:?}: {} of {} failure cases did not fail as expected:\n{}",
        problems.len(),
        failures.len(),
        problems.join("\n")
    );
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL
// ---------------------------------------------------------------------------------------------

const PG_FUNCTION_AND_TRIGGER: &str = "\
-- 0003_account_audit.sql: keep an audit trail of account changes.
CREATE TABLE account_audit (
    id          bigserial PRIMARY KEY,
    account_id  bigint NOT NULL,
    changed_at  timestamptz NOT NULL DEFAULT now(),
    note        text
);

/* The trigger function; its body is plpgsql, so semicolons abound. */
CREATE OR REPLACE FUNCTION audit_account() RETURNS trigger
LANGUAGE plpgsql AS $body$
DECLARE
    msg text := 'changed; see \"details\"';
BEGIN
    IF TG_OP = 'DELETE' THEN
        INSERT INTO account_audit (account_id, note) VALUES (OLD.id, 'deleted');
        RETURN OLD;
    END IF;
    INSERT INTO account_audit (account_id, note) VALUES (NEW.id, msg);
    RETURN NEW;
END;
$body$;

CREATE TRIGGER account_audit_trg
    AFTER INSERT OR UPDATE OR DELETE ON accounts
    FOR EACH ROW EXECUTE FUNCTION audit_account();

COMMENT ON TABLE account_audit IS 'Audit trail; one row per change';
";

const PG_CASES: &[Case] = &[
    ok(
        "two simple statements",
        "SELECT 1;\nSELECT 2;\n",
        &["SELECT 1", "SELECT 2"],
        &[1, 2],
    ),
    ok(
        "untagged dollar-quoted body",
        "CREATE FUNCTION one() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql;\nSELECT one();",
        &[
            "CREATE FUNCTION one() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql",
            "SELECT one()",
        ],
        &[1, 2],
    ),
    ok(
        "tagged dollar-quoted body holding ; and $$",
        "CREATE FUNCTION g() RETURNS text AS $fn$\nBEGIN\n  RETURN 'a;b' || $$;$$;\nEND;\n$fn$ LANGUAGE plpgsql;\nSELECT g();",
        &[
            "CREATE FUNCTION g() RETURNS text AS $fn$\nBEGIN\n  RETURN 'a;b' || $$;$$;\nEND;\n$fn$ LANGUAGE plpgsql",
            "SELECT g()",
        ],
        &[1, 6],
    ),
    ok(
        "nested dollar tags",
        "DO $outer$\nBEGIN\n  EXECUTE $inner$ SELECT ';' $inner$;\n  PERFORM $x$ $outer $x$;\nEND\n$outer$;\nSELECT 1;",
        &[
            "DO $outer$\nBEGIN\n  EXECUTE $inner$ SELECT ';' $inner$;\n  PERFORM $x$ $outer $x$;\nEND\n$outer$",
            "SELECT 1",
        ],
        &[1, 7],
    ),
    ok(
        "dollar tags are case-sensitive",
        "SELECT $Tag$ ; $tag$ ; $Tag$;SELECT 2",
        &["SELECT $Tag$ ; $tag$ ; $Tag$", "SELECT 2"],
        &[],
    ),
    ok(
        "$1 is a parameter, not a quote",
        "PREPARE q(int, int) AS SELECT $1 + $2;\nEXECUTE q(1, 2);",
        &["PREPARE q(int, int) AS SELECT $1 + $2", "EXECUTE q(1, 2)"],
        &[1, 2],
    ),
    ok(
        "$ inside identifiers",
        "SELECT a$$b FROM t$1;SELECT 2",
        &["SELECT a$$b FROM t$1", "SELECT 2"],
        &[],
    ),
    ok(
        "DO block",
        "DO $$\nBEGIN\n  RAISE NOTICE 'x;y';\nEND\n$$;\nSELECT 1;",
        &["DO $$\nBEGIN\n  RAISE NOTICE 'x;y';\nEND\n$$", "SELECT 1"],
        &[1, 6],
    ),
    ok(
        "E-string with backslash-escaped quote",
        "SELECT E'it\\'s; x';\nSELECT e'\\\\';\nSELECT 3;",
        &["SELECT E'it\\'s; x'", "SELECT e'\\\\'", "SELECT 3"],
        &[1, 2, 3],
    ),
    ok(
        "standard string: doubled quote, backslash is literal",
        "SELECT 'it''s; fine';\nSELECT 'C:\\';\nSELECT 3",
        &["SELECT 'it''s; fine'", "SELECT 'C:\\'", "SELECT 3"],
        &[1, 2, 3],
    ),
    ok(
        "U& strings and identifiers",
        "SELECT U&'d\\0061t;a' AS U&\"x;y\";SELECT 2",
        &["SELECT U&'d\\0061t;a' AS U&\"x;y\"", "SELECT 2"],
        &[],
    ),
    ok(
        "quoted identifiers containing ; and doubled quotes",
        "CREATE TABLE \"semi;colon\" (\"a\"\"b;\" int);\nDROP TABLE \"semi;colon\";",
        &[
            "CREATE TABLE \"semi;colon\" (\"a\"\"b;\" int)",
            "DROP TABLE \"semi;colon\"",
        ],
        &[1, 2],
    ),
    ok(
        "nested block comments holding ; and '",
        "/* header; it's /* nested; */ still comment; */\nSELECT 1;\nSELECT /* in; /* deep' */ ; */ 2;",
        &["SELECT 1", "SELECT /* in; /* deep' */ ; */ 2"],
        &[2, 3],
    ),
    ok(
        "line comments before and after",
        "-- leading; comment\nSELECT 1; -- trailing; comment\n-- another\nSELECT 2 -- kept; inside\n;",
        &["SELECT 1", "SELECT 2 -- kept; inside"],
        &[2, 4],
    ),
    ok(
        "-- right after a token is a comment",
        "SELECT 1--1;\n;SELECT 2",
        &["SELECT 1--1;", "SELECT 2"],
        &[1, 2],
    ),
    ok(
        "# is an operator, not a comment",
        "SELECT 5 # 3;\nSELECT 2",
        &["SELECT 5 # 3", "SELECT 2"],
        &[1, 2],
    ),
    ok(
        "BEGIN ATOMIC with CASE inside",
        "CREATE FUNCTION sign_of(x int) RETURNS text\nLANGUAGE sql\nBEGIN ATOMIC\n  SELECT CASE WHEN x > 0 THEN 'pos' WHEN x < 0 THEN 'neg' ELSE 'zero' END;\n  SELECT 'done;';\nEND;\nSELECT sign_of(1);",
        &[
            "CREATE FUNCTION sign_of(x int) RETURNS text\nLANGUAGE sql\nBEGIN ATOMIC\n  SELECT CASE WHEN x > 0 THEN 'pos' WHEN x < 0 THEN 'neg' ELSE 'zero' END;\n  SELECT 'done;';\nEND",
            "SELECT sign_of(1)",
        ],
        &[1, 7],
    ),
    ok(
        "BEGIN ATOMIC with nested CASE, lower case",
        "create or replace procedure p() language sql begin atomic\n  insert into t values (case when true then case when false then 1 end else 2 end);\n  delete from t;\nend;\nselect 1",
        &[
            "create or replace procedure p() language sql begin atomic\n  insert into t values (case when true then case when false then 1 end else 2 end);\n  delete from t;\nend",
            "select 1",
        ],
        &[1, 5],
    ),
    ok(
        "BEGIN transaction is not a block",
        "BEGIN;\nSELECT 1;\nCOMMIT;\nBEGIN ISOLATION LEVEL SERIALIZABLE;\nEND;",
        &["BEGIN", "SELECT 1", "COMMIT", "BEGIN ISOLATION LEVEL SERIALIZABLE", "END"],
        &[1, 2, 3, 4, 5],
    ),
    ok(
        "CASE … END outside BEGIN ATOMIC",
        "SELECT CASE WHEN true THEN 1 END;\nSELECT 2;",
        &["SELECT CASE WHEN true THEN 1 END", "SELECT 2"],
        &[1, 2],
    ),
    ok(
        "keywords inside strings and identifiers do not open blocks",
        "SELECT 'BEGIN ATOMIC', \"begin atomic\";\nSELECT 2;",
        &["SELECT 'BEGIN ATOMIC', \"begin atomic\"", "SELECT 2"],
        &[1, 2],
    ),
    ok(
        "COPY from a file or to stdout is fine",
        "COPY t FROM '/tmp/stdin.csv';\nCOPY t TO STDOUT;",
        &["COPY t FROM '/tmp/stdin.csv'", "COPY t TO STDOUT"],
        &[1, 2],
    ),
    ok(
        "backslash inside a statement is just a character",
        "SELECT 1 \\ 2;",
        &["SELECT 1 \\ 2"],
        &[1],
    ),
    ok("empty input", "", &[], &[]),
    ok("whitespace only", " \n\t\r\n  ", &[], &[]),
    ok(
        "comments only",
        "-- just a comment\n/* and ; another /* nested */ */\n",
        &[],
        &[],
    ),
    ok("empty statements", ";;\n ; ;", &[], &[]),
    ok(
        "empty statements between statements",
        "SELECT 1;;\n;SELECT 2;",
        &["SELECT 1", "SELECT 2"],
        &[1, 2],
    ),
    ok(
        "trailing comment after the last statement",
        "SELECT 1;\n-- the end; really\n",
        &["SELECT 1"],
        &[1],
    ),
    ok(
        "missing final delimiter",
        "SELECT 1;\n\nSELECT 2\n",
        &["SELECT 1", "SELECT 2"],
        &[1, 3],
    ),
    ok(
        "missing final delimiter: trailing comments are not part of the statement",
        "SELECT 1;\nSELECT 2 /* in */ + 1 -- tail\n/* end; */\n",
        &["SELECT 1", "SELECT 2 /* in */ + 1"],
        &[1, 2],
    ),
    ok(
        "CRLF line endings",
        "SELECT 1;\r\nSELECT\r\n  2;\r\n\r\n-- c\r\nSELECT 3;\r\n",
        &["SELECT 1", "SELECT\r\n  2", "SELECT 3"],
        &[1, 2, 6],
    ),
    ok(
        "multi-line statement reports its first line",
        "\n\n  /* lead */ INSERT INTO t\n  VALUES ('a\nb;c');\n\nSELECT 1;",
        &["INSERT INTO t\n  VALUES ('a\nb;c')", "SELECT 1"],
        &[3, 7],
    ),
    ok(
        "non-ASCII text",
        "SELECT 'héllo; wörld' AS \"ünï;\";\nSELECT $é$ ; $é$;",
        &["SELECT 'héllo; wörld' AS \"ünï;\"", "SELECT $é$ ; $é$"],
        &[1, 2],
    ),
    ok(
        "realistic migration: plpgsql function and trigger",
        PG_FUNCTION_AND_TRIGGER,
        &[
            "CREATE TABLE account_audit (\n    id          bigserial PRIMARY KEY,\n    account_id  bigint NOT NULL,\n    changed_at  timestamptz NOT NULL DEFAULT now(),\n    note        text\n)",
            "CREATE OR REPLACE FUNCTION audit_account() RETURNS trigger\nLANGUAGE plpgsql AS $body$\nDECLARE\n    msg text := 'changed; see \"details\"';\nBEGIN\n    IF TG_OP = 'DELETE' THEN\n        INSERT INTO account_audit (account_id, note) VALUES (OLD.id, 'deleted');\n        RETURN OLD;\n    END IF;\n    INSERT INTO account_audit (account_id, note) VALUES (NEW.id, msg);\n    RETURN NEW;\nEND;\n$body$",
            "CREATE TRIGGER account_audit_trg\n    AFTER INSERT OR UPDATE OR DELETE ON accounts\n    FOR EACH ROW EXECUTE FUNCTION audit_account()",
            "COMMENT ON TABLE account_audit IS 'Audit trail; one row per change'",
        ],
        &[2, 10, 24, 28],
    ),
];

const PG_FAILURES: &[Failure] = &[
    unterminated("string", "SELECT 1;\nSELECT 'abc;\n", 2, "string"),
    unterminated(
        "E-string ending in an escaped quote",
        "SELECT 1;\n\nSELECT E'abc\\';",
        3,
        "string",
    ),
    unterminated(
        "quoted identifier",
        "SELECT \"abc;\nFROM t;",
        1,
        "quoted identifier",
    ),
    unterminated(
        "nested block comment closed only once",
        "SELECT 1;\n/* a /* b */ SELECT 2;",
        2,
        "block comment",
    ),
    unterminated(
        "dollar-quoted body",
        "SELECT 1;\nDO $fn$ BEGIN NULL; END $$;",
        2,
        "dollar-quoted string",
    ),
    unterminated(
        "BEGIN ATOMIC without END",
        "SELECT 1;\nCREATE FUNCTION f() RETURNS int LANGUAGE sql\nBEGIN ATOMIC\n  SELECT 1;\n",
        3,
        "BEGIN … END block",
    ),
    unsupported(
        "COPY FROM stdin",
        "CREATE TABLE t (a int);\nCOPY t (a) FROM stdin;\n1\n2\n\\.\n",
        2,
        "COPY … FROM stdin (inline data)",
    ),
    unsupported(
        "copy from STDIN, lower case, with options",
        "copy t from /* c */ STDIN with (format csv);\n1,2\n\\.\n",
        1,
        "COPY … FROM stdin (inline data)",
    ),
    unsupported(
        "psql \\i",
        "SELECT 1;\n\\i other.sql\n",
        2,
        "psql meta-command \\i",
    ),
    unsupported(
        "psql \\set",
        "-- settings\n\\set ON_ERROR_STOP on\nSELECT 1;",
        2,
        "psql meta-command \\set",
    ),
    unsupported(
        "psql \\connect",
        "\\connect other_db\nSELECT 1;",
        1,
        "psql meta-command \\connect",
    ),
];

#[test]
fn postgres_corpus() {
    check_cases(Dialect::Postgres, PG_CASES);
}

#[test]
fn postgres_failures() {
    check_failures(Dialect::Postgres, PG_FAILURES);
}

// ---------------------------------------------------------------------------------------------
// MySQL / MariaDB
// ---------------------------------------------------------------------------------------------

const MYSQL_TRIGGER: &str = "\
CREATE TRIGGER orders_bi BEFORE INSERT ON orders
FOR EACH ROW
BEGIN
  IF NEW.qty < 0 THEN
    SET NEW.qty = 0;
  ELSEIF NEW.qty > 100 THEN
    SET NEW.qty = 100;
  END IF;
  CASE NEW.status
    WHEN 'new' THEN SET NEW.flag = 1;
    ELSE SET NEW.flag = 0;
  END CASE;
  SET NEW.label = CASE WHEN NEW.qty > 10 THEN 'big;' ELSE 'small' END;
END;
INSERT INTO orders (qty) VALUES (5);
";

const MYSQL_PROCEDURE: &str = "\
CREATE DEFINER=`admin`@`%` PROCEDURE fill(IN n INT)
BEGIN
  DECLARE i INT DEFAULT 0;
  DROP TEMPORARY TABLE IF EXISTS scratch;
  outer_loop: LOOP
    SET i = i + 1;
    IF i > n THEN
      LEAVE outer_loop;
    END IF;
  END LOOP outer_loop;
  WHILE i > 0 DO
    SET i = i - 1;
  END WHILE;
  REPEAT
    SET i = i + 1;
  UNTIL i >= n END REPEAT;
  BEGIN
    DECLARE CONTINUE HANDLER FOR SQLEXCEPTION BEGIN END;
    INSERT INTO log VALUES (IF(i > 0, 'pos', 'zero'), REPEAT('x', 2));
  END;
END;
CALL fill(3);
";

const MYSQL_CASES: &[Case] = &[
    ok(
        "two simple statements",
        "SELECT 1;\nSELECT 2;\n",
        &["SELECT 1", "SELECT 2"],
        &[1, 2],
    ),
    ok(
        "backslash-escaped quotes in strings",
        "INSERT INTO t VALUES ('it\\'s;', \"say \\\"hi;\\\"\");\nSELECT 'a\\\\';\nSELECT 3;",
        &[
            "INSERT INTO t VALUES ('it\\'s;', \"say \\\"hi;\\\"\")",
            "SELECT 'a\\\\'",
            "SELECT 3",
        ],
        &[1, 2, 3],
    ),
    ok(
        "doubled quotes in strings",
        "SELECT 'a''b;';SELECT \"c\"\"d;\";",
        &["SELECT 'a''b;'", "SELECT \"c\"\"d;\""],
        &[1, 1],
    ),
    ok(
        "backtick identifiers with ; and doubled backticks",
        "CREATE TABLE `we;ird``name` (`a;b` INT);\nSELECT 1;",
        &["CREATE TABLE `we;ird``name` (`a;b` INT)", "SELECT 1"],
        &[1, 2],
    ),
    ok(
        "# comments",
        "# leading; comment\nSELECT 1; # trailing; comment\nSELECT 2 # inline;\n;",
        &["SELECT 1", "SELECT 2 # inline;"],
        &[2, 3],
    ),
    ok(
        "--x is not a comment",
        "SELECT 1--1;\nSELECT 2 --x;\nSELECT 3",
        &["SELECT 1--1", "SELECT 2 --x", "SELECT 3"],
        &[1, 2, 3],
    ),
    ok(
        "-- followed by space, tab or end of line is a comment",
        "SELECT 1 -- real; comment\n;SELECT 2 --\t;\n;SELECT 3 --\n;",
        &["SELECT 1 -- real; comment", "SELECT 2 --\t;", "SELECT 3 --"],
        &[1, 2, 3],
    ),
    ok(
        "block comments do not nest; executable comments are kept",
        "/* plain /* not nested; */\n/*!40101 SET NAMES utf8mb4 */;\nSELECT /*+ MAX_EXECUTION_TIME(1) */ 1 /* in; */;\n/*M!100100 SET x = 1 */;",
        &[
            "/*!40101 SET NAMES utf8mb4 */",
            "SELECT /*+ MAX_EXECUTION_TIME(1) */ 1 /* in; */",
            "/*M!100100 SET x = 1 */",
        ],
        &[2, 3, 4],
    ),
    ok(
        "DELIMITER $$ and back to ;",
        "DELIMITER $$\nCREATE PROCEDURE p()\nBEGIN\n  SELECT 1;\n  SELECT 2;\nEND$$\nDELIMITER ;\nSELECT 3;",
        &[
            "CREATE PROCEDURE p()\nBEGIN\n  SELECT 1;\n  SELECT 2;\nEND",
            "SELECT 3",
        ],
        &[2, 8],
    ),
    ok(
        "DELIMITER // with two statements, lower case delimiter command",
        "delimiter //\nCREATE FUNCTION f() RETURNS INT\nBEGIN\n  RETURN 1;\nEND //\nSELECT 'a;b' //\ndelimiter ;\nSELECT f();\n",
        &[
            "CREATE FUNCTION f() RETURNS INT\nBEGIN\n  RETURN 1;\nEND",
            "SELECT 'a;b'",
            "SELECT f()",
        ],
        &[2, 6, 8],
    ),
    ok(
        "DELIMITER ;; as mysqldump writes it",
        "/*!50003 SET sql_mode = '' */ ;\nDELIMITER ;;\n/*!50003 CREATE*/ /*!50003 TRIGGER t BEFORE INSERT ON x FOR EACH ROW BEGIN SET NEW.a = 1; END */;;\nDELIMITER ;\nSELECT 1;",
        &[
            "/*!50003 SET sql_mode = '' */",
            "/*!50003 CREATE*/ /*!50003 TRIGGER t BEFORE INSERT ON x FOR EACH ROW BEGIN SET NEW.a = 1; END */",
            "SELECT 1",
        ],
        &[1, 3, 5],
    ),
    ok(
        "custom delimiter inside strings and comments does not split",
        "DELIMITER $$\nSELECT '$$' $$\nSELECT 1 # $$\n$$\nDELIMITER ;\n",
        &["SELECT '$$'", "SELECT 1 # $$"],
        &[2, 3],
    ),
    ok(
        "; does not split while a custom delimiter is in force",
        "DELIMITER //\nSELECT 1; SELECT 2//\nDELIMITER ;\nSELECT 3",
        &["SELECT 1; SELECT 2", "SELECT 3"],
        &[2, 4],
    ),
    ok(
        "last statement under a custom delimiter without one",
        "DELIMITER $$\nCREATE PROCEDURE p() BEGIN SELECT 1; END",
        &["CREATE PROCEDURE p() BEGIN SELECT 1; END"],
        &[2],
    ),
    ok(
        "DELIMITER with CRLF line endings",
        "DELIMITER $$\r\nCREATE PROCEDURE p() BEGIN SELECT 1; END$$\r\nDELIMITER ;\r\nSELECT 2;\r\n",
        &["CREATE PROCEDURE p() BEGIN SELECT 1; END", "SELECT 2"],
        &[2, 4],
    ),
    ok(
        "trigger with IF, CASE statement and CASE expression, no DELIMITER",
        MYSQL_TRIGGER,
        &[
            "CREATE TRIGGER orders_bi BEFORE INSERT ON orders\nFOR EACH ROW\nBEGIN\n  IF NEW.qty < 0 THEN\n    SET NEW.qty = 0;\n  ELSEIF NEW.qty > 100 THEN\n    SET NEW.qty = 100;\n  END IF;\n  CASE NEW.status\n    WHEN 'new' THEN SET NEW.flag = 1;\n    ELSE SET NEW.flag = 0;\n  END CASE;\n  SET NEW.label = CASE WHEN NEW.qty > 10 THEN 'big;' ELSE 'small' END;\nEND",
            "INSERT INTO orders (qty) VALUES (5)",
        ],
        &[1, 15],
    ),
    ok(
        "procedure with LOOP, WHILE, REPEAT, nested BEGIN, IF() and REPEAT()",
        MYSQL_PROCEDURE,
        &[
            "CREATE DEFINER=`admin`@`%` PROCEDURE fill(IN n INT)\nBEGIN\n  DECLARE i INT DEFAULT 0;\n  DROP TEMPORARY TABLE IF EXISTS scratch;\n  outer_loop: LOOP\n    SET i = i + 1;\n    IF i > n THEN\n      LEAVE outer_loop;\n    END IF;\n  END LOOP outer_loop;\n  WHILE i > 0 DO\n    SET i = i - 1;\n  END WHILE;\n  REPEAT\n    SET i = i + 1;\n  UNTIL i >= n END REPEAT;\n  BEGIN\n    DECLARE CONTINUE HANDLER FOR SQLEXCEPTION BEGIN END;\n    INSERT INTO log VALUES (IF(i > 0, 'pos', 'zero'), REPEAT('x', 2));\n  END;\nEND",
            "CALL fill(3)",
        ],
        &[1, 22],
    ),
    ok(
        "trigger whose body is a single IF statement",
        "CREATE TRIGGER t BEFORE UPDATE ON x FOR EACH ROW IF NEW.a IS NULL THEN SET NEW.a = 0; END IF;\nSELECT 1;",
        &[
            "CREATE TRIGGER t BEFORE UPDATE ON x FOR EACH ROW IF NEW.a IS NULL THEN SET NEW.a = 0; END IF",
            "SELECT 1",
        ],
        &[1, 2],
    ),
    ok(
        "CREATE OR REPLACE / DEFINER variants",
        "CREATE OR REPLACE DEFINER = 'app'@'localhost' FUNCTION f() RETURNS INT BEGIN DECLARE x INT; RETURN 1; END;\ncreate definer=current_user event e on schedule every 1 day do begin delete from t; end;\nSELECT 1",
        &[
            "CREATE OR REPLACE DEFINER = 'app'@'localhost' FUNCTION f() RETURNS INT BEGIN DECLARE x INT; RETURN 1; END",
            "create definer=current_user event e on schedule every 1 day do begin delete from t; end",
            "SELECT 1",
        ],
        &[1, 2, 3],
    ),
    ok(
        "function without a compound body",
        "CREATE FUNCTION one() RETURNS INT DETERMINISTIC RETURN IF(1, 1, 0);\nSELECT one();",
        &[
            "CREATE FUNCTION one() RETURNS INT DETERMINISTIC RETURN IF(1, 1, 0)",
            "SELECT one()",
        ],
        &[1, 2],
    ),
    ok(
        "BEGIN; and BEGIN WORK; are transaction statements",
        "BEGIN;\nINSERT INTO t VALUES (1);\nCOMMIT;\nBEGIN WORK;\nSELECT 1;\nCOMMIT WORK;",
        &[
            "BEGIN",
            "INSERT INTO t VALUES (1)",
            "COMMIT",
            "BEGIN WORK",
            "SELECT 1",
            "COMMIT WORK",
        ],
        &[1, 2, 3, 4, 5, 6],
    ),
    ok(
        "keywords in ordinary statements do not open blocks",
        "CREATE TABLE event (`begin` INT, `end` INT, loop_count INT);\nSELECT CASE WHEN 1 THEN 2 END;\nSELECT 3;",
        &[
            "CREATE TABLE event (`begin` INT, `end` INT, loop_count INT)",
            "SELECT CASE WHEN 1 THEN 2 END",
            "SELECT 3",
        ],
        &[1, 2, 3],
    ),
    ok(
        "MariaDB BEGIN NOT ATOMIC block",
        "BEGIN NOT ATOMIC\n  DECLARE x INT;\n  SET x = 1;\nEND;\nSELECT 2;",
        &[
            "BEGIN NOT ATOMIC\n  DECLARE x INT;\n  SET x = 1;\nEND",
            "SELECT 2",
        ],
        &[1, 5],
    ),
    ok("empty input", "", &[], &[]),
    ok(
        "comments only",
        "-- one\n# two\n/* three; */\n",
        &[],
        &[],
    ),
    ok(
        "missing final delimiter",
        "SELECT 1;\nSELECT 2",
        &["SELECT 1", "SELECT 2"],
        &[1, 2],
    ),
    ok(
        "missing final delimiter: trailing comment dropped, executable comment kept",
        "SELECT 1 # done\n;SELECT 2 /*!80000 FOR UPDATE */ # done\n-- really\n",
        &["SELECT 1 # done", "SELECT 2 /*!80000 FOR UPDATE */"],
        &[1, 2],
    ),
    ok(
        "CRLF line endings",
        "SELECT 1;\r\n# c\r\nSELECT\r\n 2;\r\n",
        &["SELECT 1", "SELECT\r\n 2"],
        &[1, 3],
    ),
];

const MYSQL_FAILURES: &[Failure] = &[
    unterminated(
        "string ending in an escaped quote",
        "SELECT 1;\nSELECT 'it\\';\n",
        2,
        "string",
    ),
    unterminated("double-quoted string", "SELECT \"abc;", 1, "string"),
    unterminated(
        "backtick identifier",
        "\nSELECT `abc;",
        2,
        "quoted identifier",
    ),
    unterminated(
        "block comment",
        "SELECT 1;\n\n/* never closed;",
        3,
        "block comment",
    ),
    unterminated(
        "executable comment",
        "/*!40101 SET x = 1;",
        1,
        "block comment",
    ),
    unterminated(
        "procedure body without END",
        "SELECT 1;\nCREATE PROCEDURE p()\nBEGIN\n  IF 1 THEN SELECT 1; END IF;\n",
        3,
        "BEGIN … END block",
    ),
    unsupported(
        "DELIMITER without an argument",
        "SELECT 1;\nDELIMITER\nSELECT 2;",
        2,
        "DELIMITER without a delimiter",
    ),
];

#[test]
fn mysql_corpus() {
    check_cases(Dialect::MySql, MYSQL_CASES);
}

#[test]
fn mysql_failures() {
    check_failures(Dialect::MySql, MYSQL_FAILURES);
}

// ---------------------------------------------------------------------------------------------
// SQLite
// ---------------------------------------------------------------------------------------------

const SQLITE_TRIGGER: &str = "\
CREATE TABLE items (id INTEGER PRIMARY KEY, price REAL, kind TEXT);
CREATE TRIGGER items_classify AFTER UPDATE OF price ON items
BEGIN
  UPDATE items SET kind = CASE WHEN new.price > 10 THEN 'big;' ELSE 'small' END
   WHERE id = new.id;
  INSERT INTO log VALUES ('updated; ok');
END;
SELECT 1;
";

const SQLITE_CASES: &[Case] = &[
    ok(
        "two simple statements",
        "SELECT 1;\nSELECT 2;\n",
        &["SELECT 1", "SELECT 2"],
        &[1, 2],
    ),
    ok(
        "trigger with CASE inside",
        SQLITE_TRIGGER,
        &[
            "CREATE TABLE items (id INTEGER PRIMARY KEY, price REAL, kind TEXT)",
            "CREATE TRIGGER items_classify AFTER UPDATE OF price ON items\nBEGIN\n  UPDATE items SET kind = CASE WHEN new.price > 10 THEN 'big;' ELSE 'small' END\n   WHERE id = new.id;\n  INSERT INTO log VALUES ('updated; ok');\nEND",
            "SELECT 1",
        ],
        &[1, 2, 8],
    ),
    ok(
        "CREATE TEMP TRIGGER IF NOT EXISTS with WHEN",
        "CREATE TEMP TRIGGER IF NOT EXISTS t1 BEFORE DELETE ON x WHEN old.id > 0 BEGIN\n  SELECT RAISE(ABORT, 'no; way');\n  DELETE FROM y WHERE id = old.id;\nEND;\ncreate temporary trigger t2 after insert on x begin select 1; end;",
        &[
            "CREATE TEMP TRIGGER IF NOT EXISTS t1 BEFORE DELETE ON x WHEN old.id > 0 BEGIN\n  SELECT RAISE(ABORT, 'no; way');\n  DELETE FROM y WHERE id = old.id;\nEND",
            "create temporary trigger t2 after insert on x begin select 1; end",
        ],
        &[1, 5],
    ),
    ok(
        "[bracketed identifiers] with ;",
        "CREATE TABLE [my;table] ([a;b] INTEGER);\nSELECT [a;b] FROM [my;table];",
        &[
            "CREATE TABLE [my;table] ([a;b] INTEGER)",
            "SELECT [a;b] FROM [my;table]",
        ],
        &[1, 2],
    ),
    ok(
        "backtick and double-quoted identifiers, doubled quotes",
        "SELECT `a;b`, \"c\"\"d;\", 'e''f;';\nSELECT 2",
        &["SELECT `a;b`, \"c\"\"d;\", 'e''f;'", "SELECT 2"],
        &[1, 2],
    ),
    ok(
        "backslash is literal in strings",
        "SELECT 'C:\\';\nSELECT 2;",
        &["SELECT 'C:\\'", "SELECT 2"],
        &[1, 2],
    ),
    ok(
        "block comments do not nest",
        "/* a /* b */ SELECT 1;",
        &["SELECT 1"],
        &[1],
    ),
    ok(
        "transactions: BEGIN and END are statements",
        "BEGIN TRANSACTION;\nINSERT INTO t VALUES (1);\nEND TRANSACTION;\nBEGIN;\nCOMMIT;",
        &[
            "BEGIN TRANSACTION",
            "INSERT INTO t VALUES (1)",
            "END TRANSACTION",
            "BEGIN",
            "COMMIT",
        ],
        &[1, 2, 3, 4, 5],
    ),
    ok(
        "CASE outside a trigger",
        "SELECT CASE 1 WHEN 1 THEN 'a' END;\nSELECT 2;",
        &["SELECT CASE 1 WHEN 1 THEN 'a' END", "SELECT 2"],
        &[1, 2],
    ),
    ok("empty input", "", &[], &[]),
    ok("comments only", "-- a;\n/* b; */", &[], &[]),
    ok(
        "missing final delimiter",
        "SELECT 1;\nSELECT 2",
        &["SELECT 1", "SELECT 2"],
        &[1, 2],
    ),
    ok(
        "CRLF line endings",
        "CREATE TRIGGER t AFTER INSERT ON x\r\nBEGIN\r\n  SELECT 1;\r\nEND;\r\nSELECT 2;\r\n",
        &["CREATE TRIGGER t AFTER INSERT ON x\r\nBEGIN\r\n  SELECT 1;\r\nEND", "SELECT 2"],
        &[1, 5],
    ),
];

const SQLITE_FAILURES: &[Failure] = &[
    unterminated("string", "SELECT 'abc;", 1, "string"),
    unterminated(
        "bracketed identifier",
        "SELECT 1;\nSELECT [abc;",
        2,
        "quoted identifier",
    ),
    unterminated(
        "double-quoted identifier",
        "SELECT \"a",
        1,
        "quoted identifier",
    ),
    unterminated("block comment", "\n/* abc", 2, "block comment"),
    unterminated(
        "trigger without END",
        "SELECT 1;\nCREATE TRIGGER t AFTER INSERT ON x BEGIN\n  SELECT CASE WHEN 1 THEN 2 END;\n",
        2,
        "BEGIN … END block",
    ),
];

#[test]
fn sqlite_corpus() {
    check_cases(Dialect::Sqlite, SQLITE_CASES);
}

#[test]
fn sqlite_failures() {
    check_failures(Dialect::Sqlite, SQLITE_FAILURES);
}

// ---------------------------------------------------------------------------------------------
// Across dialects
// ---------------------------------------------------------------------------------------------

/// The same text splits differently per dialect: each dialect's quoting rules apply.
#[test]
fn dialects_differ() {
    let src = "SELECT 'a\\'; SELECT 'b'";
    let pg: Vec<String> = split(src, Dialect::Postgres)
        .unwrap()
        .into_iter()
        .map(|s| s.sql)
        .collect();
    assert_eq!(pg, ["SELECT 'a\\'", "SELECT 'b'"]);
    // In MySQL `\'` escapes the quote, so the string runs on and the last `'` is left open.
    assert_eq!(
        split(src, Dialect::MySql),
        Err(SplitError::Unterminated {
            line: 1,
            what: "string"
        })
    );

    let src = "SELECT \"a;b\"; # c;\nSELECT 1";
    let sqls = |d| -> Vec<String> { split(src, d).unwrap().into_iter().map(|s| s.sql).collect() };
    assert_eq!(sqls(Dialect::MySql), ["SELECT \"a;b\"", "SELECT 1"]);
    assert_eq!(
        sqls(Dialect::Postgres),
        ["SELECT \"a;b\"", "# c", "SELECT 1"]
    );
}

/// Errors render with their line.
#[test]
fn errors_display_their_line() {
    let err = split("SELECT 1;\nCOPY t FROM stdin;\n", Dialect::Postgres).unwrap_err();
    assert_eq!(
        err.to_string(),
        "line 2: COPY … FROM stdin (inline data) is not supported"
    );
    let err = split("\n\nSELECT 'x", Dialect::Sqlite).unwrap_err();
    assert_eq!(err.to_string(), "line 3: unterminated string");
}
