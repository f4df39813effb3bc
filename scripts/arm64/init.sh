#!/bin/busybox sh
# /init of the arm64 VM (scripts/arm64/run.mjs): mounts what Node needs, runs the smoke check,
# then what /app/plan asks for (STRESS rounds; KIT="vitest arguments"), and powers off.
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp
ip link set lo up
. /app/plan

# Runs a command for at most $1 seconds. One that outlives it is reported thread by thread
# (state, user and system CPU ticks, kernel wait channel, the system call it is in) before it is
# killed, so a stall can be located without a debugger.
watched() {
  limit=$1
  shift
  "$@" &
  pid=$!
  n=0
  while kill -0 "$pid" 2>/dev/null; do
    sleep 1
    n=$((n + 1))
    [ "$n" -lt "$limit" ] && continue
    echo "::: stalled after $limit s"
    for p in $(pidof node); do
      for t in /proc/"$p"/task/*; do
        echo "pid $p task $(basename "$t"): $(cut -d' ' -f3,14,15 "$t"/stat) wchan=$(cat "$t"/wchan) syscall=$(cat "$t"/syscall)"
      done
    done
    kill -9 $(pidof node)
  done
  wait "$pid"
}

cd /app
echo "::: report"
watched 300 /bin/node smoke.mjs --expect io_uring
echo "::: exit $?"
if [ -n "$STRESS" ]; then
  watched 600 /bin/node stress.mjs "$STRESS"
  echo "::: stress exit $?"
fi
if [ -n "$KIT" ]; then
  eval watched 1800 /bin/node node_modules/vitest/vitest.mjs run --reporter=dot "$KIT" conformance.test.mjs
  echo "::: kit exit $?"
fi
poweroff -f
