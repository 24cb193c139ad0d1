//! vnet's nftables table `inet vnet` in one namespace, through the `nft` binary: load a
//! [`Ruleset`] (one atomic `nft -f` transaction replacing the table), remove it, and read
//! it back (`nft -j list table inet vnet`, parsed by [`super::nft_json`]).
//!
//! Why `nft` and not raw nf_tables netlink: nf_tables messages are a bytecode of
//! expressions (payload loads, compares, masquerade, dnat) wrapped in batch-begin/end with
//! generation checks; no maintained crate of our netlink family encodes them, and a hand
//! encoding would be the riskiest code in the crate for rules applied once per router.
//! `nft` is the reference encoder; it runs on a thread inside the namespace (the child
//! inherits the thread's namespace) and reads its script from stdin. What vnet checks is
//! what the kernel holds, read back as JSON.
//!
//! Only `table inet vnet` is ever named: other tables (a container's own `inet filter`,
//! `ip nat` of another tool) are neither read nor changed.

use std::io::Write;
use std::process::{Command, Stdio};

use vnet_core::ownership::NFT_TABLE;
use vnet_core::plan::Ruleset;

use super::nft_json;

/// What vnet's table holds in one namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Table {
    /// There is no `table inet vnet`.
    Absent,
    /// Exactly the table loading this ruleset makes.
    Vnet(Ruleset),
    /// A `table inet vnet` that is not in vnet's form (someone edited it, or an older
    /// layout): why. No desired ruleset equals it, so the next apply replaces it.
    Foreign(String),
}

/// Replaces vnet's table in the calling thread's namespace with `ruleset` in one
/// transaction (an empty ruleset removes it); other tables are untouched.
pub fn load(ruleset: &Ruleset) -> Result<(), String> {
    run_nft(&["-f", "-"], Some(&ruleset.load_script()))
        .map(drop)
        .map_err(|(_, e)| e)
}

/// Removes vnet's table in the calling thread's namespace, if there is one.
pub fn remove() -> Result<(), String> {
    run_nft(&["-f", "-"], Some(&Ruleset::remove_script()))
        .map(drop)
        .map_err(|(_, e)| e)
}

/// What vnet's table in the calling thread's namespace holds. `Err` only when `nft`
/// cannot be asked (not installed, no permission); a table it lists that is not vnet's
/// form is [`Table::Foreign`].
pub fn read() -> Result<Table, String> {
    if !table_exists() {
        return Ok(Table::Absent);
    }
    match run_nft(&["-j", "list", "table", "inet", NFT_TABLE], None) {
        Ok(json) => Ok(match nft_json::parse(&json) {
            Ok(ruleset) => Table::Vnet(ruleset),
            Err(why) => Table::Foreign(why),
        }),
        Err((_, err)) if err.contains("No such file or directory") => Ok(Table::Absent),
        Err((_, err)) => Err(err),
    }
}

/// Runs `nft ARGS` in the calling thread's namespace with `stdin`; stdout on success,
/// `Err((exit code, stderr))` otherwise.
pub fn run_nft(args: &[&str], stdin: Option<&str>) -> Result<String, (Option<i32>, String)> {
    let mut child = Command::new("nft")
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| (None, format!("cannot run nft: {e}")))?;
    if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
        pipe.write_all(text.as_bytes())
            .map_err(|e| (None, format!("writing to nft: {e}")))?;
    }
    let out = child
        .wait_with_output()
        .map_err(|e| (None, format!("waiting for nft: {e}")))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err((
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).trim().to_string(),
        ))
    }
}

/// Whether vnet's table exists in the calling thread's namespace, asked with one
/// nf_tables `GETTABLE` over netlink: spawning `nft` costs milliseconds per namespace,
/// and most namespaces have no NAT. When the question cannot be asked, the answer is
/// "maybe" (`true`), and the caller asks `nft`.
pub fn table_exists() -> bool {
    nft_get_table(NFT_TABLE).unwrap_or(true)
}

/// `NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_GETTABLE`.
const NFT_GETTABLE: u16 = (10 << 8) | 1;
/// `NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_NEWTABLE` (the answer).
const NFT_NEWTABLE: u16 = 10 << 8;
/// `NFPROTO_INET`.
const NFPROTO_INET: u8 = 1;
/// `NFTA_TABLE_NAME`.
const NFTA_TABLE_NAME: u16 = 1;
const NLMSG_ERROR: u16 = 2;

fn nft_get_table(name: &str) -> std::io::Result<bool> {
    use netlink_packet_core::{NLM_F_ACK, NLM_F_REQUEST};
    use netlink_sys::{protocols::NETLINK_NETFILTER, Socket, SocketAddr};

    let mut socket = Socket::new(NETLINK_NETFILTER)?;
    socket.bind_auto()?;
    socket.connect(&SocketAddr::new(0, 0))?;
    let mut attr_value = name.as_bytes().to_vec();
    attr_value.push(0);
    let attr_len = 4 + attr_value.len();
    let padded = (attr_len + 3) & !3;
    let total = 16 + 4 + padded;
    let mut msg = Vec::with_capacity(total);
    msg.extend_from_slice(&(total as u32).to_ne_bytes());
    msg.extend_from_slice(&NFT_GETTABLE.to_ne_bytes());
    msg.extend_from_slice(&(NLM_F_REQUEST | NLM_F_ACK).to_ne_bytes());
    msg.extend_from_slice(&1u32.to_ne_bytes()); // sequence
    msg.extend_from_slice(&0u32.to_ne_bytes()); // port: the kernel's
    msg.extend_from_slice(&[NFPROTO_INET, 0, 0, 0]); // nfgenmsg: family, version, res_id
    msg.extend_from_slice(&(attr_len as u16).to_ne_bytes());
    msg.extend_from_slice(&NFTA_TABLE_NAME.to_ne_bytes());
    msg.extend_from_slice(&attr_value);
    msg.resize(total, 0);
    socket.send(&msg, 0)?;
    let mut found = false;
    let mut buf: Vec<u8> = Vec::with_capacity(64 * 1024);
    loop {
        buf.clear();
        let n = socket.recv(&mut buf, 0)?.min(buf.len());
        let mut off = 0;
        while off + 16 <= n {
            let len = u32::from_ne_bytes(buf[off..off + 4].try_into().unwrap_or_default()) as usize;
            let kind = u16::from_ne_bytes(buf[off + 4..off + 6].try_into().unwrap_or_default());
            if len < 16 || off + len > n {
                return Err(std::io::Error::other("malformed nf_tables answer"));
            }
            if kind == NFT_NEWTABLE {
                found = true;
            } else if kind == NLMSG_ERROR && len >= 20 {
                let code =
                    i32::from_ne_bytes(buf[off + 16..off + 20].try_into().unwrap_or_default());
                return match -code {
                    0 => Ok(found),
                    nix::libc::ENOENT => Ok(false),
                    errno => Err(std::io::Error::from_raw_os_error(errno)),
                };
            }
            off += (len + 3) & !3;
        }
    }
}
