#!/bin/busybox sh
# tests/guest/guest_init.sh: /init of the test guest. Runs the jobs listed in /plan.sh and
# writes their output to the second serial port (ttyS1), framed for the host:
#   @@BEGIN id / stdout / @@STDERR id / stderr / @@END id rc=N start=S end=E
# (rc as the shell sees it: 128+N when killed by signal N; each section ends with one extra
# newline that the host strips). The kernel log stays on ttyS0.
/bin/busybox --install -s /bin
export PATH=/bin:/usr/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp
exec 3>/dev/ttyS1

uptime_now() {
  read -r up rest </proc/uptime
  echo "$up"
}

# run_job ID SECONDS COMMAND [ARGS...]: runs COMMAND with a time limit (SIGKILL after SECONDS).
run_job() {
  id=$1
  limit=$2
  shift 2
  echo "@@BEGIN $id" >&3
  start=$(uptime_now)
  timeout -s KILL "$limit" "$@" >/tmp/job.out 2>/tmp/job.err </dev/null
  rc=$?
  end=$(uptime_now)
  cat /tmp/job.out >&3
  echo >&3
  echo "@@STDERR $id" >&3
  cat /tmp/job.err >&3
  echo >&3
  echo "@@END $id rc=$rc start=$start end=$end" >&3
}

# la57: the kernel runs with 5-level paging (it clears the flag otherwise).
echo "@@GUEST cpus=$(grep -c ^processor /proc/cpuinfo) la57=$(grep -c -w la57 /proc/cpuinfo) boot=$(uptime_now) cmdline=$(cat /proc/cmdline)" >&3
. /plan.sh
echo "@@DONE uptime=$(uptime_now)" >&3
sync
poweroff -f
# poweroff failing would panic the kernel when init exits; panic=-1 and -no-reboot end QEMU.
