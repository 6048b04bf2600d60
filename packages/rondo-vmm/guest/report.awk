# The guest's reporter (busybox awk): reads the host's polls from the virtio-serial port on stdin
# and answers each "@rondo 1 poll seq=N" with one tick line on stdout (the same port):
#   @rondo 1 tick seq=N up=S phase=P cpu=user,nice,system,idle,iowait,irq,softirq,steal mem=T,F,A load=1,5,15
# cpu is in USER_HZ ticks and mem in kB, exactly as /proc has them; the host converts.

function first(file,   l) {
  l = ""
  getline l < file
  close(file)
  return l
}

function uptime(   a) {
  split(first("/proc/uptime"), a, " ")
  return a[1]
}

function cpu(   a) {
  split(first("/proc/stat"), a, " ")
  return a[2] "," a[3] "," a[4] "," a[5] "," a[6] "," a[7] "," a[8] "," a[9]
}

function mem(   l, k, total, free, avail) {
  while ((getline l < "/proc/meminfo") > 0) {
    split(l, k, " ")
    if (k[1] == "MemTotal:") total = k[2]
    else if (k[1] == "MemFree:") free = k[2]
    else if (k[1] == "MemAvailable:") avail = k[2]
  }
  close("/proc/meminfo")
  return total "," free "," avail
}

function load(   a) {
  split(first("/proc/loadavg"), a, " ")
  return a[1] "," a[2] "," a[3]
}

{ sub(/\r$/, "") }

$1 == "@rondo" && $2 == "1" && $3 == "poll" {
  seq = $4
  sub(/^seq=/, "", seq)
  printf "@rondo 1 tick seq=%s up=%s phase=%s cpu=%s mem=%s load=%s\n", seq, uptime(), first("/tmp/phase"), cpu(), mem(), load()
  fflush()
}
