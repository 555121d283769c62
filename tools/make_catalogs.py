"""Write the demo catalogs (目录) of the three treatment regions.

    python tools/make_catalogs.py            # rewrites src/yibao/data/catalogs/<region>.csv

The figures are illustrative: names, classes (甲/乙/丙 = A/B/C), self-pay ratios of class B,
price ceilings and level restrictions are modelled on the national medical insurance drug
catalog and the regions' service price lists, not copied from them. One shared item list
gives every region the same codes for the same item; each region then differs in a few
classes, ratios and ceilings, and has a few items of its own.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "src" / "yibao" / "data" / "catalogs"
HEADER = [
    "region",
    "code",
    "name",
    "kind",
    "class",
    "self_pay_ratio",
    "price_ceiling",
    "settings",
    "min_level",
]
SETTINGS = {"": "both", "in": "inpatient", "out": "outpatient"}

# One item a line: name | class | B self-pay ratio | price ceiling | settings | min level.
# Settings: empty = both, "in" = inpatient only, "out" = outpatient only.
DRUGS = """
阿莫西林胶囊|A||||
阿莫西林克拉维酸钾片|B|0.10|||
头孢呋辛酯片|B|0.10|||
头孢克洛胶囊|B|0.10|||
头孢克肟分散片|B|0.10|||
注射用头孢曲松钠|A||||
注射用头孢呋辛钠|A||||
注射用头孢他啶|B|0.10|||
注射用头孢哌酮钠舒巴坦钠|B|0.15|||
注射用美罗培南|B|0.20||in|2
注射用亚胺培南西司他丁钠|B|0.20||in|3
注射用哌拉西林钠他唑巴坦钠|B|0.15||in|
阿奇霉素片|A||||
注射用阿奇霉素|B|0.10|||
克拉霉素片|B|0.10|||
左氧氟沙星片|A||||
左氧氟沙星氯化钠注射液|B|0.10|||
盐酸莫西沙星片|B|0.10|||
甲硝唑片|A||||
甲硝唑氯化钠注射液|A||||
注射用青霉素钠|A||||
罗红霉素胶囊|B|0.05|||
盐酸多西环素片|B|0.05|||
利奈唑胺片|B|0.20|||3
注射用盐酸万古霉素|B|0.20||in|3
氟康唑胶囊|B|0.10|||
伏立康唑片|B|0.20|||3
阿昔洛韦片|A||||
磷酸奥司他韦胶囊|B|0.10|||
恩替卡韦分散片|B|0.05|||
富马酸替诺福韦二吡呋酯片|B|0.05|||
阿托伐他汀钙片|B|0.05|||
瑞舒伐他汀钙片|B|0.05|||
辛伐他汀片|A||||
苯磺酸氨氯地平片|A||||
硝苯地平控释片|B|0.05|||
非洛地平缓释片|B|0.05|||
厄贝沙坦片|B|0.05|||
缬沙坦胶囊|B|0.05|||
氯沙坦钾片|B|0.05|||
替米沙坦片|B|0.05|||
培哚普利叔丁胺片|B|0.10|||
马来酸依那普利片|A||||
卡托普利片|A||||
琥珀酸美托洛尔缓释片|B|0.05|||
酒石酸美托洛尔片|A||||
富马酸比索洛尔片|B|0.05|||
氢氯噻嗪片|A||||
呋塞米片|A||||
呋塞米注射液|A||||
螺内酯片|A||||
阿司匹林肠溶片|A||||
硫酸氢氯吡格雷片|B|0.05|||
替格瑞洛片|B|0.10|||
华法林钠片|A||||
利伐沙班片|B|0.10|||
达比加群酯胶囊|B|0.10|||
单硝酸异山梨酯缓释片|B|0.05|||
硝酸甘油片|A||||
地高辛片|A||||
盐酸胺碘酮片|A||||
沙库巴曲缬沙坦钠片|B|0.10|||
盐酸曲美他嗪片|B|0.10|||
低分子量肝素钙注射液|B|0.10|||
依诺肝素钠注射液|B|0.10|||
肝素钠注射液|A||||
注射用尿激酶|A|||in|
注射用阿替普酶|B|0.20||in|2
盐酸二甲双胍片|A||||
盐酸二甲双胍缓释片|B|0.05|||
格列美脲片|B|0.05|||
格列齐特缓释片|B|0.05|||
阿卡波糖片|B|0.05|||
瑞格列奈片|B|0.05|||
磷酸西格列汀片|B|0.10|||
达格列净片|B|0.10|||
恩格列净片|B|0.10|||
利拉鲁肽注射液|B|0.20|||
盐酸吡格列酮片|B|0.10|||
生物合成人胰岛素注射液|A||||
精蛋白生物合成人胰岛素注射液(预混30R)|A||||
门冬胰岛素注射液|B|0.10|||
甘精胰岛素注射液|B|0.10|||
地特胰岛素注射液|B|0.10|||
奥美拉唑肠溶胶囊|A||||
注射用奥美拉唑钠|B|0.10|||
泮托拉唑钠肠溶片|B|0.10|||
注射用泮托拉唑钠|B|0.10|||
雷贝拉唑钠肠溶片|B|0.10|||
艾司奥美拉唑镁肠溶片|B|0.10|||
铝碳酸镁咀嚼片|B|0.05|||
蒙脱石散|A||||
多潘立酮片|A||||
枸橼酸莫沙必利片|B|0.05|||
乳果糖口服溶液|B|0.10|||
双歧杆菌三联活菌胶囊|B|0.10|||
开塞露|A||||
甲氧氯普胺注射液|A||||
盐酸昂丹司琼注射液|B|0.10|||
熊去氧胆酸胶囊|B|0.10|||
盐酸氨溴索片|B|0.05|||
盐酸氨溴索注射液|B|0.15|||
乙酰半胱氨酸泡腾片|B|0.10|||
孟鲁司特钠片|B|0.10|||
硫酸沙丁胺醇吸入气雾剂|A||||
布地奈德福莫特罗吸入粉雾剂|B|0.10|||
沙美特罗替卡松吸入粉雾剂|B|0.10|||
噻托溴铵粉雾剂|B|0.10|||
吸入用布地奈德混悬液|B|0.10|||
氨茶碱片|A||||
多索茶碱注射液|B|0.15|||
复方甘草片|A||||
氢溴酸右美沙芬片|B|0.05|||
对乙酰氨基酚片|A||||
布洛芬缓释胶囊|A||||
双氯芬酸钠缓释片|A||||
塞来昔布胶囊|B|0.05|||
洛索洛芬钠片|B|0.05|||
注射用帕瑞昔布钠|B|0.20||in|2
盐酸曲马多缓释片|B|0.10|||
盐酸吗啡注射液|A||||
芬太尼透皮贴剂|B|0.10|||
氟比洛芬酯注射液|B|0.20||in|
甲钴胺片|B|0.10|||
维生素B1片|A||||
维生素B12注射液|A||||
加巴喷丁胶囊|B|0.10|||
普瑞巴林胶囊|B|0.10|||
卡马西平片|A||||
丙戊酸钠缓释片|B|0.05|||
左乙拉西坦片|B|0.05|||
盐酸多奈哌齐片|B|0.10|||
多巴丝肼片|A||||
盐酸舍曲林片|B|0.10|||
草酸艾司西酞普兰片|B|0.10|||
奥氮平片|B|0.10|||
阿普唑仑片|A||||
艾司唑仑片|A||||
地西泮注射液|A||||
佐匹克隆片|B|0.10|||
尼莫地平片|A||||
丁苯酞软胶囊|B|0.20|||2
依达拉奉注射液|B|0.20||in|2
胞磷胆碱钠胶囊|B|0.10|||
甲磺酸倍他司汀片|B|0.05|||
左甲状腺素钠片|A||||
甲巯咪唑片|A||||
醋酸泼尼松片|A||||
甲泼尼龙片|B|0.05|||
注射用甲泼尼龙琥珀酸钠|B|0.10|||
地塞米松磷酸钠注射液|A||||
骨化三醇软胶囊|B|0.10|||
阿仑膦酸钠片|B|0.10|||
碳酸钙D3片|B|0.20|||
唑来膦酸注射液|B|0.20|||
别嘌醇片|A||||
非布司他片|B|0.10|||
秋水仙碱片|A||||
盐酸坦索罗辛缓释胶囊|B|0.10|||
非那雄胺片|B|0.10|||
硫酸亚铁片|A||||
蔗糖铁注射液|B|0.10|||
叶酸片|A||||
重组人促红素注射液|B|0.10|||
0.9%氯化钠注射液(250ml)|A||||
5%葡萄糖注射液(250ml)|A||||
葡萄糖氯化钠注射液(500ml)|A||||
乳酸钠林格注射液(500ml)|A||||
氯化钾缓释片|A||||
10%氯化钾注射液|A||||
人血白蛋白(10g)|B|0.20||in|2
中/长链脂肪乳注射液|B|0.15||in|
复方氨基酸注射液(18AA)|B|0.15||in|
紫杉醇注射液|A|||in|
注射用顺铂|A|||in|
卡培他滨片|B|0.10|||
来曲唑片|B|0.10|||
枸橼酸他莫昔芬片|A||||
吉非替尼片|B|0.10|||2
甲磺酸奥希替尼片|B|0.10|||3
氯雷他定片|B|0.05|||
盐酸西替利嗪片|B|0.05|||
左氧氟沙星滴眼液|B|0.05|||
玻璃酸钠滴眼液|B|0.10|||
妥布霉素地塞米松滴眼液|B|0.10|||
莫匹罗星软膏|B|0.10|||
丁酸氢化可的松乳膏|B|0.05|||
糠酸莫米松乳膏|B|0.05|||
红霉素软膏|A||||
阿达帕林凝胶|B|0.20||out|
丙泊酚乳状注射液|B|0.10||in|
盐酸利多卡因注射液|A||||
吸入用七氟烷|B|0.10||in|
盐酸罗哌卡因注射液|B|0.10||in|
氨甲环酸注射液|A||||
维生素C注射液|A||||
维生素B6片|A||||
注射用血凝酶|B|0.30||in|
注射用胸腺法新|C||||
注射用脑蛋白水解物|C||||
小牛血去蛋白提取物注射液|C||||
奥利司他胶囊|C||||
枸橼酸西地那非片|C||||
米诺地尔搽剂|C||||
复方丹参滴丸|A||||
速效救心丸|A||||
麝香保心丸|A||||
通心络胶囊|B|0.10|||
血塞通软胶囊|B|0.10|||
银杏叶片|B|0.10|||
注射用血栓通(冻干)|B|0.20||in|2
参麦注射液|B|0.20||in|
生脉饮|A||||
连花清瘟胶囊|B|0.10|||
感冒清热颗粒|A||||
板蓝根颗粒|A||||
藿香正气水|A||||
双黄连口服液|A||||
清开灵颗粒|A||||
蒲地蓝消炎口服液|B|0.10|||
小柴胡颗粒|A||||
银翘解毒片|A||||
急支糖浆|B|0.05|||
强力枇杷露|B|0.05|||
六味地黄丸|A||||
金匮肾气丸|B|0.05|||
补中益气丸|A||||
逍遥丸|A||||
归脾丸|A||||
香砂养胃丸|A||||
保和丸|A||||
健胃消食片|B|0.10|||
四磨汤口服液|B|0.10|||
云南白药胶囊|A||||
跌打丸|A||||
活血止痛胶囊|B|0.10|||
伤湿止痛膏|A||||
复方血栓通胶囊|B|0.10|||
稳心颗粒|B|0.10|||
芪苈强心胶囊|B|0.10|||
脑心通胶囊|B|0.10|||
华佗再造丸|A||||
安宫牛黄丸|A||||
牛黄解毒片|A||||
黄连上清片|A||||
三九胃泰颗粒|B|0.05|||
气滞胃痛颗粒|A||||
元胡止痛片|A||||
益母草颗粒|A||||
妇科千金片|A||||
乌鸡白凤丸|B|0.10|||
普乐安片|B|0.10|||
金水宝胶囊|B|0.10|||
百令胶囊|B|0.10|||
尿毒清颗粒|B|0.10|||
消渴丸|A||||
参芪降糖颗粒|B|0.10|||
正天丸|B|0.10|||
养血清脑颗粒|B|0.10|||
"""

# Health-care and beauty products sold in pharmacies: never paid by the fund (丙类), and a
# pharmacy must refuse them on the card.
HEALTH_PRODUCTS = """
阿胶块(保健用途)|C||||
蛋白粉(保健食品)|C||||
深海鱼油软胶囊(保健食品)|C||||
维生素C咀嚼片(保健食品)|C||||
褪黑素软胶囊(保健食品)|C||||
灵芝孢子粉(保健食品)|C||||
西洋参片(保健食品)|C||||
胶原蛋白肽饮品|C||||
玻尿酸保湿面膜|C||||
祛斑美白霜|C||||
防脱洗发液|C||||
"""

SERVICES = """
普通门诊诊查费|A|||out|
副主任医师门诊诊查费|A|||out|
主任医师门诊诊查费|B|0.10||out|
急诊诊查费|A|||out|
住院诊查费|A|||in|
特级护理|A|||in|
Ⅰ级护理|A|||in|
Ⅱ级护理|A|||in|
Ⅲ级护理|A|||in|
血常规(全血细胞计数+五分类)|A||||
尿常规|A||||
粪便常规+潜血试验|A||||
肝功能检查|A||||
肾功能检查|A||||
血脂四项|A||||
空腹血糖测定|A||||
糖化血红蛋白测定|A||||
电解质测定|A||||
凝血功能检查|A||||
C反应蛋白测定|A||||
降钙素原检测|B|0.10|||
肌钙蛋白I测定|A||||
B型钠尿肽前体测定|B|0.10|||
乙型肝炎五项检测|A||||
癌胚抗原测定|B|0.10|||
甲状腺功能检查|B|0.10|||
血气分析|A||||
血培养及鉴定|A||||
交叉配血|A|||in|
常规心电图检查(十二导联)|A||||
动态心电图(Holter)|B|0.10|||
动态血压监测|B|0.10|||
胸部X线摄影(DR)|A||||
腹部彩色多普勒超声|A||||
心脏彩色多普勒超声|A||||
颈动脉彩色多普勒超声|B|0.10|||
甲状腺彩色多普勒超声|A||||
头颅CT平扫|A||||
胸部CT平扫|A||||
腹部CT增强扫描|B|0.10|||
冠状动脉CT血管成像(CTA)|B|0.15|||2
头颅磁共振平扫|B|0.10|||
腰椎磁共振平扫|B|0.10|||
磁共振增强扫描|B|0.15|||2
正电子发射计算机断层显像(PET/CT)|B|0.30|||3
电子胃镜检查|A||||
电子结肠镜检查|A||||
麻醉中监测(无痛内镜)|B|0.20|||
手术标本病理诊断|A||||
骨密度测定|B|0.20|||
肺功能检查|B|0.10|||
常规脑电图|B|0.10|||
肌电图|B|0.10|||
静脉输液|A||||
静脉注射|A||||
肌肉注射|A||||
中换药|A||||
清创缝合术|A||||
氧气吸入|A||||
雾化吸入|A||||
导尿|A|||in|
心电监测|A|||in|
呼吸机辅助呼吸|A|||in|
血液透析|A||||
悬浮红细胞输注(每单位)|B|0.10||in|
普通针刺|A||||
颈椎病推拿治疗|B|0.10|||
拔罐|B|0.10|||
运动疗法(康复)|B|0.10|||
阑尾切除术|A|||in|
腹腔镜下阑尾切除术|A|||in|
腹腔镜下胆囊切除术|A|||in|
腹股沟疝修补术|A|||in|
冠状动脉造影术|A|||in|2
经皮冠状动脉支架植入术|A|||in|2
白内障超声乳化摘除术+人工晶体植入术|A|||in|2
人工全髋关节置换术|A|||in|2
人工全膝关节置换术|A|||in|2
股骨颈骨折闭合复位内固定术|A|||in|
经椎间孔腰椎间盘摘除术|A|||in|2
甲状腺部分切除术|A|||in|
剖宫产术|A|||in|
经阴道分娩|A|||in|
全身麻醉|A|||in|
椎管内麻醉|A|||in|
局部浸润麻醉|A||||
机器人辅助腹腔镜手术(附加)|C|||in|
龋齿充填术|A||||
根管治疗术|B|0.10||out|
龈上洁治术(洗牙)|C||||
种植牙|C||||
烤瓷冠修复|C||||
重睑成形术(美容)|C||||
光子嫩肤(美容)|C||||
激光祛斑(美容)|C||||
牙齿美白(美容)|C||||
健康体检套餐|C||||
"""

MATERIALS = """
一次性输液器(带针)|B|0.10|5||
一次性使用无菌注射器|A||2||
静脉留置针|B|0.10|30||
一次性使用无菌导尿管|B|0.10|25|in|
一次性使用胃管|B|0.10|20|in|
一次性使用吸痰管|B|0.10|5|in|
中心静脉导管(双腔)|B|0.20|500|in|
一次性使用吻合器|B|0.20|3000|in|
腹腔镜穿刺器|B|0.20|800|in|
可吸收缝合线|B|0.10|150|in|
医用可吸收止血纱布|B|0.20|600|in|
疝修补补片|B|0.20|2000|in|
折叠式人工晶体|B|0.20|3000|in|2
冠状动脉药物洗脱支架(心脏支架)|B|0.10|800|in|2
PTCA球囊扩张导管|B|0.10|3000|in|2
冠脉导引导丝|B|0.10|800|in|2
双腔心脏起搏器|B|0.20|30000|in|3
人工髋关节假体(全髋)|B|0.20|7500|in|2
人工膝关节假体(全膝)|B|0.20|5500|in|2
锁定接骨板|B|0.20|3000|in|
空心加压螺钉|B|0.20|600|in|
椎间融合器|B|0.20|1500|in|2
血液透析器|B|0.10|120||
水胶体敷料|B|0.20|80||
一次性造口袋|B|0.20|60||
一次性气管插管|B|0.10|60|in|
负压引流装置|B|0.10|150|in|
血糖试纸|B|0.30|3||
医用弹力袜|C||||
胰岛素笔用针头|C||||
医用外科口罩|C||||
一次性使用鼻氧管|A||5||
一次性使用无菌手术包|B|0.10|200|in|
石膏绷带|A||30||
医用高分子夹板|B|0.20|300||
"""

FACILITIES = """
普通病房床位费(三人及以上间)|A||50|in|
普通病房床位费(双人间)|A||80|in|
普通病房床位费(单人间)|A||100|in|
特需病房床位费|C|||in|
重症监护病房床位费(ICU)|A||300|in|
层流洁净病房床位费|A||200|in|3
新生儿暖箱|A||60|in|
急诊留观床位费|A||30|out|
日间病房床位费|A||40|in|
陪护床位费|C|||in|
病房取暖费|C|||in|
病房空调费|C|||in|
家庭病床建床费|B|0.10|20||
"""

# Items of one region only (codes in a range of their own).
REGIONAL = {
    "110000": [
        ("S9001", "普通门诊医事服务费", "service", "A", "", "40", "out", ""),
        ("S9002", "副主任医师门诊医事服务费", "service", "A", "", "40", "out", ""),
        ("S9003", "主任医师门诊医事服务费", "service", "A", "", "40", "out", ""),
        ("S9004", "知名专家门诊医事服务费", "service", "B", "0.30", "40", "out", ""),
        ("D9001", "清热解毒合剂(医疗机构制剂)", "drug", "B", "0.20", "", "", ""),
    ],
    "460200": [
        ("D9101", "注射用青蒿琥酯", "drug", "A", "", "", "", ""),
        ("D9102", "蛇伤解毒片", "drug", "B", "0.10", "", "", ""),
        ("S9101", "高压氧治疗", "service", "B", "0.10", "", "", "2"),
        ("S9102", "黎医药线点灸疗法", "service", "B", "0.20", "", "", ""),
        ("D9103", "椰岛鹿龟酒(保健酒)", "drug", "C", "", "", "", ""),
    ],
    "130600": [
        ("D9201", "清肺化痰合剂(医疗机构制剂)", "drug", "B", "0.20", "", "", ""),
        ("D9202", "骨痛贴膏(医疗机构制剂)", "drug", "B", "0.20", "", "", ""),
        ("S9201", "中药熏洗治疗", "service", "B", "0.10", "", "", ""),
        ("S9202", "小针刀治疗", "service", "B", "0.10", "", "", ""),
    ],
}

# Regional differences on shared items: (region, name) -> fields to change.
OVERRIDES: dict[tuple[str, str], dict[str, str]] = {
    # Beijing: PET/CT not paid by the fund; a lower ratio on massage.
    ("110000", "正电子发射计算机断层显像(PET/CT)"): {"item_class": "C", "ratio": ""},
    ("110000", "颈椎病推拿治疗"): {"ratio": "0.05"},
    # Sanya (Hainan): a few chronic-disease drugs in class A, higher ratio on imaging.
    ("460200", "阿托伐他汀钙片"): {"item_class": "A", "ratio": ""},
    ("460200", "盐酸二甲双胍缓释片"): {"item_class": "A", "ratio": ""},
    ("460200", "头颅磁共振平扫"): {"ratio": "0.20"},
    ("460200", "腰椎磁共振平扫"): {"ratio": "0.20"},
    ("460200", "折叠式人工晶体"): {"ceiling": "2500"},
    # Baoding (Hebei): 连花清瘟 in class A, higher material ratios, a lower stent ceiling.
    ("130600", "连花清瘟胶囊"): {"item_class": "A", "ratio": ""},
    ("130600", "冠状动脉药物洗脱支架(心脏支架)"): {"ratio": "0.15", "ceiling": "700"},
    ("130600", "人工髋关节假体(全髋)"): {"ratio": "0.25"},
    ("130600", "人工膝关节假体(全膝)"): {"ratio": "0.25"},
    ("130600", "正电子发射计算机断层显像(PET/CT)"): {"item_class": "C", "ratio": ""},
}

# Bed ceilings follow each region's price level.
BED_SCALE = {"110000": Decimal(1), "460200": Decimal("0.8"), "130600": Decimal("0.7")}
REGIONS = ("110000", "460200", "130600")


@dataclass(frozen=True)
class Item:
    code: str
    name: str
    kind: str
    item_class: str
    ratio: str
    ceiling: str
    settings: str
    min_level: str


def parse(block: str, kind: str, prefix: str, start: int = 1) -> list[Item]:
    items = []
    for n, line in enumerate((x for x in block.strip().splitlines() if x), start=start):
        name, item_class, ratio, ceiling, settings, min_level = line.split("|")
        items.append(
            Item(
                f"{prefix}{n:04d}",
                name,
                kind,
                item_class,
                ratio,
                ceiling,
                SETTINGS[settings],
                min_level,
            )
        )
    return items


def shared_items() -> list[Item]:
    drugs = parse(DRUGS, "drug", "D")
    return [
        *drugs,
        *parse(HEALTH_PRODUCTS, "drug", "D", start=801),
        *parse(SERVICES, "service", "S"),
        *parse(MATERIALS, "material", "M"),
        *parse(FACILITIES, "facility", "F"),
    ]


def regional(region: str) -> list[Item]:
    rows = []
    for item in shared_items():
        changes = OVERRIDES.get((region, item.name), {})
        item = replace(item, **changes)
        if item.kind == "facility" and item.ceiling:
            scaled = (Decimal(item.ceiling) * BED_SCALE[region]).quantize(Decimal(1))
            item = replace(item, ceiling=str(scaled))
        rows.append(item)
    for code, name, kind, item_class, ratio, ceiling, settings, min_level in REGIONAL[region]:
        rows.append(
            Item(code, name, kind, item_class, ratio, ceiling, SETTINGS[settings], min_level)
        )
    return rows


def render(region: str) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(HEADER)
    seen: set[str] = set()
    for item in regional(region):
        assert item.code not in seen, item.code
        assert item.item_class in "ABC"
        assert (item.item_class == "B") == bool(item.ratio), item
        seen.add(item.code)
        writer.writerow(
            [
                region,
                item.code,
                item.name,
                item.kind,
                item.item_class,
                item.ratio,
                item.ceiling,
                item.settings,
                item.min_level,
            ]
        )
    return buf.getvalue()


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for region in REGIONS:
        text = render(region)
        path = OUT / f"{region}.csv"
        path.write_text(text, encoding="utf-8")
        print(f"{path}: {text.count(chr(10)) - 1} rows")


if __name__ == "__main__":
    main()
