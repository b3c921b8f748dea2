#!/usr/bin/env python3
"""How long the loop's reconcile takes against a real Label Studio.

For each size N: a project with N text tasks, every one with an annotation, imported in bulk
(so LoopDeck never saw them as webhooks: exactly the "LoopDeck was closed" case). Then
`loopdeck serve --label-studio URL` is started, the backend is registered in the project, and
the time from the loop adding the project to its first full reconcile finishing is read from
the serve log (event=added ... event=reconciled mode=full). A second measurement restarts the
backend on the same data folder: the full sync at start of a project the store already holds.

Usage: tests/bench/sync_bench.py LOOPDECK_BINARY LS_ENV_FILE [N ...]   (default N: 5000 50000)
LS_ENV_FILE is what tests/integration/labelstudio_fixture.py start writes.
"""
import json, os, re, socket, subprocess, sys, tempfile, time, urllib.request
from datetime import datetime

binary, env_file = sys.argv[1], sys.argv[2]
sizes = [int(n) for n in sys.argv[3:]] or [5000, 50000]
env = dict(l.split('=', 1) for l in open(env_file).read().split())
LS, TOKEN = env['URL'], env['TOKEN']
CONFIG = ('<View><Text name="text" value="$text"/><Choices name="sentiment" toName="text" choice="single">'
          '<Choice value="Positive"/><Choice value="Negative"/></Choices></View>')


def call(method, url, body=None, timeout=600):
    r = urllib.request.Request(url, data=json.dumps(body).encode() if body is not None else None, method=method)
    r.add_header('Content-Type', 'application/json')
    r.add_header('Authorization', 'Token ' + TOKEN)
    with urllib.request.urlopen(r, timeout=timeout) as resp:
        text = resp.read()
        return json.loads(text) if text else None


def free_port():
    s = socket.socket(); s.bind(('127.0.0.1', 0)); p = s.getsockname()[1]; s.close(); return p


def log_time(line):
    return datetime.fromisoformat(line.split(' ', 1)[0]).timestamp()


def wait_for(path, pattern, timeout):
    deadline = time.time() + timeout
    rx = re.compile(pattern)
    while time.time() < deadline:
        for line in open(path, errors='replace'):
            if rx.search(line):
                return line
        time.sleep(0.2)
    raise SystemExit(f'timeout waiting for {pattern!r} in {path}')


def serve(data, port, log_path):
    return subprocess.Popen([binary, 'serve', '--port', str(port), '--data-dir', data, '--label-studio', LS,
                             '--train-every', '0', '--log-level', 'info'],
                            env=dict(os.environ, LOOPDECK_TOKEN=TOKEN), stdout=subprocess.DEVNULL,
                            stderr=open(log_path, 'w'))


rows = []
for n in sizes:
    project = call('POST', LS + '/api/projects/', {'title': f'sync bench {n}', 'label_config': CONFIG})['id']
    t0 = time.time()
    for start in range(0, n, 5000):
        batch = [{'data': {'text': f'task {i} was {"good" if i % 2 else "bad"} overall'},
                  'annotations': [{'result': [{'from_name': 'sentiment', 'to_name': 'text', 'type': 'choices',
                                               'value': {'choices': ['Positive' if i % 2 else 'Negative']}}]}]}
                 for i in range(start, min(n, start + 5000))]
        call('POST', LS + f'/api/projects/{project}/import', batch)
    imported = time.time() - t0
    data = tempfile.mkdtemp(prefix='loopdeck-sync-bench-')
    port = free_port()
    log1 = os.path.join(data, 'serve1.log')
    p = serve(data, port, log1)
    time.sleep(1.5)
    call('POST', LS + '/api/ml', {'url': f'http://127.0.0.1:{port}', 'project': project, 'title': 'LoopDeck'})
    added = wait_for(log1, rf'project={project} event=added', 60)
    done = wait_for(log1, rf'project={project} event=reconciled mode=full', 3600)
    first = log_time(done) - log_time(added)
    changed = int(re.search(r'changed=(\d+)', done).group(1))
    p.terminate(); p.wait()
    log2 = os.path.join(data, 'serve2.log')
    p = serve(data, port, log2)
    done2 = wait_for(log2, rf'project={project} event=reconciled mode=full', 3600)
    listening = wait_for(log2, r'listening on', 60)
    again = log_time(done2) - log_time(listening)
    changed2 = int(re.search(r'changed=(\d+)', done2).group(1))
    p.terminate(); p.wait()
    rows.append((n, imported, first, changed, again, changed2))
    print(f'{n} tasks: import {imported:.1f} s; first full sync {first:.1f} s ({changed} annotations stored); '
          f'full sync at restart {again:.1f} s ({changed2} changed)', flush=True)

print('\n| tasks (each annotated) | first full sync | annotations stored | full sync after restart | changed |')
print('|---|---|---|---|---|')
for n, imported, first, changed, again, changed2 in rows:
    print(f'| {n:,} | {first:.1f} s | {changed:,} | {again:.1f} s | {changed2} |')
