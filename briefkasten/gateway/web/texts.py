"""The texts of the upload page and of the start page without a link, German (plain language)
and English.

German is written for applicants in "Leichte Sprache" style: short sentences, one statement each,
"Sie", no officialese. ``{name}`` placeholders are filled in by the script (always as text,
never as HTML). Both languages travel to the browser, so switching keeps what was added.
"""

from __future__ import annotations

#: English texts for the applicant per error code. An error answer's ``message_de`` is written for
#: applicants, its ``message_en`` for operators ("upload link 3f… was revoked"), so in English the
#: page shows these instead and falls back to ``message_en`` only for a code it does not know.
ENGLISH_ERRORS: dict[str, str] = {
    "link_expired": "This link has expired. Please ask your job center for a new link.",
    "link_revoked": "This link is no longer valid. Please ask your job center for a new link.",
    "unauthorized": "This link is not valid. Please check the link or ask your job center.",
    "forbidden": "This is not allowed here.",
    "rate_limited": "You sent very many requests in a short time. Please wait a minute. "
    "Then try again.",
    "unsupported_type": "We cannot accept this kind of file. Please send a photo "
    "(JPEG, PNG, HEIC, WebP, TIFF, BMP, GIF) or a PDF.",
    "corrupt_input": "The file is damaged or incomplete. Please send it again.",
    "password_protected": "The PDF is protected by a password. Please send it without a password.",
    "empty_input": "The file is empty. Please choose another file.",
    "limit_exceeded": "The file is too big or has too many pages. Please send a smaller file.",
    "input_rejected": "We cannot accept this file.",
    "invalid_request": "Something is missing or wrong. Please check your entries.",
    "not_found": "We could not find this. Please add the file again.",
    "temporarily_unavailable": "The service is not available right now. "
    "Please try again in a few minutes.",
    "storage_unavailable": "The service is not available right now. "
    "Please try again in a few minutes.",
    "broker_unavailable": "The service is not available right now. "
    "Please try again in a few minutes.",
    "config_error": "The service is not set up correctly. Please contact your job center.",
}

