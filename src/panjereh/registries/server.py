"""One simulated registry as a WSGI app, and a small threaded server to run it in its own process.

Run: ``python -m panjereh.registries.server --registry civil --port 0``. The process prints one
JSON line ``{"registry": ..., "port": ...}`` once it listens (so a supervisor can start it on an
ephemeral port without racing for a free one) and serves until SIGTERM or until its parent dies.

Besides its data services each registry has:

* ``GET /_health``: liveness;
* ``GET /openapi.json``: its published description, with its data items;
* ``GET|POST /_control``: the fault switch for tests and demos. POST a JSON object
  ``{"mode": "normal"|"slow"|"fail"|"drop"|"incomplete", "delay_ms": 2000, "status": 503,
  "rate": 1.0}``; ``slow`` waits ``delay_ms`` before answering, ``fail`` answers ``status``,
  ``drop`` closes the connection without an answer, ``incomplete`` blanks part of each record;
  ``rate`` is the share of requests affected. GET returns the switch and a request counter.
  The same endpoint sets the registry's clock: ``{"now": "2025-03-21T09:00:00+00:00"}`` (a
  moment with its zone) fixes "now" for the life-event feed, ``{"now": null}`` returns to the
  wall clock; a body with only ``now`` leaves the fault switch as it is. The company registry
  also takes ``{"representatives": {national ID: [...] | null}}`` (:mod:`.boards`).
* ``GET /events?after=<cursor>&limit=N``: the life-event feed of the registries that record
  life events (:mod:`.events`), published as a data service like the others.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import random
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable
from socketserver import ThreadingMixIn
from typing import Any
from urllib.parse import parse_qs
from wsgiref.simple_server import ServerHandler, WSGIRequestHandler, WSGIServer

from . import PROFILES, REGISTRIES, assets, billers, convictions, courts, sana
from .boards import Boards, representatives_handler
from .catalogue import SERVICES, openapi
from .events import DEFAULT_LIMIT, BadCursor, Clock, Feed
from .population import Population

Answer = tuple[int, dict[str, Any]]
MODES = ("normal", "slow", "fail", "drop", "incomplete")


class Faults:
    """The fault switch of one registry process; shared by its request threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.mode = "normal"
        self.delay_ms = 0
        self.status = 503
        self.rate = 1.0
        self.requests = 0

    def set(self, data: dict[str, Any]) -> None:
        mode = data.get("mode", "normal")
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}")
        with self.lock:
            self.mode = mode
            self.delay_ms = int(data.get("delay_ms", 2000 if mode == "slow" else 0))
            self.status = int(data.get("status", 503))
            self.rate = float(data.get("rate", 1.0))

    def as_dict(self) -> dict[str, Any]:
        with self.lock:
            return {
                "mode": self.mode,
                "delay_ms": self.delay_ms,
                "status": self.status,
                "rate": self.rate,
                "requests": self.requests,
            }

    def draw(self) -> str:
        """Count a data request and say which fault, if any, applies to it."""
        with self.lock:
            self.requests += 1
            if self.mode == "normal" or random.random() >= self.rate:  # noqa: S311
                return "normal"
            return self.mode


def _not_found(what: str) -> Answer:
    return 404, {"found": False, "detail": f"no {what}"}


def _feed_handler(feed: Feed, clock: Clock) -> Callable[[str, dict[str, str]], Answer]:
    def handler(param: str, query: dict[str, str]) -> Answer:
        try:
            limit = int(query.get("limit") or DEFAULT_LIMIT)
            return 200, feed.page(clock.now(), query.get("after", ""), limit)
        except (BadCursor, ValueError) as exc:
            return 400, {"detail": str(exc)}

    return handler


