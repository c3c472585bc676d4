"""Building one document: originals in, one searchable PDF out.

- ``document``: the builder (``build_document``; ``ingest`` for files on disk)
- ``runner``: loads a pipeline definition (``pipelines/*.toml``) and runs its steps on a page
- the steps: ``images``, ``geometry``, ``orientation``, ``quality``, ``ocr``
- ``sniff``, ``precheck``, ``pdfclean``, ``pdfcopy``, ``pdfcost``, ``streams``, ``jpeg``: reading
  untrusted originals safely; ``bundle``: one-page PDFs and the merge
- ``sandbox``, ``pool``: every page in a sandboxed child process
"""
