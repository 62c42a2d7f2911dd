"""What formats and property names suggest: faker producers and plausible number ranges.

`FORMATS` writes a value for each format the generator supports (others are annotations);
`text_producer` picks faker text by property name ("email", "city", "user_name"...), and
`default_range` a plausible range for numbers ("age", "price", "latitude"...) when the schema
leaves them open. Every producer draws from the request's `rng` and `faker` only, never the
clock: dates come from `rng`, not from faker's providers, whose ranges end "now".
"""

from __future__ import annotations

import functools
import random
import re
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

from faker import Faker


def _moment(rng: random.Random) -> datetime:
    # From rng rather than faker: faker's date providers default to ranges ending "now".
    start = datetime(2000, 1, 1, tzinfo=timezone.utc)
    return start + timedelta(seconds=rng.randrange(30 * 365 * 86400))


Producer = Callable[[Faker, random.Random], str]

# Extra budget steps of the slower producers (faker's name, email, url... take 50-300 us).
COSTS: dict[Producer, int] = {}
_SLOW, _MEDIUM = 25, 6


def _costly(cost: int, producer: Producer) -> Producer:
    COSTS[producer] = cost
    return producer


FORMATS: dict[str, Producer] = {
    "date-time": lambda f, r: _moment(r).strftime("%Y-%m-%dT%H:%M:%SZ"),
    "date": lambda f, r: _moment(r).strftime("%Y-%m-%d"),
    "time": lambda f, r: _moment(r).strftime("%H:%M:%SZ"),
    "email": _costly(_SLOW, lambda f, r: f.email()),
    "idn-email": _costly(_SLOW, lambda f, r: f.email()),
    "uri": _costly(_SLOW, lambda f, r: f.uri()),
    "url": _costly(_SLOW, lambda f, r: f.url()),
    "uuid": lambda f, r: f.uuid4(),
    "ipv4": _costly(_MEDIUM, lambda f, r: f.ipv4()),
    "ipv6": lambda f, r: f.ipv6(),
    "hostname": _costly(_SLOW, lambda f, r: f.hostname()),
    "idn-hostname": _costly(_SLOW, lambda f, r: f.hostname()),
}


def _title(f: Faker, r: random.Random) -> str:
    return f.sentence(nb_words=4).rstrip(".")


def _names(keys: str, producer: Producer) -> dict[str, Producer]:
    return dict.fromkeys(keys.split(), producer)


# Faker text by (normalised) property name; looked up by hint_keys.
_TEXT_HINTS: dict[str, Producer] = {
    **_names(
        "name fullname participant attendee author person member user customer contact owner "
        "assignee recipient sender speaker guest employee",
        _costly(_SLOW, lambda f, r: f.name()),
    ),
    **_names("firstname givenname", _costly(_MEDIUM, lambda f, r: f.first_name())),
    **_names("lastname surname familyname", _costly(_MEDIUM, lambda f, r: f.last_name())),
    **_names("username login handle", _costly(_SLOW, lambda f, r: f.user_name())),
    **_names("email emailaddress mail", FORMATS["email"]),
    **_names(
        "phone phonenumber mobile telephone tel", _costly(_MEDIUM, lambda f, r: f.phone_number())
    ),
    **_names("address streetaddress street", _costly(_SLOW, lambda f, r: f.street_address())),
    **_names(
        "city town location place destination origin", _costly(_MEDIUM, lambda f, r: f.city())
    ),
    **_names("country", lambda f, r: f.country()),
    **_names("countrycode", lambda f, r: f.country_code()),
    **_names("state region province", lambda f, r: f.state()),
    **_names("zip zipcode postcode postalcode", lambda f, r: f.postcode()),
    **_names(
        "company organization organisation employer vendor brand",
        _costly(_SLOW, lambda f, r: f.company()),
    ),
    **_names("job jobtitle occupation profession", lambda f, r: f.job()),
    **_names("title headline heading subject", _title),
    **_names(
        "description summary content text body message comment note notes reason explanation "
        "answer reply response feedback question details bio instructions review",
        lambda f, r: f.sentence(),
    ),
    **_names("date birthday birthdate dateofbirth dob", FORMATS["date"]),
    **_names("time", lambda f, r: _moment(r).strftime("%H:%M")),
    **_names("at datetime timestamp", FORMATS["date-time"]),
    **_names("id uuid guid", lambda f, r: f.uuid4()),
    **_names("url uri link website homepage href endpoint", FORMATS["url"]),
    **_names("domain hostname host", _costly(_SLOW, lambda f, r: f.domain_name())),
    **_names("ip ipaddress", FORMATS["ipv4"]),
    **_names("color colour", lambda f, r: f.color_name()),
    **_names("language lang", lambda f, r: f.language_name()),
    **_names("currency", lambda f, r: f.currency_code()),
    **_names("timezone tz", lambda f, r: f.timezone()),
    **_names("unit", lambda f, r: r.choice(["celsius", "fahrenheit"])),
    **_names("slug", _costly(_MEDIUM, lambda f, r: f.slug())),
    **_names("filename file", lambda f, r: f.file_name()),
    **_names("path filepath", _costly(_MEDIUM, lambda f, r: f.file_path())),
    **_names("version", lambda f, r: f"{r.randint(0, 5)}.{r.randint(0, 20)}.{r.randint(0, 50)}"),
}


@functools.lru_cache(maxsize=1024)
def hint_keys(hint: str | None) -> tuple[str, ...]:
    """Lookup keys for a property name: "user_id" -> ("userid", "id"), "firstName" -> ..."""
    if not hint:
        return ()
    words = [w.lower() for w in re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+", hint)]
    if not words:
        return ()
    joined, last = "".join(words), words[-1]
    keys = (joined, last, singular(joined), singular(last))
    return tuple(dict.fromkeys(keys))  # dedupe, keeping order


def text_producer(hint: str | None) -> Producer | None:
    for key in hint_keys(hint):
        if key in _TEXT_HINTS:
            return _TEXT_HINTS[key]
    return None


def singular(word: str) -> str:
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        return word[:-1]
    return word


# Plausible ranges for numbers named like this when the schema leaves them open.
_NUMBER_HINTS: dict[str, tuple[int, int]] = {
    "age": (18, 90),
    "year": (1990, 2030),
    "month": (1, 12),
    "day": (1, 28),
    "hour": (0, 23),
    "minute": (0, 59),
    "second": (0, 59),
    "rating": (1, 5),
    "stars": (1, 5),
    "score": (0, 100),
    "percent": (0, 100),
    "percentage": (0, 100),
    "price": (1, 500),
    "amount": (1, 500),
    "cost": (1, 500),
    "total": (1, 500),
    "latitude": (-90, 90),
    "lat": (-90, 90),
    "longitude": (-180, 180),
    "lon": (-180, 180),
    "lng": (-180, 180),
    "temperature": (-10, 35),
    "count": (1, 20),
    "quantity": (1, 20),
    "limit": (1, 20),
    "page": (1, 20),
    "id": (1, 100_000),
}


def default_range(hint: str | None) -> tuple[int, int]:
    for key in hint_keys(hint):
        if key in _NUMBER_HINTS:
            return _NUMBER_HINTS[key]
    return 1, 100
