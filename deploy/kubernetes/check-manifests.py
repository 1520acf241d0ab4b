#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Strict offline check of deploy/kubernetes/*.yaml, run by meson test (kubernetes-manifests).

No Kubernetes JSON schemas are available offline from Debian, so this parses the YAML strictly
(duplicate keys are errors), checks the fields the API server requires, and checks the security
promises the README makes (hostPID, exactly five added capabilities, read-only root, no
privilege, no service account token, no ports), that every mount has a volume, and that the
ConfigMap's JSON documents parse and its configuration passes `ksmtuned-ng --check-config`.
validate-schema.mjs does the full schema validation where the npm package is installed.
usage: check-manifests.py DIR [KSMTUNED_NG]"""
import glob, json, os, subprocess, sys, tempfile
import yaml


class StrictLoader(yaml.SafeLoader):
    pass


def no_duplicates(loader, node, deep=False):
    keys = set()
    for k, _ in node.value:
        key = loader.construct_object(k, deep=deep)
        if key in keys:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", k.start_mark)
        keys.add(key)
    return loader.construct_mapping(node, deep)


StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, no_duplicates)
n = 0


def check(cond, what):
    global n
    n += 1
    print(f"{'ok' if cond else 'not ok'} {n} - {what}")
    if not cond:
        sys.exit(1)


docs = {}
for f in sorted(glob.glob(os.path.join(sys.argv[1], "*.yaml"))):
    for d in yaml.load_all(open(f), Loader=StrictLoader):
        check(isinstance(d, dict) and all(k in d for k in ("apiVersion", "kind", "metadata"))
              and d["metadata"].get("name"), f"{os.path.basename(f)}: {d.get('kind')} has apiVersion, kind, metadata.name")
        docs[d["kind"]] = d

ds, cm = docs["DaemonSet"], docs["ConfigMap"]
check(ds["apiVersion"] == "apps/v1" and cm["apiVersion"] == "v1", "API versions apps/v1 and v1")
spec = ds["spec"]
check(spec["selector"]["matchLabels"].items() <= spec["template"]["metadata"]["labels"].items(),
      "the selector matches the pod template's labels")
pod = spec["template"]["spec"]
check(pod.get("hostPID") is True, "hostPID")
check(pod.get("automountServiceAccountToken") is False, "no service account token")
check(not pod.get("hostNetwork") and not pod.get("hostIPC"), "no host network or IPC")
(c,) = pod["containers"]
check(c.get("name") and c.get("image"), "the container has a name and an image")
sc = c["securityContext"]
check(sc["capabilities"]["drop"] == ["ALL"], "drops ALL capabilities")
check(sorted(sc["capabilities"]["add"]) == ["BPF", "DAC_READ_SEARCH", "PERFMON", "SYS_ADMIN", "SYS_PTRACE"],
      "adds exactly SYS_PTRACE, DAC_READ_SEARCH, BPF, PERFMON, SYS_ADMIN")
check(sc.get("privileged") is False and sc.get("allowPrivilegeEscalation") is False, "not privileged, no escalation")
check(sc.get("readOnlyRootFilesystem") is True, "read-only root file system")
check(not c.get("ports"), "no ports")
vols = {v["name"]: v for v in pod["volumes"]}
for m in c["volumeMounts"]:
    check(m["name"] in vols and m["mountPath"].startswith("/"), f"mount {m['mountPath']} has a volume")
mounts = {m["mountPath"]: m for m in c["volumeMounts"]}
check(mounts["/sys/fs/cgroup"].get("readOnly") is True,
      "cgroup tree read-only")
check(vols[mounts["/sys/kernel/mm/ksm"]["name"]]["hostPath"]["path"] == "/sys/kernel/mm/ksm", "/sys/kernel/mm/ksm from the host")
check(vols[mounts["/run/ksmtuned-ng"]["name"]]["hostPath"]["path"] == "/run/ksmtuned-ng",
      "/run/ksmtuned-ng shared with the OCI hook on the host")
for key, text in cm["data"].items():
    json.loads(text)
    check(True, f"ConfigMap {key} is JSON")
for v in pod["volumes"]:
    for item in v.get("configMap", {}).get("items", []):
        check(item["key"] in cm["data"], f"volume {v['name']} uses ConfigMap key {item['key']}")
cfg = json.loads(cm["data"]["ksmtuned-ng.json"])
metrics_dir = os.path.dirname(cfg["metrics_file"])
check(metrics_dir in mounts, f"metrics_file's directory {metrics_dir} is mounted")
if len(sys.argv) > 2:
    with tempfile.TemporaryDirectory() as d, tempfile.NamedTemporaryFile("w", suffix=".json") as t:
        # (the metrics directory is a node's; here a scratch one stands in for it)
        t.write(json.dumps(dict(cfg, metrics_file=os.path.join(d, "ksmtuned-ng.prom"))))
        t.flush()
        r = subprocess.run([sys.argv[2], "--check-config", "--config", t.name], capture_output=True, text=True)
        check(r.returncode == 0, f"ksmtuned-ng --check-config accepts the ConfigMap's configuration {r.stderr.strip()}")
print(f"1..{n}")
