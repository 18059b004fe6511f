"""Entity resolution: records' mentions → legal-person and natural-person entities.

The stage reads standard records (:mod:`credgraph.records`), normalises names,
addresses, phones and identifiers the Chinese way (NFKC, OpenCC traditional →
simplified, company names split into region / core / form / branch, pinyin keys),
blocks on several keys with a size cap, scores pairs with a Fellegi-Sunter model
(EM-estimated m/u, term-frequency adjusted, refined by human judgements), and clusters
under cannot-link constraints (two USCCs, branch vs parent, two ID numbers). Entity ids
are stable across runs; every merge carries its evidence.

>>> normalise_company_name("華強電子（深圳）有限責任公司") == normalise_company_name("深圳市华强电子有限公司")
True
>>> from credgraph.resolution.sample import records_frame
>>> res = resolve(records_frame([
...     {"subject_name": "深圳市华强电子有限公司", "subject_uscc": "914403001922038216"},
...     {"subject_name": "華強電子（深圳）有限責任公司"},
...     {"subject_name": "深圳市华强电子有限公司南山分公司"},
... ]))
>>> res.entity_of("r000001:subject") == res.entity_of("r000002:subject") != res.entity_of("r000003:subject")
True
"""

from credgraph.resolution.errors import InputError, JudgementError, ModelVersionError, ResolutionError
from credgraph.resolution.evaluate import Evaluation, evaluate
from credgraph.resolution.explain import explain
from credgraph.resolution.judgements import add_judgement, empty_judgements
from credgraph.resolution.matching import Candidate, FeatureScore, Matcher, MatchResult
from credgraph.resolution.model import Model, load_model, save_model
from credgraph.resolution.normalise import (
    CompanyName,
    normalise_company_name,
    normalise_person_name,
    normalise_phone,
    normalise_text,
    parse_address,
    parse_company_name,
    pinyin_key,
)
from credgraph.resolution.pipeline import Resolution, load_resolution, resolve, write_resolution

__all__ = [
    "Candidate",
    "CompanyName",
    "FeatureScore",
    "Matcher",
    "MatchResult",
    "Evaluation",
    "InputError",
    "JudgementError",
    "Model",
    "ModelVersionError",
    "Resolution",
    "ResolutionError",
    "add_judgement",
    "empty_judgements",
    "evaluate",
    "explain",
    "load_model",
    "load_resolution",
    "normalise_company_name",
    "normalise_person_name",
    "normalise_phone",
    "normalise_text",
    "parse_address",
    "parse_company_name",
    "pinyin_key",
    "resolve",
    "save_model",
    "write_resolution",
]
