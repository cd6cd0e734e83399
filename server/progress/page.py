"""The owner's progress page (/p/<token>): status header, contacts, timeline, rating form.

Server-rendered, readable without JavaScript; a tiny inline script polls ``/state`` every 15 s and
reloads when the version changed (never while the owner is typing a rating).
"""

from __future__ import annotations

import hashlib
from dataclasses import replace

from server.progress import i18n
from server.progress.html import EMPTY, Safe, compact, join, render, tel_href
from server.progress.layout import day, day_time, document, hhmm
from server.progress.owner import Entry, OwnerView

NOTICE_MARK = "<!--notice-->"

POLL_SCRIPT = (
    "(function(){var b=document.body,v=b.getAttribute('data-v'),u=location.pathname+'/state';"
    "if(!window.fetch||!v)return;"
    "var a=document.getElementById('auto');if(a)a.hidden=false;"  # said only where it is true (JS on)
    "function busy(){var f=document.querySelector('form');if(!f)return false;"
    "if(f.contains(document.activeElement))return true;"
    "var t=f.querySelector('textarea'),c=f.querySelector('input:checked');return !!(c||(t&&t.value))}"
    "setInterval(function(){if(document.hidden||busy())return;"
    "fetch(u,{cache:'no-store',credentials:'omit'}).then(function(r){return r.ok?r.json():null})"
    ".then(function(s){if(s&&s.version&&s.version!==v){v=s.version;location.reload()}})"
    "['catch'](function(){})},15000)})();"
)

PAGE_CSS = Safe(
    ".hd{display:flex;justify-content:space-between;align-items:center;font-size:13px;opacity:.92}"
    ".hd a{text-decoration:none;border:1px solid rgba(255,255,255,.6);border-radius:12px;padding:1px 9px}"
    ".bar{display:flex;list-style:none;margin:14px 0 0;padding:0;counter-reset:s}"
    ".bar li{flex:1;text-align:center;font-size:12px;position:relative;opacity:.65}"
    ".bar li:before{content:'';display:block;width:12px;height:12px;margin:0 auto 4px;border-radius:50%;"
    "background:rgba(255,255,255,.45)}"
    ".bar li.on{opacity:1;font-weight:600}.bar li.on:before{background:#fff}"
    ".bar li.now:before{box-shadow:0 0 0 4px rgba(255,255,255,.35)}"
    ".desc p{margin:0;white-space:pre-line;word-break:break-word}"
    ".row{display:flex;align-items:center;gap:10px;min-height:44px}"
    ".row+.row{border-top:1px solid var(--bd)}"
    ".row .k{color:var(--mut);font-size:14px;width:5.5em;flex:none}"
    ".row .v{flex:1;font-weight:600}"
    ".call{border:1px solid var(--a);border-radius:18px;padding:4px 12px;text-decoration:none;font-size:14px;"
    "white-space:nowrap}"
    ".tl{list-style:none;margin:0;padding:0}"
    ".tl li{position:relative;padding:0 0 14px 66px;min-height:28px}"
    ".tl li:before{content:'';position:absolute;left:52px;top:7px;width:9px;height:9px;border-radius:50%;"
    "background:#98a2b3}"
    ".tl li:after{content:'';position:absolute;left:56px;top:18px;bottom:-2px;width:1px;background:var(--bd)}"
    ".tl li:last-child:after{display:none}"
    ".tl li.last:before{background:var(--ok);box-shadow:0 0 0 3px #d1fadf}"
    ".tl time{position:absolute;left:0;top:0;width:44px;color:var(--mut);font-size:14px;line-height:1.55rem;"
    "font-variant-numeric:tabular-nums}"
    ".tl li.d{padding:2px 0 10px;min-height:0;color:var(--mut);font-size:13px;font-weight:600}"
    ".tl li.d:before,.tl li.d:after{display:none}"
    ".tl b{font-weight:600}"
    ".tl p{margin:2px 0 0;white-space:pre-line;word-break:break-word}"
    ".ph{display:flex;flex-wrap:wrap;gap:6px;margin-top:6px}"
    ".ph a,.ph span{display:block;width:84px;height:84px;border-radius:8px;overflow:hidden;background:#eaecf0}"
    ".ph img{width:84px;height:84px;object-fit:cover;display:block}"
    ".ph span{font-size:12px;color:var(--mut);text-align:center;line-height:84px}"
    ".lv{display:grid;grid-template-columns:1fr 1fr;gap:8px;margin:6px 0 4px}"
    ".lv label{margin:0;font-weight:500}"
    ".lv input{position:absolute;opacity:0;width:1px;height:1px}"
    ".lv span{display:block;text-align:center;border:1px solid #d0d5dd;border-radius:10px;padding:10px 4px}"
    ".lv input:checked+span{border-color:var(--a);background:#eff4ff;color:var(--a);font-weight:600}"
    ".lv input:focus-visible+span{outline:2px solid var(--a)}"
    "form .btn{width:100%;margin-top:12px}"
    "fieldset{border:0;margin:0;padding:0}legend{font-weight:600;padding:0}"
)

