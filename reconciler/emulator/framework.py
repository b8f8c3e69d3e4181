"""The emulator's request framework: one route table, one error type, one context.

A provider module exposes `register(routes: RouteTable)` and adds its handlers:

    API = ("2026-09-01",)

    def register(routes: RouteTable) -> None:
        routes.add("GET", "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}"
                   "/providers/Microsoft.Storage/storageAccounts/{accountName}", get_account, api_versions=API)

    def get_account(ctx: Ctx) -> dict:
        res = ctx.state.get(ctx.resource_id)
        if res is None:
            raise not_found(ctx)
        return res                      # 200 + JSON; or return Reply(201, body, headers)

Handlers are plain synchronous functions. They run under the state lock, after the
app has authenticated, authorised (RBAC action derived from the route), checked the
api-version, the subscription and the resource group (routes below a resource group
answer 404 ResourceGroupNotFound for a missing one before the handler runs), and
parsed the JSON body (invalid JSON -> 400 InvalidRequestContent). Handlers raise
`ArmError` for every error answer; the app turns it into ARM's error body.

Paths match case-insensitively (ARM ids come back as `/Subscriptions/...`). A path
matching no template answers 404 InvalidResourceType (known provider namespace) or
NoRegisteredProviderFound; a path matching with another method answers 405 + Allow.

Top-level keys and `properties` keys starting with "_" are internal bookkeeping and
never serialised.
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

from reconciler.emulator.state import EmulatorState, Hooks, Operation, OperationStatus, Principal, iso

# --------------------------------------------------------------------------- errors


class ArmError(Exception):
    """An ARM error answer: `{"error": {"code", "message", "details"?, "target"?}}`."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: list[dict] | None = None,
        headers: Mapping[str, str] | None = None,
        target: str | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.headers = dict(headers or {})
        self.target = target

    def body(self) -> dict:
        err: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.target:
            err["target"] = self.target
        if self.details is not None:
            err["details"] = self.details
        return {"error": err}

    def reply(self) -> Reply:
        return Reply(self.status, self.body(), self.headers)


def bad_request(message: str, code: str = "InvalidRequestContent", target: str | None = None) -> ArmError:
    return ArmError(400, code, message, target=target)


def conflict(message: str, code: str = "Conflict") -> ArmError:
    return ArmError(409, code, message)


# --------------------------------------------------------------------------- replies


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # dict/list -> JSON; None -> empty body; bytes/str sent as is
    headers: dict[str, str] = field(default_factory=dict)


def public(obj: Any) -> Any:
    """Drop internal ("_"-prefixed) keys at the top level and inside `properties`."""
    if isinstance(obj, dict):
        if not any(isinstance(k, str) and k.startswith("_") for k in obj) and not isinstance(obj.get("properties"), dict):
            return obj
        out = {k: v for k, v in obj.items() if not (isinstance(k, str) and k.startswith("_"))}
        props = out.get("properties")
        if isinstance(props, dict) and any(isinstance(k, str) and k.startswith("_") for k in props):
            out["properties"] = {k: v for k, v in props.items() if not k.startswith("_")}
        return out
    return obj


def to_json_bytes(body: Any) -> bytes:
    if isinstance(body, dict):
        if "value" in body and isinstance(body["value"], list):
            body = dict(body, value=[public(x) for x in body["value"]])
        else:
            body = public(body)
    return json.dumps(body, separators=(",", ":")).encode()


# --------------------------------------------------------------------------- context


