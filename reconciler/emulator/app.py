"""The emulator's ASGI application.

Request path for ARM routes (everything but /_emulator/*):

    stats -> scheduler (due callbacks) -> faults (latency, 429, 5xx)
          -> authentication (401) -> route match (404/405) -> api-version (400)
          -> authorisation (403) -> ARM limits (429) -> subscription / resource
          group checks (404) -> JSON body (400) -> handler -> ARM error body

Every ARM answer carries x-ms-request-id, x-ms-correlation-request-id and the
x-ms-ratelimit-remaining-subscription-{reads,writes,deletes} headers.

Control routes (no token, not counted): GET /_emulator/stats, POST
/_emulator/reset-stats, POST /_emulator/reset, POST /_emulator/advance,
POST /_emulator/time-scale (`{"timeScale": N}`: simulated time runs N times as fast from now on, state kept),
POST /_emulator/faults (new fault settings, state kept), GET /_emulator/health,
POST /_emulator/overlay (test hook: properties written over an item's or a job's
rendering, `SiteRecovery.overlay`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import importlib
import json
import logging
import os
import pkgutil
import random
import sys
import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from reconciler.emulator import auth, faults, framework, providers, seeding, siterecovery
from reconciler.emulator import estate as estate_mod
from reconciler.emulator.framework import ArmError, Ctx, Reply, RouteTable, rg_id, rg_not_found, serve_lifespan, to_json_bytes
from reconciler.emulator.limits import Limiter
from reconciler.emulator.providers import seed
from reconciler.emulator.siterecovery import registration
from reconciler.emulator.state import DEFAULT_SUBSCRIPTION, EmulatorConfig, EmulatorState

log = logging.getLogger("reconciler.emulator")

DEFAULT_ESTATE_PATH = os.path.join(os.path.dirname(__file__), "data", "default-estate.yaml")


# --------------------------------------------------------------------------- routes and estate


def build_routes() -> RouteTable:
    """Every provider's routes and hooks: framework (operations), providers.*, and the
    site recovery tree. The hooks (`routes.hooks`) are copied onto every state `new_state` makes."""
    routes = RouteTable()
    framework.register(routes)
    for info in sorted(pkgutil.iter_modules(providers.__path__), key=lambda m: m.name):
        mod = importlib.import_module(f"reconciler.emulator.providers.{info.name}")
        if hasattr(mod, "register"):
            mod.register(routes)
    siterecovery.register(routes)
    return routes


def load_estate_file(path: str) -> dict:
    """Estate dict from a YAML file (every error as FILE:LINE:COL, EstateError)."""
    return estate_mod.load_file(path)


def default_estate() -> dict:
    if os.path.exists(DEFAULT_ESTATE_PATH):
        return load_estate_file(DEFAULT_ESTATE_PATH)
    return {"subscription": DEFAULT_SUBSCRIPTION}


def install_estate(state: EmulatorState, estate: dict, routes: RouteTable) -> None:
    """Subscription(s), principals, pre-existing Azure resources (`azure:`), then the
    on-premises part: the Site Recovery tree, the `seed:` block (sent through `routes`)
    and the registrations already due."""
    if not isinstance(estate, dict):
        raise ValueError("an estate is a mapping")
    state.estate = estate
    primary = str(estate.get("subscription") or (estate.get("subscriptions") or [DEFAULT_SUBSCRIPTION])[0])
    subs = [primary] + [str(s) for s in estate.get("subscriptions") or []]
    state.subscriptions = {s.lower() for s in subs}
    auth.load_principals(state, estate.get("principals"))
    seed.install(state, estate.get("azure") or {}, primary)  # pre-existing resources live in the primary subscription
    est = estate_mod.parse(estate)
    sr = siterecovery.attach(state, est)
    if est.seed:
        seeding.apply_seed(sr, est.seed, routes)
    registration.register_due(sr)


def new_state(config: EmulatorConfig, estate: dict, routes: RouteTable) -> EmulatorState:
    """A fresh state: the hooks of `routes` on it, `estate` installed."""
    state = EmulatorState(config)
    state.hooks = routes.hooks.copy()
    install_estate(state, estate, routes)
    return state


# --------------------------------------------------------------------------- the app


class EmulatorApp:
    """ASGI app for the ARM endpoint. `self.state` is replaced on reset."""

    def __init__(
        self,
        *,
        config: EmulatorConfig | None = None,
        estate: dict | None = None,
        authority: auth.TokenAuthority | None = None,
    ) -> None:
        self.routes = build_routes()
        self.log_requests = False  # `asr emulator serve --log-requests`: one stderr line per ARM request
        self.authority = authority or auth.TokenAuthority()
        self.startup_config = config or EmulatorConfig()
        self.startup_estate = estate  # None: the default estate
        self.state = new_state(self.startup_config, estate if estate is not None else default_estate(), self.routes)
        self.limiter = Limiter(self.state.config.arm_limits)

    # ---- reset
    def reset(self, *, estate: dict | None = None, faults_spec: str | None = None, time_scale: float | None = None,
              page_size: int | None = None, arm_limits: bool | None = None) -> None:
        """Fresh state. Every argument left None takes the value the server started
        with (its flags and --estate)."""
        base = self.startup_config
        cfg = EmulatorConfig(
            page_size=page_size or base.page_size,
            time_scale=base.time_scale if time_scale is None else float(time_scale),
            arm_limits=base.arm_limits if arm_limits is None else bool(arm_limits),
            faults=base.faults if faults_spec is None else faults.parse(faults_spec),
        )
        if cfg.time_scale <= 0:
            raise ValueError("timeScale must be > 0")
        if estate is None:
            estate = self.startup_estate if self.startup_estate is not None else default_estate()
        self.state = new_state(cfg, estate, self.routes)
        self.limiter = Limiter(cfg.arm_limits)

    # ---- time scale at run time
    def set_time_scale(self, scale: float) -> dict:
        """Make simulated time run `scale` times as fast as real time from now on, without
        a reset: resources, jobs, the clock's present and the stats stay, what is
        scheduled happens at the same simulated times. Raises ValueError (scale <= 0)."""
        if not scale > 0:
            raise ValueError("timeScale must be > 0")
        state = self.state
        with state.lock:
            state.clock.set_scale(scale)
            state.config = dataclasses.replace(state.config, time_scale=float(scale))
            state.run_due()
        return {"timeScale": state.clock.scale, "now": state.now_iso()}

    # ---- faults at run time
    def set_faults(self, spec: str | None) -> dict:
        """Replace the fault settings (`--faults` syntax; None or "" = no faults)
        without touching the state: resources, jobs, clock and stats stay. The fault and
        job generators are re-created from the spec's `seed` (unseeded without one), so
        the same spec gives the same draws from here on. Raises FaultSpecError."""
        cfg = faults.parse(spec)
        state = self.state
        with state.lock:
            # a new config object: the old one may be the start-up config a bare reset restores
            state.config = dataclasses.replace(state.config, faults=cfg)
            state.fault_rng = random.Random(cfg.seed)
            state.job_rng = random.Random((cfg.seed + 7919) if cfg.seed is not None else None)
        return faults_json(cfg)

    # ---- ASGI
    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "lifespan":
            await serve_lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        path = scope["path"]
        if path.startswith("/_emulator/") or path == "/_emulator":
            response = await self._control(request)
        else:
            response = await self._arm(request)
        await response(scope, receive, send)

    # ---- control surface
    async def _control(self, request: Request) -> Response:
        name = request.url.path[len("/_emulator/"):].strip("/")
        method = request.method
        try:
            if name == "health" and method == "GET":
                return JSONResponse({"status": "ok"})
            if name == "stats" and method == "GET":
                with self.state.lock:
                    data = self.state.stats.to_dict()
                data["now"] = self.state.now_iso()
                data["timeScale"] = self.state.clock.scale
                return JSONResponse(data)
            if name == "reset-stats" and method == "POST":
                from reconciler.emulator.state import Stats

                with self.state.lock:
                    self.state.stats = Stats()
                return JSONResponse({"ok": True})
            if name == "advance" and method == "POST":
                body = await _json(request)
                seconds = float(body.get("seconds", 0))
                if seconds < 0:
                    return JSONResponse({"error": "seconds must be >= 0"}, status_code=400)
                self.state.advance(seconds)
                return JSONResponse({"now": self.state.now_iso()})
            if name == "time-scale" and method == "POST":
                body = await _json(request)
                return JSONResponse(self.set_time_scale(float(body.get("timeScale", 0))))
            if name == "reset" and method == "POST":
                body = await _json(request)
                estate = body.get("estate")
                if estate is None and body.get("estatePath"):
                    estate = load_estate_file(str(body["estatePath"]))
                self.reset(
                    estate=estate,
                    faults_spec=body.get("faults"),
                    time_scale=None if body.get("timeScale") is None else float(body["timeScale"]),
                    page_size=int(body["pageSize"]) if body.get("pageSize") else None,
                    arm_limits=None if body.get("armLimits") is None else bool(body["armLimits"]),
                )
                return JSONResponse({"ok": True})
            if name == "faults" and method == "POST":
                return await self._control_faults(request)
            if name == "overlay" and method == "POST":  # test hook: SiteRecovery.overlay
                body = await _json(request)
                from reconciler.emulator.siterecovery import get_sr

                with self.state.lock:
                    return JSONResponse(get_sr(self.state).overlay(body))
        except ArmError as exc:
            return JSONResponse({"error": exc.message}, status_code=400)
        except (ValueError, TypeError, OSError, faults.FaultSpecError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        except Exception as exc:  # a bug: say so in JSON, keep serving
            log.exception("control route %s failed", name)
            return JSONResponse({"error": f"internal error: {type(exc).__name__}: {exc}"}, status_code=500)
        return JSONResponse({"error": f"unknown control route {method} {request.url.path}"}, status_code=404)

    async def _control_faults(self, request: Request) -> Response:
        """POST /_emulator/faults {"faults": "<--faults spec>"}: 200 with the effective
        settings, or 400 with an ARM error body."""
        try:
            body = await _json(request)
        except ValueError as exc:
            return _control_error("InvalidRequestContent", f"the body must be a JSON object: {exc}")
        spec = body.get("faults")
        if not isinstance(spec, str):
            return _control_error("InvalidRequestContent",
                                  'expected {"faults": "<spec in the --faults syntax>"} ("" = no faults)')
        try:
            return JSONResponse(self.set_faults(spec))
        except faults.FaultSpecError as exc:
            return _control_error("InvalidFaultSpec", f"faults: {exc}")

    # ---- ARM
    async def _arm(self, request: Request) -> Response:
        state = self.state  # a reset during the request does not swap it underneath
        limiter = self.limiter
        method = request.method.upper()
        path = request.url.path
        raw = await request.body()
        kind = "read" if method in ("GET", "HEAD") else ("delete" if method == "DELETE" else "write")
        route_key = None
        sub_for_headers = _subscription_from_path(path) or DEFAULT_SUBSCRIPTION
        decision: faults.Decision | None = None
        try:
            with state.lock:
                state.run_due()
                decision = faults.decide(state, kind) if state.config.faults.active else None
            if state.config.faults.latency:
                await asyncio.sleep(state.config.faults.latency)
            if decision is not None and decision.throttle:
                raise faults.throttled_error(state.config.faults.retry_after)
            if decision is not None and decision.error is not None and not decision.error_after:
                raise decision.error
            principal = auth.authenticate(self.authority, state, request.headers.get("authorization"))
            route, params = self.routes.match(method, path)
            route_key = route.key
            query = dict(request.query_params)
            if route.api_versions is not None:
                given = _ci_get(query, "api-version")
                if not given:
                    raise ArmError(400, "MissingApiVersionParameter", "The api-version query parameter (?api-version=) is required for all requests.")
                if given not in route.api_versions:
                    raise self.routes.versions_message(route, given)
            auth.authorize(route, principal, path)
            sub = params.get("subscriptionId")
            if sub:
                limiter.consume(sub, kind, principal.object_id)
            if sub and sub.lower() not in state.subscriptions:
                raise ArmError(404, "SubscriptionNotFound", f"The subscription '{sub}' could not be found.")
            body: Any = None
            if raw and method in ("PUT", "PATCH", "POST"):
                try:
                    body = json.loads(raw)
                except (ValueError, UnicodeDecodeError) as exc:
                    raise ArmError(400, "InvalidRequestContent", f"The request content was invalid and could not be deserialized: '{exc}'.") from None
            ctx = Ctx(
                state=state,
                method=method,
                path=path,
                params=params,
                query=query,
                headers=request.headers,
                body=body,
                raw_body=raw,
                principal=principal,
                base_url=_base_url(request),
                route=route,
            )
            with state.lock:
                if route.check_resource_group:
                    rg = params.get("resourceGroupName", "")
                    if not state.exists(rg_id(sub or "", rg)):
                        raise rg_not_found(rg)
                result = route.handler(ctx)
            if decision is not None and decision.error is not None and decision.error_after:
                raise decision.error
            reply = result if isinstance(result, Reply) else (Reply(204, None) if result is None else Reply(200, result))
        except ArmError as err:
            reply = err.reply()
            if decision is not None and err is decision.error:
                with state.lock:
                    state.stats.errors_injected += 1
        except Exception as exc:  # a bug in a handler: ARM's 500, logged here
            log.exception("handler failed: %s %s", method, path)
            reply = ArmError(500, "InternalServerError", f"Encountered internal server error ({type(exc).__name__}).").reply()

        headers = {
            "x-ms-request-id": str(uuid.uuid4()),
            "x-ms-correlation-request-id": request.headers.get("x-ms-correlation-request-id") or str(uuid.uuid4()),
        }
        crid = request.headers.get("x-ms-client-request-id")
        if crid:
            headers["x-ms-client-request-id"] = crid
        headers.update(limiter.headers(sub_for_headers))
        headers.update(reply.headers)
        with state.lock:
            st = state.stats
            st.requests += 1
            if kind == "read":
                st.reads += 1
            elif kind == "delete":
                st.deletes += 1
            else:
                st.writes += 1
            if reply.status == 429:
                st.throttled += 1
            key = str(reply.status)
            st.by_status[key] = st.by_status.get(key, 0) + 1
            if route_key:
                st.by_route[route_key] = st.by_route.get(route_key, 0) + 1
        if self.log_requests:
            code = reply.body["error"].get("code") if reply.status >= 400 and isinstance(reply.body, dict) and "error" in reply.body else ""
            print(f"asr-emulator: {method} {path} -> {reply.status} {code}".rstrip(), file=sys.stderr, flush=True)
        if reply.body is None or method == "HEAD":
            return Response(status_code=reply.status, headers=headers)
        if isinstance(reply.body, (bytes, str)):
            return Response(reply.body, status_code=reply.status, headers=headers)
        headers["Content-Type"] = "application/json; charset=utf-8"
        return Response(to_json_bytes(reply.body), status_code=reply.status, headers=headers)


def faults_json(cfg: Any) -> dict:
    """The effective fault settings as the control surface answers them."""
    return {"faults": cfg.spec, "throttle": cfg.throttle, "error": cfg.error, "latency": cfg.latency,
            "retryafter": cfg.retry_after, "jobfail": cfg.jobfail, "seed": cfg.seed, "active": cfg.active}


def _control_error(code: str, message: str) -> Response:
    return JSONResponse(ArmError(400, code, message).body(), status_code=400)


def _ci_get(d: dict[str, str], name: str) -> str | None:
    low = name.lower()
    for k, v in d.items():
        if k.lower() == low:
            return v
    return None


def _subscription_from_path(path: str) -> str | None:
    parts = path.strip("/").split("/")
    if len(parts) >= 2 and parts[0].lower() == "subscriptions":
        return parts[1]
    return None


def _base_url(request: Request) -> str:
    host = request.headers.get("host") or f"{request.url.hostname}:{request.url.port}"
    return f"{request.url.scheme}://{host}"


async def _json(request: Request) -> dict:
    raw = await request.body()
    if not raw:
        return {}
    data = json.loads(raw)
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    return data