# Stages of the progress bar and the stage each status has reached.
STAGE_OF = {
    "new": 0,
    "dispatched": 1,
    "accepted": 1,
    "en_route": 2,
    "on_site": 2,
    "paused": 2,
    "completed": 3,
    "called_back": 3,
    "rated": 4,
    "closed": 4,
}

PAGE = compact(
    """
<main>
<header class="top">
<div class="hd"><span>{no_label} {number}</span><a href="{switch_href}">{switch}</a></div>
<h1>{status}</h1>
<p class="sub">{subtitle}</p>
{bar}
</header>
{notice}
<section class="card desc"><p>{description}</p></section>
{rating}
{people}
<section class="card"><h2>{progress}</h2><ol class="tl">{timeline}</ol></section>
<footer>{expires}<a href="{self_href}">{refresh}</a> · <a href="{sms_href}" data-test="sms-settings">{sms}</a>
<span id="auto" hidden> · {auto}</span></footer>
</main>
<script>{script}</script>
"""
)

RATING_FORM = compact(
    """
<section class="card" id="rate">
<form method="post" action="{action}">
<input type="hidden" name="lang" value="{lang}">
<fieldset><legend>{title}</legend>
<div class="lv">{levels}</div>
</fieldset>
<label for="c">{comment}</label>
<textarea id="c" name="comment" rows="3" maxlength="500"></textarea>
<button class="btn" type="submit">{submit}</button>
</form>
</section>
"""
)


def _t(lang: str, key: str) -> str:
    return i18n.TEXT[lang][key]


def entry_title(e: Entry, view: OwnerView, lang: str) -> str:
    if e.action == "step":
        return ""
    template = i18n.EVENT[lang]
    if e.action in ("dispatch", "reassign") and not e.who:
        dept = i18n.DEPARTMENT[lang].get(e.department, e.department)
        return template["dispatch_dept"].format(dept=dept)
    return template.get(e.action, e.action).format(
        who=e.who or ("师傅" if lang == "zh" else "The technician"),
        kind=i18n.KIND_RECEIVED[lang].get(view.kind, ""),
        reason=i18n.PAUSE[lang].get(e.reason, e.reason),
        level=i18n.RATING[lang].get(e.level, e.level),
        number=e.number,
    )


def _photos(e: Entry, base: str, lang: str) -> Safe:
    if not e.photos:
        return EMPTY
    items = []
    for p in e.photos:
        if p.uploaded:
            items.append(
                render(
                    '<a href="{base}/photos/{sha}/view"><img src="{base}/photos/{sha}/thumb" loading="lazy" '
                    'decoding="async" width="84" height="84" alt="{alt}"></a>',
                    base=base,
                    sha=p.sha,
                    alt=_t(lang, "photo"),
                )
            )
        else:
            items.append(render("<span>{t}</span>", t=_t(lang, "uploading")))
    return render('<div class="ph">{items}</div>', items=join(items))


def _materials(e: Entry, lang: str) -> Safe:
    if not e.materials:
        return EMPTY
    sep = "、" if lang == "zh" else ", "
    text = sep.join(f"{name} ×{qty:g}{unit}" for name, qty, unit in e.materials)
    return render('<p class="mut">{label}: {text}</p>', label=_t(lang, "materials"), text=text)


def timeline(view: OwnerView, base: str, lang: str) -> Safe:
    items: list[Safe] = []
    last_day = None
    for i, e in enumerate(view.entries):
        d = day(e.at, lang)
        if d != last_day:
            items.append(render('<li class="d">{d}</li>', d=d))
            last_day = d
        title = entry_title(e, view, lang)
        body = []
        if title:
            body.append(render("<b>{t}</b>", t=title))
        if e.note:
            body.append(render("<p>{n}</p>", n=e.note) if title else render("<b>{n}</b>", n=e.note))
        body.append(_materials(e, lang))
        body.append(_photos(e, base, lang))
        items.append(
            render(
                '<li{cls}><time datetime="{iso}">{hm}</time>{body}</li>',
                cls=Safe(' class="last"') if i == len(view.entries) - 1 else EMPTY,
                iso=e.at.isoformat(),
                hm=hhmm(e.at),
                body=join(body),
            )
        )
    return join(items)


def _bar(view: OwnerView, lang: str) -> Safe:
    if view.status not in STAGE_OF:
        return EMPTY
    reached = STAGE_OF[view.status]
    labels = _t(lang, "steps_done").split(",")
    items = []
    for i, label in enumerate(labels):
        cls = "on now" if i == reached else ("on" if i < reached else "")
        items.append(render('<li class="{c}">{l}</li>', c=cls, l=label))
    return render('<ol class="bar">{i}</ol>', i=join(items))


