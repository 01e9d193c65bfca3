"""Synthetic Chinese government news with known duplicate clusters, for bench/dedup.py.

Every article is made from sentence templates and vocabulary written here, filled from a
random generator seeded by its cluster number, so a corpus of any size is reproducible and
needs no download. A cluster is one original article plus republished copies of it, each made
by one of the transformations that portals apply (`VARIANTS`). Some articles are near-miss
negatives: a follow-up report that repeats the lead paragraph of an earlier article but is
a different article.
"""
from __future__ import annotations

import random
import re
from functools import lru_cache

import opencc

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡杜叶程苏魏吕丁任姚卢姜崔钟谭陆汪范金石廖贾夏韦方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国志红玉兰春海波宁鹏飞俊峰浩宇晨阳斌辉鑫林文凯晓东雪梅琳丹昊天佳琪思远子豪梓涵一诺欣怡"
PROVINCES = ["江苏", "湖北", "广东", "浙江", "山东", "河南", "四川", "湖南", "安徽", "福建", "江西", "广西", "云南", "陕西", "河北", "山西"]
CITY_HEADS = "泰荆淮扬盐宿徐镇常嘉绍台温金衢丽湖襄宜孝随咸黄恩郴岳常益娄邵衡株湘韶梅汕潮揭肇茂湛阳云清"
CITY_TAILS = ["州", "门", "安", "阳", "城", "江", "山", "宁", "昌", "德", "兴", "平"]
DISTRICT_HEADS = "海陵高港姜堰兴化靖江泰兴东台射阳阜宁滨海响水建湖大丰亭湖盐都清江浦淮阴洪泽涟水盱眙金湖东港西湖南湖北塘新城开发"
DISTRICT_TAILS = ["区", "县", "市", "镇", "街道", "经济开发区", "高新区"]
ORGS = ["发展改革委", "工业和信息化局", "商务局", "科技局", "财政局", "人力资源和社会保障局", "自然资源和规划局",
        "生态环境局", "住房和城乡建设局", "交通运输局", "水利局", "农业农村局", "文化广电和旅游局", "卫生健康委",
        "应急管理局", "市场监督管理局", "统计局", "医疗保障局", "数据局", "教育局", "民政局", "司法局", "审计局",
        "退役军人事务局", "城市管理局", "行政审批局", "税务局", "供电公司", "总工会", "团委", "妇联", "残联"]
POSTS = ["党委书记", "区长", "县长", "市长", "副市长", "常务副区长", "副县长", "局长", "党组书记", "主任", "副主任",
         "管委会主任", "镇党委书记", "街道办事处主任", "总经理", "董事长"]
INDUSTRIES = ["新能源汽车", "生物医药", "高端装备", "集成电路", "新材料", "智能制造", "现代物流", "数字经济",
              "绿色食品", "光伏储能", "纺织服装", "船舶海工", "电子信息", "文旅康养", "现代农业", "跨境电商",
              "节能环保", "精细化工", "航空航天", "软件服务"]
COMPANY_WORDS = "华瑞恒泰鑫源中科远航金诚宏达天成博远新东方正德通利嘉盛永安兴业精工联创汇智晟启"
COMPANY_TAILS = ["科技有限公司", "新材料股份有限公司", "智能装备有限公司", "生物科技有限公司", "电子有限公司",
                 "实业集团", "能源有限公司", "食品有限公司", "物流有限公司", "医药有限公司"]
PROJECTS = ["产业园", "研发中心", "生产基地", "智能工厂", "物流园", "孵化器", "示范园区", "数据中心", "综合体",
            "污水处理厂", "安置小区", "快速路", "人民医院新院区", "实验学校", "体育公园", "农贸市场", "冷链仓储中心"]
