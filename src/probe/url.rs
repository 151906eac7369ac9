//! Probe URL parsing: `$VAR` / `${VAR}` expansion, then `http://` and `tcp://` targets.
//!
//! Expansion rules (exec-form HEALTHCHECK has no shell, so init does this itself):
//! - `$NAME` and `${NAME}` are replaced by the variable's value; `NAME` is
//!   `[A-Za-z_][A-Za-z0-9_]*`. An unset variable is an error naming it.
//! - `${NAME:-default}` uses `default` (taken literally) when `NAME` is unset or empty.
//! - `$$` is a literal `$`; a `$` not followed by a name, `{` or `$` is kept as is.
//! - `${` without a closing `}` or with a bad name is a malformed URL.
//!
//! Parsing is pure (the environment is passed in), so it is unit-tested here.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// What to do once connected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// Send one HTTP/1.1 GET, healthy on a 2xx/3xx status.
    Http,
    /// Healthy when the TCP connection opens.
    Tcp,
}

/// Where to connect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Host {
    /// An IPv4 literal or a bracketed IPv6 literal.
    Ip(IpAddr),
    /// A host name, resolved when probing.
    Name(String),
}

/// A parsed probe URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub scheme: Scheme,
    pub host: Host,
    pub port: u16,
    /// HTTP request target (`/` when the URL has none, fragment removed); empty for tcp.
    pub path: String,
    /// The URL after variable expansion, used in messages.
    pub url: String,
}

/// Why a probe URL was rejected (exit code 2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UrlError {
    /// `$NAME` or `${NAME}` names a variable that is not set.
    UnsetVar { name: String, url: String },
    /// A well-formed scheme that init does not speak (https, ftp, ...).
    Unsupported { scheme: String, url: String },
    /// Anything else wrong with the URL.
    Malformed { reason: String, url: String },
}

impl fmt::Display for UrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `{:?}` quotes and escapes, so the message stays on one line.
        match self {
            UrlError::UnsetVar { name, url } => {
                write!(f, "variable {name} is not set (in URL {url:?})")
            }
            UrlError::Unsupported { scheme, url } => write!(
                f,
                "unsupported URL scheme {scheme:?} in {url:?} (use http:// or tcp://)"
            ),
            UrlError::Malformed { reason, url } => write!(f, "bad URL {url:?}: {reason}"),
        }
    }
}

fn malformed(url: &str, reason: impl Into<String>) -> UrlError {
    UrlError::Malformed {
        reason: reason.into(),
        url: url.to_owned(),
    }
}

fn is_name_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

fn is_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(is_name_start) && chars.all(is_name_char)
}

