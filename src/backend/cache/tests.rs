use super::*;
use crate::config::CacheCaps;

fn head(wire: &'static str) -> ResponseHead {
    ResponseHead::synthetic(wire.as_bytes()).expect("a valid test head")
}

fn req(block: &str) -> http::request::Parts {
    request_parts(Method::Get, "http://b:8080/x?a=1", block.as_bytes()).expect("representable request")
}

fn res_parts(h: &ResponseHead) -> http::response::Parts {
    let mut parts = http::Response::new(()).into_parts().0;
    parts.status = http::StatusCode::from_u16(h.status).expect("status");
    parts.headers = response_headers(h);
    parts
}

/// Whether a response with `wire` as head, to a request with `block` as headers, is stored.
fn stores(block: &str, wire: &'static str) -> bool {
    let (q, h) = (req(block), head(wire));
    let r = res_parts(&h);
    let now = SystemTime::now();
    storable(&CachePolicy::new_options(&q, &r, now, OPTIONS), &q.headers, &r.headers, now)
}

fn stored(key: &str, body_len: usize) -> Rc<Stored> {
    let h = head("HTTP/1.1 200 OK\r\nCache-Control: max-age=60\r\nContent-Length: 0\r\n\r\n");
    let now = SystemTime::now();
    let policy = CachePolicy::new_options(&req(""), &res_parts(&h), now, OPTIONS);
    Rc::new(Stored::new(policy, h, Bytes::from(vec![b'x'; body_len]), false, key, now))
}

#[test]
fn freshness_needs_explicit_lifetime() {
    assert!(stores("", "HTTP/1.1 200 OK\r\nCache-Control: max-age=60\r\n\r\n"));
    assert!(stores("", "HTTP/1.1 200 OK\r\nCache-Control: public, max-age=60\r\n\r\n"));
    assert!(stores("", "HTTP/1.1 404 Not Found\r\nCache-Control: max-age=60\r\n\r\n"));
    assert!(!stores("", "HTTP/1.1 200 OK\r\n\r\n"), "no Cache-Control: not stored (§20)");
    assert!(!stores("", "HTTP/1.1 200 OK\r\nCache-Control: max-age=0\r\n\r\n"));
    assert!(!stores("", "HTTP/1.1 200 OK\r\nCache-Control: no-store, max-age=60\r\n\r\n"));
    assert!(!stores("", "HTTP/1.1 200 OK\r\nCache-Control: immutable\r\n\r\n"), "no heuristic lifetime");
    assert!(
        !stores("", "HTTP/1.1 200 OK\r\nLast-Modified: Mon, 01 Jan 2001 00:00:00 GMT\r\n\r\n"),
        "no heuristic lifetime from Last-Modified"
    );
    assert!(!stores("", "HTTP/1.1 500 Internal Server Error\r\nCache-Control: max-age=60\r\n\r\n"));
    assert!(!stores("", "HTTP/1.1 200 OK\r\nCache-Control: max-age=60\r\nVary: *\r\n\r\n"));
}

#[test]
fn private_cache_semantics() {
    assert!(stores("", "HTTP/1.1 200 OK\r\nCache-Control: private, max-age=60\r\n\r\n"), "private is stored");
    assert!(!stores("", "HTTP/1.1 200 OK\r\nCache-Control: s-maxage=60\r\n\r\n"), "s-maxage is ignored");
}

#[test]
fn expires_and_max_age() {
    let later = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(3600));
    let wire: &'static str = Box::leak(format!("HTTP/1.1 200 OK\r\nExpires: {later}\r\n\r\n").into_boxed_str());
    assert!(stores("", wire), "a future Expires gives a lifetime");
    let wire: &'static str =
        Box::leak(format!("HTTP/1.1 200 OK\r\nCache-Control: max-age=0\r\nExpires: {later}\r\n\r\n").into_boxed_str());
    assert!(!stores("", wire), "max-age overrides Expires");
    assert!(!stores("", "HTTP/1.1 200 OK\r\nExpires: 0\r\n\r\n"), "an invalid Expires is already expired");
    let past = "HTTP/1.1 200 OK\r\nCache-Control: max-age=60\r\nExpires: Mon, 01 Jan 2001 00:00:00 GMT\r\n\r\n";
    assert!(stores("", past), "max-age overrides an Expires in the past too");
}

