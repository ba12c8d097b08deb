//! Router behaviour: matching, conflicts, redirects, 405/404, built-ins and the acceptance cases of spec §26.

use super::*;
use crate::config::{EndpointConfig, HttpClientConfig, OutputEncoding, RouterOptions, ServerTimeouts, ServiceConfig};
use std::time::Duration;

fn endpoint(method: Method, path: &str) -> EndpointConfig {
    let pattern = Pattern::parse(path, false);
    EndpointConfig {
        path: path.to_owned(),
        method,
        params: pattern.var_names().map(str::to_owned).collect(),
        timeout: Duration::from_secs(2),
        cache_ttl: Duration::ZERO,
        concurrent_calls: 1,
        input_query_strings: Vec::new(),
        input_headers: Vec::new(),
        output_encoding: OutputEncoding::Json,
        backends: Vec::new(),
        extra_config: Default::default(),
    }
}

fn service(endpoints: &[(Method, &str)]) -> ServiceConfig {
    ServiceConfig {
        name: String::new(),
        port: 8080,
        listen_ip: None,
        hosts: Vec::new(),
        timeout: Duration::from_secs(2),
        cache_ttl: Duration::ZERO,
        output_encoding: OutputEncoding::Json,
        endpoints: endpoints.iter().map(|&(m, p)| endpoint(m, p)).collect(),
        disable_rest: false,
        debug_endpoint: false,
        echo_endpoint: false,
        server: ServerTimeouts::default(),
        max_header_bytes: 1 << 20,
        use_h2c: false,
        tls: None,
        max_shutdown_wait_time: None,
        client: HttpClientConfig::default(),
        router: RouterOptions::default(),
        static_filesystem: None,
        extra_config: Default::default(),
        warnings: Vec::new(),
    }
}

fn router(endpoints: &[(Method, &str)]) -> Router {
    Router::build(&service(endpoints)).expect("router builds")
}

fn router_with(endpoints: &[(Method, &str)], f: impl FnOnce(&mut ServiceConfig)) -> Router {
    let mut cfg = service(endpoints);
    f(&mut cfg);
    Router::build(&cfg).expect("router builds")
}

fn get<'a>(r: &'a Router, path: &str) -> Route<'a> {
    r.lookup("GET", path, None, None)
}

fn ep(index: usize, params: &[&str]) -> Route<'static> {
    Route::Endpoint { index, params: Params::from_values(params.iter().copied()) }
}

fn redirect(status: u16, location: &str) -> Route<'static> {
    Route::Redirect { status, location: location.to_owned() }
}

use Method::{Delete, Get, Post, Put};

// --- matching ---------------------------------------------------------------------------------------------------

#[test]
fn ac_04_variable_matches_one_segment() {
    let r = router(&[(Get, "/v1/users/{user}")]);
    assert_eq!(get(&r, "/v1/users/42"), ep(0, &["42"]));
    assert_eq!(get(&r, "/v1/users/A-B-C"), ep(0, &["A-B-C"]));
    assert_eq!(get(&r, "/v1/users/1/2"), Route::NotFound);
    assert_eq!(get(&r, "/v1/users"), Route::NotFound);
    // Empty segment: no match, and `/v1/users` is not registered either.
    assert_eq!(get(&r, "/v1/users/"), Route::NotFound);
}

#[test]
fn params_follow_endpoint_param_order() {
    let mut cfg = service(&[(Get, "/a/{x}/b/{y}")]);
    cfg.endpoints[0].params = vec!["y".to_owned(), "x".to_owned()];
    let r = Router::build(&cfg).unwrap();
    assert_eq!(get(&r, "/a/1/b/2"), ep(0, &["2", "1"]));
}

#[test]
fn endpoint_without_variables_has_empty_params() {
    let r = router(&[(Get, "/foo"), (Post, "/foo")]);
    assert_eq!(get(&r, "/foo"), ep(0, &[]));
    assert_eq!(r.lookup("POST", "/foo", None, None), ep(1, &[]));
}

#[test]
fn static_beats_variable() {
    let r = router(&[(Get, "/foo/{name}"), (Get, "/foo/bar")]);
    assert_eq!(get(&r, "/foo/bar"), ep(1, &[]));
    assert_eq!(get(&r, "/foo/baz"), ep(0, &["baz"]));
    assert_eq!(get(&r, "/foo/barx"), ep(0, &["barx"]));
    // Registration order does not matter.
    let r = router(&[(Get, "/foo/bar"), (Get, "/foo/{name}")]);
    assert_eq!(get(&r, "/foo/bar"), ep(0, &[]));
    assert_eq!(get(&r, "/foo/qux"), ep(1, &["qux"]));
}