GERMAN: dict[str, str] = {
    "title": "Unterlagen senden",
    "lang_switch": "English",
    "brand": "Digitaler Briefkasten",
    "noscript": "Bitte schalten Sie JavaScript ein. Sonst funktioniert diese Seite nicht.",
    "loading": "Der Link wird geprüft. Bitte warten Sie.",
    "intro": "Hier senden Sie Unterlagen an Ihr Jobcenter. Das geht mit dem Handy.",
    "to_jobcenter": "An: {name}",
    "valid_until": "Der Link gilt bis {date}.",
    "link_error_title": "Dieser Link funktioniert nicht.",
    "link_invalid": (
        "Der Link ist falsch. Bitte prüfen Sie den Link oder fragen Sie beim Jobcenter."
    ),
    "network_error": (
        "Keine Verbindung. Bitte prüfen Sie Ihr Internet. Versuchen Sie es dann noch einmal."
    ),
    "retry": "Noch einmal versuchen",
    "requested_title": "Das Jobcenter bittet Sie um diese Unterlagen:",
    "requested_sent": "{type} – schon gesendet",
    "step1_title": "Schritt 1 von 2: Unterlagen hinzufügen",
    "type_legend": "Was für ein Dokument ist das?",
    "type_hint": "Bitte wählen Sie eins aus.",
    "pages_title": "Seiten hinzufügen",
    "pages_hint": (
        "Machen Sie von jeder Seite ein Foto. Oder wählen Sie Dateien aus. PDF geht auch."
    ),
    "take_photo": "Foto machen",
    "choose_files": "Dateien auswählen",
    "no_pages": "Sie haben noch keine Seiten hinzugefügt.",
    "pages_list": "Ihre Seiten",
    "page_n": "Seite {n}",
    "pdf_pages": "PDF mit {n} Seiten",
    "pdf_page": "PDF mit 1 Seite",
    "move_up": "Nach oben",
    "move_down": "Nach unten",
    "remove": "Löschen",
    "retry_upload": "Noch einmal hochladen",
    "status_waiting": "Wartet auf das Hochladen.",
    "status_uploading": "Wird hochgeladen: {percent} %",
    "status_checking": "Hochgeladen. Die Seite wird geprüft.",
    "status_done": "Hochgeladen. Alles in Ordnung.",
    "status_warning": "Hochgeladen. Bitte lesen Sie den Hinweis.",
    "status_failed": "Das Hochladen hat nicht geklappt.",
    "upload_progress": "Hochladen von {name}",
    "finding_prefix": "Hinweis:",
    "finding_may_send": "Sie können die Seite trotzdem senden.",
    "overall_label": "Alle Dateien",
    "overall_status": "{done} von {total} Dateien hochgeladen.",
    "announce_added": "Seiten hinzugefügt: {n}.",
    "announce_done": "Seite {n} ist hochgeladen.",
    "announce_finding": "Hinweis zu Seite {n}: {message}",
    "announce_removed": "Die Seite ist gelöscht.",
    "announce_moved": "Die Seite ist jetzt Seite {n}.",
    "too_big": "Die Datei „{name}“ ist zu groß. Erlaubt sind höchstens {mb} MB.",
    "wrong_type": (
        "Die Datei „{name}“ können wir nicht annehmen. Bitte senden Sie ein Foto oder ein PDF."
    ),
    "too_many": "Sie können höchstens {max} Dateien auf einmal senden.",
    "upload_error": "Die Datei konnte nicht hochgeladen werden.",
    "to_review": "Weiter: Prüfen und senden",
    "need_type": "Bitte wählen Sie aus, was für ein Dokument das ist.",
    "need_pages": "Bitte fügen Sie mindestens eine Seite hinzu.",
    "wait_uploads": "Bitte warten Sie. Es werden noch Dateien hochgeladen.",
    "fix_failed": (
        "Eine Datei konnte nicht hochgeladen werden. "
        "Bitte löschen Sie die Datei. Oder laden Sie sie noch einmal hoch."
    ),
    "step2_title": "Schritt 2 von 2: Prüfen und senden",
    "review_intro": "Bitte prüfen Sie: Ist alles richtig?",
    "review_type": "Dokument",
    "review_pages": "Seiten",
    "review_warnings": (
        "Bei {n} Seiten gibt es einen Hinweis. Sie können trotzdem senden. "
        "Oder Sie gehen zurück und machen ein neues Foto."
    ),
    "review_warning_one": (
        "Bei 1 Seite gibt es einen Hinweis. Sie können trotzdem senden. "
        "Oder Sie gehen zurück und machen ein neues Foto."
    ),
    "note_label": "Nachricht an das Jobcenter (freiwillig)",
    "note_hint": "Höchstens 500 Zeichen.",
    "back": "Zurück und ändern",
    "send": "Jetzt senden",
    "sending": "Die Unterlagen werden gesendet. Bitte warten Sie.",
    "send_failed": "Das Senden hat nicht geklappt.",
    "receipt_title": "Vielen Dank! Ihre Unterlagen sind angekommen.",
    "receipt_intro": "Das ist Ihre Eingangsbestätigung. Bitte speichern Sie sie.",
    "receipt_jobcenter": "Jobcenter",
    "receipt_case": "BG-Nummer",
    "receipt_received": "Eingegangen am",
    "receipt_number": "Vorgangsnummer",
    "receipt_documents": "Unterlagen",
    "receipt_pages": "Seiten: {n}",
    "receipt_checksum": "Prüfsumme (SHA-256):",
    "receipt_duplicate": "Diese Datei haben Sie schon einmal gesendet.",
    "save_pdf": "Quittung als PDF speichern",
    "pdf_saved": "Die Quittung ist gespeichert.",
    "pdf_failed": "Die Quittung konnte nicht geladen werden. Bitte versuchen Sie es noch einmal.",
    "send_more": "Weitere Unterlagen senden",
    "history_title": "Ihre bisherigen Sendungen",
    "history_files": "Dateien: {n}",
    "history_pdf": "Quittung als PDF",
    "history_pdf_label": "Quittung vom {date} als PDF speichern",
    "state_received": "Angekommen",
    "state_processing": "Wird bearbeitet",
    "state_delivered": "Fertig. Das Jobcenter hat die Unterlagen.",
    "state_normalisation_failed": "Fertig. Das Jobcenter hat die Unterlagen.",
    "state_failed": "Es gab ein Problem. Das Jobcenter kümmert sich darum.",
    "state_unknown": "Angekommen",
    "status_label": "Stand:",
    "date_format": "de-DE",
}

