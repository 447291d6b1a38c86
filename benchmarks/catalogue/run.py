"""Catalogue benchmark: in-process search latency, then the portal under 50 concurrent clients.

Run with ``.venv/bin/python benchmarks/catalogue/run.py``. Everything happens in a temporary
directory (SQLite database, static files) that is removed at the end; the server binds to
127.0.0.1 on a free port and is stopped by its process ID.

1. Migrate, load ``panjereh seed --profile national`` (about 6,000 service cards).
2. Search: build the index, then time each of ~200 realistic queries (Persian, Arabic letters,
   Persian/Arabic/Latin digits, service IDs with and without separators, typos, English),
   several rounds, and report p50/p95/max per query.
3. Pages: start ``panjereh serve``, warm every worker, time each kind of page with one
   client (service time), then drive home, agency, search and service pages with 50 client
   threads until the time or request budget runs out, twice: with no pause between requests
   (closed loop: the server is saturated and latency is mostly queueing) and with a pause of
   about a second, as people reading pages. Report throughput, p50/p95 per page and the CPU
   the server spent per request.

Goals checked: search p95 <= 20 ms; page p95 <= 100 ms. The exit status is 0 either way; the
figures are what matter, together with the machine's load (printed) since both the clients and
the server share its cores.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/benchlib.py
from benchlib import LoadClient  # noqa: E402

SEARCH_GOAL_MS = 20.0
PAGE_GOAL_MS = 100.0
# Issue 13: public pages for people not signed in, from the shared page cache on PostgreSQL +
# Redis, at 50 clients: at least 1,000 pages/s with p95 <= 50 ms.
CACHED_GOAL_RPS = 1000.0
CACHED_GOAL_P95_MS = 50.0
# A request with a session cookie is never served from the page cache (portal.pagecache): the
# same pages rendered for every request, measured in the same run for the ratio.
UNCACHED_HEADERS = {"Cookie": "sessionid=benchmark-no-such-session"}
ROOT = Path(__file__).resolve().parents[2]

# Queries people type, in the shapes they arrive: Persian letters or Arabic ones (ي ك), with
# ZWNJ or a space or nothing, Persian/Arabic/Latin digits, English, and typos. Service IDs are
# added from the seeded data at run time.
BASE_QUERIES = [
    "گواهی",
    "گواهی ولادت",
    "گواهي ولادت",
    "گواهی‌ولادت",
    "گواهیولادت",
    "صدور گواهی",
    "صدور گواهي",
    "ثبت ولادت",
    "شناسنامه",
    "المثنی شناسنامه",
    "المثني شناسنامه",
    "کارت ملی",
    "كارت ملي",
    "کارت‌ملی",
    "کارتملی",
    "گذرنامه",
    "تمدید گذرنامه",
    "پاسپورت",
    "گواهینامه رانندگی",
    "گواهی‌نامه رانندگی",
    "گواهينامه",
    "پلاک خودرو",
    "المثنی پلاک خودرو",
    "تعویض پلاک",
    "خلافی خودرو",
    "معاینه فنی",
    "پروانه کار",
    "پروانه كار",
    "پروانه وکالت",
    "پروانه نشر",
    "پروانه ساختمان",
    "جواز تأسیس",
    "جواز تاسیس",
    "مجوز زیست‌محیطی",
    "مجوز زیستمحیطی",
    "مجوز زیست محیطی",
    "مجوز فعالیت",
    "تمدید مجوز",
    "ثبت شرکت",
    "ثبت شركت",
    "تغییرات شرکت",
    "مالیات",
    "اظهارنامه مالیاتی",
    "برگ تشخیص مالیات",
    "اعتراض به برگ تشخیص",
    "مالیات بر ارزش افزوده",
    "ارزش‌افزوده",
    "گمرک",
    "ترخیص کالا",
    "بیمه",
    "سوابق بیمه",
    "بیمه تامین اجتماعی",
    "بیمه تأمین اجتماعی",
    "مستمری بازنشستگی",
    "بازنشستگی",
    "یارانه",
    "سهام عدالت",
    "وام ازدواج",
    "سلامت ازدواج",
    "گواهی سلامت",
    "پرونده پزشکی",
    "نوبت دهی",
    "نوبت‌دهی",
    "نوبتدهی",
    "دفترچه بیمه",
    "ثبت نام مدرسه",
    "ثبت‌نام مدرسه",
    "ثبتنام",
    "کارنامه",
    "مدرک تحصیلی",
    "تأیید مدرک تحصیلی",
    "تایید مدرک",
    "دانشجویی",
    "وام دانشجویی",
    "معافیت تحصیلی",
    "کارت پایان خدمت",
    "برگ آماده به خدمت",
    "خدمت سربازی",
    "سند ملک",
    "سند مالکیت",
    "استعلام سند",
    "انشعاب آب",
    "انشعاب برق",
    "انشعاب گاز",
    "قبض",
    "سوء پیشینه",
    "سوءپیشینه",
    "گواهی عدم سوء پیشینه",
    "پرونده قضایی",
    "وضعیت پرونده قضایی",
    "شکایت",
    "شکایت از عملکرد کارکنان",
    "دسترسی به اطلاعات عمومی",
    "اطلاعات عمومی",
    "ملاقات با مدیران",
    "معرفی‌نامه",
    "معرفینامه",
    "معرفی نامه",
    "پیگیری درخواست",
    "انصراف از درخواست",
    "اعتراض به نتیجه",
    "درخواست",
    "استعلام",
    "صدور",
    "تمدید",
    "ابطال",
    "اصلاح",
    "دانش‌بنیان",
    "دانش بنیان",
    "گواهی دانش بنیان",
    "مهارت فنی و حرفه‌ای",
    "فنی حرفه ای",
    "خرید تضمینی",
    "خرید تضمینی محصول",
    "کشاورزی",
    "دام",
    "فرکانس",
    "تخصیص فرکانس",
    "اقساط",
    "بازپرداخت اقساط",
    "صندوق",
    "ورزش",
    "میراث فرهنگی",
    "گردشگری",
    "استاندارد",
    "نشان استاندارد",
    "محیط زیست",
    "شهرداری",
    "عوارض",
    "عوارض نوسازی",
    "پایان کار",
    "ثبت احوال",
    "وزارت بهداشت",
    "سازمان امور مالیاتی",
    "بانک مرکزی",
    "فرم ۱۰۱",
    "فرم 101",
    "فرم ١٠١",
    "ماده ۱۸۶",
    "۱۴۰۴",
    # Typos: a letter substituted, dropped, doubled or swapped.
    "گواهی ولادط",
    "گواهی ولات",
    "گواهی ولاادت",
    "گواهی ولدات",
    "شناسنامح",
    "گذرنامع",
    "پروانه وکالط",
    "پروانه وکلت",
    "مجوز فعالیط",
    "مالیت",
    "مالیاط",
    "بیمح",
    "بازنشتگی",
    "یارانح",
    "گمرک کالا",
    "اظهارنامح مالیاتی",
    "معرفی‌نامح",
    "پیگیری درخاست",
    "دسترسی به اطلاعت عمومی",
    "انشعاب آبب",
    "تمدید گذرنامه‌ای",
    "سوء پیشنه",
    "دانشبنیان",
    "خرید تضمینی محصل",
    "سند مالکیط",
    # English.
    "birth certificate",
    "birth",
    "passport",
    "licence",
    "license",
    "licnse",
    "tax",
    "tax assessment",
    "objection to a tax assessment",
    "vehicle plate",
    "duplicate",
    "renewal",
    "insurance",
    "pension",
    "public information",
    "court case",
    "work permit",
    "environmental permit",
    "knowledge-based",
    "water connection",
    "complaint",
    "marriage",
    "university degree",
    "retirement",
]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def machine() -> dict[str, str]:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0, 0, 0)
    return {
        "nproc": str(os.cpu_count()),
        "cpu": model,
        "python": platform.python_version(),
        "load": " ".join(f"{x:.2f}" for x in load),
    }


def setup_django(var_dir: Path, database_url: str = "", redis_url: str = "") -> None:
    os.environ["PANJEREH_VAR"] = str(var_dir)
    os.environ.pop("DATABASE_URL", None)
    os.environ.pop("REDIS_URL", None)
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    if redis_url:
        os.environ["REDIS_URL"] = redis_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "panjereh.conf.settings")
    os.environ.setdefault("PANJEREH_LOG_LEVEL", "ERROR")
    import django

    django.setup()


def seed_catalogue() -> float:
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    call_command("seed", profile="national", verbosity=0)
    return time.perf_counter() - started


def query_list(rng: random.Random) -> list[str]:
    """The fixed queries plus service IDs from the data in several shapes (about 200)."""
    from panjereh.catalogue.models import Service
    from panjereh.common.persian import to_persian_digits

    ids = sorted(Service.objects.exclude(service_id=None).values_list("service_id", flat=True))
    arabic = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
    picked = rng.sample(ids, 8)
    id_queries = []
    for n, sid in enumerate(picked):
        shapes = [
            sid,
            to_persian_digits(sid),
            sid.translate(arabic),
            f"{sid[:3]}-{sid[3:6]}-{sid[6:]}",
            f"{to_persian_digits(sid[:5])} {to_persian_digits(sid[5:])}",
        ]
        id_queries.extend(shapes[: 3 if n % 2 else 5])
    id_queries.append(picked[0][:6])  # a partial ID
    return BASE_QUERIES + id_queries


def bench_search(queries: list[str], rounds: int) -> dict:
    from panjereh.catalogue import search

    started = time.perf_counter()
    index = search.get_index()
    build_s = time.perf_counter() - started
    # One round to warm caches, then timed rounds over the shuffled list.
    for q in queries:
        index.search(q)
    samples: list[float] = []
    cpu_samples: list[float] = []
    per_query: dict[str, list[float]] = defaultdict(list)
    totals: dict[str, int] = {}
    rng = random.Random(7)
    for _ in range(rounds):
        order = queries[:]
        rng.shuffle(order)
        for q in order:
            t0, c0 = time.perf_counter(), time.thread_time()
            result = search.search_services(q)
            elapsed = (time.perf_counter() - t0) * 1000
            cpu_samples.append((time.thread_time() - c0) * 1000)
            samples.append(elapsed)
            per_query[q].append(elapsed)
            totals[q] = result.total
    slowest = sorted(per_query, key=lambda q: -statistics.median(per_query[q]))[:5]
    return {
        "cards": len(index),
        "build_s": build_s,
        "queries": len(queries),
        "samples": len(samples),
        "p50": percentile(samples, 50),
        "p95": percentile(samples, 95),
        "max": max(samples),
        "cpu_p50": percentile(cpu_samples, 50),
        "cpu_p95": percentile(cpu_samples, 95),
        "no_hits": sorted(q for q, n in totals.items() if n == 0),
        "slowest": [(q, statistics.median(per_query[q]), totals[q]) for q in slowest],
    }


def start_server(var_dir: Path, port: int, workers: int, threads: int) -> subprocess.Popen:
    env = dict(os.environ)
    env.update(
        {
            "PANJEREH_VAR": str(var_dir),
            "PANJEREH_ALLOWED_HOSTS": "127.0.0.1",
            "PANJEREH_LOG_LEVEL": "ERROR",
            "PANJEREH_WORKERS": str(workers),
            "PANJEREH_THREADS": str(threads),
        }
    )
    # The server uses what setup_django chose: SQLite in var_dir, or the given PostgreSQL/Redis.
    command = [
        sys.executable,
        "-m",
        "panjereh",
        "serve",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--threads",
        str(threads),
    ]
    return subprocess.Popen(
        command,
        env=env,
        cwd=str(var_dir),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )


def wait_until_up(base: str, proc: subprocess.Popen, timeout: float = 60.0) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: {proc.stderr.read().decode()[-2000:]}")
        try:
            if httpx.get(base + "/", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError("server did not answer in time")


def server_cpu_seconds(master_pid: int) -> float:
    """User+system CPU time of the server's master and its worker processes (Linux /proc).

    Other programs on a shared machine stretch wall-clock latency; the CPU the server itself
    burns per request does not depend on them.
    """
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        pid, ppid = int(stat.parent.name), int(fields[1])
        if pid == master_pid or ppid == master_pid:
            total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def sequential(base: str, plan: list[tuple[str, str]], per_kind: int) -> dict:
    """One client, one request at a time: each page's own service time, without queueing."""
    import httpx

    by_kind: dict[str, list[str]] = defaultdict(list)
    for kind, path in plan:
        by_kind[kind].append(path)
    rng = random.Random(11)
    results = {}
    with httpx.Client(base_url=base, timeout=30) as http:
        for kind, paths in sorted(by_kind.items()):
            values = []
            for path in rng.choices(paths, k=per_kind):
                t0 = time.perf_counter()
                http.get(path).raise_for_status()
                values.append((time.perf_counter() - t0) * 1000)
            results[kind] = {
                "n": len(values),
                "p50": percentile(values, 50),
                "p95": percentile(values, 95),
            }
    return results