TOPICS = {
    "招商": ["项目签约", "招商引资", "重大项目", "产业链招商", "投资促进"],
    "建设": ["项目建设", "重点工程", "城市更新", "基础设施", "老旧小区改造"],
    "农业": ["乡村振兴", "高标准农田", "粮食生产", "农村人居环境", "特色产业"],
    "民生": ["就业帮扶", "养老服务", "医疗保障", "教育资源", "社会救助"],
    "安全": ["安全生产", "防汛抗旱", "消防安全", "食品安全", "燃气安全"],
    "环境": ["大气污染防治", "河湖长制", "生态修复", "垃圾分类", "节能降碳"],
    "改革": ["营商环境", "政务服务", "放管服改革", "数字政府", "信用体系建设"],
    "科技": ["科技创新", "人才引进", "成果转化", "高新技术企业培育", "产学研合作"],
}
EVENTS = ["召开", "举行", "组织开展", "专题研究", "部署推进", "调研督导", "观摩推进", "集中签约"]
MEETINGS = ["工作推进会", "现场观摩会", "专题会议", "调度会", "动员大会", "座谈会", "培训会", "联席会议", "现场会"]

LEADS = [
    "{date}，{district}{event}{topic}{meeting}，{person}出席并讲话。",
    "{date}上午，{org}{event}全市{topic}{meeting}，总结前一阶段工作，部署下一步任务。",
    "记者从{org}获悉，{date}，{district}{topic}工作取得新进展，{n1}个重点事项全部按期推进。",
    "{date}下午，{person}带队赴{district}{event}{topic}工作，实地察看{project}建设情况。",
    "{date}，{province}{city}{district}{project}项目举行开工仪式，项目总投资{money}亿元。",
    "近日，{org}印发《关于进一步推进{topic}的实施意见》，明确了今后{n2}年的目标任务。",
]
BODY = [
    "今年以来，{district}坚持把{topic}作为{focus}，累计完成投资{money}亿元，同比增长{pct}%。",
    "会议指出，{topic}事关{stake}，各级各部门要进一步提高政治站位，压紧压实工作责任。",
    "会上，{org}、{org2}等{n1}个部门作了交流发言，{company}负责人介绍了企业发展情况。",
    "据了解，{project}占地约{n3}亩，建成后预计年产值可达{money}亿元，新增就业岗位{n4}个。",
    "{person}强调，要聚焦{industry}等重点产业，{action}，全力推动{topic}取得更大成效。",
    "截至{month}底，全{area}已完成{topic}任务{n3}项，占年度目标的{pct}%，{n1}项提前完成。",
    "下一步，{district}将继续{action}，持续优化{topic}工作机制，确保各项任务落地见效。",
    "{company}总投资{money}亿元的{industry}{project}项目，从签约到开工仅用了{n1}天。",
    "活动现场，{n4}余名群众参与咨询，工作人员发放宣传资料{n3}份，解答群众问题{n2}个。",
    "与会人员先后来到{company}、{project}等{n1}个点位，现场察看{topic}推进情况。",
    "{org}相关负责人表示，将围绕{topic}建立{mechanism}，做到{promise}。",
    "会议要求，要{action}，对排查发现的{n2}类问题建立台账，实行{mechanism}，限期整改到位。",
    "数据显示，{month}份全{area}{industry}产业实现营业收入{money}亿元，同比增长{pct}%，高于全省平均水平。",
    "为推动{topic}走深走实，{district}先后出台{n1}项配套政策，设立{money}亿元专项资金。",
    "{person}在调研中指出，{project}是全{area}{focus}，要倒排工期、挂图作战，确保年内建成投用。",
    "在{village}，村党支部书记{name}告诉记者，去年村集体经济收入突破{n3}万元，村民人均增收{n4}元。",
    "{company}相关负责人{name}介绍，企业今年研发投入{money}亿元，新申请发明专利{n2}件。",
    "据悉，{district}已累计培育{industry}规上企业{n3}家，形成了较为完整的产业链条。",
    "会议通报了{month}份{topic}工作考核情况，{district}、{district2}等地排名靠前。",
    "今年，{city}计划实施{topic}重点项目{n3}个，年度计划投资{money}亿元。",
    "{org}将以此次活动为契机，{action}，不断提升群众的获得感、幸福感、安全感。",
    "对照年初确定的目标，{district}{topic}{n2}项重点任务中已有{n1}项完成，其余正在加快推进。",
    "{name}是{company}的一名技术员，他说：“{quote}”",
    "现场，{company}等{n1}家企业与{district}签订合作协议，签约金额{money}亿元。",
    "{person}要求，要坚持问题导向，聚焦{stake}，{action}，以钉钉子精神抓好各项工作落实。",
    "近年来，{city}把{industry}作为主导产业重点培育，{year}年产业规模达到{money}亿元。",
    "{district}还将举办{industry}专场招聘会，提供岗位{n4}个，帮助{n3}名高校毕业生就近就业。",
    "下阶段，{org}将开展为期{n2}个月的{topic}专项行动，重点整治{problem}等突出问题。",
    "据{org}统计，{month}份共受理{topic}相关事项{n4}件，办结率达到{pct}%。",
    "“{quote}”{name}说，这几年{village}的变化大家看在眼里、记在心上。",
]
FOCUS = ["一号工程", "头等大事", "重中之重", "重要抓手", "关键一招", "主攻方向"]
STAKES = ["高质量发展大局", "人民群众切身利益", "经济社会发展全局", "全市发展大局", "群众生命财产安全"]
ACTIONS = ["强化要素保障", "加强统筹调度", "坚持项目为王", "优化服务举措", "压实主体责任", "深化部门协同",
           "加大督查力度", "完善政策体系", "突出精准施策", "强化数字赋能", "用好考核指挥棒"]
