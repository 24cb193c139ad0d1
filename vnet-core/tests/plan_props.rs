//! Property tests of the planner against the in-memory kernel model, in both scopes:
//!
//! - from the pristine state, `compile(t)` executes (in plan order, and in the most
//!   adversarial order its `after` ids allow) and leaves `observe == expected_state(t)`;
//!   `diff` against that is empty; `teardown(t)` returns to the pristine state;
//! - random perturbations (a link deleted, a MAC changed, an address removed or added, a
//!   port detached, a sysctl reset, a route deleted, a foreign link with an address
//!   added): `diff` repairs exactly to the expected state and leaves the foreign objects
//!   as they are;
//! - any prefix of a plan followed by the inverses of that prefix in reverse order
//!   returns to the state before.

mod kernel_model;

use ipnetwork::IpNetwork;
use proptest::prelude::*;
use std::collections::BTreeSet;

use kernel_model::topologies::{choice, valid, Choice, CtChoice};
use kernel_model::Kernel;
use vnet_core::model::Mac;
use vnet_core::observed::{LinkKind, ObservedState};
use vnet_core::plan::{
    compile, diff, expected_state, pristine_state, teardown, Name, NsRef, Plan, Scope, Sysctl,
};
use vnet_core::ValidTopology;

const CASES: u32 = 1000;

fn scopes() -> [Scope; 2] {
    [Scope::Sandbox, Scope::Node("m1".into())]
}

/// `want` with the MACs and MTUs vnet leaves alone (expected `None`, not `lo`; expected 0)
/// and the MAC, MTU and
/// `disable_ipv6` of links that are not vnet's in node namespaces (a NIC given back, a
/// device enslaved to a bridge) taken from `got`.
fn normalized(want: &ObservedState, got: &ObservedState) -> ObservedState {
    let mut want = want.clone();
    for (ns, n) in want.namespaces.iter_mut() {
        let Some(g) = got.namespaces.get(ns) else {
            continue;
        };
        let mut sysctls = Vec::new();
        for (name, l) in n.links.iter_mut() {
            let Some(gl) = g.links.get(name) else {
                continue;
            };
            if l.mac.is_none() && l.kind != LinkKind::Loopback {
                l.mac = gl.mac;
            }
            if l.mtu == 0 {
                l.mtu = gl.mtu;
            }
            if l.owner.is_none() && matches!(ns, NsRef::Node(_)) && l.kind != LinkKind::Loopback {
                l.mac = gl.mac;
                l.mtu = gl.mtu;
                let key = Sysctl::DisableIpv6(Name::from(name.as_str()));
                if let Some(v) = g.sysctls.get(&key) {
                    sysctls.push((key, v.clone()));
                }
            }
        }
        n.sysctls.extend(sysctls);
        // A real node's own links (the underlay of VXLAN devices) are the machine's: the
        // expected state leaves them out, the kernel still has them.
        if matches!(ns, NsRef::Node(_)) && n.owner.is_none() {
            for (name, gl) in &g.links {
                if gl.owner.is_none() && !n.links.contains_key(name) {
                    n.links.insert(name.clone(), gl.clone());
                    let key = Sysctl::DisableIpv6(Name::from(name.as_str()));
                    if let Some(v) = g.sysctls.get(&key) {
                        n.sysctls.insert(key, v.clone());
                    }
                }
            }
        }
    }
    want
}

/// Checks `after` ids, then runs the plan in the latest order `after` allows (highest id
/// first among the ready steps), so a missing `after` edge makes the kernel refuse.
fn run_adversarial(k: &mut Kernel, plan: &Plan) -> Result<(), String> {
    let n = plan.len();
    let mut waiting: Vec<usize> = vec![0; n];
    let mut users: Vec<Vec<usize>> = vec![Vec::new(); n];
    for s in &plan.steps {
        for a in &s.after {
            if *a >= s.id {
                return Err(format!("step {} comes after later step {a}", s.id));
            }
            let before = &plan.steps[*a];
            if before.stage >= s.stage {
                return Err(format!(
                    "step {} is in stage {} but needs step {a} of stage {}",
                    s.id, s.stage, before.stage
                ));
            }
            waiting[s.id] += 1;
            users[*a].push(s.id);
        }
    }
    let mut ready: BTreeSet<usize> = (0..n).filter(|i| waiting[*i] == 0).collect();
    while let Some(i) = ready.pop_last() {
        k.execute(&plan.steps[i].action).map_err(|e| {
            format!(
                "step {i} {:?} refused out of order: {e}",
                plan.steps[i].action
            )
        })?;
        for u in &users[i] {
            waiting[*u] -= 1;
            if waiting[*u] == 0 {
                ready.insert(*u);
            }
        }
    }
    Ok(())
}

