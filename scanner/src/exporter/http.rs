//! The little HTTP/1.1 the exporter speaks: one GET request per connection, read with a size
//! and time limit, and one response with `Connection: close`. Sans-IO parsing; the server
//! loop does the reading and writing.

/// Largest request head accepted.
pub const MAX_HEAD: usize = 8 * 1024;

/// A parsed request head.
#[derive(Debug, PartialEq, Eq)]
pub struct Request {
    /// Method, such as `GET`.
    pub method: String,
    /// Path without the query.
    pub path: String,
    /// Query parameters in order, percent-decoded.
    pub query: Vec<(String, String)>,
    /// Header names (lower case) and values.
    pub headers: Vec<(String, String)>,
}

impl Request {
    /// Parses a head ending in an empty line; None when it is not an HTTP/1.x request.
    pub fn parse(head: &[u8]) -> Option<Request> {
        let text = std::str::from_utf8(head).ok()?;
        let mut lines = text.split("\r\n");
        let mut first = lines.next()?.split(' ');
        let (method, target, version) = (first.next()?, first.next()?, first.next()?);
        if !version.starts_with("HTTP/1.") || first.next().is_some() {
            return None;
        }
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        let query = query
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                Some((decode(k)?, decode(v)?))
            })
            .collect::<Option<Vec<_>>>()?;
        let headers = lines
            .take_while(|l| !l.is_empty())
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        Some(Request {
            method: method.to_owned(),
            path: decode(path)?,
            query,
            headers,
        })
    }

    /// The first value of a header.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of a query parameter.
    pub fn params<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.query
            .iter()
            .filter(move |(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Percent-decodes a URL component (`+` is a space in queries); None for bad escapes or UTF-8.
fn decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = s.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// Whether the head is complete (ends in an empty line).
pub fn head_complete(buf: &[u8]) -> bool {
    buf.windows(4).any(|w| w == b"\r\n\r\n")
}

/// A whole response.
pub fn response(status: &str, content_type: &str, extra: &[(&str, &str)], body: &str) -> Vec<u8> {
    let mut head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (k, v) in extra {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(body.as_bytes());
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_probe_request() {
        let head = b"GET /probe?target=%5B%3A%3A1%5D%3A443&policy=fips-140-3&policy=cnsa HTTP/1.1\r\nHost: x\r\nAccept: application/openmetrics-text\r\n\r\n";
        let r = Request::parse(head);
        let r = r.as_ref();
        assert_eq!(r.map(|r| r.path.as_str()), Some("/probe"));
        assert_eq!(
            r.map(|r| r.params("target").collect::<Vec<_>>()),
            Some(vec!["[::1]:443"])
        );
        assert_eq!(
            r.map(|r| r.params("policy").collect::<Vec<_>>()),
            Some(vec!["fips-140-3", "cnsa"])
        );
        assert_eq!(
            r.and_then(|r| r.header("accept")),
            Some("application/openmetrics-text")
        );
        assert_eq!(
            Request::parse(b"GET /probe?target=%zz HTTP/1.1\r\n\r\n"),
            None
        );
        assert_eq!(Request::parse(b"\x16\x03\x01garbage"), None);
    }
}