#[test]
fn matching_is_case_sensitive_and_on_the_decoded_path() {
    let r = router(&[(Get, "/foo/{id}"), (Get, "/bar baz")]);
    assert_eq!(get(&r, "/bar%20baz"), ep(1, &[]));
    // %2F decodes to a slash before matching, as Go's URL.Path does.
    assert_eq!(get(&r, "/foo/a%2Fb"), Route::NotFound);
    assert_eq!(get(&r, "/foo/%C3%BC"), ep(0, &["ü"]));
}

#[test]
fn rest_mode_keeps_in_segment_braces_literal() {
    let r = router(&[(Get, "/file.{ext}")]);
    assert_eq!(get(&r, "/file.%7Bext%7D"), ep(0, &[]));
    assert_eq!(get(&r, "/file.json"), Route::NotFound);
}

#[test]
fn disable_rest_allows_in_segment_variables() {
    let mut cfg = service(&[]);
    cfg.disable_rest = true;
    let mut e = endpoint(Get, "/foo/{var}/file.{extension}");
    e.params = vec!["var".to_owned(), "extension".to_owned()];
    cfg.endpoints.push(e);
    let r = Router::build(&cfg).unwrap();
    assert_eq!(get(&r, "/foo/a/file.json"), ep(0, &["a", "json"]));
    assert_eq!(get(&r, "/foo/a/file."), Route::NotFound);
}

#[test]
fn unknown_path_variable_is_a_config_error() {
    let mut cfg = service(&[(Get, "/a/{x}")]);
    cfg.endpoints[0].params.clear();
    let err = Router::build(&cfg).unwrap_err();
    assert!(err.0.contains("endpoint GET /a/{x}") && err.0.contains("{x}"), "{err}");
}

#[test]
fn invalid_escape_is_bad_request() {
    let r = router(&[(Get, "/foo/{id}")]);
    assert_eq!(get(&r, "/foo/%zz"), Route::BadRequest);
    assert_eq!(get(&r, "/nothing/%"), Route::BadRequest);
}

#[test]
fn odd_request_targets_do_not_panic() {
    let r = router(&[(Get, "/foo")]);
    assert_eq!(get(&r, ""), Route::NotFound);
    assert_eq!(r.lookup("OPTIONS", "*", None, None), Route::NotFound);
    assert_eq!(get(&r, "%2F%2F"), Route::NotFound);
}

// --- conflicts (AC-47) ------------------------------------------------------------------------------------------

#[test]
fn ac_47_different_variable_names_conflict() {
    let err = Router::build(&service(&[(Get, "/user/{userid}"), (Get, "/user/{iduser}/some")])).unwrap_err();
    assert_eq!(
        err.0,
        "route conflict: endpoint GET /user/{iduser}/some conflicts with endpoint GET /user/{userid} \
         (a variable at the same position must have the same name)"
    );
    let err = Router::build(&service(&[(Get, "/v1/{domain}/user/{userid}"), (Get, "/v1/{domain}/user/{iduser}/some")]))
        .unwrap_err();
    assert!(err.0.contains("/v1/{domain}/user/{iduser}/some conflicts with endpoint GET /v1/{domain}/user/{userid}"));
}

#[test]
fn ac_47_same_variable_names_are_fine() {
    let r = router(&[(Get, "/user/{userid}"), (Get, "/user/{userid}/some")]);
    assert_eq!(get(&r, "/user/7/some"), ep(1, &["7"]));
    assert_eq!(get(&r, "/user/7"), ep(0, &["7"]));
}

#[test]
fn ac_47_same_method_and_path_twice() {
    let err = Router::build(&service(&[(Get, "/x"), (Get, "/x")])).unwrap_err();
    assert_eq!(
        err.0,
        "route conflict: endpoint GET /x conflicts with endpoint GET /x (the same method and path are declared twice)"
    );
    let err = Router::build(&service(&[(Get, "/a/{x}"), (Get, "/a/{y}")])).unwrap_err();
    assert!(err.0.contains("same name"), "{err}");
}

