#!/usr/bin/env python3
"""Times holdfast and its peers applying the same SQL migrations to PostgreSQL.

Called by bench/migrate/run.sh, which installs the peer tools and builds holdfast first.

Scenarios, each repeated --runs times with the tools' order rotated every repetition:
  (a) apply all N migrations to an empty, freshly created database;
  (b) run again on that database once everything is applied (nothing to do).
Every tool gets its own database per repetition (bench_<tool>_<i>), dropped afterwards.
A run is one process, timed with a monotonic clock from spawn to exit (start-up included).
After each run the database is checked: N tables t_* and, for tools that keep one,
N rows in the tool's history table. Any failure stops the benchmark with exit code 1.
"""

import argparse
import datetime
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

SECTION_HEADING = "## SQL migrations (PostgreSQL)"

INTRO = """\
# Benchmarks

Each capability of Holdfast that has a peer to compare with has a benchmark here: the script that
runs it, what it measures, and the last table it produced. Every table is reproduced by one
command from the repository root; the script installs the peer tools it needs (untimed) and
rewrites its own section of this file.

Read the **ratios**, not the absolute times: machines (and the other jobs sharing them) differ
and are noisy, but tools measured in one run, interleaved, on one machine compare fairly.
"""

# The same SQL for every tool; only file names and headers differ.
MIGRATION_SQL = """\
CREATE TABLE t_{n} (id bigint primary key, name text not null, created_at timestamptz default now());
CREATE INDEX t_{n}_name ON t_{n} (name);
INSERT INTO t_{n} (id, name) VALUES (1, 'x');
"""


class BenchError(Exception):
    pass


def run_capture(argv, **kw):
    """Runs a short helper command and returns its stdout (stripped); raises on failure."""
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       stdin=subprocess.DEVNULL, **kw)
    if p.returncode != 0:
        raise BenchError(f"{' '.join(argv)} failed ({p.returncode}):\n{p.stdout}")
    return p.stdout.strip()


# ---------------------------------------------------------------------------------------------
# The server


class Server:
    """The PostgreSQL server named by the base URL, and URLs for databases on it."""

    def __init__(self, url):
        parts = urlsplit(url)
        if parts.scheme not in ("postgres", "postgresql"):
            raise BenchError(f"not a postgres:// URL: {url}")
        query = dict(parse_qsl(parts.query))
        # Every tool talks to the server the same way: on loopback, without TLS, unless the
        # URL says otherwise (some tools default to TLS when the server offers it, some don't).
        query.setdefault("sslmode", "disable")
        self.parts = parts._replace(query=urlencode(query))
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 5432
        self.user = parts.username or "postgres"
        self.password = parts.password
        self.sslmode = query["sslmode"]
        self.admin_url = urlunsplit(self.parts)

    def url(self, db):
        return urlunsplit(self.parts._replace(path="/" + db))

    def display_url(self, db):
        """The URL for db as printed in the report: without the password."""
        parts = self.parts._replace(path="/" + db)
        if self.password is not None:
            host = parts.netloc.rsplit("@", 1)[1]
            parts = parts._replace(netloc=f"{self.user}:***@{host}")
        return urlunsplit(parts)

    def jdbc_url(self, db):
        return f"jdbc:postgresql://{self.host}:{self.port}/{db}?sslmode={self.sslmode}"

    def sql(self, statement, db=None):
        url = self.url(db) if db else self.admin_url
        return run_capture(["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-d", url,
                            "-c", statement])

    def version(self):
        return self.sql("SHOW server_version")

    def create(self, db):
        self.sql(f'CREATE DATABASE "{db}"')

    def drop(self, db):
        force = " WITH (FORCE)" if int(self.sql("SHOW server_version_num")) >= 130000 else ""
        self.sql(f'DROP DATABASE IF EXISTS "{db}"{force}')

    def count(self, db, statement):
        return int(self.sql(statement, db=db))


# ---------------------------------------------------------------------------------------------
# The tools. Each writes its own layout of the same migrations and says how to run it.


class Tool:
    name = ""              # used in database names and logs
    label = ""             # shown in the table
    history = None         # the tool's history table; None: it keeps none
    command_text = ""      # the command, as shown in BENCHMARKS.md
    note = ""              # how its files are laid out, where that is not obvious

    def __init__(self, bench):
        self.bench = bench
        self.dir = os.path.join(bench.work, self.name)

    def write(self, n):
        """Writes the n migrations into self.dir."""
        raise NotImplementedError

    def argv(self, db):
        raise NotImplementedError

    def env(self, db):
        return {}

    def version(self):
        raise NotImplementedError


