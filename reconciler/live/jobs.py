"""ASR jobs as plain values: the old import path of `reconciler.azure.jobview`.

The job view and its time helpers moved to `reconciler/azure/jobview.py` (the azure
layer follows jobs and imports nothing of `live`; `live` imports `azure`): this module
keeps `from reconciler.live.jobs import JobView, parse_time, ...` working.
"""

from __future__ import annotations

from reconciler.azure.jobview import (
    FAILED,
    PLACEHOLDER_BEFORE_YEAR,
    SUCCEEDED,
    JobView,
    iso,
    job_json,
    page_is_older_than,
    parse_time,
    parse_timestamp,
    utcnow,
)

__all__ = ["FAILED", "PLACEHOLDER_BEFORE_YEAR", "SUCCEEDED", "JobView", "iso", "job_json", "page_is_older_than",
           "parse_time", "parse_timestamp", "utcnow"]
