#!/bin/busybox sh
# The init (pid 1) of rondo-vmm's guest. It loads the virtio modules, opens the virtio-serial
# port rondo.metrics, says hello, answers the host's polls with /proc figures (report.awk), runs
# the workload plan from the kernel command line (rondo.plan=cpu:150,idle:100,io:150,mixed:100,
# in centiseconds), says bye and powers off. See src/guest/protocol.ts for the line format.
# Only busybox (static) is available here; every command below is a busybox applet.

# `/init io-loop DISK`: the I/O phases' worker, started by run_phase below. Each round writes
# 1 MiB with fsync to the disk (or /tmp without one) and reads it back past the page cache.
if [ "$1" = io-loop ]; then
  at=0
  mib=1
  [ "$2" = 1 ] && mib=$(($(cat /sys/block/vda/size) / 2048))
  [ "$mib" -ge 1 ] || mib=1
  while :; do
    if [ "$2" = 1 ]; then
      dd if=/dev/zero of=/dev/vda bs=64k count=16 seek=$((at * 16)) conv=fsync,notrunc 2>/dev/null || exit 1
      echo 1 >/proc/sys/vm/drop_caches
      dd if=/dev/vda of=/dev/null bs=64k count=16 skip=$((at * 16)) 2>/dev/null || exit 1
      at=$(((at + 1) % mib))
    else
      dd if=/dev/zero of=/tmp/io bs=64k count=16 conv=fsync 2>/dev/null || exit 1
      dd if=/tmp/io of=/dev/null bs=64k 2>/dev/null
      rm -f /tmp/io
    fi
  done
fi

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

# Runs phase $1 for $2 centiseconds; returns non-zero when its work failed. The I/O loop runs in
# its own session so that the phase can end it at once, a dd under way included.
run_phase() {
  burner= io=
  case "$1" in
  cpu) md5sum /dev/zero >/dev/null 2>&1 & burner=$! ;;
  idle) ;;
  io) setsid /init io-loop "$DISK" & io=$! ;;
  mixed)
    md5sum /dev/zero >/dev/null 2>&1 &
    burner=$!
    setsid /init io-loop "$DISK" &
    io=$!
    ;;
  *)
    say "unknown phase $1"
    return 2
    ;;
  esac
  sleep "$(secs "$2")"
  rc=0
  if [ -n "$io" ]; then
    # Still running: its work went well. Ended already: its status says how.
    if kill -0 "$io" 2>/dev/null; then kill -KILL -"$io" 2>/dev/null; else wait "$io" || rc=$?; fi
  fi
  [ -n "$burner" ] && kill "$burner" 2>/dev/null
  # Only these two: a bare wait would wait for the reporter too.
  [ -n "$burner" ] && wait "$burner" 2>/dev/null
  [ -n "$io" ] && wait "$io" 2>/dev/null
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