/// Expands `$NAME`, `${NAME}`, `${NAME:-default}` and `$$` in `s` (see the module docs).
pub fn expand(s: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<String, UrlError> {
    let unset = |name: &str| UrlError::UnsetVar {
        name: name.to_owned(),
        url: s.to_owned(),
    };
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some((before, after)) = rest.split_once('$') {
        out.push_str(before);
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some(braced) = after.strip_prefix('{') {
            let Some((inner, tail)) = braced.split_once('}') else {
                return Err(malformed(s, "unterminated \"${\" (missing \"}\")"));
            };
            let (name, default) = match inner.split_once(":-") {
                Some((name, default)) => (name, Some(default)),
                None => (inner, None),
            };
            if !is_name(name) {
                return Err(malformed(s, format!("bad variable name {name:?}")));
            }
            match (env(name), default) {
                (Some(value), Some(default)) if value.is_empty() => out.push_str(default),
                (Some(value), _) => out.push_str(&value),
                (None, Some(default)) => out.push_str(default),
                (None, None) => return Err(unset(name)),
            }
            rest = tail;
        } else if after.starts_with(is_name_start) {
            let end = after.find(|c| !is_name_char(c)).unwrap_or(after.len());
            let Some((name, tail)) = after.split_at_checked(end) else {
                return Err(malformed(s, "bad variable reference"));
            };
            out.push_str(&env(name).ok_or_else(|| unset(name))?);
            rest = tail;
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// Expands variables in `s` (from `env`), then parses `http://HOST[:PORT][/PATH]` or
/// `tcp://HOST:PORT`. HOST is an IPv4 literal, a bracketed IPv6 literal or a host name.
pub fn parse_url(s: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<Target, UrlError> {
    let url = expand(s, env)?;
    if url.is_empty() {
        return Err(malformed(&url, "empty URL"));
    }
    if !url.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(malformed(
            &url,
            "contains spaces, control or non-ASCII characters",
        ));
    }
    let Some((scheme_str, rest)) = url.split_once("://") else {
        return Err(malformed(
            &url,
            "expected http://HOST:PORT/PATH or tcp://HOST:PORT",
        ));
    };
    let scheme_ok = scheme_str.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme_str
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    if !scheme_ok {
        return Err(malformed(&url, format!("bad scheme {scheme_str:?}")));
    }
    let scheme = if scheme_str.eq_ignore_ascii_case("http") {
        Scheme::Http
    } else if scheme_str.eq_ignore_ascii_case("tcp") {
        Scheme::Tcp
    } else {
        return Err(UrlError::Unsupported {
            scheme: scheme_str.to_owned(),
            url,
        });
    };

    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let Some((authority, tail)) = rest.split_at_checked(end) else {
        return Err(malformed(&url, "bad authority"));
    };
    if authority.contains('@') {
        return Err(malformed(&url, "user info (user@host) is not supported"));
    }

    let (host, port_str) = split_host_port(&url, authority)?;
    let port = parse_port(&url, port_str, scheme)?;

    let path = match scheme {
        Scheme::Http => {
            let target = tail.split_once('#').map_or(tail, |(target, _)| target);
            if target.starts_with('/') {
                target.to_owned()
            } else {
                // Empty, or a query right after the authority ("http://h?x=1").
                format!("/{target}")
            }
        }
        Scheme::Tcp => {
            if !tail.is_empty() && tail != "/" {
                return Err(malformed(&url, "a tcp:// URL takes no path"));
            }
            String::new()
        }
    };

    Ok(Target {
        scheme,
        host,
        port,
        path,
        url,
    })
}

/// Splits an authority into its host and the text after `:` (if any).
fn split_host_port<'a>(url: &str, authority: &'a str) -> Result<(Host, Option<&'a str>), UrlError> {
    if let Some(bracketed) = authority.strip_prefix('[') {
        let Some((inside, after)) = bracketed.split_once(']') else {
            return Err(malformed(url, "missing \"]\" after IPv6 address"));
        };
        let Ok(ip) = inside.parse::<Ipv6Addr>() else {
            return Err(malformed(url, format!("bad IPv6 address {inside:?}")));
        };
        let port_str = match after {
            "" => None,
            _ => Some(
                after
                    .strip_prefix(':')
                    .ok_or_else(|| malformed(url, format!("unexpected {after:?} after \"]\"")))?,
            ),
        };
        return Ok((Host::Ip(IpAddr::V6(ip)), port_str));
    }
    let (name, port_str) = match authority.split_once(':') {
        Some((name, port)) => (name, Some(port)),
        None => (authority, None),
    };
    if port_str.is_some_and(|p| p.contains(':')) {
        return Err(malformed(
            url,
            "an IPv6 address must be in brackets, e.g. http://[::1]:8000/",
        ));
    }
    if name.is_empty() {
        return Err(malformed(url, "missing host"));
    }
    if let Ok(ip) = name.parse::<Ipv4Addr>() {
        return Ok((Host::Ip(IpAddr::V4(ip)), port_str));
    }
    let name_ok = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'));
    if !name_ok {
        return Err(malformed(url, format!("bad host name {name:?}")));
    }
    Ok((Host::Name(name.to_owned()), port_str))
}

/// The port: as given (1-65535), else 80 for http; tcp needs one.
fn parse_port(url: &str, port_str: Option<&str>, scheme: Scheme) -> Result<u16, UrlError> {
    match (port_str, scheme) {
        (None, Scheme::Http) => Ok(80),
        (None, Scheme::Tcp) => Err(malformed(url, "missing port (tcp://HOST:PORT)")),
        (Some(""), _) => Err(malformed(url, "missing port number after \":\"")),
        (Some(p), _) if !p.bytes().all(|b| b.is_ascii_digit()) => {
            Err(malformed(url, format!("bad port {p:?}")))
        }
        (Some(p), _) => match p.parse::<u16>() {
            Ok(port) if port != 0 => Ok(port),
            _ => Err(malformed(
                url,
                format!("port {p} is out of range (1-65535)"),
            )),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv6Addr;

    fn env(name: &str) -> Option<String> {
        match name {
            "PORT" => Some("8000".into()),
            "HOST" => Some("10.0.0.7".into()),
            "EMPTY" => Some(String::new()),
            "BADPORT" => Some("http".into()),
            _ => None,
        }
    }

    fn parse(s: &str) -> Result<Target, UrlError> {
        parse_url(s, &env)
    }

    fn ok(s: &str) -> Target {
        match parse(s) {
            Ok(t) => t,
            Err(e) => panic!("{s}: {e}"),
        }
    }

    fn malformed_reason(s: &str) -> String {
        match parse(s) {
            Err(UrlError::Malformed { reason, .. }) => reason,
            other => panic!("{s}: expected a malformed URL, got {other:?}"),
        }
    }

    fn v4(a: u8, b: u8, c: u8, d: u8) -> Host {
        Host::Ip(IpAddr::V4(Ipv4Addr::new(a, b, c, d)))
    }

    #[test]
    fn http_full() {
        let t = ok("http://127.0.0.1:8000/health?x=1");
        assert_eq!(t.scheme, Scheme::Http);
        assert_eq!(t.host, v4(127, 0, 0, 1));
        assert_eq!(t.port, 8000);
        assert_eq!(t.path, "/health?x=1");
        assert_eq!(t.url, "http://127.0.0.1:8000/health?x=1");
    }

    #[test]
    fn http_defaults_port_80_and_path_slash() {
        let t = ok("http://127.0.0.1");
        assert_eq!((t.port, t.path.as_str()), (80, "/"));
        let t = ok("http://127.0.0.1:8080");
        assert_eq!((t.port, t.path.as_str()), (8080, "/"));
        let t = ok("http://127.0.0.1/");
        assert_eq!((t.port, t.path.as_str()), (80, "/"));
    }

    #[test]
    fn http_query_without_path_and_fragment_dropped() {
        assert_eq!(ok("http://h?ready=1").path, "/?ready=1");
        assert_eq!(ok("http://h:1/a/b#frag").path, "/a/b");
        assert_eq!(ok("http://h:1#frag").path, "/");
    }

    #[test]
    fn scheme_is_case_insensitive() {
        assert_eq!(ok("HTTP://h/").scheme, Scheme::Http);
        assert_eq!(ok("Tcp://h:1").scheme, Scheme::Tcp);
    }

    #[test]
    fn tcp_requires_port_and_takes_no_path() {
        let t = ok("tcp://127.0.0.1:5432");
        assert_eq!(t.scheme, Scheme::Tcp);
        assert_eq!((t.port, t.path.as_str()), (5432, ""));
        assert_eq!(ok("tcp://db:5432/").port, 5432);
        assert!(malformed_reason("tcp://127.0.0.1").contains("missing port"));
        assert!(malformed_reason("tcp://127.0.0.1:5432/x").contains("no path"));
    }

    #[test]
    fn ipv6_literals() {
        let t = ok("http://[::1]:8000/ready");
        assert_eq!(t.host, Host::Ip(IpAddr::V6(Ipv6Addr::LOCALHOST)));
        assert_eq!((t.port, t.path.as_str()), (8000, "/ready"));
        assert_eq!(ok("http://[::1]").port, 80);
        assert_eq!(ok("tcp://[fe80::1]:22").port, 22);
        assert!(malformed_reason("http://::1:8000/").contains("brackets"));
        assert!(malformed_reason("http://[::1:8000/").contains("]"));
        assert!(malformed_reason("http://[nope]:8000/").contains("IPv6"));
        assert!(malformed_reason("http://[::1]8000/").contains("after"));
        assert!(malformed_reason("http://[]:80/").contains("IPv6"));
    }

    #[test]
    fn host_names() {
        assert_eq!(
            ok("http://localhost:8000/").host,
            Host::Name("localhost".into())
        );
        assert_eq!(
            ok("tcp://my-db.default.svc:5432").host,
            Host::Name("my-db.default.svc".into())
        );
        assert!(malformed_reason("http://bad!host/").contains("host name"));
    }

    #[test]
    fn missing_host() {
        assert_eq!(malformed_reason("http:///health"), "missing host");
        assert_eq!(malformed_reason("http://:8000/"), "missing host");
        assert_eq!(malformed_reason("tcp://:5432"), "missing host");
    }

    #[test]
    fn bad_ports() {
        assert!(malformed_reason("http://h:abc/").contains("bad port"));
        assert!(malformed_reason("http://h:-1/").contains("bad port"));
        assert!(malformed_reason("http://h:+80/").contains("bad port"));
        assert!(malformed_reason("http://h:0/").contains("out of range"));
        assert!(malformed_reason("http://h:65536/").contains("out of range"));
        assert!(malformed_reason("http://h:99999999999999999999/").contains("out of range"));
        assert!(malformed_reason("http://h:/").contains("missing port"));
        assert_eq!(ok("http://h:65535/").port, 65535);
    }

    #[test]
    fn unsupported_schemes() {
        for url in ["https://h/", "ftp://h/", "udp://h:53", "unix://x"] {
            match parse(url) {
                Err(UrlError::Unsupported { scheme, url: u }) => {
                    assert_eq!(u, url);
                    assert!(url.starts_with(&scheme));
                }
                other => panic!("{url}: {other:?}"),
            }
        }
        let msg = parse("https://h/").map(|_| ()).unwrap_err().to_string();
        assert!(
            msg.contains("\"https\"") && msg.contains("https://h/"),
            "{msg}"
        );
    }

    #[test]
    fn malformed_urls() {
        assert_eq!(malformed_reason(""), "empty URL");
        assert!(malformed_reason("127.0.0.1:8000").contains("expected http://"));
        assert!(malformed_reason("http:/h/").contains("expected http://"));
        assert!(malformed_reason("1http://h/").contains("bad scheme"));
        assert!(malformed_reason("://h/").contains("bad scheme"));
        assert!(malformed_reason("http://h/a b").contains("spaces"));
        assert!(malformed_reason("http://h/\r\nX: y").contains("control"));
        assert!(malformed_reason("http://h/é").contains("non-ASCII"));
        assert!(malformed_reason("http://user@h/").contains("user info"));
    }

    #[test]
    fn expands_dollar_name_and_braces() {
        let t = ok("http://127.0.0.1:$PORT/health");
        assert_eq!(
            (t.port, t.url.as_str()),
            (8000, "http://127.0.0.1:8000/health")
        );
        let t = ok("http://${HOST}:${PORT}/x");
        assert_eq!((t.host, t.port), (v4(10, 0, 0, 7), 8000));
        // A name ends at the first non-name character.
        assert_eq!(
            expand("$PORT/$HOST.x", &env).ok().as_deref(),
            Some("8000/10.0.0.7.x")
        );
        assert_eq!(expand("a${PORT}b", &env).ok().as_deref(), Some("a8000b"));
    }

    #[test]
    fn expands_defaults() {
        assert_eq!(
            expand("${UNSET:-9000}|${PORT:-1}|${EMPTY:-2}", &env)
                .ok()
                .as_deref(),
            Some("9000|8000|2")
        );
        assert_eq!(ok("http://127.0.0.1:${NOPE:-8080}/").port, 8080);
    }

    #[test]
    fn dollar_escapes_and_literals() {
        assert_eq!(expand("a$$PORT", &env).ok().as_deref(), Some("a$PORT"));
        assert_eq!(expand("$$$$", &env).ok().as_deref(), Some("$$"));
        assert_eq!(expand("x$", &env).ok().as_deref(), Some("x$"));
        assert_eq!(expand("/a$/b$1", &env).ok().as_deref(), Some("/a$/b$1"));
        assert_eq!(ok("http://h/p$/q").path, "/p$/q");
    }

    #[test]
    fn unset_variable_is_named() {
        for url in ["http://127.0.0.1:$NOPE/", "http://127.0.0.1:${NOPE}/"] {
            let err = parse(url).map(|_| ()).unwrap_err();
            assert_eq!(
                err,
                UrlError::UnsetVar {
                    name: "NOPE".into(),
                    url: url.into()
                }
            );
            let msg = err.to_string();
            assert!(msg.contains("NOPE") && msg.contains("not set"), "{msg}");
        }
    }

    #[test]
    fn bad_variable_syntax() {
        assert!(malformed_reason("http://h:${PORT/").contains("unterminated"));
        assert!(malformed_reason("http://h:${}/").contains("variable name"));
        assert!(malformed_reason("http://h:${1X}/").contains("variable name"));
        assert!(malformed_reason("http://h:${A-B}/").contains("variable name"));
    }

    #[test]
    fn expanded_values_are_validated() {
        assert!(malformed_reason("http://h:$BADPORT/").contains("bad port"));
        assert!(malformed_reason("http://h:$EMPTY/").contains("missing port"));
        // The message names the expanded URL.
        let msg = parse("http://h:$BADPORT/")
            .map(|_| ())
            .unwrap_err()
            .to_string();
        assert!(msg.contains("http://h:http/"), "{msg}");
    }
}

/// Property tests: a probe URL (with `$VAR` references) parses to a target or a one-line
/// error on any input; well-formed URLs parse to what they say. The inputs come from
/// `crate::proptests`.
#[cfg(test)]
mod proptests {
    use proptest::collection::vec;
    use proptest::prelude::*;
    use proptest::sample::select;

    use crate::probe::{Scheme, parse_url};
    use crate::proptests::{config, env_map, fuzzy, lookup, one_line};

    proptest! {
        #![proptest_config(config(1000))]

        #[test]
        fn probe_urls_never_panic(s in url_like(), env in env_map()) {
            match parse_url(&s, &lookup(&env)) {
                Ok(t) => {
                    prop_assert!(t.port != 0);
                    prop_assert!(t.url.bytes().all(|b| b.is_ascii_graphic()), "{:?}", t.url);
                    match t.scheme {
                        Scheme::Http => prop_assert!(t.path.starts_with('/'), "{:?}", t.path),
                        Scheme::Tcp => prop_assert!(t.path.is_empty()),
                    }
                }
                Err(e) => prop_assert!(one_line(&e.to_string()), "{e}"),
            }
        }

        #[test]
        fn well_formed_probe_urls_parse(
            http in any::<bool>(),
            host in prop_oneof![
                "[a-z][a-z0-9-]{0,20}(\\.[a-z0-9-]{1,10}){0,3}",
                any::<[u8; 4]>().prop_map(|o| format!("{}.{}.{}.{}", o[0], o[1], o[2], o[3])),
                any::<[u16; 8]>().prop_map(|s| format!("[{}]", std::net::Ipv6Addr::from(s))),
            ],
            port in 1..=u16::MAX,
            path in "(/[A-Za-z0-9._~%!*'()+,;=:@-]{0,12}){0,4}(\\?[a-z0-9=&]{0,10})?",
        ) {
            let url = if http {
                format!("http://{host}:{port}{path}")
            } else {
                format!("tcp://{host}:{port}")
            };
            let t = parse_url(&url, &|_| None);
            prop_assert!(t.is_ok(), "{url}: {t:?}");
            let t = t.unwrap_or_else(|_| unreachable!());
            prop_assert_eq!(t.port, port);
            prop_assert_eq!(t.url, url);
        }
    }

    /// Probe URLs: a scheme-ish head, then fuzz with `$VAR` references.
    fn url_like() -> impl Strategy<Value = String> {
        let head = select(
            &[
                "http://", "tcp://", "HTTP://", "https://", "", "x://", "http:/",
            ][..],
        );
        let var = select(
            &[
                "$PORT",
                "${PORT}",
                "${UNSET:-80}",
                "$UNSET",
                "${",
                "$$",
                "${1x}",
                "$",
            ][..],
        );
        let piece = prop_oneof![2 => fuzzy(), 1 => var.prop_map(str::to_owned)];
        (head, vec(piece, 0..5)).prop_map(|(h, rest)| format!("{h}{}", rest.concat()))
    }
}