#[test]
fn different_methods_may_use_different_names() {
    let r = router(&[(Get, "/a/{x}"), (Post, "/a/{y}/b"), (Get, "/x"), (Post, "/x")]);
    assert_eq!(r.lookup("POST", "/a/1/b", None, None), ep(1, &["1"]));
}

#[test]
fn endpoint_on_the_health_path_conflicts() {
    let err = router_build_err(&[(Get, "/status")], |c| c.router.health_path = "/status".to_owned());
    assert!(err.contains("endpoint GET /status conflicts with the health endpoint GET /status"), "{err}");
}

fn router_build_err(endpoints: &[(Method, &str)], f: impl FnOnce(&mut ServiceConfig)) -> String {
    let mut cfg = service(endpoints);
    f(&mut cfg);
    Router::build(&cfg).unwrap_err().0
}

// --- built-in endpoints ------------------------------------------------------------------------------------------

#[test]
fn health_endpoint() {
    let r = router(&[]);
    assert_eq!(get(&r, "/__health"), Route::Health);
    assert_eq!(r.lookup("HEAD", "/__health", None, None), Route::MethodNotAllowed { allow: "GET" });
    assert_eq!(r.lookup("POST", "/__health", None, None), Route::MethodNotAllowed { allow: "GET" });
    // AC-01/AC-02: anything else is a 404.
    assert_eq!(get(&r, "/foo"), Route::NotFound);
    assert_eq!(get(&r, "/__health/"), redirect(301, "/__health"));
}

#[test]
fn health_path_rename_and_disable() {
    let r = router_with(&[], |c| c.router.health_path = "/status".to_owned());
    assert_eq!(get(&r, "/status"), Route::Health);
    assert_eq!(get(&r, "/__health"), Route::NotFound);
    let r = router_with(&[], |c| c.router.disable_health = true);
    assert_eq!(get(&r, "/__health"), Route::NotFound);
}

#[test]
fn debug_and_echo_take_any_method() {
    let r = router_with(&[], |c| {
        c.debug_endpoint = true;
        c.echo_endpoint = true;
    });
    for m in ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE", "CONNECT"] {
        assert_eq!(r.lookup(m, "/__debug/anything", None, None), Route::Debug, "{m}");
        assert_eq!(r.lookup(m, "/__debug/", None, None), Route::Debug, "{m}");
        assert_eq!(r.lookup(m, "/__echo/a/b/c", Some("q=1"), None), Route::Echo, "{m}");
    }
    // Without the trailing slash: trailing-slash redirect (CONNECT never redirects, and matches nothing → 404).
    assert_eq!(get(&r, "/__debug"), redirect(301, "/__debug/"));
    assert_eq!(r.lookup("POST", "/__echo", Some("a=b"), None), redirect(307, "/__echo/?a=b"));
    assert_eq!(r.lookup("CONNECT", "/__echo", None, None), Route::NotFound);
    // Disabled by default.
    let r = router(&[]);
    assert_eq!(get(&r, "/__debug/x"), Route::NotFound);
    assert_eq!(get(&r, "/__echo/x"), Route::NotFound);
}

#[test]
fn builtin_catch_all_goes_through_the_param_check() {
    let r = router_with(&[], |c| c.echo_endpoint = true);
    assert_eq!(get(&r, "/__echo/..%252F"), Route::BadParams { message: params::ENCODED_PARAMS.to_owned() });
}

// --- unmatched: redirects (AC-41) ---------------------------------------------------------------------------------

#[test]
fn ac_41_redirects() {
    let r = router(&[(Get, "/foo"), (Post, "/bar")]);
    assert_eq!(get(&r, "/foo/"), redirect(301, "/foo"));
    assert_eq!(r.lookup("POST", "/bar/", None, None), redirect(307, "/bar"));
    assert_eq!(get(&r, "/FOO"), redirect(301, "/foo"));
    let r = router_with(&[(Get, "/foo"), (Post, "/bar")], |c| {
        c.router.disable_redirect_fixed_path = true;
        c.router.disable_redirect_trailing_slash = true;
    });
    assert_eq!(get(&r, "/foo/"), Route::NotFound);
    assert_eq!(get(&r, "/FOO"), Route::NotFound);
}

