#!/usr/bin/env bash
# Checks the deployment examples in packaging/deploy/ (ctest deploy/examples):
#   - kubernetes.yaml validates strictly (unknown fields fail) against the Kubernetes schemas of
#     $K8S_VERSION, offline, with kubernetes-validate (pinned in requirements.txt, installed from
#     PyPI into a venv outside the repository), and keeps what docs/deploy.md promises of it
#     (manifest_contract.py: readiness on /ready, liveness and startup on the port, Secret-fed store URL, non-root, ...);
#   - haproxy.cfg passes `haproxy -c` with no warning (-dW) and keeps its health check on /ready.
# Then each check is run on deliberately broken copies and must reject every one of them, so
# that a checker which stopped checking fails this test too.
#
#   tests/deploy/check_deploy_examples.sh [VENV_DIR]
# VENV_DIR defaults to $LOOPDECK_DEPLOY_VENV, else ~/.cache/loopdeck/deploy-check-venv; ctest
# passes one under the build tree. It is made (or remade when requirements.txt changed) on first
# use; that needs /usr/bin/python3 with venv (scripts/deps.sh --test) and PyPI. haproxy comes from
# Debian's package (scripts/deps.sh --test). Ends with "N passed, N failed"; exit 1 on a failure.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
K8S_VERSION=1.28.0
manifest=$root/packaging/deploy/kubernetes.yaml
haproxy_cfg=$root/packaging/deploy/haproxy.cfg
requirements=$here/requirements.txt
venv=${1:-${LOOPDECK_DEPLOY_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/loopdeck/deploy-check-venv}}

passed=0
failed=0
ok() { echo "ok   $*"; passed=$((passed + 1)); }
bad() { echo "FAIL $*"; failed=$((failed + 1)); }

haproxy_bin=$(command -v haproxy || true)
[ -n "$haproxy_bin" ] || { [ -x /usr/sbin/haproxy ] && haproxy_bin=/usr/sbin/haproxy; }
if [ -z "$haproxy_bin" ]; then
  echo "check_deploy_examples: haproxy not found (scripts/deps.sh --test installs it)" >&2
  exit 1
fi

# --- the validator's venv: made once, remade when requirements.txt changes (flock: ctest -j) ---
mkdir -p "$(dirname "$venv")"
stamp=$(sha256sum "$requirements" | cut -d' ' -f1)
(
  flock 9
  if [ "$(cat "$venv/.requirements.sha256" 2>/dev/null || true)" != "$stamp" ] || [ ! -x "$venv/bin/kubernetes-validate" ]; then
    echo "check_deploy_examples: installing the validator into $venv"
    rm -rf "$venv"
    py=/usr/bin/python3
    [ -x "$py" ] || py=$(command -v python3)
    "$py" -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check -r "$requirements"
    echo "$stamp" >"$venv/.requirements.sha256"
  fi
) 9>"$venv.lock"

# The validation itself must need no network: with root (CI), run it in a network namespace of
# its own that has none.
offline=()
if unshare -n true 2>/dev/null; then offline=(unshare -n); fi

# validate FILE: 0 only when every YAML document in FILE passed the strict schema check of
# $K8S_VERSION. kubernetes-validate exits 0 with a WARN for a kind it has no schema for (a
# misspelled kind), so any WARN/ERROR/FATAL line or a missing "passed" line fails here.
validate() {
  local file=$1 out docs passes
  docs=$("$venv/bin/python" -c 'import sys, yaml; print(sum(1 for d in yaml.safe_load_all(open(sys.argv[1])) if d))' "$file" 2>&1) || {
    echo "    $docs" | tail -3
    return 1
  }
  out=$("${offline[@]}" "$venv/bin/kubernetes-validate" --strict -k "$K8S_VERSION" "$file" 2>&1) || {
    echo "$out" | sed 's/^/    /'
    return 1
  }
  if echo "$out" | grep -Eq '^(WARN|ERROR|FATAL)'; then
    echo "$out" | grep -E '^(WARN|ERROR|FATAL)' | sed 's/^/    /'
    return 1
  fi
  passes=$(echo "$out" | grep -c "passed for resource" || true)
  if [ "$passes" != "$docs" ] || [ "$docs" = 0 ]; then
    echo "    $passes of $docs documents passed"
    return 1
  fi
}

