"""GET /api/users?limit=50 at the first page and at a deep page (`after=`
near the end), over many users, and the same for the HTML page at / (20
users a page): latency must not grow with the depth; and
requests per second served by gunicorn (2 workers) against `runserver`.

The requests are an account's, as the app takes no others: an admin made
with manage.py's create_user (after the load, so the users keep ids 1..N),
whose API token (create_token) goes with each API request, and whose
session, signed in through the sign-in form, with each page request."""
import http.client
import re
import socket
import subprocess
import tempfile
import threading
import time
from urllib.parse import urlencode

from bench.measure import BIN, environment, execute_sql, manage, median, project_copy, run

PAGE = 50
TARGET_FLATNESS = 1.5  # the deep page at most this much slower than the first
# Users 1..N at head, made by SQLite itself.
LOAD = ("WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < {n}) "
        "INSERT INTO users (id, name, email) SELECT n, 'user ' || n, 'user' || n || "
        "'@example.com' FROM seq")
# The account the requests are made as (an admin sees the page whole: the
# add form, and Edit and Delete on each row).
EMAIL = "bench@example.com"
PASSWORD = "bench password"


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def get(port, path, headers=None):
    """Status of one GET on a new connection, as most clients do it."""
    return request(port, "GET", path, headers=headers)[0]


def request(port, method, path, body=None, headers=None):
    """(status, headers, body text) of one request on a new connection."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.headers, response.read().decode()
    finally:
        connection.close()


def make_account(root, env):
    """The admin EMAIL, made with manage.py as an operator makes one (the
    password on stdin); return an API token of theirs."""
    made = subprocess.run(manage(root, "create_user", "--email", EMAIL, "--name", "Bench",
                                 "--role", "admin"), cwd=str(root), env=env,
                          input=PASSWORD + "\n", capture_output=True, text=True)
    if made.returncode != 0:
        raise RuntimeError("create_user exited {}: {}".format(made.returncode, made.stderr))
    return run(manage(root, "create_token", "--email", EMAIL), root, env).stdout.strip()


def sign_in(port):
    """Sign EMAIL in through the sign-in form; return the Cookie header of
    the signed-in session."""
    status, headers, html = request(port, "GET", "/sign-in")
    cookie = headers["Set-Cookie"].split(";")[0]
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
    status, headers, _ = request(
        port, "POST", "/sign-in",
        body=urlencode({"csrf_token": token, "email": EMAIL, "password": PASSWORD}),
        headers={"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"})
    if status != 302 or "Set-Cookie" not in headers:
        raise RuntimeError("signing in answered {}".format(status))
    return headers["Set-Cookie"].split(";")[0]


class Server:
    """The app served by `args` on a free port, for the length of a block."""

    def __init__(self, root, env, args):
        import subprocess

        self.port = free_port()
        self.process = subprocess.Popen(
            [arg.format(port=self.port) for arg in args], cwd=str(root), env=env,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def __enter__(self):
        deadline = time.monotonic() + 30
        while True:
            try:
                if get(self.port, "/healthz") == 200:
                    return self
            except OSError:
                if time.monotonic() > deadline:
                    raise
            time.sleep(0.1)

    def __exit__(self, *exc):
        self.process.terminate()
        self.process.wait(timeout=30)


def gunicorn(root, env):
    return Server(root, env, [str(BIN / "gunicorn"), "--workers", "2", "--bind",
                              "127.0.0.1:{port}", "app:create_app()"])


def runserver(root, env):
    return Server(root, env, [str(BIN / "python"), "manage.py", "runserver", "-p", "{port}"])


def latency(port, path, requests, headers):
    """Median and 95th percentile milliseconds of sequential GETs."""
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        assert get(port, path, headers) == 200
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return {"median_ms": median(times), "p95_ms": times[int(len(times) * 0.95) - 1]}


def throughput(port, path, seconds, headers, clients=8):
    """Requests per second answered 200 by `clients` threads for `seconds`."""
    done = []
    stop = time.monotonic() + seconds

    def client():
        count = 0
        while time.monotonic() < stop:
            if get(port, path, headers) == 200:
                count += 1
        done.append(count)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(done) / (time.perf_counter() - started)


def measure(sizes, requests, seconds, runs):
    results = {"latency": {}, "throughput": {}}
    with project_copy() as root, tempfile.TemporaryDirectory() as folder:
        for users in sizes:
            url = "sqlite:///{}/api-{}.db".format(folder, users)
            env = environment(url)
            run(manage(root, "db", "upgrade"), root, env)
            execute_sql(url, LOAD.format(n=users))
            api = {"Authorization": "Bearer " + make_account(root, env)}
            first = "/api/users?limit={}".format(PAGE)
            deep = "/api/users?limit={}&after={}".format(PAGE, users - PAGE - 10)
            paths = {"first": first, "deep": deep,
                     "html first": "/", "html deep": "/?after={}".format(users - 30)}
            with gunicorn(root, env) as server:
                page_headers = {"Cookie": sign_in(server.port)}
                headers = {path: api if path.startswith("/api/") else page_headers
                           for path in paths.values()}
                for path in paths.values():
                    latency(server.port, path, 20, headers[path])  # warm both workers up
                pages = {page: [] for page in paths}
                for _ in range(runs):
                    for page, path in paths.items():
                        pages[page].append(latency(server.port, path, requests, headers[path]))
            results["latency"][users] = {
                page: {key: median([s[key] for s in samples]) for key in samples[0]}
                for page, samples in pages.items()}
        served = {"gunicorn (2 workers)": [], "runserver": []}
        for _ in range(runs):
            for label, start in (("gunicorn (2 workers)", gunicorn), ("runserver", runserver)):
                with start(root, env) as server:
                    served[label].append(throughput(server.port, first, seconds, api))
        results["throughput"] = {label: median(values) for label, values in served.items()}
        results["throughput_users"] = users
    return results