fn apply(k: &mut Kernel, plan: &Plan) -> Result<(), TestCaseError> {
    k.apply(plan).map_err(|(i, e)| {
        TestCaseError::fail(format!(
            "step {i} {:?} refused: {e}\n{}",
            plan.steps[i].action,
            plan.to_json()
        ))
    })
}

/// The kernel after `compile(t)` from the pristine state.
fn built(t: &ValidTopology, scope: &Scope) -> Result<Kernel, TestCaseError> {
    let mut k = Kernel::from_observed(t.name(), &pristine_state(t, scope));
    apply(&mut k, &compile(t, scope))?;
    Ok(k)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: CASES, ..ProptestConfig::default() })]

    #[test]
    fn compile_builds_the_expected_state_and_teardown_removes_it(c in choice()) {
        let t = valid(&c);
        for scope in scopes() {
            let pristine = pristine_state(&t, &scope);
            let plan = compile(&t, &scope);
            let mut k = Kernel::from_observed(t.name(), &pristine);
            apply(&mut k, &plan)?;
            let got = k.observe();
            let want = expected_state(&t, &scope);
            prop_assert_eq!(&normalized(&want, &got), &got, "scope {:?}", scope);
            let again = diff(&t, &scope, &got);
            prop_assert!(again.is_empty(), "diff after compile is not empty: {}", again.to_json());

            let mut shuffled = Kernel::from_observed(t.name(), &pristine);
            run_adversarial(&mut shuffled, &plan).map_err(TestCaseError::fail)?;
            prop_assert_eq!(shuffled.observe(), got.clone());

            let down = teardown(&t, &scope);
            let mut k2 = k.clone();
            apply(&mut k, &down)?;
            let after = k.observe();
            // `lo` of a real node's containers, down in the pristine state, stays up: the
            // compile brought it up, and it is the machine's, which a teardown leaves.
            let mut pristine = pristine.clone();
            for n in pristine.namespaces.values_mut() {
                if let Some(lo) = n.links.get_mut("lo") {
                    lo.up = true;
                }
            }
            prop_assert_eq!(&normalized(&pristine, &after), &after, "teardown in {:?}", scope);
            run_adversarial(&mut k2, &down).map_err(TestCaseError::fail)?;
            prop_assert_eq!(k2.observe(), after);
        }
    }

    #[test]
    fn diff_repairs_perturbations_and_spares_foreign_objects(
        c in choice(),
        perturbations in prop::collection::vec((0..9u8, 0..64usize), 1..4),
    ) {
        let t = valid(&c);
        for scope in scopes() {
            let mut k = built(&t, &scope)?;
            let mut foreign = Vec::new();
            for (kind, pick) in &perturbations {
                perturb(&mut k, *kind, *pick, &mut foreign);
            }
            let before = k.clone();
            let plan = diff(&t, &scope, &k.observe());
            apply(&mut k, &plan)?;
            let got = k.observe();
            let mut exp = expected_state(&t, &scope);
            // The machine's own links of a real node (the VXLAN underlay) stay, unowned.
            for (ns, n) in &pristine_state(&t, &scope).namespaces {
                let (NsRef::Node(_), Some(e)) = (ns, exp.namespaces.get_mut(ns)) else {
                    continue;
                };
                let underlay = t
                    .topology()
                    .node
                    .iter()
                    .find(|x| x.name == ns.name())
                    .and_then(|x| x.underlay.as_ref());
                for (name, l) in n.links.iter().filter(|(_, l)| l.owner.is_none()) {
                    if underlay.is_some_and(|u| &u.dev == name) {
                        e.links.insert(name.clone(), l.clone());
                        e.sysctls.insert(Sysctl::DisableIpv6(Name::from(name.as_str())), "0".into());
                    }
                }
            }
            let mut want = Kernel::from_observed(t.name(), &exp);
            for (ns, name, mac, addr) in &foreign {
                want.foreign_link(ns, name, *mac).expect("the name is free in the expected state");
                want.foreign_address(ns, name, *addr).expect("the link was just added");
            }
            let want = want.observe();
            prop_assert_eq!(&normalized(&want, &got), &got, "repair in {:?}: {}", scope, plan.to_json());
            prop_assert!(diff(&t, &scope, &got).is_empty());

            let mut shuffled = before;
            run_adversarial(&mut shuffled, &plan).map_err(TestCaseError::fail)?;
            prop_assert_eq!(shuffled.observe(), got);
        }
    }

    #[test]
    fn a_prefix_and_its_inverses_return_to_the_state_before(
        c in choice(),
        cut in any::<prop::sample::Index>(),
        damage in (0..9u8, 0..64usize),
    ) {
        let t = valid(&c);
        for scope in scopes() {
            // A compile from the pristine state ...
            let mut k = Kernel::from_observed(t.name(), &pristine_state(&t, &scope));
            let plan = compile(&t, &scope);
            undo_prefix_returns(&mut k, &plan, cut.index(plan.len() + 1))?;
            // ... and a repair.
            let mut k = built(&t, &scope)?;
            perturb(&mut k, damage.0, damage.1, &mut Vec::new());
            let plan = diff(&t, &scope, &k.observe());
            undo_prefix_returns(&mut k, &plan, cut.index(plan.len() + 1))?;
        }
    }
}