#[test]
fn no_cache_is_stored_only_to_revalidate() {
    assert!(stores("", "HTTP/1.1 200 OK\r\nCache-Control: no-cache\r\nETag: \"v1\"\r\n\r\n"));
    assert!(!stores("", "HTTP/1.1 200 OK\r\nCache-Control: no-cache\r\n\r\n"), "nothing to revalidate with");
    let (q, h) = (req(""), head("HTTP/1.1 200 OK\r\nCache-Control: no-cache\r\nETag: \"v1\"\r\n\r\n"));
    let policy = CachePolicy::new_options(&q, &res_parts(&h), SystemTime::now(), OPTIONS);
    match policy.before_request(&q, SystemTime::now()) {
        BeforeRequest::Stale { request, matches } => {
            assert!(matches);
            assert_eq!(request.headers.get("if-none-match").map(|v| v.as_bytes()), Some(&b"\"v1\""[..]));
        }
        BeforeRequest::Fresh(_) => panic!("no-cache must be revalidated"),
    }
}

#[test]
fn authorization_needs_the_response_to_allow_it() {
    let auth = "Authorization: Bearer x\r\n";
    assert!(!stores(auth, "HTTP/1.1 200 OK\r\nCache-Control: max-age=60\r\n\r\n"));
    assert!(stores(auth, "HTTP/1.1 200 OK\r\nCache-Control: public, max-age=60\r\n\r\n"));
    assert!(stores(auth, "HTTP/1.1 200 OK\r\nCache-Control: max-age=60, must-revalidate\r\n\r\n"));
}

#[test]
fn request_directives() {
    let (q, h) = (req(""), head("HTTP/1.1 200 OK\r\nCache-Control: max-age=60\r\n\r\n"));
    let policy = CachePolicy::new_options(&q, &res_parts(&h), SystemTime::now(), OPTIONS);
    let now = SystemTime::now();
    assert!(policy.before_request(&req(""), now).satisfies_without_revalidation());
    assert!(!policy.before_request(&req("Cache-Control: no-cache\r\n"), now).satisfies_without_revalidation());
    assert!(!policy.before_request(&req("Cache-Control: min-fresh=120\r\n"), now).satisfies_without_revalidation());
    let later = now + Duration::from_secs(90);
    assert!(!policy.before_request(&req(""), later).satisfies_without_revalidation());
    assert!(policy.before_request(&req("Cache-Control: max-stale=60\r\n"), later).satisfies_without_revalidation());
    assert!(!policy.before_request(&req("Cache-Control: max-stale=10\r\n"), later).satisfies_without_revalidation());
}

#[test]
fn vary_selects_the_variant() {
    let q = req("Accept-Language: en\r\n");
    let h = head("HTTP/1.1 200 OK\r\nCache-Control: max-age=60\r\nVary: Accept-Language\r\n\r\n");
    let policy = CachePolicy::new_options(&q, &res_parts(&h), SystemTime::now(), OPTIONS);
    let now = SystemTime::now();
    assert!(policy.before_request(&req("Accept-Language: en\r\n"), now).satisfies_without_revalidation());
    match policy.before_request(&req("Accept-Language: fr\r\n"), now) {
        BeforeRequest::Stale { matches, .. } => assert!(!matches),
        BeforeRequest::Fresh(_) => panic!("another language is another variant"),
    }
}

#[test]
fn directive_parsing() {
    let mut h = HeaderMap::new();
    h.append("cache-control", HeaderValue::from_static("public, Max-Age=60"));
    h.append("cache-control", HeaderValue::from_static("stale-if-error, s-maxage=\"5\""));
    assert_eq!(directive(&h, "max-age"), Some(Some(60)));
    assert_eq!(directive(&h, "public"), Some(None));
    assert_eq!(directive(&h, "stale-if-error"), Some(None));
    assert_eq!(directive(&h, "s-maxage"), Some(Some(5)));
    assert_eq!(directive(&h, "no-store"), None);
}