ENGLISH: dict[str, str] = {
    "title": "Send documents",
    "lang_switch": "Deutsch",
    "brand": "Digital mailbox",
    "noscript": "Please turn on JavaScript. This page does not work without it.",
    "loading": "Checking the link. Please wait.",
    "intro": "Here you can send documents to your job center. You can use your phone.",
    "to_jobcenter": "To: {name}",
    "valid_until": "This link is valid until {date}.",
    "link_error_title": "This link does not work.",
    "link_invalid": "The link is wrong. Please check the link or ask your job center.",
    "network_error": "No connection. Please check your internet. Then try again.",
    "retry": "Try again",
    "requested_title": "Your job center asks you for these documents:",
    "requested_sent": "{type} – already sent",
    "step1_title": "Step 1 of 2: Add documents",
    "type_legend": "What kind of document is this?",
    "type_hint": "Please choose one.",
    "pages_title": "Add pages",
    "pages_hint": "Take a photo of each page. Or choose files. PDF works too.",
    "take_photo": "Take a photo",
    "choose_files": "Choose files",
    "no_pages": "You have not added any pages yet.",
    "pages_list": "Your pages",
    "page_n": "Page {n}",
    "pdf_pages": "PDF with {n} pages",
    "pdf_page": "PDF with 1 page",
    "move_up": "Move up",
    "move_down": "Move down",
    "remove": "Delete",
    "retry_upload": "Upload again",
    "status_waiting": "Waiting to upload.",
    "status_uploading": "Uploading: {percent} %",
    "status_checking": "Uploaded. Checking the page.",
    "status_done": "Uploaded. Everything is fine.",
    "status_warning": "Uploaded. Please read the note.",
    "status_failed": "The upload did not work.",
    "upload_progress": "Uploading {name}",
    "finding_prefix": "Note:",
    "finding_may_send": "You can still send this page.",
    "overall_label": "All files",
    "overall_status": "{done} of {total} files uploaded.",
    "announce_added": "Pages added: {n}.",
    "announce_done": "Page {n} is uploaded.",
    "announce_finding": "Note on page {n}: {message}",
    "announce_removed": "The page is deleted.",
    "announce_moved": "The page is now page {n}.",
    "too_big": "The file “{name}” is too big. The limit is {mb} MB.",
    "wrong_type": "We cannot accept the file “{name}”. Please send a photo or a PDF.",
    "too_many": "You can send at most {max} files at once.",
    "upload_error": "The file could not be uploaded.",
    "to_review": "Next: check and send",
    "need_type": "Please choose what kind of document this is.",
    "need_pages": "Please add at least one page.",
    "wait_uploads": "Please wait. Files are still uploading.",
    "fix_failed": "A file could not be uploaded. Please delete it. Or upload it again.",
    "step2_title": "Step 2 of 2: Check and send",
    "review_intro": "Please check: Is everything right?",
    "review_type": "Document",
    "review_pages": "Pages",
    "review_warnings": (
        "There is a note on {n} pages. You can still send. Or go back and take a new photo."
    ),
    "review_warning_one": (
        "There is a note on 1 page. You can still send. Or go back and take a new photo."
    ),
    "note_label": "Message to the job center (optional)",
    "note_hint": "At most 500 characters.",
    "back": "Go back and change",
    "send": "Send now",
    "sending": "Sending your documents. Please wait.",
    "send_failed": "Sending did not work.",
    "receipt_title": "Thank you! Your documents have arrived.",
    "receipt_intro": "This is your receipt. Please save it.",
    "receipt_jobcenter": "Job center",
    "receipt_case": "Case number (BG-Nummer)",
    "receipt_received": "Received on",
    "receipt_number": "Reference number",
    "receipt_documents": "Documents",
    "receipt_pages": "Pages: {n}",
    "receipt_checksum": "Checksum (SHA-256):",
    "receipt_duplicate": "You have sent this file before.",
    "save_pdf": "Save receipt as PDF",
    "pdf_saved": "The receipt is saved.",
    "pdf_failed": "The receipt could not be loaded. Please try again.",
    "send_more": "Send more documents",
    "history_title": "What you sent before",
    "history_files": "Files: {n}",
    "history_pdf": "Receipt as PDF",
    "history_pdf_label": "Save the receipt of {date} as PDF",
    "state_received": "Arrived",
    "state_processing": "Being processed",
    "state_delivered": "Done. Your job center has the documents.",
    "state_normalisation_failed": "Done. Your job center has the documents.",
    "state_failed": "There was a problem. Your job center takes care of it.",
    "state_unknown": "Arrived",
    "status_label": "Status:",
    "date_format": "en-GB",
}

