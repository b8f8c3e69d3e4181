"""reconciler.azure.errors: the one translation of SDK exceptions."""

import json

import pytest
from azure.core.exceptions import ClientAuthenticationError, HttpResponseError, ResourceNotFoundError, ServiceRequestError
from azure.core.rest import HttpRequest as RestRequest
from azure.identity import CredentialUnavailableError

from reconciler.azure.errors import azure_errors, is_not_found, translate
from reconciler.errors import AuthenticationError, AuthorizationError, AzureError, NotFoundError, ThrottledError, UnreachableError

URL = ("https://management.azure.com/subscriptions/S/resourceGroups/rg/providers/Microsoft.RecoveryServices/"
       "vaults/v/replicationPolicies?api-version=2025-08-01&secret=abc")


class _Resp:
    """Enough of an azure-core HttpResponse for HttpResponseError."""

    def __init__(self, status, body, method="GET"):
        self.status_code = status
        self.reason = "Reason"
        self.request = RestRequest(method, URL)
        self.headers = {"Content-Type": "application/json"}
        self._body = json.dumps(body).encode()
        self.content_type = "application/json"

    def text(self, encoding=None):
        return self._body.decode()

    def body(self):
        return self._body

    def read(self):
        return self._body


def http_error(status, code, message, method="GET", cls=HttpResponseError):
    return cls(response=_Resp(status, {"error": {"code": code, "message": message}}, method))


def test_403_names_what_was_denied_and_not_the_query_string():
    err = translate(http_error(403, "AuthorizationFailed",
                               "The client 'x' does not have authorization to perform action "
                               "'Microsoft.RecoveryServices/vaults/replicationPolicies/write'", method="PUT"))
    assert isinstance(err, AuthorizationError) and err.status == 403 and err.code == "AuthorizationFailed"
    assert "replicationPolicies/write" in err.message
    assert "PUT /subscriptions/S/resourceGroups/rg" in err.message
    assert "secret=abc" not in err.message and "api-version" not in err.message
    assert err.hint


def test_401_is_authentication_with_tenant_hint():
    err = translate(http_error(401, "InvalidAuthenticationTokenTenant", "wrong tenant"))
    assert isinstance(err, AuthenticationError) and "tenant" in err.hint.lower()


def test_404_subscription_not_found_hints_other_subscription():
    err = translate(http_error(404, "SubscriptionNotFound", "The subscription 'S' could not be found.",
                               cls=ResourceNotFoundError))
    assert isinstance(err, NotFoundError)
    assert "another subscription" in err.hint


def test_429_past_retries_is_throttled():
    err = translate(http_error(429, "TooManyRequests", "slow down"))
    assert isinstance(err, ThrottledError) and "retry" in err.message


def test_500_is_generic_azure_error():
    err = translate(http_error(500, "InternalError", "boom"))
    assert type(err) is AzureError and err.status == 500 and "InternalError: boom" in err.message


def test_no_credentials():
    err = translate(CredentialUnavailableError("EnvironmentCredential authentication unavailable"))
    assert isinstance(err, AuthenticationError) and "no Azure credentials found" in err.message
    err = translate(ClientAuthenticationError("DefaultAzureCredential failed to retrieve a token from the included credentials."))
    assert isinstance(err, AuthenticationError) and "no Azure credentials found" in err.message


def test_unreachable_and_tls():
    assert isinstance(translate(ServiceRequestError("Connection refused")), UnreachableError)
    tls = ServiceRequestError("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed")
    err = translate(tls)
    assert isinstance(err, UnreachableError) and "ASR_CA_BUNDLE" in err.hint


def test_context_manager_translates_and_chains():
    with pytest.raises(AuthorizationError) as info:
        with azure_errors("create policy p"):
            raise http_error(403, "AuthorizationFailed", "denied")
    assert info.value.message.startswith("create policy p: ")
    assert isinstance(info.value.__cause__, HttpResponseError)


def test_context_manager_leaves_other_exceptions_alone():
    with pytest.raises(KeyError):
        with azure_errors("x"):
            raise KeyError("k")


def test_is_not_found():
    assert is_not_found(http_error(404, "ResourceNotFound", "x", cls=ResourceNotFoundError))
    assert not is_not_found(http_error(403, "AuthorizationFailed", "x"))
