"""Translate openstacksdk/keystoneauth exceptions into dcctl errors that say what to do next."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import requests
from keystoneauth1 import exceptions as ka
from openstack import exceptions as sdk

from dcctl.errors import CloudError, ConfigError, DcctlError, PermissionDenied, ServiceUnavailable


def translate(error: Exception, *, cloud: str | None = None, action: str = "") -> DcctlError:
    """Map one SDK exception to the dcctl error the operator should see."""
    cause = error.__cause__ or error.__context__
    if isinstance(error, sdk.SDKException) and isinstance(cause, ka.ClientException):
        # openstacksdk re-raises keystoneauth errors as bare SDKExceptions; keep the real kind.
        return translate(cause, cloud=cloud, action=action)
    where = f" on cloud '{cloud}'" if cloud else ""
    what = f"{action}: " if action else ""
    if isinstance(error, ka.SSLError):
        return ConfigError(
            f"{what}TLS verification failed{where}: {_first_line(error)}",
            hint="set 'cacert' in clouds.yaml to the CA that signed the endpoint's certificate",
        )
    if isinstance(
        error,
        ka.ConnectFailure | ka.ConnectTimeout | ka.DiscoveryFailure | requests.ConnectionError,
    ):
        return ServiceUnavailable(
            f"{what}cannot reach the cloud{where}: {_first_line(error)}",
            hint="check auth_url in clouds.yaml and that the API is up (dcctl sandbox status)",
        )
    if isinstance(error, ka.Unauthorized) or (
        isinstance(error, sdk.HttpException) and error.status_code == 401
    ):
        return PermissionDenied(
            f"{what}authentication failed{where}: the credentials were refused",
            hint="check username, password and project/domain in clouds.yaml",
        )
    if isinstance(error, ka.Forbidden) or (
        isinstance(error, sdk.HttpException) and error.status_code == 403
    ):
        return PermissionDenied(
            f"{what}permission denied{where}: {_first_line(error)}",
            hint="this needs the admin role; ask the cloud administrator",
        )
    if isinstance(error, sdk.ConfigException | ka.MissingRequiredOptions):
        return ConfigError(f"{what}{_first_line(error)}", hint="fix the cloud entry in clouds.yaml")
    return CloudError(f"{what}{_first_line(error)}")


@contextmanager
def cloud_errors(*, cloud: str | None = None, action: str = "") -> Iterator[None]:
    """Re-raise SDK exceptions raised inside the block as dcctl errors."""
    try:
        yield
    except (sdk.SDKException, ka.ClientException) as error:
        raise translate(error, cloud=cloud, action=action) from error


def _first_line(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0]
