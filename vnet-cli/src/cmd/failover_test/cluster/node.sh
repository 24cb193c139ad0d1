#!/bin/sh
# One cluster node of `vnet failover-test --cluster pacemaker`: runs as pid 1 of fresh
# net+mount+uts+pid namespaces (`unshare --net --mount --uts --pid --fork --mount-proc
# --propagation unchanged`), made by vnet for this run only. Arguments: the node's name
# and the run's temp directory DIR (corosync.conf in DIR/corosync, extra fence agents in
# DIR/sbin, extra OCF agents in DIR/ocf). The node's own state lives on tmpfs mounts that
# vanish with its mount namespace; /run/netns stays the test's shared one, so the
# sandbox's namespaces are the same on both nodes.
set -eu
name=$1
dir=$2
hostname "$name"
# /run/netns is a shared mount in the test's namespace, each namespace file a mount in
# it: keep a peer of the whole tree before the node's own tmpfs hides /run, then put it
# back in place. The staging copy stays (unmounting it would propagate to every peer);
# it dies with this mount namespace.
mkdir -p "$dir/$name/netns"
mount --rbind /run/netns "$dir/$name/netns"
mount -t tmpfs -o mode=755 tmpfs /run
mkdir -p /run/netns
mount --rbind "$dir/$name/netns" /run/netns
for d in /dev/shm /var/lib/pacemaker /var/lib/corosync /var/log; do
	mount -t tmpfs -o mode=755 tmpfs "$d"
done
chmod 1777 /dev/shm
mkdir -p /var/lib/pacemaker/cib /var/lib/pacemaker/pengine /var/lib/pacemaker/blackbox \
	/var/lib/pacemaker/cores /var/log/pacemaker /var/log/corosync /run/crm
chown -R hacluster:haclient /var/lib/pacemaker /var/log/pacemaker /run/crm
mount --bind "$dir/corosync" /etc/corosync
# Pacemaker finds fence agents in /usr/sbin (fence_*) and resource agents under
# /usr/lib/ocf/resource.d: the run's own are laid over them, read-only.
mount -t overlay overlay -o "lowerdir=$dir/sbin:/usr/sbin" /usr/sbin
mount -t overlay overlay -o "lowerdir=$dir/ocf:/usr/lib/ocf/resource.d" /usr/lib/ocf/resource.d
ip link set lo up
# The test cables the cluster ring into this namespace, then says go: corosync finds its
# node id by the ring address, which must be there when it starts.
i=0
until [ -e "$dir/$name/ring" ]; do
	i=$((i + 1))
	[ $i -lt 1000 ] || { echo "no cluster ring for $name" >&2; exit 1; }
	sleep 0.01
done
corosync -f >/var/log/corosync/stderr.log 2>&1 &
# Pacemaker connects to corosync once its IPC answers.
i=0
until corosync-cfgtool -s >/dev/null 2>&1; do
	i=$((i + 1))
	[ $i -lt 200 ] || { echo "corosync did not start on $name:" >&2; cat /var/log/corosync/stderr.log >&2; exit 1; }
	sleep 0.05
done
PCMK_logfile=/var/log/pacemaker/pacemaker.log PCMK_debug=no pacemakerd >/var/log/pacemaker/stderr.log 2>&1 &
touch "$dir/$name/up"
# pid 1 of the node: reap orphans until killed (the node's end kills every process in it).
while :; do
	wait || true
	sleep 1
done
