//! A real `redis-server` (Debian's package) on a free loopback port, for the tests only:
//! started by the test, killed when dropped. No mock of Redis anywhere.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running `redis-server`, with append-only persistence (`appendfsync always`), so that a
/// restart after `SIGKILL` keeps every acknowledged write.
#[derive(Debug)]
pub struct RedisServer {
    pub port: u16,
    dir: PathBuf,
    child: Option<Child>,
    /// Arguments beyond the port, the directory and persistence.
    extra: Vec<String>,
    persistent: bool,
}

impl RedisServer {
    /// Starts one on a free port. Fails the test (never skips it) when `redis-server` is
    /// missing: `.ci/run` installs it.
    pub fn start() -> Self {
        Self::start_with(true, &[])
    }

    /// One without any persistence: a restart starts empty (as Redis does with RDB only or
    /// `appendfsync everysec` after a crash, at worst).
    pub fn start_without_persistence() -> Self {
        Self::start_with(false, &[])
    }

    /// One with more arguments (`--replicaof`, `--user` ...); `{port}` in one is replaced by
    /// the server's port, and with `--tls-port {port}` the plain port is closed.
    pub fn start_with(persistent: bool, extra: &[&str]) -> Self {
        let port = free_port();
        let dir =
            std::env::temp_dir().join(format!("jwtguard-redis-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a data directory");
        let mut server = Self {
            port,
            dir,
            child: None,
            extra: extra.iter().map(|s| (*s).to_owned()).collect(),
            persistent,
        };
        server.restart();
        server
    }

    /// The server's data directory (certificates for TLS go there).
    pub fn dir(&self) -> &std::path::Path {
        &self.dir
    }

    /// `redis-cli` against this server, its answer as text (panics on failure).
    pub fn cli(&self, args: &[&str]) -> String {
        cli(self.port, args)
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Starts the server (again) on the same port and data directory, and waits until it
    /// answers.
    pub fn restart(&mut self) {
        let persistence = if self.persistent {
            ["--appendonly", "yes", "--appendfsync", "always"]
        } else {
            ["--appendonly", "no", "--appendfsync", "no"]
        };
        let port = if self.extra.iter().any(|a| a == "--tls-port") {
            "0".to_owned()
        } else {
            self.port.to_string()
        };
        let child = Command::new("redis-server")
            .args(["--port", &port, "--bind", "127.0.0.1", "--save", ""])
            .args(persistence)
            .args(
                self.extra
                    .iter()
                    .map(|a| a.replace("{port}", &self.port.to_string())),
            )
            .arg("--dir")
            .arg(&self.dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server must be installed (apt-get install -y redis-server)");
        self.child = Some(child);
        wait_for_port(self.port);
    }

    /// `SIGKILL`: no shutdown, no final save.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// `redis-cli -p port args...`, its answer as text (panics on failure).
pub fn cli(port: u16, args: &[&str]) -> String {
    let out = Command::new("redis-cli")
        .args(["-h", "127.0.0.1", "-p", &port.to_string()])
        .args(args)
        .output()
        .expect("redis-cli (Debian's redis-tools, installed with redis-server)");
    assert!(out.status.success(), "redis-cli {args:?} failed");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// Whether Debian's `redis-server` is installed: a bench run by hand skips its Redis rows
/// without it (a test fails instead, through [`RedisServer::start`]). See [`crate::installed`].
pub fn installed() -> bool {
    crate::installed("redis-server", "redis-server")
}

/// A free loopback port.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}

fn wait_for_port(port: u16) {
    {
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "redis-server did not start on port {port}"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A TCP forwarder on loopback standing for a virtual IP or a DNS name in front of Redis: a
/// failover moves it to another server and cuts the connections it carried.
#[derive(Debug)]
pub struct Forwarder {
    pub port: u16,
    target: std::sync::Arc<std::sync::atomic::AtomicU16>,
    connections: std::sync::Arc<std::sync::Mutex<Vec<tokio::task::AbortHandle>>>,
    accept: tokio::task::AbortHandle,
}

impl Forwarder {
    /// Forwards to `target` until moved. Must run inside the test's tokio runtime.
    pub async fn start(target: u16) -> Self {
        use std::sync::atomic::Ordering;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port");
        let port = listener.local_addr().expect("its address").port();
        let to = std::sync::Arc::new(std::sync::atomic::AtomicU16::new(target));
        let connections = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let (to2, connections2) = (to.clone(), connections.clone());
        let accept = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let target = to2.load(Ordering::SeqCst);
                let task = tokio::spawn(async move {
                    if let Ok(mut server) =
                        tokio::net::TcpStream::connect(("127.0.0.1", target)).await
                    {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                connections2.lock().unwrap().push(task.abort_handle());
            }
        })
        .abort_handle();
        Self {
            port,
            target: to,
            connections,
            accept,
        }
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// New connections go to `target`; the ones it carried are cut.
    pub fn move_to(&self, target: u16) {
        self.target
            .store(target, std::sync::atomic::Ordering::SeqCst);
        for connection in self.connections.lock().unwrap().drain(..) {
            connection.abort();
        }
    }
}

impl Drop for Forwarder {
    fn drop(&mut self) {
        self.accept.abort();
        for connection in self.connections.lock().unwrap().drain(..) {
            connection.abort();
        }
    }
}
