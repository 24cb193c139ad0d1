//! [`Script`]: a POSIX `sh` script built line by line, every argument quoted with
//! [`crate::quote()`] and every comment made unable to end its line.

use vnet_core::plan::command::{nft_load_argv, nft_load_script};

use crate::error::ShellError;
use crate::quote::quote_argv;

/// The end of an nft heredoc.
const NFT_DELIMITER: &str = "VNET_NFT";

/// A `#!/bin/sh` script with `set -eu`, a header, and commented blocks of commands.
#[derive(Debug, Clone)]
pub struct Script {
    text: String,
    commands: Vec<Vec<String>>,
}

impl Script {
    /// A script whose header comment says `what` it builds (one line per item).
    pub fn new(what: &[String]) -> Self {
        let mut text = String::from("#!/bin/sh\n");
        for line in what {
            text.push_str(&comment_line(line));
        }
        text.push_str("set -eu\n");
        Script {
            text,
            commands: Vec::new(),
        }
    }

    /// Starts a block: a blank line and a comment saying what the block does.
    pub fn block(&mut self, comment: &str) {
        self.text.push('\n');
        self.text.push_str(&comment_line(comment));
    }

    /// A comment line inside a block.
    pub fn note(&mut self, comment: &str) {
        self.text.push_str(&comment_line(comment));
    }

    /// A command, each argument quoted; an `nft` load ([`nft_load_argv`]) is written as
    /// [`Script::nft_load`] writes it.
    pub fn command<S: AsRef<str>>(&mut self, argv: &[S]) -> Result<(), ShellError> {
        let owned: Vec<String> = argv.iter().map(|a| a.as_ref().to_string()).collect();
        if let Some((prefix, script)) = nft_load_script(&owned) {
            return self.nft_load(prefix, script);
        }
        self.plain(argv)
    }

    /// `PREFIX nft -f - <<'VNET_NFT'`, the script, `VNET_NFT`: the nft script as it
    /// reads, loaded in one transaction, run with `PREFIX` (`ip netns exec NS`,
    /// `vzctl exec ID`). The quoted delimiter keeps the shell off the text. A script
    /// that holds the delimiter as a line (only an unvalidated name can) is passed as
    /// an argument to a fixed program instead.
    pub fn nft_load<S: AsRef<str>>(
        &mut self,
        prefix: &[S],
        script: &str,
    ) -> Result<(), ShellError> {
        let prefix: Vec<String> = prefix.iter().map(|a| a.as_ref().to_string()).collect();
        if script.lines().any(|l| l == NFT_DELIMITER) || !script.ends_with('\n') {
            let mut argv = prefix;
            argv.extend(nft_load_argv(script));
            return self.plain(&argv);
        }
        check_nul(&prefix)?;
        check_nul(&[script])?;
        let mut argv = prefix;
        argv.extend(["nft", "-f", "-"].map(String::from));
        self.text.push_str(&quote_argv(&argv));
        self.text
            .push_str(&format!(" <<'{NFT_DELIMITER}'\n{script}{NFT_DELIMITER}\n"));
        self.commands.push(argv);
        Ok(())
    }

    fn plain<S: AsRef<str>>(&mut self, argv: &[S]) -> Result<(), ShellError> {
        check_nul(argv)?;
        self.text.push_str(&quote_argv(argv));
        self.text.push('\n');
        self.commands
            .push(argv.iter().map(|a| a.as_ref().to_string()).collect());
        Ok(())
    }

    /// The argv of every command, in order: what running the script runs (the tests
    /// compare this with what a shell actually passes to the programs).
    pub fn commands(&self) -> &[Vec<String>] {
        &self.commands
    }

    /// The script's text so far.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The script's text.
    pub fn finish(self) -> String {
        self.text
    }
}

/// Rejects an argv any of whose arguments holds a NUL byte.
pub(crate) fn check_nul<S: AsRef<str>>(argv: &[S]) -> Result<(), ShellError> {
    match argv.iter().find(|a| a.as_ref().contains('\0')) {
        Some(a) => Err(ShellError::NulInArgument {
            program: argv
                .first()
                .map(|p| p.as_ref().to_string())
                .unwrap_or_default(),
            argument: a.as_ref().to_string(),
        }),
        None => Ok(()),
    }
}

/// `# text` with every control character (a newline above all, which would end the
/// comment and turn the rest into code) shown as `?`.
fn comment_line(text: &str) -> String {
    let clean: String = text
        .chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    if clean.is_empty() {
        "#\n".to_string()
    } else {
        format!("# {clean}\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_cannot_smuggle_a_command_onto_a_new_line() {
        let mut s = Script::new(&["builds x\nreboot".to_string()]);
        s.block("block\r\nrm -rf /");
        s.command(&["ip", "link", "set", "a b", "up"]).unwrap();
        assert_eq!(
            s.finish(),
            "#!/bin/sh\n# builds x?reboot\nset -eu\n\n# block??rm -rf /\nip link set 'a b' up\n"
        );
    }

    #[test]
    fn an_nft_load_is_a_quoted_heredoc_unless_the_script_holds_its_end() {
        let mut s = Script::new(&[]);
        s.nft_load(
            &["ip", "netns", "exec", "a b"],
            "table inet vnet {}\n$(reboot)\n",
        )
        .unwrap();
        assert!(s.text().ends_with(
            "ip netns exec 'a b' nft -f - <<'VNET_NFT'\ntable inet vnet {}\n$(reboot)\nVNET_NFT\n"
        ));
        assert_eq!(
            s.commands()[0],
            ["ip", "netns", "exec", "a b", "nft", "-f", "-"]
        );
        let mut s = Script::new(&[]);
        s.nft_load(&["x"], "a\nVNET_NFT\nreboot\n").unwrap();
        assert!(!s.text().contains("<<"), "{}", s.text());
        assert_eq!(s.commands()[0][..3], ["x", "sh", "-c"]);
    }

    #[test]
    fn nul_bytes_are_refused() {
        let mut s = Script::new(&[]);
        assert!(matches!(
            s.command(&["ip", "a\0b"]),
            Err(ShellError::NulInArgument { .. })
        ));
    }
}