class Holdfast(Tool):
    name, label, history = "holdfast", "holdfast", "holdfast_schema_history"
    command_text = "holdfast migrate up --database URL --dir DIR -q"
    note = "files `V<n>__<desc>.sql`"

    def write(self, n):
        for i in range(1, n + 1):
            write_file(self.dir, f"V{i}__t_{i}.sql", MIGRATION_SQL.format(n=i))

    def argv(self, db):
        return [self.bench.holdfast, "migrate", "up", "--database", self.bench.server.url(db),
                "--dir", self.dir, "-q"]

    def version(self):
        v = run_capture([self.bench.holdfast, "--version"])
        try:
            rev = run_capture(["git", "-C", self.bench.root, "rev-parse", "--short", "HEAD"])
            dirty = run_capture(["git", "-C", self.bench.root, "status", "--porcelain",
                                 "--untracked-files=no", "--", "crates", "Cargo.lock"])
            v += f" (git {rev}{', crates/ modified' if dirty else ''})"
        except (BenchError, OSError):
            pass
        return v


class Sqlx(Tool):
    name, label, history = "sqlx", "sqlx-cli", "_sqlx_migrations"
    command_text = "sqlx migrate run --database-url URL --source DIR"
    note = "files `<n>_<desc>.sql`"

    def write(self, n):
        for i in range(1, n + 1):
            write_file(self.dir, f"{i}_t_{i}.sql", MIGRATION_SQL.format(n=i))

    def argv(self, db):
        return [os.path.join(self.bench.tools, "bin", "sqlx"), "migrate", "run",
                "--database-url", self.bench.server.url(db), "--source", self.dir]

    def version(self):
        return run_capture([os.path.join(self.bench.tools, "bin", "sqlx"), "--version"])


class Refinery(Tool):
    name, label, history = "refinery", "refinery_cli", "refinery_schema_history"
    command_text = "DATABASE_URL=URL refinery migrate -e DATABASE_URL -p DIR"
    note = "files `V<n>__<desc>.sql`"

    def write(self, n):
        for i in range(1, n + 1):
            write_file(self.dir, f"V{i}__t_{i}.sql", MIGRATION_SQL.format(n=i))

    def argv(self, db):
        return [os.path.join(self.bench.tools, "bin", "refinery"), "migrate",
                "-e", "DATABASE_URL", "-p", self.dir]

    def env(self, db):
        return {"DATABASE_URL": self.bench.server.url(db)}

    def version(self):
        return run_capture([os.path.join(self.bench.tools, "bin", "refinery"), "--version"])


class Dbmate(Tool):
    name, label, history = "dbmate", "dbmate", "schema_migrations"
    command_text = "dbmate --url URL --migrations-dir DIR --no-dump-schema up"
    note = "files `<n>_<desc>.sql` with `-- migrate:up` / `-- migrate:down` markers"

    def write(self, n):
        for i in range(1, n + 1):
            body = "-- migrate:up\n" + MIGRATION_SQL.format(n=i) + "\n-- migrate:down\n"
            write_file(self.dir, f"{i}_t_{i}.sql", body)

    def exe(self):
        return os.path.join(self.bench.tools, "venv", "bin", "dbmate")

    def argv(self, db):
        return [self.exe(), "--url", self.bench.server.url(db), "--migrations-dir", self.dir,
                "--no-dump-schema", "up"]

    def version(self):
        return run_capture([self.exe(), "--version"]).replace(" version", "")