MECHANISMS = ["周调度、月通报机制", "清单化管理机制", "专班推进机制", "挂钩联系制度", "闭环管理机制",
              "首问负责制度"]
PROMISES = ["件件有着落、事事有回音", "发现一起、查处一起", "早发现、早处置", "应办尽办、快办快结"]
PROBLEMS = ["违规占用", "私搭乱建", "超限超载", "虚假宣传", "无证经营", "违规排放"]
QUOTES = ["现在厂里订单排到了年底，大家干劲都很足。", "政策落到了实处，我们企业发展更有信心了。",
          "家门口就能上班，既能照顾家里又能挣钱。", "以前办事要跑好几趟，现在一次就办好了。",
          "路修好了，村里的农产品也更好卖了。", "培训让我学到了新技术，收入也提高了。"]
MONTHS = ["1月", "2月", "3月", "4月", "5月", "6月", "7月", "8月", "9月", "10月", "11月"]

CHROME_DROPPED = ["来源：{city}日报", "责任编辑：{name}", "分享到：", "【字号 大 中 小】", "扫一扫在手机打开当前页",
                  "上一篇：{title}", "打印本页 关闭窗口", "版权所有：{city}市人民政府办公室"]
CHROME_KEPT = ["（{city}融媒体中心记者 {name} 通讯员 {name2}）", "原标题：{title}", "本文转载自{city}发布微信公众号。",
               "（记者 {name}）", "编者按：{district}近期工作动态，现予刊发。"]


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.randint(1, 2)))