def stop_server(proc: subprocess.Popen) -> None:
    """Stop the server we started, by its PID (its gunicorn workers follow the master)."""
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def page_plan(queries: list[str]) -> list[tuple[str, str]]:
    """(kind, path) pairs the clients cycle through."""
    from panjereh.catalogue.models import Agency, Service

    agencies = list(
        Agency.objects.filter(kind__in=["ministry", "organisation"])
        .order_by("code")
        .values_list("code", flat=True)[:40]
    )
    services = list(
        Service.objects.exclude(service_id=None)
        .order_by("service_id")
        .values_list("service_id", flat=True)[::60]
    )
    plan: list[tuple[str, str]] = []
    plan += [("home", "/"), ("home", "/en/")]
    plan += [("agency", f"/agencies/{code}/") for code in agencies]
    plan += [("search", "/search/?" + _encode(q=q)) for q in queries]
    plan += [("search", "/search/?" + _encode(q=q, page="2")) for q in ("درخواست", "صدور")]
    plan += [("search", "/search/?" + _encode(agency=code, smart="1")) for code in agencies[:10]]
    plan += [("service", f"/services/{sid}/") for sid in services]
    # Rendered result pages are cached per query, filters and page; these combinations are
    # too many to repeat within a run, so they measure the uncached path.
    rng = random.Random(5)
    events = ["", "birth", "marriage", "business", "retirement", "vehicle", "job"]
    for _ in range(5000):
        params = {"q": rng.choice(queries), "page": str(rng.randint(1, 3))}
        if recipient := rng.choice(["", "", "G2C", "G2B"]):
            params["recipient"] = recipient
        if event := rng.choice(events):
            params["event"] = event
        if rng.random() < 0.3:
            params["smart"] = "1"
        plan.append(("search-new", "/search/?" + _encode(**params)))
    return plan


