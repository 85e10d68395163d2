//! Counted nouns for messages: "1 write", "2 writes", never "write(s)".

/// `n` and the noun that agrees with it: `plural(1, "key", "keys")` is
/// "1 key", `plural(0, "key", "keys")` "0 keys".
pub(crate) fn plural<N>(n: N, one: &str, many: &str) -> String
where
    N: std::fmt::Display + PartialEq + From<u8>,
{
    let noun = if n == N::from(1) { one } else { many };
    format!("{n} {noun}")
}

/// The verb form that agrees with `n`: `agree(1, "was", "were")`.
pub(crate) fn agree<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 {
        one
    } else {
        many
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_is_singular_and_every_other_count_plural() {
        assert_eq!(plural(1, "secret", "secrets"), "1 secret");
        assert_eq!(plural(0, "secret", "secrets"), "0 secrets");
        assert_eq!(plural(2usize, "secret", "secrets"), "2 secrets");
        assert_eq!(plural(1u64, "login", "logins"), "1 login");
        assert_eq!(agree(1, "was", "were"), "was");
        assert_eq!(agree(3, "was", "were"), "were");
    }
}