def _handlers(pop: Population) -> dict[tuple[str, str], Callable[[str, dict[str, str]], Answer]]:
    """(registry, service code) → handler(path parameter, query) → (status, record)."""

    def person(param: str) -> int | None:
        return pop.index_of(param)

    def with_person(build: Callable[[int], dict[str, Any] | None]) -> Callable:
        def handler(param: str, query: dict[str, str]) -> Answer:
            i = person(param)
            if i is None:
                return _not_found("person with this national code")
            record = build(i)
            if record is None:
                return _not_found("record")
            return 200, record

        return handler

    def identity(param: str, query: dict[str, str]) -> Answer:
        i = person(param)
        if i is None:
            return _not_found("person with this national code")
        record = pop.civil_identity(i)
        birth_date = query.get("birth_date")
        if birth_date and birth_date not in (record["birth_date"], record["birth_date_jalali"]):
            return 200, {"national_code": param, "match": False}
        return 200, {**record, "match": True if birth_date else None}

    def death(i: int) -> dict[str, Any]:
        record = pop.civil_death_record(i)
        if record is None:
            return {"national_code": pop.national_code(i), "deceased": False}
        return {**record, "deceased": True}

    def mobile_owner(param: str, query: dict[str, str]) -> Answer:
        code, mobile = query.get("national_code", ""), query.get("mobile", "")
        if pop.index_of(code) is None:
            return _not_found("person with this national code")
        owner = pop.mobile_owner(mobile)
        return 200, {
            "national_code": code,
            "mobile": mobile,
            "match": owner is not None and pop.national_code(owner) == code,
        }

    def address(param: str, query: dict[str, str]) -> Answer:
        k = pop.household_of_postcode(param)
        record = pop.address(k) if k is not None else None
        return (200, record) if record else _not_found("address with this postcode")

    def residence(i: int) -> dict[str, Any]:
        k = pop.person(i)["household"]
        record = pop.address(k)
        if record is None:  # no registered residence: the record exists but is empty
            record = dict.fromkeys(
                ("postcode", "province", "city", "street", "alley", "plaque", "unit")
            )
        return {"national_code": pop.national_code(i), **record}

    def company(param: str, query: dict[str, str]) -> Answer:
        j = pop.company_of_id(param)
        return (200, pop.company(j)) if j is not None else _not_found("legal person")

    def deed(param: str, query: dict[str, str]) -> Answer:
        k = pop.household_of_deed(param)
        record = pop.deed(k) if k is not None else None
        return (200, record) if record else _not_found("deed with this serial")

    def health_birth(i: int) -> dict[str, Any] | None:
        return pop.hospital_birth(i)

    def of_person(build: Callable[[int], dict[str, Any]]) -> Callable:
        """A record about person ``i``, under the national code that was asked for."""
        return with_person(lambda i: {"national_code": pop.national_code(i), **build(i)})

    def vehicle(param: str, query: dict[str, str]) -> Answer:
        v = pop.vehicle_of_vin(param)
        record = pop.vehicle(v) if v is not None else None
        return (200, record) if record else _not_found("vehicle with this VIN")

    def certificate(param: str, query: dict[str, str]) -> Answer:
        found = pop.certificate_of_number(param)
        if found is None:
            return _not_found("certificate with this number")
        return 200, pop.certificate(*found)

    def geo(param: str, query: dict[str, str]) -> Answer:
        k = pop.household_of_postcode(param)
        record = pop.geo(k) if k is not None else None
        return (200, record) if record else _not_found("location with this postcode")

    def residence_geo(i: int) -> dict[str, Any]:
        record = pop.geo(pop.person(i)["household"])
        if record is None:  # no registered residence: the record exists but is empty
            items = next(s for s in SERVICES["location"] if s["code"] == "residence-geo")["items"]
            record = dict.fromkeys(f for names in items.values() for f in names)
        return {"national_code": pop.national_code(i), **record}

    def foreigner(fields: tuple[str, ...]) -> Callable:
        def handler(param: str, query: dict[str, str]) -> Answer:
            f = pop.foreigner_of_fida(param)
            if f is None:
                return _not_found("foreign national with this identifier")
            record = pop.foreigner(f)
            return 200, {name: record[name] for name in ("fida_code", *fields)}

        return handler

    foreign_fields = {
        service["code"]: tuple(f for names in service["items"].values() for f in names)
        for service in SERVICES["foreign"]
    }

    return {
        ("civil", "identity"): identity,
        ("civil", "household"): with_person(pop.civil_household),
        ("civil", "birth-record"): with_person(pop.civil_birth_record),
        ("civil", "death-record"): with_person(death),
        ("civil", "photo"): with_person(pop.civil_photo),
        ("shahkar", "mobile-owner"): mobile_owner,
        ("post", "address"): address,
        ("post", "residence"): with_person(residence),
        ("ssaa", "company"): company,
        ("ssaa", "deeds"): with_person(
            lambda i: {"national_code": pop.national_code(i), "deeds": pop.deeds(i)}
        ),
        ("ssaa", "deed"): deed,
        ("health", "birth-record"): with_person(health_birth),
        ("health", "births-of-mother"): with_person(
            lambda i: {
                "mother_national_code": pop.national_code(i),
                "births": pop.hospital_births_of_mother(i),
            }
        ),
        ("science", "education-status"): with_person(
            lambda i: {
                "national_code": pop.national_code(i),
                "degrees": pop.degrees(i),
                "student": pop.student_status(i),
            }
        ),
        ("education", "school-record"): with_person(
            lambda i: {"national_code": pop.national_code(i), **pop.school_record(i)}
        ),
        ("judiciary", "criminal-record"): with_person(
            lambda i: {"national_code": pop.national_code(i), **pop.criminal_record(i)}
        ),
        ("martyrs", "veteran-status"): with_person(
            lambda i: {"national_code": pop.national_code(i), **pop.veteran_status(i)}
        ),
        ("relief", "beneficiary"): with_person(
            lambda i: {"national_code": pop.national_code(i), **pop.relief_status(i)}
        ),
        ("ssi", "insurance-record"): with_person(
            lambda i: {"national_code": pop.national_code(i), **pop.insurance_record(i)}
        ),
        ("tax", "taxpayer"): of_person(lambda i: {**pop.taxpayer(i), **pop.income_bracket(i)}),
        ("tax", "clearance"): of_person(pop.tax_clearance),
        ("vehicle", "owned-vehicles"): of_person(lambda i: {"vehicles": pop.owned_vehicles(i)}),
        ("vehicle", "vehicle"): vehicle,
        ("vehicle", "driving-licence"): of_person(pop.driving_licence),
        ("insurance", "coverage"): of_person(pop.health_coverage),
        ("insurance", "family-physician"): of_person(pop.family_physician),
        ("welfare", "subsidy"): of_person(pop.subsidy),
        ("welfare", "household"): of_person(pop.welfare_household),
        ("vocational", "certificates"): of_person(lambda i: {"certificates": pop.certificates(i)}),
        ("vocational", "certificate"): certificate,
        ("location", "geo"): geo,
        ("location", "residence-geo"): with_person(residence_geo),
        ("foreign", "person"): foreigner(foreign_fields["person"]),
        ("foreign", "residence-permit"): foreigner(foreign_fields["residence-permit"]),
    }