#[test]
fn redirects_keep_the_query() {
    let r = router(&[(Get, "/foo"), (Get, "/dir/")]);
    assert_eq!(r.lookup("GET", "/foo/", Some("a=1&b=%20"), None), redirect(301, "/foo?a=1&b=%20"));
    assert_eq!(r.lookup("GET", "/dir", Some("x"), None), redirect(301, "/dir/?x"));
    assert_eq!(r.lookup("GET", "/FOO", Some("q=1"), None), redirect(301, "/foo?q=1"));
    // A bare `?` is kept as Go's ForceQuery does.
    assert_eq!(r.lookup("GET", "/foo/", Some(""), None), redirect(301, "/foo?"));
}

#[test]
fn redirect_status_by_method() {
    let r = router(&[(Get, "/g"), (Put, "/p"), (Delete, "/d")]);
    assert_eq!(r.lookup("PUT", "/p/", None, None), redirect(307, "/p"));
    assert_eq!(r.lookup("DELETE", "/D", None, None), redirect(307, "/d"));
    // HEAD has no tree: no redirect, and `/g/` matches no other tree → 404.
    assert_eq!(r.lookup("HEAD", "/g/", None, None), Route::NotFound);
}

#[test]
fn no_redirect_without_a_tree_for_the_method() {
    // PUT /foo/ with no PUT endpoint at all → 404, not a redirect.
    let r = router(&[(Get, "/foo")]);
    assert_eq!(r.lookup("PUT", "/foo/", None, None), Route::NotFound);
    // PUT /foo → 405 (GET matches).
    assert_eq!(r.lookup("PUT", "/foo", None, None), Route::MethodNotAllowed { allow: "GET" });
}

#[test]
fn redirect_location_is_escaped() {
    let r = router(&[(Get, "/foo/{id}")]);
    assert_eq!(get(&r, "/foo/a%20b/"), redirect(301, "/foo/a%20b"));
    assert_eq!(get(&r, "/FOO/a%3Fb"), redirect(301, "/foo/a%3Fb"));
}

#[test]
fn fixed_path_cleans_dots_and_slashes() {
    let r = router(&[(Get, "/foo/bar")]);
    assert_eq!(get(&r, "/foo//bar"), redirect(301, "/foo/bar"));
    assert_eq!(get(&r, "/foo/x/../bar"), redirect(301, "/foo/bar"));
    assert_eq!(get(&r, "/Foo/./BAR/"), redirect(301, "/foo/bar"));
    // The fixed path fixes the trailing slash only while trailing-slash redirects are on.
    let r = router_with(&[(Get, "/foo/bar")], |c| c.router.disable_redirect_trailing_slash = true);
    assert_eq!(get(&r, "/FOO/BAR/"), Route::NotFound);
    assert_eq!(get(&r, "/FOO/BAR"), redirect(301, "/foo/bar"));
    assert_eq!(get(&r, "/foo/bar/"), Route::NotFound);
}

#[test]
fn fixed_path_keeps_variable_text() {
    let r = router(&[(Get, "/Users/{id}/Profile"), (Get, "/users/me/profile")]);
    assert_eq!(get(&r, "/USERS/AbC/PROFILE"), redirect(301, "/Users/AbC/Profile"));
    // Static wins in the case-insensitive lookup too.
    assert_eq!(get(&r, "/USERS/ME/PROFILE"), redirect(301, "/users/me/profile"));
}

#[test]
fn trailing_slash_redirect_with_forwarded_prefix() {
    let r = router(&[(Get, "/foo")]);
    assert_eq!(r.lookup("GET", "/foo/", None, Some("/api")), redirect(301, "/api/foo"));
    assert_eq!(r.lookup("GET", "/foo/", Some("a=1"), Some("/api/v1/")), redirect(301, "/api/v1/foo?a=1"));
    // Sanitised: only [a-zA-Z0-9/-] kept, and never an off-site (`//host`) location.
    assert_eq!(r.lookup("GET", "/foo/", None, Some("/a<script>")), redirect(301, "/ascript/foo"));
    assert_eq!(r.lookup("GET", "/foo/", None, Some("//evil.example")), redirect(301, "/evilexample/foo"));
    assert_eq!(r.lookup("GET", "/foo/", None, Some("/")), redirect(301, "/foo"));
    // Fixed-path redirects ignore the header.
    assert_eq!(r.lookup("GET", "/FOO", None, Some("/api")), redirect(301, "/foo"));
}

