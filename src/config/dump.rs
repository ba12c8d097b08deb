//! A normalised, deterministic, human-readable dump of the validated config (`ringway check -d`, golden tests).

use super::duration::format_go_duration;
use super::model::*;
use std::fmt::Write;
use std::time::Duration;

fn opt_duration(d: Option<Duration>) -> String {
    d.map_or_else(|| "none".to_owned(), format_go_duration)
}

fn list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|i| format!("{i:?}")).collect();
    format!("[{}]", quoted.join(", "))
}

fn extra(out: &mut String, indent: &str, extra: &ExtraConfig) {
    if extra.is_empty() {
        return;
    }
    let _ = writeln!(out, "{indent}extra_config:");
    for (namespace, value) in extra {
        let _ = writeln!(out, "{indent}  {namespace}: {value}");
    }
}

fn url_parts(endpoint: &EndpointConfig, pattern: &UrlPattern) -> String {
    let parts: Vec<String> = pattern
        .parts
        .iter()
        .map(|part| match part {
            UrlPart::Literal(text) => format!("{text:?}"),
            UrlPart::Param(i) => format!("param#{i}({})", endpoint.params.get(*i).map_or("?", String::as_str)),
            UrlPart::Dynamic(name) => format!("dynamic({name})"),
        })
        .collect();
    parts.join(" + ")
}

fn body(b: &Option<Vec<u8>>) -> String {
    b.as_ref().map_or_else(|| "none".to_owned(), |b| String::from_utf8_lossy(b).into_owned())
}

fn client_tls(o: &mut String, t: &super::client_tls::ClientTls) {
    let ids = |l: &Option<Vec<u16>>| l.as_ref().map_or_else(|| "default".to_owned(), |l| format!("{l:?}"));
    let certs: Vec<String> = t.client_certs.iter().map(|p| format!("{} + {}", p.certificate, p.private_key)).collect();
    let _ = writeln!(
        o,
        "client_tls: allow_insecure_connections={} disable_system_ca_pool={} versions={}..{} ca_certs={}",
        t.allow_insecure_connections,
        t.disable_system_ca_pool,
        super::server_tls::version_name(t.min_version),
        super::server_tls::version_name(t.max_version),
        list(&t.ca_certs)
    );
    let _ = writeln!(
        o,
        "client_tls: cipher_suites={} curve_preferences={} client_certs={}",
        ids(&t.cipher_suites),
        ids(&t.curve_preferences),
        list(&certs)
    );
}

/// Dumps `config` in a fixed order, one key per line.
pub fn dump(config: &ServiceConfig) -> String {
    let mut out = String::new();
    let o = &mut out;
    let _ = writeln!(o, "name: {:?}", config.name);
    let _ = writeln!(o, "port: {}", config.port);
    let _ = writeln!(o, "listen_ip: {}", config.listen_ip.map_or_else(|| "all".to_owned(), |ip| ip.to_string()));
    let _ = writeln!(o, "host: {}", list(&config.hosts));
    let _ = writeln!(o, "timeout: {}", format_go_duration(config.timeout));
    let _ = writeln!(o, "cache_ttl: {}", format_go_duration(config.cache_ttl));
    let _ = writeln!(o, "output_encoding: {:?}", config.output_encoding);
    let _ = writeln!(o, "disable_rest: {}", config.disable_rest);
    let _ = writeln!(o, "debug_endpoint: {}", config.debug_endpoint);
    let _ = writeln!(o, "echo_endpoint: {}", config.echo_endpoint);
    let s = &config.server;
    let _ = writeln!(
        o,
        "server: read={} read_header={} write={} idle={}",
        opt_duration(s.read),
        opt_duration(s.read_header),
        opt_duration(s.write),
        opt_duration(s.idle)
    );
    let _ = writeln!(o, "max_header_bytes: {}", config.max_header_bytes);
    let _ = writeln!(o, "use_h2c: {}", config.use_h2c);
    if let Some(tls) = &config.tls {
        let keys: Vec<&str> = tls.keys.iter().map(|k| k.public_key.as_str()).collect();
        let _ = writeln!(
            o,
            "tls: keys={keys:?} versions={}..{} mtls={}",
            super::server_tls::version_name(tls.min_version),
            super::server_tls::version_name(tls.max_version),
            tls.enable_mtls
        );
    }
    let _ = writeln!(o, "max_shutdown_wait_time: {}", opt_duration(config.max_shutdown_wait_time));
    let c = &config.client;
    let _ = writeln!(
        o,
        "client: dialer_timeout={} dialer_keep_alive={} disable_compression={} disable_keep_alives={}",
        opt_duration(c.dialer_timeout),
        opt_duration(c.dialer_keep_alive),
        c.disable_compression,
        c.disable_keep_alives
    );
    let _ = writeln!(
        o,
        "client: max_idle_connections={} max_idle_connections_per_host={} idle_connection_timeout={} response_header_timeout={} expect_continue_timeout={}",
        c.max_idle_connections,
        c.max_idle_connections_per_host,
        opt_duration(c.idle_connection_timeout),
        opt_duration(c.response_header_timeout),
        opt_duration(c.expect_continue_timeout)
    );
    if let Some(t) = &c.tls {
        client_tls(o, t);
    }
    let r = &config.router;
    let _ = writeln!(o, "router:");
    let _ = writeln!(
        o,
        "  return_error_msg={} hide_version_header={} auto_options={} app_engine={}",
        r.return_error_msg, r.hide_version_header, r.auto_options, r.app_engine
    );
    let _ = writeln!(o, "  error_body_404: {}", body(&r.error_body_404));
    let _ = writeln!(o, "  error_body_405: {}", body(&r.error_body_405));
    let _ = writeln!(
        o,
        "  disable_redirect_trailing_slash={} disable_redirect_fixed_path={} disable_handle_method_not_allowed={}",
        r.disable_redirect_trailing_slash, r.disable_redirect_fixed_path, r.disable_handle_method_not_allowed
    );
    let _ = writeln!(
        o,
        "  remove_extra_slash={} disable_path_decoding={} disable_health={} health_path={:?}",
        r.remove_extra_slash, r.disable_path_decoding, r.disable_health, r.health_path
    );
    let _ =
        writeln!(o, "  disable_access_log={} logger_skip_paths={}", r.disable_access_log, list(&r.logger_skip_paths));
    let proxies: Vec<String> = r.trusted_proxies.iter().map(|n| format!("{}/{}", n.addr, n.prefix)).collect();
    let _ = writeln!(
        o,
        "  forwarded_by_client_ip={} remote_ip_headers={} trusted_proxies={}",
        r.forwarded_by_client_ip,
        list(&r.remote_ip_headers),
        list(&proxies)
    );
    if let Some(fs) = &config.static_filesystem {
        let _ = writeln!(
            o,
            "static_filesystem: prefix={:?} path={:?} skip={} directory_listing={}",
            fs.prefix,
            fs.path.display().to_string(),
            list(&fs.skip),
            fs.directory_listing
        );
    }
    extra(o, "", &config.extra_config);
    let _ = writeln!(o, "endpoints: {}", config.endpoints.len());
    for e in &config.endpoints {
        dump_endpoint(o, e);
    }
    if !config.warnings.is_empty() {
        let _ = writeln!(o, "warnings:");
        for w in &config.warnings {
            let _ = writeln!(o, "  {w}");
        }
    }
    out
}

