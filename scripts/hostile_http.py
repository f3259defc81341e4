#!/usr/bin/python3
"""Hostile-client probes of `trinity serve` (issue "A server that holds against hostile traffic").

Started by scripts/hostile_http.sh, which owns the server processes. Each probe speaks raw HTTP/1.1
over loopback sockets (Python's standard library only), asserts correctness (status codes, one
response per request, order, nothing lost, the server still answering) and prints its figures.
Exit status 1 when any probe fails.

  hostile_http.py --url http://127.0.0.1:PORT --pid PID --key KEY --bin TRINITY
"""
import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import zlib
import gzip

FAILURES = []


def check(cond, what):
    print(("  ok   " if cond else "  FAIL ") + what, flush=True)
    if not cond:
        FAILURES.append(what)
    return cond


class Conn:
    """One raw connection; reads responses one at a time (Content-Length or chunked)."""

    def __init__(self, host, port, timeout=5.0):
        self.s = socket.create_connection((host, port), timeout=timeout)
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def send(self, data):
        self.s.sendall(data)

    def _fill(self):
        chunk = self.s.recv(65536)
        if not chunk:
            raise EOFError("connection closed")
        self.buf += chunk

    def _line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _take(self, n):
        while len(self.buf) < n:
            self._fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def response(self):
        """(status, headers{lower: value}, body) of the next response; skips 1xx."""
        while True:
            status_line = self._line()
            parts = status_line.split(b" ", 2)
            status = int(parts[1])
            headers = {}
            while True:
                line = self._line()
                if not line:
                    break
                k, v = line.split(b":", 1)
                headers[k.decode().strip().lower()] = v.decode().strip()
            if 100 <= status < 200:
                continue
            if headers.get("transfer-encoding", "").lower() == "chunked":
                body = b""
                while True:
                    size = int(self._line().split(b";")[0], 16)
                    if size == 0:
                        self._line()
                        break
                    body += self._take(size)
                    self._take(2)
            else:
                body = self._take(int(headers.get("content-length", "0")))
            return status, headers, body

    def no_more_responses(self, wait=1.0):
        """True when nothing more arrives within `wait` (or the server closed)."""
        self.s.settimeout(wait)
        try:
            if self.buf:
                return False
            self._fill()
            return False
        except (socket.timeout, EOFError, ConnectionResetError):
            return True

    def close(self):
        self.s.close()


def req(method, path, body=b"", headers=None, key=None, host="x"):
    h = f"{method} {path} HTTP/1.1\r\nHost: {host}\r\n"
    if key:
        h += f"Authorization: Bearer {key}\r\n"
    for k, v in (headers or {}).items():
        h += f"{k}: {v}\r\n"
    if body and "Transfer-Encoding" not in (headers or {}):
        h += f"Content-Length: {len(body)}\r\n"
    return h.encode() + b"\r\n" + body


def chat_body(prompt="hello", **extra):
    d = {"model": "trinity", "messages": [{"role": "user", "content": prompt}]}
    d.update(extra)
    return json.dumps(d).encode()


