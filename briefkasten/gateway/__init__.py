"""The HTTP boundary: streams uploads, checks them, stores originals, answers with a receipt."""

from briefkasten.gateway.app import create_app

__all__ = ["create_app"]