#: The start page ``/t/{tenant}`` for uploads without a link: type the BG-Nummer, get a link.
START_GERMAN: dict[str, str] = {
    **{key: GERMAN[key] for key in ("title", "lang_switch", "brand", "noscript", "to_jobcenter")},
    "network_error": GERMAN["network_error"],
    "start_intro": (
        "Hier senden Sie Unterlagen an Ihr Jobcenter. Das geht mit dem Handy. "
        "Dafür brauchen Sie Ihre BG-Nummer."
    ),
    "case_label": "Ihre BG-Nummer",
    "case_hint": (
        "Die BG-Nummer steht oben auf Ihren Briefen vom Jobcenter, zum Beispiel 12345BG0012345."
    ),
    "error_prefix": "Fehler:",
    "case_missing": "Bitte geben Sie Ihre BG-Nummer ein.",
    "case_invalid": (
        "Diese BG-Nummer ist nicht richtig. Eine BG-Nummer hat 5 Ziffern, dann BG, "
        "dann 7 Ziffern. Zum Beispiel: 12345BG0012345."
    ),
    "continue": "Weiter",
    "waiting": "Bitte warten Sie einen Moment.",
    "start_failed": "Das hat nicht geklappt. Bitte versuchen Sie es noch einmal.",
    "no_link_title": "Hier geht das nur mit einem Link.",
    "no_link": (
        "Ihr Jobcenter schickt Ihnen einen Link für Ihre Unterlagen. Bitte öffnen Sie diesen "
        "Link. Sie haben keinen Link? Dann fragen Sie beim Jobcenter."
    ),
    "unknown_title": "Diese Seite gibt es nicht.",
    "unknown": "Bitte prüfen Sie die Adresse. Oder fragen Sie beim Jobcenter nach einem Link.",
}

START_ENGLISH: dict[str, str] = {
    **{key: ENGLISH[key] for key in ("title", "lang_switch", "brand", "noscript", "to_jobcenter")},
    "network_error": ENGLISH["network_error"],
    "start_intro": (
        "Here you can send documents to your job center. You can use your phone. "
        "You need your case number (BG-Nummer) for this."
    ),
    "case_label": "Your case number (BG-Nummer)",
    "case_hint": (
        "The case number is at the top of the letters from your job center, "
        "for example 12345BG0012345."
    ),
    "error_prefix": "Error:",
    "case_missing": "Please enter your case number.",
    "case_invalid": (
        "This case number is not right. A case number has 5 digits, then BG, then 7 digits. "
        "For example: 12345BG0012345."
    ),
    "continue": "Continue",
    "waiting": "Please wait a moment.",
    "start_failed": "That did not work. Please try again.",
    "no_link_title": "This only works with a link.",
    "no_link": (
        "Your job center sends you a link for your documents. Please open this link. "
        "You do not have a link? Then ask your job center."
    ),
    "unknown_title": "This page does not exist.",
    "unknown": "Please check the address. Or ask your job center for a link.",
}

TEXTS: dict[str, dict[str, str]] = {"de": GERMAN, "en": ENGLISH}
START_TEXTS: dict[str, dict[str, str]] = {"de": START_GERMAN, "en": START_ENGLISH}
ERRORS: dict[str, dict[str, str]] = {"en": ENGLISH_ERRORS}
LANGUAGES: tuple[str, ...] = tuple(TEXTS)
