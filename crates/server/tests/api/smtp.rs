//! A real SMTP server for the tests (mailin-embedded, in a thread): the server under test
//! delivers to it over TCP with lettre, and tests read what arrived.

use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mailin_embedded::response::OK;
use mailin_embedded::{Handler, Response, Server, SslConfig};

/// One message as received: envelope recipients and the raw RFC 5322 bytes.
#[derive(Debug, Clone)]
pub struct Received {
    pub to: Vec<String>,
    pub raw: Vec<u8>,
}

impl Received {
    pub fn parsed(&self) -> mailparse::ParsedMail<'_> {
        mailparse::parse_mail(&self.raw).expect("a well-formed message")
    }

    pub fn subject(&self) -> String {
        use mailparse::MailHeaderMap;
        self.parsed().headers.get_first_value("Subject").unwrap_or_default()
    }

    pub fn header(&self, name: &str) -> String {
        use mailparse::MailHeaderMap;
        self.parsed().headers.get_first_value(name).unwrap_or_default()
    }

    /// The decoded text/plain part.
    pub fn text(&self) -> String {
        fn find(part: &mailparse::ParsedMail<'_>) -> Option<String> {
            if part.ctype.mimetype == "text/plain" {
                return part.get_body().ok();
            }
            part.subparts.iter().find_map(find)
        }
        find(&self.parsed()).expect("a text/plain part")
    }

    /// Decoded attachments: (file name, bytes).
    pub fn attachments(&self) -> Vec<(String, Vec<u8>)> {
        let parsed = self.parsed();
        parsed
            .subparts
            .iter()
            .filter_map(|p| {
                let name = p.get_content_disposition().params.get("filename").cloned()?;
                Some((name, p.get_body_raw().ok()?))
            })
            .collect()
    }
}

#[derive(Clone)]
struct Collector {
    inbox: Arc<Mutex<Vec<Received>>>,
    to: Vec<String>,
    data: Vec<u8>,
}

impl Handler for Collector {
    fn data_start(&mut self, _domain: &str, _from: &str, _is8bit: bool, to: &[String]) -> Response {
        self.to = to.to_vec();
        self.data.clear();
        OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.data.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        self.inbox.lock().unwrap().push(Received { to: std::mem::take(&mut self.to), raw: std::mem::take(&mut self.data) });
        OK
    }
}

pub struct SmtpSink {
    pub port: u16,
    inbox: Arc<Mutex<Vec<Received>>>,
}

impl SmtpSink {
    /// Starts on a free port.
    pub fn start() -> SmtpSink {
        Self::start_on(TcpListener::bind("127.0.0.1:0").unwrap())
    }

    /// Starts on a given listener (to bring a server "back up" on a known port).
    pub fn start_on(listener: TcpListener) -> SmtpSink {
        let port = listener.local_addr().unwrap().port();
        let inbox = Arc::new(Mutex::new(Vec::new()));
        let handler = Collector { inbox: inbox.clone(), to: Vec::new(), data: Vec::new() };
        std::thread::spawn(move || {
            let mut server = Server::new(handler);
            server.with_name("smtp.test").with_ssl(SslConfig::None).unwrap().with_tcp_listener(listener);
            server.serve().unwrap();
        });
        SmtpSink { port, inbox }
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    pub fn messages(&self) -> Vec<Received> {
        self.inbox.lock().unwrap().clone()
    }

    /// Waits until `n` messages arrived (panics after 15 s).
    pub async fn wait_for(&self, n: usize) -> Vec<Received> {
        for _ in 0..150 {
            let got = self.messages();
            if got.len() >= n {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("expected {n} e-mail(s), got {}", self.messages().len());
    }
}
