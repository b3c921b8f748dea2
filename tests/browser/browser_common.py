"""What the browser tests share: a free loopback port, waiting for a URL, finding Chromium.
Standard library only."""
import shutil
import socket
import sys
import time
import urllib.request


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                return r.status
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"FAIL: {url} did not answer within {timeout} s")


def chromium_from_argv():
    """argv[2] when given, else chromium (or chromium-browser) from PATH."""
    return sys.argv[2] if len(sys.argv) > 2 else (shutil.which("chromium") or shutil.which("chromium-browser") or "chromium")
