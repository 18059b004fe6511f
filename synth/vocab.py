"""Short vocabularies of the synthetic city: districts, authorities, reasons, titles.

Longer word lists (surnames, given names, brands, industries, roads, homophones,
ID region codes) are data files in ``synth/data/`` read by :mod:`credgraph.synth.words`.
These are the fixed, small tables that the catalogs' event columns draw from,
worded as real Shenzhen government files word them.
"""

from __future__ import annotations

#: Shenzhen's administrative divisions: code, name, short name, weight of registrations there.
DISTRICTS: tuple[tuple[str, str, str, float], ...] = (
    ("440300", "深圳市", "深圳", 0.22),
    ("440303", "罗湖区", "罗湖", 0.07),
    ("440304", "福田区", "福田", 0.13),
    ("440305", "南山区", "南山", 0.14),
    ("440306", "宝安区", "宝安", 0.13),
    ("440307", "龙岗区", "龙岗", 0.12),
    ("440308", "盐田区", "盐田", 0.02),
    ("440309", "龙华区", "龙华", 0.10),
    ("440310", "坪山区", "坪山", 0.03),
    ("440311", "光明区", "光明", 0.04),
)

#: Cities outside Shenzhen that branches are named after (深圳市XX有限公司广州分公司).
BRANCH_CITIES = ("广州", "东莞", "惠州", "珠海", "佛山", "中山", "长沙", "武汉", "上海", "北京")

#: The legitimate mass-registration address of the Qianhai zone: thousands of real firms,
#: different agents and owners; a hard negative for shell detection.
QIANHAI_ADDRESS = "深圳市前海深港合作区前湾一路1号A栋201室(入驻深圳市前海商务秘书有限公司)"

#: Legal-person categories: (USCC authority+category code, class, legal form, weight).
#: class: 1 enterprise, 2 individual business, 3 cooperative, 4 non-market organisation.
CATEGORIES: tuple[tuple[str, int, str, float], ...] = (
    ("91", 1, "有限责任公司", 0.62),
    ("91", 1, "股份有限公司", 0.03),
    ("91", 1, "合伙企业", 0.02),
    ("92", 2, "个体工商户", 0.25),
    ("93", 3, "农民专业合作社", 0.006),
    ("51", 4, "社会团体", 0.012),
    ("52", 4, "民办非企业单位", 0.012),
    ("53", 4, "基金会", 0.003),
    ("12", 4, "事业单位", 0.008),
    ("31", 4, "律师事务所", 0.004),
    ("N2", 4, "农村集体经济组织", 0.003),
    ("Y1", 4, "其他组织", 0.002),
)

#: Name patterns of non-market organisations by USCC prefix: (middle word, ending).
NONMARKET_NAMES: dict[str, tuple[tuple[str, str], ...]] = {
    "51": (("电子", "行业协会"), ("物流", "行业协会"), ("软件", "行业协会"), ("潮汕", "商会"), ("湖南", "商会"),
           ("客家", "联谊会"), ("科技", "促进会"), ("服装", "行业协会")),
    "52": (("", "培训学校"), ("", "社会工作服务中心"), ("", "养老院"), ("", "实验学校"), ("", "艺术培训中心")),
    "53": (("", "公益基金会"), ("", "慈善基金会"), ("", "教育基金会")),
    "12": (("", "服务中心"), ("", "研究院"), ("", "医院"), ("", "检测中心")),
    "31": (("", "律师事务所"),),
    "N2": (("", "股份合作公司"),),
    "Y1": (("", "花园业主委员会"),),
}

COOPERATIVE_TRADES = ("果蔬种植", "水产养殖", "花卉", "茶叶种植", "农机")

#: Registration authorities by district code.
def mr_authority(district_code: str) -> str:
    """The market-regulation bureau that registers firms of a district.

    >>> mr_authority("440305")
    '深圳市市场监督管理局南山监管局'
    """
    short = {d[0]: d[2] for d in DISTRICTS}[district_code]
    return "深圳市市场监督管理局" if district_code == "440300" else f"深圳市市场监督管理局{short}监管局"


COURTS: tuple[tuple[str, str], ...] = (
    ("0300", "深圳市中级人民法院"),
    ("0303", "深圳市罗湖区人民法院"),
    ("0304", "深圳市福田区人民法院"),
    ("0305", "深圳市南山区人民法院"),
    ("0306", "深圳市宝安区人民法院"),
    ("0307", "深圳市龙岗区人民法院"),
    ("0308", "深圳市盐田区人民法院"),
    ("0309", "深圳市龙华区人民法院"),
    ("0310", "深圳市坪山区人民法院"),
    ("0311", "深圳市光明区人民法院"),
    ("0391", "深圳前海合作区人民法院"),
)

TAX_OFFICES = tuple(
    "国家税务总局深圳市税务局" if code == "440300" else f"国家税务总局深圳市{name}税务局"
    for code, name, _, _ in DISTRICTS
)

ABNORMAL_REASONS = (
    ("未依照《企业信息公示暂行条例》第八条规定的期限公示年度报告", 0.55),
    ("通过登记的住所或者经营场所无法联系", 0.30),
    ("公示企业信息隐瞒真实情况、弄虚作假", 0.08),
    ("未在市场监督管理部门依照《企业信息公示暂行条例》第十条规定责令的期限内公示有关企业信息", 0.07),
)
SHELL_ABNORMAL_REASON = "通过登记的住所或者经营场所无法联系"

ABNORMAL_REMOVAL = ("依法补报了未报年份的年度报告并公示", "依法办理住所或者经营场所变更登记", "提出通过登记的住所或者经营场所可以重新取得联系")

