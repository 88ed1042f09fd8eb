#!/bin/bash
# The Spark image's /opt/entrypoint.sh on a process node, written from the contract of Spark's own
# (docs: spark-submit-on-kubernetes.md, "entrypoint.sh contract"):
#   driver ARGS...    spark-submit in client mode, bound to the pod IP ($SPARK_DRIVER_BIND_ADDRESS)
#   executor          KubernetesExecutorBackend, configured by the SPARK_EXECUTOR_* variables
#   anything else     exec'd as given
# There is no tini here: the command is exec'd and becomes the container's PID 1 (the JVM handles
# SIGTERM itself), and no passwd entry is needed since containers run as the node's own user.
set -eo pipefail

if [[ -z "${JAVA_HOME:-}" ]]; then
  JAVA_HOME=$(java -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.home = //p')
  export JAVA_HOME
fi

SPARK_CLASSPATH="${SPARK_CLASSPATH:+$SPARK_CLASSPATH:}${SPARK_HOME}/jars/*"
if [[ -n "${SPARK_EXTRA_CLASSPATH:-}" ]]; then
  SPARK_CLASSPATH="$SPARK_CLASSPATH:$SPARK_EXTRA_CLASSPATH"
fi
if [[ -n "${HADOOP_CONF_DIR+x}" ]]; then
  SPARK_CLASSPATH="$HADOOP_CONF_DIR:$SPARK_CLASSPATH"
fi
if [[ -n "${SPARK_CONF_DIR+x}" ]]; then
  SPARK_CLASSPATH="$SPARK_CONF_DIR:$SPARK_CLASSPATH"
elif [[ -n "${SPARK_HOME+x}" ]]; then
  SPARK_CLASSPATH="$SPARK_HOME/conf:$SPARK_CLASSPATH"
fi
# SPARK-43540: the working directory is on the executor classpath.
SPARK_CLASSPATH="$SPARK_CLASSPATH:$PWD"
if [[ -n "${HADOOP_HOME:-}" && -z "${SPARK_DIST_CLASSPATH:-}" ]]; then
  SPARK_DIST_CLASSPATH="$("$HADOOP_HOME/bin/hadoop" classpath)"
  export SPARK_DIST_CLASSPATH
fi
[[ -n "${PYSPARK_PYTHON+x}" ]] && export PYSPARK_PYTHON
[[ -n "${PYSPARK_DRIVER_PYTHON+x}" ]] && export PYSPARK_DRIVER_PYTHON

# SPARK_JAVA_OPT_<n>, in numeric order of n.
java_opts=()
while IFS= read -r name; do
  [[ -n "$name" ]] && java_opts+=("${!name}")
done < <(compgen -v SPARK_JAVA_OPT_ | sort -t_ -k4 -n)

case "${1:-}" in
  driver)
    shift
    cmd=("$SPARK_HOME/bin/spark-submit"
      --conf "spark.driver.bindAddress=$SPARK_DRIVER_BIND_ADDRESS"
      --conf "spark.executorEnv.SPARK_DRIVER_POD_IP=$SPARK_DRIVER_BIND_ADDRESS"
      --deploy-mode client
      "$@")
    ;;
  executor)
    shift
    cmd=("$JAVA_HOME/bin/java"
      "${java_opts[@]}"
      "-Xms$SPARK_EXECUTOR_MEMORY"
      "-Xmx$SPARK_EXECUTOR_MEMORY"
      -cp "$SPARK_CLASSPATH:${SPARK_DIST_CLASSPATH:-}"
      org.apache.spark.scheduler.cluster.k8s.KubernetesExecutorBackend
      --driver-url "$SPARK_DRIVER_URL"
      --executor-id "$SPARK_EXECUTOR_ID"
      --cores "$SPARK_EXECUTOR_CORES"
      --app-id "$SPARK_APPLICATION_ID"
      --hostname "$SPARK_EXECUTOR_POD_IP"
      --resourceProfileId "$SPARK_RESOURCE_PROFILE_ID"
      --podName "$SPARK_EXECUTOR_POD_NAME")
    ;;
  *)
    cmd=("$@")
    ;;
esac

echo "entrypoint: exec ${cmd[*]}" >&2
exec "${cmd[@]}"