#[test]
fn root_path_never_redirects() {
    let r = router(&[(Get, "/foo")]);
    assert_eq!(get(&r, "/"), Route::NotFound);
    let r = router(&[(Get, "/")]);
    assert_eq!(get(&r, "/"), ep(0, &[]));
}

#[test]
fn connect_never_redirects() {
    let mut cfg = service(&[]);
    cfg.endpoints.push(endpoint(Method::Connect, "/foo"));
    let r = Router::build(&cfg).unwrap();
    assert_eq!(r.lookup("CONNECT", "/foo/", None, None), Route::NotFound);
    assert_eq!(r.lookup("CONNECT", "/foo", None, None), ep(0, &[]));
}

// --- 405 / 404 -------------------------------------------------------------------------------------------------

#[test]
fn ac_03_method_not_allowed() {
    let r = router(&[(Get, "/foo")]);
    assert_eq!(r.lookup("POST", "/foo", None, None), Route::MethodNotAllowed { allow: "GET" });
    assert_eq!(get(&r, "/bar"), Route::NotFound);
}

#[test]
fn allow_lists_methods_in_tree_creation_order() {
    // GET's tree exists first (health), then PUT, POST, DELETE in endpoint order; not sorted.
    let r = router(&[(Put, "/x"), (Post, "/x"), (Delete, "/x"), (Get, "/y"), (Get, "/x")]);
    assert_eq!(r.lookup("PATCH", "/x", None, None), Route::MethodNotAllowed { allow: "GET, PUT, POST, DELETE" });
    assert_eq!(r.lookup("POST", "/y", None, None), Route::MethodNotAllowed { allow: "GET" });
    assert_eq!(r.lookup("GET", "/x", None, None), ep(4, &[]));
    // Without the health endpoint, the first endpoint's method comes first.
    let r = router_with(&[(Put, "/x"), (Get, "/x")], |c| c.router.disable_health = true);
    assert_eq!(r.lookup("POST", "/x", None, None), Route::MethodNotAllowed { allow: "PUT, GET" });
    // Unknown and lowercase methods get a 405 too.
    assert_eq!(r.lookup("get", "/x", None, None), Route::MethodNotAllowed { allow: "PUT, GET" });
    assert_eq!(r.lookup("PROPFIND", "/x", None, None), Route::MethodNotAllowed { allow: "PUT, GET" });
}

#[test]
fn method_not_allowed_matches_variables() {
    let r = router(&[(Get, "/u/{id}"), (Post, "/u/new")]);
    assert_eq!(r.lookup("DELETE", "/u/new", None, None), Route::MethodNotAllowed { allow: "GET, POST" });
    assert_eq!(r.lookup("DELETE", "/u/7", None, None), Route::MethodNotAllowed { allow: "GET" });
}

#[test]
fn head_and_options_are_not_auto_routed() {
    let r = router(&[(Get, "/x")]);
    assert_eq!(r.lookup("HEAD", "/x", None, None), Route::MethodNotAllowed { allow: "GET" });
    assert_eq!(r.lookup("OPTIONS", "/x", None, None), Route::MethodNotAllowed { allow: "GET" });
}

#[test]
fn disable_handle_method_not_allowed_gives_404() {
    let r = router_with(&[(Get, "/foo")], |c| c.router.disable_handle_method_not_allowed = true);
    assert_eq!(r.lookup("POST", "/foo", None, None), Route::NotFound);
}

// --- auto_options ------------------------------------------------------------------------------------------------

#[test]
fn auto_options() {
    let r = router_with(&[(Put, "/x"), (Get, "/x"), (Delete, "/x"), (Post, "/y/{id}")], |c| {
        c.router.auto_options = true;
    });
    assert_eq!(r.lookup("OPTIONS", "/x", None, None), Route::AutoOptions { allow: "DELETE, GET, PUT" });
    assert_eq!(r.lookup("OPTIONS", "/y/7", None, None), Route::AutoOptions { allow: "POST" });
    assert_eq!(r.lookup("OPTIONS", "/__health", None, None), Route::MethodNotAllowed { allow: "GET" });
    // The OPTIONS tree takes part in 405s like any other.
    assert_eq!(r.lookup("PATCH", "/y/7", None, None), Route::MethodNotAllowed { allow: "POST, OPTIONS" });
    // And in redirects.
    assert_eq!(r.lookup("OPTIONS", "/x/", None, None), redirect(307, "/x"));
    // Param check applies as to any matched route.
    assert!(matches!(r.lookup("OPTIONS", "/y/a%253F", None, None), Route::BadParams { .. }));
}

