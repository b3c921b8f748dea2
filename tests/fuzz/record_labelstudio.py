#!/usr/bin/env python3
"""Records the raw HTTP requests a real Label Studio sends to an ML backend, as fuzz seeds.

    record_labelstudio.py LS_ENV_FILE BACKEND_PORT OUT_DIR

A byte-for-byte TCP relay on a free loopback port in front of a running LoopDeck backend
(BACKEND_PORT); every client->server stream is saved as OUT_DIR/ls-<n>.http. With the
fixture Label Studio from LS_ENV_FILE it creates a project, registers the relay as the ML
backend (Label Studio then calls /health and /setup and creates the project webhook), imports
tasks, asks for predictions (/predict) and posts an annotation (webhook ANNOTATION_CREATED).
Standard library only.
"""
import json
import os
import socket
import sys
import threading
import time
import urllib.request


def read_env(path):
    values = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            key, _, value = line.rstrip("\n").partition("=")
            values[key] = value
    return values


class Relay:
    def __init__(self, backend_port, out_dir):
        self.backend_port = backend_port
        self.out_dir = out_dir
        self.count = 0
        self.lock = threading.Lock()
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            client, _ = self.sock.accept()
            threading.Thread(target=self.serve, args=(client,), daemon=True).start()

    def serve(self, client):
        upstream = socket.create_connection(("127.0.0.1", self.backend_port))
        recorded = bytearray()

        def back():
            try:
                while True:
                    data = upstream.recv(65536)
                    if not data:
                        break
                    client.sendall(data)
            except OSError:
                pass
            finally:
                try:
                    client.shutdown(socket.SHUT_WR)
                except OSError:
                    pass

        threading.Thread(target=back, daemon=True).start()
        try:
            while True:
                data = client.recv(65536)
                if not data:
                    break
                recorded += data
                upstream.sendall(data)
        except OSError:
            pass
        finally:
            upstream.close()
            if recorded:
                with self.lock:
                    self.count += 1
                    n = self.count
                # The fixture's throwaway token is replaced (same length, so Content-Length holds).
                token = os.environ.get("RECORD_SCRUB", "").encode()
                if token:
                    recorded = recorded.replace(token, b"0" * len(token))
                with open(os.path.join(self.out_dir, f"ls-{n:02d}.http"), "wb") as f:
                    f.write(bytes(recorded))


def api(env, method, path, body=None):
    req = urllib.request.Request(env["URL"] + path, method=method,
                                 data=None if body is None else json.dumps(body).encode(),
                                 headers={"Authorization": "Token " + env["TOKEN"], "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        text = r.read()
        return json.loads(text) if text else None


def main():
    env = read_env(sys.argv[1])
    relay = Relay(int(sys.argv[2]), sys.argv[3])
    config = ('<View><Text name="text" value="$text"/><Choices name="sentiment" toName="text" choice="single">'
              '<Choice value="Positive"/><Choice value="Negative"/></Choices></View>')
    project = api(env, "POST", "/api/projects/", {"title": "fuzz seeds", "label_config": config})
    api(env, "POST", f"/api/projects/{project['id']}/import",
        [{"text": "great service, thank you"}, {"text": "awful, never again"}, {"text": "ok \u00e9\u4e2d"}])
    ml = {"url": f"http://127.0.0.1:{relay.port}", "project": project["id"], "title": "relay"}
    if os.environ.get("RECORD_BASIC_AUTH"):  # user:password; to see which calls carry it
        user, _, password = os.environ["RECORD_BASIC_AUTH"].partition(":")
        ml.update(auth_method="BASIC_AUTH", basic_auth_user=user, basic_auth_pass=password)
    api(env, "POST", "/api/ml/", ml)
    tasks = api(env, "GET", f"/api/tasks/?project={project['id']}")["tasks"]
    ids = [t["id"] for t in tasks]
    api(env, "POST", f"/api/dm/actions/?id=retrieve_tasks_predictions&project={project['id']}",
        {"selectedItems": {"all": False, "included": ids}})
    api(env, "POST", f"/api/tasks/{ids[0]}/annotations/",
        {"result": [{"from_name": "sentiment", "to_name": "text", "type": "choices",
                     "value": {"choices": ["Positive"]}}]})
    time.sleep(3)
    print(f"recorded {relay.count} connections in {sys.argv[3]}")


if __name__ == "__main__":
    main()