fn undo_prefix_returns(k: &mut Kernel, plan: &Plan, cut: usize) -> Result<(), TestCaseError> {
    let before = k.observe();
    for s in &plan.steps[..cut] {
        k.execute(&s.action)
            .map_err(|e| TestCaseError::fail(format!("step {} refused: {e}", s.id)))?;
    }
    for (i, a) in plan.undo_prefix(cut).iter().enumerate() {
        k.execute(a)
            .map_err(|e| TestCaseError::fail(format!("undo {i} {a:?} refused: {e}")))?;
    }
    prop_assert_eq!(k.observe(), before, "prefix of {} steps", cut);
    Ok(())
}

/// Damages the built state as an admin or another tool might. Foreign links added are
/// recorded in `foreign` as (namespace, name, MAC, address).
fn perturb(
    k: &mut Kernel,
    kind: u8,
    pick: usize,
    foreign: &mut Vec<(NsRef, String, Mac, IpNetwork)>,
) {
    let topology = k.topology.clone();
    let ours: Vec<u64> = k
        .links
        .iter()
        .filter(|(_, l)| l.owner.as_deref() == Some(topology.as_str()))
        .filter(|(_, l)| !matches!(l.kind, kernel_model::Kind::Loopback))
        .map(|(i, _)| *i)
        .collect();
    let pick_from = |v: &[u64]| (!v.is_empty()).then(|| v[pick % v.len()]);
    match kind {
        // A link deleted (`ip link del`); a real NIC is not deleted, only vnet's links.
        0 => {
            let links: Vec<u64> = ours
                .iter()
                .copied()
                .filter(|i| !matches!(k.links[i].kind, kernel_model::Kind::Other { .. }))
                .collect();
            if let Some(id) = pick_from(&links) {
                k.remove_link(id, true);
            }
        }
        // A MAC changed (VLAN links on it follow, as in the kernel).
        1 => {
            if let Some(id) = pick_from(&ours) {
                let old = k.links[&id].mac;
                let new = Some(Mac::new(0x02, 0xff, 0xee, 0, 0, pick as u8));
                for l in k.links.values_mut() {
                    if matches!(l.kind, kernel_model::Kind::Vlan { parent, .. } if parent == id)
                        && l.mac == old
                    {
                        l.mac = new;
                    }
                }
                k.links.get_mut(&id).expect("picked").mac = new;
            }
        }
        // An address removed.
        2 => {
            let with: Vec<u64> = ours
                .iter()
                .copied()
                .filter(|i| !k.links[i].addresses.is_empty())
                .collect();
            if let Some(id) = pick_from(&with) {
                let l = k.links.get_mut(&id).expect("picked");
                let a = *l.addresses.iter().next().expect("has one");
                l.addresses.remove(&a);
            }
        }
        // An address added to one of vnet's links.
        3 => {
            if let Some(id) = pick_from(&ours) {
                let a: IpNetwork = format!("198.18.99.{}/24", 1 + pick % 200)
                    .parse()
                    .expect("valid");
                k.links.get_mut(&id).expect("picked").addresses.insert(a);
            }
        }
        // A port detached.
        4 => {
            let ports: Vec<u64> = ours
                .iter()
                .copied()
                .filter(|i| k.links[i].master.is_some())
                .collect();
            if let Some(id) = pick_from(&ports) {
                k.links.get_mut(&id).expect("picked").master = None;
            }
        }
        // A sysctl reset to the kernel's default.
        5 => {
            let set: Vec<u64> = ours
                .iter()
                .copied()
                .filter(|i| k.links[i].disable_ipv6 == "1")
                .collect();
            if pick.is_multiple_of(2) {
                if let Some(id) = pick_from(&set) {
                    k.links.get_mut(&id).expect("picked").disable_ipv6 = "0".into();
                    return;
                }
            }
            for n in k.namespaces.values_mut() {
                if n.sysctls.get(&Sysctl::Ipv4Forward).map(String::as_str) == Some("1") {
                    n.sysctls.insert(Sysctl::Ipv4Forward, "0".into());
                    return;
                }
            }
        }
        // A route deleted.
        6 => {
            let routes: Vec<(NsRef, vnet_core::plan::RouteSpec)> = k
                .namespaces
                .iter()
                .flat_map(|(ns, n)| n.routes.keys().map(move |r| (ns.clone(), r.clone())))
                .collect();
            if !routes.is_empty() {
                let (ns, r) = &routes[pick % routes.len()];
                k.namespaces.get_mut(ns).expect("listed").routes.remove(r);
            }
        }
        // vnet's firewall table flushed (`nft flush ruleset`), or its policy opened.
        7 => {
            let tables: Vec<NsRef> = k
                .namespaces
                .iter()
                .filter(|(_, n)| n.ruleset.is_some())
                .map(|(ns, _)| ns.clone())
                .collect();
            if tables.is_empty() {
                return;
            }
            let n = k
                .namespaces
                .get_mut(&tables[pick % tables.len()])
                .expect("listed");
            let r = n.ruleset.as_mut().expect("has one");
            match r.forward.as_mut().or(r.input.as_mut()) {
                Some(chain) if pick.is_multiple_of(2) => {
                    chain.policy = vnet_core::model::Verdict::Accept;
                    chain.accept.clear();
                }
                _ => n.ruleset = None,
            }
        }
        // A foreign link with a foreign address, in one of the namespaces.
        _ => {
            let spaces: Vec<NsRef> = k.namespaces.keys().cloned().collect();
            let ns = spaces[pick % spaces.len()].clone();
            let name = format!("zz{}", foreign.len());
            let mac = Mac::new(0x02, 0xaa, 0, 0, foreign.len() as u8, pick as u8);
            let addr: IpNetwork = format!("198.18.200.{}/24", 1 + foreign.len())
                .parse()
                .expect("valid");
            if k.foreign_link(&ns, &name, mac).is_ok() {
                k.foreign_address(&ns, &name, addr).expect("just added");
                foreign.push((ns, name, mac, addr));
            }
        }
    }
}