SERIOUS_REASONS = (
    "被列入经营异常名录届满3年仍未履行相关义务",
    "提交虚假材料或者采取其他欺诈手段隐瞒重要事实，取得公司变更或者注销登记",
    "组织策划传销",
    "因危害国家安全、公共安全被吊销营业执照",
)

COURT_OBLIGATIONS = (
    "被告应于判决生效之日起十日内向原告支付货款及利息",
    "被执行人应偿还借款本金及利息",
    "被执行人应支付拖欠的劳动报酬",
    "被执行人应支付租金及违约金",
    "被执行人应返还工程款",
)
COURT_BEHAVIOURS = (
    "有履行能力而拒不履行生效法律文书确定义务",
    "违反财产报告制度",
    "违反限制消费令",
    "以伪造证据、暴力、威胁等方法妨碍、抗拒执行",
)
COURT_PERFORMANCE = ("全部未履行", "部分未履行")

TAX_GRADES = ("A", "B", "M", "C", "D")

TAX_VIOLATION_KINDS = ("偷税", "逃避追缴欠税", "骗取出口退税", "虚开增值税专用发票", "虚开普通发票")

#: Administrative penalties: (authority, kind, reason, basis, fine range in CNY).
PENALTIES: tuple[tuple[str, str, str, str, tuple[int, int]], ...] = (
    ("深圳市市场监督管理局", "罚款", "销售不合格产品", "《中华人民共和国产品质量法》第四十九条", (5_000, 200_000)),
    ("深圳市市场监督管理局", "警告", "未按规定公示年度报告", "《企业信息公示暂行条例》第十七条", (0, 0)),
    ("深圳市市场监督管理局", "罚款", "发布虚假广告", "《中华人民共和国广告法》第五十五条", (10_000, 500_000)),
    ("深圳市市场监督管理局", "没收违法所得、罚款", "无照经营", "《无证无照经营查处办法》第十三条", (1_000, 50_000)),
    ("深圳市生态环境局", "罚款", "超标排放水污染物", "《中华人民共和国水污染防治法》第八十三条", (100_000, 1_000_000)),
    ("深圳市应急管理局", "罚款", "未按规定开展安全生产教育和培训", "《中华人民共和国安全生产法》第九十七条", (10_000, 100_000)),
    ("深圳市住房和建设局", "罚款", "未取得施工许可证擅自施工", "《建设工程质量管理条例》第五十七条", (50_000, 500_000)),
    ("深圳市交通运输局", "罚款", "未取得道路运输经营许可擅自从事经营", "《中华人民共和国道路运输条例》第六十三条", (30_000, 100_000)),
    ("深圳市卫生健康委员会", "罚款", "未取得医疗机构执业许可证擅自执业", "《医疗机构管理条例》第四十四条", (5_000, 100_000)),
    ("深圳市人力资源和社会保障局", "罚款", "未按规定办理社会保险登记", "《中华人民共和国社会保险法》第八十四条", (1_000, 30_000)),
    ("深圳市城市管理和综合执法局", "罚款", "擅自占用城市道路经营", "《深圳经济特区市容和环境卫生管理条例》第七十六条", (500, 5_000)),
    ("国家税务总局深圳市税务局", "罚款", "未按照规定期限办理纳税申报", "《中华人民共和国税收征收管理法》第六十二条", (200, 10_000)),
)

#: Licences: (authority, certificate name, scope, years of validity, for natural persons too).
LICENCES: tuple[tuple[str, str, str, int, bool], ...] = (
    ("深圳市市场监督管理局", "食品经营许可证", "预包装食品销售", 5, False),
    ("深圳市市场监督管理局", "第二类医疗器械经营备案凭证", "第二类医疗器械批发零售", 5, False),
    ("深圳市交通运输局", "道路运输经营许可证", "普通货运", 4, False),
    ("深圳市住房和建设局", "建筑业企业资质证书", "建筑工程施工总承包三级", 5, False),
    ("深圳市生态环境局", "排污许可证", "排放污染物", 5, False),
    ("深圳市卫生健康委员会", "医师执业证书", "临床类别 内科专业", 5, True),
    ("深圳市交通运输局", "道路运输从业资格证", "道路货物运输驾驶员", 6, True),
    ("深圳市住房和建设局", "二级建造师注册证书", "建筑工程", 3, True),
    ("深圳市人力资源和社会保障局", "职业技能等级证书", "电工 四级", 5, True),
)

RED_TITLES_LEGAL = ("守合同重信用企业", "纳税信用A级纳税人", "诚信示范企业", "深圳知名品牌", "劳动关系和谐企业")
RED_TITLES_NATURAL = ("深圳市道德模范", "无偿献血先进个人", "优秀志愿者", "深圳市劳动模范")
RED_AUTHORITIES = ("深圳市市场监督管理局", "国家税务总局深圳市税务局", "深圳市文明办", "深圳市人力资源和社会保障局", "深圳市卫生健康委员会")

#: What a spot check finds at fault (violators.parquet); shells get the first.
VIOLATIONS = (
    "虚假登记(无实际经营)",
    "年度报告公示信息隐瞒真实情况",
    "未按规定缴纳社会保险费",
    "偷逃税款",
    "无证经营",
    "产品质量不合格",
    "虚假宣传",
    "拖欠劳动报酬",
)

SHAREHOLDER_LABELS = {"natural": "自然人股东", 1: "企业法人", 2: "个体工商户", 3: "农民专业合作社", 4: "社团法人"}

OFFICER_ROLES_SMALL = ("执行董事", "监事", "经理")
OFFICER_ROLES_BOARD = ("董事长", "董事", "监事", "总经理")
