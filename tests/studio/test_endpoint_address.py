"""Provider addresses: only http(s), and no private networks where the install forbids them."""

import pytest

from studio.models import ProviderEndpoint
from studio.providers import endpoints

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "url", ["ftp://gw.example/v1", "file:///etc/passwd", "gw.example/v1", "https://", " "]
)
def test_only_http_urls_are_accepted(url, settings):
    settings.SLATE_ALLOW_PRIVATE_PROVIDERS = True
    with pytest.raises(endpoints.EndpointInvalid, match="must start with https://"):
        endpoints.check_address(url)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8188",
        "http://localhost:8000/v1",
        "http://10.0.0.7/v1",
        "http://192.168.1.20:8188",
        "http://169.254.169.254/latest/meta-data",  # cloud metadata
        "http://[::1]:9000/v1",
        "http://0.0.0.0/v1",
    ],
)
def test_private_addresses_are_refused_when_the_install_forbids_them(url, settings, workspace):
    settings.SLATE_ALLOW_PRIVATE_PROVIDERS = False
    with pytest.raises(endpoints.EndpointInvalid, match="private network"):
        endpoints.check_address(url)
    with pytest.raises(endpoints.EndpointInvalid):
        endpoints.add_endpoint(
            workspace,
            name="lan",
            kind="openai",
            base_url=url,
            api_key="sk-" + "x" * 20,
            models=["sora-2"],
        )
    assert not ProviderEndpoint.objects.exists()  # nothing stored


def test_public_addresses_pass_and_private_ones_pass_where_allowed(settings):
    settings.SLATE_ALLOW_PRIVATE_PROVIDERS = False
    endpoints.check_address("https://93.184.215.14/v1")  # a literal public address: no DNS
    settings.SLATE_ALLOW_PRIVATE_PROVIDERS = True
    endpoints.check_address("http://192.168.1.20:8188")  # a creator's own GPU on the LAN