# How each template slot is filled; the place slots (city, district, topic...) are fixed per article.
SLOTS = {
    "date": lambda rng, slots: f"{rng.randint(1, 12)}月{rng.randint(1, 28)}日",
    "month": lambda rng, slots: rng.choice(MONTHS),
    "year": lambda rng, slots: str(rng.randint(2019, 2025)),
    "event": lambda rng, slots: rng.choice(EVENTS),
    "meeting": lambda rng, slots: rng.choice(MEETINGS),
    "org": lambda rng, slots: slots["city"] + rng.choice(ORGS),
    "org2": lambda rng, slots: rng.choice(ORGS),
    "person": lambda rng, slots: slots["city"] + rng.choice(POSTS) + _name(rng),
    "name": lambda rng, slots: _name(rng),
    "name2": lambda rng, slots: _name(rng),
    "industry": lambda rng, slots: rng.choice(INDUSTRIES),
    "project": lambda rng, slots: rng.choice(COMPANY_WORDS) + rng.choice(COMPANY_WORDS) + rng.choice(PROJECTS),
    "company": lambda rng, slots: "".join(rng.sample(COMPANY_WORDS, 2)) + rng.choice(COMPANY_TAILS),
    "focus": lambda rng, slots: rng.choice(FOCUS),
    "stake": lambda rng, slots: rng.choice(STAKES),
    "action": lambda rng, slots: rng.choice(ACTIONS),
    "mechanism": lambda rng, slots: rng.choice(MECHANISMS),
    "promise": lambda rng, slots: rng.choice(PROMISES),
    "problem": lambda rng, slots: rng.choice(PROBLEMS),
    "quote": lambda rng, slots: rng.choice(QUOTES),
    "village": lambda rng, slots: rng.choice(DISTRICT_HEADS) + rng.choice("东西南北新") + "村",
    "area": lambda rng, slots: rng.choice("市区县镇"),
    "n1": lambda rng, slots: str(rng.randint(3, 30)),
    "n2": lambda rng, slots: str(rng.randint(2, 60)),
    "n3": lambda rng, slots: str(rng.randint(20, 900)),
    "n4": lambda rng, slots: str(rng.randint(100, 9000)),
    "pct": lambda rng, slots: f"{rng.randint(1, 99)}.{rng.randint(0, 9)}",
    "money": lambda rng, slots: f"{rng.randint(1, 300)}.{rng.randint(1, 9)}",
}


class _Slots(dict):
    """The values of one sentence: the article's place, and fresh random values on demand."""

    def __init__(self, rng: random.Random, place: dict):
        super().__init__(place)
        self.rng = rng

    def __missing__(self, key: str) -> str:
        return SLOTS[key](self.rng, self)


def _fill(template: str, rng: random.Random, place: dict) -> str:
    return template.format_map(_Slots(rng, place))


def _place(rng: random.Random) -> dict:
    city = rng.choice(CITY_HEADS) + rng.choice(CITY_TAILS)
    district = "".join(rng.sample(DISTRICT_HEADS, 2)) + rng.choice(DISTRICT_TAILS)
    district2 = "".join(rng.sample(DISTRICT_HEADS, 2)) + rng.choice(DISTRICT_TAILS)
    topic = rng.choice(TOPICS[rng.choice(list(TOPICS))])
    return {"province": rng.choice(PROVINCES), "city": city, "district": district, "district2": district2,
            "topic": topic}


def article(seed: int, lead_from: int | None = None) -> dict:
    """One original article: title, date and 3-7 paragraphs (joined by `\\n`), 400-1,500 chars.
    With `lead_from`, the lead paragraph is that article's (a follow-up report)."""
    rng = random.Random(seed)
    place = _place(rng)
    sentences = rng.sample(BODY, rng.randint(10, 20))
    paragraphs, start = [], 0
    while start < len(sentences):
        size = rng.randint(1, 3)
        paragraphs.append("".join(_fill(s, rng, place) for s in sentences[start:start + size]))
        start += size
    lead = _fill(rng.choice(LEADS), rng, place)
    if lead_from is not None:
        lead = article(lead_from)["body"].split("\n")[0]
    title = f"{place['district']}{rng.choice(EVENTS)}{place['topic']}{rng.choice(MEETINGS)}"
    return {"title": title, "published": f"{rng.randint(2019, 2025)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
            "body": "\n".join([lead, *paragraphs]), "place": place}


# --- the transformations of a republished copy ---------------------------------------------------
_SENTENCE = re.compile(r"[^。！？]+[。！？”]*")


def _sentences(body: str) -> list[list[str]]:
    return [_SENTENCE.findall(p) or [p] for p in body.split("\n")]


def _join(paragraphs: list[list[str]]) -> str:
    return "\n".join("".join(p) for p in paragraphs if p)


def exact_copy(doc: dict, rng: random.Random) -> dict:
    """Same text in other chrome: furniture lines that cleaning drops, other punctuation width."""
    lines = doc["body"].split("\n")
    lines.insert(0, _fill(rng.choice(CHROME_DROPPED), rng, {**doc["place"], "title": doc["title"]}))
    lines.append(_fill(rng.choice(CHROME_DROPPED), rng, {**doc["place"], "title": doc["title"]}))
    body = "\n".join(lines).replace("，", ",") if rng.random() < 0.5 else "\n".join(lines)
    return {**doc, "body": body}


