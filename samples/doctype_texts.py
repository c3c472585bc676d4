"""The wording of the pages of :mod:`samples.doctypes`: certificates, decisions with their legal
remedy, other letters (``str.format`` fields of ``samples.texts.facts``). All invented."""

from __future__ import annotations

CERTIFICATES = (
    (
        "Arbeitsbescheinigung",
        "Hiermit bescheinigen wir, dass {name}, geboren am {born}, seit dem {date} bei uns als "
        "{job} beschäftigt ist. Die wöchentliche Arbeitszeit beträgt {hours} Stunden.",
        "Das Arbeitsverhältnis ist {status}. Diese Bescheinigung wird auf Wunsch des Mitarbeiters "
        "zur Vorlage beim Jobcenter ausgestellt.",
    ),
    (
        "Schulbescheinigung",
        "Hiermit wird bestätigt, dass {name}, geboren am {born}, im Schuljahr {year}/{next} die "
        "Klasse {klasse} unserer Schule besucht.",
        "Der Schulbesuch ist voraussichtlich bis zum {deadline} fortgesetzt. Die "
        "Bescheinigung wird zur Vorlage bei Behörden ausgestellt.",
    ),
    (
        "Mietbescheinigung",
        "Ich bestätige als Eigentümer der Wohnung {street}, dass {name} dort seit dem {date} "
        "wohnt. Die Wohnfläche beträgt {sqm} Quadratmeter.",
        "Die monatlichen Kosten setzen sich zusammen aus {rent} Miete und {heat} Abschlag. Die "
        "Angaben wurden nach bestem Wissen gemacht; die Richtigkeit wird bescheinigt.",
    ),
    (
        "Mitgliedsbescheinigung",
        "Wir bescheinigen, dass {name} seit dem {date} Mitglied unserer Krankenkasse ist und "
        "über uns versichert ist.",
        "Diese Bescheinigung gilt nur in Verbindung mit einem amtlichen Lichtbildausweis. Bei "
        "Fragen erreichen Sie uns unter {phone}.",
    ),
    (
        "Bescheinigung über den Besuch eines Integrationskurses",
        "Hiermit wird bestätigt, dass {name} seit dem {date} regelmäßig an unserem "
        "Integrationskurs teilnimmt. Der Kurs umfasst {hours} Unterrichtsstunden pro Woche.",
        "Die Teilnahme ist voraussichtlich am {deadline} beendet. Fehlzeiten sind nicht "
        "aufgetreten.",
    ),
)


DECISIONS = (
    (
        "Jobcenter {city}",
        "Bescheid über die Bewilligung von Leistungen zur Sicherung des Lebensunterhalts",
        "auf Ihren Antrag vom {date} bewillige ich Ihnen Bürgergeld nach dem SGB II für die Zeit "
        "vom 1. {month} {year} bis zum 30. {next_month} {year}. Der monatliche Betrag "
        "beträgt {amount}.",
    ),
    (
        "Jobcenter {city}",
        "Änderungsbescheid",
        "Ihr Bescheid vom {date} wird für die Zeit ab dem 1. {month} {year} geändert, weil sich "
        "Ihr Einkommen geändert hat. Die Leistungen werden auf {amount} monatlich festgesetzt.",
    ),
    (
        "Familienkasse {city}",
        "Bescheid über Kindergeld",
        "Für Ihr Kind wird Kindergeld nach dem Einkommensteuergesetz ab {month} {year} in Höhe von "
        "255,00 € monatlich festgesetzt. Die Zahlung erfolgt auf Ihr Konto.",
    ),
    (
        "Stadt {city} – Wohngeldstelle",
        "Wohngeldbescheid",
        "auf Ihren Antrag vom {date} wird Ihnen nach dem Wohngeldgesetz (WoGG) für den "
        "Bewilligungszeitraum ab 1. {month} {year} ein Wohngeld von {heat} monatlich bewilligt.",
    ),
    (
        "Jobcenter {city}",
        "Aufhebungs- und Erstattungsbescheid",
        "die Entscheidung über die Bewilligung von Leistungen nach dem SGB II wird für den {month} "
        "{year} teilweise aufgehoben. Sie haben {heat} zu erstatten.",
    ),
)


LEGAL = (
    "Rechtsbehelfsbelehrung: Gegen diesen Bescheid kann innerhalb eines Monats nach Bekanntgabe "
    "Widerspruch erhoben werden. Der Widerspruch ist schriftlich oder zur Niederschrift bei der "
    "oben genannten Stelle einzulegen.",
    "Rechtsbehelfsbelehrung\nGegen diese Entscheidung können Sie binnen eines Monats nach ihrer "
    "Bekanntgabe Widerspruch einlegen, schriftlich oder elektronisch.",
)


OTHERS = (
    (
        "Jobcenter {city}",
        "Einladung",
        "bitte kommen Sie am {deadline} um {time} zu einem Gespräch über Ihre berufliche "
        "Situation. Bringen Sie bitte Ihren Lebenslauf mit.",
        "Falls Sie verhindert sind, rufen Sie mich bitte vorher unter {phone} an.",
    ),
    (
        "FitWerk Sportstudio {city}",
        "Bestätigung Ihrer Kündigung",
        "wir haben Ihr Schreiben erhalten. Ihre Mitgliedschaft endet zum {deadline}. Bis dahin "
        "können Sie alle Kurse wie gewohnt nutzen.",
        "Wir würden uns freuen, Sie irgendwann wieder bei uns begrüßen zu dürfen.",
    ),
    (
        "Stadtwerke {city}",
        "Information zur Anpassung Ihrer Strompreise",
        "zum {deadline} ändern sich die Preise für Ihren Stromtarif. Der Arbeitspreis steigt um "
        "zwei Cent je Kilowattstunde, der Grundpreis bleibt gleich.",
        "Sie haben ein Sonderkündigungsrecht. Unser Kundenservice ist unter {phone} erreichbar.",
    ),
    (
        "Kleingartenverein Grüne Aue e.V.",
        "Einladung zum Sommerfest",
        "am {deadline} feiern wir ab {time} unser Sommerfest auf der Festwiese. Für Kuchen und "
        "Getränke ist gesorgt, Spenden für die Tombola sind willkommen.",
        "Bitte melden Sie sich bis zum {date} beim Vorstand an, damit wir planen können.",
    ),
)
