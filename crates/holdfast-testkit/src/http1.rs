//! HTTP/1.1 messages for the test kit's small servers (the fault proxy, the Lambda Runtime API,
//! the custom-resource response receiver): read one request or response from a stream, write one
//! back with its framing recomputed.

use crate::fault_proxy::crc32;
use std::io::{self, BufRead, BufReader, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// An HTTP/1.1 message: the start line, the headers as sent, and the body.
pub(crate) struct Message {
    pub(crate) start: String,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl Message {
    /// A response with `status` and `body` (framing headers are added on writing).
    pub(crate) fn response(status: u16, content_type: &str, body: Vec<u8>) -> Message {
        let reason = match status {
            200 => "OK",
            202 => "Accepted",
            400 => "Bad Request",
            401 => "Unauthorized",
            404 => "Not Found",
            500 => "Internal Server Error",
            _ => "Status",
        };
        Message {
            start: format!("HTTP/1.1 {status} {reason}"),
            headers: vec![("Content-Type".into(), content_type.into())],
            body,
        }
    }

    /// The method and path of a request (`("GET", "/x?y")`).
    pub(crate) fn method_and_path(&self) -> (&str, &str) {
        let mut parts = self.start.split(' ');
        (parts.next().unwrap_or(""), parts.next().unwrap_or(""))
    }

    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn wants_close(&self) -> bool {
        self.header("connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close"))
            || self.start.ends_with("HTTP/1.0")
    }

    /// Writes the message with the body it has now: `Content-Length` (and for responses
    /// `x-amz-crc32`) recomputed, framing and hop-by-hop headers of the original dropped.
    pub(crate) fn write_to(&self, out: &mut impl Write, response: bool) -> io::Result<()> {
        let mut head = format!("{}\r\n", self.start);
        for (name, value) in &self.headers {
            let lower = name.to_ascii_lowercase();
            if matches!(
                lower.as_str(),
                "content-length" | "transfer-encoding" | "connection" | "keep-alive" | "expect"
            ) || (response && lower == "x-amz-crc32")
            {
                continue;
            }
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str(&format!("Content-Length: {}\r\n", self.body.len()));
        if response {
            head.push_str(&format!("x-amz-crc32: {}\r\n", crc32(&self.body)));
        }
        head.push_str("\r\n");
        let mut bytes = head.into_bytes();
        bytes.extend_from_slice(&self.body);
        out.write_all(&bytes)?;
        out.flush()
    }
}

/// Reads one message; `Ok(None)` on a clean end of stream before its first byte. Bodies: by
/// `Content-Length`, chunked, or (responses only) to the end of the stream.
pub(crate) fn read_message(
    input: &mut impl BufRead,
    response: bool,
) -> io::Result<Option<Message>> {
    let mut start = String::new();
    if input.read_line(&mut start)? == 0 {
        return Ok(None);
    }
    let start = start.trim_end().to_string();
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if input.read_line(&mut line)? == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "end of stream in headers",
            ));
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_string(), value.trim().to_string()));
        }
    }
    let mut message = Message {
        start,
        headers,
        body: Vec::new(),
    };
    let chunked = message
        .header("transfer-encoding")
        .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    if chunked {
        loop {
            let mut size = String::new();
            input.read_line(&mut size)?;
            let size = usize::from_str_radix(size.trim().split(';').next().unwrap_or(""), 16)
                .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "bad chunk size"))?;
            if size == 0 {
                // Trailers, up to the empty line.
                loop {
                    let mut line = String::new();
                    if input.read_line(&mut line)? == 0 || line.trim_end().is_empty() {
                        break;
                    }
                }
                break;
            }
            let at = message.body.len();
            message.body.resize(at + size, 0);
            input.read_exact(&mut message.body[at..])?;
            let mut crlf = String::new();
            input.read_line(&mut crlf)?;
        }
    } else if let Some(length) = message.header("content-length") {
        let length: usize = length
            .parse()
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "bad Content-Length"))?;
        message.body.resize(length, 0);
        input.read_exact(&mut message.body)?;
    } else if response {
        let status = message.start.split(' ').nth(1).unwrap_or("");
        if !(status.starts_with('1') || status == "204" || status == "304") {
            input.read_to_end(&mut message.body)?;
        }
    }
    Ok(Some(message))
}

/// What a [`Server`] does with each request: the response to write. It may block (a long poll).
pub(crate) type Handler = Arc<dyn Fn(&Message) -> Message + Send + Sync>;

/// A small HTTP/1.1 server on a free port of 127.0.0.1: one thread per connection, keep-alive,
/// each request answered by the handler. Stops on drop (its connections are shut down; a handler
/// blocked in a long poll must be woken by its owner first).
pub(crate) struct Server {
    port: u16,
    stop: Arc<AtomicBool>,
    connections: Arc<Mutex<Vec<TcpStream>>>,
    accept: Option<JoinHandle<()>>,
}

impl Server {
    /// Starts serving.
    ///
    /// # Panics
    /// When no port can be bound or no thread started.
    pub(crate) fn start(name: &str, handler: Handler) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a local port");
        let port = listener.local_addr().expect("local address").port();
        let stop = Arc::new(AtomicBool::new(false));
        let connections = Arc::new(Mutex::new(Vec::new()));
        let (accept_stop, accept_connections) = (Arc::clone(&stop), Arc::clone(&connections));
        let thread_name = name.to_owned();
        let accept = std::thread::Builder::new()
            .name(format!("{name}-accept"))
            .spawn(move || {
                for stream in listener.incoming() {
                    if accept_stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let _ = stream.set_nodelay(true);
                    if let Ok(clone) = stream.try_clone() {
                        accept_connections
                            .lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner)
                            .push(clone);
                    }
                    let handler = Arc::clone(&handler);
                    let stop = Arc::clone(&accept_stop);
                    let _ = std::thread::Builder::new()
                        .name(format!("{thread_name}-conn"))
                        .spawn(move || {
                            let _ = serve(stream, &handler, &stop);
                        });
                }
            })
            .expect("start a server thread");
        Server {
            port,
            stop,
            connections,
            accept: Some(accept),
        }
    }

    /// The port it listens on.
    pub(crate) fn port(&self) -> u16 {
        self.port
    }
}

fn serve(stream: TcpStream, handler: &Handler, stop: &AtomicBool) -> io::Result<()> {
    let mut writer = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    while let Some(request) = read_message(&mut reader, false)? {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let response = handler(&request);
        response.write_to(&mut writer, true)?;
        if request.wants_close() {
            break;
        }
    }
    Ok(())
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
        for conn in self
            .connections
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .drain(..)
        {
            let _ = conn.shutdown(Shutdown::Both);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_chunked_and_sized_messages() {
        let raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n2\r\nef\r\n0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nxy";
        let mut input = BufReader::new(&raw[..]);
        assert_eq!(
            read_message(&mut input, true).unwrap().unwrap().body,
            b"abcdef"
        );
        assert_eq!(read_message(&mut input, true).unwrap().unwrap().body, b"xy");
        assert!(read_message(&mut input, true).unwrap().is_none());
    }
}
