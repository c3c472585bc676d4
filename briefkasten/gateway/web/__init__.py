"""The applicant's side in the browser: the upload page ``/u/{token}`` and its static files."""