def _blank_part(record: dict[str, Any], keep: Iterable[str]) -> dict[str, Any]:
    """Blank about half of a record's non-key fields, the same half for the same record."""
    keep = set(keep)
    digest = hashlib.sha256(json.dumps(record, sort_keys=True).encode()).digest()
    out = {}
    for n, (name, value) in enumerate(record.items()):
        blank = name not in keep and digest[n % len(digest)] % 2 == 0
        out[name] = None if blank else value
    return out


class RegistryApp:
    """The WSGI app of one registry."""

    def __init__(self, registry: str, population: Population) -> None:
        known = (*REGISTRIES, billers.NAME, courts.NAME, convictions.NAME, *assets.NAMES)
        if registry not in known:
            raise ValueError(f"unknown registry {registry!r}")
        self.registry = registry
        self.population = population
        self.faults = Faults()
        self.clock = Clock()
        self.boards = Boards()  # the company registry's changed directors
        self.feed = Feed(registry, population)  # no events for the billers: an empty feed
        # The judiciary also answers SANA registrations (GET and POST, :mod:`.sana`).
        self.sana = sana.SanaBook(population, self.clock.now) if registry == "judiciary" else None
        # The billers (:mod:`.billers`) answer GET and POST from their book of bills.
        self.bills: billers.BillBook | None = None
        self.courts: courts.CourtBook | None = None  # the judiciary's case system
        # The asset inquiry's services (:mod:`.assets`): banks and stock only those; ssaa and
        # vehicle beside their own.
        self.assets = assets.AssetBook(population)
        self.asset_methods = assets.handlers(registry, self.assets)
        if registry in assets.NAMES:
            self.services, self.methods, self.handlers = {}, {}, {}
            self.description = json.dumps(assets.openapi(registry)).encode()
            return
        if registry == courts.NAME:  # cases, their feed and bills (:mod:`.courts`)
            self.courts = courts.CourtBook(population, self.clock.now)
            self.services = {s["code"]: s for s in courts.SERVICES}
            self.methods = courts.handlers(self.courts)
            self.description = json.dumps(courts.openapi()).encode()
            return
        if registry == billers.NAME:
            self.bills = billers.BillBook(population.seed)
            self.services = {s["code"]: s for s in billers.SERVICES}
            self.methods = billers.handlers(self.bills)
            self.description = json.dumps(billers.openapi()).encode()
            return
        if registry == convictions.NAME:  # the judiciary's financial convictions
            self.services = {s["code"]: s for s in convictions.SERVICES}
            self.methods = convictions.handlers(population, self.clock)
            self.description = json.dumps(convictions.openapi()).encode()
            return
        self.methods = {}
        handlers = _handlers(population)
        handlers[(registry, "events")] = _feed_handler(self.feed, self.clock)
        handlers[("ssaa", "representatives")] = representatives_handler(population, self.boards)
        handlers.update(sana.read_handlers(self.sana) if self.sana is not None else {})
        self.services = {s["code"]: s for s in SERVICES[registry]}
        self.handlers = {code: handlers[(registry, code)] for code in self.services}
        self.description = json.dumps(assets.openapi(registry, openapi(registry))).encode()

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> list[bytes]:
        path = environ.get("PATH_INFO", "/")
        method = environ.get("REQUEST_METHOD", "GET")
        if path == "/_health":
            return self._json(start_response, 200, {"registry": self.registry, "ok": True})
        if path == "/openapi.json":
            start_response("200 OK", [("Content-Type", "application/json")])
            return [self.description]
        if path == "/_control":
            if method == "POST":
                try:
                    length = int(environ.get("CONTENT_LENGTH") or 0)
                    data = json.loads(environ["wsgi.input"].read(length) or b"{}")
                    if not isinstance(data, dict):
                        raise TypeError("the switch is a JSON object")
                    if self.courts is not None and ("file_case" in data or "advance" in data):
                        return self._json(start_response, *courts.control(self.courts, data))
                    if "representatives" in data:  # a new gazette notice (:mod:`.boards`)
                        self.boards.set(data.pop("representatives"))
                        if not data:
                            return self._json(start_response, 200, self.faults.as_dict())
                    if "now" in data:
                        self.clock.set(data.pop("now"))
                        if not data:  # only the clock was set
                            return self._json(
                                start_response,
                                200,
                                {**self.faults.as_dict(), **self.clock.as_dict()},
                            )
                    self.faults.set(data)
                except (ValueError, TypeError) as exc:
                    return self._json(start_response, 400, {"detail": str(exc)})
            return self._json(
                start_response, 200, {**self.faults.as_dict(), **self.clock.as_dict()}
            )
        if path == "/_bills" and self.bills is not None:
            length = int(environ.get("CONTENT_LENGTH") or 0)
            status, answer = billers.control(
                self.bills, method, environ["wsgi.input"].read(length) if length else b""
            )
            return self._json(start_response, status, answer)
        fault = environ.get("panjereh.fault") or self.faults.draw()
        if fault == "slow":
            time.sleep(self.faults.delay_ms / 1000)
        elif fault == "fail":
            return self._json(start_response, self.faults.status, {"detail": "registry failure"})
        if self.sana is not None and sana.handles(path):  # SANA: GET and POST (:mod:`.sana`)
            return self._json(start_response, *sana.answer(self.sana, environ, path, method))
        if path.strip("/").split("/")[0] in self.asset_methods:
            answer = self._answer_by_method(environ, path, method, self.asset_methods)
            return self._json(start_response, *answer)
        if self.methods:
            return self._json(start_response, *self._answer_by_method(environ, path, method))
        if method != "GET":
            return self._json(start_response, 405, {"detail": "only GET"})
        parts = path.strip("/").split("/")
        service = self.services.get(parts[0])
        if service is None or len(parts) > 2:
            return self._json(start_response, 404, {"detail": "no such service"})
        param = parts[1] if len(parts) == 2 else ""
        if service.get("param") and not param:
            return self._json(start_response, 404, {"detail": f"{service['param']} required"})
        query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        status, record = self.handlers[parts[0]](param, query)
        if status == 200 and fault == "incomplete":
            record = _blank_part(record, service["key_fields"])
        return self._json(start_response, status, record)

    def _answer_by_method(
        self, environ: dict[str, Any], path: str, method: str, methods: dict | None = None
    ) -> Answer:
        parts = path.strip("/").split("/")
        by_method = (methods or self.methods).get(parts[0])
        if by_method is None or len(parts) > 2 or (len(parts) == 2 and not parts[1]):
            return 404, {"detail": "no such service"}
        handler = by_method.get(method)
        if handler is None:
            return 405, {"detail": f"only {', '.join(by_method)}"}
        query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        return handler(parts[1] if len(parts) == 2 else "", query, body)

    @staticmethod
    def _json(start_response: Callable, status: int, payload: dict[str, Any]) -> list[bytes]:
        body = json.dumps(payload, ensure_ascii=False).encode()
        reason = {
            200: "OK",
            201: "Created",
            400: "Bad Request",
            403: "Forbidden",
            404: "Not Found",
            405: "Method Not Allowed",
            409: "Conflict",
        }
        start_response(
            f"{status} {reason.get(status, 'Error')}",
            [
                ("Content-Type", "application/json; charset=utf-8"),
                ("Content-Length", str(len(body))),
            ],
        )
        return [body]