class Liquibase(Tool):
    name, label, history = "liquibase", "Liquibase", "databasechangelog"
    command_text = ("liquibase --show-banner=false --changelog-file=changelog.yaml "
                    "--url=jdbc:postgresql://127.0.0.1:5432/DB?sslmode=disable --username=postgres update")
    note = ("the npm package's bundled launcher `dist/liquibase/liquibase`; changelog.yaml includes "
            "one formatted-SQL file per migration (`--liquibase formatted sql`, `--changeset bench:<n>`)")

    def home(self):
        return os.path.join(self.bench.tools, "npm", "node_modules", "liquibase", "dist", "liquibase")

    def write(self, n):
        master = ["databaseChangeLog:"]
        for i in range(1, n + 1):
            name = f"V{i}__t_{i}.sql"
            body = f"--liquibase formatted sql\n\n--changeset bench:{i}\n" + MIGRATION_SQL.format(n=i)
            write_file(os.path.join(self.dir, "migrations"), name, body)
            master += ["  - include:", f"      file: migrations/{name}",
                       "      relativeToChangelogFile: true"]
        write_file(self.dir, "changelog.yaml", "\n".join(master) + "\n")

    def argv(self, db):
        # The npm package's own launcher script (the package's node-liquibase bin only wraps it).
        argv = [os.path.join(self.home(), "liquibase"), "--show-banner=false",
                "--changelog-file=changelog.yaml", f"--url={self.bench.server.jdbc_url(db)}",
                f"--username={self.bench.server.user}"]
        if self.bench.server.password:
            argv.append(f"--password={self.bench.server.password}")
        return argv + ["update"]

    def env(self, db):
        return {"LIQUIBASE_HOME": self.home()}

    def version(self):
        out = run_capture([os.path.join(self.home(), "liquibase"), "--version"],
                          env=dict(os.environ, LIQUIBASE_HOME=self.home()))
        m = re.search(r"Liquibase Version: (\S+)", out)
        with open(os.path.join(self.bench.tools, "npm", "node_modules", "liquibase",
                               "package.json")) as f:
            npm = json.load(f)["version"]
        java = run_capture(["java", "-version"]).splitlines()[0]
        java = re.sub(r'^\S+ version "([^"]+)".*', r"Java \1", java)
        return f"Liquibase {m.group(1) if m else '?'} (npm liquibase@{npm}, {java})"


class Psql(Tool):
    """The floor for (a): the same files, one transaction each, in one psql process."""
    name, label, history = "psql", "psql (floor)", None
    command_text = "psql -X -q -v ON_ERROR_STOP=1 -d URL -f apply.sql"
    note = "apply.sql holds `BEGIN;`, `\\i <file>`, `COMMIT;` for each file; no history table"

    def write(self, n):
        files = os.path.join(self.dir, "files")
        script = []
        for i in range(1, n + 1):
            name = f"V{i}__t_{i}.sql"
            write_file(files, name, MIGRATION_SQL.format(n=i))
            path = os.path.join(files, name).replace("'", "''")
            script += ["BEGIN;", f"\\i '{path}'", "COMMIT;"]
        write_file(self.dir, "apply.sql", "\n".join(script) + "\n")

    def argv(self, db):
        return ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", self.bench.server.url(db),
                "-f", os.path.join(self.dir, "apply.sql")]

    def version(self):
        return run_capture(["psql", "--version"])


TOOLS = [Holdfast, Sqlx, Refinery, Dbmate, Liquibase, Psql]


def write_file(folder, name, text):
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "w") as f:
        f.write(text)


# ---------------------------------------------------------------------------------------------
# The benchmark


