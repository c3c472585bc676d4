"""QR codes on a page: the step ``codes`` and what the separator sheet's code says.

The step reads the QR codes of an image page (``tools.barcodes``, zxing-cpp) into
``Page.codes``, before the OCR. Two kinds of codes matter later, both only as hints:

- the **upload link** a job center prints on its letters (``links.letter_found`` checks that it
  is this submission's case: a code never changes the case);
- our **separator sheet** (``briefkasten link create --separator-pdf``): its payload is
  ``briefkasten:separator:v1:<tenant>:<link_id>``, which ``is_separator`` recognises and the
  splitter (``pipeline.split``) takes as the end of a document.

Payloads are untrusted and may be link tokens: the step's detail and the report carry only
their number, never their text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from briefkasten.errors import InvalidRequest
from briefkasten.model import Page
from briefkasten.pipeline.runner import StepContext
from briefkasten.storage import layout
from briefkasten.tools.barcodes import read_qr

SEPARATOR_PREFIX = "briefkasten:separator:v1:"
SEPARATOR = re.compile(
    r"^briefkasten:separator:v1:"
    r"(?P<tenant>[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?):(?P<link_id>[0-9a-f]{16,64})$"
)


def codes(page: Page, ctx: StepContext) -> Page:
    """The step: the page's QR code payloads in ``page.codes`` (an image page only)."""
    if page.image is None:
        return page.evolve("no pixels")
    found = read_qr(page.image)
    if not found:
        return page.evolve("no QR code", codes=())
    noun = "QR code" if len(found) == 1 else "QR codes"
    return page.evolve(f"{len(found)} {noun}", codes=found)


def separator_payload(tenant: str, link_id: str) -> str:
    """What the separator sheet of ``tenant``'s link ``link_id`` carries in its QR code."""
    if not layout.TENANT.fullmatch(tenant) or not layout.ID.fullmatch(link_id):
        raise InvalidRequest("a separator sheet needs a valid tenant and link id")
    return f"{SEPARATOR_PREFIX}{tenant}:{link_id}"


def separator_of(code: str) -> tuple[str, str] | None:
    """``(tenant, link_id)`` when ``code`` is a separator sheet's payload, else ``None``."""
    match = SEPARATOR.fullmatch(code)
    return (match["tenant"], match["link_id"]) if match else None


def is_separator(codes: Iterable[str]) -> bool:
    """Whether one of a page's codes is our separator sheet's."""
    return any(separator_of(code) is not None for code in codes)