class Ctx:
    """What a handler sees of one request."""

    def __init__(
        self,
        *,
        state: EmulatorState,
        method: str,
        path: str,
        params: dict[str, str],
        query: dict[str, str],
        headers: Mapping[str, str],
        body: Any,
        raw_body: bytes,
        principal: Principal | None,
        base_url: str,
        route: Route,
    ) -> None:
        self.state = state
        self.method = method
        self.path = path
        self.params = params
        self.query = query
        self.headers = headers  # case-insensitive (Starlette Headers)
        self.body = body
        self.raw_body = raw_body
        self.principal = principal
        self.base_url = base_url
        self.route = route

    # ---- convenience
    @property
    def api_version(self) -> str:
        return self.q("api-version") or ""

    def q(self, name: str, default: str | None = None) -> str | None:
        """Query parameter by case-insensitive name."""
        low = name.lower()
        for k, v in self.query.items():
            if k.lower() == low:
                return v
        return default

    @property
    def subscription_id(self) -> str:
        return self.params.get("subscriptionId", "")

    @property
    def resource_id(self) -> str:
        """The request path (no query, no trailing slash): the addressed resource's id
        as the client spelled it. Store and compare ids case-insensitively."""
        return self.path.rstrip("/")

    @property
    def client_request_id(self) -> str | None:
        return self.headers.get("x-ms-client-request-id")

    def url(self, path: str, **query: str) -> str:
        """Absolute URL on this emulator; api-version defaults to the request's."""
        q = {"api-version": self.api_version, **query} if "api-version" not in query else dict(query)
        q = {k: v for k, v in q.items() if v is not None}
        return f"{self.base_url}{_quote_path(path)}" + (("?" + _urlencode(q)) if q else "")

    def require_body(self) -> dict:
        if not isinstance(self.body, dict):
            raise ArmError(400, "InvalidRequestContent", "The request content was invalid and could not be deserialized: the request body must be a JSON object.")
        return self.body


# what quote() / urlencode() leave as they are: the common case skips them (they cost ~10 us a call)
_SAFE_PATH = re.compile(r"[A-Za-z0-9_.~/-]*\Z")
_SAFE_QUERY = re.compile(r"[A-Za-z0-9_.~-]*\Z")


def _quote_path(path: str) -> str:
    return path if _SAFE_PATH.match(path) else quote(path)


def _urlencode(q: dict) -> str:
    if all(isinstance(k, str) and isinstance(v, str) and _SAFE_QUERY.match(k) and _SAFE_QUERY.match(v)
           for k, v in q.items()):
        return "&".join(f"{k}={v}" for k, v in q.items())
    return urlencode(q)


def prop(body: dict, path: str, *, required: bool = False, types: type | tuple[type, ...] | None = None) -> Any:
    """`prop(body, "properties.addressSpace.addressPrefixes", required=True)`:
    nested get with ARM's 400 answers for missing or mistyped fields."""
    cur: Any = body
    for part in path.split("."):
        if not isinstance(cur, dict) or cur.get(part) is None:
            if required:
                raise ArmError(400, "InvalidRequestContent", f"The request content was invalid: required property '{path}' is missing.", target=path)
            return None
        cur = cur[part]
    if types is not None and not isinstance(cur, types):
        names = types.__name__ if isinstance(types, type) else "/".join(t.__name__ for t in types)
        raise ArmError(400, "InvalidRequestContent", f"The request content was invalid: property '{path}' must be of type {names}.", target=path)
    return cur


def new_etag() -> str:
    return f'W/"datetime\'{uuid.uuid4()}\'"'


# --------------------------------------------------------------------------- routes

Handler = Callable[[Ctx], Any]
_PARAM = re.compile(r"^\{(\w+)\}$")


@dataclass
class Route:
    method: str
    template: str
    handler: Handler
    api_versions: tuple[str, ...] | None  # None: any api-version accepted (internal routes)
    action: str  # RBAC action, e.g. Microsoft.Storage/storageAccounts/write
    kind: str  # read | write | delete
    check_resource_group: bool
    regex: re.Pattern[str] = field(repr=False)
    literal_count: int = 0
    namespace: str | None = None
    segments: int = 0
    reader_ok: bool = False  # may a Reader call it (default: action ends in /read)

    @property
    def key(self) -> str:
        return f"{self.method} {self.template}"


def _kind(method: str) -> str:
    if method in ("GET", "HEAD"):
        return "read"
    if method == "DELETE":
        return "delete"
    return "write"


