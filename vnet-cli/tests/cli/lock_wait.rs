//! The namespace lock's bounded wait: while another process holds `/run/netns` locked
//! (here `flock -o`, whose own process holds it while its command runs, as a stuck
//! run would), `apply` and `destroy`
//! wait `--wait SECONDS`, then give up with exit 4, naming the holder's pid; nothing
//! changes. Once the holder is gone the same commands succeed.

use vnet_testkit::isolated;

use crate::kernel::{expect, run_steps};

#[test]
fn a_held_lock_is_waited_for_a_bounded_time_and_its_holder_named() {
    isolated(
        "lock_wait::a_held_lock_is_waited_for_a_bounded_time_and_its_holder_named",
        || {
            let steps = run_steps(&[
                (
                    "held",
                    "flock -o /run/netns sleep 30 & h=$!; echo $h >\"$D/holder\"; sleep 0.3; \
                 s=$(date +%s%N); $VNET apply $SEED --sandbox --wait 1; a=$?; \
                 e=$(date +%s%N); $VNET destroy $SEED --sandbox --wait 1; d=$?; \
                 echo \"apply $a destroy $d waited_ms $(( (e - s) / 1000000 ))\"; \
                 ls -A /run/netns; kill $(cat /proc/$h/task/$h/children); wait $h; exit 0",
                ),
                ("holder", "cat \"$D/holder\""),
                ("free", "$VNET apply $SEED --sandbox --wait 1"),
                ("destroy", "$VNET destroy $SEED --sandbox --wait 1"),
            ]);
            let held = expect(&steps, "held", 0);
            let pid = expect(&steps, "holder", 0).stdout.trim().to_string();
            let report = held.stdout.lines().next().unwrap_or_default();
            assert!(
                report.starts_with("apply 4 destroy 4 waited_ms "),
                "{}",
                held.stdout
            );
            let waited: u64 = report.rsplit(' ').next().unwrap().parse().unwrap();
            assert!((1000..5000).contains(&waited), "waited {waited} ms");
            assert_eq!(
                held.stdout.lines().count(),
                1,
                "nothing built: {}",
                held.stdout
            );
            let named = format!("pid {pid} (flock -o /run/netns sleep 30)");
            assert_eq!(
                held.stderr.matches(&named).count(),
                4,
                "both said whom they wait for and gave up naming it: {}",
                held.stderr
            );
            assert!(held.stderr.contains("gave up after 1 s"), "{}", held.stderr);
            expect(&steps, "free", 0);
            expect(&steps, "destroy", 0);
        },
    );
}
