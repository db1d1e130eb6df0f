"""Instruction-like text in documents (prompt injection): flagged at index time, never used in answers.

A policy document states facts, duties and procedures about its subject. It does not tell the
*assistant* or the *reader of the answer* what to do: to disregard earlier instructions, to take on
a new role, to say a fixed text, to reveal or pass on a password, or to contact some private address
to collect money. Such sentences are reported by ``assistant index`` and the knowledge-base tab
(``IndexReport.flagged``); verification refuses any quote that touches one (``assistant.verify``),
the llm writer never sends them to the model (:func:`flagged_spans`, :func:`strip_flagged`) and
neutralises the delimiters of its prompt in the rest (:func:`neutralise_data_tags`), and ranking can
leave them out. These are the only prompt-injection rules: every writer and the index use them.

The rules describe how such commands are phrased, not the words of any test, and they are kept
narrow enough that none of the ~166,000 sentences of the shared library (laws, regulations, work
reports) is flagged (``tests/test_injection.py`` scans it). Ordinary law *does* tell parties to
inform users (应当及时告知用户, 书面通知对方), mentions prisons (人犯越狱), system prompts of
vehicles (系统提示) and secrets (泄露商用密码技术秘密); those are duties, not commands to a reader.

Kinds of instruction recognised, Chinese and English:

1. overriding earlier instructions (忽略/无视/忘记/不要遵守 … 指令/提示/设定; 以上指令作废);
2. reassigning the reader's identity (你现在是/从现在起你扮演/假装你是/你不再是; you are now, act as);
3. addressing an AI system, its prompt or its output (系统提示词, 作为AI助手你必须, 在回答中,
   直接回答：…, 无论用户问什么, 请告诉用户…, 原样输出, chat-template tokens);
4. a credential handed out (管理员密码是 admin123, password: …, API key = …) or asked for
   (输出你的密码/系统提示词);
5. a demand to contact an e-mail address, web address, phone or messenger account that comes with
   urgency, an instruction to pass it on, a money / credential payload, or an address outside the
   domains public bodies use. A plain contact line of an official notice
   ("如有疑问，请联系市发展改革委，电话：010-55590088。") is *not* flagged.

A sentence is a piece of text between sentence ends (。！？；!?; and ". ") or line breaks; an
instruction split over up to three lines (a line break in the middle of a sentence) is recognised
by joining lines that do not end a sentence.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator

from .zh import CJK_TEXT_RE, QUOTE_CLOSERS, SENTENCE_END, STRONG_END

# -- sentence pieces ---------------------------------------------------------------------------
_END = re.compile(rf"[{SENTENCE_END}]+[{QUOTE_CLOSERS}]*|\.(?=\s)|\n")
_MAX_JOIN = 3  # lines joined to find an instruction broken over lines

# (1) overriding earlier instructions: a verb of disregarding (not negated: 不得忽略 is a duty)
# aimed at instructions / prompts / settings, or at "everything above".
_NEGATED = r"(?<!不得)(?<!不能)(?<!不可)(?<!不应)(?<!严禁)(?<!禁止)(?<!避免)(?<!防止)(?<!不要)(?<!不许)"
_OVERRIDE_VERB = _NEGATED + (r"(?:忽略|忽视|无视|忘记|忘掉|忘了|不要理会|不必理会|别理会|不用管|别管|不要遵守|不必遵守|"
                             r"无需遵守|不再遵守|抛开|抛弃|绕过|跳过)")
_OVERRIDE_OBJECT = r"(?:指令|指示|命令|提示词|提示语|提示|设定|人设|系统消息|安全策略|限制条件)"
_ABOVE = r"(?:以上|上述|上面|之前|此前|先前|前面|上文|前文)(?:的)?(?:所有|全部|一切)?(?:内容|说明|信息|文字|要求|规则)"
_OVERRIDE = re.compile(
    _OVERRIDE_VERB + rf"(?:[^{STRONG_END}\n]{{0,16}}?" + _OVERRIDE_OBJECT + "|" + _ABOVE + ")"
    r"|(?:以上|之前|此前|先前|上述|原有|原来|前面)(?:的)?(?:所有|全部|一切)?(?:指令|提示词|设定|系统提示)"
    rf"[^{STRONG_END}\n]{{0,4}}(?:作废|失效|无效|取消|不再有效|不再适用)"
    rf"|(?:新的?|最高|最新)(?:优先级)?(?:指令|系统指令)[:：]|(?:本|此|该|这条)(?:条)?指令[^{STRONG_END}\n]{{0,6}}优先"
)

# (2) reassigning the reader's identity / role.
_ROLE = re.compile(
    r"(?:你|您)(?:现在|从现在起|从现在开始|此刻|此后|今后|接下来|从此)(?:起)?[，,]?(?:就|将|要|必须|应)?"
    r"(?:是(?!否|不是)|扮演|充当|成为|变成|作为)"
    r"|从现在(?:起|开始)[，,]?(?:你|您)"
    r"|(?:假装|假设|设想|想象)(?:你|您)(?:是|为)"
    r"|(?:你|您)(?:不再是|已经不是|的新(?:身份|角色|任务|指令))"
    r"|(?:请|现在)?(?:你|您)扮演"
    r"|(?:切换|进入|开启|启用|打开)(?:到)?(?:开发者|管理员|调试|无限制|不受限制|越狱|DAN)模式"
)

# (3) talking to / about an AI system, its prompt or its output.
_AI = r"(?:AI|ＡＩ|人工智能|智能助手|AI助手|问答助手|助手|机器人|大模型|语言模型|模型|ChatGPT|GPT|chatbot|assistant)"
_USERS = r"(?:用户|提问者|提问的人|使用者|访客|所有人|每一位用户|每位用户|各位用户)"
_ADDRESS_AI = re.compile(
    "|".join((
        r"系统提示词|提示词|系统指令|system\s*prompt|jailbreak|越狱模式|开发者模式|DAN模式",
        r"<\|im_(?:start|end)\|>|<\|(?:system|assistant|user)\|>|\[/?INST\]|<<SYS>>",
        r"(?:作为|身为)(?:一个|一名)?" + _AI + rf"[^{STRONG_END}\n]{{0,12}}(?:你|必须|应当|应该|需要|要)",
        r"(?:你|您)(?:是|作为)(?:一个|一名)?" + _AI,
        r"(?:你|您)的(?:任务|回答|回复|答案|输出)(?:是|必须|应当|应该|只能|要|需要|里|中)",
        r"(?:在|于)(?:你的|您的)?(?:回答|回复|答案|输出)(?:中|里|末尾|开头|最后)",
        r"(?:回答|回复)(?:本|这个|该|此|任何|所有)?(?:问题|提问)时",
        r"(?:无论|不管|不论)(?:用户|提问者|对方|别人|谁)?(?:问|提问|询问)(?:什么|任何|何种)",
        r"(?:请|务必|必须|记得)(?:你|您)?(?:务必|一定)?(?:告诉|告知|转告|提醒|通知)" + _USERS,
        r"(?:告诉|转告)" + _USERS,
        r"(?:直接|只|仅|只能|必须|务必|一律|统一)(?:回答|回复|输出|说|答复)[:：“\"「]",
        r"(?:回答|答案|回复)(?:改为|统一为|一律为|都是|只能是)[:：“\"「]",
        r"原样(?:输出|复述|返回|回复|转述)|逐字(?:输出|复述)",
        r"(?:不要|别|切勿)(?:向用户)?(?:提及|提到|透露|泄露|说出|告诉)(?:用户)?(?:本段|这段|此段|本条|这条|以上|上述|此|这)"
        r"(?:内容|指令|文字|信息|话)",
        r"(?:读到|看到|读取到|读取|收到|处理)(?:本段|这段|本文|此段|这条|本条|这句|此消息|本消息)(?:内容|文字)?(?:时|后)",
    )),
    re.I,
)

# (4) credentials handed out or asked for.
_SECRET = (r"(?:密码|口令|密钥|秘钥|password|passwd|pwd|passcode|api[ _-]?key|access[ _-]?key|secret[ _-]?key|token"
           r"|验证码)")
_VALUE = r"[`'\"“「]?[A-Za-z0-9][\x21-\x7e]{4,}(?![\x21-\x7e])(?![年月日号位个元次条款项])"
_CREDENTIAL = re.compile(
    _SECRET + r"\s*(?:是|为|:|：|=|is|was|are)\s*" + _VALUE
    + rf"|(?:账号|帐号|用户名|username|user|login)\s*(?:是|为|:|：|=|is)\s*[A-Za-z0-9_.-]{{3,}}[^{STRONG_END}\n]{{0,10}}" + _SECRET
    + r"|(?:输出|告诉我|给出|显示|透露|泄露|提供|发送|打印)(?:一下)?(?:你的|您的|系统的?|管理员的?|后台的?|root的?|admin的?)"
      r"(?:账号|帐号|登录)?(?:密码|口令|密钥|秘钥|系统提示)",
    re.I,
)

# (5) contact demands: a verb asking someone to get in touch, then a contact target ...
_CONTACT_VERB = (r"(?:联系|联络|致电|拨打|打电话|来电|发送|发送至|发至|发到|发邮件|发信|写信|添加|加|私信|转账|汇款|访问|点击|登录|"
                 r"扫码|提交至|contact|e-?mail|write\s+to|call|phone|text|message|whatsapp|visit|click|send|go\s+to)")
_EMAIL = r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"
_URL = r"(?:https?://|www\.)[A-Za-z0-9._~:/?#@!$&'*+,;=%-]+"
_PHONE = r"(?<!\d)(?:1[3-9]\d{9}|0\d{2,3}[- ]?\d{7,8}|400[- ]?\d{3}[- ]?\d{4}|\+\d{1,3}[- ]?\d[\d -]{6,14}\d)(?!\d)"
_MESSENGER = r"(?:QQ|微信|WeChat|Telegram|WhatsApp|Skype|Signal)(?:号|群|账号)?[:：\s]*[A-Za-z0-9_@+-]{5,}"
_TARGET = re.compile("|".join(f"(?P<{n}>{p})" for n, p in
                              (("email", _EMAIL), ("url", _URL), ("phone", _PHONE), ("messenger", _MESSENGER))), re.I)
_CONTACT = re.compile(_CONTACT_VERB + rf"[^{STRONG_END}\n]{{0,40}}?(?:" + _TARGET.pattern + ")", re.I)
# Public bodies publish addresses under these domains; a demand to write to a free-mail box or an
# arbitrary site (or to add a messenger account) is not how an official document asks for contact.
_OFFICIAL_HOST = re.compile(r"(?:^|\.)(?:gov|edu|org|ac|mil|people|xinhuanet|cctv)\.(?:cn|com\.cn)$|\.gov$|\.中国$", re.I)
# ... made a demand by urgency, an instruction to pass it on, or a money / credential payload.
_URGENT = re.compile(r"立即|立刻|马上|赶快|赶紧|第一时间|速速|限时|否则|过期作废|\b(?:immediately|urgent(?:ly)?|asap|right\s+now)\b",
                     re.I)
_PASS_ON = re.compile(r"告诉|告知|转告|转达|(?:所有|全部|各位)(?:用户|提问者|读者|访客|使用者)|(?:回答|回复|答案)(?:中|里|时)"
                      r"|\b(?:tell|inform)\s+(?:the\s+|all\s+)?users?\b|\bin\s+(?:your|the)\s+(?:answer|reply|response)\b", re.I)
_PAYLOAD = re.compile(r"领取|补贴发放|奖金|中奖|退款|红包|返现|验证码|密码|口令|银行卡|转账|汇款|保证金|手续费|解冻|激活|身份证(?:照片|正反面)"
                      r"|\b(?:subsid(?:y|ies)|refund|prize|reward|claim|bank|password|verification\s+code|fee|gift\s+card)\b",
                      re.I)


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
_NOT = r"(?<!not )(?<!never )(?<!n't )(?<!no )"
_ENGLISH = re.compile(
    r"\b(?:ignore|disregard|forget|override|bypass)\b[^.!?\n]{0,30}\b(?:instructions?|prompts?|rules?|directions?|guidelines?)\b"
    r"|\byou\s+are\s+now\b|\bfrom\s+now\s+on\b[^.!?\n]{0,20}\byou\b|\bpretend\s+(?:to\s+be|you\s+are)\b"
    r"|\byou\s+(?:will\s+|must\s+|should\s+|shall\s+)?act\s+as\b"
    r"|\bact\s+as\s+(?:an?\s+)?(?:ai|assistant|unrestricted|jailbroken|dan|hacker|chatbot|language\s+model)\b"
    r"|\bsystem\s+prompt\b|^\s*[\[(<]?\s*(?:system|assistant|developer)\s*[\])>]?\s*[:：]"
    r"|" + _NOT + r"\b(?:reveal|disclose|print|output|repeat|leak)\b[^.!?\n]{0,30}\b(?:password|credentials?|api\s*key|prompt)\b"
    r"|\bnew\s+instructions?\s*:|^\s*(?:please\s+)?(?:tell|inform)\s+(?:the\s+|all\s+)?users?\b"
    r"|\bin\s+your\s+(?:answer|reply|response|output)\b"
    r"|\b(?:as\s+an?\s+)(?:ai|assistant|language\s+model)\b[^.!?\n]{0,20}\b(?:must|should|will)\b"
    r"|\bdo\s+not\s+(?:mention|reveal|tell)\b[^.!?\n]{0,30}\b(?:instructions?|this\s+(?:text|message|line)|prompt)\b",
    re.I,
)

# Every rule above needs one of these words, an ASCII word or symbol, or a long number (English,
# credential and contact rules): a sentence without any is not examined further. Two scans of a
# whole document with these are several times faster than every rule on every sentence.
_ANCHOR = re.compile(
    r"忽略|忽视|无视|忘|理会|不用管|别管|遵守|抛开|抛弃|绕过|跳过|指令|提示词|设定|系统提示|你|您|模式"
    r"|人工智能|ＡＩ|助手|机器人|模型|回答|回复|答案|输出|答复|问什么|问任何|问何种|用户|提问|使用者|访客|所有人"
    r"|告诉|转告|说[:：“\"「]|原样|逐字|提及|提到|透露|泄露|说出|读到|看到|读取|密码|口令|密钥|秘钥|验证码|微信"
)
_TOKEN = re.compile(r"[0-9A-Za-z@<+]+")


def _anchored(token: str) -> bool:
    return not token.isdigit() or len(token) >= 5 or "400" in token


def _anchors(text: str) -> list[int]:
    """Sorted offsets in ``text`` where some rule could start to match."""
    found = [m.start() for m in _ANCHOR.finditer(text)]
    found += [m.start() for m in _TOKEN.finditer(text) if _anchored(m.group())]
    return sorted(found)


def _regions(sentence: str) -> list[tuple[int, int]]:
    """Where in ``sentence`` the rules match ([] when it is not instruction-like). A contact demand
    counts from its verb to the end (its urgency or payload may follow the address)."""
    s = sentence
    if len(s.strip()) < 4 or not (_ANCHOR.search(s) or any(_anchored(t) for t in _TOKEN.findall(s))):
        return []
    found = [m.span() for rule in (_OVERRIDE, _ROLE, _ADDRESS_AI, _CREDENTIAL, _ENGLISH) for m in rule.finditer(s)]
    contacts = [m.start() for m in _CONTACT.finditer(s)]
    if contacts and (_URGENT.search(s) or _PASS_ON.search(s) or _PAYLOAD.search(s) or _unofficial_target(s)):
        found += [(start, len(s)) for start in contacts]
    return found


def _sentence_is_instruction(sentence: str) -> bool:
    return bool(_regions(sentence))


def _pieces(text: str) -> Iterator[tuple[int, int, bool]]:
    """(start, end, ended by a line break) of the stripped, non-empty sentence pieces of ``text``."""
    start = 0
    for m in _END.finditer(text):
        newline = m.group() == "\n"
        end = m.start() if newline else m.end()
        yield from _strip(text, start, end, newline)
        start = m.end()
    yield from _strip(text, start, len(text), False)


def _strip(text: str, start: int, end: int, newline: bool) -> Iterator[tuple[int, int, bool]]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start < end:
        yield start, end, newline


def _joined(text: str, pieces: list[tuple[int, int, bool]]) -> tuple[str, list[int]]:
    """The pieces' text joined across their line breaks, and where each piece starts in it."""
    out = ""
    starts: list[int] = []
    for start, end, _ in pieces:
        nxt = text[start:end]
        if out and not (CJK_TEXT_RE.match(out[-1:]) or CJK_TEXT_RE.match(nxt[:1])):
            out += " "
        starts.append(len(out))
        out += nxt
    return out, starts