def _encode(**params: str) -> str:
    from urllib.parse import urlencode

    return urlencode(params)


def drive(
    base: str,
    plan: list[tuple[str, str]],
    clients: int,
    seconds: float,
    max_requests: int,
    think_ms: float = 0.0,
    headers: dict | None = None,
) -> dict:
    """Each client thread sends its next request when the last returns, after ``think_ms``
    (0: closed loop, the server saturated; >0: people reading a page before the next click).

    Kinds are drawn in fixed proportions (home 15 %, agency 20 %, search 30 %, search with
    new filter combinations 20 %, service 15 %) so every page gets enough samples.
    """
    by_kind: dict[str, list[str]] = defaultdict(list)
    for kind, path in plan:
        by_kind[kind].append(path)
    weights = {"home": 15, "agency": 20, "search": 30, "search-new": 20, "service": 15}
    kinds = [k for k in weights if by_kind[k]]
    timings: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, int] = defaultdict(int)
    lock = threading.Lock()
    sent = 0
    stop_at = time.monotonic() + seconds
    start_barrier = threading.Barrier(clients)

    def client(n: int) -> None:
        nonlocal sent
        rng = random.Random(n)
        with LoadClient(base, timeout=30) as http:
            start_barrier.wait()
            while time.monotonic() < stop_at:
                with lock:
                    if sent >= max_requests:
                        return
                    sent += 1
                kind = rng.choices(kinds, weights=[weights[k] for k in kinds])[0]
                path = rng.choice(by_kind[kind])
                t0 = time.perf_counter()
                try:
                    status, _body = http.request("GET", path, headers=headers)
                    ok = status == 200
                except OSError:
                    ok = False
                elapsed = (time.perf_counter() - t0) * 1000
                with lock:
                    if ok:
                        timings[kind].append(elapsed)
                    else:
                        errors[kind] += 1
                if think_ms:
                    # Jittered so the clients do not click in step.
                    time.sleep(rng.uniform(0.5, 1.5) * think_ms / 1000)

    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    done = sum(len(v) for v in timings.values())
    return {
        "wall_s": wall,
        "requests": done,
        "errors": dict(errors),
        "throughput": done / wall if wall else 0.0,
        "pages": {
            kind: {
                "n": len(values),
                "p50": percentile(values, 50),
                "p95": percentile(values, 95),
                "max": max(values) if values else float("nan"),
            }
            for kind, values in sorted(timings.items())
        },
    }


