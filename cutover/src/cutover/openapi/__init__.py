"""One OpenAPI 3.1 document for both sides of the migration, at `{docs_prefix}/openapi.json`.

`legacy` documents the Flask rules, `merge` joins them to FastAPI's schema, `sampling` and
`samples` learn the answers from the traffic, `learned` adds them (marked inferred), `serve`
answers the document and its Swagger UI.
"""

from cutover.openapi.legacy import legacy_operations
from cutover.openapi.merge import build_document
from cutover.openapi.sampling import ResponseSampler
from cutover.openapi.serve import OpenAPISource

__all__ = ["OpenAPISource", "ResponseSampler", "build_document", "legacy_operations"]
