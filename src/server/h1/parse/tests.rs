use super::*;

fn parse(raw: &[u8]) -> Result<Option<RequestHead>, ParseError> {
    parse_request(raw, 1 << 20).map(|o| o.map(|(len, p)| p.finish(Bytes::copy_from_slice(&raw[..len]))))
}

#[test]
fn parses_a_simple_get() {
    let head = parse(b"GET /users/1?a=1&b=2 HTTP/1.1\r\nHost: x\r\nUser-Agent: t\r\n\r\n").unwrap().unwrap();
    assert_eq!(head.method(), "GET");
    assert_eq!(head.path(), "/users/1");
    assert_eq!(head.query(), Some("a=1&b=2"));
    assert_eq!(head.target(), "/users/1?a=1&b=2");
    assert_eq!(head.header("user-agent"), Some(&b"t"[..]));
    assert!(head.keep_alive);
    assert_eq!(head.content_length, None);
}

#[test]
fn partial_head_needs_more_bytes() {
    assert!(parse(b"GET / HTTP/1.1\r\nHost: x\r\n").unwrap().is_none());
}

#[test]
fn connection_semantics() {
    let h = parse(b"GET / HTTP/1.0\r\n\r\n").unwrap().unwrap();
    assert!(!h.keep_alive);
    let h = parse(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").unwrap().unwrap();
    assert!(h.keep_alive);
    let h = parse(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap().unwrap();
    assert!(!h.keep_alive);
}

#[test]
fn framing_headers() {
    let h = parse(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 12\r\n\r\n").unwrap().unwrap();
    assert_eq!(h.content_length, Some(12));
    let h = parse(b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n").unwrap().unwrap();
    assert!(h.chunked);
    assert_eq!(
        parse(b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n").unwrap_err(),
        ParseError::Malformed
    );
    assert_eq!(
        parse(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n").unwrap_err(),
        ParseError::Malformed
    );
    assert_eq!(parse(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n").unwrap_err(), ParseError::Malformed);
    assert_eq!(
        parse(b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n").unwrap_err(),
        ParseError::UnsupportedEncoding
    );
}

#[test]
fn malformed_requests() {
    assert_eq!(parse(b"GARBAGE\r\n\r\n").unwrap_err(), ParseError::Malformed);
    assert_eq!(parse(b"GET / HTTP/1.1\r\n\r\n").unwrap_err(), ParseError::Malformed, "HTTP/1.1 needs Host");
    assert_eq!(parse(b"GET foo HTTP/1.1\r\nHost: x\r\n\r\n").unwrap_err(), ParseError::Malformed);
    assert_eq!(parse(b"GET / HTTP/2.0\r\nHost: x\r\n\r\n").unwrap_err(), ParseError::Version);
}

#[test]
fn head_limits() {
    let mut raw = b"GET / HTTP/1.1\r\nHost: x\r\n".to_vec();
    for i in 0..MAX_REQUEST_HEADERS {
        raw.extend_from_slice(format!("X-H{i}: v\r\n").as_bytes());
    }
    raw.extend_from_slice(b"\r\n");
    assert_eq!(parse(&raw).unwrap_err(), ParseError::HeadTooLarge);
    let big = [b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: ".as_slice(), &[b'a'; 100], b"\r\n\r\n"].concat();
    assert_eq!(parse_request(&big, 64).unwrap_err(), ParseError::HeadTooLarge);
    assert_eq!(parse_request(&big[..80], 64).unwrap_err(), ParseError::HeadTooLarge, "partial head over the limit");
}

#[test]
fn absolute_form_target_routes_on_its_path() {
    let h = parse(b"GET http://example.com/a/b?x=1 HTTP/1.1\r\nHost: example.com\r\n\r\n").unwrap().unwrap();
    assert_eq!(h.path(), "/a/b");
    assert_eq!(h.query(), Some("x=1"));
}

#[test]
fn chunk_sizes() {
    assert_eq!(parse_chunk_size(b"1a\r\n").unwrap(), Some((26, 4)));
    assert_eq!(parse_chunk_size(b"1a;ext=1\r\nxx").unwrap(), Some((26, 10)));
    assert_eq!(parse_chunk_size(b"1a").unwrap(), None);
    assert!(parse_chunk_size(b"zz\r\n").is_err());
}
