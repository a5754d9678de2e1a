#!/usr/bin/python3
"""Debian's python3-kubernetes against a podscape-agent (KUBECONFIG): list, watch, create,
patch, logs, scale, errors, exec (refused clearly on simulated nodes) and delete. Prints one
line per step; any failed assertion or unexpected exception exits non-zero."""
import sys

from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException
from kubernetes.stream import stream

config.load_kube_config()
core = client.CoreV1Api()
apps = client.AppsV1Api()
NS = "default"


def summarize(kind, value, tb):
    # One line first, so that a failure reads at a glance in the test's message.
    if isinstance(value, ApiException):
        print("FAILED: HTTP %s %s: %s" % (value.status, value.reason, (value.body or "")[:400]), flush=True)
    else:
        print("FAILED: %s: %s" % (kind.__name__, value), flush=True)
    sys.__excepthook__(kind, value, tb)


sys.excepthook = summarize


def step(text):
    print("ok:", text, flush=True)


nodes = [n.metadata.name for n in core.list_node().items]
assert nodes and all(n.startswith("node-") for n in nodes), nodes
assert all(n.status.node_info.kubelet_version for n in core.list_node().items)
step("list nodes: " + ",".join(nodes))

pod = client.V1Pod(
    metadata=client.V1ObjectMeta(name="py-pod", labels={"app": "py"}),
    spec=client.V1PodSpec(containers=[client.V1Container(
        name="main", image="busybox", command=["sh", "-c", "echo hello from python; sleep infinity"])]))
created = core.create_namespaced_pod(NS, pod)
assert created.metadata.uid and created.metadata.resource_version
step("create pod")

try:
    core.create_namespaced_pod(NS, pod)
    sys.exit("a second create of py-pod did not fail")
except ApiException as e:
    assert e.status == 409 and "already exists" in e.body, (e.status, e.body)
step("create again: 409 AlreadyExists")

w = watch.Watch()
phase = None
for event in w.stream(core.list_namespaced_pod, NS, field_selector="metadata.name=py-pod", timeout_seconds=60):
    phase = event["object"].status.phase
    if phase == "Running":
        w.stop()
assert phase == "Running", phase
step("watch until Running")

logs = core.read_namespaced_pod_log("py-pod", NS)
assert logs == "hello from python\n", repr(logs)
step("logs")

core.patch_namespaced_pod("py-pod", NS, {"metadata": {"labels": {"tier": "py"}}})
got = core.read_namespaced_pod("py-pod", NS)
assert got.metadata.labels == {"app": "py", "tier": "py"}, got.metadata.labels
selected = core.list_namespaced_pod(NS, label_selector="tier=py").items
assert [p.metadata.name for p in selected] == ["py-pod"]
step("patch labels, list by label")

deployment = client.V1Deployment(
    metadata=client.V1ObjectMeta(name="py-web"),
    spec=client.V1DeploymentSpec(
        replicas=1,
        selector=client.V1LabelSelector(match_labels={"app": "py-web"}),
        template=client.V1PodTemplateSpec(
            metadata=client.V1ObjectMeta(labels={"app": "py-web"}),
            spec=client.V1PodSpec(containers=[client.V1Container(name="web", image="nginx")]))))
apps.create_namespaced_deployment(NS, deployment)
apps.patch_namespaced_deployment_scale("py-web", NS, {"spec": {"replicas": 2}})
w = watch.Watch()
ready = 0
for event in w.stream(apps.list_namespaced_deployment, NS, field_selector="metadata.name=py-web", timeout_seconds=60):
    ready = event["object"].status.available_replicas or 0
    if ready == 2:
        w.stop()
assert ready == 2, ready
step("deployment scaled to 2 available")

try:
    core.create_namespaced_pod(NS, {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "Bad_Name"},
                                    "spec": {"containers": [{"name": "c", "image": "busybox"}]}})
    sys.exit("an invalid name was accepted")
except ApiException as e:
    assert e.status == 422 and "metadata.name" in e.body, (e.status, e.body)
step("invalid name: 422 naming metadata.name")

try:
    stream(core.connect_get_namespaced_pod_exec, "py-pod", NS, command=["hostname"],
           stderr=True, stdin=False, stdout=True, tty=False)
    sys.exit("exec on a simulated node did not fail")
except Exception as e:  # the handshake is refused with the node's reason
    assert "400" in str(e), str(e)
step("exec refused on a simulated node")

apps.delete_namespaced_deployment("py-web", NS)
before = core.read_namespaced_pod("py-pod", NS).metadata.resource_version
core.delete_namespaced_pod("py-pod", NS, grace_period_seconds=0)
w = watch.Watch()
deleted = False
# Watching from the revision before the delete replays it: no race with the deletion.
for event in w.stream(core.list_namespaced_pod, NS, field_selector="metadata.name=py-pod", resource_version=before,
                      timeout_seconds=60):
    if event["type"] == "DELETED":
        deleted = True
        w.stop()
try:
    core.read_namespaced_pod("py-pod", NS)
    deleted = False
except ApiException as e:
    assert e.status == 404, e.status
assert deleted
step("delete pod and deployment")
print("python client: all steps passed")