class Bench:
    def __init__(self, args):
        self.root = os.path.abspath(args.root)
        self.tools = os.path.abspath(args.tools)
        self.holdfast = os.path.abspath(args.holdfast)
        self.n = args.migrations
        self.runs = args.runs
        self.synchronous_commit = args.synchronous_commit
        self.server = Server(args.url)
        self.work = os.path.join(self.tools, "run")
        self.logs = os.path.join(self.work, "logs")
        shutil.rmtree(self.work, ignore_errors=True)
        os.makedirs(self.logs)
        # holdfast and the psql floor always run: the ratios are to them.
        only = set(args.only.split(",")) if args.only else None
        self.all = [cls(self) for cls in TOOLS
                    if only is None or cls.name in only or cls in (Holdfast, Psql)]
        # Tools' own settings from the caller's environment must not leak into the runs.
        self.base_env = {k: v for k, v in os.environ.items()
                         if not k.startswith(("HOLDFAST_", "DATABASE_URL", "LIQUIBASE_", "PG"))}
        # times[scenario][tool name] = [seconds, ...]
        self.times = {"a": {t.name: [] for t in self.all},
                      "b": {t.name: [] for t in self.all if t.history}}

    def log(self, msg):
        print(f"[bench] {msg}", file=sys.stderr, flush=True)

    def timed(self, tool, db, what):
        """Runs the tool once against db; returns wall-clock seconds. Output goes to its log."""
        argv = tool.argv(db)
        env = dict(self.base_env, **tool.env(db))
        log_path = os.path.join(self.logs, f"{tool.name}.log")
        with open(log_path, "a") as log:
            log.write(f"\n===== {what} on {db}: {' '.join(argv)}\n")
            log.flush()
            start = time.perf_counter()
            rc = subprocess.call(argv, cwd=tool.dir, env=env, stdin=subprocess.DEVNULL,
                                 stdout=log, stderr=subprocess.STDOUT)
            elapsed = time.perf_counter() - start
        if rc != 0:
            with open(log_path) as f:
                tail = "".join(f.readlines()[-30:])
            raise BenchError(f"{tool.label} failed ({what} on {db}, exit code {rc}); "
                             f"end of {log_path}:\n{tail}")
        return elapsed

    def check(self, tool, db, what):
        tables = self.server.count(
            db, "SELECT count(*) FROM information_schema.tables "
                "WHERE table_schema = 'public' AND table_name LIKE 't\\_%'")
        if tables != self.n:
            raise BenchError(f"{tool.label}: {what} on {db} left {tables} tables t_*, expected {self.n}")
        if tool.history:
            rows = self.server.count(db, f"SELECT count(*) FROM {tool.history}")
            if rows != self.n:
                raise BenchError(f"{tool.label}: {what} on {db} left {rows} rows in "
                                 f"{tool.history}, expected {self.n}")

    def one(self, tool, tag, record):
        """Scenario (a), then (b), on a fresh database of the tool's own."""
        db = f"bench_{tool.name}_{tag}"
        self.server.drop(db)
        self.server.create(db)
        if self.synchronous_commit:
            self.server.sql(f'ALTER DATABASE "{db}" SET synchronous_commit = {self.synchronous_commit}')
        try:
            t = self.timed(tool, db, "(a) apply all")
            self.check(tool, db, "(a) apply all")
            if record:
                self.times["a"][tool.name].append(t)
            line = f"{tool.label:<13} (a) {t * 1000:9.0f} ms"
            if tool.history:
                t = self.timed(tool, db, "(b) no-op")
                self.check(tool, db, "(b) no-op")
                if record:
                    self.times["b"][tool.name].append(t)
                line += f"   (b) {t * 1000:7.0f} ms"
            self.log(f"  {line}")
        finally:
            self.server.drop(db)

    def drop_leftovers(self):
        names = "|".join(t.name for t in self.all)
        stale = self.server.sql("SELECT datname FROM pg_database "
                                f"WHERE datname ~ '^bench_({names})_([0-9]+|warmup)$'")
        for db in filter(None, stale.splitlines()):
            self.log(f"dropping leftover database {db}")
            self.server.drop(db)

    def run(self):
        self.log(f"writing {self.n} migrations per tool under {self.work}")
        for tool in self.all:
            tool.write(self.n)
        self.drop_leftovers()
        started = time.monotonic()
        # One untimed round first: warms the page cache and the JVM's class-data archive, and
        # shows that every tool works before anything is recorded.
        self.log("warm-up round (not recorded)")
        for tool in self.all:
            self.one(tool, "warmup", record=False)
        k = len(self.all)
        for i in range(self.runs):
            order = self.all[i % k:] + self.all[:i % k]
            self.log(f"repetition {i + 1}/{self.runs}: {', '.join(t.name for t in order)}")
            for tool in order:
                self.one(tool, str(i + 1), record=True)
        self.elapsed = time.monotonic() - started
        with open(os.path.join(self.work, "times.json"), "w") as f:
            json.dump(self.times, f, indent=1)


# ---------------------------------------------------------------------------------------------
# The report


def fmt_ms(seconds):
    ms = seconds * 1000
    return f"{ms:,.0f} ms" if ms >= 100 else f"{ms:.1f} ms"


def fmt_cell(times):
    """Median, then the range over the repetitions."""
    return (f"{fmt_ms(statistics.median(times))} "
            f"<sub>({fmt_ms(min(times)).removesuffix(' ms')}–{fmt_ms(max(times))})</sub>")


def fmt_ratio(x):
    return f"{x:.2f}×"


def machine_facts(bench):
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    nproc = run_capture(["nproc"])
    sync = bench.synchronous_commit or bench.server.sql("SHOW synchronous_commit")
    return {"nproc": nproc, "cpu": cpu, "os": f"{platform.system()} {platform.release()}",
            "postgres": bench.server.version(),
            "durability": f"fsync={bench.server.sql('SHOW fsync')}, synchronous_commit={sync}"
                          + (" (set on each benchmark database)" if bench.synchronous_commit else "")}