def flagged_spans(text: str) -> list[tuple[int, int]]:
    """The (start, end) offsets in ``text`` of its instruction-like sentences, sorted and disjoint.

    Each sentence is checked on its own; a line that does not end a sentence is also joined with
    the next one or two lines, and the lines where a rule matches in the join are flagged together
    (a heading line before a flagged sentence is not). Use it to leave such sentences out of
    candidate answer sentences (``overlaps_flagged``)."""
    if not isinstance(text, str) or not text.strip():
        return []
    anchors = _anchors(text)
    if not anchors:
        return []
    pieces = list(_pieces(text))

    def anchored(start: int, end: int) -> bool:
        i = bisect.bisect_left(anchors, start)
        return i < len(anchors) and anchors[i] < end

    spans = [(s, e) for s, e, _ in pieces if anchored(s, e) and _sentence_is_instruction(text[s:e])]
    for i, (start, _end, newline) in enumerate(pieces):
        j = i
        while newline and j + 1 < len(pieces) and j + 1 - i < _MAX_JOIN:
            j += 1
            newline = pieces[j][2]
            if not anchored(start, pieces[j][1]):
                continue
            joined, starts = _joined(text, pieces[i:j + 1])
            ends = [*starts[1:], len(joined) + 1]
            hit = [k for k in range(j + 1 - i)
                   if any(a < ends[k] and starts[k] < b for a, b in _regions(joined))]
            if hit:
                spans.append((pieces[i + hit[0]][0], pieces[i + hit[-1]][1]))
    return _merge(spans, text)


