"""The one exception tree of `asr`.

    AsrError                      every error asr raises on purpose; has .exit_code
    ├── UserError                 the user can fix it by editing input or flags
    │   ├── ManifestError         invalid manifest (carries diagnostics)
    │   ├── UsageError            bad command-line usage, missing terminal for a prompt
    │   ├── ConfigurationError    a setting asr reads is wrong (CA bundle file, AZURE_TOKEN_CREDENTIALS)
    │   ├── PlanStaleError        a saved plan whose manifest or live state moved
    │   └── PlanMismatchError     a saved plan edited after it was written, or whose
    │                             actions are not what the manifest and live state give
    └── AzureError                Azure (or the emulator) refused or failed
        ├── AuthenticationError   no credential, or token refused (401)
        ├── AuthorizationError    principal lacks a permission (403)
        ├── NotFoundError         404
        ├── ConflictError         409
        ├── ThrottledError        429 that outlasted the retry budget
        ├── UnreachableError      endpoint unreachable / TLS failure
        └── OperationFailedError  an ASR job or long-running operation failed

Azure SDK exceptions are translated into this tree in exactly one place:
`reconciler.azure.errors.translate` (context manager `azure_errors`).
"""

from __future__ import annotations

__all__ = [
    "AsrError",
    "AuthenticationError",
    "AuthorizationError",
    "AzureError",
    "ConfigurationError",
    "ConflictError",
    "ManifestError",
    "NotFoundError",
    "OperationFailedError",
    "PlanMismatchError",
    "PlanStaleError",
    "ThrottledError",
    "UnreachableError",
    "UsageError",
    "UserError",
]

class AsrError(Exception):
    exit_code = 1
    debug: tuple[str, ...] = ()  # extra lines printed with ASR_DEBUG=1 (already redacted)

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:  # pragma: no cover - trivial
        return self.message


class UserError(AsrError):
    pass


class ManifestError(UserError):
    def __init__(self, message: str, *, diagnostics: list | None = None, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.diagnostics = diagnostics or []


class UsageError(UserError):
    pass


class ConfigurationError(UserError):
    pass


class PlanStaleError(UserError):
    pass


class PlanMismatchError(UserError):
    pass


class AzureError(AsrError):
    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.status = status
        self.code = code


class AuthenticationError(AzureError):
    pass


class AuthorizationError(AzureError):
    pass


class NotFoundError(AzureError):
    pass


class ConflictError(AzureError):
    pass


class ThrottledError(AzureError):
    pass


class UnreachableError(AzureError):
    pass


class OperationFailedError(AzureError):
    pass
