"""A small hand-made workspace with circular and cross holdings (the generated cities have none).

Two catalogs written here as a registry would publish them (registration: USCC, name, legal
representative with ID number; shareholders: company, shareholder, USCC or ID, ratio), loaded,
resolved and put in the embedded graph with the stages' public APIs:

* **circular holding** 循环持股: 甲乙控股 holds 40% of 丙丁实业, which holds 50% of 戊己科技,
  which holds 25% of 甲乙控股 (A → B → C → A);
* **cross holding** 交叉持股: 庚辛投资 holds 30% of 壬癸贸易, which holds 20% of 庚辛投资 (D ⇄ E);
  庚辛投资 also holds 10% of 甲乙控股, so both loops are above 甲乙控股;
* no loop: 张三 holds 60% of 子丑电子, which holds 25% of 甲乙控股; 李四 holds 100% of 寅卯物流.

USCCs and ID numbers are made valid by python-stdnum's own check-digit functions.
"""

from __future__ import annotations

import csv
from pathlib import Path

from stdnum.cn import ric, uscc

#: short key -> (company name, organisation code body, legal representative, ID number body)
FIRMS = {
    "A": ("深圳市甲乙控股有限公司", "MA5A0001", "王建国", "44030419900101001"),
    "B": ("深圳市丙丁实业有限公司", "MA5B0002", "刘晓明", "44030519910202002"),
    "C": ("深圳市戊己科技有限公司", "MA5C0003", "陈志强", "44030619920303003"),
    "D": ("深圳市庚辛投资有限公司", "MA5D0004", "杨丽华", "44030719930404004"),
    "E": ("深圳市壬癸贸易有限公司", "MA5E0005", "赵海燕", "44030319940505005"),
    "F": ("深圳市子丑电子有限公司", "MA5F0006", "周文斌", "44030319950606006"),
    "G": ("深圳市寅卯物流有限公司", "MA5G0007", "吴国栋", "44030419960707007"),
}
#: (shareholder, company, ratio): shareholders are firm keys or persons (name, ID body)
HOLDINGS = [
    ("A", "B", 0.40), ("B", "C", 0.50), ("C", "A", 0.25),          # the circular holding
    ("D", "E", 0.30), ("E", "D", 0.20),                             # the cross holding
    ("D", "A", 0.10), ("F", "A", 0.25),
    (("张三", "44030519880808008"), "F", 0.60), (("李四", "44030619890909009"), "G", 1.00),
]
#: The loops above, each as the firms in holding order (who holds the next).
LOOPS = {("A", "B", "C"): "circular", ("D", "E"): "cross"}


def _uscc(body: str) -> str:
    """A valid USCC for Shenzhen Futian: 9 1 440304, the organisation code, the check."""
    org = body + _gb11714(body)
    first17 = "91440304" + org
    return first17 + uscc.calc_check_digit(first17)


def _gb11714(first8: str) -> str:
    """The organisation code's check character (GB 11714), written out here."""
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    total = sum(alphabet.index(c) * w for c, w in zip(first8, (3, 7, 9, 10, 5, 8, 4, 2)))
    check = 11 - total % 11
    return {10: "X", 11: "0"}.get(check, str(check))


def _id(body: str) -> str:
    return body + ric.calc_check_digit(body + "0")  # stdnum wants a placeholder check


def code_of(key: str) -> str:
    return _uscc(FIRMS[key][1])


def name_of(key: str) -> str:
    return FIRMS[key][0]


def write_catalogs(raw: Path) -> None:
    """The two catalog files and their specs under ``raw`` (``raw/specs/*.toml``)."""
    (raw / "specs").mkdir(parents=True, exist_ok=True)
    with open(raw / "mr_reg.csv", "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["统一社会信用代码", "企业名称", "企业类型", "法定代表人", "法定代表人证件号码", "注册资本(万元)", "成立日期",
                    "住所", "登记状态"])
        for k, (name, body, rep, rep_id) in FIRMS.items():
            assert uscc.is_valid(_uscc(body)) and ric.is_valid(_id(rep_id)), k
            w.writerow([_uscc(body), name, "有限责任公司", rep, _id(rep_id), "1000", "2015-03-01",
                        f"深圳市福田区深南大道{ord(k)}号", "存续"])
    with open(raw / "mr_shareholder.csv", "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["企业名称", "统一社会信用代码", "股东名称", "股东类型", "股东统一社会信用代码", "股东证件号码", "出资比例"])
        for holder, firm, ratio in HOLDINGS:
            if isinstance(holder, tuple):
                w.writerow([name_of(firm), code_of(firm), holder[0], "自然人股东", "", _id(holder[1]), f"{ratio:.0%}"])
            else:
                w.writerow([name_of(firm), code_of(firm), name_of(holder), "企业法人", code_of(holder), "", f"{ratio:.0%}"])
    (raw / "specs" / "MR_REG.toml").write_text('''code = "MR_REG"
name = "企业登记"
source_unit = "市场监管局"
kind = "entity"
file = "../mr_reg.csv"
format = "csv"
required = ["subject_name"]

[columns]
subject_name = "企业名称"
subject_uscc = "统一社会信用代码"
subject_address = "住所"
object_name = "法定代表人"
object_id_number = "法定代表人证件号码"
legal_form = "企业类型"
capital = "注册资本(万元)"
date = "成立日期"
status = "登记状态"

[constants]
subject_type = "legal"
object_type = "natural"
relation = "legal_rep_of"
event_type = "registration"
''', encoding="utf-8")
    (raw / "specs" / "MR_SHAREHOLDER.toml").write_text('''code = "MR_SHAREHOLDER"
name = "股东及出资信息"
source_unit = "市场监管局"
kind = "relationship"
file = "../mr_shareholder.csv"
format = "csv"
required = ["subject_name", "object_name"]

[columns]
subject_name = "企业名称"
subject_uscc = "统一社会信用代码"
object_name = "股东名称"
object_uscc = "股东统一社会信用代码"
object_id_number = "股东证件号码"
object_type = "股东类型"
ratio = "出资比例"

[constants]
subject_type = "legal"
relation = "shareholder_of"

[values.object_type]
"自然人股东" = "natural"
"企业法人" = "legal"
''', encoding="utf-8")


def holdings_workspace(folder: Path) -> Path:
    """The workspace in ``folder`` (built once: a ``READY`` marker says it is complete)."""
    from credgraph.config import Config
    from credgraph.dashboard.sample import build_workspace_from_raw

    if not (folder / "READY").is_file():
        write_catalogs(folder / "raw")
        cfg = Config()
        cfg.workspace.path = str(folder)
        build_workspace_from_raw(cfg, analytics=False, log=lambda *_: None)
        (folder / "READY").write_text("holdings\n", encoding="utf-8")
    return folder
