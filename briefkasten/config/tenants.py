"""One job center (tenant): its ``[tenants.<id>]`` table (see ``TenantSettings``)."""

from __future__ import annotations

from dataclasses import dataclass

from briefkasten.config.values import split_list


@dataclass(frozen=True)
class TenantSettings:
    """One job center (tenant), from a ``[tenants.<id>]`` table: the name and logo its
    applicants see, and whether they may upload without a case-bound link (they then type
    their BG-Nummer themselves; off unless switched on here). ``retention_grace_days`` and
    ``retention_max_days`` override ``[retention]`` for this tenant (0 = the global value).

    Empty values fall back to the global ones: ``document_types`` (comma-separated, like
    ``gateway.document_types``) is the catalogue its applicants choose from,
    ``document_type_labels`` (``code=Deutsch|English`` entries, comma-separated) names the
    types the built-in labels do not know, ``pipeline`` names a definition under
    ``pipeline.directory``, ``routing_key_prefix`` (default: the id) starts the routing key of
    its messages (``<prefix>.<document_type>``) and ``api_keys`` (comma-separated) are keys of
    this tenant in addition to the ``TENANT:KEY`` entries of ``gateway.api_keys``."""

    id: str
    name: str = ""
    logo: str = ""
    allow_uploads_without_link: bool = False
    retention_grace_days: int = 0
    retention_max_days: int = 0
    document_types: str = ""
    document_type_labels: str = ""
    pipeline: str = ""
    routing_key_prefix: str = ""
    api_keys: str = ""
    #: The languages its pages may be read in (Tesseract codes; empty: ``ocr.languages``).
    ocr_languages: str = ""
    #: The tenant's own entries of its accessibility statement (empty: ``[accessibility]``).
    accessibility_email: str = ""
    accessibility_phone: str = ""
    accessibility_address: str = ""
    accessibility_enforcement_name: str = ""
    accessibility_enforcement_url: str = ""

    @property
    def display_name(self) -> str:
        return self.name or self.id

    @property
    def catalogue(self) -> tuple[str, ...]:
        """The tenant's own document types; empty: it uses ``gateway.document_types``."""
        return split_list(self.document_types)

    @property
    def routing_prefix(self) -> str:
        return self.routing_key_prefix or self.id

    @property
    def labels(self) -> dict[str, tuple[str, str]]:
        """``{code: (German, English)}`` from ``document_type_labels``."""
        found = {}
        for entry in split_list(self.document_type_labels):
            code, _, text = entry.partition("=")
            de, _, en = text.partition("|")
            found[code.strip()] = (de.strip(), en.strip() or de.strip())
        return found
