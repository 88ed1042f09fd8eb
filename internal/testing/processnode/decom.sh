#!/bin/bash
# The Spark image's /opt/decom.sh on a process node. Spark (with spark.decommission.enabled) puts
# it in each executor pod as the container's preStop hook (spark.kubernetes.decommission.script).
# It asks the executor JVM to decommission itself with SIGPWR (the signal the executor listens
# for; spark.executor.decommission.signal) and then waits for the JVM to exit, so that the pod's
# grace period, not SIGTERM, bounds the migration of its blocks.
set -u
pid=""
for d in /proc/[0-9]*; do
  if tr '\0' ' ' < "$d/cmdline" 2>/dev/null | grep -q 'KubernetesExecutorBackend\|CoarseGrainedExecutorBackend'; then
    pid=${d#/proc/}
  fi
done
pid=${pid:-1}
echo "decom: asking the executor (pid $pid) to decommission"
kill -s PWR "$pid" || exit 1
while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done
echo "decom: the executor exited"