def rss_kb(pid, field="VmHWM"):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def metric(text, name, labels):
    for line in text.splitlines():
        if line.startswith(name + "{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


class Probe:
    def __init__(self, a):
        self.a = a
        hostport = a.url.split("//", 1)[1]
        self.host, port = hostport.rsplit(":", 1)
        self.port = int(port)
        self.key = a.key

    def conn(self, timeout=5.0):
        return Conn(self.host, self.port, timeout)

    def one(self, data, timeout=5.0):
        c = self.conn(timeout)
        try:
            c.send(data)
            return c.response()
        finally:
            c.close()

    def healthy(self):
        status, _, _ = self.one(req("GET", "/healthz"))
        return status == 200

    # 1. Smuggling / desync.
    def smuggling(self):
        print("smuggling: rejected bodies are never parsed as requests")
        smuggled = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
        c = self.conn()
        c.send(req("POST", "/v1/chat/completions", smuggled, key="wrong-key"))
        status, _, _ = c.response()
        check(status == 401, f"unauthorised POST carrying a request as its body: {status}")
        check(c.no_more_responses(), "...and no second response")
        c.close()

        c = self.conn()
        c.send(req("POST", "/v1/chat/completions", b"x" * 20000, key="wrong-key"))
        c.send(req("GET", "/v1/models", key=self.key))
        s1, _, _ = c.response()
        s2, _, _ = c.response()
        check((s1, s2) == (401, 200), f"20 KB unauthorised POST, then GET /v1/models: {s1}, {s2}")
        c.close()

        c = self.conn()
        c.send(req("GET", "/healthz", smuggled))
        c.send(req("GET", "/v1/models", key=self.key))
        s1, _, _ = c.response()
        s2, _, b2 = c.response()
        ok = (s1, s2) == (200, 200) and b'"object":"list"' in b2
        check(ok, f"GET with a request as its body, then GET /v1/models: {s1}, {s2}")
        check(c.no_more_responses(0.5), "...and no third response")
        c.close()

        c = self.conn()
        chunked = hex(len(smuggled))[2:].encode() + b"\r\n" + smuggled + b"\r\n0\r\n\r\n"
        c.send(req("POST", "/v1/route", chunked, {"Transfer-Encoding": "chunked"}, key="bad"))
        c.send(req("GET", "/v1/models", key=self.key))
        s1, _, _ = c.response()
        s2, _, _ = c.response()
        check((s1, s2) == (401, 200), f"chunked unauthorised body, then GET /v1/models: {s1}, {s2}")
        c.close()

        for name, extra in [("Content-Length + Transfer-Encoding",
                             {"Transfer-Encoding": "chunked", "Content-Length": "5"}),
                            ("two Content-Lengths", {"Content-Length": "5, 6"}),
                            ("Transfer-Encoding: gzip, chunked",
                             {"Transfer-Encoding": "gzip, chunked"})]:
            c = self.conn()
            head = f"POST /v1/route HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {self.key}\r\n"
            head += "".join(f"{k}: {v}\r\n" for k, v in extra.items())
            c.send(head.encode() + b"\r\n0\r\n\r\n" + req("GET", "/healthz"))
            s1, h1, _ = c.response()
            check(s1 in (400, 501) and h1.get("connection") == "close",
                  f"{name}: {s1}, connection {h1.get('connection')}")
            check(c.no_more_responses(0.5), "...and the connection ends there")
            c.close()

        # Mixed keep-alive load: hostile and valid requests interleaved on 64 connections.
        bad = []
        lock = threading.Lock()

        def worker(i):
            try:
                c = self.conn(10)
                for j in range(8):
                    c.send(req("POST", "/v1/chat/completions", b"x" * (3000 + 97 * i) + smuggled,
                               key="nope"))
                    c.send(req("GET", "/v1/models", key=self.key))
                    s1, _, _ = c.response()
                    s2, _, _ = c.response()
                    if (s1, s2) != (401, 200):
                        with lock:
                            bad.append((i, j, s1, s2))
                c.close()
            except Exception as e:  # noqa: BLE001
                with lock:
                    bad.append((i, repr(e)))

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(64)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        check(not bad, f"64 keep-alive connections x 8 (401, 200) pairs: {len(bad)} wrong "
                       f"{bad[:3]}")

    # 2. Body limits in every framing.
    def body_limits(self):
        print("body limits: decoded size in every framing")
        big = b"a" * (1 << 20)
        chunked = b""
        for _ in range(3):
            chunked += hex(len(big))[2:].encode() + b"\r\n" + big + b"\r\n"
        chunked += b"0\r\n\r\n"
        status, _, _ = self.send_large(req("POST", "/v1/chat/completions", chunked,
                                           {"Transfer-Encoding": "chunked"}, key=self.key))
        check(status == 413, f"3 MiB chunked body: {status}")
        small = chat_body("hi")
        chunked_ok = hex(len(small))[2:].encode() + b"\r\n" + small + b"\r\n0\r\n\r\n"
        status, _, _ = self.one(req("POST", "/v1/route", chunked_ok,
                                    {"Transfer-Encoding": "chunked"}, key=self.key))
        check(status == 200, f"small chunked body: {status}")
        payload = b'{"model":"trinity","messages":[{"role":"user","content":"' + b"a" * (
            200 << 20) + b'"}]}'
        for name, data in [("gzip", gzip.compress(payload, 9)), ("deflate",
                                                                  zlib.compress(payload, 9))]:
            status, h, _ = self.send_large(req("POST", "/v1/chat/completions", data,
                                               {"Content-Encoding": name}, key=self.key))
            check(status == 415, f"{name} body ({len(data) // 1024} KB on the wire, 200 MiB "
                                 f"inflated): {status}, Accept-Encoding {h.get('accept-encoding')}")
        status, _, _ = self.send_large(req("POST", "/v1/chat/completions", b"a" * (2 << 20),
                                           key=self.key))
        check(status == 413, f"2 MiB Content-Length body: {status}")
        check(self.healthy(), "server still answers")

    def send_large(self, data, timeout=20):
        """Sends while reading: the server may answer (and close) before the upload ends."""
        c = self.conn(timeout)
        result = {}

        def reader():
            try:
                result["r"] = c.response()
            except Exception as e:  # noqa: BLE001
                result["e"] = e

        t = threading.Thread(target=reader)
        t.start()
        try:
            c.send(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
        t.join(timeout)
        c.close()
        return result.get("r", (0, {}, b""))

    # 3. Memory amplification before admission.
    def amplification(self, pid, max_body, max_values, concurrency, bound_mb):
        print(f"memory: {concurrency} concurrent maximum-size pathological bodies")
        n_over = (max_body - 2) // 3
        over = b"[" + b",".join([b"{}"] * n_over) + b"]"  # ~350k values: refused before the DOM
        n_under = max_values - 1
        under = b"[" + b",".join([b"{}"] * n_under) + b"]"  # just within: a DOM gets built
        under += b" " * (max_body - len(under))
        content = b"a" * (max_body - 200)  # one valid request of maximum size: a run
        valid = chat_body("") .replace(b'"content": ""', b'"content": "' + content + b'"')
        for name, body, allowed in [("{},{},... over max-json-values", over, {400, 429}),
                                    ("{},{},... within max-json-values", under, {400, 429}),
                                    ("a valid request of maximum size", valid, {200, 422, 429})]:
            assert len(body) <= max_body, (name, len(body))
            statuses = []
            lock = threading.Lock()

            def post():
                try:
                    s, _, _ = self.send_large(req("POST", "/v1/chat/completions", body,
                                                  key=self.key), timeout=180)
                except Exception:  # noqa: BLE001
                    s = 0
                with lock:
                    statuses.append(s)

            threads = [threading.Thread(target=post) for _ in range(concurrency)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            peak = rss_kb(pid, "VmHWM")
            counts = {s: statuses.count(s) for s in sorted(set(statuses))}
            check(set(statuses) <= allowed, f"{len(body)} B, {name}: statuses {counts}")
            check(os.environ.get("HOSTILE_HTTP_SKIP_RSS", "0") == "1" or peak / 1024 <= bound_mb,
                  f"...peak RSS so far {peak / 1024:.0f} MB <= documented bound {bound_mb:.0f} MB")
        check(self.healthy(), "server still answers")

    # 4. Slowloris.
    def slowloris(self, n=100, seconds=6):
        print(f"slowloris: {n} connections trickling header bytes at 1 byte/s")
        conns = []
        for _ in range(n):
            c = self.conn(30)
            c.send(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            conns.append(c)
        latencies, failures = [], 0
        t_end = time.time() + seconds
        while time.time() < t_end:
            for c in conns:
                try:
                    c.send(b"X")
                except OSError:
                    pass
            t0 = time.time()
            try:
                c = self.conn(1.0)
                c.send(req("GET", "/healthz"))
                status, _, _ = c.response()
                c.close()
                if status != 200:
                    failures += 1
            except Exception:  # noqa: BLE001
                failures += 1
            latencies.append((time.time() - t0) * 1000)
            time.sleep(max(0.0, 1.0 - (time.time() - t0)))
        check(failures == 0, f"/healthz answered within 1 s every second ({len(latencies)} probes, "
                             f"median {statistics.median(latencies):.1f} ms, "
                             f"max {max(latencies):.1f} ms)")
        return conns

    def slowloris_deadline(self, conns, head_timeout_s):
        # The head deadline runs from the first byte: the trickles get 408 and are closed.
        time.sleep(max(0.0, head_timeout_s + 1.5 - 6))
        got = 0
        for c in conns:
            try:
                c.s.settimeout(3)
                status, h, _ = c.response()
                got += status == 408 and h.get("connection") == "close"
            except Exception:  # noqa: BLE001
                pass
            c.close()
        check(got == len(conns), f"every trickling connection got 408 at the head deadline "
                                 f"({got}/{len(conns)})")

    # 6. Header limits.
    def headers(self):
        print("headers: total and per-line caps")
        line = b"X-Filler: " + b"a" * 8000 + b"\r\n"
        data = b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + line * (50 * 1024 * 1024 // len(line))
        t0 = time.time()
        status, h, _ = self.send_large(data + b"\r\n")
        check(status == 431, f"50 MB of 8 KB header lines: {status} in "
                             f"{(time.time() - t0) * 1000:.0f} ms")
        status, _, _ = self.one(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20000 +
                                b"\r\n\r\n")
        check(status == 431, f"one 20 KB header line: {status}")
        status, _, _ = self.one(b"GET /" + b"a" * 20000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
        check(status == 414, f"20 KB request target: {status}")
        check(self.healthy(), "server still answers")

    # 7. Pipelining.
    def pipelining(self):
        print("pipelining: answered in order")
        c = self.conn()
        c.send(req("GET", "/healthz") + req("GET", "/healthz"))
        t0 = time.time()
        s1, _, _ = c.response()
        s2, _, _ = c.response()
        check((s1, s2) == (200, 200) and time.time() - t0 < 2.0,
              f"two GET /healthz in one packet: {s1}, {s2} in {(time.time() - t0) * 1000:.1f} ms")
        c.close()
        c = self.conn()
        route = json.dumps([{"role": "user", "content": "pipelined"}]).encode()
        c.send(req("GET", "/v1/models", key=self.key) + req("POST", "/v1/route", route,
                                                            key=self.key) +
               req("GET", "/metrics") + req("GET", "/nothing") + req("GET", "/healthz"))
        got = []
        for _ in range(5):
            s, h, b = c.response()
            got.append(s)
        check(got == [200, 200, 200, 404, 200], f"models, route, metrics, 404, healthz: {got}")
        c.close()

    # 8. Keep-alive latency.
    def keepalive(self, n=40):
        print("keep-alive: reused connections as fast as fresh ones")
        for path, key in [("/v1/models", self.key), ("/healthz", None)]:
            fresh, reused = [], []
            for _ in range(n):
                t0 = time.perf_counter()
                self.one(req("GET", path, key=key))
                fresh.append((time.perf_counter() - t0) * 1000)
            c = self.conn()
            for _ in range(n):
                t0 = time.perf_counter()
                c.send(req("GET", path, key=key))
                c.response()
                reused.append((time.perf_counter() - t0) * 1000)
            c.close()
            mf, mr = statistics.median(fresh), statistics.median(reused)
            check(mr <= mf + 2.0, f"{path}: median {mr:.2f} ms on one keep-alive connection, "
                                  f"{mf:.2f} ms on fresh connections")
        for body_len in (100, 5000):
            c = self.conn()
            route = json.dumps([{"role": "user", "content": "k" * body_len}]).encode()
            times = []
            for _ in range(10):
                t0 = time.perf_counter()
                c.send(req("POST", "/v1/route", route, key=self.key))
                c.response()
                times.append((time.perf_counter() - t0) * 1000)
            c.close()
            print(f"  figure: POST /v1/route ({body_len} B) on one connection: median "
                  f"{statistics.median(times):.2f} ms")

    # 9. Metrics for early rejects.
    def metrics(self):
        print("metrics: early rejects are counted with their real durations")
        before = self.one(req("GET", "/metrics"))[2].decode()
        n = 20
        for _ in range(n):
            self.one(req("POST", "/v1/chat/completions", b"{}", key="wrong"))
            self.one(req("GET", "/nothing-here"))
        after = self.one(req("GET", "/metrics"))[2].decode()
        d401 = metric(after, "trinity_http_requests_total",
                      {"endpoint": "chat_completions", "status": "401"}) - metric(
            before, "trinity_http_requests_total", {"endpoint": "chat_completions",
                                                    "status": "401"})
        d404 = metric(after, "trinity_http_requests_total", {"endpoint": "other",
                                                             "status": "404"}) - metric(
            before, "trinity_http_requests_total", {"endpoint": "other", "status": "404"})
        dsum = metric(after, "trinity_http_request_duration_seconds_sum", {"endpoint": "other"}) - \
            metric(before, "trinity_http_request_duration_seconds_sum", {"endpoint": "other"})
        check(d401 == n and d404 == n, f"{n} 401s and {n} 404s counted: {d401:.0f}, {d404:.0f}")
        check(0 <= dsum < n * 0.5, f"their durations sum to {dsum * 1000:.1f} ms")
        check("trinity_provider_errors_total" not in after or
              metric(after, "trinity_provider_errors_total", {}) == 0,
              "no provider errors from client behaviour")

    # 10/11. Status codes, auth parsing, leaks.
    def semantics(self):
        print("status codes, auth parsing, information leaks")
        for m in ("PUT", "DELETE", "GET"):
            s, h, _ = self.one(req(m, "/v1/chat/completions", key=self.key))
            check(s == 405 and h.get("allow") == "POST", f"{m} /v1/chat/completions: {s}, Allow "
                                                         f"{h.get('allow')}")
        s, h, _ = self.one(req("POST", "/healthz"))
        check(s == 405 and "GET" in h.get("allow", ""), f"POST /healthz: {s}, Allow {h.get('allow')}")
        for auth in (f"bearer {self.key}", f"BEARER    {self.key}", f"Bearer\t{self.key}  "):
            s, _, _ = self.one(req("GET", "/v1/models", headers={"Authorization": auth}))
            check(s == 200, f"Authorization {auth.split()[0]!r} + spacing: {s}")
        s, _, _ = self.one(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n")
        check(s == 400, f"NUL in a header value: {s}")
        body = b'{"model":"trinity","messages":[{"role":"user","content":"a\x00b"}]}'
        s, _, b = self.one(req("POST", "/v1/chat/completions", body, key=self.key))
        check(s == 400, f"NUL inside a JSON string: {s}")
        s, _, b = self.one(req("POST", "/v1/chat/completions", b'{"model": tru', key=self.key))
        check(s == 400 and b"json.exception" not in b, f"invalid JSON: {s}, {b[:120]!r}")
        s, _, b = self.one(req("GET", "/healthz"))
        check(b"pool" not in b and b"/" not in b, f"/healthz tells no paths: {b!r}")
        s, _, _ = self.one(b"GET /healthz HTTP/2.0\r\nHost: x\r\n\r\n")
        check(s == 505, f"HTTP/2.0 request line: {s}")
        s, _, _ = self.one(b"GET /healthz HTTP/1.1\r\nHost: x\r\n Folded: y\r\n\r\n")
        check(s == 400, f"obs-fold: {s}")
        s, _, _ = self.one(b"GET /healthz HTTP/1.1\r\nHost : x\r\n\r\n")
        check(s == 400, f"space before the colon: {s}")
        c = self.conn()
        c.send(req("POST", "/v1/route", json.dumps([{"role": "user", "content": "e"}]).encode(),
                   {"Expect": "100-continue"}, key=self.key))
        s, _, _ = c.response()
        check(s == 200, f"Expect: 100-continue: {s}")
        c.close()


def sigterm_probe(a, port_file_dir):
    """A second server: exits within drain timeout + 2 s with a trickling client; refuses
    connections beyond --max-connections with 503 at once."""
    print("shutdown: SIGTERM with a trickling client; the connection cap")
    drain_ms = 2000
    log = open(os.path.join(port_file_dir, "serve2.log"), "w+")
    p = subprocess.Popen([a.bin, "serve", "--pool", "mock", "--profile", "mock_tiny", "--port",
                          "0", "--quiet", "--drain-timeout-ms", str(drain_ms),
                          "--max-connections", "20"], stdout=subprocess.PIPE, stderr=log,
                         text=True)
    line = p.stdout.readline()
    port = int(line.split("http://")[1].split()[0].rsplit(":", 1)[1])
    conns = [Conn("127.0.0.1", port, 5) for _ in range(20)]
    time.sleep(0.3)
    extra = Conn("127.0.0.1", port, 2)
    t0 = time.time()
    try:
        s, h, _ = extra.response()
    except Exception:  # noqa: BLE001
        s, h = 0, {}
    check(s == 503 and time.time() - t0 < 1.0,
          f"connection 21 of --max-connections 20: {s} after {(time.time() - t0) * 1000:.0f} ms")
    extra.close()
    for c in conns[1:]:
        c.close()
    trickle = conns[0]
    trickle.send(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
    time.sleep(0.2)
    t0 = time.time()
    p.send_signal(signal.SIGTERM)
    stop = threading.Event()

    def keep_trickling():
        while not stop.is_set():
            try:
                trickle.send(b"Y")
            except OSError:
                return
            time.sleep(0.5)

    t = threading.Thread(target=keep_trickling)
    t.start()
    try:
        p.wait(timeout=drain_ms / 1000 + 10)
    except subprocess.TimeoutExpired:
        p.kill()
    elapsed = time.time() - t0
    stop.set()
    t.join()
    trickle.close()
    check(elapsed <= drain_ms / 1000 + 2, f"exited {elapsed:.2f} s after SIGTERM (drain "
                                          f"{drain_ms / 1000:.0f} s) with a trickling client")


def upstream_leak_probe(a, workdir):
    """A pool whose provider is down: the client learns that, not the upstream's address."""
    print("information leaks: a provider that is down")
    dead = socket.socket()
    dead.bind(("127.0.0.1", 0))
    dead_port = dead.getsockname()[1]
    dead.close()  # nothing listens there now
    pool = os.path.join(workdir, "dead_pool.json")
    with open(pool, "w") as f:
        json.dump({"name": "dead", "defaults": {"provider": "openai",
                                                "base_url": f"http://127.0.0.1:{dead_port}/v1",
                                                "model": "m", "timeout_ms": 2000,
                                                "max_retries": 0},
                   "slots": [{}] * 7}, f)
    log = open(os.path.join(workdir, "serve3.log"), "w+")
    p = subprocess.Popen([a.bin, "serve", "--pool", pool, "--allow-live", "--profile",
                          "mock_tiny", "--port", "0"], stdout=subprocess.PIPE, stderr=log,
                         text=True)
    try:
        line = p.stdout.readline()
        port = int(line.split("http://")[1].split()[0].rsplit(":", 1)[1])
        c = Conn("127.0.0.1", port, 30)
        c.send(req("POST", "/v1/chat/completions", chat_body("hello")))
        s, _, b = c.response()
        c.close()
        leaked = [w for w in (b"127.0.0.1", str(dead_port).encode(), b"Failed to connect",
                              b"curl") if w in b]
        check(s >= 500 and not leaked, f"provider down: {s}, {b[:160]!r}, leaked {leaked}")
        log.seek(0)
        logged = log.read()
        check(str(dead_port) in logged or "connect" in logged.lower(),
              "...the details are in the server log")
    finally:
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=10)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--pid", type=int, required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--bin", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--max-body", type=int, default=1 << 20)
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--max-json-values", type=int, default=50000)
    ap.add_argument("--rss-bound-mb", type=float, required=True)
    ap.add_argument("--head-timeout-s", type=float, default=10)
    a = ap.parse_args()
    p = Probe(a)
    p.smuggling()
    p.body_limits()
    p.amplification(a.pid, a.max_body, a.max_json_values, a.concurrency, a.rss_bound_mb)
    trickles = p.slowloris()
    p.headers()
    p.pipelining()
    p.keepalive()
    p.metrics()
    p.semantics()
    p.slowloris_deadline(trickles, a.head_timeout_s)
    sigterm_probe(a, a.workdir)
    upstream_leak_probe(a, a.workdir)
    if FAILURES:
        print(f"hostile_http: {len(FAILURES)} probe(s) FAILED")
        for f in FAILURES:
            print("  - " + f)
        sys.exit(1)
    print("hostile_http: all probes passed")


if __name__ == "__main__":
    main()
