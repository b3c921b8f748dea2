#!/usr/bin/env python3
"""What idle remote windows cost a `loopdeck serve`: N event streams held open for S seconds.

    tests/bench/idle_windows.py [--binary build/release/app/loopdeck] [--windows 0,1,20,60] [--seconds 120]

For each N: a fresh serve (own data folder, loop on, no project), N clients that do what an idle
RemoteLoopClient does (GET /loop/events with the operator token, read the hello and the heartbeats),
nothing else for S seconds. Measures the server's CPU time over the idle period (utime+stime from
/proc), its RSS, the bytes each stream received and the requests the server logged. Prints a
Markdown table for docs/benchmarks.md.
"""
import argparse
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import loop_common as lc  # noqa: E402


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def stream(port, token, stop, received, index):
    s = socket.create_connection(("127.0.0.1", port), timeout=60)
    s.sendall(b"GET /loop/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n"
              b"Authorization: Bearer " + token.encode() + b"\r\n\r\n")
    s.settimeout(1.0)
    while not stop.is_set():
        try:
            data = s.recv(65536)
        except socket.timeout:
            continue
        if not data:
            break
        received[index] += len(data)
    s.close()


def measure(binary, windows, seconds):
    with tempfile.TemporaryDirectory(prefix="loopdeck-idle-") as data:
        server = lc.Loopdeck(binary, data, extra=["--log-level", "info"])
        try:
            token = server.http.token
            stop = threading.Event()
            received = [0] * windows
            threads = [threading.Thread(target=stream, args=(server.port, token, stop, received, i), daemon=True)
                       for i in range(windows)]
            for t in threads:
                t.start()
            time.sleep(2)  # every stream open and past its hello
            hello_bytes = sum(received)
            log_before = os.path.getsize(server.log_path)
            cpu0, t0 = cpu_seconds(server.proc.pid), time.time()
            time.sleep(seconds)
            cpu1, t1 = cpu_seconds(server.proc.pid), time.time()
            rss = rss_mb(server.proc.pid)
            with open(server.log_path, encoding="utf-8", errors="replace") as f:
                f.seek(log_before)
                requests = sum(1 for line in f if " GET " in line or " POST " in line)
            stop.set()
            for t in threads:
                t.join(5)
            per_stream = (sum(received) - hello_bytes) / windows if windows else 0
            return {"windows": windows, "seconds": t1 - t0, "cpu_ms": (cpu1 - cpu0) * 1000, "rss": rss,
                    "bytes_per_stream": per_stream, "requests": requests}
        finally:
            server.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=os.path.join(HERE, "..", "..", "build", "release", "app", "loopdeck"))
    ap.add_argument("--windows", default="0,1,20,60")
    ap.add_argument("--seconds", type=float, default=120)
    args = ap.parse_args()
    rows = [measure(args.binary, int(n), args.seconds) for n in args.windows.split(",")]
    baseline = next((r for r in rows if r["windows"] == 0), None)
    print(f"Machine: {lc.machine()}. `{os.path.relpath(args.binary)}`, {time.strftime('%Y-%m-%d')}.")
    print()
    print("| idle windows | idle period | server CPU | CPU per window per hour (above 0 windows) | RSS | bytes per window | requests |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        # Per window: above the no-window baseline (the loop's own timers), when it was measured.
        extra = r["cpu_ms"] - (baseline["cpu_ms"] * r["seconds"] / baseline["seconds"] if baseline else 0)
        per_hour = ("(baseline)" if not r["windows"]
                    else "below the noise" if extra <= 0 else f"{extra / r['windows'] * 3600 / r['seconds']:.0f} ms")
        print(f"| {r['windows']} | {r['seconds']:.0f} s | {r['cpu_ms']:.0f} ms | {per_hour} | {r['rss']:.1f} MB | "
              f"{r['bytes_per_stream']:.0f} | {r['requests']} |")


if __name__ == "__main__":
    main()
