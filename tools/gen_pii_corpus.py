#!/usr/bin/env python3
"""A labelled PII corpus: sentences with planted entities and their spans.

    python tools/gen_pii_corpus.py OUT.jsonl [RECORDS] [SEED]

Needs `faker` and `phonenumbers` (tools/requirements-pii.txt). Each line is
{"text": ..., "locale": ..., "kind": ..., "spans": [{"start": s, "end": e,
"entity": E}]} with character offsets; `kind` names the template ("bare":
a name with no cue word before it).

Fourteen locales: en_US, en_GB, de_DE, fr_FR, es_ES, it_IT, pt_BR, nl_NL,
pl_PL, tr_TR, en_IN, plus Japanese and Chinese names in Faker's
romanisations (ja_JP, zh_CN) and Arabic/Urdu names in Faker's
transliterations (en_PK), the last three written in English text as an
international support desk would. Text is in the locale's language:
support tickets, KYC notes, payroll lines, greetings, and sentences where a
name has no cue at all.

Person names come from Faker, whose lists are not the recogniser's
dictionaries (those are built by tools/gen_name_lists.py from census,
Wikipedia and nam_dict sources): the benchmark does not test a dictionary
against itself.

Entities: PERSON, EMAIL_ADDRESS, PHONE_NUMBER, CREDIT_CARD, IBAN_CODE,
US_SSN, plus unlabelled look-alikes that must not be reported: order
numbers, amounts, dates, postcodes, 16-digit numbers that fail Luhn, UUIDs,
version strings, timestamps, and capitalised words that are not people
(cities, companies, streets, weekdays, job titles).

Phone numbers are kept only when libphonenumber (`phonenumbers`) says they
are valid for their locale: Faker fills some area codes with any digits,
and a number that no one can be called on is not personal data.

The committed sample crates/rampart-pii/tests/data/pii_sample.jsonl is
`gen_pii_corpus.py ... 700 7`; the benchmark uses bigger ones.
"""
import json
import random
import sys
import uuid

import phonenumbers
from faker import Faker

# locale -> (phone region, language of the text, how names are written)
LOCALES = {
    "en_US": ("US", "en", "plain"),
    "en_GB": ("GB", "en", "plain"),
    "de_DE": ("DE", "de", "plain"),
    "fr_FR": ("FR", "fr", "plain"),
    "es_ES": ("ES", "es", "plain"),
    "it_IT": ("IT", "it", "plain"),
    "pt_BR": ("BR", "pt", "plain"),
    "nl_NL": ("NL", "nl", "plain"),
    "pl_PL": ("PL", "pl", "plain"),
    "tr_TR": ("TR", "tr", "plain"),
    "en_IN": ("IN", "en", "plain"),
    "ja_JP": ("JP", "en", "romanized"),
    "zh_CN": ("CN", "en", "romanized"),
    "en_PK": ("PK", "en", "plain"),
}
# Locales whose Faker makes valid IBANs of their own country.
IBAN_LOCALES = ["en_GB", "de_DE", "fr_FR", "es_ES", "it_IT", "nl_NL", "pl_PL", "tr_TR", "pt_BR"]
CARD_TYPES = ["visa13", "visa16", "visa19", "mastercard", "amex", "discover", "jcb15", "jcb16", "diners", "maestro"]

