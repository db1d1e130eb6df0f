"""Stylesheet of the web app (passed to ``launch(css=...)``). No external fonts or assets: offline."""

from __future__ import annotations

from urllib.parse import quote

_SVG_HEAD = ("<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 24 24' fill='none' stroke-width='2' "
             "stroke-linecap='round' stroke-linejoin='round' stroke='{color}'>")
_THUMB_UP = ("<path d='M7 10v12'/><path d='M15 5.88 14 10h5.83a2 2 0 0 1 1.92 2.56l-2.33 8A2 2 0 0 1 17.5 22H4"
             "a2 2 0 0 1-2-2v-8a2 2 0 0 1 2-2h2.76a2 2 0 0 0 1.79-1.11L12 2a3.13 3.13 0 0 1 3 3.88Z'/></svg>")
_THUMB_DOWN = ("<path d='M17 14V2'/><path d='M9 18.12 10 14H4.17a2 2 0 0 1-1.92-2.56l2.33-8A2 2 0 0 1 6.5 2H20"
               "a2 2 0 0 1 2 2v8a2 2 0 0 1-2 2h-2.76a2 2 0 0 0-1.79 1.11L12 22a3.13 3.13 0 0 1-3-3.88Z'/></svg>")


def _icon(color: str, body: str) -> str:
    """A CSS ``url()`` of an inline SVG icon (thumbs drawn as SVG: no emoji font needed)."""
    return f'url("data:image/svg+xml;utf8,{quote(_SVG_HEAD.format(color=color) + body)}")'


ICONS = f"""
.fb-up::before {{ background-image: {_icon("#1f4e8c", _THUMB_UP)}; }}
.fb-down::before {{ background-image: {_icon("#8c1d18", _THUMB_DOWN)}; }}
"""

