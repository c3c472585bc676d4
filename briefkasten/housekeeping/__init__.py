"""Housekeeping: retention sweep, case-system confirmations, the reconciler, periodic threads."""