def derive_action(method: str, template: str) -> str:
    """ARM's RBAC action for a route: provider namespace + type segments + verb.
    POST .../items/{i}/testFailover -> Microsoft.X/.../items/testFailover/action."""
    segs = [s for s in template.strip("/").split("/") if s]
    low = [s.lower() for s in segs]
    if "providers" in low:
        i = len(low) - 1 - low[::-1].index("providers")
        ns = segs[i + 1]
        types = [s for s in segs[i + 2:] if not _PARAM.match(s)]
        base = "/".join([ns] + types)
    else:
        types = [s for s in segs if not _PARAM.match(s)]
        base = "Microsoft.Resources/" + "/".join(types)
        if base.lower() == "microsoft.resources/subscriptions/resourcegroups":
            base = "Microsoft.Resources/subscriptions/resourceGroups"
    verb = {"GET": "read", "HEAD": "read", "PUT": "write", "PATCH": "write", "DELETE": "delete"}.get(method, "action")
    return f"{base}/{verb}"


def _shape(template: str) -> str:
    """A template with its parameter names erased, lower-cased: two templates with the
    same shape match the same paths."""
    return "/".join("{}" if _PARAM.match(seg) else seg.lower() for seg in template.strip("/").split("/"))


def _namespace(template: str) -> str | None:
    segs = template.strip("/").split("/")
    low = [s.lower() for s in segs]
    if "providers" in low:
        i = low.index("providers")
        if i + 1 < len(segs) and not _PARAM.match(segs[i + 1]):
            return segs[i + 1]
    return None


class RouteTable:
    """All ARM routes of the emulator, compiled once."""

    def __init__(self) -> None:
        self._routes: list[Route] = []
        self._by_len: dict[int, list[Route]] = {}
        self._shapes: dict[tuple[str, str], Route] = {}  # (method, shape) -> route: duplicates in O(1)
        self.namespaces: set[str] = set()
        self.hooks = Hooks()  # copied onto every EmulatorState the app makes (EmulatorState.hooks)

    def add_hook(self, name: str, fn: Callable[..., Any]) -> None:
        """A cross-provider event handler (see state.Hooks for the events)."""
        self.hooks.add(name, fn)

    def add(
        self,
        method: str,
        template: str,
        handler: Handler,
        *,
        api_versions: Iterable[str] | str | None,
        action: str | None = None,
        write: bool | None = None,
        check_resource_group: bool | None = None,
    ) -> Route:
        """Declare `method template -> handler`.

        api_versions: the versions served (a wrong one answers 400
        InvalidApiVersionParameter); None accepts any (internal routes only).
        action: RBAC action (default derived from the template: namespace + types +
        read/write/delete/action). write: override whether a Reader may call it
        (default: only actions ending in /read are allowed to Readers).
        check_resource_group: answer 404 ResourceGroupNotFound before the handler
        (default: every template below resourceGroups/{...}/providers/).
        """
        method = method.upper()
        segs = template.strip("/").split("/")
        parts = []
        literals = 0
        for s in segs:
            m = _PARAM.match(s)
            if m:
                parts.append(f"(?P<{m.group(1)}>[^/]+)")
            else:
                literals += 1
                parts.append(re.escape(s))
        regex = re.compile("^/" + "/".join(parts) + "/?$", re.IGNORECASE)
        if isinstance(api_versions, str):
            api_versions = (api_versions,)
        action = action or derive_action(method, template)
        kind = _kind(method)
        if check_resource_group is None:
            low = template.lower()
            check_resource_group = "/resourcegroups/{" in low and "/providers/" in low
        route = Route(
            method=method,
            template=template,
            handler=handler,
            api_versions=tuple(api_versions) if api_versions is not None else None,
            action=action,
            kind=kind,
            check_resource_group=check_resource_group,
            regex=regex,
            literal_count=literals,
            namespace=_namespace(template),
            segments=len(segs),
        )
        route.reader_ok = action.endswith("/read") if write is None else not write
        shape = (method, _shape(template))
        if shape in self._shapes:
            raise ValueError(f"route declared twice: {method} {template} (and {self._shapes[shape].template})")
        self._shapes[shape] = route
        self._routes.append(route)
        lst = self._by_len.setdefault(route.segments, [])
        lst.append(route)
        lst.sort(key=lambda r: -r.literal_count)
        if route.namespace:
            self.namespaces.add(route.namespace.lower())
        return route

    def __iter__(self):
        return iter(self._routes)

    def __len__(self) -> int:
        return len(self._routes)

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]]:
        """Route and path params for `method path`, or ArmError 404 / 405."""
        path = path.rstrip("/") or "/"
        n = len(path.strip("/").split("/"))
        allowed: list[str] = []
        best: tuple[Route, dict[str, str]] | None = None
        for r in self._by_len.get(n, []):
            m = r.regex.match(path)
            if not m:
                continue
            if r.method == method:
                if best is None or r.literal_count > best[0].literal_count:
                    best = (r, m.groupdict())
            else:
                allowed.append(r.method)
        if best is not None:
            return best
        if allowed:
            raise ArmError(
                405,
                "MethodNotAllowed",
                f"The requested resource does not support http method '{method}'.",
                headers={"Allow": ", ".join(sorted(set(allowed)))},
            )
        raise self._unknown(path)

    def _unknown(self, path: str) -> ArmError:
        segs = path.strip("/").split("/")
        low = [s.lower() for s in segs]
        if "providers" in low:
            i = len(low) - 1 - low[::-1].index("providers")
            if i + 1 < len(segs):
                ns = segs[i + 1]
                types = segs[i + 2:][0::2]
                rtype = "/".join(types) or ns
                if ns.lower() in self.namespaces:
                    return ArmError(404, "InvalidResourceType", f"The resource type '{rtype}' could not be found in the namespace '{ns}' for api version '{{api}}'.")
                return ArmError(404, "NoRegisteredProviderFound", f"No registered resource provider found for namespace '{ns}' and resource type '{rtype}'.")
        return ArmError(404, "InvalidResourceType", f"The resource type could not be found for the request path '{path}'.")

    def versions_message(self, route: Route, given: str) -> ArmError:
        ns = route.namespace or "Microsoft.Resources"
        supported = "', '".join(route.api_versions or ())
        return ArmError(
            400,
            "InvalidApiVersionParameter",
            f"The api-version '{given}' is invalid. The supported versions are '{supported}'. "
            f"(resource provider '{ns}', action '{route.action}')",
        )


