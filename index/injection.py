"""Instruction-like text in documents (prompt injection), flagged at index time.

A policy document states facts, duties and procedures about its subject. It does not tell the
*reader of the answer* or an AI system what to do: to disregard earlier instructions, to take on a
new role, to say a fixed text, to reveal secrets, or to urgently contact some address. Such
sentences are reported by ``assistant index`` and the knowledge-base tab (``IndexReport.flagged``)
and the answer writers never select them as answer sentences.

The rules are about how Chinese (and English) phrase such commands, not about particular words of
any test: (1) overriding earlier instructions or rules (忽略/无视/忘记/不要遵守 … 指令/提示/规则/设定),
(2) reassigning the reader's identity (你现在是/从现在起你扮演/假装你是/你不再是), (3) addressing an AI
system or talking about its prompt or output (系统提示词, 作为AI助手你必须, 在回答中, 直接回答：…),
(4) a demand to contact an e-mail address, web address, phone or messenger account that comes with
urgency, an instruction to pass it on, a money / credential payload, or points to a messenger account
or an address outside the domains public bodies use. A plain contact line of an official notice
("如有疑问，请联系市发展改革委，电话：010-55590088。") is *not* flagged.
"""

from __future__ import annotations

import re

# Sentence ends (Chinese and Western) and line breaks.
_SENTENCE = re.compile(r"[^。！？!?；;\n]+[。！？!?；;]*")

# (1) overriding earlier instructions: a verb of disregarding (not negated: 不得忽略 is a duty)
# aimed at instructions / prompts / settings, or at "everything above".
_NEGATED = r"(?<!不得)(?<!不能)(?<!不可)(?<!不应)(?<!严禁)(?<!禁止)(?<!避免)(?<!防止)(?<!不要)(?<!不许)"
_OVERRIDE_VERB = _NEGATED + r"(?:忽略|忽视|无视|忘记|忘掉|忘了|不要理会|不必理会|别理会|不用管|别管|不要遵守|不必遵守|无需遵守|不再遵守|抛开|抛弃|绕过|跳过)"
_OVERRIDE_OBJECT = r"(?:指令|指示|命令|提示词|提示语|提示|设定|人设|系统消息|安全策略|限制条件)"
_ABOVE = r"(?:以上|上述|上面|之前|此前|先前|前面|上文|前文)(?:的)?(?:所有|全部|一切)?(?:内容|说明|信息|文字|要求|规则)"
_OVERRIDE = re.compile(_OVERRIDE_VERB + r"(?:[^。！？!?\n]{0,16}?" + _OVERRIDE_OBJECT + "|" + _ABOVE + ")")

# (2) reassigning the reader's identity / role.
_ROLE = re.compile(
    r"(?:(?:你|您)(?:现在|从现在起|从现在开始|此刻|此后|今后|接下来|从此)(?:起)?[，,]?(?:就|将|要|必须|应)?(?:是(?!否|不是)|扮演|充当|成为|变成|作为)"
    r"|从现在(?:起|开始)[，,]?(?:你|您)"
    r"|(?:假装|假设|设想|想象)(?:你|您)(?:是|为)"
    r"|(?:你|您)(?:不再是|已经不是|的新(?:身份|角色|任务|指令))"
    r"|(?:请|现在)?(?:你|您)扮演)"
)

# (3) talking to / about an AI system, its prompt or its output.
_AI = r"(?:AI|ＡＩ|人工智能|智能助手|AI助手|问答助手|助手|机器人|大模型|语言模型|模型|ChatGPT|GPT|chatbot|assistant)"
_ADDRESS_AI = re.compile(
    "|".join((
        r"系统提示词?|系统指令|system\s*prompt|越狱|jailbreak|开发者模式|DAN模式",
        r"(?:作为|身为)(?:一个|一名)?" + _AI + r"[^。！？!?\n]{0,12}(?:你|必须|应当|应该|需要|要)",
        r"(?:你|您)(?:是|作为)(?:一个|一名)?" + _AI,
        r"(?:在|于)(?:你的|您的)?(?:回答|回复|答案|输出)(?:中|里|末尾|开头|最后)",
        r"(?:告诉|告知|提醒|通知|转告)(?:用户|提问者|提问的人|使用者|读者|对方)",
        r"(?:直接|只|仅|必须|务必|一律)(?:回答|回复|输出|说)[:：“\"「]",
        r"(?:泄露|透露|显示|输出|告诉我|给出)[^。！？!?\n]{0,8}(?:密码|口令|密钥|秘钥|管理员账号|系统提示)",
    )),
    re.I,
)