def _merge(spans: list[tuple[int, int]], text: str) -> list[tuple[int, int]]:
    """Sorted, disjoint spans; flagged sentences next to each other (only blanks between) become one."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and (start <= merged[-1][1] or not text[merged[-1][1]:start].strip(" \t\u3000")):
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def overlaps_flagged(spans: list[tuple[int, int]], start: int, end: int) -> bool:
    """Whether ``[start, end)`` touches any of ``spans`` (from :func:`flagged_spans`)."""
    return any(s < end and start < e for s, e in spans)


def strip_flagged(text: str) -> str:
    """``text`` without its instruction-like sentences (the rest joined as it was)."""
    spans = flagged_spans(text)
    if not spans:
        return text
    out, last = [], 0
    for start, end in spans:
        out.append(text[last:start])
        last = end
    out.append(text[last:])
    return "".join(out).strip()


def redact_flagged(text: str, placeholder: str = "〔疑似指令的文字，已隐去〕") -> str:
    """``text`` with each instruction-like sentence replaced by ``placeholder``."""
    spans = flagged_spans(text)
    if not spans:
        return text
    out, last = [], 0
    for start, end in spans:
        out += [text[last:start], placeholder]
        last = end
    out.append(text[last:])
    return "".join(out)


# -- untrusted text inside a prompt ---------------------------------------------------------------
# Any opening or closing 资料 tag (also full-width / spaced variants) inside untrusted text.
DATA_TAG_RE = re.compile(r"[<＜〈]\s*/?\s*资\s*料")


def neutralise_data_tags(text: str) -> str:
    """Make untrusted text (a passage, a title, a previous answer) unable to open or close a
    ``<资料>`` block of a prompt: a tag's bracket becomes 〔, and every < > becomes ‹ › when 资料 is
    in the text at all."""
    text = DATA_TAG_RE.sub(lambda m: "〔" + m.group(0)[1:], text)
    return text.replace("<", "‹").replace(">", "›") if "资料" in text else text


def sentences(text: str) -> list[str]:
    """The sentences of ``text`` (split at 。！？；!?;, ". " and line breaks), stripped, non-empty."""
    return [text[s:e] for s, e, _ in _pieces(text or "")]


def instruction_like_sentences(text: str) -> list[str]:
    """The instruction-like sentences of ``text`` (a sentence split over lines comes back joined,
    its line breaks removed)."""
    return [" ".join(text[s:e].split()) if CJK_TEXT_RE.search(text[s:e]) is None else re.sub(r"\s*\n\s*", "", text[s:e])
            for s, e in flagged_spans(text)]


def is_instruction_like(text: str) -> bool:
    """Whether ``text`` (a sentence, a line or a passage) contains an instruction-like sentence:
    overriding instructions, reassigning a role, addressing an AI system or its output, handing out
    a credential, or an urgent / relayed / money-related demand to contact an address or account."""
    return bool(flagged_spans(text))