class _ServerHandler(ServerHandler):
    """Answers in HTTP/1.1 and says whether the connection can carry another request."""

    http_version = "1.1"

    def cleanup_headers(self) -> None:
        super().cleanup_headers()
        if "Content-Length" not in self.headers:
            self.request_handler.close_connection = True  # the body ends with the connection
        if self.request_handler.close_connection:
            self.headers["Connection"] = "close"

    def handle_error(self) -> None:
        self.request_handler.close_connection = True
        super().handle_error()


class _Handler(WSGIRequestHandler):
    """wsgiref's request handler with HTTP/1.1 persistent connections.

    wsgiref answers one request per connection (HTTP/1.0); a gateway calling a registry many
    times a second would open a TCP connection per call. This handler keeps the connection and
    serves the next request on it until the client closes it, asks ``Connection: close``, or is
    idle for ``timeout`` seconds.
    """

    protocol_version = "HTTP/1.1"
    timeout = 60  # an idle keep-alive connection is closed after a minute
    # Buffer the status line, headers and body into one write, and send it at once: small
    # separate writes on a kept-alive connection meet Nagle's algorithm and delayed ACKs (40 ms).
    wbufsize = 64 * 1024
    disable_nagle_algorithm = True

    def handle(self) -> None:
        self.close_connection = True
        self.handle_one_request()
        while not self.close_connection:
            self.handle_one_request()

    def handle_one_request(self) -> None:
        # wsgiref's handle(), plus keep-alive and the "drop" fault: close the connection
        # without an answer.
        try:
            self.raw_requestline = self.rfile.readline(65537)
        except (TimeoutError, ConnectionError):
            self.close_connection = True
            return
        if not self.raw_requestline:
            self.close_connection = True
            return
        if len(self.raw_requestline) > 65536:
            self.close_connection = True
            self.send_error(414)
            return
        if not self.parse_request():
            self.close_connection = True
            return
        app: RegistryApp = self.server.get_app()
        environ = self.get_environ()
        if not self.path.startswith("/_") and app.faults.mode == "drop":
            environ["panjereh.fault"] = app.faults.draw()
            if environ["panjereh.fault"] == "drop":
                self.close_connection = True
                return
        body = self.rfile
        if self.headers.get("Transfer-Encoding"):
            self.close_connection = True  # no chunked bodies: answer, then close
        else:
            # Read the whole body now, so that a handler that ignores it does not leave bytes
            # that would be taken for the next request on this connection.
            try:
                length = int(self.headers.get("Content-Length") or 0)
            except ValueError:
                length = -1
            if length < 0 or length > 1_000_000:
                self.close_connection = True
                self.send_error(400)
                return
            body = io.BytesIO(self.rfile.read(length) if length else b"")
        handler = _ServerHandler(body, self.wfile, self.get_stderr(), environ, multithread=True)
        handler.request_handler = self
        handler.run(app)
        try:
            self.wfile.flush()
        except OSError:
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass  # a registry under load must not spend its time writing access logs


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    request_queue_size = 256
    allow_reuse_address = True


