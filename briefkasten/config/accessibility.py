"""What the accessibility statement (Erklärung zur Barrierefreiheit, BITV 2.0 § 12b BGG) of
each tenant says: how far the pages conform, when the statement was made, whom applicants
contact about a barrier (the feedback mechanism) and where they turn when the answer does not
help (the enforcement / conciliation body of the tenant's Land).

``[accessibility]`` holds the values for every tenant; a tenant's ``accessibility_*`` entries
override the contact and the enforcement body (each job center has its own).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

#: How far the pages conform: ``partial`` (the honest default: see the known limits the
#: statement lists) or ``full``.
CONFORMANCE = ("partial", "full")


@dataclass(frozen=True)
class AccessibilitySettings:
    """``[accessibility]``: ``conformance`` (``partial`` or ``full``), ``statement_date``
    (``YYYY-MM-DD``, when it was last reviewed), the contact for reports of barriers (``email``,
    ``phone``, ``address``) and the enforcement body (``enforcement_name``,
    ``enforcement_url``)."""

    conformance: str = "partial"
    statement_date: str = "2026-12-02"
    email: str = ""
    phone: str = ""
    address: str = ""
    enforcement_name: str = ""
    enforcement_url: str = ""

    @property
    def has_contact(self) -> bool:
        return bool(self.email or self.phone or self.address)


def statement(
    common: AccessibilitySettings,
    *,
    email: str = "",
    phone: str = "",
    address: str = "",
    enforcement_name: str = "",
    enforcement_url: str = "",
) -> AccessibilitySettings:
    """The statement of a tenant whose own entries are the keyword arguments (empty: global)."""
    own = {
        "email": email,
        "phone": phone,
        "address": address,
        "enforcement_name": enforcement_name,
        "enforcement_url": enforcement_url,
    }
    return replace(common, **{name: value for name, value in own.items() if value})
