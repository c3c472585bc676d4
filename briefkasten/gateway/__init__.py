"""The HTTP boundary: streams uploads, checks them, stores originals, answers with a receipt.

``create_app`` (``app.py``) builds the application: every resource under a typed key
(``keys.py``), the middlewares, and the routes of every route module in one place.

Route modules (they hold handlers only and never import each other):

- ``upload.py``: ``POST /api/v1/submissions``, every way a submission comes in (multipart
  stream or finished tus uploads → checks → ``Intake.receive`` → 202 receipt)
- ``submissions.py``: status, receipt PDF, a link's own submissions, the case system's
  confirmation (``…/ack``)
- ``links.py``: upload links; ``feedback.py``: the instant quality check of a tus upload
- ``tus.py``: resumable uploads (tus 1.0.0); ``health.py``: ``/healthz``, ``/readyz``,
  ``/metrics``; ``admin.py``: the operators' dashboard; ``web/routes.py``: the pages and their
  static files

Library modules (no route module imported): ``auth.py`` (who is asking), ``request.py``
(blocking work off the loop, bounded JSON bodies), ``multipart.py`` (streaming a form to the
spool), ``body.py``, ``spool.py``, ``checks.py`` (the sandboxed sniff and precheck),
``receipt.py`` (the applicant's receipt, JSON and PDF), ``tus_protocol.py``, ``tus_store.py``,
``idempotency.py``, ``hosts.py``, ``security.py``, ``probes.py``, ``web/page.py`` (the pages,
rendered at start-up); ``middleware.py`` runs around every handler.
"""

from briefkasten.gateway.app import create_app

__all__ = ["create_app"]
