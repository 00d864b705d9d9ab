"""Writes heldout_cases.jsonl: hand-written bilingual messages, annotated per the taxonomy.

Authored independently of ../shared/eval (different people, values and phrasings). Run once;
the JSONL is the artefact, this script only keeps the cases readable.
"""
import json
from pathlib import Path

def s(text, typ, lvl):
    return {"original_text": text, "privacy_type": typ, "privacy_level": lvl}

USERS = [
 ("Marta Kowalczyk", "English", [
  ("user", "Hi, Marta Kowalczyk here. My new number is +48 512 334 871 and my email is marta.k.writes@postbox.eu.", [s("Marta Kowalczyk","Real Name","PL2"), s("+48 512 334 871","Phone Number","PL2"), s("marta.k.writes@postbox.eu","Email","PL2")]),
  ("user", "The bank texted me a one-time code: 448190. Can you enter it for the transfer?", [s("448190","Verification Code","PL4")]),
  ("user", "I was diagnosed with mild asthma last spring and I now use a salbutamol inhaler before runs.", [s("mild asthma","Medical Health","PL3"), s("salbutamol","Medical Health","PL3")]),
  ("user", "Please ship the books to 27 Elmwood Crescent, Didsbury, Manchester M20 6RT.", [s("27 Elmwood Crescent, Didsbury, Manchester M20 6RT","Detailed Address","PL2")]),
  ("user", "My brother, Piotr Kowalczyk, will collect the parcel if I'm out.", [s("Piotr Kowalczyk","Third-Party Identifiable Info","PL2"), s("My brother, Piotr Kowalczyk","Relationship Info","PL2")]),
  ("assistant", "Noted, Marta. The refund of £129.99 for order #WX-40218 should reach your Mastercard ending in 6604 within five days.", [s("Marta","Real Name","PL2"), s("refund of £129.99","Transaction Record","PL3"), s("#WX-40218","Transaction Record","PL3"), s("Mastercard ending in 6604","Financial Account","PL3")]),
  ("user", "For the visa form: passport number EK4409172, and I work as a translator at Lingua Bridge Ltd.", [s("EK4409172","ID Number","PL3"), s("translator","Identity Background","PL2"), s("Lingua Bridge Ltd","Identity Background","PL2")]),
  ("user", "I still owe about £9,800 on my student loan, which worries me.", [s("£9,800 on my student loan","Assets/Income","PL3")]),
  ("user", "What's a good stretching routine for a desk worker?", []),
  ("user", "My login for the library portal is mkowal_88 and the password is Lindens#2031.", [s("mkowal_88","Account ID/Username","PL2"), s("Lindens#2031","Password","PL4")]),
 ]),
 ("王雨桐", "Chinese", [
  ("user", "你好，我叫王雨桐，手机是 13917265408，有事可以打给我。", [s("王雨桐","Real Name","PL2"), s("13917265408","Phone Number","PL2")]),
  ("user", "刚收到的短信验证码是 603318，帮我填一下。", [s("603318","Verification Code","PL4")]),
  ("user", "我上个月确诊了甲状腺结节，医生让我三个月后复查。", [s("甲状腺结节","Medical Health","PL3")]),
  ("user", "快递请寄到广东省深圳市南山区科苑路 15 号 3 栋 902 室。", [s("广东省深圳市南山区科苑路 15 号 3 栋 902 室","Detailed Address","PL2")]),
  ("user", "我老公陈浩明天出差，坐 G7021 次高铁去杭州。", [s("陈浩","Third-Party Identifiable Info","PL2"), s("G7021","Itinerary/Trajectory","PL3")]),
  ("user", "我的身份证号是 440308199901011234，帮我核对一下格式对不对。", [s("440308199901011234","ID Number","PL3")]),
  ("user", "我月薪 2 万元，房贷每个月还 8000 元，压力挺大。", [s("月薪 2 万元","Assets/Income","PL3"), s("房贷每个月还 8000 元","Assets/Income","PL3")]),
  ("user", "帮我推荐几本适合周末看的小说吧。", []),
  ("assistant", "好的，王女士。您的订单号 TB-88213 已经退款 359 元到尾号 7751 的招行卡。", [s("TB-88213","Transaction Record","PL3"), s("退款 359 元","Transaction Record","PL3"), s("尾号 7751 的招行卡","Financial Account","PL3")]),
  ("user", "公司数据库连接串是 mysql://report:Qw8!zz@10.8.0.12:3306/sales，先别外传。", [s("mysql://report:Qw8!zz@10.8.0.12:3306/sales","Database Connection String","PL4")]),
 ]),
 ("Daniel Okafor", "English", [
  ("user", "Daniel Okafor, SSN 523-71-4408, calling about my tax transcript.", [s("Daniel Okafor","Real Name","PL2"), s("523-71-4408","ID Number","PL3")]),
  ("user", "Here's the staging key, please don't log it: AKIAZ7Q4MNB2XK5LPW3R", [s("AKIAZ7Q4MNB2XK5LPW3R","Key","PL4")]),
  ("user", "The CVV on the back is 771 and the PIN is 5093.", [s("771","Payment Security Code","PL4"), s("5093","Password","PL4")]),
  ("user", "My doctor started me on sertraline for generalized anxiety disorder.", [s("sertraline","Medical Health","PL3"), s("generalized anxiety disorder","Medical Health","PL3")]),
  ("user", "I'm flying out on flight DL 2214 from Atlanta next Tuesday and staying in room 1417 at the Marriott.", [s("DL 2214","Itinerary/Trajectory","PL3"), s("room 1417","Itinerary/Trajectory","PL3")]),
  ("user", "Use this token for the API: ghp_R2d8Lq0XvB7mN4kT9sW1yC6hJ3fG5aE8pZ0u", [s("ghp_R2d8Lq0XvB7mN4kT9sW1yC6hJ3fG5aE8pZ0u","Token","PL4")]),
  ("user", "Can you explain how compound interest works?", []),
  ("assistant", "Sure, Daniel. Your annual salary of $94,500 puts you in the 22% bracket.", [s("Daniel","Real Name","PL2"), s("annual salary of $94,500","Assets/Income","PL3")]),
  ("user", "My wife Adaeze wants to know if she can claim the $3,200 childcare costs.", [s("Adaeze","Third-Party Identifiable Info","PL2"), s("My wife Adaeze","Relationship Info","PL2"), s("$3,200 childcare costs","Transaction Record","PL3")]),
  ("user", "The router at 192.168.50.1 keeps dropping; my public IP is 81.44.120.9.", [s("192.168.50.1","Network Identifier","PL4"), s("81.44.120.9","Network Identifier","PL2")]),
 ]),
 ("李明哲", "Chinese", [
  ("user", "我是李明哲，在华东师范大学读研究生，邮箱 mingzhe.li@stu.example.cn。", [s("李明哲","Real Name","PL2"), s("华东师范大学","Identity Background","PL2"), s("mingzhe.li@stu.example.cn","Email","PL2")]),
  ("user", "导师让我把服务器密码改成 Tq_5577!mx，我怕忘记。", [s("Tq_5577!mx","Password","PL4")]),
  ("user", "我体重 78 公斤，血压 145/92，需要控制饮食吗？", [s("78 公斤","Medical Health","PL3"), s("血压 145/92","Medical Health","PL3")]),
  ("user", "车牌是沪C3F819，停在学校东门。", [s("沪C3F819","ID Number","PL3")]),
  ("user", "我妈妈张秀兰下周来上海看病，挂的是瑞金医院的心内科。", [s("张秀兰","Third-Party Identifiable Info","PL2"), s("瑞金医院的心内科","Medical Health","PL3")]),
  ("user", "今天天气不错，适合跑步。", []),
  ("user", "支付宝转账 1200 元给房东，备注是三月房租。", [s("转账 1200 元给房东","Transaction Record","PL3")]),
  ("assistant", "收到，您的动态码 915502 已验证，预订号 HT-60417 的酒店入住日期为 4 月 3 日。", [s("915502","Verification Code","PL4"), s("HT-60417","Transaction Record","PL3")]),
  ("user", "我的学号是 52250711，用户名 lmz_ecnu。", [s("52250711","Account ID/Username","PL2"), s("lmz_ecnu","Account ID/Username","PL2")]),
  ("user", "我在一家咨询公司实习，职位是数据分析助理。", [s("数据分析助理","Identity Background","PL2")]),
 ]),
 ("Sofía Herrera Vidal", "English", [
  ("user", "Sofía Herrera here. I need the invoice re-issued to my IBAN DE89 3704 0044 0532 0130 00.", [s("Sofía Herrera","Real Name","PL2"), s("DE89 3704 0044 0532 0130 00","Financial Account","PL3")]),
  ("user", "The recovery code for my account is R7-4471-KQ, keep it safe.", [s("R7-4471-KQ","Verification Code","PL4")]),
  ("user", "I'm 31 weeks pregnant and my blood sugar was 7.9 mmol/L this morning.", [s("31 weeks pregnant","Medical Health","PL3"), s("7.9 mmol/L","Medical Health","PL3")]),
  ("user", "My manager, Kerstin Albrecht, approved the leave until June.", [s("Kerstin Albrecht","Third-Party Identifiable Info","PL2"), s("My manager, Kerstin Albrecht","Relationship Info","PL2")]),
  ("user", "Our connection string is Server=sql-prod-2;Database=payroll;User Id=svc_pay;Password=Vx9!rr21;", [s("Server=sql-prod-2;Database=payroll;User Id=svc_pay;Password=Vx9!rr21","Database Connection String","PL4")]),
  ("user", "Any tips for keeping basil alive indoors?", []),
  ("user", "We're at 52.5163, 13.3777 right now, near the gate.", [s("52.5163, 13.3777","Precise Location","PL3")]),
  ("assistant", "Of course, Sofía. The booking reference for your train is BR-2207-XL, departing at 08:14.", [s("BR-2207-XL","Transaction Record","PL3")]),
  ("user", "I paid €640 for the fertility consultation last week with my Visa ending in 3390.", [s("paid €640 for the fertility consultation","Transaction Record","PL3"), s("Visa ending in 3390","Financial Account","PL3")]),
  ("user", "Authorization: Bearer kJ8x2LmQ9vT4rB7nW1zY5cD3", [s("kJ8x2LmQ9vT4rB7nW1zY5cD3","Token","PL4")]),
 ]),
 ("赵一帆", "Chinese", [
  ("user", "我叫赵一帆，护照号 E88317204，下个月去新加坡开会。", [s("赵一帆","Real Name","PL2"), s("E88317204","ID Number","PL3"), s("下个月去新加坡开会","Itinerary/Trajectory","PL3")]),
  ("user", "银行卡号 6222 0212 3456 7897 的 CVV 是 084，帮我记一下。", [s("084","Payment Security Code","PL4")]),
  ("user", "我有慢性胃炎，一直在吃奥美拉唑。", [s("慢性胃炎","Medical Health","PL3"), s("奥美拉唑","Medical Health","PL3")]),
  ("user", "我同事刘佳琪推荐我用这款笔记软件。", [s("刘佳琪","Third-Party Identifiable Info","PL2")]),
  ("user", "这是我们的 OpenAI key：sk-proj-9fK2mQx7Lr4vN8tB1zC5yD0wE3gH6jPa", [s("sk-proj-9fK2mQx7Lr4vN8tB1zC5yD0wE3gH6jPa","Key","PL4")]),
  ("user", "帮我写一首关于秋天的短诗。", []),
  ("user", "订单号 SN20240917558 的耳机，花了 899 元，想申请退货。", [s("SN20240917558","Transaction Record","PL3")]),
  ("user", "我家住在北京市朝阳区望京街 9 号院 4 号楼 2 单元 601 室。", [s("北京市朝阳区望京街 9 号院 4 号楼 2 单元 601 室","Detailed Address","PL2")]),
  ("assistant", "好的赵先生，已为您订好 CA1503 航班，3 月 12 日 07:30 从北京起飞。", [s("CA1503","Itinerary/Trajectory","PL3")]),
  ("user", "我的微信号是 yifan_zhao1990，方便加一下。", [s("yifan_zhao1990","Account ID/Username","PL2")]),
 ]),
]

with Path(__file__).with_name("heldout_cases.jsonl").open("w", encoding="utf-8") as out:
    for i, (name, lang, turns) in enumerate(USERS):
        dialogues = []
        for role, content, spans in turns:
            for sp in spans:
                assert sp["original_text"] in content, (sp, content)
            dialogues.append({"role": role, "content": content, "privacy_info": spans})
        out.write(json.dumps({"uuid": f"heldout-{i}", "metadata": {"language": lang, "user_name": name},
                              "dialogues": dialogues}, ensure_ascii=False) + "\n")