fn dump_endpoint(o: &mut String, e: &EndpointConfig) {
    let _ = writeln!(o, "- {} {}", e.method.as_str(), e.path);
    let _ = writeln!(o, "  params: {}", list(&e.params));
    let _ = writeln!(
        o,
        "  timeout: {} cache_ttl: {} concurrent_calls: {} output_encoding: {:?}",
        format_go_duration(e.timeout),
        format_go_duration(e.cache_ttl),
        e.concurrent_calls,
        e.output_encoding
    );
    let _ = writeln!(o, "  input_query_strings: {}", list(&e.input_query_strings));
    let _ = writeln!(o, "  input_headers: {}", list(&e.input_headers));
    extra(o, "  ", &e.extra_config);
    for (i, b) in e.backends.iter().enumerate() {
        let _ = writeln!(o, "  backend #{i}: {} {}", b.method.as_str(), b.url_pattern.source);
        let _ = writeln!(o, "    parts: {}", url_parts(e, &b.url_pattern));
        let _ = writeln!(o, "    hosts: {}", list(&b.hosts));
        let _ = writeln!(o, "    encoding: {:?} is_collection: {}", b.encoding, b.is_collection);
        let _ = writeln!(
            o,
            "    target: {:?} group: {:?} allow: {} deny: {}",
            b.target.as_deref().unwrap_or(""),
            b.group.as_deref().unwrap_or(""),
            list(&b.allow),
            list(&b.deny)
        );
        if !b.mapping.is_empty() {
            let pairs: Vec<String> = b.mapping.iter().map(|(k, v)| format!("{k:?}->{v:?}")).collect();
            let _ = writeln!(o, "    mapping: {}", pairs.join(", "));
        }
        let _ = writeln!(
            o,
            "    input_headers: {} input_query_strings: {}",
            list(&b.input_headers),
            list(&b.input_query_strings)
        );
        let _ = writeln!(
            o,
            "    return_error_code: {} return_error_details: {:?} shadow: {}",
            b.return_error_code,
            b.return_error_details.as_deref().unwrap_or(""),
            b.shadow
        );
        if let Some(path) = &b.static_filesystem {
            let _ = writeln!(o, "    static_filesystem: {:?}", path.display().to_string());
        }
        if let Some(cache) = &b.http_cache {
            let caps = cache.caps.map_or_else(
                || "uncapped".to_owned(),
                |c| format!("max_items={} max_size={}", c.max_items, c.max_size),
            );
            let _ = writeln!(o, "    http_cache: shared={} {caps}", cache.shared);
        }
        extra(o, "    ", &b.extra_config);
    }
}
