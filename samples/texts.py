"""German content for the sample documents: names, places, and paragraph templates.

Everything here is invented. The pools are chosen so that the pages carry many umlauts and ß
(Größe, Straße, Gebühren, Übersicht …), which the OCR and the PDF text layer must keep intact.
Templates use ``str.format`` fields filled from :func:`facts`.
"""

from __future__ import annotations

import random


def _items(text: str) -> tuple[str, ...]:
    """A pool written as one string: items separated by ``;``."""
    return tuple(item.strip() for item in text.split(";") if item.strip())


MALE_NAMES = _items("Jürgen; Sören; Jörg; Björn; Günther; Ümit; Mehmet; Lukas; Jens; Rüdiger")
FEMALE_NAMES = _items("Käthe; Bärbel; Özlem; Hülya; Dörte; Anna; Katarzyna; Grete; Jördis; Mareike")
SURNAMES = _items(
    "Müller; Schäfer; Köhler; Krüger; Jäger; Böhm; Schröder; Groß; Weiß; Strauß; Fuß; Lößner; "
    "Düring; Günther; Nowak; Kowalski; Schulze; Möller; Hübner; Börner; Kühn; Süß; Wößner; Meißner"
)
STREETS = _items(
    "Hauptstraße; Bahnhofstraße; Gartenstraße; Lindenstraße; Schillerstraße; Goethestraße; "
    "Mühlenweg; Am Brühl; Königstraße; Friedrich-Ebert-Straße; Schloßstraße; Güterstraße; "
    "Rosenhöhe; Grüner Weg; Weißenfelser Straße; Bürgermeister-Smidt-Straße; Kärrnerstraße; "
    "Blücherstraße; Fußgängerzone Süd"
)
CITIES = tuple(
    (item[:5], item[6:])
    for item in _items(
        "04109 Leipzig; 70173 Stuttgart; 50667 Köln; 80331 München; 90402 Nürnberg; "
        "99084 Erfurt; 01067 Dresden; 66111 Saarbrücken; 97070 Würzburg; 48143 Münster; "
        "37073 Göttingen; 44135 Dortmund; 79098 Freiburg; 39104 Magdeburg; 33602 Bielefeld; "
        "23552 Lübeck; 40213 Düsseldorf; 45127 Essen; 73728 Esslingen; 89073 Ulm"
    )
)
MONTHS = _items(
    "Januar; Februar; März; April; Mai; Juni; Juli; August; September; Oktober; November; Dezember"
)
BANKS = _items(
    "Sparkasse {city}; Volksbank {city} eG; Stadtsparkasse {city}; Postbank; "
    "Raiffeisenbank {city} eG; Sparda-Bank Süd eG"
)
EMPLOYERS = _items(
    "Bäckerei Müller GmbH & Co. KG; Gebäudereinigung Süßmann GmbH; Pflegedienst Fürsorge gGmbH; "
    "Möbelhaus Krüger KG; Logistik Nordhöhe GmbH; Gärtnerei Grünschön e.K.; "
    "Hausmeisterservice Schößler; Großküche Überall GmbH"
)
INSURERS = _items(
    "AOK Baden-Württemberg; Techniker Krankenkasse; Barmer; DAK-Gesundheit; IKK classic; "
    "AOK Nordost; BKK Süd"
)


def german_amount(value: float, *, sign: bool = False) -> str:
    """``1234.5`` → ``"1.234,50 €"`` (``sign`` adds ``+`` to positive amounts)."""
    text = f"{abs(value):,.2f}".replace(",", "X").replace(".", ",").replace("X", ".")
    prefix = "-" if value < 0 else ("+" if sign else "")
    return f"{prefix}{text} €"


def german_date(rng: random.Random, year: int | None = None) -> tuple[int, int, int]:
    """A random (day, month, year)."""
    return rng.randint(1, 28), rng.randint(1, 12), year or rng.randint(2023, 2025)


def fmt_date(day: int, month: int, year: int) -> str:
    return f"{day:02d}.{month:02d}.{year}"


def bg_number(rng: random.Random) -> str:
    """A BG-Nummer (Bedarfsgemeinschaft) such as ``12345BG0012345``."""
    return f"{rng.randint(10000, 99999)}BG{rng.randint(0, 9999999):07d}"


def iban(rng: random.Random) -> str:
    digits = "".join(str(rng.randint(0, 9)) for _ in range(20))
    raw = f"DE{digits}"
    return " ".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def person(rng: random.Random) -> dict[str, str]:
    plz, city = rng.choice(CITIES)
    male = rng.random() < 0.5
    return {
        "salutation": "Herrn" if male else "Frau",
        "first": rng.choice(MALE_NAMES if male else FEMALE_NAMES),
        "last": rng.choice(SURNAMES),
        "street": f"{rng.choice(STREETS)} {rng.randint(1, 140)}",
        "plz": plz,
        "city": city,
    }


