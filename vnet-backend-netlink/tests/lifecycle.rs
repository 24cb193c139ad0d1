//! One container's life through the library alone ([`Backend::start`], `stop`,
//! `status`), in the sandbox and on a real node (the test's private namespace is node
//! m1, the container's namespace is `/run/netns/mail` as `ip netns add` makes it).

use std::path::Path;
use std::time::Duration;

use vnet_backend_netlink::{ApplyOptions, Backend, Error, ErrorKind, Site, StartOptions};
use vnet_core::lifecycle::State;
use vnet_testkit::{isolated, run, seed};

fn quick() -> StartOptions {
    StartOptions {
        schedule: vec![Duration::ZERO],
        ..StartOptions::default()
    }
}

#[test]
fn in_the_sandbox_a_container_moves_stops_and_refuses_what_is_not_its() {
    isolated(
        "in_the_sandbox_a_container_moves_stops_and_refuses_what_is_not_its",
        || {
            let t = seed();
            let site = Site::Sandbox {
                prefix: "vnet".into(),
            };
            let b = Backend::on_site(&t, &site);
            b.apply(&t, &site.scope(), &ApplyOptions::default())
                .unwrap();
            let home = b.status(&t, "mail").unwrap();
            assert_eq!((home.state, home.node.as_deref()), (State::Up, Some("m1")));

            let moved = b.start(&t, "mail", "m2", &quick()).unwrap();
            assert_eq!(moved.moved_from.as_deref(), Some("m1"));
            assert!(
                moved.steps > 0 && moved.announced[0].arp_sent == 1,
                "{moved:?}"
            );
            let there = b.status(&t, "mail").unwrap();
            assert_eq!(
                (there.state, there.node.as_deref()),
                (State::Up, Some("m2"))
            );
            let again = b.start(&t, "mail", "m2", &quick()).unwrap();
            assert_eq!((again.steps, again.mutating_requests), (0, 0));

            let wrong = b.start(&t, "mail", "m9", &quick()).unwrap_err();
            assert_eq!(wrong.kind(), ErrorKind::WrongNode, "{wrong}");
            let unknown = b.status(&t, "nosuch").unwrap_err();
            assert_eq!(unknown.kind(), ErrorKind::Usage, "{unknown}");

            assert!(b.stop(&t, "mail").unwrap().was_running);
            assert_eq!(b.status(&t, "mail").unwrap().state, State::Stopped);
            assert!(!b.stop(&t, "mail").unwrap().was_running);

            // A namespace of that name that vnet did not make is left alone.
            run(&["ip", "netns", "add", "vnet-mail"]);
            let foreign = b.stop(&t, "mail").unwrap_err();
            assert!(
                matches!(foreign, Error::NotOurNamespace { .. }),
                "{foreign}"
            );
            assert_eq!(foreign.kind(), ErrorKind::Conflict);
            assert!(Path::new("/run/netns/vnet-mail").exists());
            run(&["ip", "netns", "del", "vnet-mail"]);

            b.destroy(&t, &site.scope()).unwrap();
            assert_eq!(run(&["ip", "netns", "list"]).trim(), "");
        },
    );
}

#[test]
fn on_a_real_node_a_container_is_cabled_and_uncabled_in_its_runtimes_namespace() {
    isolated(
        "on_a_real_node_a_container_is_cabled_and_uncabled_in_its_runtimes_namespace",
        || {
            let t = seed();
            let b = Backend::on_site(&t, &Site::Node { name: "m1".into() });
            // Without its namespace (its runtime has not started it) nothing is built.
            let early = b.start(&t, "mail", "m1", &quick()).unwrap_err();
            assert!(matches!(early, Error::NoCtNamespace { .. }), "{early}");
            assert_eq!(early.kind(), ErrorKind::NotReady);

            run(&["ip", "netns", "add", "mail"]);
            run(&["ip", "-n", "mail", "link", "set", "lo", "up"]);
            assert_eq!(b.status(&t, "mail").unwrap().state, State::Stopped);
            let started = b.start(&t, "mail", "m1", &quick()).unwrap();
            assert!(started.steps > 0, "{started:?}");
            let up = b.status(&t, "mail").unwrap();
            assert_eq!(
                (up.state, up.node.as_deref()),
                (State::Up, Some("m1")),
                "{}",
                up.line()
            );
            let links = run(&["ip", "-br", "link"]);
            assert!(links.contains("veth2") && links.contains("br0"), "{links}");

            let elsewhere = b.start(&t, "mail", "m2", &quick()).unwrap_err();
            assert!(matches!(elsewhere, Error::OtherNode { .. }), "{elsewhere}");
            assert_eq!(elsewhere.kind(), ErrorKind::WrongNode);

            assert!(b.stop(&t, "mail").unwrap().was_running);
            assert_eq!(b.status(&t, "mail").unwrap().state, State::Stopped);
            assert!(
                Path::new("/run/netns/mail").exists(),
                "the runtime's namespace stays"
            );
            assert!(!run(&["ip", "-br", "link"]).contains("veth2"));
            assert!(
                !b.stop(&t, "mail").unwrap().was_running,
                "a second stop has nothing to do"
            );
            run(&["ip", "netns", "del", "mail"]);
        },
    );
}
