//! The subcommands. Each lives in its own file with a clap `Args` struct and a
//! `run(&Args, &Global) -> Outcome` function; adding one means adding the file, a variant
//! to [`Command`] and an arm to [`Command::run`].

pub mod announce;
pub mod apply;
pub mod check;
pub mod completions;
pub mod demo;
pub mod destroy;
pub mod diff;
pub mod failover_test;
pub mod graph;
pub mod import;
pub mod man;
pub mod plan;
pub mod render;
pub mod show;
pub mod start;
pub mod status;
pub mod stop;
pub mod verify;

use clap::Subcommand;

use crate::cli::Global;
use crate::exit::Outcome;

/// Every subcommand of `vnet`.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Parse and validate a topology file; report every problem with its location.
    #[command(
        after_help = "Examples:\n  vnet check examples/seed.toml\n  vnet --output json check topology.json\n\nExit codes: 0 valid, 1 invalid (or unreadable), 2 usage error."
    )]
    Check(check::Args),
    /// Draw a valid topology as a Graphviz DOT or Mermaid graph.
    #[command(
        after_help = "Examples:\n  vnet graph examples/seed.toml | dot -Tsvg -o seed.svg\n  vnet graph examples/seed.toml --format mermaid > seed.mmd"
    )]
    Graph(graph::Args),
    /// Print a shell completion script.
    #[command(
        after_help = "Examples:\n  vnet completions bash > /etc/bash_completion.d/vnet\n  vnet completions zsh > \"${fpath[1]}/_vnet\"\n  vnet completions fish > ~/.config/fish/completions/vnet.fish"
    )]
    Completions(completions::Args),
    /// Print the man page (roff) of vnet or of one subcommand.
    #[command(after_help = "Examples:\n  vnet man | man -l -\n  vnet man check > vnet-check.1")]
    Man(man::Args),
    /// Show, step by step, what building (or tearing down) a topology would do.
    #[command(
        after_help = "Examples:\n  vnet plan examples/seed.toml\n  vnet plan examples/seed.toml --prefix lab\n  vnet plan examples/seed.toml --node m1\n  vnet plan examples/seed.toml --teardown\n  vnet --output json plan examples/seed.toml > plan.json\n\nThe default scope is the sandbox (namespaces <prefix>-<name> on this machine).\nExit codes: 0 planned, 1 invalid topology, 2 usage error (e.g. unknown node)."
    )]
    Plan(plan::Args),
    /// Render a topology as a script (vzctl, iproute2) or persistence files.
    #[command(
        after_help = "Examples:\n  vnet render examples/seed.toml --dialect vzctl --node m1 > m1.sh\n  vnet render examples/seed.toml --dialect iproute2 --sandbox --prefix lab\n  vnet render examples/seed.toml --dialect etcnet --root /tmp/m1-root\n  vnet --output json render examples/seed.toml --dialect networkd\n\nExit codes: 0 rendered, 1 invalid topology, 2 usage error, 4 cannot write."
    )]
    Render(render::Args),
    /// Build the topology (observe, diff, execute, verify; undo on failure).
    #[command(
        after_help = "Examples:\n  sudo vnet apply examples/seed.toml --sandbox\n  sudo vnet apply examples/seed.toml --sandbox --dry-run\n  sudo vnet apply examples/seed.toml --sandbox --backend shell\n  sudo vnet apply m1.toml --node m1 --this-host --adopt\n\nExit codes: 0 built and verified, 1 invalid input, 2 usage, 3 built but differs, 4 system error (rolled back)."
    )]
    Apply(apply::Args),
    /// Show what differs between the system and the topology, and the repair plan.
    #[command(
        after_help = "Examples:\n  sudo vnet diff examples/seed.toml --sandbox\n\nExit codes: 0 no drift, 3 drift, 1 invalid input, 4 system error."
    )]
    Diff(diff::Args),
    /// Remove everything the topology built (idempotent).
    #[command(
        after_help = "Examples:\n  sudo vnet destroy examples/seed.toml --sandbox\n\nExit codes: 0 removed or not there, 1 invalid input, 4 system error."
    )]
    Destroy(destroy::Args),
    /// Ping every pair the model says must (and must not) reach each other.
    #[command(
        after_help = "Examples:\n  sudo vnet verify examples/seed.toml --sandbox\n  sudo vnet --output json verify examples/seed.toml --sandbox --timeout 5000\n\nExit codes: 0 every probe as expected, 3 some differ, 1 invalid input, 4 system error."
    )]
    Verify(verify::Args),
    /// Print what the kernel holds of the topology, per namespace.
    #[command(after_help = "Examples:\n  sudo vnet show examples/seed.toml --sandbox")]
    Show(show::Args),
    /// Build the article's network in namespaces, ping it, show it, remove it.
    #[command(
        after_help = "Examples:\n  sudo vnet demo\n  sudo vnet demo examples/seed.toml --keep\n\nExit codes: 0 built, verified and removed, 3 verification failed, 4 system error."
    )]
    Demo(demo::Args),
    /// Bring containers' networks up on one of their nodes (the sandbox, or this host as
    /// a real node): leaves before gateways, then announce their addresses once their
    /// ports forward.
    #[command(
        after_help = "Examples:\n  sudo vnet start mail --node m2 examples/seed.toml --sandbox\n  sudo vnet start mail dbms router --node m2 examples/seed.toml --sandbox\n  sudo vnet start mail router --node m1 /etc/vnet/net.toml --this-host\n  sudo vnet --output json start router --node m1 examples/seed.toml --sandbox --announce-schedule 0,20,200,1000,5000\n\nIn the sandbox a container running on another node is stopped there first. On a real node\n(--this-host: this machine is the node) each container's namespace is /run/netns/<ct>, made by its\nruntime (ip netns attach CT PID) before the start; the node's bridges come up with its first container.\nExit codes: 0 started, 1 invalid input or unknown container, 2 usage (e.g. a node it may not run on), 3 started but differs, 4 system error."
    )]
    Start(start::Args),
    /// Take containers' networks down (idempotent): in the sandbox delete their
    /// namespaces; on a real node remove their cables and leave the namespaces.
    #[command(
        after_help = "Examples:\n  sudo vnet stop mail examples/seed.toml --sandbox\n  sudo vnet stop mail /etc/vnet/net.toml --node m1 --this-host\n\nExit codes: 0 stopped or not running, 1 invalid input, 4 system error (e.g. a namespace vnet did not make)."
    )]
    Stop(stop::Args),
    /// Whether a container's network is up, on which node, and its drift.
    #[command(
        after_help = "Examples:\n  sudo vnet status mail examples/seed.toml --sandbox\n  sudo vnet --output json status mail examples/seed.toml --sandbox\n  sudo vnet status mail /etc/vnet/net.toml --node m1 --this-host\n\nExit codes: 0 up and clean, 7 cleanly not running (OCF's not running), 3 broken (partly there or drifted), 1 invalid input, 4 system error."
    )]
    Status(status::Args),
    /// Measure a failover end to end in private namespaces: a LAN host pings a container
    /// every 10 ms, the home node fails (powered down or hung), the containers start on
    /// their failover node; --matrix runs every case.
    #[command(
        after_help = "Examples:\n  sudo vnet failover-test examples/seed.toml\n  sudo vnet failover-test examples/seed.toml --matrix --runs 10\n  sudo vnet --output json failover-test examples/seed.toml --fail hung --uplink-mac changed --observer sticky\n  sudo vnet failover-test examples/seed.toml --fail hung --no-announce --cap-ms 400000\n  sudo vnet failover-test examples/seed.toml --gateway-first --no-announce\n\nRuns itself under `unshare --net --mount` (at chrt --rr 1, else nice -10): nothing is visible to the machine.\nExit codes: 0 every run recovered within --max-outage-ms, 1 invalid input, 2 usage, 3 a run over the goal or without recovery within --cap-ms (the report is printed), 4 system error."
    )]
    FailoverTest(failover_test::Args),
    /// Send a started container's later announcements in the background (what `vnet
    /// start` leaves running; `vnet stop` ends it).
    #[command(
        after_help = "Examples:\n  vnet announce mail --ns /run/netns/vnet-mail --record /run/vnet/announce/mail.4026532 --interface eth0=198.18.0.2 --schedule 20,200,1000,5000\n\nIt waits until its record names its pid, sends at each offset, and ends when the schedule does, when the record is removed, or when the namespace is gone.\nExit codes: 0 ended (done, cancelled or container gone), 2 usage, 4 system error."
    )]
    Announce(announce::Args),
    /// Print the topology (TOML) of the network found on this machine as a real node:
    /// bridges, the containers' veth pairs, NICs, addresses, routes, forwarding, NAT.
    #[command(
        after_help = "Examples:\n  sudo vnet import --node m1 --this-host -o m1.toml\n  vnet check m1.toml\n  sudo vnet apply m1.toml --node m1 --this-host --adopt --dry-run\n  sudo vnet apply m1.toml --node m1 --this-host --adopt\n  sudo vnet import --node m1 --this-host --ct web=lxc:web --name article\n\nContainers are the named namespaces in /run/netns and those given with --ct. Reads only.\nExit codes: 0 imported (and valid), 1 imported but not valid (written with the findings), 2 usage, 4 system error."
    )]
    Import(import::Args),
}

impl Command {
    /// Runs the subcommand.
    pub fn run(&self, global: &Global) -> Outcome {
        match self {
            Command::Check(args) => check::run(args, global),
            Command::Graph(args) => graph::run(args, global),
            Command::Completions(args) => completions::run(args, global),
            Command::Man(args) => man::run(args, global),
            Command::Plan(args) => plan::run(args, global),
            Command::Render(args) => render::run(args, global),
            Command::Apply(args) => apply::run(args, global),
            Command::Diff(args) => diff::run(args, global),
            Command::Destroy(args) => destroy::run(args, global),
            Command::Verify(args) => verify::run(args, global),
            Command::Show(args) => show::run(args, global),
            Command::Demo(args) => demo::run(args, global),
            Command::Start(args) => start::run(args, global),
            Command::Stop(args) => stop::run(args, global),
            Command::Status(args) => status::run(args, global),
            Command::FailoverTest(args) => failover_test::run(args, global),
            Command::Announce(args) => announce::run(args, global),
            Command::Import(args) => import::run(args, global),
        }
    }
}