# (4) contact demands: a verb asking someone to get in touch, then a contact target ...
_CONTACT_VERB = r"(?:联系|联络|致电|拨打|打电话|来电|发送|发邮件|发信|写信|添加|加|私信|转账|汇款|访问|点击|登录|扫码)"
_EMAIL = r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"
_URL = r"(?:https?://|www\.)[A-Za-z0-9._~:/?#@!$&'*+,;=%-]+"
_PHONE = r"(?<!\d)(?:1[3-9]\d{9}|0\d{2,3}[- ]?\d{7,8}|400[- ]?\d{3}[- ]?\d{4})(?!\d)"
_MESSENGER = r"(?:QQ|微信|WeChat|Telegram|WhatsApp|Skype)(?:号|群)?[:：\s]*[A-Za-z0-9_-]{5,}"
_TARGET = re.compile("|".join(f"(?P<{n}>{p})" for n, p in
                              (("email", _EMAIL), ("url", _URL), ("phone", _PHONE), ("messenger", _MESSENGER))), re.I)
_CONTACT = re.compile(_CONTACT_VERB + r"[^。！？!?\n]{0,40}?(?:" + _TARGET.pattern + ")", re.I)
# Public bodies publish addresses under these domains; a demand to write to a free-mail box or an
# arbitrary site (or to add a messenger account) is not how an official document asks for contact.
_OFFICIAL_HOST = re.compile(r"(?:^|\.)(?:gov|edu|org|ac|mil|people|xinhuanet|cctv)\.(?:cn|com\.cn)$|\.gov$|\.中国$", re.I)
# ... made a demand by urgency, an instruction to pass it on, or a money / credential payload.
_URGENT = re.compile(r"立即|立刻|马上|赶快|赶紧|第一时间|速速|限时|否则|过期作废")
_PASS_ON = re.compile(r"告诉|告知|转告|转达|(?:所有|全部|各位)(?:用户|提问者|读者|访客|使用者)|(?:回答|回复|答案)(?:中|里|时)")
_PAYLOAD = re.compile(r"领取|补贴发放|奖金|中奖|退款|红包|返现|验证码|密码|口令|银行卡|转账|汇款|保证金|手续费|解冻|激活")


def _host(target: str) -> str:
    text = target.lower()
    if "@" in text and "://" not in text:
        return text.rsplit("@", 1)[1]
    text = text.split("://", 1)[-1]
    return re.split(r"[/:?#]", text, maxsplit=1)[0]


def _unofficial_target(sentence: str) -> bool:
    for match in _TARGET.finditer(sentence):
        if match.lastgroup == "messenger":
            return True
        if match.lastgroup in ("email", "url") and not _OFFICIAL_HOST.search(_host(match.group())):
            return True
    return False


# English commands of the same kinds (documents are Chinese, injected lines often are not).
_ENGLISH = re.compile(
    r"\b(?:ignore|disregard|forget|override|bypass)\b[^.!?\n]{0,30}\b(?:instructions?|prompts?|rules?|directions?|guidelines?)\b"
    r"|\byou\s+are\s+now\b|\bfrom\s+now\s+on\b[^.!?\n]{0,20}\byou\b|\bact\s+as\b|\bpretend\s+(?:to\s+be|you\s+are)\b"
    r"|\bsystem\s+prompt\b|^\s*(?:system|assistant)\s*[:：]"
    r"|\b(?:reveal|disclose|print|output)\b[^.!?\n]{0,30}\b(?:password|credentials?|secret|api\s*key|prompt)\b",
    re.I,
)


def _sentence_is_instruction(sentence: str) -> bool:
    s = sentence.strip()
    if len(s) < 4:
        return False
    if _OVERRIDE.search(s) or _ROLE.search(s) or _ADDRESS_AI.search(s) or _ENGLISH.search(s):
        return True
    if _CONTACT.search(s):
        return bool(_URGENT.search(s) or _PASS_ON.search(s) or _PAYLOAD.search(s) or _unofficial_target(s))
    return False


def sentences(text: str) -> list[str]:
    """The sentences of ``text`` (split at 。！？；!?; and line breaks), stripped, non-empty."""
    return [m.group().strip() for m in _SENTENCE.finditer(text or "") if m.group().strip()]


def instruction_like_sentences(text: str) -> list[str]:
    """The sentences of ``text`` that read like instructions to the assistant or its reader."""
    return [s for s in sentences(text) if _sentence_is_instruction(s)]


def is_instruction_like(text: str) -> bool:
    """Whether ``text`` (a sentence, a line or a passage) contains an instruction-like sentence:
    overriding instructions, reassigning a role, addressing an AI system or its output, or an
    urgent / relayed / money-related demand to contact an address, phone or account."""
    if not isinstance(text, str) or not text.strip():
        return False
    return any(_sentence_is_instruction(s) for s in sentences(text))