CSS = """
:root, .gradio-container {
  --jjj-blue: #1f4e8c; --jjj-blue-soft: #eef3fb; --jjj-border: #d8e0ec; --jjj-mark: #ffe58a;
}
.gradio-container { font-family: "PingFang SC", "Microsoft YaHei", "WenQuanYi Micro Hei", "Noto Sans CJK SC",
  "Source Han Sans SC", sans-serif !important; }
#app-header { border-bottom: 3px solid var(--jjj-blue); padding: 4px 0 10px; margin-bottom: 4px; }
#app-header h1 { color: var(--jjj-blue); font-size: 1.55rem; margin: 0; letter-spacing: 0.04em; }
#app-header .subtitle { color: #5a6678; font-size: 0.9rem; margin-top: 4px; }
#user-badge { text-align: right; color: #5a6678; font-size: 0.88rem; }
#user-badge a { margin-left: 8px; }
.turn { margin: 6px 0 14px; }
.msg { display: flex; margin: 6px 0; }
.msg-user { justify-content: flex-end; }
.msg .bubble { max-width: 92%; padding: 10px 14px; border-radius: 12px; line-height: 1.75; font-size: 0.98rem; }
.msg-user .bubble { background: var(--jjj-blue); color: #fff; border-bottom-right-radius: 4px; }
.msg-user .bubble p { color: #fff; margin: 0; }
.msg-bot .bubble { background: #fff; border: 1px solid var(--jjj-border); border-bottom-left-radius: 4px;
  box-shadow: 0 1px 2px rgba(31, 78, 140, 0.06); width: 92%; }
.msg-bot .bubble p { margin: 0 0 6px; }
a.cite-marker { display: inline-block; font-size: 0.78em; font-weight: 600; color: var(--jjj-blue) !important;
  background: var(--jjj-blue-soft); border: 1px solid #c5d4ea; border-radius: 4px; padding: 0 3px; margin: 0 1px;
  line-height: 1.35; vertical-align: super; text-decoration: none !important; cursor: pointer; }
mark.measure { background: #fff4cc; color: inherit; padding: 0 1px; border-radius: 2px; }
a.cite-marker:hover { background: var(--jjj-blue); color: #fff !important; }
.sources { margin-top: 10px; border-top: 1px dashed var(--jjj-border); padding-top: 8px; }
.sources-title { font-size: 0.82rem; color: #6b7686; margin-bottom: 4px; }
.cite { border: 1px solid transparent; border-radius: 8px; margin: 3px 0; scroll-margin-top: 80px; }
.cite-head { display: block; text-align: left; padding: 3px 6px; text-decoration: none !important;
  color: #243245 !important; font-size: 0.9rem; border-radius: 6px; }
.cite-head:hover { background: var(--jjj-blue-soft); }
.cite-n { color: var(--jjj-blue); font-weight: 700; margin-right: 4px; }
.cite-title { font-weight: 600; }
.cite-brief { color: #6b7686; font-size: 0.85em; margin-left: 6px; }
.cite-body { display: none; padding: 4px 10px 10px; }
.cite:target { border-color: #c5d4ea; background: #f7faff; }
.cite:target .cite-body { display: block; }
.cite:target .cite-head { background: var(--jjj-blue-soft); }
.cite-facts { display: flex; flex-wrap: wrap; gap: 4px 14px; font-size: 0.82rem; color: #4a5668; margin: 2px 0 6px; }
.cite-facts .fact-k { font-weight: 600; color: #243245; margin-right: 4px; }
.cite-passage { margin: 0; padding: 8px 12px; background: #fff; border-left: 3px solid var(--jjj-blue);
  white-space: pre-wrap; font-size: 0.92rem; line-height: 1.8; color: #333; }
.cite-passage mark, .cite-quote mark { background: var(--jjj-mark); color: #1d1d1d; padding: 1px 0;
  border-radius: 2px; }
.cite-close { display: inline-block; margin-top: 4px; font-size: 0.8rem; color: #6b7686 !important; }
.notice { padding: 8px 12px; border-radius: 8px; margin: 4px 0 8px; font-size: 0.92rem; }
.notice-info { background: #fff8e6; border: 1px solid #f3d48b; color: #6b4e00; }
.notice-error { background: #fdecec; border: 1px solid #f2b8b5; color: #8c1d18; }
.notice-refusal { background: #f4f6f9; border: 1px solid #cfd6e0; color: #3c4757; }
.refusal-title { font-weight: 700; color: #8a5a00; margin-bottom: 4px; }
.refusal-title::before { content: "⚠ "; }
.suggestions ul { margin: 4px 0 0 18px; padding: 0; }
.rewritten { font-size: 0.82rem; color: #6b7686; margin-bottom: 4px; }
.unsupported { font-size: 0.85rem; color: #6b7686; margin-top: 6px; }
.msg-footer { margin-top: 6px; font-size: 0.76rem; color: #98a2b3; text-align: right; }
.typing { color: #6b7686; font-size: 0.88rem; }
.typing span { animation: jjj-blink 1.2s infinite; }
@keyframes jjj-blink { 50% { opacity: 0.2; } }
.welcome { background: var(--jjj-blue-soft); border: 1px solid #c5d4ea; border-radius: 12px; padding: 14px 18px; }
.welcome-title { font-weight: 700; color: var(--jjj-blue); font-size: 1.05rem; margin-bottom: 4px; }
.welcome p { margin: 0; color: #3c4757; line-height: 1.75; }
.side-note { font-size: 0.85rem; color: #6b7686; line-height: 1.7; }
.notice-info-ok { background: #eef7ee; border: 1px solid #b9dcb9; color: #24572a; }
.kb-status p, .notice p { margin: 0; }
.feedback-row { margin: -8px 0 12px 0 !important; gap: 6px !important; align-items: center !important; }
.feedback-row button { white-space: nowrap; }
.fb-up::before, .fb-down::before { content: ""; display: inline-block; width: 15px; height: 15px; margin-right: 4px;
  vertical-align: -2px; background: no-repeat center / contain; }
.feedback-status { font-size: 0.82rem; color: #4a7a3a; white-space: normal; word-break: keep-all; }
/* the feedback outcome: a full-width line under its row, never squeezed into a column */
.fb-status { width: 100%; margin: -8px 0 10px 0; }
.fb-status:empty, .fb-status:has(> .prose:empty) { display: none; }
/* an upload's progress beside its button */
#kb-upload-row { align-items: center !important; gap: 10px !important; }
#kb-upload-progress { min-height: 40px; }
#conversation-box { min-height: 320px; }
#kb-stats { font-size: 0.95rem; }
/* a citation marker and the punctuation after it never part: no "。" at the start of a line */
.cite-nobr { white-space: nowrap; }
/* sources: one title line per document, its citations under it */
.source-doc { margin: 4px 0 6px; }
.source-doc-head { padding: 2px 6px; font-size: 0.9rem; color: #243245; }
.source-doc-count { color: #98a2b3; font-size: 0.78rem; margin-left: 8px; }
.source-doc .cite { margin: 1px 0 1px 14px; }
.source-doc .cite-head { font-size: 0.86rem; padding: 2px 6px; }
.cite-where { color: #4a5668; margin-right: 6px; }
.cite-snippet { color: #6b7686; }
.cite-doc { font-size: 0.88rem; margin: 2px 0 2px; color: #243245; }
/* the three answer states */
.state-partial .msg-bot .bubble { border-left: 4px solid #e0a526; }
.state-not_found .msg-bot .bubble { border-left: 4px solid #8a97a8; background: #fafbfc; }
.notice-partial { background: #fff8e6; border: 1px solid #f3d48b; color: #6b4e00; }
.notice-partial ul, .missing-list { margin: 4px 0 0 18px; padding: 0; }
.partial-title { font-weight: 700; }
.partial-title::before { content: "◐ "; }
.notice-not-found .refusal-title { font-size: 1rem; }
.related { margin-top: 10px; border-top: 1px dashed #cfd6e0; padding-top: 8px; }
.related-title { color: #4a5668; font-weight: 600; }
.related-hint { font-weight: 400; color: #8a94a3; margin-left: 4px; }
.related .cite-n { color: #5a6678; font-weight: 600; }
/* the follow-up banner: the rewritten question only, folded when long */
details.rewritten summary { cursor: pointer; list-style-position: inside; }
.rewritten-q { color: #3c4757; }
.rewritten-full { margin: 2px 0 4px 14px; color: #4a5668; }
.notice-warn { background: #fff8e6; border: 1px solid #f3d48b; color: #6b4e00; }
#kb-status { min-height: 2.2em; }
#kb-table { width: 100%; }
#kb-table table { table-layout: fixed; width: 100%; }
#kb-table th, #kb-table td { overflow-wrap: anywhere; }
/* the confirmation dialog of delete and rebuild (a modal over a dimmed page) */
#kb-confirm { position: fixed !important; z-index: 1000; top: 28vh; left: calc(50% - 240px); width: 480px;
  max-width: calc(100vw - 32px); padding: 16px 18px 12px; background: #fff !important; border-radius: 10px;
  border: 1px solid var(--jjj-border); box-shadow: 0 0 0 100vmax rgba(20, 30, 45, 0.45),
  0 10px 30px rgba(0, 0, 0, 0.25); }
#kb-confirm #kb-confirm { position: static !important; width: auto; max-width: none; padding: 0; border: 0;
  box-shadow: none; }  /* Gradio repeats a Group's elem_id on its inner box */
#kb-confirm div { background: transparent; }
#kb-confirm .confirm-buttons { padding: 4px 2px 2px; }
#kb-confirm-ok { background: #b3261e !important; color: #fff !important; border-color: #b3261e !important; }
#kb-delete { color: #b3261e !important; border-color: #e6b3b0 !important; }
#kb-confirm .confirm-title { font-weight: 700; font-size: 1.05rem; color: #8c1d18; margin-bottom: 6px; }
#kb-confirm .confirm-title::before { content: "⚠ "; }
#kb-confirm .confirm-question { margin: 0 0 10px; line-height: 1.7; color: #243245; }
#kb-confirm .confirm-buttons { justify-content: flex-end; gap: 8px; }
#kb-confirm .confirm-buttons button { flex: 0 0 auto; min-width: 96px; }
.fb-export { white-space: nowrap; }
/* timelines (rows = years) and side-by-side tables (rows = regions or documents) */
.shape-lead { font-weight: 600; color: #243245; }
ol.timeline { list-style: none; margin: 6px 0 4px; padding: 0 0 0 4px; border-left: 2px solid #c5d4ea; }
ol.timeline .tl-row { position: relative; display: flex; gap: 10px; padding: 3px 0 5px 14px; }
ol.timeline .tl-row::before { content: ""; position: absolute; left: -6px; top: 0.75em; width: 10px; height: 10px;
  border-radius: 50%; background: var(--jjj-blue); }
ol.timeline .tl-label { flex: 0 0 4.8em; font-weight: 700; color: var(--jjj-blue); }
ol.timeline .tl-text { flex: 1 1 auto; }
.row-not_found .tl-text, .row-not_found td { color: #8a94a3; }
ol.timeline .row-not_found::before { background: #c3cad4; }
table.shape-table { width: 100%; border-collapse: collapse; margin: 6px 0 4px; font-size: 0.95rem; }
table.shape-table th, table.shape-table td { border: 1px solid var(--jjj-border); padding: 6px 8px;
  vertical-align: top; text-align: left; line-height: 1.7; }
table.shape-table thead th { background: var(--jjj-blue-soft); color: #243245; }
table.shape-table tbody th { width: 7.5em; color: var(--jjj-blue); white-space: nowrap; }
table.shape-table .row-doc { font-weight: 400; font-size: 0.78rem; color: #6b7686; white-space: normal; }
""" + ICONS