def facts(rng: random.Random) -> dict[str, str]:
    """Values for the template fields: names, dates, amounts, numbers."""
    day, month, year = german_date(rng)
    clerk = rng.choice(SURNAMES)
    plz, city = rng.choice(CITIES)
    return {
        "city": city,
        "plz": plz,
        "date": fmt_date(day, month, year),
        "deadline": fmt_date(rng.randint(1, 28), month % 12 + 1, year + (month == 12)),
        "month": MONTHS[month - 1],
        "next_month": MONTHS[month % 12],
        "year": str(year),
        "bg": bg_number(rng),
        "clerk": f"Frau {clerk}" if rng.random() < 0.5 else f"Herr {clerk}",
        "room": f"{rng.choice('ABC')} {rng.randint(1, 4)}.{rng.randint(1, 40):02d}",
        "phone": f"0{rng.randint(200, 999)} {rng.randint(100, 999)}-{rng.randint(1000, 9999)}",
        "amount": german_amount(rng.randint(30000, 160000) / 100),
        "rent": german_amount(rng.randint(38000, 72000) / 100),
        "heat": german_amount(rng.randint(6000, 14000) / 100),
        "sqm": f"{rng.randint(38, 85)},{rng.choice('05')}0",
        "time": f"{rng.randint(8, 15)}:{rng.choice(['00', '15', '30', '45'])} Uhr",
        "persons": str(rng.randint(2, 5)),
    }


LETTER_TYPES: dict[str, tuple[str, ...]] = {
    "Aufforderung zur Mitwirkung nach § 60 SGB I": (
        "Sehr geehrte Damen und Herren,",
        "für die Prüfung Ihres Antrags auf Bürgergeld benötige ich von Ihnen weitere Unterlagen. "
        "Bitte reichen Sie die folgenden Nachweise bis spätestens {deadline} bei uns ein. Sie "
        "können die Unterlagen persönlich abgeben, per Post schicken oder über den digitalen "
        "Briefkasten hochladen.",
        "1. Vollständige Kontoauszüge aller Girokonten der letzten drei Monate, lückenlos und "
        "ohne Schwärzungen der Beträge. Buchungstexte über Gebühren dürfen Sie nicht entfernen.",
        "2. Den aktuellen Mietvertrag mit Angaben zur Größe der Wohnung in Quadratmetern sowie "
        "die letzte Nebenkostenabrechnung und den Nachweis über die Höhe der Heizkosten.",
        "3. Lohnabrechnungen für die Monate {month} und {next_month} {year}, falls Sie oder eine "
        "Person Ihrer Bedarfsgemeinschaft Einkommen aus einer Beschäftigung erzielen.",
        "4. Eine Übersicht über Ihr Vermögen, zum Beispiel Sparbücher, Bausparverträge, "
        "Lebensversicherungen oder Kraftfahrzeuge, jeweils mit dem aktuellen Wert.",
    ),
    "Bescheid über die Bewilligung von Bürgergeld": (
        "Sehr geehrte Damen und Herren,",
        "auf Ihren Antrag vom {date} bewillige ich Ihnen und den mit Ihnen in der "
        "Bedarfsgemeinschaft lebenden Personen Leistungen zur Sicherung des Lebensunterhalts "
        "nach dem Zweiten Buch Sozialgesetzbuch (SGB II) für die Zeit ab dem 1. {month} {year}.",
        "Der monatliche Gesamtbetrag beläuft sich auf {amount}. Darin sind die Kosten für "
        "Unterkunft und Heizung in Höhe von {rent} enthalten. Die Berechnung der Leistungen "
        "können Sie der beigefügten Übersicht entnehmen.",
        "Die Zahlung erfolgt monatlich im Voraus auf das von Ihnen angegebene Konto. Bitte "
        "prüfen Sie diesen Bescheid sorgfältig und teilen Sie mir Änderungen Ihrer "
        "persönlichen oder wirtschaftlichen Verhältnisse unverzüglich mit.",
        "Für die Heizkosten werden monatlich {heat} berücksichtigt. Eine Nachzahlung aus der "
        "jährlichen Abrechnung Ihres Vermieters übernehmen wir nur, soweit sie angemessen ist.",
    ),
    "Einladung zu einem persönlichen Gespräch": (
        "Sehr geehrte Damen und Herren,",
        "bitte kommen Sie am {deadline} um {time} in das Jobcenter {city}, Zimmer {room}. Ich "
        "möchte mit Ihnen über Ihre aktuelle berufliche Situation und Ihre Möglichkeiten zur "
        "Aufnahme einer Beschäftigung sprechen.",
        "Bringen Sie bitte Ihren Personalausweis, Ihren Lebenslauf und Nachweise über Ihre "
        "Bemühungen um Arbeit mit. Falls Sie an dem Termin verhindert sind, rufen Sie mich "
        "bitte vorher unter {phone} an, damit wir einen neuen Termin vereinbaren können.",
        "Dies ist eine Einladung nach § 59 SGB II in Verbindung mit § 309 SGB III. Fahrkosten "
        "können Ihnen auf Antrag erstattet werden, wenn Sie öffentliche Verkehrsmittel nutzen.",
    ),
    "Prüfung der Angemessenheit Ihrer Unterkunftskosten": (
        "Sehr geehrte Damen und Herren,",
        "Ihre Wohnung in der {home} hat eine Größe von {sqm} Quadratmetern. Die monatliche "
        "Miete einschließlich der Nebenkosten beträgt {rent}. Nach unserer Prüfung übersteigen "
        "diese Kosten die für {persons} Personen angemessene Höhe in {city}.",
        "Ich fordere Sie deshalb auf, Ihre Unterkunftskosten zu senken, zum Beispiel durch "
        "Untervermietung, Verhandlungen mit Ihrem Vermieter oder einen Umzug in eine günstigere "
        "Wohnung. Die tatsächlichen Kosten übernehme ich längstens für sechs Monate.",
        "Bitte legen Sie mir bis zum {deadline} Nachweise über Ihre Bemühungen vor, etwa "
        "Schriftverkehr mit Vermietern, Wohnungsanzeigen oder Bestätigungen von Besichtigungen.",
    ),
}

