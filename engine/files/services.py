"""The service description file (`<name>.service.yaml`): a service and the OpenAPI spec it has.

```yaml
version: 1
service: Petstore
openapi: specs/petstore.yaml        # relative to this file
baseUrl: http://petstore.swagger.io/v1
```

`switchboard import-openapi` writes one beside the workflows; the catalog reads its operations
from the spec, and `validate` checks call steps and mocks of that service against them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine.core.errors import Collector
from engine.core.model import Comments
from engine.core.names import SERVICE_RE
from engine.files.shapes import as_map, check_keys, opt_str, parse_version
from engine.files.yamlwrite import dump_data

__all__ = ["ServiceFile", "SERVICE_KEYS", "parse_service_data", "dump_service", "service_to_data"]

SERVICE_KEYS = frozenset({"version", "service", "openapi", "baseUrl", "description"})


@dataclass
class ServiceFile:
    """A logical service name, the path of its OpenAPI document, and an optional base URL."""

    service: str = ""
    openapi: str = ""
    base_url: str | None = None
    description: str | None = None
    version: int = 1
    comments: Comments = field(default_factory=dict, compare=False, repr=False)


def parse_service_data(c: Collector, data: Any) -> ServiceFile | None:
    d = as_map(c, data, (), "a service description file")
    if d is None:
        return None
    parse_version(c, d, "service description")
    check_keys(c, d, SERVICE_KEYS, (), "a service description")
    sf = ServiceFile()
    for key in ("service", "openapi"):
        value = opt_str(c, d, key, ())
        if value is None and key not in d:
            c.add(f"the service description has no '{key}': add it", ())
        setattr(sf, key, value or "")
    if sf.service and not SERVICE_RE.match(sf.service):
        c.add(
            f"'{sf.service}' is not a service name: letters, digits, '_', '.', '-', starting "
            "with a letter",
            ("service",),
        )
    sf.base_url = opt_str(c, d, "baseUrl", ())
    sf.description = opt_str(c, d, "description", ())
    return sf


def dump_service(sf: ServiceFile, comments: bool = True) -> str:
    return dump_data(service_to_data(sf), sf.comments if comments else None)


def service_to_data(sf: ServiceFile) -> dict[str, Any]:
    out: dict[str, Any] = {"version": sf.version, "service": sf.service}
    if sf.description is not None:
        out["description"] = sf.description
    out["openapi"] = sf.openapi
    if sf.base_url is not None:
        out["baseUrl"] = sf.base_url
    return out
