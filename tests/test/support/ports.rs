//! Local TCP ports for fixtures and for "nothing listens here" cases.

/// A port nothing listens on right now (bound once by the kernel's choice, then released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}