# --------------------------------------------------------------------------- paging


def _token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode().rstrip("=")


def _offset(token: str | None) -> int:
    if not token:
        return 0
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        if not raw.startswith("o:"):
            raise ValueError(raw)
        off = int(raw[2:])
        if off < 0:
            raise ValueError(raw)
        return off
    except Exception:
        raise ArmError(400, "InvalidSkipToken", "The skip token in the request is invalid.") from None


def paged(ctx: Ctx, items: Iterable[Any], page_size: int | None = None, *, render: Callable[[Any], Any] | None = None) -> dict:
    """One page of a list answer: `{"value": [...], "nextLink": ...}` (nextLink only
    while more items follow). The page size is the state's config (`pageSize` on reset)
    unless given; `$skiptoken` carries the offset, other query parameters ($filter...)
    are kept in the nextLink. `items` may be any sequence (len + slicing) or iterable;
    `render` (optional) turns each item of the page only into its JSON, so a list of
    thousands of model objects costs one page of rendering."""
    lst: Sequence[Any] = items if isinstance(items, Sequence) else list(items)
    size = page_size or ctx.state.config.page_size or len(lst) or 1
    off = _offset(ctx.q("$skiptoken"))
    page = list(lst[off: off + size])
    if render is not None:
        page = [render(x) for x in page]
    out: dict[str, Any] = {"value": page}
    if off + size < len(lst):
        q = {k: v for k, v in ctx.query.items() if k.lower() not in ("$skiptoken",)}
        q["$skiptoken"] = _token(off + size)
        out["nextLink"] = f"{ctx.base_url}{quote(ctx.path)}?{urlencode(q, quote_via=quote)}"
    return out


# --------------------------------------------------------------------------- long-running operations