def report(bench, versions, facts):
    med = {s: {name: statistics.median(ts) for name, ts in by_tool.items()}
           for s, by_tool in bench.times.items()}
    hf_a, hf_b = med["a"]["holdfast"], med["b"]["holdfast"]
    rows = [
        f"| tool | version | (a) apply {bench.n} to an empty database | ratio to holdfast "
        "| (b) re-run, nothing to apply | ratio to holdfast |",
        "| --- | --- | ---: | ---: | ---: | ---: |",
    ]
    for tool in bench.all:
        a = med["a"][tool.name]
        b = med["b"].get(tool.name)
        cells_b = "n/a | n/a"
        if b is not None:
            cells_b = f"{fmt_cell(bench.times['b'][tool.name])} | {fmt_ratio(b / hf_b)}"
        rows.append(f"| {tool.label} | {versions[tool.name]} | {fmt_cell(bench.times['a'][tool.name])} "
                    f"| {fmt_ratio(a / hf_a)} | {cells_b} |")
    table = "\n".join(rows)
    floor = med["a"]["psql"]
    today = datetime.date.today().isoformat()
    commands = "\n".join(f"- {t.label}: {t.note}" for t in bench.all if t.note)
    command_block = "\n".join(t.command_text for t in bench.all)
    return f"""{SECTION_HEADING}

Reproduce: `bench/migrate/run.sh` (repetitions: `HOLDFAST_BENCH_RUNS`, default 5; server:
`HOLDFAST_BENCH_POSTGRES_URL`, default `postgres://postgres@127.0.0.1:5432/postgres`).

{bench.n} small migrations, each `CREATE TABLE t_<n> (…)`, `CREATE INDEX` on it and one `INSERT`,
the same SQL for every tool (only file names and headers differ), one transaction per migration.
(a) applies all of them to an empty, freshly created database; (b) runs the tool again once
everything is applied, the no-op that every deploy pays. Each time is one process from spawn to
exit (start-up included) against a database of the tool's own on the local server, without TLS;
the table shows the median of {bench.runs} repetitions, tools interleaved (order rotated each
repetition) after one untimed warm-up round, and every run was checked to leave {bench.n} tables
and {bench.n} history rows. Ratio = the tool's median / holdfast's median: above 1 means holdfast
is faster.

Measured {today}: {facts['nproc']} cores ({facts['cpu']}), {facts['os']}, PostgreSQL
{facts['postgres']} with {facts['durability']}; the whole run took {bench.elapsed / 60:.1f}
minutes. Cells: median <sub>(fastest–slowest)</sub>.

{table}

(a) holdfast / psql floor: **{fmt_ratio(hf_a / floor)}** (psql runs the same files, `BEGIN; \\i file; COMMIT;`
each, in one process with no history table: the least any tool can cost).

How to read it: (a) is mostly the server's own work (creating {bench.n} tables with their indexes
and committing {bench.n} transactions), which psql's row measures alone; a ratio near 1 there means
the tool adds little on top, and differences smaller than the fastest–slowest ranges are noise.
(b) is almost all the tool's own cost: process start-up (a JVM for Liquibase), connecting, reading
and checking the {bench.n} files, reading the history table.

The commands run, each from its own folder of migrations (URL = `{bench.server.display_url("DB")}`, DB =
`bench_<tool>_<i>`):

```sh
{command_block}
```

{commands}
"""


def write_benchmarks_md(path, section):
    text = open(path).read() if os.path.exists(path) else INTRO
    start = text.find(SECTION_HEADING)
    if start < 0:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        nxt = text.find("\n## ", start + len(SECTION_HEADING))
        rest = text[nxt + 1:] if nxt >= 0 else ""
        text = text[:start] + section + ("\n" + rest if rest else "")
    with open(path, "w") as f:
        f.write(text)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--root", required=True)
    p.add_argument("--tools", required=True)
    p.add_argument("--holdfast", required=True)
    p.add_argument("--url", required=True)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--migrations", type=int, default=500)
    p.add_argument("--synchronous-commit", default="", choices=["", "on", "off", "local"],
                   help="set on each benchmark database (default: the server's own setting)")
    p.add_argument("--only", default="", help="comma-separated peer tools to run (default: all)")
    p.add_argument("--no-write", action="store_true")
    args = p.parse_args()
    if args.runs < 1 or args.migrations < 1:
        p.error("--runs and --migrations must be at least 1")
    try:
        bench = Bench(args)
        facts = machine_facts(bench)
        versions = {t.name: t.version() for t in bench.all}
        bench.log(f"PostgreSQL {facts['postgres']}, {facts['nproc']} cores; " +
                  "; ".join(versions.values()))
        bench.run()
    except (BenchError, OSError) as e:
        print(f"[bench] ERROR: {e}", file=sys.stderr)
        return 1
    section = report(bench, versions, facts)
    print(section)
    if args.no_write or args.only:
        bench.log("BENCHMARKS.md left alone (--no-write or a partial --only run)")
    else:
        path = os.path.join(args.root, "BENCHMARKS.md")
        write_benchmarks_md(path, section)
        bench.log(f"wrote {path}")
    bench.log(f"whole run: {bench.elapsed:.0f} s; logs and raw times in {bench.work}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
