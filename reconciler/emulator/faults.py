"""`--faults` parsing and the per-request fault decisions (seeded, reproducible).

Spec: comma-separated `key=value`, any subset of
  throttle=RATE   429 TooManyRequests with Retry-After
  error=RATE      500 InternalServerError / 503 ServiceUnavailable
  latency=DUR     added to every ARM request (`50ms`, `0.2s`, `1` = seconds)
  retryafter=DUR  the Retry-After of those 429 and 503 answers (default 1 s, what ARM
                  sends; a test knob, not a fidelity fact: a test-sized `50ms` keeps
                  the SDK's retries from sleeping whole seconds; azure-core reads a
                  fractional Retry-After as seconds)
  jobfail=RATE    share of site recovery jobs that fail (read by the job engine
                  through `state.job_should_fail()`)
  seed=N          seeds every generator, so a run repeats
  tfojob=suspended|succeeded
                  how a test failover job ends (not a fault: the two recorded
                  behaviours, docs/fidelity.md L-001 and L-005; default suspended)
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from reconciler.emulator.framework import ArmError
from reconciler.emulator.state import EmulatorState, FaultConfig

THROTTLE_RETRY_AFTER = 1  # seconds
_RATE_KEYS = ("throttle", "error", "jobfail")


class FaultSpecError(ValueError):
    pass


def parse_duration(text: str) -> float:
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(ms|s)?\s*", text)
    if not m:
        raise FaultSpecError(f"invalid duration {text!r} (examples: 50ms, 0.2s, 1)")
    value = float(m.group(1))
    return value / 1000.0 if m.group(2) == "ms" else value


def parse(spec: str | None) -> FaultConfig:
    """FaultConfig from `throttle=0.2,error=0.05,latency=50ms,jobfail=0.02,seed=7`."""
    cfg = FaultConfig(spec=spec or "")
    if not spec or not spec.strip():
        return cfg
    seen: set[str] = set()
    for item in spec.split(","):
        item = item.strip()
        if not item:
            continue
        key, sep, value = item.partition("=")
        key = key.strip().lower()
        value = value.strip()
        if not sep or not value:
            raise FaultSpecError(f"invalid fault {item!r}: expected key=value")
        if key in seen:
            raise FaultSpecError(f"fault {key!r} given twice")
        seen.add(key)
        if key in _RATE_KEYS:
            try:
                rate = float(value)
            except ValueError:
                raise FaultSpecError(f"{key}: {value!r} is not a number") from None
            if not 0.0 <= rate <= 1.0:
                raise FaultSpecError(f"{key}: rate must be between 0 and 1, not {value}")
            setattr(cfg, key, rate)
        elif key == "latency":
            cfg.latency = parse_duration(value)
        elif key == "retryafter":
            cfg.retry_after = parse_duration(value)
            if not cfg.retry_after > 0:  # azure-core takes "Retry-After: 0" as absent
                raise FaultSpecError(f"retryafter: {value!r} must be more than 0")
        elif key == "tfojob":
            if value.lower() not in ("suspended", "succeeded"):
                raise FaultSpecError(f"tfojob: {value!r} is not suspended or succeeded")
            cfg.tfojob = value.lower()
        elif key == "seed":
            try:
                cfg.seed = int(value)
            except ValueError:
                raise FaultSpecError(f"seed: {value!r} is not an integer") from None
        else:
            raise FaultSpecError(f"unknown fault {key!r} (known: throttle, error, latency, retryafter, jobfail, seed, "
                                 "tfojob)")
    return cfg


@dataclass
class Decision:
    throttle: bool = False
    error: ArmError | None = None
    error_after: bool = False  # for writes: carry the write out, then answer the error


def decide(state: EmulatorState, kind: str) -> Decision:
    """Draw this request's faults (one draw per rate, always in the same order so a
    seed gives the same sequence)."""
    f = state.config.faults
    d = Decision()
    rng = state.fault_rng
    if f.throttle > 0 and rng.random() < f.throttle:
        d.throttle = True
        return d
    if f.error > 0 and rng.random() < f.error:
        if rng.random() < 0.5:
            d.error = ArmError(500, "InternalServerError", "Encountered internal server error. Diagnostic information: injected fault.")
        else:
            d.error = ArmError(503, "ServiceUnavailable", "The service is temporarily unavailable. Please retry later.",
                               headers={"Retry-After": retry_after_header(f.retry_after)})
        d.error_after = kind != "read" and rng.random() < 0.5
    return d


def retry_after_header(seconds: float) -> str:
    """`1` for whole seconds (what ARM sends), `0.05` for a test-sized `retryafter`."""
    return str(int(seconds)) if seconds == int(seconds) else f"{seconds:g}"


def throttled_error(retry_after: float = THROTTLE_RETRY_AFTER) -> ArmError:
    return ArmError(
        429,
        "TooManyRequests",
        "The request is being throttled as the limit has been reached for operation type. Please retry after the time in Retry-After.",
        headers={"Retry-After": retry_after_header(retry_after)},
    )