LETTER_EXTRAS = (
    "Wenn Sie die Unterlagen nicht fristgerecht einreichen, kann ich die Leistungen nach § 66 "
    "SGB I ganz oder teilweise versagen, bis Sie die Mitwirkung nachholen. Das gilt auch für "
    "Gebühren und Zuschläge, die von den fehlenden Nachweisen abhängen.",
    "Hinweise zum Datenschutz: Ihre Daten werden nur für die Prüfung Ihres Anspruchs genutzt. "
    "Schwärzen dürfen Sie auf Kontoauszügen die Empfänger von Zahlungen für Mitgliedsbeiträge, "
    "Parteien oder Religionsgemeinschaften, nicht jedoch die Beträge.",
    "Gegen diesen Bescheid können Sie innerhalb eines Monats nach Bekanntgabe Widerspruch "
    "erheben. Der Widerspruch ist schriftlich oder zur Niederschrift beim Jobcenter {city}, "
    "{street}, {plz} {city}, einzulegen.",
    "Bitte geben Sie bei jeder Rückfrage und auf allen Unterlagen Ihre BG-Nummer {bg} an. So "
    "können wir Ihre Post schneller zuordnen und Verzögerungen bei der Zahlung vermeiden.",
    "Bitte beachten Sie: Änderungen in Ihren Verhältnissen, zum Beispiel die Aufnahme einer "
    "Arbeit, ein Umzug, die Geburt eines Kindes oder höhere Einkünfte, müssen Sie uns sofort "
    "mitteilen. Zu Unrecht gezahlte Leistungen müssen Sie zurückzahlen.",
    "Sie können Ihre Unterlagen auch über den digitalen Briefkasten des Jobcenters schicken. "
    "Fotografieren Sie dazu jede Seite vollständig und gut lesbar, möglichst bei Tageslicht "
    "und ohne Schatten auf dem Papier.",
    "Für Rückfragen stehe ich Ihnen gern zur Verfügung. Wenn Sie einen Dolmetscher benötigen, "
    "teilen Sie mir das bitte vorher mit; die Gebühren dafür übernimmt das Jobcenter.",
    "Unsere Öffnungszeiten: Montag bis Freitag von 8:00 bis 12:00 Uhr, Donnerstag zusätzlich "
    "von 14:00 bis 18:00 Uhr. Außerhalb dieser Zeiten erreichen Sie uns nach Vereinbarung.",
)