// --- path-param check (AC-43) ---------------------------------------------------------------------------------

#[test]
fn ac_43_encoded_path_parameter() {
    let r = router(&[(Get, "/foo/{id}")]);
    assert_eq!(get(&r, "/foo/..%252Fbar"), Route::BadParams { message: "error: encoded url params".to_owned() });
    assert_eq!(get(&r, "/foo/a%20b"), ep(0, &["a b"]));
    assert_eq!(get(&r, "/foo/a%3Fb"), Route::BadParams { message: "error: encoded url params".to_owned() });
    assert_eq!(get(&r, "/foo/a%23b"), Route::BadParams { message: "error: encoded url params".to_owned() });
    assert_eq!(get(&r, "/foo/a%25zz"), Route::BadParams { message: "error: invalid URL escape \"%zz\"".to_owned() });
    let r = router_with(&[(Get, "/foo/{id}")], |c| c.router.disable_path_decoding = true);
    assert_eq!(get(&r, "/foo/..%252Fbar"), ep(0, &["..%2Fbar"]));
}

#[test]
fn param_check_skips_unmatched_requests() {
    let r = router(&[(Get, "/foo/{id}")]);
    assert_eq!(get(&r, "/bar/..%252F"), Route::NotFound);
}

// --- remove_extra_slash ---------------------------------------------------------------------------------------------

#[test]
fn remove_extra_slash() {
    let r = router_with(&[(Get, "/foo/{id}/bar")], |c| c.router.remove_extra_slash = true);
    assert_eq!(get(&r, "//foo///7//bar"), ep(0, &["7"]));
    assert_eq!(get(&r, "/foo/7/x/../bar"), ep(0, &["7"]));
    // The trailing-slash redirect is built from the original path, then cleaned.
    assert_eq!(get(&r, "//foo//7/bar/"), redirect(301, "/foo/7/bar"));
    // Off: repeated slashes make empty segments → fixed-path redirect instead.
    let r = router(&[(Get, "/foo/{id}/bar")]);
    assert_eq!(get(&r, "//foo///7//bar"), redirect(301, "/foo/7/bar"));
    let r = router_with(&[(Get, "/foo/{id}/bar")], |c| c.router.disable_redirect_fixed_path = true);
    assert_eq!(get(&r, "//foo///7//bar"), Route::NotFound);
}

// --- hot path -----------------------------------------------------------------------------------------------------

#[test]
fn hot_path_lookups() {
    // Exercise the matched-endpoint path many times (allocation counting comes with the benches).
    let r = router(&[(Get, "/v1/users/{user}/posts/{post}"), (Get, "/v1/static")]);
    for i in 0..1000 {
        let path = format!("/v1/users/{i}/posts/p{i}");
        match r.lookup("GET", &path, Some("x=1"), None) {
            Route::Endpoint { index: 0, params } => {
                assert_eq!(params.get(0), Some(i.to_string().as_str()));
                assert_eq!(params.get(1), Some(format!("p{i}").as_str()));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(get(&r, "/v1/static"), ep(1, &[]));
    }
}

#[test]
fn backtracks_from_static_to_variable() {
    // gin's skippedNodes: a static prefix that leads nowhere falls back to the variable.
    let r = router(&[(Get, "/foo/{id}/x"), (Get, "/foo/bar")]);
    assert_eq!(get(&r, "/foo/bar/x"), ep(0, &["bar"]));
    assert_eq!(get(&r, "/foo/bar"), ep(1, &[]));
}

#[test]
fn debug_endpoint_creates_every_method_tree() {
    let r = router_with(&[(Get, "/foo")], |c| c.debug_endpoint = true);
    assert_eq!(r.lookup("POST", "/foo", None, None), Route::MethodNotAllowed { allow: "GET" });
    // PUT has a tree (from `/__debug/`), but neither `/foo` nor `/foo/` is in it, and GET has no `/foo/`.
    assert_eq!(r.lookup("PUT", "/foo/", None, None), Route::NotFound);
    assert_eq!(get(&r, "/foo/"), redirect(301, "/foo"));
}