# Phrases per language. {n} name, {e} e-mail, {p} phone, {c} card, {x}
# expiry, {i} IBAN, {city}, {company}, {job}, {day}, {amount}, {date}.
PHRASES = {
    "en": {
        "contact": "Please contact {n} at {e}", "call": " or call {p}", "end": ".",
        "card": "Payment by card {c} expires {x}; billed to {n}.",
        "iban": "Wire the refund to IBAN {i} (account holder {n}).",
        "wrote": "Customer {n} wrote from {e}", "mobile": ", mobile {p}",
        "greet": ["Hi {n},", "Dear {n},", "Hello {n},", "Dear Mr {n},", "Dear Ms {n},"],
        "greet_tail": " your order is ready.",
        "bare": ["{n} called on {day} about the invoice from {company}.",
                 "Approved by {n} on {date}.",
                 "Spoke with {n} from {city} about the delivery.",
                 "Payroll: {n}, {job}, {amount} USD",
                 "KYC check passed for {n}, resident in {city}.",
                 "Ticket escalated to {n} ({e})."],
        "questions": " Questions: ",
    },
    "de": {
        "contact": "Bitte wenden Sie sich an {n} unter {e}", "call": " oder rufen Sie {p} an", "end": ".",
        "card": "Zahlung mit Karte {c}, gültig bis {x}; Rechnung an {n}.",
        "iban": "Bitte überweisen Sie die Erstattung auf IBAN {i} (Kontoinhaber {n}).",
        "wrote": "Kunde {n} schrieb von {e}", "mobile": ", mobil {p}",
        "greet": ["Sehr geehrte Frau {n},", "Sehr geehrter Herr {n},", "Hallo {n},", "Liebe {n},"],
        "greet_tail": " Ihre Bestellung ist versandbereit.",
        "bare": ["{n} hat am {day} wegen der Rechnung von {company} angerufen.",
                 "Freigegeben von {n} am {date}.",
                 "Gespräch mit {n} aus {city} über die Lieferung.",
                 "Gehaltsabrechnung: {n}, {job}, {amount} EUR",
                 "KYC-Prüfung bestanden für {n}, wohnhaft in {city}.",
                 "Ticket an {n} ({e}) weitergeleitet."],
        "questions": " Fragen: ",
    },
    "fr": {
        "contact": "Veuillez contacter {n} à {e}", "call": " ou appeler le {p}", "end": ".",
        "card": "Paiement par carte {c} expirant {x} ; facturé à {n}.",
        "iban": "Virez le remboursement sur l'IBAN {i} (titulaire du compte {n}).",
        "wrote": "Le client {n} a écrit depuis {e}", "mobile": ", portable {p}",
        "greet": ["Bonjour {n},", "Cher {n},", "Chère {n},", "Madame {n},", "Monsieur {n},"],
        "greet_tail": " votre commande est prête.",
        "bare": ["{n} a appelé {day} au sujet de la facture de {company}.",
                 "Validé par {n} le {date}.",
                 "Entretien avec {n} de {city} sur la livraison.",
                 "Paie : {n}, {job}, {amount} EUR",
                 "Contrôle KYC réussi pour {n}, domicilié à {city}.",
                 "Ticket transmis à {n} ({e})."],
        "questions": " Questions : ",
    },
    "es": {
        "contact": "Por favor, contacte con {n} en {e}", "call": " o llame al {p}", "end": ".",
        "card": "Pago con tarjeta {c} que caduca {x}; facturado a {n}.",
        "iban": "Transfiera el reembolso al IBAN {i} (titular de la cuenta {n}).",
        "wrote": "El cliente {n} escribió desde {e}", "mobile": ", móvil {p}",
        "greet": ["Hola {n},", "Estimado {n}:", "Estimada {n}:", "Sr. {n},", "Sra. {n},"],
        "greet_tail": " su pedido está listo.",
        "bare": ["{n} llamó el {day} por la factura de {company}.",
                 "Aprobado por {n} el {date}.",
                 "Hablé con {n} de {city} sobre la entrega.",
                 "Nómina: {n}, {job}, {amount} EUR",
                 "Verificación KYC superada para {n}, residente en {city}.",
                 "Incidencia asignada a {n} ({e})."],
        "questions": " Preguntas: ",
    },
    "it": {
        "contact": "Si prega di contattare {n} all'indirizzo {e}", "call": " o chiamare il {p}", "end": ".",
        "card": "Pagamento con carta {c} in scadenza {x}; intestato a {n}.",
        "iban": "Accreditare il rimborso sull'IBAN {i} (intestatario {n}).",
        "wrote": "Il cliente {n} ha scritto da {e}", "mobile": ", cellulare {p}",
        "greet": ["Gentile {n},", "Caro {n},", "Cara {n},", "Ciao {n},", "Egregio Sig. {n},"],
        "greet_tail": " il suo ordine è pronto.",
        "bare": ["{n} ha chiamato {day} per la fattura di {company}.",
                 "Approvato da {n} il {date}.",
                 "Parlato con {n} di {city} della consegna.",
                 "Busta paga: {n}, {job}, {amount} EUR",
                 "Verifica KYC superata per {n}, residente a {city}.",
                 "Ticket assegnato a {n} ({e})."],
        "questions": " Domande: ",
    },
    "pt": {
        "contact": "Entre em contato com {n} pelo {e}", "call": " ou ligue para {p}", "end": ".",
        "card": "Pagamento com cartão {c} válido até {x}; cobrado de {n}.",
        "iban": "Transfira o reembolso para o IBAN {i} (titular da conta {n}).",
        "wrote": "O cliente {n} escreveu de {e}", "mobile": ", celular {p}",
        "greet": ["Olá {n},", "Prezado {n},", "Prezada {n},", "Caro {n},", "Sr. {n},"],
        "greet_tail": " seu pedido está pronto.",
        "bare": ["{n} ligou na {day} sobre a fatura da {company}.",
                 "Aprovado por {n} em {date}.",
                 "Conversei com {n} de {city} sobre a entrega.",
                 "Folha de pagamento: {n}, {job}, {amount} BRL",
                 "Verificação KYC aprovada para {n}, residente em {city}.",
                 "Chamado encaminhado para {n} ({e})."],
        "questions": " Dúvidas: ",
    },
    "nl": {
        "contact": "Neem contact op met {n} via {e}", "call": " of bel {p}", "end": ".",
        "card": "Betaling met kaart {c}, geldig tot {x}; gefactureerd aan {n}.",
        "iban": "Maak de terugbetaling over naar IBAN {i} (rekeninghouder {n}).",
        "wrote": "Klant {n} schreef vanaf {e}", "mobile": ", mobiel {p}",
        "greet": ["Beste {n},", "Geachte heer {n},", "Geachte mevrouw {n},", "Hallo {n},"],
        "greet_tail": " uw bestelling is klaar.",
        "bare": ["{n} belde op {day} over de factuur van {company}.",
                 "Goedgekeurd door {n} op {date}.",
                 "Gesproken met {n} uit {city} over de levering.",
                 "Salarisstrook: {n}, {job}, {amount} EUR",
                 "KYC-controle geslaagd voor {n}, woonachtig in {city}.",
                 "Ticket doorgestuurd naar {n} ({e})."],
        "questions": " Vragen: ",
    },
    "pl": {
        "contact": "Prosimy o kontakt z {n} pod adresem {e}", "call": " lub pod numerem {p}", "end": ".",
        "card": "Płatność kartą {c} ważną do {x}; obciążono {n}.",
        "iban": "Zwrot prosimy przelać na IBAN {i} (posiadacz rachunku {n}).",
        "wrote": "Klient {n} napisał z adresu {e}", "mobile": ", komórka {p}",
        "greet": ["Szanowny Panie {n},", "Szanowna Pani {n},", "Dzień dobry {n},", "Cześć {n},"],
        "greet_tail": " zamówienie jest gotowe.",
        "bare": ["{n} dzwonił w {day} w sprawie faktury od {company}.",
                 "Zatwierdził {n} dnia {date}.",
                 "Rozmowa z {n} z miasta {city} o dostawie.",
                 "Lista płac: {n}, {job}, {amount} PLN",
                 "Weryfikacja KYC zakończona dla {n}, zamieszkały w {city}.",
                 "Zgłoszenie przekazano do {n} ({e})."],
        "questions": " Pytania: ",
    },
    "tr": {
        "contact": "Lütfen {n} ile {e} adresinden iletişime geçin", "call": " veya {p} numarasını arayın", "end": ".",
        "card": "{c} numaralı kartla ödeme, son kullanma {x}; fatura {n} adına.",
        "iban": "İadeyi IBAN {i} hesabına gönderin (hesap sahibi {n}).",
        "wrote": "Müşteri {n} {e} adresinden yazdı", "mobile": ", cep {p}",
        "greet": ["Sayın {n},", "Merhaba {n},", "Değerli {n},"],
        "greet_tail": " siparişiniz hazır.",
        "bare": ["{n} {day} günü {company} faturası için aradı.",
                 "{date} tarihinde {n} tarafından onaylandı.",
                 "{city} şehrinden {n} ile teslimat hakkında görüşüldü.",
                 "Bordro: {n}, {job}, {amount} TRY",
                 "{n} için KYC kontrolü başarılı, ikamet {city}.",
                 "Talep {n} ({e}) kişisine iletildi."],
        "questions": " Sorular: ",
    },
}


