"""Writes heldout_v2.jsonl: a bilingual held-out set written BEFORE tuning the rules (issue #12).

Authored independently of ../shared/eval: the phrasings below were written from the taxonomy and
from how people state these facts, not from the dev files; every value is invented. Each
template is one person's way of saying one thing; slots are filled from small invented pools
with a fixed seed, and the gold spans are the filled slot values (MemPrivacy-Bench format).
Some users have no `user_name` (self-introductions must be caught without `real_name`).

    python tests/heldout/build_heldout_v2.py   # rewrites tests/heldout/heldout_v2.jsonl
"""

from __future__ import annotations

import json
import random
from pathlib import Path

R = random.Random(20261201)

# --- invented value pools ------------------------------------------------------------------
EN = {
    "first": ["Tomasz", "Ifeoma", "Rafael", "Greta", "Darnell", "Yuki", "Saoirse", "Bilal", "Ingrid",
              "Mateo", "Priyanka", "Oluwaseun", "Henrik", "Camille", "Dmitri", "Leilani"],
    "last": ["Brzezinski", "Okonkwo", "Albuquerque", "Lindqvist", "Whitfield", "Tanabe", "Gallagher",
             "Qureshi", "Solberg", "Castellanos", "Raghavan", "Adeyemi", "Vestergaard", "Moreau"],
    "job": ["senior data engineer", "charge nurse", "regional sales manager", "staff software engineer",
            "paralegal", "head of procurement", "associate professor of chemistry", "line cook",
            "principal product designer", "site reliability engineer", "physiotherapist",
            "assistant principal", "chief financial officer", "quality assurance lead"],
    "company": ["Northwind Logistics", "Brightwater Analytics Ltd", "Halvorsen & Pike LLP",
                "Kestrel Dynamics Inc.", "Bluefin Robotics GmbH", "Meridian Health Partners",
                "Copperleaf Insurance Group", "Arbor Lane Bakery", "Quantix Solutions Corp",
                "Stonebridge Capital"],
    "org": ["the Riverside Food Bank", "Greenway Tenants Association", "the Lakeshore Rowing Club",
            "Hope Harbor Shelter", "the Eastfield Chess Society"],
    "school": ["University of Leeds", "Oakridge High School", "Carnegie Mellon University",
               "St. Brigid's Primary School", "Imperial College London", "Whitman College",
               "McGill University", "Lincoln Park Elementary"],
    "city": ["Lisbon", "Tucson", "Gdansk", "Leeds", "Osaka", "Halifax", "Porto", "Denver", "Cork"],
    "street": ["14 Larchmont Avenue", "221 Willow Bend Road", "7 Kingfisher Close", "3580 Redwood Drive",
               "19 Harbour View Terrace", "88 Quarry Lane", "402 Maple Grove Court"],
    "apt": ["Apt 5C", "Flat 2", "Unit 1107", "Suite 300"],
    "zip": ["85719", "LS6 3QN", "80211", "T12 X7P4", "B3H 1Y6"],
    "hotel": ["the Harbourside Inn", "Hotel Alfama Garden", "the Pinecrest Lodge", "Hilton Garden Inn Tucson",
              "the Copper Kettle B&B"],
    "room": ["room 412", "room 1508", "room 27", "suite 9B"],
    "bank": ["Chase", "Barclays", "Wells Fargo", "HSBC", "Santander", "Citibank", "Lloyds"],
    "pet": ["Biscuit", "Pickles", "Major Tom", "Luna", "Rusty"],
    "maiden": ["Halloran", "Petrakis", "Villanueva", "Abernathy"],
    "street_child": ["Birchwood Lane", "Cedar Hollow Road", "Mill Street"],
    "car": ["Ford Fiesta", "Subaru Outback", "Honda Civic"],
    "teacher": ["Mrs. Donnelly", "Mr. Abara", "Ms. Fairweather"],
}
ZH = {
    "name": ["林晓峰", "陈思琪", "赵一鸣", "黄佳怡", "周子涵", "吴建国", "郑雨桐", "孙浩然", "马丽娟", "何俊杰",
             "刘婷婷", "高志强", "罗欣悦", "梁文博"],
    "job": ["高级产品经理", "主治医师", "财务总监", "前端开发工程师", "小学语文老师", "销售主管", "副教授",
            "运维工程师", "人力资源专员", "项目经理", "护士长", "法务顾问"],
    "company": ["华为技术有限公司", "腾讯科技", "杭州云栖数据科技有限公司", "深圳市星河电子有限公司",
                "招商银行", "北京字节跳动", "上海蓝鲸物流集团", "成都天府软件股份有限公司"],
    "org": ["市红十字会", "社区业主委员会", "北京马拉松协会", "校友会"],
    "school": ["清华大学", "复旦大学", "浙江大学", "北京市第四中学", "华中科技大学", "南京外国语学校",
               "武汉大学", "杭州市学军中学"],
    "city": ["杭州", "成都", "西安", "厦门", "青岛", "昆明"],
    "addr": ["杭州市西湖区文三路478号华星时代广场A座1203室", "成都市武侯区天府大道北段1700号环球中心W3区",
             "北京市朝阳区望京街道阜通东大街6号院3号楼2单元1801", "上海市浦东新区张江路368号12栋502室",
             "广州市天河区珠江新城华夏路10号富力中心28楼", "南京市鼓楼区汉中路89号金鹰国际大厦1706"],
    "place": ["公司楼下的星巴克", "小区东门的快递柜旁边", "地铁2号线龙华站C出口", "南山区科技园腾讯滨海大厦B座大堂",
              "三里屯太古里北区的喜茶门口", "西溪湿地周家村入口"],
    "hotel": ["全季酒店(西湖湖滨店)", "亚朵酒店春熙路店", "如家快捷酒店北京西站店", "厦门鼓浪屿海景民宿"],
    "room": ["1208房间", "803房", "606号房", "2317室"],
    "bank": ["工商银行", "建设银行", "招商银行", "中国银行", "农业银行", "交通银行", "浦发银行"],
    "pet": ["豆豆", "旺财", "咪咪", "团子"],
    "mother": ["李秀英", "王桂兰", "张美华"],
    "teacher": ["刘老师", "陈老师", "王老师"],
}


