//! Property: a real `/bin/sh` reading a line rendered with `quote_argv` passes exactly
//! the original arguments, whatever they hold (quotes, `$()`, backticks, newlines,
//! leading `-`, globs, unicode). The script prints each argument NUL-terminated with
//! `printf '%s\0'`; the bytes are compared with the argv.

use std::process::Command;

use proptest::prelude::*;
use vnet_backend_shell::quote_argv;

const NASTY: &[&str] = &[
    "$(reboot)",
    "`reboot`",
    ";",
    "'",
    "\"",
    "\\",
    "\n",
    "-rf",
    "--",
    "*",
    "?",
    "[a]",
    "~",
    "#",
    "|",
    "&",
    ">",
    "<",
    "$HOME",
    "${x:-y}",
    "!",
    "'\\''",
    "\t",
    " ",
    "",
    "=",
    "a=b",
    "é",
    "日本",
    "\u{202e}",
    "\r\n",
];

fn arg() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>().prop_map(|s| s.replace('\0', "")),
        proptest::sample::select(NASTY).prop_map(str::to_string),
        proptest::collection::vec(proptest::sample::select(NASTY), 1..5).prop_map(|v| v.concat()),
        "[ -~\n\t]{0,24}",
    ]
}

fn run_sh(script: &str) -> Vec<u8> {
    let dir = std::env::temp_dir().join(format!("vnet-quote-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("t.sh");
    std::fs::write(&path, script).unwrap();
    let out = Command::new("/bin/sh")
        .arg(&path)
        .env_clear()
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "sh failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn sh_reads_back_exactly_the_argv(args in proptest::collection::vec(arg(), 1..6)) {
        let mut argv = vec!["printf".to_string(), "%s\\0".to_string()];
        argv.extend(args.iter().cloned());
        let script = format!("set -eu\n{}\n", quote_argv(&argv));
        let mut expected = Vec::new();
        for a in &args {
            expected.extend_from_slice(a.as_bytes());
            expected.push(0);
        }
        prop_assert_eq!(run_sh(&script), expected, "script: {}", script);
    }
}
