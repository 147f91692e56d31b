//! systemd socket activation: listening sockets handed over by the service manager
//! (`LISTEN_PID`, `LISTEN_FDS`, descriptors from 3 on), as `sd_listen_fds(3)` describes.
use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpListener};
use std::os::fd::{FromRawFd, OwnedFd};

/// The first descriptor passed (`SD_LISTEN_FDS_START`).
const FIRST_FD: i32 = 3;

/// At most this many descriptors are taken; more is a broken environment, not a real setup.
const MOST_FDS: i32 = 1024;

/// The TCP listeners passed to this process, by their local address; none when the variables
/// are absent or meant for another process.
pub fn inherited() -> Result<BTreeMap<SocketAddr, TcpListener>, String> {
    let ours = std::env::var("LISTEN_PID")
        .ok()
        .and_then(|p| p.trim().parse::<u32>().ok())
        .is_some_and(|p| p == std::process::id());
    let Some(count) = std::env::var("LISTEN_FDS").ok().filter(|_| ours) else {
        return Ok(BTreeMap::new());
    };
    let count: i32 = match count.trim().parse() {
        Ok(n) if (0..=MOST_FDS).contains(&n) => n,
        _ => return Err(format!("LISTEN_FDS={count:?} is not a number of sockets")),
    };
    let mut sockets = BTreeMap::new();
    for fd in FIRST_FD..FIRST_FD + count {
        // SAFETY: LISTEN_PID names this process, so by the protocol the service manager opened
        // these descriptors for it and nothing else in the process owns them.
        let owned = unsafe { OwnedFd::from_raw_fd(fd) };
        let socket = TcpListener::from(owned);
        let addr = socket.local_addr().map_err(|e| {
            format!("socket activation: descriptor {fd} is not a TCP listening socket: {e}")
        })?;
        socket
            .set_nonblocking(true)
            .map_err(|e| format!("socket activation: descriptor {fd} ({addr}): {e}"))?;
        sockets.insert(addr, socket);
    }
    Ok(sockets)
}