def digits(n: int) -> str:
    return str(R.randint(1, 9)) + "".join(str(R.randint(0, 9)) for _ in range(n - 1))


def luhn_ok(number: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def bad_card(n: int) -> str:
    while True:
        num = digits(n)
        if not luhn_ok(num):
            return num


def good_card(prefix: str = "4") -> str:
    while True:
        num = prefix + "".join(str(R.randint(0, 9)) for _ in range(16 - len(prefix)))
        if luhn_ok(num):
            return num


def pick(pool: list[str]) -> str:
    return R.choice(pool)


def en_fills() -> dict[str, str]:
    first, last = pick(EN["first"]), pick(EN["last"])
    tp_first, tp_last = pick(EN["first"]), pick(EN["last"])
    month = pick(["January", "March", "April", "July", "September", "November"])
    day = R.randint(2, 28)
    year = R.randint(1958, 2004)
    return {
        "name": f"{first} {last}", "first": first, "tp": f"{tp_first} {tp_last}", "tp_first": tp_first,
        "job": pick(EN["job"]), "company": pick(EN["company"]), "org": pick(EN["org"]),
        "school": pick(EN["school"]), "city": pick(EN["city"]), "age": str(R.randint(19, 71)),
        "dob": pick([f"{month} {day}, {year}", f"{day} {month} {year}", f"{year}-{R.randint(1, 12):02d}-{day:02d}",
                     f"{R.randint(1, 12):02d}/{day:02d}/{year}"]),
        "addr": f"{pick(EN['street'])}, {pick(EN['apt'])}, {pick(EN['city'])} {pick(EN['zip'])}",
        "street": pick(EN["street"]),
        "hotel": pick(EN["hotel"]), "room": pick(EN["room"]), "bank": pick(EN["bank"]),
        "acct": bad_card(R.choice([16, 17, 18, 19])), "card": good_card(R.choice(["4", "51", "37"])),
        "routing": digits(9), "iban_like": digits(10),
        "pet": pick(EN["pet"]), "maiden": pick(EN["maiden"]), "child_street": pick(EN["street_child"]),
        "car": pick(EN["car"]), "teacher": pick(EN["teacher"]),
        "phone": pick([f"+1 (520) {digits(3)}-{digits(4)}", f"07{digits(3)} {digits(6)}", f"(303) {digits(3)}-{digits(4)}"]),
        "email": f"{first.lower()}.{last.lower()}{R.randint(1, 99)}@{pick(['fastmail.com', 'outlook.com', 'proton.me', 'gmail.com'])}",
        "otp": digits(6), "pw": pick(["Tr0ub4dor&3", "c0rnfl@keZ!", "Winter#2024go", "p4ssW0rd-kite"]),
        "ssn": f"{R.randint(100, 665)}-{R.randint(10, 99)}-{digits(4)}",
        "passport": pick(["X", "K", "P"]) + digits(8),
        "device": pick([f"IMEI {digits(15)}", f"SN-{digits(4)}-{R.choice('ABCDEFGH')}{digits(5)}",
                        f"{':'.join(f'{R.randint(0, 255):02X}' for _ in range(6))}"]),
        "serial": f"C02{R.choice('XYZ')}{digits(5)}{R.choice('JKLMN')}{R.choice('HQRT')}",
        "ip": f"10.{R.randint(0, 254)}.{R.randint(0, 254)}.{R.randint(2, 254)}",
        "host": pick(["jira.corp.local", "intranet.acme-internal.net", "gitlab.internal", "hr-portal.lan"]),
        "port": str(R.choice([8080, 8443, 3000, 9000, 5601])),
        "project": pick([f"PRJ-{digits(4)}", f"OPS-{digits(3)}", f"Project {pick(['Falcon', 'Bluebird', 'Atlas', 'Nimbus'])}",
                         f"TKT-{digits(5)}", f"RFC-{digits(4)}"]),
        "party": pick(["Labour", "the Green Party", "the Democrats", "the Libertarian Party", "the Conservatives"]),
        "salary": pick(["$142,000 a year", "£58k", "$6,300 a month"]),
        "time": pick(["7:40 am", "6:15pm", "noon"]),
        "date": pick(["May 3rd", "next Tuesday", "the 14th", "June 21"]),
        "flight": pick(["BA 2491", "UA 873", "DL1142", "AA 206"]),
        "airport": pick(["Heathrow", "Denver International", "Lisbon airport", "Narita"]),
        "condition": pick(["type 1 diabetes", "a herniated disc", "generalised anxiety disorder", "hypothyroidism"]),
    }


def zh_fills() -> dict[str, str]:
    y, m, d = R.randint(1960, 2003), R.randint(1, 12), R.randint(1, 28)
    return {
        "name": pick(ZH["name"]), "tp": pick(ZH["name"]), "tp2": pick(ZH["name"])[1:] if R.random() < 0.3 else pick(ZH["name"]),
        "job": pick(ZH["job"]), "company": pick(ZH["company"]), "org": pick(ZH["org"]), "school": pick(ZH["school"]),
        "city": pick(ZH["city"]), "age": str(R.randint(18, 72)),
        "dob": pick([f"{y}年{m}月{d}日", f"{y}-{m:02d}-{d:02d}", f"{y}.{m}.{d}", f"{y}年{m}月{d}号"]),
        "addr": pick(ZH["addr"]), "place": pick(ZH["place"]), "hotel": pick(ZH["hotel"]), "room": pick(ZH["room"]),
        "bank": pick(ZH["bank"]), "acct": bad_card(R.choice([16, 17, 18, 19])), "card": good_card("62"),
        "pet": pick(ZH["pet"]), "mother": pick(ZH["mother"]), "teacher": pick(ZH["teacher"]),
        "phone": f"1{R.choice('3589')}{digits(9)}", "otp": digits(6), "pw": pick(["abc@2023Hz", "Qwe!88zxc", "hz#wenyi520"]),
        "email": f"{pick(['xiaofeng', 'siqi_chen', 'zym1990', 'jiayi.h'])}@{pick(['qq.com', '163.com', 'foxmail.com'])}",
        "idno": f"{R.choice(['330106', '510107', '110105'])}{y}{m:02d}{d:02d}{digits(3)}{R.choice('0123456789X')}",
        "device": pick([f"IMEI：{digits(15)}", f"设备序列号{R.choice('FGH')}{digits(2)}{R.choice('XYZ')}{digits(7)}",
                        f"{':'.join(f'{R.randint(0, 255):02x}' for _ in range(6))}"]),
        "ip": f"192.168.{R.randint(0, 254)}.{R.randint(2, 254)}",
        "host": pick(["oa.corp.local", "wiki.internal", "jenkins.lan", "erp.intra.net"]),
        "port": str(R.choice([8080, 8443, 8888, 9090])),
        "project": pick([f"XM-{digits(4)}", f"项目编号{digits(6)}", f"JIRA-{digits(4)}", f"需求单号REQ{digits(5)}"]),
        "party": pick(["中共党员", "民盟盟员", "共青团员"]),
        "salary": pick(["月薪两万五", "年薪40万", "税后一万八"]),
        "date": pick(["下周三", "5月20日", "明天早上", "国庆节"]),
        "train": pick(["G1375次", "D3122次", "K528次"]),
        "flight": pick(["CA1831", "MU5137", "CZ3906"]),
        "station": pick(["杭州东站", "成都东站", "北京南站", "西安北站"]),
        "condition": pick(["二型糖尿病", "腰椎间盘突出", "甲状腺结节", "焦虑症"]),
    }


S = tuple[str, str, str]  # (slot, type, level)
# --- English templates: (role, text, spans) ---------------------------------------------------
EN_T: list[tuple[str, str, list[S]]] = [
    # self-introductions / real name
    ("user", "Hey there, {name} speaking, I'm new to this app.", [("name", "Real Name", "PL2")]),
    ("user", "My name is {name} and I'd like help with a cover letter.", [("name", "Real Name", "PL2")]),
    ("user", "I'm {name}, we talked last week about the garden shed.", [("name", "Real Name", "PL2")]),
    ("user", "Sign the email as {name}, please.", [("name", "Real Name", "PL2")]),
    ("user", "You can call me {first}. Full name's {name} if the form needs it.", [("name", "Real Name", "PL2")]),
    # job titles / employers / orgs / schools
    ("user", "I work as a {job} at {company}, mostly remote.", [("job", "Job Title/Rank", "PL2"), ("company", "Employer/Company Name", "PL2")]),
    ("user", "Since March I've been the {job} for {company}.", [("job", "Job Title/Rank", "PL2"), ("company", "Employer/Company Name", "PL2")]),
    ("user", "I just got promoted to {job}! Still can't believe it.", [("job", "Job Title/Rank", "PL2")]),
    ("user", "I'm employed by {company} in their {city} office.", [("company", "Employer/Company Name", "PL2")]),
    ("user", "My employer, {company}, won't reimburse the course.", [("company", "Employer/Company Name", "PL2")]),
    ("user", "I volunteer every Saturday with {org}.", [("org", "Company/Organization Info", "PL2")]),
    ("user", "I'm the treasurer of {org}, so I handle the donations.", [("job", None, None), ("org", "Company/Organization Info", "PL2")]),
    ("user", "I graduated from {school} in 2011 with a history degree.", [("school", "School", "PL2")]),
    ("user", "My daughter started at {school} this autumn.", [("school", "School", "PL2")]),
    ("user", "Back when I was studying at {school}, I lived on instant noodles.", [("school", "School", "PL2")]),
    ("assistant", "Since you work at {company} as a {job}, you could ask HR about the stipend.", [("company", "Employer/Company Name", "PL2"), ("job", "Job Title/Rank", "PL2")]),
    # identity background / age / dob / political
    ("user", "I'm {age} years old and just starting to learn piano.", [("age", "Specific Age", "PL2")]),
    ("user", "I turned {age} last month, feeling ancient.", [("age", "Specific Age", "PL2")]),
    ("user", "As a {age}-year-old woman, is this workout safe for me?", [("age", "Specific Age", "PL2")]),
    ("user", "My date of birth is {dob}, in case the form needs it.", [("dob", "Specific Date of Birth", "PL2")]),
    ("user", "I was born on {dob} in {city}.", [("dob", "Specific Date of Birth", "PL2")]),
    ("user", "DOB: {dob}", [("dob", "Specific Date of Birth", "PL2")]),
    ("user", "I grew up as the child of undocumented farm workers, so money was always tight.", [("@I grew up as the child of undocumented farm workers", "Identity Background", "PL2")]),
    ("user", "I'm a first-generation college student and a military veteran.", [("@first-generation college student", "Identity Background", "PL2"), ("@military veteran", "Identity Background", "PL2")]),
    ("user", "I'm a registered member of {party} and I canvass every election.", [("party", "Political Views/Stance", "PL3")]),
    ("user", "Honestly I always vote for {party}, my parents hate it.", [("party", "Political Views/Stance", "PL3")]),
    ("user", "I'm a lifelong conservative and I oppose the new tax.", [("@lifelong conservative", "Political Views/Stance", "PL3")]),
    # precise location / itinerary / accommodation
    ("user", "I'm sitting in the café at {street} right now, come meet me.", [("street", "Detailed Address", "PL2")]),
    ("user", "My current location is 47.6205, -122.3493, near the needle.", [("@47.6205, -122.3493", "Precise Location", "PL3")]),
    ("user", "I'll be at {airport}, gate B22, around {time}.", [("@{airport}, gate B22", "Precise Location", "PL3")]),
    ("user", "I'm flying {flight} to {city} on {date}, landing at {time}.", [("@flying {flight} to {city} on {date}", "Itinerary/Trajectory", "PL3")]),
    ("user", "Every morning I drop the kids at {school} at 8, then drive to the gym on {street}.", [("school", "School", "PL2"), ("street", "Detailed Address", "PL2")]),
    ("user", "We're staying at {hotel}, {room}, until Sunday.", [("@{hotel}, {room}", "Itinerary/Trajectory", "PL3")]),
    ("user", "I booked {hotel} for three nights starting {date}; confirmation number HX{otp}.", [("@{hotel}", "Itinerary/Trajectory", "PL3")]),
    ("assistant", "Your reservation at {hotel} ({room}) is confirmed for {date}.", [("@{hotel} ({room})", "Itinerary/Trajectory", "PL3")]),
    # security questions
    ("user", "The security question asks for my first pet's name, which was {pet}.", [("pet", "Security Question Answer", "PL4")]),
    ("user", "Mother's maiden name: {maiden}.", [("maiden", "Security Question Answer", "PL4")]),
    ("user", "For the recovery question 'street you grew up on' I put {child_street}.", [("child_street", "Security Question Answer", "PL4")]),
    ("user", "Security answer is {car} (my first car).", [("car", "Security Question Answer", "PL4")]),
    # devices / intranet / projects
    ("user", "My laptop's serial number is {serial}; IT needs it for the warranty.", [("serial", "Device ID", "PL2")]),
    ("user", "The phone's device ID is {device}, can you check if it's blacklisted?", [("device", "Device ID", "PL2")]),
    ("user", "The staging box lives at {ip}:{port}, log in with the team account.", [("@{ip}:{port}", "Internal IP", "PL4")]),
    ("user", "Open http://{host}:{port}/admin from the office VPN.", [("@http://{host}:{port}/admin", "Internal IP", "PL4")]),
    ("user", "Our NAS is on {ip} but it keeps dropping.", [("ip", "Internal IP", "PL4")]),
    ("user", "Can you summarise the status of {project} for the stand-up?", [("project", "Project/Task ID", "PL4")]),
    ("user", "I'm blocked on ticket {project} until legal signs off.", [("project", "Project/Task ID", "PL4")]),
    # third parties
    ("user", "My sister {tp_first} is getting married in {city} next summer.", [("tp_first", "Third-Party Identifiable Info", "PL2")]),
    ("user", "My manager, {tp}, keeps scheduling calls at 7am.", [("tp", "Third-Party Identifiable Info", "PL2")]),
    ("user", "I'm worried about my neighbour {tp}; he hasn't come out in days.", [("tp", "Third-Party Identifiable Info", "PL2")]),
    ("user", "{tp} from accounting asked me for the receipts.", [("tp", "Third-Party Identifiable Info", "PL2")]),
    ("user", "Write a birthday note for my son {tp_first}, he's turning 9.", [("tp_first", "Third-Party Identifiable Info", "PL2")]),
    ("user", "Our landlord is {tp} and his number is {phone}.", [("tp", "Third-Party Identifiable Info", "PL2"), ("phone", "Phone Number", "PL2")]),
    # addresses
    ("user", "Ship it to {addr}.", [("addr", "Detailed Address", "PL2")]),
    ("user", "My new address is {addr} — please update the file.", [("addr", "Detailed Address", "PL2")]),
    ("user", "I live at {street} with two roommates.", [("street", "Detailed Address", "PL2")]),
    # financial accounts
    ("user", "My {bank} checking account number is {acct}.", [("acct", "Financial Account", "PL3")]),
    ("user", "Salary goes into my {bank} account {acct}, can you set up the budget?", [("acct", "Financial Account", "PL3")]),
    ("user", "Card ending... actually the full card is {card}, expiring 08/27.", [("card", "Financial Account", "PL3")]),
    ("user", "Routing {routing}, account {iban_like} at {bank}.", [("routing", "Financial Account", "PL3"), ("iban_like", "Financial Account", "PL3")]),
    ("user", "I earn {salary} before tax.", [("salary", "Assets/Income", "PL3")]),
    # ordinary PII
    ("user", "Text me at {phone} when you're outside.", [("phone", "Phone Number", "PL2")]),
    ("user", "Reach me on {email} for the invoice.", [("email", "Email", "PL2")]),
    ("user", "The code they sent is {otp}, quick before it expires.", [("otp", "Verification Code", "PL4")]),
    ("user", "My wifi password is {pw} if the guests ask.", [("pw", "Password", "PL4")]),
    ("user", "SSN {ssn}, for the tax form.", [("ssn", "ID Number", "PL3")]),
    ("user", "My passport number is {passport}, expiring in 2031.", [("passport", "Passport Number", "PL3")]),
    ("user", "I was diagnosed with {condition} two years ago.", [("condition", "Medical Health", "PL3")]),
    # negatives (no private info)
    ("user", "What's a good recipe for a lemon drizzle cake?", []),
    ("user", "Can you explain how compound interest works with an example?", []),
    ("user", "I'm tired today, the weather has been grey all week.", []),
    ("assistant", "Sure! Here are three tips for better sleep: keep a routine, dim the lights, and avoid screens.", []),
    ("user", "Is Python or Go better for a small web scraper?", []),
    ("user", "I think the movie was too long but the soundtrack was great.", []),
]

ZH_T: list[tuple[str, str, list[S]]] = [
    ("user", "你好，我叫{name}，第一次用这个助手。", [("name", "Real Name", "PL2")]),
    ("user", "我是{name}，上周咨询过装修的事。", [("name", "Real Name", "PL2")]),
    ("user", "本人{name}，想请你帮我写一份辞职信。", [("name", "Real Name", "PL2")]),
    ("user", "落款写{name}就行。", [("name", "Real Name", "PL2")]),
    ("user", "我在{company}当{job}，每天加班到九点。", [("company", "Employer/Company Name", "PL2"), ("job", "Job Title/Rank", "PL2")]),
    ("user", "我是{company}的{job}，想换个工作。", [("company", "Employer/Company Name", "PL2"), ("job", "Job Title/Rank", "PL2")]),
    ("user", "去年我升职成了{job}，压力好大。", [("job", "Job Title/Rank", "PL2")]),
    ("user", "我在{company}上班快五年了。", [("company", "Employer/Company Name", "PL2")]),
    ("user", "我们单位是{company}，福利还可以。", [("company", "Employer/Company Name", "PL2")]),
    ("user", "我周末在{org}做志愿者。", [("org", "Company/Organization Info", "PL2")]),
    ("user", "我毕业于{school}，学的是计算机。", [("school", "School", "PL2")]),
    ("user", "孩子今年考上了{school}，我们全家都很高兴。", [("school", "School", "PL2")]),
    ("user", "我在{school}读研究生二年级。", [("school", "School", "PL2")]),
    ("assistant", "既然您在{company}担任{job}，可以先和直属领导沟通。", [("company", "Employer/Company Name", "PL2"), ("job", "Job Title/Rank", "PL2")]),
    ("user", "我今年{age}岁，想开始学游泳。", [("age", "Specific Age", "PL2")]),
    ("user", "我{age}周岁了，还能办理这个保险吗？", [("age", "Specific Age", "PL2")]),
    ("user", "我的出生日期是{dob}。", [("dob", "Specific Date of Birth", "PL2")]),
    ("user", "我生日是{dob}，帮我算算星座。", [("dob", "Specific Date of Birth", "PL2")]),
    ("user", "我出生于{dob}，属什么？", [("dob", "Specific Date of Birth", "PL2")]),
    ("user", "我是农村留守儿童出身，后来一个人到城里打工。", [("@农村留守儿童出身", "Identity Background", "PL2")]),
    ("user", "我是退役军人，也是少数民族。", [("@退役军人", "Identity Background", "PL2"), ("@少数民族", "Identity Background", "PL2")]),
    ("user", "我是{party}，单位要求写思想汇报。", [("party", "Political Views/Stance", "PL3")]),
    ("user", "我现在在{place}，你快过来。", [("place", "Precise Location", "PL3")]),
    ("user", "我的定位是北纬30.2741，东经120.1551。", [("@北纬30.2741，东经120.1551", "Precise Location", "PL3")]),
    ("user", "我{date}坐{train}高铁从{station}出发去{city}。", [("@{date}坐{train}高铁从{station}出发去{city}", "Itinerary/Trajectory", "PL3")]),
    ("user", "我订了{date}的航班{flight}，落地后直接去酒店。", [("flight", "Itinerary/Trajectory", "PL3")]),
    ("user", "这几天住在{hotel}{room}，有事可以来找我。", [("@{hotel}{room}", "Itinerary/Trajectory", "PL3")]),
    ("user", "我在{hotel}订了三晚，入住人写的是我。", [("hotel", "Itinerary/Trajectory", "PL3")]),
    ("user", "密保问题是我妈妈的名字，答案是{mother}。", [("mother", "Security Question Answer", "PL4")]),
    ("user", "安全问题：我的第一只宠物叫什么？答案：{pet}", [("pet", "Security Question Answer", "PL4")]),
    ("user", "密保答案我设的是{teacher}，小学班主任。", [("teacher", "Security Question Answer", "PL4")]),
    ("user", "我手机的{device}，帮我查一下保修。", [("device", "Device ID", "PL2")]),
    ("user", "内网测试服务器地址是{ip}:{port}，别外传。", [("@{ip}:{port}", "Internal IP", "PL4")]),
    ("user", "公司OA系统在 http://{host}:{port}/login ，只能在内网访问。", [("@http://{host}:{port}/login", "Internal IP", "PL4")]),
    ("user", "帮我整理一下{project}的进度汇报。", [("project", "Project/Task ID", "PL4")]),
    ("user", "这个bug记在{project}里了，明天评审。", [("project", "Project/Task ID", "PL4")]),
    ("user", "我同事{tp}最近总是请假。", [("tp", "Third-Party Identifiable Info", "PL2")]),
    ("user", "我老公{tp}下个月过生日，送什么好？", [("tp", "Third-Party Identifiable Info", "PL2")]),
    ("user", "昨天{tp}跟我说他要辞职了。", [("tp", "Third-Party Identifiable Info", "PL2")]),
    ("user", "我们领导{tp}让我周末加班。", [("tp", "Third-Party Identifiable Info", "PL2")]),
    ("user", "快递寄到{addr}。", [("addr", "Detailed Address", "PL2")]),
    ("user", "我家住在{addr}，离地铁很近。", [("addr", "Detailed Address", "PL2")]),
    ("user", "工资卡是{bank}的，卡号{acct}。", [("acct", "Financial Account", "PL3")]),
    ("user", "我的{bank}账户{acct}今天被冻结了。", [("acct", "Financial Account", "PL3")]),
    ("user", "请把钱转到{bank}{acct}，户名是我。", [("acct", "Financial Account", "PL3")]),
    ("user", "银行卡号：{card}", [("card", "Financial Account", "PL3")]),
    ("user", "我{salary}，够不够在{city}买房？", [("salary", "Assets/Income", "PL3")]),
    ("user", "我的手机号是{phone}，有事打给我。", [("phone", "Phone Number", "PL2")]),
    ("user", "邮箱{email}，发简历用的。", [("email", "Email", "PL2")]),
    ("user", "验证码{otp}，五分钟内有效。", [("otp", "Verification Code", "PL4")]),
    ("user", "登录密码是{pw}，帮我记一下。", [("pw", "Password", "PL4")]),
    ("user", "身份证号{idno}。", [("idno", "ID Number", "PL3")]),
    ("user", "医生说我有{condition}，要定期复查。", [("condition", "Medical Health", "PL3")]),
    ("user", "今天天气真好，适合去爬山。", []),
    ("user", "帮我推荐几本关于历史的书吧。", []),
    ("assistant", "好的，下面是三个提高睡眠质量的小建议。", []),
    ("user", "红烧肉怎么做才不腻？", []),
    ("user", "最近工作有点累，想出去走走。", []),
]


def render(template: str, fills: dict[str, str]) -> str:
    return template.format(**fills)


def build_dialogue(templates: list[tuple[str, str, list[S]]], fills_fn, n: int, named: bool) -> tuple[str | None, list[dict]]:
    dialogues = []
    user_fills = fills_fn()
    chosen = R.sample(templates, min(n, len(templates)))
    for role, text, spans in chosen:
        fills = fills_fn()
        fills["name"] = user_fills["name"]
        if "first" in user_fills:
            fills["first"] = user_fills["first"]
        content = render(text, fills)
        info = []
        for slot, typ, lvl in spans:
            if typ is None:
                continue
            value = render(slot[1:], fills) if slot.startswith("@") else fills[slot]
            if value not in content:
                raise AssertionError(f"span not in text: {slot}")
            info.append({"original_text": value, "privacy_type": typ, "privacy_level": lvl})
        dialogues.append({"role": role, "content": content, "privacy_info": info})
    return (user_fills["name"] if named else None), dialogues


def main() -> None:
    out = Path(__file__).with_name("heldout_v2.jsonl")
    lines = []
    for i in range(6):
        for lang, templates, fn in (("English", EN_T, en_fills), ("Chinese", ZH_T, zh_fills)):
            named = i % 3 != 2
            name, dialogues = build_dialogue(templates, fn, 30, named)
            meta = {"language": lang}
            if name:
                meta["user_name"] = name
            lines.append({"uuid": f"heldout-v2-{lang[:2].lower()}-{i}", "metadata": meta, "dialogues": dialogues,
                          "questions": []})
    out.write_text("".join(json.dumps(u, ensure_ascii=False) + "\n" for u in lines), encoding="utf-8")
    n = sum(len(u["dialogues"]) for u in lines)
    g = sum(len(d["privacy_info"]) for u in lines for d in u["dialogues"])
    print(f"wrote {out}: {len(lines)} users, {n} messages, {g} spans")


if __name__ == "__main__":
    main()
