"""Runs one Airflow task of the cncf.kubernetes provider in this process, as an Airflow worker would.

Used by test/e2e/airflow_test.go with the virtualenv of hack/airflow-install.sh. The task is a
SparkKubernetesOperator or a SparkKubernetesSensor in a one-task DAG; its execute() is called with a
task context carrying the given run id and try number, the way the worker's task runner calls it. The
Kubernetes connection is `kubernetes_default`, given by the test as AIRFLOW_CONN_KUBERNETES_DEFAULT
(a kubeconfig path). No scheduler, triggerer or API server runs:

- SIGTERM (what the worker sends a task that is killed or marked failed) calls the task's on_kill(),
  as the task runner does, then exits 143.
- deferrable=True: execute() raises TaskDeferred; the trigger is then run here, in this process's
  event loop, as the triggerer would, and the task resumes with the trigger's event.

Usage: run_task.py '<json>' where the JSON has
  kind: "operator" | "sensor"; dag_id, task_id, run_id; try_number (default 1); namespace;
  operator: application_file (path) or template_spec (object); name; random_name_suffix;
            delete_on_termination; deferrable; get_logs
  sensor: application_name; attach_log; poke_interval; timeout
The last line of stdout is "AIRFLOW_RESULT <json>": {"ok": bool, "error": str, "error_type": str,
"name": the SparkApplication name the operator used, "xcom": {...}}.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import sys
import traceback

logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="%(asctime)s %(name)s %(levelname)s %(message)s")

from airflow.providers.cncf.kubernetes.operators.spark_kubernetes import SparkKubernetesOperator  # noqa: E402
from airflow.providers.cncf.kubernetes.sensors.spark_kubernetes import SparkKubernetesSensor  # noqa: E402
from airflow.sdk import DAG  # noqa: E402
from airflow.sdk.exceptions import TaskDeferred  # noqa: E402


class TaskInstance:
    """The parts of a running task instance that the provider's operator and sensor read."""

    def __init__(self, dag_id: str, task_id: str, run_id: str, try_number: int):
        self.dag_id, self.task_id, self.run_id, self.try_number = dag_id, task_id, run_id, try_number
        self.map_index = -1
        self.xcom: dict = {}

    def xcom_push(self, key, value):
        self.xcom[key] = value

    def get_first_reschedule_date(self, context):
        return None


def result(ok: bool, task, ti: TaskInstance, exc: BaseException | None = None) -> None:
    out = {
        "ok": ok,
        "error": str(exc) if exc else "",
        "error_type": type(exc).__name__ if exc else "",
        "name": getattr(task, "name", None) or "",
        "xcom": {k: v for k, v in ti.xcom.items() if isinstance(v, (str, int, float, bool))},
    }
    sys.stdout.flush()
    print("AIRFLOW_RESULT " + json.dumps(out), flush=True)


async def run_trigger(trigger):
    """Runs a trigger to its first event, as the triggerer does."""
    async for event in trigger.run():
        return event
    raise RuntimeError("the trigger ended without an event")


def main() -> int:
    args = json.loads(sys.argv[1])
    dag_id, task_id, run_id = args["dag_id"], args["task_id"], args["run_id"]
    ti = TaskInstance(dag_id, task_id, run_id, int(args.get("try_number", 1)))
    with DAG(dag_id=dag_id, schedule=None) as dag:
        if args["kind"] == "operator":
            kwargs = {}
            for key in ("application_file", "template_spec", "name", "random_name_suffix",
                        "delete_on_termination", "deferrable", "get_logs", "startup_timeout_seconds"):
                if key in args:
                    kwargs[key] = args[key]
            task = SparkKubernetesOperator(task_id=task_id, namespace=args["namespace"], **kwargs)
        else:
            task = SparkKubernetesSensor(
                task_id=task_id, namespace=args["namespace"], application_name=args["application_name"],
                attach_log=args.get("attach_log", False), poke_interval=args.get("poke_interval", 2),
                timeout=args.get("timeout", 600))
    context = {"ti": ti, "task_instance": ti, "run_id": run_id, "dag": dag, "task": task, "params": {}}

    def on_sigterm(signum, frame):
        print("run_task: SIGTERM: calling on_kill()", flush=True)
        try:
            task.on_kill()
        except BaseException as e:  # noqa: BLE001
            traceback.print_exc()
            result(False, task, ti, e)
            os._exit(1)
        result(False, task, ti, RuntimeError("killed"))
        os._exit(143)

    signal.signal(signal.SIGTERM, on_sigterm)
    print("run_task: started", flush=True)
    try:
        try:
            task.execute(context)
        except TaskDeferred as deferred:
            print(f"run_task: deferred to {type(deferred.trigger).__name__}; running the trigger here", flush=True)
            event = asyncio.run(run_trigger(deferred.trigger))
            getattr(task, deferred.method_name)(context, event=event.payload, **(deferred.kwargs or {}))
    except BaseException as e:  # noqa: BLE001
        traceback.print_exc(file=sys.stdout)
        result(False, task, ti, e)
        return 1
    result(True, task, ti)
    return 0


if __name__ == "__main__":
    sys.exit(main())