contract() { "$venv/bin/python" "$here/manifest_contract.py" "$1" | sed 's/^/    /'; return "${PIPESTATUS[0]}"; }

# haproxy_check FILE: `haproxy -c` with warnings as errors, plus the health check this setup needs.
haproxy_check() {
  local file=$1 out
  out=$("$haproxy_bin" -dW -c -f "$file" 2>&1) || {
    echo "$out" | grep -E 'ALERT|WARNING' | sed 's/^/    /'
    return 1
  }
  grep -Eq '^[[:space:]]*http-check send meth GET uri /ready( |$)' "$file" || {
    echo "    no 'http-check send meth GET uri /ready'"
    return 1
  }
  grep -Eq '^[[:space:]]*http-check expect status 200$' "$file" || {
    echo "    no 'http-check expect status 200'"
    return 1
  }
}

# --- the examples as committed must pass ---
if validate "$manifest"; then ok "kubernetes.yaml validates strictly against Kubernetes $K8S_VERSION (kubernetes-validate $("$venv/bin/kubernetes-validate" --version 2>&1 | tail -1))"; else bad "kubernetes.yaml does not validate against Kubernetes $K8S_VERSION"; fi
if contract "$manifest"; then ok "kubernetes.yaml keeps the promises of docs/deploy.md"; else bad "kubernetes.yaml breaks a promise of docs/deploy.md"; fi
if haproxy_check "$haproxy_cfg"; then ok "haproxy.cfg passes haproxy -c -dW ($("$haproxy_bin" -v | head -1 | cut -d' ' -f1-3))"; else bad "haproxy.cfg does not pass haproxy -c -dW"; fi

# --- broken copies must be rejected ---
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# must_reject CHECK NAME SOURCE SED_EXPR: applies SED_EXPR to a copy of SOURCE, makes sure the
# copy differs, and expects CHECK to refuse it.
must_reject() {
  local check=$1 name=$2 source=$3 expr=$4 copy=$tmp/$2
  sed -e "$expr" "$source" >"$copy"
  if cmp -s "$source" "$copy"; then
    bad "broken copy '$name' is not broken (the sed expression matched nothing: update the test)"
  elif "$check" "$copy" >"$tmp/$name.out" 2>&1; then
    bad "$check accepted the broken copy '$name'"
  else
    ok "$check rejects '$name': $( (grep -E 'ERROR|WARN|ALERT|FATAL|broken|expected|^ +no ' "$tmp/$name.out" || cat "$tmp/$name.out") | head -1 | sed -e 's/^ *//' -e "s#$tmp/##g" | cut -c1-150)"
  fi
}

must_reject validate replicas-not-a-number "$manifest" 's/^  replicas: 3$/  replicas: "three"/'
must_reject validate misspelled-field "$manifest" 's/^          readinessProbe:$/          readinesProbe:/'
must_reject validate misspelled-kind "$manifest" 's/^kind: Deployment$/kind: Deploymnet/'
must_reject validate yaml-syntax "$manifest" 's/^  replicas: 3$/  replicas: [3/'
must_reject contract readiness-on-health "$manifest" '/readinessProbe:/,/path:/s#path: /ready#path: /health#'
must_reject contract runs-as-root "$manifest" 's/runAsNonRoot: true/runAsNonRoot: false/'
must_reject haproxy_check misspelled-balance "$haproxy_cfg" 's/^    balance leastconn$/    balance leastconnn/'
must_reject haproxy_check unknown-keyword "$haproxy_cfg" 's/^    option redispatch 1$/    option redispatchh 1/'
must_reject haproxy_check warning "$haproxy_cfg" 's/^    stats refresh 5s$/    stats refresh 5s\n    option httplog/'
must_reject haproxy_check check-on-health "$haproxy_cfg" 's#uri /ready #uri /health #'

echo "deploy examples: $passed passed, $failed failed"
[ "$failed" = 0 ]
