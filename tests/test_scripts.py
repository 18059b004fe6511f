"""Person names in other scripts: transliterated into the Latin name keys, Chinese still read as pinyin.

Expected spellings are written by hand from the usual romanisation of each name (as a passport or a
Latin-script list writes it), not computed with the functions under test.
"""

from __future__ import annotations

import datetime as dt

import pytest

from credgraph.resolution import resolve
from credgraph.resolution.normalise import person_name_keys, person_name_tokens, transliterate
from credgraph.resolution.sample import records_frame


@pytest.mark.parametrize("name,tokens", [
    ("ВАСИЛЬЕВ, Александр Павлович", ["vasilev", "aleksandr", "pavlovich"]),  # Cyrillic; the soft sign leaves no mark
    ("Дмитрий Щербаков", ["dmitriy", "shcherbakov"]),
    ("Γιώργος Παπαδόπουλος", ["giorgos", "papadopoulos"]),  # Greek, ου as ou
    ("فيصل صديقي", ["fysl", "sdyqy"]),  # Arabic: consonants (short vowels are not written)
    ("តារា គឹម", ["tara", "koem"]),  # Khmer
    ("สมชาย ใจดี", ["smchay", "aichdi"]),  # Thai
    ("김민준", ["kim", "minjun"]),  # Hangul: the family name as passports spell it, then the given name
    ("이서연", ["lee", "seoyeon"]),
    ("やまだ たろう", ["yamada", "tarou"]),  # hiragana
    ("キム ミンジュン", ["kimu", "minjiyun"]),  # katakana, letter by letter
    ("राहुल शर्मा", ["rahul", "srma"]),  # Devanagari
])
def test_names_in_other_scripts_become_latin_tokens(name, tokens):
    assert person_name_tokens(name) == tokens


@pytest.mark.parametrize("other,latin", [
    ("ВАСИЛЬЕВ, Александр Павлович", "Alexander Pavlovich Vasiliev"),  # Aleksandr / Alexander, Vasilev / Vasiliev
    ("Дмитрий Щербаков", "Dmitry Shcherbakov"),
    ("فيصل صديقي", "Faisal Siddiqui"),
    ("តារា គឹម", "Dara Kim"),
    ("김민준", "Kim Minjun"),
])
def test_a_name_and_its_romanisation_sound_alike(other, latin):
    assert person_name_keys([other])[0][1] == person_name_keys([latin])[0][1]


@pytest.mark.parametrize("other,latin", [
    ("ВАСИЛЬЕВ, Александр Павлович", "Alexander Pavlovich Petrov"),
    ("فيصل صديقي", "Faisal Khan"),
    ("김민준", "Park Minjun"),
])
def test_another_name_does_not(other, latin):
    assert person_name_keys([other])[0][1] != person_name_keys([latin])[0][1]


def test_chinese_stays_pinyin_and_latin_is_unchanged():
    assert person_name_tokens("王杰") == ["wang", "jie"]  # pinyin, not anyascii's letters (WangJie)
    assert person_name_tokens("山田太郎") == ["shan", "tian", "tai", "lang"]  # kanji are read as Chinese
    assert person_name_tokens("José María Núñez") == ["jose", "maria", "nunez"]
    assert person_name_tokens("Zhiwei DONG") == ["zhi", "wei", "dong"]
    assert transliterate("华强 Müller") == "华强 Müller"
    # a transliterated name is never read as pinyin (Khmer "tara" is not ta + ra)
    assert person_name_keys(["តារា គឹម"])[0][1] != "koem tara"


def test_a_name_in_cyrillic_merges_with_its_romanisation_on_a_shared_phone():
    rows = [
        {"subject_name": "ВАСИЛЬЕВ, Александр Павлович", "subject_type": "natural", "subject_phone": "(4812)85-62-34",
         "subject_birth_date": dt.date(1970, 4, 14)},
        {"subject_name": "Alexander Pavlovich Vasiliev", "subject_type": "natural", "subject_phone": "481-285-6234",
         "subject_birth_date": dt.date(1970, 4, 14)},
        {"subject_name": "Alexander Pavlovich Petrov", "subject_type": "natural", "subject_phone": "481-285-6234",
         "subject_birth_date": dt.date(1981, 9, 2)},
    ]
    res = resolve(records_frame(rows))
    ent = dict(zip(res.assignments["mention_id"].to_list(), res.assignments["entity_id"].to_list()))
    a, b, c = (ent[f"r00000{i}:subject"] for i in (1, 2, 3))
    assert a == b
    assert c != a


def test_graph_search_reads_other_alphabets_in_latin_letters():
    """The graph's search keys (pinyin form of a name) come from the same transliteration: a name written
    in Cyrillic is found by its Latin spelling."""
    from credgraph.graph.build import normalise_search, pinyin_forms

    assert pinyin_forms(normalise_search("ВАСИЛЬЕВ Александр"))[0] == "vasilevaleksandr"
    assert pinyin_forms(normalise_search("华强电子"))[0] == "huaqiangdianzi"