def serve(
    registry: str, host: str, port: int, seed: int, size: int, parent_pid: int | None
) -> None:
    app = RegistryApp(registry, Population(seed=seed, size=size))
    server = _Server((host, port), _Handler)
    server.set_app(app)
    print(json.dumps({"registry": registry, "port": server.server_address[1]}), flush=True)
    if app.feed.fields:
        # Compute the life-event feed now, not on its first request (seconds at 10,000 people:
        # longer than the exchange waits for an answer).
        threading.Thread(target=app.feed.all, daemon=True).start()

    def stop(*_: Any) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if parent_pid:
        # Never outlive the supervisor, even if it was killed without a chance to stop us.
        def watch() -> None:
            while os.getppid() == parent_pid:
                time.sleep(0.5)
            stop()

        threading.Thread(target=watch, daemon=True).start()
    server.serve_forever(poll_interval=0.2)
    server.server_close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run one simulated base registry.")
    parser.add_argument(
        "--registry",
        required=True,
        choices=(*REGISTRIES, billers.NAME, courts.NAME, convictions.NAME, *assets.NAMES),
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--seed", type=int, default=1404)
    parser.add_argument("--profile", choices=sorted(PROFILES), default="small")
    parser.add_argument("--size", type=int, help="Population size; overrides --profile.")
    parser.add_argument("--parent-pid", type=int)
    args = parser.parse_args(argv)
    size = args.size or PROFILES[args.profile]
    serve(args.registry, args.host, args.port, args.seed, size, args.parent_pid)


if __name__ == "__main__":
    main(sys.argv[1:])