LEASE_SECTIONS = (
    (
        "Mietsache",
        "Vermietet wird die Wohnung im {floor} des Hauses {street}, {plz} {city}, "
        "bestehend aus {rooms} Zimmern, Küche, Bad mit WC, Flur und Balkon. Die Größe der Wohnung "
        "beträgt {sqm} Quadratmeter. Mitvermietet werden ein Kellerabteil und die Mitbenutzung "
        "der Gemeinschaftsräume.",
    ),
    (
        "Mietzeit",
        "Das Mietverhältnis beginnt am {date} und läuft auf unbestimmte Zeit. Es kann "
        "von beiden Seiten unter Einhaltung der gesetzlichen Fristen schriftlich gekündigt werden.",
    ),
    (
        "Miete und Nebenkosten",
        "Die Grundmiete beträgt monatlich {rent}. Zusätzlich zahlt der "
        "Mieter eine Vorauszahlung auf die Betriebskosten von {costs} und auf die Heizkosten von "
        "{heat}. Über die Vorauszahlungen wird jährlich abgerechnet.",
    ),
    (
        "Zahlung der Miete",
        "Die Miete ist monatlich im Voraus, spätestens am dritten Werktag, "
        "auf das Konto des Vermieters zu überweisen. Für die Rechtzeitigkeit kommt es auf den "
        "Eingang des Geldes an. Gebühren für Rücklastschriften trägt der Mieter.",
    ),
    (
        "Mietsicherheit",
        "Der Mieter leistet eine Kaution in Höhe von {deposit}. Er ist berechtigt, "
        "sie in drei gleichen monatlichen Teilbeträgen zu zahlen. Die Kaution wird getrennt vom "
        "Vermögen des Vermieters angelegt.",
    ),
    (
        "Schönheitsreparaturen",
        "Der Mieter übernimmt die Schönheitsreparaturen in angemessenen "
        "Abständen. Dazu gehören das Streichen der Wände und Decken, der Heizkörper und der "
        "Innentüren sowie der Fenster von innen.",
    ),
    (
        "Tierhaltung",
        "Kleintiere wie Ziervögel, Fische oder Hamster dürfen ohne Zustimmung gehalten "
        "werden. Für Hunde und Katzen ist die vorherige Erlaubnis des Vermieters nötig, die nur "
        "aus wichtigem Grund verweigert werden darf.",
    ),
    (
        "Hausordnung",
        "Der Mieter verpflichtet sich, die Hausordnung einzuhalten. Die Reinigung von "
        "Treppenhaus, Gehweg und Straße erfolgt im wöchentlichen Wechsel nach Plan. Ruhezeiten "
        "gelten von 22:00 bis 6:00 Uhr.",
    ),
    (
        "Untervermietung",
        "Eine Untervermietung der Wohnung oder einzelner Räume ist nur mit "
        "schriftlicher Erlaubnis des Vermieters gestattet. Die Größe des untervermieteten Teils "
        "ist dabei anzugeben.",
    ),
    (
        "Schlüssel",
        "Dem Mieter werden für die Mietzeit {keys} Wohnungsschlüssel, zwei "
        "Haustürschlüssel und ein Briefkastenschlüssel ausgehändigt. Der Verlust ist dem "
        "Vermieter unverzüglich mitzuteilen.",
    ),
    (
        "Rückgabe der Mietsache",
        "Bei Beendigung des Mietverhältnisses ist die Wohnung geräumt und "
        "besenrein mit allen Schlüsseln zurückzugeben. Vom Mieter eingebrachte Einrichtungen sind "
        "zu entfernen und der ursprüngliche Zustand ist wiederherzustellen.",
    ),
    (
        "Sonstige Vereinbarungen",
        "Änderungen und Ergänzungen dieses Vertrages bedürfen der "
        "Schriftform. Sollte eine Bestimmung unwirksam sein, bleibt die Gültigkeit der übrigen "
        "Bestimmungen davon unberührt.",
    ),
)

BOOKINGS = (
    ("Miete {month} Wohnungsbau Süd GmbH", -1, 380, 720),
    ("Lastschrift Stadtwerke Strom Abschlag", -1, 35, 95),
    ("Kartenzahlung REWE Markt {city}", -1, 8, 85),
    ("Kartenzahlung Bäckerei Süßmann", -1, 2, 14),
    ("Rundfunkbeitrag ARD ZDF Deutschlandradio", -1, 18, 19),
    ("Gebühren Kontoführung", -1, 3, 12),
    ("Überweisung Kindergeld Familienkasse", 1, 250, 255),
    ("Gutschrift Bürgergeld Jobcenter {city}", 1, 300, 1200),
    ("Lastschrift Telekom Mobilfunk", -1, 10, 40),
    ("Haftpflichtversicherung Beitrag", -1, 4, 9),
    ("Kartenzahlung Drogerie Müller", -1, 3, 30),
    ("Bargeldauszahlung Geldautomat", -1, 20, 100),
    ("Lohn/Gehalt Gebäudereinigung Süßmann", 1, 200, 560),
    ("Kartenzahlung Apotheke am Brühl", -1, 4, 28),
    ("Dauerauftrag Fußballverein Grün-Weiß", -1, 5, 15),
    ("Gutschrift Rückerstattung Nebenkosten", 1, 20, 180),
    ("Lastschrift Deutschlandticket Verkehrsbetriebe", -1, 49, 58),
    ("Kartenzahlung Schuhgeschäft Größenwahn", -1, 20, 60),
)
