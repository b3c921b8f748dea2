#!/usr/bin/env python3
"""What docs/deploy.md promises of packaging/deploy/kubernetes.yaml, beyond the schema.

Usage: manifest_contract.py FILE. Exit status 0 when every promise holds, 1 otherwise (each broken
one printed). Run by tests/deploy/check_deploy_examples.sh with the venv's Python (needs PyYAML).
"""
import sys

import yaml


def main(path):
    with open(path, encoding="utf-8") as f:
        docs = [d for d in yaml.safe_load_all(f) if d]
    by_kind = {}
    for d in docs:
        by_kind.setdefault(d.get("kind"), []).append(d)
    problems = []

    def expect(condition, what):
        if not condition:
            problems.append(what)

    for kind in ("Deployment", "Service", "Secret"):
        expect(len(by_kind.get(kind, [])) == 1, f"exactly one {kind}")
    if problems:
        return problems

    deployment, service, secret = by_kind["Deployment"][0], by_kind["Service"][0], by_kind["Secret"][0]
    spec = deployment["spec"]
    pod = spec["template"]["spec"]
    expect(spec.get("replicas") == 3, "Deployment runs 3 replicas")
    containers = pod.get("containers", [])
    expect(len(containers) == 1, "one container")
    c = containers[0] if containers else {}
    argv = list(c.get("command", [])) + list(c.get("args", []))
    expect(argv[:2] == ["loopdeck", "serve"], "the container runs `loopdeck serve`")

    def value_after(flag):
        return [argv[i + 1] for i, a in enumerate(argv[:-1]) if a == flag]

    expect(value_after("--host") == ["0.0.0.0"], "--host 0.0.0.0")
    expect(value_after("--port") == ["9090"], "--port 9090")
    expect(value_after("--data-dir") == ["/var/lib/loopdeck"], "--data-dir /var/lib/loopdeck")
    expect(("--force-insecure-bind" in argv) or (value_after("--basic-auth-user") and value_after("--basic-auth-password-env")),
           "non-loopback bind with Basic auth (or --force-insecure-bind)")
    expect("--store" not in argv, "the store URL is not on the command line (it holds a password)")

    env = {e["name"]: e for e in c.get("env", [])}
    secret_keys = set((secret.get("stringData") or {}).keys()) | set((secret.get("data") or {}).keys())

    def from_secret(name):
        ref = env.get(name, {}).get("valueFrom", {}).get("secretKeyRef", {})
        return ref.get("name") == secret["metadata"]["name"] and ref.get("key") in secret_keys

    expect(from_secret("LOOPDECK_STORE"), "LOOPDECK_STORE comes from the Secret")
    for var in value_after("--basic-auth-password-env"):
        expect(from_secret(var), f"{var} comes from the Secret")

    def probe_path(kind):
        return c.get(kind, {}).get("httpGet", {}).get("path")

    expect(probe_path("readinessProbe") == "/ready", "readinessProbe GET /ready")
    # With Basic auth on, GET /health needs credentials a probe cannot take from the Secret:
    # liveness and startup check the port, only readiness asks /ready (open to probes).
    def probe_tcp(kind):
        return c.get(kind, {}).get("tcpSocket", {}).get("port")

    expect(probe_tcp("livenessProbe") == "http", "livenessProbe on the http port (TCP)")
    expect(probe_tcp("startupProbe") == "http", "a startupProbe on the http port (TCP)")
    expect(spec.get("strategy", {}).get("rollingUpdate", {}).get("maxUnavailable") == 0,
           "rolling update keeps every ready replica until its successor is ready")

    pod_sc = pod.get("securityContext", {})
    c_sc = c.get("securityContext", {})
    expect(pod_sc.get("runAsNonRoot") is True, "runAsNonRoot")
    expect(c_sc.get("readOnlyRootFilesystem") is True, "readOnlyRootFilesystem")
    expect(c_sc.get("allowPrivilegeEscalation") is False, "allowPrivilegeEscalation false")
    resources = c.get("resources", {})
    expect(resources.get("requests") and resources.get("limits", {}).get("memory"), "resource requests and a memory limit")

    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    data_mounts = [m for m in c.get("volumeMounts", []) if m.get("mountPath") == "/var/lib/loopdeck"]
    expect(len(data_mounts) == 1 and "emptyDir" in volumes.get(data_mounts[0]["name"], {}),
           "the data folder is an emptyDir (cache only)")

    ports = service["spec"].get("ports", [])
    expect(service["spec"].get("type", "ClusterIP") == "ClusterIP" and [p.get("port") for p in ports] == [9090],
           "Service: ClusterIP on port 9090")
    selector = service["spec"].get("selector", {})
    labels = spec["template"]["metadata"].get("labels", {})
    expect(selector and all(labels.get(k) == v for k, v in selector.items()), "the Service selects the Deployment's pods")
    return problems


if __name__ == "__main__":
    found = main(sys.argv[1])
    for p in found:
        print(f"{sys.argv[1]}: broken promise: {p}")
    sys.exit(1 if found else 0)