def _retry_after(state: EmulatorState, op: Operation) -> str:
    sim = op.retry_after
    if op.eta is not None:
        sim = min(sim, max(0.0, op.eta - state.now()))
    # azure-core treats "Retry-After: 0" as absent and falls back to its 30 s
    # polling interval, so never answer less than 1
    return str(max(1, state.retry_after(sim)))


SYNC_THRESHOLD = 0.05  # real seconds


def finishes_now(state: EmulatorState, sim_seconds: float) -> bool:
    """True when an operation of `sim_seconds` would be over in under 50 ms of real
    time (a fast --time-scale): providers then answer synchronously (200/201 with the
    final body, no LRO headers), as Azure itself does for quick operations, instead of
    making the SDK wait out a Retry-After of at least 1 s."""
    return state.clock.real_seconds(sim_seconds) <= SYNC_THRESHOLD


def operation_urls(ctx: Ctx, op: Operation, *, namespace: str | None = None, location: str | None = None) -> tuple[str, str]:
    """(Location URL, Azure-AsyncOperation URL) of `op` on the generic routes
    /subscriptions/{s}/providers/{ns}/locations/{loc}/operationResults|operationStatuses/{id}."""
    ns = namespace or ctx.route.namespace or "Microsoft.Resources"
    loc = location or op.data.get("location") or "global"
    base = f"/subscriptions/{ctx.subscription_id}/providers/{ns}/locations/{loc}"
    return (
        ctx.url(f"{base}/operationResults/{op.id}"),
        ctx.url(f"{base}/operationStatuses/{op.id}"),
    )


def accepted(
    ctx: Ctx,
    op: Operation,
    *,
    status: int = 202,
    body: Any = None,
    location: bool | str = True,
    async_operation: bool | str = True,
    namespace: str | None = None,
) -> Reply:
    """The answer that starts a long-running operation: `status` (202, or 201/200 for a
    PUT that returns the resource at once) with `Location` and/or
    `Azure-AsyncOperation` and `Retry-After`. Pass a string to use your own URL
    (e.g. a vault's replicationOperationResults/{id}) instead of the generic one."""
    loc_url, async_url = operation_urls(ctx, op, namespace=namespace)
    headers: dict[str, str] = {"Retry-After": _retry_after(ctx.state, op)}
    if location:
        headers["Location"] = location if isinstance(location, str) else loc_url
    if async_operation:
        headers["Azure-AsyncOperation"] = async_operation if isinstance(async_operation, str) else async_url
    return Reply(status, body, headers)


def operation_result(ctx: Ctx, op_id: str) -> Reply:
    """GET on an operation's Location URL: 202 (+ Location, Retry-After) while it runs;
    then 200 + the final resource JSON (204 when there is none); a failed operation
    answers its ArmError."""
    op = ctx.state.get_operation(op_id)
    if op is None:
        raise ArmError(404, "OperationNotFound", f"The operation '{op_id}' could not be found.")
    if not op.done:
        return Reply(202, None, {"Location": ctx.url(ctx.path), "Retry-After": _retry_after(ctx.state, op)})
    if op.status == OperationStatus.FAILED:
        err = op.error if isinstance(op.error, ArmError) else ArmError(500, "InternalServerError", str(op.error or "The operation failed."))
        raise err
    if op.status == OperationStatus.CANCELED:
        raise ArmError(409, "OperationCanceled", f"The operation '{op_id}' was canceled.")
    result = op.result() if callable(op.result) else op.result
    if result is None:
        return Reply(204, None)
    return Reply(200, result)


def operation_status(ctx: Ctx, op_id: str) -> Reply:
    """GET on an operation's Azure-AsyncOperation URL: `{id, name, status, startTime,
    endTime?, error?}` with Retry-After while in progress."""
    op = ctx.state.get_operation(op_id)
    if op is None:
        raise ArmError(404, "OperationNotFound", f"The operation '{op_id}' could not be found.")
    body: dict[str, Any] = {"id": ctx.path, "name": op.id, "status": op.status, "startTime": iso(op.start)}
    headers: dict[str, str] = {}
    if op.end is not None:
        body["endTime"] = iso(op.end)
    if op.status == OperationStatus.FAILED:
        err = op.error if isinstance(op.error, ArmError) else ArmError(500, "InternalServerError", str(op.error or "The operation failed."))
        body["error"] = err.body()["error"]
    if not op.done:
        headers["Retry-After"] = _retry_after(ctx.state, op)
    return Reply(200, body, headers)