class Builder:
    """Text with spans: literal pieces and labelled values."""

    def __init__(self):
        self.text = ""
        self.spans = []

    def add(self, s, entity=None):
        if entity:
            self.spans.append({"start": len(self.text), "end": len(self.text) + len(s), "entity": entity})
        self.text += s
        return self

    def template(self, template, values):
        """Append `template`, labelling each placeholder's value with its
        entity (values maps a placeholder to (text, entity or None))."""
        rest = template
        while "{" in rest:
            before, _, after = rest.partition("{")
            key, _, rest = after.partition("}")
            self.add(before)
            text, entity = values[key]
            self.add(text, entity)
        self.add(rest)
        return self


def phone(fake, region):
    for _ in range(50):
        p = fake.phone_number()
        try:
            if phonenumbers.is_valid_number(phonenumbers.parse(p, region)):
                return p
        except phonenumbers.NumberParseException:
            pass
    return None


def card(fake, rng):
    # Card numbers are the same everywhere; Faker's locales differ only in
    # which networks they know, so all come from en_US.
    n = fake.credit_card_number(card_type=rng.choice(CARD_TYPES))
    if rng.random() < 0.3 and len(n) == 16:
        n = " ".join(n[i:i + 4] for i in range(0, 16, 4))
    return n


def iban(fakes, locale, rng):
    loc = locale if locale in IBAN_LOCALES else rng.choice(IBAN_LOCALES)
    v = fakes[loc].iban()
    if rng.random() < 0.4:
        v = " ".join(v[i:i + 4] for i in range(0, len(v), 4))
    return v


