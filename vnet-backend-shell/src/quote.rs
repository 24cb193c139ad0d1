//! POSIX `sh` quoting: the one function every renderer uses to write an argument.
//!
//! An argument made only of characters no shell treats specially is written bare, so
//! scripts stay readable (`ip -n vnet-m1 link set veth1 up`). Anything else is put in
//! single quotes, inside which `sh` interprets nothing; a single quote itself is written
//! as `\'` between the quoted runs (`it's` -> `'it'\''s'`): the scheme of Python's
//! `shlex.quote`, without its empty `''` pairs at the ends.

use std::borrow::Cow;

/// Whether `c` means nothing to `sh` anywhere in a word (also not at its start).
fn is_safe(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(c, '_' | '@' | '%' | '+' | '=' | ':' | ',' | '.' | '/' | '-')
}

/// `arg` as one `sh` word that expands to exactly `arg`.
///
/// A NUL byte cannot be part of any argument (the kernel ends strings there); callers
/// reject such arguments before rendering (see [`crate::ShellError::NulInArgument`]).
///
/// ```
/// use vnet_backend_shell::quote;
/// assert_eq!(quote("veth1"), "veth1");
/// assert_eq!(quote(""), "''");
/// assert_eq!(quote("$(reboot)"), "'$(reboot)'");
/// assert_eq!(quote("it's"), r"'it'\''s'");
/// ```
pub fn quote(arg: &str) -> Cow<'_, str> {
    if !arg.is_empty() && arg.chars().all(is_safe) {
        return Cow::Borrowed(arg);
    }
    if arg.is_empty() {
        return Cow::Borrowed("''");
    }
    // Runs between single quotes are single-quoted; each single quote is written `\'`
    // between them (`it's` -> `'it'\''s'`), without empty `''` pairs at the ends.
    let mut out = String::with_capacity(arg.len() + 2);
    for (i, run) in arg.split('\'').enumerate() {
        if i > 0 {
            out.push_str(r"\'");
        }
        if !run.is_empty() {
            out.push('\'');
            out.push_str(run);
            out.push('\'');
        }
    }
    Cow::Owned(out)
}

/// An argv as one `sh` command line. The command word is quoted even when it contains
/// only `=` among the specials, as `NAME=value` first on a line is an assignment.
pub fn quote_argv<S: AsRef<str>>(argv: &[S]) -> String {
    let mut out = String::new();
    for (i, a) in argv.iter().enumerate() {
        let a = a.as_ref();
        if i > 0 {
            out.push(' ');
        }
        if i == 0 && a.contains('=') && quote(a) == a {
            // Only safe characters: single quotes around it are enough.
            out.push('\'');
            out.push_str(a);
            out.push('\'');
        } else {
            out.push_str(&quote(a));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn safe_words_stay_bare_and_everything_else_is_single_quoted() {
        assert_eq!(quote("net/ipv4/ip_forward=1"), "net/ipv4/ip_forward=1");
        assert_eq!(quote("00:12:34:56:78:9A"), "00:12:34:56:78:9A");
        assert_eq!(quote("a b"), "'a b'");
        assert_eq!(quote("~root"), "'~root'");
        assert_eq!(quote("#x"), "'#x'");
        assert_eq!(quote("*"), "'*'");
        assert_eq!(quote("a\nb"), "'a\nb'");
        assert_eq!(quote("'"), r"\'");
        assert_eq!(quote("'a'"), r"\''a'\'");
        assert_eq!(quote("é"), "'é'");
    }

    #[test]
    fn a_command_word_with_equals_is_not_an_assignment() {
        assert_eq!(quote_argv(&["A=1", "B=2"]), "'A=1' B=2");
        assert_eq!(quote_argv(&["ip", "link"]), "ip link");
    }
}
