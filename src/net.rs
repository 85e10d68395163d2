//! URL rules shared by cluster URLs and push URLs: which hosts are
//! loopback, and when plain http is allowed. Decided on the parsed host,
//! never on the text of the URL.

use std::net::IpAddr;

use reqwest::Url;

/// Whether the URL's host is a loopback IP address (127.0.0.0/8, ::1).
/// A host name is never loopback here, `localhost` included: a name can
/// resolve anywhere.
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        _ => false,
    }
}

/// Refuses plain http to a host that is not loopback unless allowed;
/// `what` names the URL's origin (a flag, a profile key) in the message.
pub fn check_scheme(url: &Url, what: &str, allow_http: bool) -> Result<(), String> {
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(format!("{what}: expected http(s)://host[:port]"));
    }
    if url.scheme() == "http" && !allow_http && !is_loopback(url) {
        let host = url.host_str().unwrap_or_default();
        // A name is never taken for loopback (it can resolve anywhere).
        let hint = match host.eq_ignore_ascii_case("localhost") {
            true => {
                " (for this machine, write 127.0.0.1: a loopback address is allowed plain http)"
            }
            false => "",
        };
        return Err(format!(
            "{what}: plain http to {host} would send credentials unencrypted; use https, or --allow-http if you must{hint}"
        ));
    }
    Ok(())
}

/// The URL for messages: no user info, no query (webhook URLs often carry
/// tokens there), no fragment.
pub fn display(url: &Url) -> String {
    let mut u = url.clone();
    let _ = u.set_username("");
    let _ = u.set_password(None);
    let had_query = u.query().is_some();
    u.set_query(None);
    u.set_fragment(None);
    let mut text = u.to_string();
    if had_query {
        text.push_str("?…");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn loopback_is_decided_on_the_parsed_host() {
        assert!(is_loopback(&url("http://127.0.0.1:8080")));
        assert!(is_loopback(&url("http://127.9.9.9")));
        assert!(is_loopback(&url("http://[::1]:99/x")));
        for not in [
            "http://127.attacker.invalid",
            "http://127.0.0.1.attacker.invalid",
            "http://localhost",
            "http://10.0.0.1",
        ] {
            assert!(!is_loopback(&url(not)), "{not}");
        }
        assert!(check_scheme(&url("http://127.attacker.invalid"), "u", false).is_err());
        assert!(check_scheme(&url("http://127.attacker.invalid"), "u", true).is_ok());
        assert!(check_scheme(&url("ftp://x.invalid"), "u", true).is_err());
        let why = check_scheme(&url("http://localhost:8080"), "--target", false).unwrap_err();
        assert!(why.contains("write 127.0.0.1"), "{why}");
        let why = check_scheme(&url("http://ts.example.invalid"), "--target", false).unwrap_err();
        assert!(!why.contains("127.0.0.1"), "{why}");
    }

    #[test]
    fn display_hides_credentials_and_queries() {
        assert_eq!(
            display(&url("https://u:p@hooks.invalid/x?token=abc#f")),
            "https://hooks.invalid/x?…"
        );
    }
}
