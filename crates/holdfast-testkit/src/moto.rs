//! moto server (PyPI `moto[server]`): CloudFormation, Secrets Manager, SSM, RDS, Route 53… on
//! 127.0.0.1, one fresh server per [`Moto`], so tests share no AWS state.
//!
//! The executable, first found wins:
//! 1. `HOLDFAST_TEST_MOTO_SERVER`: a path to `moto_server` (scripts/test's `ensure_moto` installs
//!    `moto[server]` into the venv `target/moto-venv` and exports this);
//! 2. `target/moto-venv/bin/moto_server` of this workspace (the same venv, for `cargo test` run
//!    by hand after scripts/test has installed it once);
//! 3. `moto_server` on `PATH`.
//!
//! None found, or a server that does not answer within a minute: the test panics and says how
//! to install it. The server is started as `moto_server -H 127.0.0.1 -p 0` (the system picks a
//! free port, so parallel tests never race for one), its port read from its own log line
//! (` * Running on http://127.0.0.1:PORT`), and it is ready once it answers HTTP there. It is
//! killed when the [`Moto`] is dropped.
//!
//! [`Moto::start_tls`] serves HTTPS instead, with a self-signed certificate for 127.0.0.1 made
//! by the `openssl` command: a client trusts it through `SSL_CERT_FILE=`[`Moto::ca_file`] (read
//! by rustls-native-certs), so a test can make a real TLS connection.
//!
//! Talking to it: any region, and fixed dummy credentials ([`AWS_TEST_ENV`] for a child process).

use crate::server::{accepts, http_answers, log_tail};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The environment of a process that talks to moto: fixed dummy credentials, a region, and no
/// probing of an instance-metadata address.
pub const AWS_TEST_ENV: [(&str, &str); 5] = [
    ("AWS_ACCESS_KEY_ID", "testing"),
    ("AWS_SECRET_ACCESS_KEY", "testing"),
    ("AWS_REGION", "us-east-1"),
    ("AWS_DEFAULT_REGION", "us-east-1"),
    ("AWS_EC2_METADATA_DISABLED", "true"),
];

/// The region of [`AWS_TEST_ENV`].
pub const AWS_TEST_REGION: &str = "us-east-1";

/// How long a server may take to answer.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// A running `moto_server`, killed on drop.
pub struct Moto {
    child: Child,
    port: u16,
    tls: bool,
    /// Its log, and its certificate and key for TLS.
    dir: tempfile::TempDir,
}

impl Moto {
    /// Starts a fresh server (plain HTTP) and waits until it answers.
    ///
    /// # Panics
    /// When `moto_server` is not installed or does not answer in time.
    pub fn start() -> Moto {
        Moto::spawn(false)
    }

    /// Starts a fresh server on HTTPS, with a self-signed certificate for 127.0.0.1 (see
    /// [`Moto::ca_file`]), and waits until it accepts connections.
    ///
    /// # Panics
    /// As [`Moto::start`], and when the `openssl` command cannot make the certificate.
    pub fn start_tls() -> Moto {
        Moto::spawn(true)
    }

    fn spawn(tls: bool) -> Moto {
        let exe = executable();
        let dir = tempfile::tempdir().expect("moto temp dir");
        let log_path = dir.path().join("moto.log");
        let log = std::fs::File::create(&log_path).expect("moto log file");
        let err = log.try_clone().expect("moto log file");
        let mut command = Command::new(&exe);
        command.args(["-H", "127.0.0.1", "-p", "0"]);
        if tls {
            self_signed_certificate(dir.path());
            command
                .arg("-s")
                .arg("-c")
                .arg(dir.path().join("cert.pem"))
                .arg("-k")
                .arg(dir.path().join("key.pem"));
        }
        let mut child = command
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}{HOW_TO_INSTALL}", exe.display()));
        let deadline = Instant::now() + START_TIMEOUT;
        let mut port = None;
        loop {
            let text = std::fs::read_to_string(&log_path).unwrap_or_default();
            if let Ok(Some(status)) = child.try_wait() {
                panic!(
                    "{} exited ({status}) before answering:\n{}",
                    exe.display(),
                    log_tail(&text)
                );
            }
            if port.is_none() {
                port = listening_port(&text, if tls { "https" } else { "http" });
            }
            if let Some(port) = port {
                let ready = if tls {
                    accepts(port)
                } else {
                    http_answers(port, "/moto-api/")
                };
                if ready {
                    return Moto {
                        child,
                        port,
                        tls,
                        dir,
                    };
                }
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "{} did not answer within {}s:\n{}",
                    exe.display(),
                    START_TIMEOUT.as_secs(),
                    log_tail(&text)
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `http://127.0.0.1:PORT` (`https://` for [`Moto::start_tls`]), for `--endpoint-url` /
    /// `AWS_ENDPOINT_URL`.
    #[must_use]
    pub fn endpoint(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://127.0.0.1:{}", self.port)
    }

    /// The certificate to trust (`SSL_CERT_FILE`) for a server from [`Moto::start_tls`].
    #[must_use]
    pub fn ca_file(&self) -> Option<PathBuf> {
        self.tls.then(|| self.dir.path().join("cert.pem"))
    }

    /// The port it listens on.
    #[must_use]
    pub fn port(&self) -> u16 {
        self.port
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const HOW_TO_INSTALL: &str = "\nmoto_server is needed: run scripts/test once (its ensure_moto \
    installs moto[server] into target/moto-venv), or `pip install 'moto[server]'`, or set \
    HOLDFAST_TEST_MOTO_SERVER to a moto_server executable";

/// Where `moto_server` is (see the module documentation).
fn executable() -> PathBuf {
    if let Some(path) = std::env::var_os("HOLDFAST_TEST_MOTO_SERVER").filter(|p| !p.is_empty()) {
        return PathBuf::from(path);
    }
    let venv =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/moto-venv/bin/moto_server");
    if venv.is_file() {
        return venv;
    }
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("moto_server"))
            .find(|p| p.is_file())
    });
    on_path.unwrap_or_else(|| panic!("moto_server not found{HOW_TO_INSTALL}"))
}

/// A self-signed certificate for 127.0.0.1, `cert.pem` and `key.pem` in `dir`: an end-entity
/// certificate (`CA:FALSE`), as rustls accepts when it is itself the trusted root.
fn self_signed_certificate(dir: &Path) {
    let output = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-addext",
            "basicConstraints=critical,CA:FALSE",
            "-keyout",
        ])
        .arg(dir.join("key.pem"))
        .arg("-out")
        .arg(dir.join("cert.pem"))
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run openssl to make moto's certificate: {e}"));
    assert!(
        output.status.success(),
        "openssl could not make moto's certificate: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The port of werkzeug's ` * Running on SCHEME://127.0.0.1:PORT` line.
fn listening_port(log: &str, scheme: &str) -> Option<u16> {
    let marker = format!("Running on {scheme}://127.0.0.1:");
    log.lines().find_map(|line| {
        let rest = line.split(marker.as_str()).nth(1)?;
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        digits.parse().ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_port_from_werkzeugs_line() {
        let log = "WARNING: This is a development server.\n * Running on http://127.0.0.1:34641\nPress CTRL+C to quit\n";
        assert_eq!(listening_port(log, "http"), Some(34641));
        assert_eq!(listening_port(log, "https"), None);
        assert_eq!(listening_port("starting\n", "http"), None);
    }
}