def drive_at_rate(
    base: str, plan: list[tuple[str, str]], clients: int, seconds: float, rate: float
) -> dict:
    """Open loop: requests are due at ``rate`` per second in all, spread over ``clients``
    threads (client ``n`` sends request ``i`` at ``(i * clients + n) / rate`` s); latency counts
    from when a request was due, so a late send (a busy client) counts as waiting."""
    paths = [path for _kind, path in plan]
    timings: list[float] = []
    errors = 0
    lock = threading.Lock()
    start_barrier = threading.Barrier(clients + 1)
    started = 0.0

    def client(n: int) -> None:
        nonlocal errors
        rng = random.Random(100 + n)
        local: list[float] = []
        bad = 0
        with LoadClient(base, timeout=30) as http:
            start_barrier.wait()
            i = 0
            while True:
                due = started + (i * clients + n) / rate
                if due - started >= seconds:
                    break
                wait = due - time.perf_counter()
                if wait > 0:
                    time.sleep(wait)
                try:
                    status, _body = http.request("GET", rng.choice(paths))
                    ok = status == 200
                except OSError:
                    ok = False
                if ok:
                    local.append((time.perf_counter() - due) * 1000)
                else:
                    bad += 1
                i += 1
        with lock:
            timings.extend(local)
            errors += bad

    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(clients)]
    for thread in threads:
        thread.start()
    started = time.perf_counter() + 0.05
    start_barrier.wait()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    return {
        "requests": len(timings),
        "errors": errors,
        "throughput": len(timings) / wall if wall else 0.0,
        "p50": percentile(timings, 50),
        "p95": percentile(timings, 95),
        "max": max(timings) if timings else float("nan"),
    }


