"""Latin-script addresses as parts: house number, street, unit, building, city, state, postcode, country.

Western records write one address many ways: ``23 Ansbacher Street, Dusseldorf 56244`` and
``Ansbacher Strasse 23, 56422 Dusseldorf`` (number before or after the street, a street type in
two languages, a postcode typed twice), ``Adventura Apartments 638 Downey St, Salem, OR`` and
``638 Downey St, Salem, OR`` (a building name one filing adds), ``1515 Adela Lane`` and
``1515 Adela Ln``, ``P.O. Box 12`` and ``PO Box 12``. Compared as text they differ; compared by
parts they are one door.

The parser is small and rule-based (no trained model, nothing fetched): it lower-cases, strips
accents (``ß`` → ``ss``), splits on commas, finds the street by its type word (Street / St / Str /
Strasse, Avenue / Ave, Road / Rd, Lane / Ln, Drive / Dr, Place / Pl, Boulevard / Blvd, ..., and
German compounds such as ``Hauptstrasse``; French, Spanish and Italian types written before the
name, ``rue``, ``calle``, ``via``), the house number beside it (before it in English, after it in
German), a unit (``Apt 5``, ``Suite 200``, ``#5``, ``Flat 2``), a PO box, postcodes (US ZIP and
ZIP+4, UK, Canadian, other 4-6 digit codes) and, among what is left, a state or province code, a
country name and the city. It reads US, UK, Canadian, Australian and continental European forms;
what it cannot place is left out (a missing part counts neither way in :func:`latin_level`).

Why not a library: ``usaddress`` (a CRF for US addresses) mislabels the European order
(number after the street, postcode before the city); ``rigour`` needs PyICU, built from source
against ICU, and libpostal (``address-finder``) a large trained model; the parts compared here need
only the rules above.

>>> a = parse_latin_address("Ansbacher Strasse 23, 56422 Dusseldorf")
>>> (a.number, a.street_name, a.street_type, a.city, a.postcodes)
('23', 'ansbacher', 'st', 'dusseldorf', ('56422',))
>>> b = parse_latin_address("23 Ansbacher Street, Dusseldorf 56244 Germany")
>>> (b.number, b.street_name, b.street_type, b.city, b.postcodes, b.country)
('23', 'ansbacher', 'st', 'dusseldorf', ('56244',), 'de')
>>> latin_level(a, b)  # same door; the postcodes are one typo apart
5
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from typing import Sequence

import numpy as np

__all__ = ["LatinAddress", "LatinTable", "parse_latin_address", "latin_level", "is_latin_address", "LEVELS"]

#: Level codes of :func:`latin_level`, named as the person ``address`` comparison names them.
LEVELS = {0: "different", 1: "same postcode or district", 2: "similar", 3: "same road",
          4: "same road and number", 5: "identical"}

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")

#: Street types written after the name (English, German, Dutch, Scandinavian), canonical form.
_SUFFIX_TYPES = {
    "street": "st", "st": "st", "str": "st", "strasse": "st", "strase": "st", "straat": "st", "gatan": "st",
    "gate": "st", "gade": "st",
    "avenue": "ave", "ave": "ave", "av": "ave", "avn": "ave", "avenu": "ave",
    "road": "rd", "rd": "rd",
    "lane": "ln", "ln": "ln",
    "drive": "dr", "dr": "dr", "drv": "dr",
    "place": "pl", "pl": "pl", "platz": "pl", "plein": "pl",
    "boulevard": "blvd", "blvd": "blvd", "boul": "blvd",
    "court": "ct", "ct": "ct", "crt": "ct",
    "circle": "cir", "cir": "cir",
    "crescent": "cres", "cres": "cres", "cresc": "cres",
    "terrace": "tce", "tce": "tce", "ter": "tce", "terr": "tce",
    "highway": "hwy", "hwy": "hwy",
    "parkway": "pkwy", "pkwy": "pkwy",
    "square": "sq", "sq": "sq",
    "way": "way", "weg": "way",
    "close": "cl", "cl": "cl",
    "trail": "trl", "trl": "trl",
    "parade": "pde", "pde": "pde",
    "grove": "gr", "gr": "gr", "grv": "gr",
    "gardens": "gdns", "gdns": "gdns",
    "row": "row", "mews": "mews", "walk": "walk", "rise": "rise", "loop": "loop", "pike": "pike",
    "alley": "aly", "aly": "aly", "gasse": "aly",
    "allee": "allee", "ring": "ring", "damm": "damm", "ufer": "ufer", "markt": "markt",
    "plaza": "pl", "plz": "pl", "circuit": "cct", "cct": "cct", "ul": "st", "ulitsa": "st", "prospekt": "ave",
    "pr": "ave", "jalan": "st",
}
#: Street types written before the name (French, Spanish, Portuguese, Italian).
_PREFIX_TYPES = {"rue": "st", "calle": "st", "rua": "st", "via": "st", "viale": "ave", "avenida": "ave",
                 "avda": "ave", "chemin": "rd", "route": "rd", "carrer": "st", "corso": "blvd", "piazza": "pl",
                 "plaza": "pl", "place": "pl", "paseo": "blvd", "boulevard": "blvd", "avenue": "ave", "camino": "rd"}
#: German (and Dutch) street types written as one word with the name: Hauptstrasse, Lindenweg.
_COMPOUND = re.compile(r"^([a-z]{3,}?)(strasse|strase|str|weg|platz|gasse|allee|straat|laan|plein|street|crescent|"
                       r"avenue|place|circuit|parade|terrace)$")
#: Long street-type words, recognised also one typo off (Febrl-like keying errors: strete, jlace, c rescent).
_LONG_TYPES = ("street", "place", "crescent", "close", "avenue", "drive", "court", "circuit", "parade", "terrace",
               "boulevard", "highway", "parkway", "square", "grove", "strasse", "road", "lane")
#: Directions that prefix or follow a street name (123 E Main St): left out of the name.
_DIRECTIONS = {"n", "s", "e", "w", "ne", "nw", "se", "sw", "north", "south", "east", "west",
               "northeast", "northwest", "southeast", "southwest"}
_DIRECTION_CODE = {"north": "n", "south": "s", "east": "e", "west": "w", "northeast": "ne", "northwest": "nw",
                   "southeast": "se", "southwest": "sw"}
#: Unit words: the flat, suite or room inside a building, one canonical word each.
_UNIT_WORDS = {"apt": "unit", "apartment": "unit", "unit": "unit", "suite": "unit", "ste": "unit", "flat": "unit",
               "no": "unit", "floor": "floor", "fl": "floor", "room": "room", "rm": "room", "wohnung": "unit",
               "whg": "unit", "etage": "floor", "piso": "floor", "bldg": "bldg", "building": "bldg",
               "bld": "bldg", "appt": "unit", "kv": "unit"}
#: Two-letter and three-letter state and province codes (US, Canada, Australia) and US state names.
_STATES = set(
    "al ak az ar ca co ct de dc fl ga hi id il in ia ks ky la me md ma mi mn ms mo mt ne nv nh nj nm ny nc nd oh ok "
    "or pa ri sc sd tn tx ut vt va wa wv wi wy pr gu vi "
    "ab bc mb nb nl ns nt nu on pe qc sk yt "
    "nsw vic qld tas act sa".split()
)
_STATE_NAMES = {
    "alabama": "al", "alaska": "ak", "arizona": "az", "arkansas": "ar", "california": "ca", "colorado": "co",
    "connecticut": "ct", "delaware": "de", "florida": "fl", "hawaii": "hi", "idaho": "id",
    "illinois": "il", "indiana": "in", "iowa": "ia", "kansas": "ks", "kentucky": "ky", "louisiana": "la",
    "maine": "me", "maryland": "md", "massachusetts": "ma", "michigan": "mi", "minnesota": "mn",
    "mississippi": "ms", "missouri": "mo", "montana": "mt", "nebraska": "ne", "nevada": "nv",
    "new hampshire": "nh", "new jersey": "nj", "new mexico": "nm", "new york": "ny", "north carolina": "nc",
    "north dakota": "nd", "ohio": "oh", "oklahoma": "ok", "oregon": "or", "pennsylvania": "pa",
    "rhode island": "ri", "south carolina": "sc", "south dakota": "sd", "tennessee": "tn", "texas": "tx",
    "utah": "ut", "vermont": "vt", "virginia": "va", "west virginia": "wv",
    "wisconsin": "wi", "wyoming": "wy", "ontario": "on", "quebec": "qc", "british columbia": "bc",
    "alberta": "ab", "new south wales": "nsw", "queensland": "qld", "tasmania": "tas",
}
#: Country names and codes → ISO 3166 alpha-2 (the countries Western records name most; others stay in the city).
_COUNTRIES = {
    "usa": "us", "us": "us", "u s a": "us", "united states": "us", "united states of america": "us", "america": "us",
    "germany": "de", "deutschland": "de", "uk": "gb", "united kingdom": "gb", "great britain": "gb",
    "england": "gb", "scotland": "gb", "wales": "gb", "gb": "gb", "france": "fr", "canada": "ca",
    "australia": "au", "new zealand": "nz", "ireland": "ie", "spain": "es", "espana": "es", "italy": "it",
    "italia": "it", "netherlands": "nl", "nederland": "nl", "belgium": "be", "austria": "at",
    "osterreich": "at", "switzerland": "ch", "schweiz": "ch", "sweden": "se", "norway": "no", "denmark": "dk",
    "portugal": "pt", "mexico": "mx", "singapore": "sg", "malaysia": "my", "india": "in", "china": "cn",
    "japan": "jp", "russia": "ru", "poland": "pl", "brazil": "br", "cambodia": "kh", "pakistan": "pk",
    "liechtenstein": "li", "lichtenstein": "li", "luxembourg": "lu", "finland": "fi", "greece": "gr",
    "can": "ca", "gbr": "gb", "deu": "de", "aus": "au", "fra": "fr", "esp": "es", "ita": "it", "nld": "nl",
}
_PO_BOX = re.compile(r"\b(?:g\s*p\s*o|p\s*o|post\s*office|postfach|po)\s*box\b\s*(\w+)"
                     r"|\bpostfach\s+(\w+)|\bbox\s+(\d+)\b")
_UK_POSTCODE = re.compile(r"\b([a-z]{1,2}\d[a-z\d]?)\s*(\d[a-z]{2})\b")
_CA_POSTCODE = re.compile(r"\b([a-z]\d[a-z])\s*(\d[a-z]\d)\b")
_ZIP4 = re.compile(r"\b(\d{5})-\d{4}\b")
_TOKEN = re.compile(r"[a-z0-9]+(?:[-/][a-z0-9]+)*")
_NUMBER = re.compile(r"^\d+[a-z]?(?:[-/]\d+[a-z]?)?$")
_ORDINAL = re.compile(r"^(\d+)(?:st|nd|rd|th)$")
_POSTCODE_DIGITS = re.compile(r"^\d{4,6}$")
_SEGMENT = re.compile(r"[,;\n]+")
_ZIP9 = re.compile(r"\b(\d{5})\d{4}\b")  # ZIP+4 written without its dash
_COUNTRY_POSTCODE = re.compile(r"\b[a-z]{1,2}-(\d{4,5})\b")  # FL-9490, D-80331: a postcode behind a country prefix


@dataclass(frozen=True)
class LatinAddress:
    """A Latin-script address split into parts; "" (or ``()``) where the address does not say."""

    number: str = ""
    street_name: str = ""
    street_type: str = ""
    unit: str = ""
    building: str = ""
    city: str = ""  # locality names (city, suburb, county), "; "-separated, as written in order
    state: str = ""
    postcodes: tuple[str, ...] = ()
    country: str = ""
    #: The street's direction (123 E Main St, 80 Delaware Ave SE): n, s, e, w, ne, nw, se, sw.
    direction: str = ""

    @property
    def street(self) -> str:
        """Street name and canonical type: ``ansbacher st``, ``downey st``, ``po box``."""
        return f"{self.street_name} {self.street_type}".strip()

    @property
    def key(self) -> str:
        """House number and street name (no type, no unit): the door, for blocking and the address key."""
        return f"{self.number} {self.street_name}" if self.number and self.street_name else ""

    @property
    def empty(self) -> bool:
        return not (self.street_name or self.city or self.postcodes)

    def serialise(self) -> str:
        """One string holding every part (a column value), read back by :func:`from_serialised`."""
        return "|".join((self.number, self.street_name, self.street_type, self.unit, self.building, self.city,
                         self.state, " ".join(self.postcodes), self.country, self.direction))


@functools.lru_cache(maxsize=200_000)
def from_serialised(s: str) -> LatinAddress:
    """The address :meth:`LatinAddress.serialise` wrote."""
    p = s.split("|")
    return LatinAddress(p[0], p[1], p[2], p[3], p[4], p[5], p[6], tuple(p[7].split()) if p[7] else (), p[8],
                        p[9] if len(p) > 9 else "")


def is_latin_address(value: object) -> bool:
    """An address written in Latin script (no Chinese characters, at least one letter)."""
    s = str(value or "")
    return bool(s.strip()) and not _CJK.search(s) and any(c.isalpha() for c in s)


_DOTS = re.compile(r"(?<=\w)\.(?=\w\.)|(?<=\b\w)\.")


def _fold(value: str) -> str:
    s = unicodedata.normalize("NFKC", value).casefold()  # ß → ss
    if not s.isascii():
        s = "".join(c for c in unicodedata.normalize("NFKD", s) if not unicodedata.combining(c))
    if "." in s:
        s = _DOTS.sub("", s).replace(".", " ")  # P.O. → PO, U.S.A. → USA, St. → St
    return s.replace("#", " unit ") if "#" in s else s


def _street_type(tok: str) -> str | None:
    return _SUFFIX_TYPES.get(tok)


def _split_compound(tokens: list[str]) -> list[str]:
    out = []
    for t in tokens:
        m = _COMPOUND.match(t)
        if m and t not in _SUFFIX_TYPES:
            out += [m.group(1), m.group(2)]
        else:
            out.append(t)
    return out


def _name_token(t: str) -> str:
    m = _ORDINAL.match(t)
    return m.group(1) if m else t


@functools.lru_cache(maxsize=200_000)
def parse_latin_address(value: str) -> LatinAddress:
    """Split a Latin-script address into its parts (see the module's docstring).

    >>> parse_latin_address("Adventura Aparments 638 Downey St, Salem, OR")  # doctest: +NORMALIZE_WHITESPACE
    LatinAddress(number='638', street_name='downey', street_type='st', unit='', building='adventura aparments',
                 city='salem', state='or', postcodes=(), country='', direction='')
    >>> a = parse_latin_address("3212 W. 32nd St Palm Harbor, FL 60527")
    >>> (a.number, a.street, a.city, a.state, a.postcodes)
    ('3212', '32 st', 'palm harbor', 'fl', ('60527',))
    >>> a = parse_latin_address("P.O. Box 1234, Springfield, IL 62704-1234")
    >>> (a.number, a.street, a.city, a.state, a.postcodes)
    ('1234', 'po box', 'springfield', 'il', ('62704',))
    >>> a = parse_latin_address("Flat 2, 10 Downing Street, London SW1A 2AA")
    >>> (a.unit, a.number, a.street, a.city, a.postcodes)
    ('unit 2', '10', 'downing st', 'london', ('sw1a2aa',))
    """
    s = _fold(value)
    postcodes: list[str] = []
    po_box = ""
    m = _PO_BOX.search(s)
    if m:
        po_box = next(g for g in m.groups() if g)
        s = s[:m.start()] + " , " + s[m.end():]
    for rx in (_UK_POSTCODE, _CA_POSTCODE):
        found = [m.group(1) + m.group(2) for m in rx.finditer(s)]
        if found:
            postcodes += found
            s = rx.sub(" ", s)
    if "-" in s:
        s = _COUNTRY_POSTCODE.sub(r"\1", _ZIP4.sub(r"\1", s))
    s = _ZIP9.sub(r"\1", s)
    segments = [_split_compound(_TOKEN.findall(seg)) for seg in _SEGMENT.split(s)]
    segments = [seg for seg in segments if seg]
    number = street_name = street_type = unit = building = direction = ""
    street_seg, rest_after = -1, []
    # Units (apt 5, # 5, suite 200) anywhere: taken out first so their number is not the house number.
    cleaned = []
    for seg in segments:
        out, i = [], 0
        while i < len(seg):
            t = seg[i]
            short = 3 if t in ("fl", "no") else 4  # FL 60527 is Florida and its ZIP, not a floor
            if (t in _UNIT_WORDS or t == "#") and i + 1 < len(seg) \
                    and re.fullmatch(r"\d{1,%d}(?:-\d{1,4})?[a-z]?|[a-z]" % short, seg[i + 1]):
                unit = unit or f"{_UNIT_WORDS.get(t, 'unit')} {seg[i + 1]}"
                i += 2
                continue
            out.append(t)
            i += 1
        if out:
            cleaned.append(out)
    segments = cleaned
    if po_box:
        number, street_name = po_box, "po box"
    else:
        for si, seg in enumerate(segments):
            hit = _find_street(seg)
            if hit is not None:
                number, street_name, street_type, building, rest_after, direction = hit
                street_seg = si
                break
    # Locality: what follows the street in its segment, then the later segments (or all when no street).
    chunks = ([rest_after] if rest_after else []) + (segments[street_seg + 1:] if street_seg >= 0 else segments)
    if not po_box and street_seg < 0 and segments:
        first = segments[0]  # 1515 Adela (no type word): a leading number and the words after it
        if len(first) >= 2 and _NUMBER.match(first[0]) and all(t.isalpha() for t in first[1:]):
            number, street_name = first[0], " ".join(t for t in first[1:] if t not in _DIRECTIONS)
            chunks = segments[1:]
    state = country = city = ""
    cities: list[str] = []
    for chunk in chunks:
        toks = list(chunk)
        words = []
        for t in toks:
            if _POSTCODE_DIGITS.match(t):
                postcodes.append(t)
            elif not t.isdigit():
                words.append(t)
        # Country and state from the end of the chunk (longest names first).
        for _ in range(2):
            for n in (3, 2, 1):
                tail = " ".join(words[-n:]) if len(words) >= n else ""
                if tail and not country and tail in _COUNTRIES:
                    country, words = _COUNTRIES[tail], words[:-n]
                    break
                if tail and not state and (tail in _STATE_NAMES or (n == 1 and tail in _STATES)):
                    state, words = _STATE_NAMES.get(tail, tail), words[:-n]
                    break
        if words:
            cities.append(" ".join(words))
    city = "; ".join(dict.fromkeys(cities))
    return LatinAddress(number, street_name, street_type, unit, building, city, state,
                        tuple(dict.fromkeys(postcodes)), country, direction)


def _one_edit(a: str, b: str) -> bool:
    """At most one inserted, deleted or substituted character, or two neighbours swapped."""
    from rapidfuzz.distance import OSA

    return OSA.distance(a, b, score_cutoff=1) <= 1


def _typo_type(tok: str) -> str | None:
    """The long street-type word a token is one typo from (``strete`` → ``street``), else None."""
    if len(tok) < 4 or tok in _SUFFIX_TYPES:
        return None
    return next((w for w in _LONG_TYPES if abs(len(w) - len(tok)) <= 1 and _one_edit(tok, w)), None)


def _find_street(seg: list[str]) -> tuple[str, str, str, str, list[str], str] | None:
    """(number, street name, type, building, tokens after the street, direction) when the segment holds a street; a
    type word one typo off, or split in two (``s treet``), is read as the type when no exact one is there."""
    hit = _find_street_exact(seg)
    if hit is not None:
        return hit
    fixed, i = list(seg), 1
    while i < len(fixed):
        joined = fixed[i] + fixed[i + 1] if i + 1 < len(fixed) else ""
        if joined and not fixed[i + 1].isdigit() and (joined in _LONG_TYPES or _typo_type(joined)):
            fixed[i:i + 2] = [joined if joined in _LONG_TYPES else _typo_type(joined)]
            break
        w = _typo_type(fixed[i])
        if w is not None and (i + 1 == len(fixed) or _NUMBER.match(fixed[i - 1]) is None):
            fixed[i] = w
            break
        i += 1
    return _find_street_exact(fixed) if fixed != seg else None


def _find_street_exact(seg: list[str]) -> tuple[str, str, str, str, list[str], str] | None:
    for i, t in enumerate(seg):
        typ = _street_type(t)
        if typ is not None and i >= 1:
            j = i - 1
            name: list[str] = []
            while j >= 0 and not _NUMBER.match(seg[j]):
                name.insert(0, seg[j])
                j -= 1
            dirs = [x for k, x in enumerate(name) if x in _DIRECTIONS and (k == 0 or k == len(name) - 1)
                    and len(name) > 1]
            name = [x for k, x in enumerate(name) if not (x in _DIRECTIONS and (k == 0 or k == len(name) - 1)
                                                          and len(name) > 1)]
            number = ""
            building: list[str] = []
            if j >= 0 and _NUMBER.match(seg[j]):
                number = seg[j]
                building = seg[:j]
            after = seg[i + 1:]
            if after and after[0] in _DIRECTIONS and len(after) > 1:
                dirs, after = dirs + [after[0]], after[1:]
            if not number and after and _NUMBER.match(after[0]):
                number, after = after[0], after[1:]
            if not name:
                continue
            direction = _DIRECTION_CODE.get(dirs[0], dirs[0]) if dirs else ""
            return number, " ".join(_name_token(x) for x in name), typ, " ".join(building), after, direction
        if t in _PREFIX_TYPES and i + 1 < len(seg) and not _NUMBER.match(seg[i + 1]) \
                and (i == 0 or _NUMBER.match(seg[i - 1])):
            name = []
            k = i + 1
            while k < len(seg) and not _NUMBER.match(seg[k]):
                name.append(seg[k])
                k += 1
            number = seg[k] if k < len(seg) else ""
            if not number and i >= 1 and _NUMBER.match(seg[i - 1]):
                number = seg[i - 1]
            if number or k == len(seg):
                return number, " ".join(name), _PREFIX_TYPES[t], " ".join(seg[:i - 1 if number and i >= 1 and
                                                                           seg[i - 1] == number else i]), \
                    seg[k + 1:], ""
    return None


# ----------------------------------------------------------------------------- comparison
def _one_typo(a: str, b: str) -> bool:
    """Equal, or of one length and one substituted character or one swap of neighbours apart."""
    if a == b:
        return True
    if len(a) != len(b):
        return False
    diff = [i for i in range(len(a)) if a[i] != b[i]]
    return len(diff) == 1 or (len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]]
                              and a[diff[1]] == b[diff[0]])


def _similar(a: str, b: str, cut: float) -> bool:
    from rapidfuzz.distance import JaroWinkler

    return a == b or JaroWinkler.normalized_similarity(a, b) >= cut


def _city_agrees(a: str, b: str) -> bool:
    """One place: some locality name of one (city, suburb, county; ``; ``-separated) is one of the other's
    up to a typo (Oroville / Orroville) or written as its initials (LV / Las Vegas)."""
    for p in a.split("; "):
        for q in b.split("; "):
            if _similar(p, q, 0.9):
                return True
            for x, y in ((p, q), (q, p)):
                words = y.split()
                if len(words) >= 2 and x.replace(" ", "") == "".join(w[0] for w in words):
                    return True
    return False


def latin_level(a: LatinAddress, b: LatinAddress) -> int:
    """The deepest part on which two Latin-script addresses agree, as a level of the person ``address``
    comparison (:data:`LEVELS`); -1 when one of them says nothing.

    A part one side leaves out (the unit, the building, the postcode, the city) counts neither way.
    The place conflicts when neither the city nor the postcode agrees while the postcode, the state
    or the country is given on both sides and differs (a city in initials or one typo off is the
    same; a postcode one typo off is the same unless both give towns that differ; a state that differs
    beside an agreeing city or postcode is taken for a slip): then the addresses are different
    whatever the street says (123 Main St is in a thousand towns). When only the town's name differs
    (a suburb or the metro's name: Henderson / Las Vegas), the same door is only the same road, and
    anything less is different. Otherwise: identical when house number and street name agree (the type may be
    missing on one side: 1515 Adela Lane / 1515 Adela; a direction given on both sides agrees: E Main St
    is not W Main St) and the units do not differ; same road and
    number when the street is one typo apart or the units differ (two flats of one house); same road
    when the street agrees and the number differs or is missing (not for PO boxes: two boxes of one post
    office share only the place); similar when neither gives a street and the place agrees (a town
    column: all they both say agrees); same postcode or district when only the place agrees; different
    otherwise.

    >>> P = parse_latin_address
    >>> latin_level(P("Adventura Apartments 638 Downey St, Salem, OR"), P("638 Downey Street, Salem, OR"))
    5
    >>> latin_level(P("12 High Street, Oxford OX1 4AB"), P("12 High Street, Cambridge CB2 1TN"))
    0
    >>> latin_level(P("Apt 4, 200 Park Ave, New York, NY 10166"), P("Apt 9, 200 Park Avenue, New York, NY 10166"))
    4
    >>> latin_level(P("15 Elm Road, Leeds LS6 2AB"), P("48 Elm Road, Leeds LS6 2AB"))
    3
    >>> latin_level(P("Leeds LS6 2AB"), P("9 Oak Lane, Leeds LS6 2AB"))
    1
    """
    if a.empty or b.empty:
        return -1
    pc = bool(a.postcodes and b.postcodes)
    pc_exact = pc and bool(set(a.postcodes) & set(b.postcodes))
    pc_near = pc and not pc_exact and any(_one_typo(x, y) for x in a.postcodes for y in b.postcodes)
    city = bool(a.city and b.city)
    city_agree = city and _city_agrees(a.city, b.city)
    # A postcode one typo off agrees unless the towns, given on both sides, say otherwise (Springfield
    # 60000 / Shelbyville 70000 are two towns with neighbouring codes, not one code mistyped).
    place_agree = pc_exact or city_agree or (pc_near and not city)
    # Two places: postcodes, states or countries that differ. Only the town's name differing (a suburb
    # or the metro's name: Henderson / Las Vegas, Manhattan / New York) leaves the door to decide.
    hard = not place_agree and bool(pc or (a.state and b.state and a.state != b.state)
                                    or (a.country and b.country and a.country != b.country))
    soft = not place_agree and city and not hard
    if hard:
        return 0
    streets = bool(a.street_name and b.street_name)
    types_fit = not (a.street_type and b.street_type and a.street_type != b.street_type) \
        and not (a.direction and b.direction and a.direction != b.direction)  # E Main St is not W Main St
    same_street = streets and a.street_name == b.street_name and types_fit
    near_street = streets and not same_street and types_fit and _similar(a.street_name, b.street_name, 0.92) \
        and (a.street_name == "po box") == (b.street_name == "po box")
    numbers = bool(a.number and b.number)
    same_number = numbers and a.number == b.number
    units_differ = bool(a.unit and b.unit and a.unit != b.unit)
    if soft:
        return 3 if (same_street or near_street) and same_number and a.street_name != "po box" else 0
    if same_street and same_number:
        return 4 if units_differ else 5
    if near_street and same_number:
        return 4
    if (same_street or near_street) and a.street_name != "po box":  # another box at one post office: a place
        return 3
    if place_agree and not a.street_name and not b.street_name:
        return 2  # both give only a place (a town column), and it agrees: all they say agrees
    if place_agree:
        return 1
    return 0


class LatinTable:
    """The parts of many serialised addresses (``addr_latin`` values) as arrays: :meth:`levels` gives
    :func:`latin_level` for many pairs at once (string similarity in rapidfuzz, the rest in numpy)."""

    CITIES = 3  # locality names compared per address (city, suburb, county)

    def __init__(self, values: Sequence[str]):
        parsed = [from_serialised(str(v)) if v else LatinAddress() for v in values]
        n = len(parsed)

        def enc(*cols: list[str]) -> list[np.ndarray]:
            """Integer codes of string columns over one vocabulary ("" is 0), so columns compare."""
            flat = np.array([x for c in cols for x in c], dtype=str) if n else np.zeros(0, dtype=str)
            uniq, inv = np.unique(flat, return_inverse=True)
            code = np.where(flat == "", 0, inv.astype(np.int64) + 1)
            return [code[k * n:(k + 1) * n] for k in range(len(cols))]

        self.empty = np.array([a.empty for a in parsed], dtype=bool)
        self.street_s = np.array([a.street_name for a in parsed], dtype=object)
        self.number, self.street, self.stype, self.direction, self.unit, self.state, self.country = (
            enc(*(list(x) for x in zip(*[(a.number, a.street_name, a.street_type, a.direction, a.unit, a.state,
                                          a.country) for a in parsed])))
            if n else [np.zeros(0, dtype=np.int64)] * 7)
        self.pobox = self.street_s == "po box"
        self.pc = [np.array([a.postcodes[k] if len(a.postcodes) > k else "" for a in parsed], dtype=object)
                   for k in range(2)]
        self.pc_len = [np.array([len(x) for x in col], dtype=np.int64) for col in self.pc]
        width = max(1, max((int(x.max()) for x in self.pc_len if len(x)), default=1))
        self.pc_chars = [np.array([[ord(c) for c in x.ljust(width, "\0")] for x in col], dtype=np.int32)
                         .reshape(len(col), width) for col in self.pc]
        cities = [a.city.split("; ") if a.city else [] for a in parsed]
        self.city = [np.array([c[k] if len(c) > k else "" for c in cities], dtype=object) for k in range(self.CITIES)]
        flat = [[x.replace(" ", "") for x in col] for col in self.city]
        ini = [["".join(w[0] for w in x.split()) if len(x.split()) >= 2 else "" for x in col] for col in self.city]
        codes = enc(*flat, *ini)
        self.city_flat = codes[:self.CITIES]
        self.city_ini = [np.where(c == 0, -1, c) for c in codes[self.CITIES:]]  # no initials: equal to nothing
        self.city_letters = [self._letters(col) for col in self.city]
        self.street_letters = self._letters(self.street_s)

    @staticmethod
    def _letters(col: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(letter counts a-z plus one bin for anything else, length) per string."""
        lengths = np.array([len(x) for x in col], dtype=np.int64)
        codes = np.frombuffer("".join(col).encode("utf-32-le"), dtype=np.uint32).astype(np.int64) - 97
        bins = np.where((codes >= 0) & (codes < 26), codes, 26)
        counts = np.zeros((len(col), 27), dtype=np.int16)
        np.add.at(counts, (np.repeat(np.arange(len(col)), lengths), bins), 1)
        return counts, lengths

    @staticmethod
    def _may_reach(la: tuple, lb: tuple, ia: np.ndarray, ib: np.ndarray, cut: float) -> np.ndarray:
        """Pairs whose Jaro-Winkler similarity can reach ``cut`` at all: with at most 4 prefix letters
        JW <= 0.4 + 0.6 J, and J <= (m/|a| + m/|b| + 1) / 3 where m, the matching characters, is at
        most the letters the two share. A sound filter: the pairs it drops are below ``cut``."""
        common = np.minimum(la[0][ia], lb[0][ib]).sum(axis=1)
        na, nb = np.maximum(la[1][ia], 1), np.maximum(lb[1][ib], 1)
        jaro_needed = (cut - 0.4) / 0.6
        return common / na + common / nb + 1 >= 3 * jaro_needed - 1e-9

    @staticmethod
    def _one_typo(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Rows of two char-code matrices (one length per pair) equal or one substitution or one swap of
        neighbours apart (:func:`_one_typo` over arrays)."""
        neq = a != b
        cnt = neq.sum(axis=1)
        out = cnt <= 1
        two = np.flatnonzero(cnt == 2)
        if len(two):
            first = neq[two].argmax(axis=1)
            nxt = np.minimum(first + 1, a.shape[1] - 1)
            swap = neq[two, nxt] & (a[two, first] == b[two, nxt]) & (a[two, nxt] == b[two, first])
            out[two] = swap
        return out

    @staticmethod
    def _pairwise(xa: np.ndarray, xb: np.ndarray, scorer, mask: np.ndarray, fill, workers: int) -> np.ndarray:
        from rapidfuzz import process

        out = np.full(len(xa), fill, dtype=np.float64)
        idx = np.flatnonzero(mask)
        if len(idx):
            out[idx] = process.cpdist(list(xa[idx]), list(xb[idx]), scorer=scorer, workers=workers)
        return out

    def levels(self, ia: np.ndarray, ib: np.ndarray, workers: int = 1) -> np.ndarray:
        """:func:`latin_level` of the addresses ``ia[k]`` and ``ib[k]`` (row indices of ``values``)."""
        from rapidfuzz.distance import JaroWinkler

        n = len(ia)
        live = ~(self.empty[ia] | self.empty[ib])
        pc_any_a, pc_any_b = self.pc_len[0][ia] > 0, self.pc_len[0][ib] > 0
        pc_exact = np.zeros(n, dtype=bool)
        pc_near = np.zeros(n, dtype=bool)
        for x, lx in zip(self.pc_chars, self.pc_len):
            for y, ly in zip(self.pc_chars, self.pc_len):
                la, lb = lx[ia], ly[ib]
                idx = np.flatnonzero(live & (la > 0) & (la == lb) & ~pc_exact)  # a typo keeps the length
                if len(idx):
                    xa, yb = x[ia[idx]], y[ib[idx]]
                    pc_exact[idx] = (xa == yb).all(axis=1)
                    pc_near[idx] |= self._one_typo(xa, yb)
        pc_near &= ~pc_exact
        city_any_a, city_any_b = self.city_flat[0][ia] != 0, self.city_flat[0][ib] != 0
        city_agree = np.zeros(n, dtype=bool)
        for i in range(self.CITIES):
            for j in range(self.CITIES):
                fa, fb = self.city_flat[i][ia], self.city_flat[j][ib]
                ok = live & (fa != 0) & (fb != 0) & ~pc_exact  # the same postcode settles the place
                if not ok.any():
                    continue
                city_agree |= ok & ((fa == fb) | (fa == self.city_ini[j][ib]) | (self.city_ini[i][ia] == fb))
                ok &= ~city_agree
                idx = np.flatnonzero(ok)
                ok[idx] = self._may_reach(self.city_letters[i], self.city_letters[j], ia[idx], ib[idx], 0.9)
                sim = self._pairwise(self.city[i][ia], self.city[j][ib], JaroWinkler.normalized_similarity,
                                     ok & ~city_agree, 0.0, workers)
                city_agree |= ok & (sim >= 0.9 - 1e-6)  # cpdist gives float32
        place_agree = pc_exact | city_agree | (pc_near & ~(city_any_a & city_any_b))
        differ = lambda col: (col[ia] != 0) & (col[ib] != 0) & (col[ia] != col[ib])  # noqa: E731
        hard = ~place_agree & ((pc_any_a & pc_any_b) | differ(self.state) | differ(self.country))
        soft = ~place_agree & city_any_a & city_any_b & ~hard
        sa, sb = self.street[ia], self.street[ib]
        streets = (sa != 0) & (sb != 0)
        types_fit = ~differ(self.stype) & ~differ(self.direction)
        same_street = streets & (sa == sb) & types_fit
        cand = live & ~hard & streets & ~same_street & types_fit & (self.pobox[ia] == self.pobox[ib])
        idx = np.flatnonzero(cand)
        cand[idx] = self._may_reach(self.street_letters, self.street_letters, ia[idx], ib[idx], 0.92)
        jw = self._pairwise(self.street_s[ia], self.street_s[ib], JaroWinkler.normalized_similarity, cand, 0.0,
                            workers)
        near_street = cand & (jw >= 0.92 - 1e-6)
        na, nb = self.number[ia], self.number[ib]
        same_number = (na != 0) & (na == nb)
        units_differ = differ(self.unit)
        lv = np.zeros(n, dtype=np.int8)
        lv[place_agree] = 1
        lv[place_agree & (self.street[ia] == 0) & (self.street[ib] == 0)] = 2
        lv[(same_street | near_street) & ~self.pobox[ia]] = 3
        lv[near_street & same_number] = 4
        lv[same_street & same_number] = np.where(units_differ[same_street & same_number], 4, 5)
        door = (same_street | near_street) & same_number & ~self.pobox[ia]
        lv[soft] = np.where(door[soft], 3, 0)
        lv[hard] = 0
        lv[self.empty[ia] | self.empty[ib]] = -1
        return lv
