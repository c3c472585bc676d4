"""Thin wrappers around external programs; each can say ``version()`` and ``available()``."""
