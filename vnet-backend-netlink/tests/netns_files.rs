//! The files of named namespaces: what a run killed between unmounting and unlinking
//! leaves (an empty file) is removed by the next destroy and replaced by the next apply,
//! a file with content stays refused, and a later `ip netns add` on a machine whose
//! `/run/netns` was a plain directory hides none of vnet's namespaces.

use std::path::Path;

use vnet_backend_netlink::{ApplyOptions, Backend, Error, NamespaceMap};
use vnet_core::plan::Scope;
use vnet_testkit::{isolated, run, seed};

fn backend() -> Backend {
    Backend::new(NamespaceMap::sandbox("vnet"))
}

/// The files in `/run/netns`, sorted.
fn files() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir("/run/netns")
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// The mounts whose mount point is in `/run/netns` (one line per namespace file).
fn netns_mounts() -> Vec<String> {
    std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .lines()
        .filter(|l| {
            l.split(' ')
                .nth(4)
                .is_some_and(|p| p.starts_with("/run/netns/"))
        })
        .map(str::to_string)
        .collect()
}

/// Nothing of the sandbox is left: no files, no mounts, only `lo` in the test's root.
fn nothing_left() {
    assert_eq!(files(), Vec::<String>::new());
    assert_eq!(netns_mounts(), Vec::<String>::new());
    let links = run(&["ip", "-o", "link", "show"]);
    assert_eq!(links.lines().count(), 1, "only lo: {links}");
}

#[test]
fn an_unmounted_namespace_file_is_removed_by_destroy_and_replaced_by_apply() {
    isolated(
        "an_unmounted_namespace_file_is_removed_by_destroy_and_replaced_by_apply",
        || {
            let t = seed();
            let b = backend();
            b.apply(&t, &Scope::Sandbox, &ApplyOptions::default())
                .unwrap();
            // A destroy killed between unmount and unlink of vnet-dbms.
            run(&["umount", "/run/netns/vnet-dbms"]);
            let report = b.destroy(&t, &Scope::Sandbox).unwrap();
            assert!(report.applied > 0);
            nothing_left();
            // The same leftover under an apply: it builds the namespace in its place.
            b.apply(&t, &Scope::Sandbox, &ApplyOptions::default())
                .unwrap();
            run(&["umount", "/run/netns/vnet-dbms"]);
            assert!(
                !b.diff(&t, &Scope::Sandbox).unwrap().is_empty(),
                "dbms missing"
            );
            assert!(
                files().contains(&"vnet-dbms".to_string()),
                "diff changes nothing"
            );
            let report = b
                .apply(&t, &Scope::Sandbox, &ApplyOptions::default())
                .unwrap();
            assert!(report.verified);
            assert!(b.diff(&t, &Scope::Sandbox).unwrap().is_empty());
            b.destroy(&t, &Scope::Sandbox).unwrap();
            nothing_left();
        },
    );
}

/// An empty file under a name the topology wants is an interrupted run's; one with
/// content is not, and stays refused, untouched, by apply and destroy alike.
#[test]
fn a_namespace_file_with_content_is_refused_and_left_alone() {
    isolated(
        "a_namespace_file_with_content_is_refused_and_left_alone",
        || {
            let t = seed();
            let b = backend();
            std::fs::write("/run/netns/vnet-dbms", "notes\n").unwrap();
            let err = b
                .apply(&t, &Scope::Sandbox, &ApplyOptions::default())
                .unwrap_err();
            assert!(matches!(err, Error::NotANamespace { .. }), "{err:?}");
            assert_eq!(files(), vec!["vnet-dbms".to_string()]);
            assert!(b.destroy(&t, &Scope::Sandbox).is_err());
            let kept = std::fs::read_to_string("/run/netns/vnet-dbms").unwrap();
            assert_eq!(kept, "notes\n");
            std::fs::remove_file("/run/netns/vnet-dbms").unwrap();
            nothing_left();
        },
    );
}

/// `/run` a fresh tmpfs and `/run/netns` a plain directory, as on a machine where no
/// `ip netns add` ran since boot: vnet makes the directory a shared mount point first,
/// as iproute2 does, so the `ip netns add` after it does not bind-mount the directory
/// over itself (which mounted each vnet namespace twice: destroy unmounted the visible
/// copy, the unlink failed with EBUSY, and the namespaces lived on, hidden).
#[test]
fn a_later_ip_netns_add_hides_none_of_vnets_namespaces() {
    isolated(
        "a_later_ip_netns_add_hides_none_of_vnets_namespaces",
        || {
            nix::mount::mount(
                Some("tmpfs"),
                "/run",
                Some("tmpfs"),
                nix::mount::MsFlags::empty(),
                None::<&str>,
            )
            .expect("private tmpfs on /run");
            std::fs::create_dir("/run/netns").unwrap();
            let t = seed();
            let b = backend();
            b.apply(&t, &Scope::Sandbox, &ApplyOptions::default())
                .unwrap();
            run(&["ip", "netns", "add", "x"]);
            b.destroy(&t, &Scope::Sandbox).unwrap();
            assert_eq!(files(), vec!["x".to_string()]);
            let mounts = netns_mounts();
            assert!(
                mounts.len() == 1 && mounts[0].contains(" /run/netns/x "),
                "only x is mounted: {mounts:#?}"
            );
            run(&["ip", "netns", "del", "x"]);
            nothing_left();
            assert!(Path::new("/run/netns").is_dir());
        },
    );
}