#[test]
fn validators_replace_forwarded_ones() {
    let out = OutgoingRequest::new(
        Method::Get,
        "/x",
        b"If-None-Match: \"client\"\r\nUser-Agent: u\r\n",
        false,
        Bytes::new(),
        false,
    );
    let mut v = HeaderMap::new();
    v.insert(http::header::IF_NONE_MATCH, HeaderValue::from_static("\"v1\""));
    let next = with_validators(&out, &v);
    assert_eq!(next.header_block(), b"User-Agent: u\r\nIf-None-Match: \"v1\"\r\n");
    assert_eq!(header_line(next.header_block(), b"if-none-match"), Some(&b"\"v1\""[..]));
    assert_eq!(header_line(next.header_block(), b"range"), None);
}

#[test]
fn gateway_timeout_head_is_valid() {
    let h = ResponseHead::synthetic(GATEWAY_TIMEOUT).expect("valid 504 head");
    assert_eq!(h.status, 504);
    assert_eq!(h.header("content-length"), Some(&b"0"[..]));
}

#[test]
fn lru_by_items() {
    let mut b = Bucket::new(Some(CacheCaps { max_items: 2, max_size: 1 << 20 }));
    b.put("a", stored("a", 10), |_| false);
    b.put("b", stored("b", 10), |_| false);
    assert_eq!(b.get("a").len(), 1, "a is now the most recently used");
    b.put("c", stored("c", 10), |_| false);
    assert_eq!(b.len(), 2);
    assert!(b.get("b").is_empty(), "b was the least recently used");
    assert_eq!(b.get("a").len(), 1);
    assert_eq!(b.get("c").len(), 1);
}

#[test]
fn lru_by_bytes() {
    let one = stored("a", 1000).size;
    let mut b = Bucket::new(Some(CacheCaps { max_items: 100, max_size: one * 2 + 10 }));
    b.put("a", stored("a", 1000), |_| false);
    b.put("b", stored("b", 1000), |_| false);
    b.put("c", stored("c", 1000), |_| false);
    assert_eq!(b.len(), 2);
    assert!(b.bytes() <= one * 2 + 10);
    assert!(b.get("a").is_empty());
    let mut small = Bucket::new(Some(CacheCaps { max_items: 100, max_size: 1024 }));
    small.put("big", stored("big", 4096), |_| false);
    assert!(small.is_empty(), "an entry larger than the whole bucket is not stored");
    assert_eq!(small.bytes(), 0);
}

#[test]
fn uncapped_replace_and_remove() {
    let mut b = Bucket::new(None);
    let first = stored("k", 10);
    b.put("k", first.clone(), |_| false);
    let second = stored("k", 20);
    b.put("k", second.clone(), |v| std::ptr::eq(v, &*first));
    assert_eq!(b.get("k").len(), 1, "replaced in place");
    assert_eq!(b.bytes(), second.size);
    b.put("k", stored("k", 5), |_| false);
    assert_eq!(b.get("k").len(), 2, "another variant");
    b.remove("k", &second);
    assert_eq!(b.get("k").len(), 1);
    for _ in 0..MAX_VARIANTS + 3 {
        b.put("k", stored("k", 1), |_| false);
    }
    assert_eq!(b.get("k").len(), MAX_VARIANTS);
    let all = b.get("k");
    for v in &all {
        b.remove("k", v);
    }
    assert!(b.is_empty());
    assert_eq!(b.bytes(), 0);
    assert!(b.order.is_empty());
}

#[test]
fn shared_bucket_is_one_per_worker() {
    let buckets = Buckets::default();
    let shared = HttpCacheConfig { shared: true, caps: None };
    let private = HttpCacheConfig { shared: false, caps: None };
    let (a, b, c) = (buckets.cache_for(&shared), buckets.cache_for(&shared), buckets.cache_for(&private));
    assert!(Rc::ptr_eq(&a.bucket, &b.bucket));
    assert!(!Rc::ptr_eq(&a.bucket, &c.bucket));
}

#[test]
fn concurrent_misses_store_one_variant() {
    let mut b = Bucket::new(None);
    let now = SystemTime::now();
    for _ in 0..3 {
        b.put("k", stored("k", 10), |v| same_variant(v, &req(""), now));
    }
    assert_eq!(b.get("k").len(), 1, "the same request's answer replaces the earlier one");
    assert_eq!(b.bytes(), stored("k", 10).size);
    let other = request_parts(Method::Head, "http://b:8080/x?a=1", b"").expect("head request");
    assert!(!same_variant(&b.get("k")[0], &other, now), "HEAD is another method");
}
