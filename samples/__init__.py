"""Sample documents with known truth for tests, the README demo and ``make eval``.

``samples.generate`` renders German job-center pages (Brief, Kontoauszug, Mietvertrag,
Lohnabrechnung, a form) and degrades them (skew, quarter turns, phone photo, low resolution);
``samples.evaluate`` runs the pipeline on a generated set and prints accuracy figures.
"""
