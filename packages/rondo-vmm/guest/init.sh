#!/bin/busybox sh
# The init (pid 1) of rondo-vmm's guest. It loads the virtio modules, opens the virtio-serial
# port rondo.metrics, says hello, answers the host's polls with /proc figures (report.awk), runs
# the workload plan from the kernel command line (rondo.plan=cpu:150,idle:100,io:150,mixed:100,
# in centiseconds), says bye and powers off. See src/guest/protocol.ts for the line format.
# Only busybox (static) is available here; every command below is a busybox applet.

/bin/busybox mkdir -p /proc /sys /dev /tmp
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sysfs /sys
/bin/busybox mount -t devtmpfs devtmpfs /dev
/bin/busybox --install -s /bin
export PATH=/bin

say() { echo "rondo-guest: $*" >/dev/console; }
uptime_s() { read -r u _ </proc/uptime; echo "$u"; }
# Centiseconds to the seconds sleep takes: 150 -> 1.50.
secs() { printf '%d.%02d' $(($1 / 100)) $(($1 % 100)); }
halt_now() { sync; poweroff -f; sleep 60; }

# busybox insmod exits 0 even when it fails, so failures show up as a missing port below.
while read -r m; do insmod "/lib/modules/$m.ko" 2>/dev/null; done </lib/modules/order

VM= PLAN= PROBE=0 HANG=0 SILENT=0
for a in $(cat /proc/cmdline); do
  case "$a" in
  rondo.vm=*) VM=${a#*=} ;;
  rondo.plan=*) PLAN=${a#*=} ;;
  rondo.probe=1) PROBE=1 ;;
  # Fault injection for the manager's tests: never power off / never say hello.
  rondo.hang=1) HANG=1 ;;
  rondo.silent=1) SILENT=1 ;;
  esac
done

# The accelerator probe only needs to know that the kernel reached init.
if [ "$PROBE" = 1 ]; then
  echo "rondo-probe-ok" >/dev/console
  halt_now
fi

PORT=
for d in /sys/class/virtio-ports/*; do
  [ "$(cat "$d/name" 2>/dev/null)" = rondo.metrics ] && PORT=/dev/${d##*/}
done
if [ -z "$PORT" ] || [ ! -c "$PORT" ]; then
  say "no virtio-serial port named rondo.metrics (modules: $(cat /proc/modules | cut -d' ' -f1 | tr '\n' ' '))"
  halt_now
fi
[ "$SILENT" = 1 ] && while :; do sleep 3600; done

DISK=0
[ -b /dev/vda ] && DISK=1
# One open of the port for both directions: a virtio port can be open only once.
exec 3<>"$PORT"
echo init >/tmp/phase
echo "@rondo 1 hello vm=$VM up=$(uptime_s) disk=$DISK" >&3
awk -f /etc/rondo/report.awk <&3 >&3 &
REPORTER=$!

# One round of I/O: 1 MiB written with fsync to the disk (or to /tmp without one), then read
# back past the page cache. Small rounds, so a phase ends within a fraction of a second.
io_round() {
  if [ "$DISK" = 1 ]; then
    dd if=/dev/zero of=/dev/vda bs=64k count=16 seek=$((IO_AT * 16)) conv=fsync,notrunc 2>/dev/null || return 1
    echo 1 >/proc/sys/vm/drop_caches
    dd if=/dev/vda of=/dev/null bs=64k count=16 skip=$((IO_AT * 16)) 2>/dev/null || return 1
    IO_AT=$(((IO_AT + 1) % DISK_MIB))
  else
    dd if=/dev/zero of=/tmp/io bs=64k count=16 conv=fsync 2>/dev/null || return 1
    dd if=/tmp/io of=/dev/null bs=64k 2>/dev/null
    rm -f /tmp/io
  fi
}
io_loop() {
  IO_AT=0
  DISK_MIB=1
  [ "$DISK" = 1 ] && DISK_MIB=$(($(cat /sys/block/vda/size) / 2048))
  [ "$DISK_MIB" -ge 1 ] || DISK_MIB=1
  while [ -e /tmp/io.run ]; do io_round || exit 1; done
}

# Runs phase $1 for $2 centiseconds; returns non-zero when its work failed.
run_phase() {
  burner= io=
  case "$1" in
  cpu) md5sum /dev/zero >/dev/null 2>&1 & burner=$! ;;
  idle) ;;
  io) touch /tmp/io.run && { io_loop & io=$!; } ;;
  mixed)
    md5sum /dev/zero >/dev/null 2>&1 &
    burner=$!
    touch /tmp/io.run && { io_loop & io=$!; }
    ;;
  *)
    say "unknown phase $1"
    return 2
    ;;
  esac
  sleep "$(secs "$2")"
  rm -f /tmp/io.run
  [ -n "$burner" ] && kill "$burner" 2>/dev/null
  rc=0
  [ -n "$io" ] && { wait "$io" || rc=$?; }
  [ -n "$burner" ] && wait "$burner" 2>/dev/null
  return $rc
}

STATUS=0
for p in $(echo "$PLAN" | tr ',' ' '); do
  echo "${p%%:*}" >/tmp/phase
  run_phase "${p%%:*}" "${p#*:}" || STATUS=$?
done
echo done >/tmp/phase
[ "$HANG" = 1 ] && while :; do sleep 3600; done
kill "$REPORTER" 2>/dev/null
echo "@rondo 1 bye status=$STATUS up=$(uptime_s)" >&3
halt_now
