//! `security/bot-detector` (spec §3.8): rejects requests by `User-Agent` with `403` and an empty body, at service
//! level (a router middleware) or as the first step of an endpoint (krakend-botdetector's rules).
//!
//! Rules, in KrakenD's order: an empty or missing `User-Agent` is a bot only with `empty_user_agent_is_bot`; an exact
//! `allow` match passes; an exact `deny` match is a bot; so is any match of a `patterns` regex (unanchored).
//!
//! `cache_size` keeps an LRU of User-Agent → verdict. KrakenD keeps one per process; here each worker keeps its own
//! (no lock on the request path). The verdict is a pure function of the User-Agent, so a per-core cache answers
//! exactly what a per-process one would: only the hit rate differs.

use std::cell::RefCell;
use std::collections::HashSet;
use std::num::NonZeroUsize;

use lru::LruCache;
use regex::bytes::{Regex, RegexSet};
use serde::Deserialize;

use super::Step;
use crate::config::raw::from_value;
use crate::server::h1::RequestHead;
use crate::telemetry::logging;

pub const NAMESPACE: &str = "security/bot-detector";

/// The namespace as written (schema `security/bot-detector.json`).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct BotDetectorConfig {
    /// Exact User-Agents always accepted.
    allow: Vec<String>,
    /// Exact User-Agents rejected.
    deny: Vec<String>,
    /// Regular expressions (RE2 syntax, unanchored); any match rejects.
    patterns: Vec<String>,
    empty_user_agent_is_bot: bool,
    /// Entries of the User-Agent → verdict LRU; 0 = no cache.
    cache_size: usize,
}

/// `security/bot-detector`, compiled for one worker (service level, or one endpoint).
#[derive(Debug)]
pub struct BotDetector {
    allow: HashSet<Box<[u8]>>,
    deny: HashSet<Box<[u8]>>,
    patterns: Option<RegexSet>,
    empty_is_bot: bool,
    /// Verdicts of the patterns by User-Agent (`true` = bot).
    cache: Option<RefCell<LruCache<Box<[u8]>, bool>>>,
    /// `[SERVICE: …][Botdetector]` or `[ENDPOINT: /path][Botdetector]`, for the rejection log line.
    log_line: String,
}

impl BotDetector {
    /// `scope` names where it runs in log lines (`SERVICE`, `ENDPOINT: /path`).
    pub fn build(value: &serde_json::Value, scope: &str) -> Result<BotDetector, String> {
        let at = super::key_path(NAMESPACE);
        let raw: BotDetectorConfig = from_value(value.clone(), &at)?;
        for (i, p) in raw.patterns.iter().enumerate() {
            // KrakenD disables the whole detector on a bad pattern (with a warning); refusing the config is safer.
            Regex::new(p).map_err(|e| {
                format!("{at}.patterns[{i}]: invalid regular expression '{p}': {}", super::regex_error(&e))
            })?;
        }
        let patterns = match raw.patterns.is_empty() {
            true => None,
            false => {
                Some(RegexSet::new(&raw.patterns).map_err(|e| format!("{at}.patterns: {}", super::regex_error(&e)))?)
            }
        };
        let set = |list: Vec<String>| list.into_iter().map(|s| s.into_bytes().into_boxed_slice()).collect();
        Ok(BotDetector {
            allow: set(raw.allow),
            deny: set(raw.deny),
            patterns,
            empty_is_bot: raw.empty_user_agent_is_bot,
            cache: NonZeroUsize::new(raw.cache_size).map(|n| RefCell::new(LruCache::new(n))),
            log_line: format!("[{scope}][Botdetector] bot rejected"),
        })
    }

    /// Rejects a bot with a router-layer `403` (with the outer layers' `headers`); anything else continues.
    pub fn handle(&self, req: &RequestHead, headers: &[u8], out: &mut Vec<u8>, close: bool) -> Step {
        if !self.is_bot(req.header("user-agent").unwrap_or_default()) {
            return Step::Continue;
        }
        logging::error(&self.log_line);
        super::abort(out, 403, close, headers);
        Step::Answered
    }

    /// krakend-botdetector's `IsBot` on Go's `Header.Get("User-Agent")` (`""` when absent).
    pub fn is_bot(&self, ua: &[u8]) -> bool {
        if ua.is_empty() {
            return self.empty_is_bot;
        }
        if self.allow.contains(ua) {
            return false;
        }
        if self.deny.contains(ua) {
            return true;
        }
        let Some(patterns) = &self.patterns else { return false };
        let Some(cache) = &self.cache else { return patterns.is_match(ua) };
        if let Some(bot) = cache.borrow_mut().get(ua) {
            return *bot;
        }
        let bot = patterns.is_match(ua);
        cache.borrow_mut().put(ua.into(), bot);
        bot
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detector(value: serde_json::Value) -> BotDetector {
        BotDetector::build(&value, "SERVICE").expect("valid config")
    }

    #[test]
    fn krakend_rule_order() {
        let fixture = serde_json::json!({
            "deny": ["a", "b"],
            "allow": ["c", "Pingdom.com_bot_version_1.1"],
            "patterns": ["(Pingdom.com_bot_version_).*", "(facebookexternalhit)/.*"]
        });
        for cached in [false, true] {
            let mut value = fixture.clone();
            if cached {
                value["cache_size"] = 2.into();
            }
            let d = detector(value);
            for _ in 0..2 {
                assert!(d.is_bot(b"a"));
                assert!(d.is_bot(b"Pingdom.com_bot_version_1.14"));
                assert!(!d.is_bot(b"Pingdom.com_bot_version_1.1"), "exact allow beats a pattern");
                assert!(d.is_bot(b"facebookexternalhit/1.2.3"));
                assert!(d.is_bot(b"x facebookexternalhit/1"), "patterns are unanchored");
                assert!(!d.is_bot(b"curl/8.0"));
                assert!(!d.is_bot(b""));
            }
        }
    }

    #[test]
    fn empty_user_agent() {
        assert!(detector(serde_json::json!({"empty_user_agent_is_bot": true, "allow": [""]})).is_bot(b""));
        assert!(!detector(serde_json::json!({})).is_bot(b""));
    }

    #[test]
    fn cache_evicts_least_recently_used() {
        let d = detector(serde_json::json!({"patterns": ["bot"], "cache_size": 2}));
        for ua in [&b"bot-1"[..], b"ok-1", b"bot-1", b"ok-2"] {
            d.is_bot(ua);
        }
        let cache = d.cache.as_ref().unwrap().borrow();
        assert!(cache.contains(&b"bot-1"[..]) && cache.contains(&b"ok-2"[..]) && !cache.contains(&b"ok-1"[..]));
    }

    #[test]
    fn bad_pattern_names_the_key() {
        let e = BotDetector::build(&serde_json::json!({"patterns": ["ok", "(unclosed"]}), "SERVICE").unwrap_err();
        assert_eq!(e, "extra_config.\"security/bot-detector\".patterns[1]: invalid regular expression '(unclosed': unclosed group");
    }
}