def name(fake, locale, rng):
    if LOCALES[locale][2] == "romanized":
        return f"{fake.first_romanized_name()} {fake.last_romanized_name()}"
    if rng.random() < 0.15:
        # A middle name, as people sign forms.
        return f"{fake.first_name()} {fake.first_name()} {fake.last_name()}"
    return f"{fake.first_name()} {fake.last_name()}"


def not_luhn(rng):
    while True:
        d = [rng.randrange(10) for _ in range(16)]
        s = sum((x * 2 - 9 if x * 2 > 9 else x * 2) if i % 2 else x for i, x in enumerate(reversed(d)))
        if s % 10:
            return "".join(map(str, d))


def noise(fake, rng):
    return rng.choice([
        f"Order #{rng.randrange(10**5, 10**9)} shipped on {fake.date()} for ${rng.randrange(1, 9999)}.{rng.randrange(100):02d}.",
        f"Ticket {uuid.UUID(int=rng.getrandbits(128))} was closed at {fake.iso8601()}.",
        f"Release v{rng.randrange(10)}.{rng.randrange(30)}.{rng.randrange(100)} fixes {rng.randrange(2, 90)} bugs.",
        f"Reference number {not_luhn(rng)} is not a card.",
        f"The warehouse in {fake.city()} ({fake.postcode()}) stores {rng.randrange(10**3, 10**6)} units.",
        f"Measured {rng.random() * 1000:.3f} ms over {rng.randrange(10**6, 10**9)} requests in {rng.randrange(1990, 2030)}.",
        f"Meeting moved to {fake.day_of_week()} {fake.date()} at {rng.randrange(24)}:{rng.randrange(60):02d}.",
        f"{fake.company()}, {fake.street_name()}, {fake.city()}.",
        f"{fake.sentence(nb_words=12)}",
        f"Product SKU {rng.randrange(10**9, 10**12)} costs {rng.randrange(1, 500)} EUR.",
    ])


def record(fakes, rng):
    locale = rng.choice(list(LOCALES))
    fake = fakes[locale]
    region, lang, _ = LOCALES[locale]
    say = PHRASES[lang]
    b = Builder()
    person = (name(fake, locale, rng), "PERSON")
    p = phone(fake, region)
    values = {
        "n": person,
        "e": (fake.email(), "EMAIL_ADDRESS"),
        "p": (p, "PHONE_NUMBER"),
        "c": (card(fakes["en_US"], rng), "CREDIT_CARD"),
        "x": (fake.credit_card_expire(), None),
        "i": (iban(fakes, locale, rng), "IBAN_CODE"),
        "city": (fake.city(), None),
        "company": (fake.company(), None),
        "job": (fake.job(), None),
        "day": (fake.day_of_week(), None),
        "amount": (f"{rng.randrange(1000, 9000)}.{rng.randrange(100):02d}", None),
        "date": (fake.date(), None),
    }
    kind = rng.randrange(9)
    if kind == 0:
        b.template(say["contact"], values)
        if p:
            b.template(say["call"], values)
        b.add(say["end"])
    elif kind == 1:
        b.template(say["card"], values)
    elif kind == 2:
        b.template(say["iban"], values)
    elif kind == 3:
        us = fakes["en_US"]
        locale = "en_US"
        b.add(name(us, "en_US", rng), "PERSON").add(" gave SSN ").add(us.ssn(), "US_SSN").add(" on the form.")
    elif kind == 4:
        values["e"] = (fake.free_email(), "EMAIL_ADDRESS")
        b.template(say["wrote"], values)
        if p:
            b.template(say["mobile"], values)
        b.add(": " + fake.sentence(nb_words=8))
    elif kind == 5:
        b.template(rng.choice(say["greet"]) + say["greet_tail"] + " ", values).add(noise(fake, rng))
    elif kind == 6:
        b.template(rng.choice(say["bare"]), values)
    elif kind == 7:
        b.add(noise(fake, rng)).add(" ").add(noise(fake, rng))
    else:
        b.add(noise(fake, rng) + say["questions"])
        b.add(fake.company_email(), "EMAIL_ADDRESS")
        if p:
            b.add(" / ").add(p, "PHONE_NUMBER")
    kinds = ["contact", "card", "iban", "ssn", "wrote", "greeting", "bare", "noise", "questions"]
    return {"text": b.text, "locale": locale, "kind": kinds[kind], "spans": b.spans}


def main():
    out = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    rng = random.Random(seed)
    fakes = {}
    for i, loc in enumerate(LOCALES):
        fakes[loc] = Faker(loc)
        fakes[loc].seed_instance(seed * 100 + i)
    with open(out, "w", encoding="utf-8") as f:
        for _ in range(n):
            f.write(json.dumps(record(fakes, rng), ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
