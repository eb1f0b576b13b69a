#!/usr/bin/env python3
"""A labelled PII corpus: sentences with planted entities and their spans.

    python tools/gen_pii_corpus.py OUT.jsonl [RECORDS] [SEED]

Needs `faker` and `phonenumbers` (tools/requirements-pii.txt). Each line is
{"text": ..., "spans": [{"start": s, "end": e, "entity": E}]} with
character offsets. Five locales (en_US, en_GB, de_DE, fr_FR, en_IN).
Entities: PERSON, EMAIL_ADDRESS, PHONE_NUMBER, CREDIT_CARD, IBAN_CODE,
US_SSN, plus unlabelled look-alikes that must not be reported: order
numbers, amounts, dates, ZIP codes, 16-digit numbers that fail Luhn, UUIDs,
version strings, timestamps.

Phone numbers are kept only when libphonenumber (`phonenumbers`) says they
are valid for their locale: Faker fills en_US area codes with any digits
(087-...), and a number that no one can be called on is not personal data.

The committed sample crates/rampart-pii/tests/data/pii_sample.jsonl is
`gen_pii_corpus.py ... 400 7`; the benchmark uses bigger ones.
"""
import json
import random
import sys
import uuid

import phonenumbers
from faker import Faker

LOCALES = {"en_US": "US", "en_GB": "GB", "de_DE": "DE", "fr_FR": "FR", "en_IN": "IN"}
CARD_TYPES = ["visa13", "visa16", "visa19", "mastercard", "amex", "discover", "jcb15", "jcb16", "diners", "maestro"]


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
    n = fake.credit_card_number(card_type=rng.choice(CARD_TYPES))
    if rng.random() < 0.3 and len(n) == 16:
        n = " ".join(n[i:i + 4] for i in range(0, 16, 4))
    return n


def iban(fakes, rng):
    # Faker's en_IN provider makes GB IBANs one character short: not valid
    # IBANs, so they come from the other locales.
    v = fakes[rng.choice(["en_GB", "de_DE", "fr_FR"])].iban()
    if rng.random() < 0.4:
        v = " ".join(v[i:i + 4] for i in range(0, len(v), 4))
    return v


def name(fake, rng):
    n = f"{fake.first_name()} {fake.last_name()}"
    return n


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
        f"The warehouse in ZIP {fake.postcode()} stores {rng.randrange(10**3, 10**6)} units.",
        f"Measured {rng.random() * 1000:.3f} ms over {rng.randrange(10**6, 10**9)} requests in {rng.randrange(1990, 2030)}.",
        f"Meeting moved to {fake.day_of_week()} {fake.date()} at {rng.randrange(24)}:{rng.randrange(60):02d}.",
        f"{fake.sentence(nb_words=12)}",
        f"Product SKU {rng.randrange(10**9, 10**12)} costs {rng.randrange(1, 500)} EUR.",
    ])


def record(fakes, rng):
    locale = rng.choice(list(LOCALES))
    fake = fakes[locale]
    region = LOCALES[locale]
    b = Builder()
    kind = rng.randrange(8)
    if kind == 0:
        b.add("Please contact ").add(name(fake, rng), "PERSON").add(" at ").add(fake.email(), "EMAIL_ADDRESS")
        p = phone(fake, region)
        if p:
            b.add(" or call ").add(p, "PHONE_NUMBER")
        b.add(".")
    elif kind == 1:
        b.add("Payment by card ").add(card(fake, rng), "CREDIT_CARD").add(f" expires {fake.credit_card_expire()}; billed to ")
        b.add(name(fake, rng), "PERSON").add(".")
    elif kind == 2:
        b.add("Wire the refund to IBAN ").add(iban(fakes, rng), "IBAN_CODE").add(" (account holder ")
        b.add(name(fake, rng), "PERSON").add(").")
    elif kind == 3:
        us = fakes["en_US"]
        b.add(name(us, rng), "PERSON").add(" gave SSN ").add(us.ssn(), "US_SSN").add(" on the form.")
    elif kind == 4:
        p = phone(fake, region)
        b.add("Customer ").add(name(fake, rng), "PERSON").add(" wrote from ").add(fake.free_email(), "EMAIL_ADDRESS")
        if p:
            b.add(", mobile ").add(p, "PHONE_NUMBER")
        b.add(": " + fake.sentence(nb_words=8))
    elif kind == 5:
        b.add(f"{rng.choice(['Hi', 'Dear', 'Hello'])} ").add(name(fake, rng), "PERSON").add(", your order is ready. ")
        b.add(noise(fake, rng))
    elif kind == 6:
        b.add(noise(fake, rng)).add(" ").add(noise(fake, rng))
    else:
        p = phone(fake, region)
        b.add(noise(fake, rng) + " Questions: ")
        b.add(fake.company_email(), "EMAIL_ADDRESS")
        if p:
            b.add(" / ").add(p, "PHONE_NUMBER")
    return {"text": b.text, "spans": b.spans}


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