def _people(view: OwnerView, lang: str) -> Safe:
    rows = []
    for c in view.contacts:
        call = render('<a class="call" href="{h}">{t}</a>', h=tel_href(c.phone), t=_t(lang, "call")) if c.phone else ""
        rows.append(
            render(
                '<div class="row"><span class="k">{k}</span><span class="v">{n}</span>{call}</div>',
                k=_t(lang, "technician" if c.role == "technician" else "steward"),
                n=c.name,
                call=call,
            )
        )
    if view.eta is not None:
        rows.append(
            render(
                '<div class="row"><span class="k">{k}</span><span class="v">{v}</span></div>',
                k=_t(lang, "eta"),
                v=day_time(view.eta, lang),
            )
        )
    if view.rating_level:
        comment = render('<br><span class="mut">{c}</span>', c=view.rating_comment) if view.rating_comment else EMPTY
        rows.append(
            render(
                '<div class="row"><span class="k">{k}</span><span class="v">{v}{c}</span></div>',
                k=_t(lang, "your_rating"),
                v=i18n.RATING[lang].get(view.rating_level, view.rating_level),
                c=comment,
            )
        )
    if not rows:
        return EMPTY
    return render('<section class="card">{rows}</section>', rows=join(rows))


def _rating_form(view: OwnerView, base: str, lang: str) -> Safe:
    if not view.can_rate:
        return EMPTY
    levels = join(
        render(
            '<label><input type="radio" name="level" value="{v}" required><span>{t}</span></label>',
            v=value,
            t=label,
        )
        for value, label in i18n.RATING[lang].items()
    )
    return render(
        RATING_FORM,
        action=f"{base}/rating",
        lang=lang,
        title=_t(lang, "rate_title"),
        levels=levels,
        comment=_t(lang, "comment"),
        submit=_t(lang, "submit_rating"),
    )


def status_label(view: OwnerView, lang: str) -> str:
    label = i18n.STATUS[lang].get(view.status, view.status)
    if view.status == "paused" and view.pause_reason:
        sep = "：" if lang == "zh" else ": "
        label += sep + i18n.PAUSE[lang].get(view.pause_reason, "")
    return label


def progress_page(view: OwnerView, *, token: str, lang: str) -> str:
    """The whole page; ``NOTICE_MARK`` stands where a one-off notice (after rating) may go."""
    base = f"/p/{token}"
    other = "en" if lang == "zh" else "zh"
    sub = [i18n.KIND[lang].get(view.kind, ""), i18n.CATEGORY[lang].get(view.category, "")]
    if view.household or view.location:
        sub.append(view.household or view.location)
    expires = ""
    if view.expires_at is not None:
        expires = _t(lang, "expires").format(date=day(view.expires_at, lang)) + " · "
    body = render(
        PAGE,
        no_label=_t(lang, "order_no"),
        number=view.number,
        switch_href=f"{base}?lang={other}",
        switch=_t(lang, "switch"),
        status=status_label(view, lang),
        subtitle=" · ".join(s for s in sub if s),
        bar=_bar(view, lang),
        notice=Safe(NOTICE_MARK),
        description=view.description,
        people=_people(view, lang),
        progress=_t(lang, "progress"),
        timeline=timeline(view, base, lang),
        rating=_rating_form(view, base, lang),
        expires=expires,
        self_href=f"{base}?lang={lang}",
        refresh=_t(lang, "refresh"),
        sms_href=f"{base}/sms?lang={lang}",
        sms=_t(lang, "sms_settings"),
        auto=_t(lang, "auto_refresh"),
        script=Safe(POLL_SCRIPT),
    )
    return document(
        title=f"{_t(lang, 'title')} {view.number}",
        body=body,
        lang=lang,
        css=PAGE_CSS,
        attrs=render(' data-v="{v}"', v=view_version(view)),
    )


NOTICES = {
    "reported": "reported",
    "thanks": "thanks",
    "already": "already_rated",
    "pick": "pick_level",
    "not_ratable": "not_ratable",
    "comment_too_long": "comment_too_long",
    "comment_bad_text": "comment_bad_text",
}


def notice(kind: str | None, lang: str, *, follow_up: bool = False) -> Safe:
    key = NOTICES.get(kind or "")
    if key is None:
        return EMPTY
    text = _t(lang, key)
    if kind == "thanks" and follow_up:
        text += " " + _t(lang, "follow_up")
    cls = "card note" if kind in ("thanks", "already", "reported") else "card note bad"
    return render('<section class="{c}" role="status">{t}</section>', c=cls, t=text)


def view_version(view: OwnerView) -> str:
    """Changes whenever anything shown changes (a record, a photo arriving, a contact, the ETA).

    The same in every process: sets are sorted (their iteration order follows the hash seed)."""
    plain = replace(view, photos=frozenset(), pending=frozenset())
    canonical = repr((plain, sorted(view.photos), sorted(view.pending)))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


MESSAGE = compact(
    """
<main>
<header class="top"><h1>{title}</h1></header>
<section class="card"><p>{body}</p>{extra}</section>
</main>
"""
)


def message_page(*, title: str, body: str, lang: str, extra: Safe = EMPTY) -> str:
    return document(title=title, body=render(MESSAGE, title=title, body=body, extra=extra), lang=lang)


def not_found_page(lang: str) -> str:
    return message_page(title=_t(lang, "not_found_title"), body=_t(lang, "not_found_body"), lang=lang)


def error_page(lang: str, body: str | None = None) -> str:
    return message_page(title=_t(lang, "error_title"), body=body or _t(lang, "error_body"), lang=lang)