def small_edits(doc: dict, rng: random.Random) -> dict:
    """An editor's touch: a figure or word changed, one sentence dropped or added."""
    paragraphs = _sentences(doc["body"])
    for _ in range(rng.randint(1, 3)):
        p = rng.choice([i for i, sentences in enumerate(paragraphs) if sentences])
        s = rng.randrange(len(paragraphs[p]))
        sentence = paragraphs[p][s]
        choice = rng.random()
        if choice < 0.4:
            paragraphs[p][s] = re.sub(r"\d+", lambda m: str(int(m.group()) + rng.randint(1, 9)), sentence, count=1)
        elif choice < 0.7 and sum(map(len, paragraphs)) > 6:
            del paragraphs[p][s]
        else:
            paragraphs[p].insert(s, _fill(rng.choice(BODY), rng, doc["place"]))
    return {**doc, "body": _join(paragraphs)}


def new_headline(doc: dict, rng: random.Random) -> dict:
    """Another portal's headline and a dateline in front of the lead."""
    place = doc["place"]
    title = rng.choice([f"【关注】{doc['title']}", f"{place['city']}：{place['topic']}跑出加速度",
                        f"{place['district']}全力推进{place['topic']}工作", f"{place['topic']}这样干！"])
    lines = doc["body"].split("\n")
    lines[0] = rng.choice(["本报讯 ", "本网讯 ", f"{place['city']}讯 "]) + lines[0]
    return {**doc, "title": title, "body": "\n".join(lines)}


def trimmed_ending(doc: dict, rng: random.Random) -> dict:
    """The last 10-30% of the sentences cut off."""
    paragraphs = _sentences(doc["body"])
    total = sum(map(len, paragraphs))
    cut = max(1, round(total * rng.uniform(0.1, 0.3)))
    while cut:
        if len(paragraphs[-1]) > 1:
            paragraphs[-1].pop()
        else:
            paragraphs.pop()
        cut -= 1
    return {**doc, "body": _join(paragraphs)}


@lru_cache(maxsize=1)
def _s2t() -> opencc.OpenCC:
    return opencc.OpenCC("s2t")


def other_script(doc: dict, rng: random.Random) -> dict:
    """Published in Traditional script (OpenCC s2t); ingest's cleaning converts it back (t2s)."""
    return {**doc, "title": _s2t().convert(doc["title"]), "body": _s2t().convert(doc["body"])}


def other_chrome(doc: dict, rng: random.Random) -> dict:
    """Furniture that cleaning drops plus lines it cannot know are furniture (bylines, 原标题)."""
    fill = {**doc["place"], "title": doc["title"]}
    lines = doc["body"].split("\n")
    lines.insert(0, _fill(rng.choice(CHROME_KEPT), rng, fill))
    lines.insert(0, _fill(rng.choice(CHROME_DROPPED), rng, fill))
    lines.append(_fill(rng.choice(CHROME_KEPT), rng, fill))
    lines.append(_fill(rng.choice(CHROME_DROPPED), rng, fill))
    return {**doc, "body": "\n".join(lines)}


def headline_trim_chrome(doc: dict, rng: random.Random) -> dict:
    return other_chrome(trimmed_ending(new_headline(doc, rng), rng), rng)


VARIANTS = {
    "exact": exact_copy, "edited": small_edits, "headline": new_headline, "trimmed": trimmed_ending,
    "script": other_script, "chrome": other_chrome, "combined": headline_trim_chrome,
}
# Traditional-script copies are the rarest kind of republication (and OpenCC's pure-Python s2t
# is slow to make them), so they get half the weight of the others.
VARIANT_WEIGHTS = {"exact": 1, "edited": 1, "headline": 1, "trimmed": 1, "script": 0.5, "chrome": 1, "combined": 1}
