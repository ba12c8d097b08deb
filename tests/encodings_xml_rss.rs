//! Backends with `encoding: xml` (mxj conventions, krakend-xml) and `encoding: rss` (krakend-rss/gofeed).

mod support;

use support::{assert_empty_error, assert_json, Backend, Gateway, Reply};

const XML_CT: &str = "application/xml";

/// One endpoint `/e` over one backend `/b`, with extra router, endpoint and backend keys spliced in.
fn single(router: &str, endpoint_extra: &str, backend_extra: &str, reply: Reply) -> (Gateway, support::RunningBackend) {
    let b = Backend::new().route("/b", reply).start();
    let cfg = format!(
        r#"{{"version":3,"extra_config":{{"router":{{{router}}}}},"endpoints":[{{"endpoint":"/e"{endpoint_extra},
            "backend":[{{"host":["{{{{b}}}}"],"url_pattern":"/b"{backend_extra}}}]}}]}}"#
    );
    let gw = Gateway::new(&cfg).with("b", &b.url()).start();
    (gw, b)
}

fn xml(body: &str) -> Reply {
    Reply::text(200, body).header("Content-Type", XML_CT)
}

#[test]
fn xml_backend_becomes_an_mxj_tree() {
    let body = r#"<?xml version="1.0" encoding="UTF-8"?>
<user id="7"><name>Ann</name><age>42</age><tag>a</tag><tag>b</tag><note lang="en">hi &amp; bye</note><empty/></user>"#;
    let (gw, _b) = single("", "", r#","encoding":"xml""#, xml(body));
    let res = gw.get("/e");
    assert_eq!(res.status, 200);
    assert_json(&res, true);
    assert_eq!(
        res.body_str(),
        r##"{"user":{"-id":"7","age":"42","empty":"","name":"Ann","note":{"#text":"hi \u0026 bye","-lang":"en"},"tag":["a","b"]}}"##
    );
}

#[test]
fn xml_collection_and_manipulation() {
    let (gw, _b) = single(
        "",
        "",
        r#","encoding":"xml","is_collection":true,"allow":["collection.list.item"],"mapping":{"collection":"data"}"#,
        xml("<list><item>1</item><item>2</item><other>x</other></list>"),
    );
    let res = gw.get("/e");
    assert_eq!(res.status, 200);
    assert_eq!(res.body_str(), r#"{"data":{"list":{"item":["1","2"]}}}"#);
}

#[test]
fn xml_backend_rendered_as_xml() {
    let (gw, _b) =
        single("", r#","output_encoding":"xml""#, r#","encoding":"xml","target":"r""#, xml("<r><a>1</a></r>"));
    let res = gw.get("/e");
    assert_eq!(res.status, 200);
    assert!(res.body_str().contains("<a>1</a>"), "{}", res.body_str());
}

#[test]
fn malformed_xml_is_a_backend_error() {
    let (gw, _b) = single("", "", r#","encoding":"xml""#, xml("<a><b></a>"));
    assert_empty_error(&gw.get("/e"), 500);
    let (gw, _b) = single(r#""return_error_msg":true"#, "", r#","encoding":"xml""#, xml(""));
    let res = gw.get("/e");
    assert_eq!(res.status, 500);
    assert_eq!(res.body_str(), "EOF");
}

#[test]
fn deep_xml_is_refused_without_crashing() {
    let deep = "<a>".repeat(200_000);
    let (gw, _b) = single("", "", r#","encoding":"xml""#, xml(&deep));
    assert_empty_error(&gw.get("/e"), 500);
    assert_eq!(gw.get("/__health").status, 200);
}

const RSS: &str = r#"<?xml version="1.0"?>
<rss version="2.0"><channel><title>Feed</title><description>D</description><language>en</language>
<item><title>One</title><link>https://example.com/1</link><guid>1</guid><pubDate>Mon, 02 Jan 2006 15:04:05 GMT</pubDate></item>
</channel></rss>"#;

#[test]
fn rss_backend_becomes_krakend_rss_map() {
    let (gw, _b) =
        single("", "", r#","encoding":"rss""#, Reply::text(200, RSS).header("Content-Type", "application/rss+xml"));
    let res = gw.get("/e");
    assert_eq!(res.status, 200);
    assert_json(&res, true);
    assert_eq!(
        res.body_str(),
        concat!(
            r#"{"author":null,"categories":null,"copyright":"","custom":null,"description":"D","#,
            r#""items":[{"guid":"1","link":"https://example.com/1","links":["https://example.com/1"],"#,
            r#""published":"Mon, 02 Jan 2006 15:04:05 GMT","publishedParsed":"2006-01-02T15:04:05Z","title":"One"}],"#,
            r#""language":"en","published":"","title":"Feed","type":"rss","updated":""}"#
        )
    );
}

#[test]
fn rss_with_allow_and_atom() {
    let atom =
        r#"<feed xmlns="http://www.w3.org/2005/Atom"><title>A</title><entry><title>E</title><id>x</id></entry></feed>"#;
    let (gw, _b) = single("", "", r#","encoding":"rss","allow":["title","items","type"]"#, xml(atom));
    let res = gw.get("/e");
    assert_eq!(res.status, 200);
    assert_eq!(res.body_str(), r#"{"items":[{"guid":"x","title":"E"}],"title":"A","type":"atom"}"#);
}

#[test]
fn not_a_feed_is_a_backend_error() {
    let (gw, _b) = single(r#""return_error_msg":true"#, "", r#","encoding":"rss""#, xml("<html><body/></html>"));
    let res = gw.get("/e");
    assert_eq!(res.status, 500);
    assert_eq!(res.body_str(), "Failed to detect feed type");
}
