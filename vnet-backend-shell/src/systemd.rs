//! The `systemd` dialect: a oneshot unit that builds a node's part of the topology at
//! boot (`vnet apply FILE --node N --this-host`), after `network-pre.target` and before
//! `network.target` and the units that start the node's containers, so a container
//! started at boot finds its bridges (and, found by `name:`, its cables) ready.
//!
//! The containers' units are named after their `netns`: `lxc@NAME.service` (Debian's
//! LXC), `container-NAME.service` (`podman generate systemd`), `docker.service`,
//! `systemd-nspawn@MACHINE.service`, `vz.service` (OpenVZ); `name:` and `pid:` name no
//! unit. `Before=` on a unit that does not exist orders nothing, so listing them all is
//! harmless where a runtime is not used.
//!
//! `ExecStart=` is quoted by systemd's rules, not the shell's: a word with anything but
//! `[A-Za-z0-9/._:@+=,-]` is double-quoted with `\` and `"` escaped, and `%` (a
//! specifier) and `$` (a variable) are doubled.

use std::collections::BTreeSet;

use vnet_core::model::NetnsSource;

use crate::error::ShellError;
use crate::lxc::Paths;
use crate::model::Model;
use crate::script::check_nul;

/// The unit's file name for `topology`: `vnet-<topology>.service`.
pub fn unit_name(model: &Model) -> String {
    format!("vnet-{}.service", model.name())
}

/// The unit that applies the topology on `node` at boot.
pub fn render_systemd(model: &Model, node: &str, paths: Paths<'_>) -> Result<String, ShellError> {
    let argv = [
        paths.vnet,
        "apply",
        paths.topology,
        "--node",
        node,
        "--this-host",
    ];
    check_nul(&argv)?;
    let exec: Vec<String> = argv.iter().map(|w| unit_word(w)).collect();
    let mut before: BTreeSet<String> = BTreeSet::from(["network.target".to_string()]);
    before.extend(
        model
            .cts_on(node)
            .into_iter()
            .filter_map(|ct| NetnsSource::of(ct).ok())
            .filter_map(|source| runtime_unit(&source)),
    );
    let before: Vec<String> = before.into_iter().collect();
    Ok(format!(
        "# {unit}: builds topology {name}'s network on node {node} at boot.\n\
         # Install as /etc/systemd/system/{unit}, then: systemctl enable {unit}\n\
         [Unit]\n\
         Description=vnet: network of topology {name} on node {node}\n\
         Wants=network-pre.target\n\
         After=network-pre.target\n\
         Before={before}\n\
         ConditionPathExists={topology}\n\
         \n\
         [Service]\n\
         Type=oneshot\n\
         RemainAfterExit=yes\n\
         ExecStart={exec}\n\
         \n\
         [Install]\n\
         WantedBy=multi-user.target\n",
        unit = unit_name(model),
        name = model.name(),
        before = before.join(" "),
        topology = unit_word(paths.topology),
        exec = exec.join(" "),
    ))
}

/// The unit that starts a container found through `source`, when its runtime has one.
fn runtime_unit(source: &NetnsSource) -> Option<String> {
    match source {
        NetnsSource::Name(_) | NetnsSource::PidFile(_) => None,
        NetnsSource::Lxc(n) => Some(format!("lxc@{n}.service")),
        NetnsSource::Podman(n) => Some(format!("container-{n}.service")),
        NetnsSource::Docker(_) => Some("docker.service".into()),
        NetnsSource::Nspawn(m) => Some(format!("systemd-nspawn@{m}.service")),
        NetnsSource::Openvz(_) => Some("vz.service".into()),
    }
}

/// One word of a unit's command line (see the module's overview).
fn unit_word(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/._:@+=,-".contains(&b));
    if plain {
        return word.to_string();
    }
    let mut out = String::from("\"");
    for c in word.chars() {
        match c {
            '\\' | '"' => {
                out.push('\\');
                out.push(c);
            }
            '%' => out.push_str("%%"),
            '$' => out.push_str("$$"),
            _ => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_quoted_by_systemds_rules() {
        assert_eq!(unit_word("/usr/bin/vnet"), "/usr/bin/vnet");
        assert_eq!(unit_word("--this-host"), "--this-host");
        assert_eq!(unit_word("/etc/my net.toml"), "\"/etc/my net.toml\"");
        assert_eq!(unit_word("a\"b\\c"), "\"a\\\"b\\\\c\"");
        assert_eq!(unit_word("100%$HOME"), "\"100%%$$HOME\"");
        assert_eq!(unit_word(""), "\"\"");
    }

    #[test]
    fn each_runtime_names_its_unit() {
        let unit = |s: &str| runtime_unit(&s.parse().unwrap());
        assert_eq!(unit("lxc:web").as_deref(), Some("lxc@web.service"));
        assert_eq!(unit("podman:db").as_deref(), Some("container-db.service"));
        assert_eq!(
            unit("nspawn:m").as_deref(),
            Some("systemd-nspawn@m.service")
        );
        assert_eq!(unit("name:x"), None);
        assert_eq!(unit("pid:/run/x.pid"), None);
    }
}
