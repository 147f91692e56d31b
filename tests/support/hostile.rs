//! Loopback servers of ours that misbehave on purpose, for the hostile-peer suite: each answers
//! every connection with one behaviour, in a thread of its own.
use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

/// How a hostile server opens a connection before it misbehaves.
#[derive(Clone, Copy)]
pub enum Opening {
    /// Waits for the client's first TLS record (the ClientHello), like a TLS server.
    ReadsHello,
    /// Starts at once, like an SSH server.
    SpeaksFirst,
}

/// A server answering every connection with `behave`; returns its port. Its threads end with
/// the test process.
pub fn hostile(opening: Opening, behave: fn(&mut TcpStream)) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut s = stream;
                let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
                if let Opening::ReadsHello = opening {
                    let mut header = [0u8; 5];
                    let _ = s.read_exact(&mut header);
                    let len = usize::from(u16::from_be_bytes([header[3], header[4]]));
                    let mut body = vec![0u8; len];
                    let _ = s.read_exact(&mut body);
                }
                let _ = s.set_write_timeout(Some(Duration::from_secs(30)));
                behave(&mut s);
            });
        }
    });
    port
}