def warm(base: str, plan: list[tuple[str, str]], workers: int) -> None:
    """Every gunicorn worker builds its own search index; make them all do it before timing."""
    import httpx

    paths = [p for k, p in plan if k == "search"][: 10 * workers]

    def hit(path: str) -> None:
        with httpx.Client(base_url=base, timeout=60) as http:
            http.get(path)
            http.get("/")

    threads = [threading.Thread(target=hit, args=(p,)) for p in paths]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def warm_cache(base: str, plan: list[tuple[str, str]]) -> None:
    """Ask for every page of ``plan`` once with no cookie, so each is in the page cache."""
    with LoadClient(base, timeout=60) as http:
        for _kind, path in plan:
            http.request("GET", path)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds over the queries")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--max-requests", type=int, default=200_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument(
        "--think-ms",
        type=float,
        default=1000.0,
        help="pause between a client's requests in the second, paced phase (0: skip it)",
    )
    parser.add_argument(
        "--rate",
        type=float,
        default=CACHED_GOAL_RPS,
        help="kept pages offered per second in the open-loop phase (0: skip it)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("PANJEREH_BENCH_DATABASE_URL", ""),
        help="an EMPTY PostgreSQL database to seed and serve from (default: SQLite in a temp dir)",
    )
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("PANJEREH_BENCH_REDIS_URL", ""),
        help="Redis for the cache (the page cache, sessions); default: the local cache",
    )
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT / "src"))
    var_dir = Path(tempfile.mkdtemp(prefix="panjereh-bench-"))
    proc = None
    try:
        setup_django(var_dir, args.database_url, args.redis_url)
        info = machine()
        print(f"machine: {info['nproc']} CPUs, {info['cpu']}, Python {info['python']}")
        print(
            f"database: {'PostgreSQL' if args.database_url else 'SQLite'}; cache: "
            f"{'Redis' if args.redis_url else 'local'}"
        )
        print(f"load average before: {info['load']}")
        seed_s = seed_catalogue()
        print(f"seeded the national profile in {seed_s:.1f} s")

        queries = query_list(random.Random(1404))
        s = bench_search(queries, args.rounds)
        print(
            f"\nsearch: {s['cards']} cards, index built in {s['build_s'] * 1000:.0f} ms; "
            f"{s['queries']} queries x {args.rounds} rounds = {s['samples']} samples"
        )
        print(f"  wall: p50 {s['p50']:.2f} ms   p95 {s['p95']:.2f} ms   max {s['max']:.2f} ms")
        print(f"  CPU:  p50 {s['cpu_p50']:.2f} ms   p95 {s['cpu_p95']:.2f} ms")
        print(
            "  slowest (median ms, hits): "
            + "; ".join(f"{q!r} {ms:.1f} ({n})" for q, ms, n in s["slowest"])
        )
        if s["no_hits"]:
            print(f"  queries with no result: {s['no_hits']}")

        from django.db import connections

        plan = page_plan(queries)
        connections.close_all()
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        proc = start_server(var_dir, port, args.workers, args.threads)
        wait_until_up(base, proc)
        warm(base, plan, args.workers)
        print(
            f"\npages: server pid {proc.pid} on {base} ({args.workers} workers x "
            f"{args.threads} threads), {args.clients} clients, up to {args.seconds:.0f} s "
            f"or {args.max_requests} requests"
        )
        alone = sequential(base, plan, per_kind=40)
        print("  one client at a time (service time):")
        for kind, page in alone.items():
            print(
                f"    {kind:10s} n={page['n']:4d}  p50 {page['p50']:6.1f} ms  p95 {page['p95']:6.1f} ms"
            )
        # The goal is about pages people ask for again and again (home, agencies, services,
        # searches): warm the page cache with each of them once, then measure them with no
        # cookie (kept pages) and with a session cookie (rendered), same plan, same run. New
        # filter combinations (never kept) are in the paced phase's mix only.
        repeated = [(kind, path) for kind, path in plan if kind != "search-new"]
        warm_cache(base, repeated)
        phases = [
            ("saturating", 0.0, None, repeated),
            ("saturating, no page cache", 0.0, UNCACHED_HEADERS, repeated),
        ]
        if args.think_ms:
            phases.append(("paced", args.think_ms, None, plan))
        worst: dict[str, float] = {}
        rates: dict[str, float] = {}
        for name, think, headers, pages in phases:
            cpu_before = server_cpu_seconds(proc.pid)
            own_before = time.process_time()
            load = drive(base, pages, args.clients, args.seconds, args.max_requests, think, headers)
            rates[name] = load["throughput"]
            cpu_ms = (server_cpu_seconds(proc.pid) - cpu_before) * 1000 / max(1, load["requests"])
            own_ms = (time.process_time() - own_before) * 1000 / max(1, load["requests"])
            label = "no pause" if not think else f"{think:.0f} ms (±50 %) pause between clicks"
            print(f"  {args.clients} clients at once, {label} ({name}):")
            print(
                f"    {load['requests']} requests in {load['wall_s']:.1f} s = "
                f"{load['throughput']:.0f} req/s; errors: {load['errors'] or 'none'}; "
                f"server CPU {cpu_ms:.2f} ms per request "
                f"(~{(os.cpu_count() or 1) * 1000 / cpu_ms:.0f} req/s if it had every core); "
                f"load generator CPU {own_ms:.2f} ms per request"
            )
            for kind, page in load["pages"].items():
                print(
                    f"    {kind:10s} n={page['n']:5d}  p50 {page['p50']:7.1f} ms  "
                    f"p95 {page['p95']:7.1f} ms  max {page['max']:7.1f} ms"
                )
            worst[name] = max((p["p95"] for p in load["pages"].values()), default=float("nan"))
        paced_kept = None
        if args.rate:
            # The goal's second half at the goal's rate: kept pages offered at --rate per
            # second by the same 50 clients (open loop), p95 from when each request was due.
            warm_cache(base, repeated)
            paced_kept = drive_at_rate(base, repeated, args.clients, args.seconds, args.rate)
            print(
                f"  kept pages offered at {args.rate:.0f}/s by {args.clients} clients (open "
                f"loop): {paced_kept['requests']} served = {paced_kept['throughput']:.0f}/s; "
                f"errors {paced_kept['errors']}; p50 {paced_kept['p50']:.1f} ms  p95 "
                f"{paced_kept['p95']:.1f} ms  max {paced_kept['max']:.1f} ms"
            )
        print(f"load average after: {machine()['load']}")

        print("\ngoals:")
        print(
            f"  search p95 {s['p95']:.2f} ms <= {SEARCH_GOAL_MS:.0f} ms: "
            f"{'PASS' if s['p95'] <= SEARCH_GOAL_MS else 'FAIL'}"
        )
        for name, value in worst.items():
            print(
                f"  page p95 ({name}, worst page) {value:.1f} ms <= {PAGE_GOAL_MS:.0f} ms: "
                f"{'PASS' if value <= PAGE_GOAL_MS else 'FAIL'}"
            )
        cached, uncached = rates["saturating"], rates["saturating, no page cache"]
        print(
            f"  cached pages {cached:.0f}/s >= {CACHED_GOAL_RPS:.0f}/s: "
            f"{'PASS' if cached >= CACHED_GOAL_RPS else 'FAIL'}; p95 (worst page) "
            f"{worst['saturating']:.1f} ms <= {CACHED_GOAL_P95_MS:.0f} ms: "
            f"{'PASS' if worst['saturating'] <= CACHED_GOAL_P95_MS else 'FAIL'}"
        )
        print(f"  ratio cached / not cached, same run: {cached / max(uncached, 1e-9):.2f}")
        if paced_kept is not None:
            ok = (
                paced_kept["throughput"] >= 0.97 * args.rate
                and paced_kept["p95"] <= CACHED_GOAL_P95_MS
                and not paced_kept["errors"]
            )
            print(
                f"  kept pages at {args.rate:.0f}/s offered: {paced_kept['throughput']:.0f}/s "
                f"served, p95 {paced_kept['p95']:.1f} ms <= {CACHED_GOAL_P95_MS:.0f} ms: "
                f"{'PASS' if ok else 'FAIL'}"
            )
    finally:
        if proc is not None:
            stop_server(proc)
        if args.keep:
            print(f"kept {var_dir}")
        else:
            shutil.rmtree(var_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