/// A real node whose NIC and bridge port run jumbo frames, with no `mtu` in the topology
/// (and a VLAN link on the NIC without its own): vnet leaves the MTUs to the machine, the
/// expected state says so (0), and the next diff changes nothing.
#[test]
fn the_machines_devices_keep_their_mtu_when_the_topology_gives_none() {
    let c = Choice {
        nodes: 1,
        bridges: 1,
        cts: vec![CtChoice {
            node: 0,
            veths: 1,
            given_macs: false,
            mtu: None,
            ipv6: false,
            route: 0,
        }],
        lan: true,
        hosts: 1,
        tagged_host: false,
        nic: true,
        nic_mac: false,
        nic_mtu: false,
        nic_vlan: true,
        nat: false,
        firewall: false,
        ports: 1,
    };
    let t = valid(&c);
    let scope = Scope::Node("m1".into());
    let mut pristine = pristine_state(&t, &scope);
    let node = pristine
        .namespaces
        .get_mut(&NsRef::Node("m1".into()))
        .expect("the node");
    for name in ["enp9s0", "bp0"] {
        node.links.get_mut(name).expect("the machine's device").mtu = 9000;
    }
    let mut k = Kernel::from_observed(t.name(), &pristine);
    apply(&mut k, &compile(&t, &scope)).expect("the plan applies");
    let got = k.observe();
    let want = expected_state(&t, &scope);
    let router = &want.namespaces[&NsRef::Ct("c0".into())];
    assert_eq!(
        (router.links["eth9"].mtu, router.links["eth9.10"].mtu),
        (0, 0)
    );
    assert_eq!(
        want.namespaces[&NsRef::Node("m1".into())].links["bp0"].mtu,
        0
    );
    assert_eq!(normalized(&want, &got), got);
    let seen = &got.namespaces[&NsRef::Ct("c0".into())];
    assert_eq!(
        (seen.links["eth9"].mtu, seen.links["eth9.10"].mtu),
        (9000, 9000)
    );
    let again = diff(&t, &scope, &got);
    assert!(again.is_empty(), "{}", again.to_json());
}