def _op_result_handler(ctx: Ctx) -> Reply:
    return operation_result(ctx, ctx.params["operationId"])


def _op_status_handler(ctx: Ctx) -> Reply:
    return operation_status(ctx, ctx.params["operationId"])


def register(routes: RouteTable) -> None:
    """Generic operation routes used by `accepted()` (any api-version)."""
    base = "/subscriptions/{subscriptionId}/providers/{namespace}/locations/{location}"
    for seg in ("operationResults", "asyncoperations"):
        routes.add("GET", f"{base}/{seg}/{{operationId}}", _op_result_handler, api_versions=None,
                   action="Microsoft.Resources/operationResults/read")
    for seg in ("operationStatuses", "operations"):
        routes.add("GET", f"{base}/{seg}/{{operationId}}", _op_status_handler, api_versions=None,
                   action="Microsoft.Resources/operationStatuses/read")
    routes.add("GET", "/subscriptions/{subscriptionId}/operationresults/{operationId}", _op_result_handler,
               api_versions=None, action="Microsoft.Resources/subscriptions/operationresults/read")


# --------------------------------------------------------------------------- ARM wording helpers


def not_found(ctx: Ctx, resource_type: str | None = None, name: str | None = None) -> ArmError:
    """404 ResourceNotFound as ARM words it, for the resource the request addresses."""
    from reconciler.emulator.state import resource_type_of

    rid = ctx.resource_id
    rtype = resource_type or resource_type_of(rid)
    name = name or rid.rsplit("/", 1)[-1]
    rg = ctx.params.get("resourceGroupName")
    where = f" under resource group '{rg}'" if rg else ""
    return ArmError(
        404,
        "ResourceNotFound",
        f"The Resource '{rtype}/{name}'{where} was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix",
    )


def rg_not_found(name: str) -> ArmError:
    return ArmError(404, "ResourceGroupNotFound", f"Resource group '{name}' could not be found.")


def rg_id(subscription_id: str, resource_group: str) -> str:
    return f"/subscriptions/{subscription_id}/resourceGroups/{resource_group}"


def list_in_resource_group(ctx: Ctx, resource_type: str) -> dict:
    """The paged list answer for `GET .../resourceGroups/{resourceGroupName}/providers/<resource_type>`."""
    return paged(ctx, list(ctx.state.find(resource_type, rg_id(ctx.subscription_id, ctx.params["resourceGroupName"]))))


def list_in_subscription(ctx: Ctx, resource_type: str) -> dict:
    """The paged list answer for `GET /subscriptions/{subscriptionId}/providers/<resource_type>`."""
    return paged(ctx, list(ctx.state.find(resource_type, f"/subscriptions/{ctx.subscription_id}")))


def check_if_match(ctx: Ctx, current: dict | None) -> None:
    """Honour If-Match / If-None-Match against `current["etag"]` (412 PreconditionFailed)."""
    if_match = ctx.headers.get("if-match")
    if_none = ctx.headers.get("if-none-match")
    etag = current.get("etag") if current else None
    if if_match is not None:
        if current is None or (if_match.strip() != "*" and if_match.strip() != etag):
            raise ArmError(412, "PreconditionFailed", "The condition specified using HTTP conditional header(s) is not met.")
    if if_none is not None:
        if current is not None and (if_none.strip() == "*" or if_none.strip() == etag):
            raise ArmError(412, "PreconditionFailed", "The condition specified using HTTP conditional header(s) is not met.")


async def serve_lifespan(receive: Any, send: Any) -> None:
    """Answer an ASGI lifespan scope (startup, then shutdown): the emulator's
    ARM app and its token app have nothing to set up or tear down."""
    while True:
        msg = await receive()
        if msg["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif msg["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
