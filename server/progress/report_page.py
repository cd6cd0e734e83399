"""The owner report form (/r/<grid token>) and its answers; plain HTML, works without JavaScript."""

from __future__ import annotations

from server.progress import i18n
from server.progress.html import EMPTY, Safe, compact, join, render
from server.progress.layout import document
from server.progress.report import OWNER_KINDS, Choices, PhotoProblem, ReportForm

WORDS = {
    "zh": {
        "title": "报事报修",
        "intro": "请填写您的房号和问题，提交后可随时查看处理进度。",
        "household": "房屋",
        "building": "楼栋",
        "unit": "单元",
        "room": "房号",
        "pick": "请选择",
        "kind": "类型",
        "category": "类别",
        "description": "问题描述",
        "description_ph": "例如：厨房水管漏水，已关总阀",
        "photos": "照片（选填，最多 3 张，每张不超过 8 MB）",
        "phone": "手机号",
        "name": "称呼（选填）",
        "submit": "提交",
        "fix": "请检查以下内容：",
        "emergency": "漏水、停电、电梯困人等紧急情况请直接致电管家或物业服务中心。",
        "switch": "English",
        "too_many_title": "提交太频繁",
        "too_many_body": "为防止滥用，同一手机号或网络的提交次数有限。"
        "请在 {minutes} 分钟后再试；紧急情况请直接致电管家。",
        "bad_link_title": "二维码无效",
        "bad_link_body": "这个报修二维码无法识别。请扫描楼栋或电梯厅张贴的最新二维码，或联系物业服务中心。",
        "too_large_title": "照片太大",
        "too_large_body": "上传的内容太大。每张照片不超过 8 MB，最多 3 张。请返回重新选择。",
    },
    "en": {
        "title": "Report a problem",
        "intro": "Tell us your flat and the problem; you can follow the progress after sending.",
        "household": "Flat",
        "building": "Building",
        "unit": "Unit",
        "room": "Room",
        "pick": "Choose",
        "kind": "Type",
        "category": "Category",
        "description": "What is the problem?",
        "description_ph": "e.g. the kitchen pipe leaks; main valve closed",
        "photos": "Photos (optional, up to 3, 8 MB each)",
        "phone": "Mobile number",
        "name": "Your name (optional)",
        "submit": "Send",
        "fix": "Please check:",
        "emergency": "For emergencies (leaks, power cuts, people stuck in a lift) "
        "call your steward or the service centre.",
        "switch": "中文",
        "too_many_title": "Too many reports",
        "too_many_body": "Reports per phone and network are limited. Please try again in {minutes} minutes; "
        "for emergencies call your steward.",
        "bad_link_title": "QR code not valid",
        "bad_link_body": "This report QR code is not recognised. "
        "Please scan the current poster or call the service centre.",
        "too_large_title": "Photos too large",
        "too_large_body": "The upload is too large: at most 3 photos of 8 MB each. Please go back and choose again.",
    },
}

ERRORS = {
    "zh": {
        "household_not_found": "没有找到这个房号，请重新选择楼栋、单元和房号。",
        "kind_invalid": "请选择类型。",
        "category_invalid": "请选择类别。",
        "description_required": "请描述问题。",
        "description_too_long": "问题描述请少于 1000 字。",
        "phone_invalid": "请填写 11 位手机号。",
        "name_too_long": "称呼请少于 20 字。",
        "too_many_photos": "最多上传 3 张照片。",
        "photo_too_large": "每张照片不超过 8 MB。",
        "not_an_image": "只能上传照片（JPEG、PNG 或 WebP）。",
        "photo_problems": "有照片不能使用，请重新选择。",
        "control_characters": "内容里有无法保存的特殊字符，请删除后重新填写。",
    },
    "en": {
        "household_not_found": "We could not find that flat; please choose building, unit and room again.",
        "kind_invalid": "Please choose a type.",
        "category_invalid": "Please choose a category.",
        "description_required": "Please describe the problem.",
        "description_too_long": "Please keep the description under 1000 characters.",
        "phone_invalid": "Please enter an 11-digit mainland mobile number.",
        "name_too_long": "Please keep the name under 20 characters.",
        "too_many_photos": "At most 3 photos.",
        "photo_too_large": "Each photo must be 8 MB or less.",
        "not_an_image": "Only photos (JPEG, PNG or WebP) can be uploaded.",
        "photo_problems": "Some photos cannot be used; please choose again.",
        "control_characters": "The text contains special characters that cannot be saved; please remove them.",
    },
}

# What is wrong with one photo, in words an owner understands (see report.PhotoProblem).
PHOTO_PROBLEMS = {
    "zh": {
        "photo": "第 {n} 张照片",
        "incomplete": "不完整（文件没有传完或已损坏），请重新拍摄或选择",
        "unsupported": "格式不支持，请选择 JPEG、PNG 或 WebP 照片",
        "too_large": "太大，每张照片不超过 8 MB",
    },
    "en": {
        "photo": "Photo {n}",
        "incomplete": " is incomplete (cut short or damaged); please take or choose it again",
        "unsupported": " is in a format we cannot take; please choose a JPEG, PNG or WebP photo",
        "too_large": " is too large: 8 MB at most per photo",
    },
}


def photo_problem_items(lang: str, problems: list[PhotoProblem]) -> Safe:
    words = PHOTO_PROBLEMS[lang]
    return join(
        render(
            '<li data-photo="{n}" data-problem="{code}">{photo}{name}{what}</li>',
            n=str(p.position),
            code=p.problem,
            photo=words["photo"].format(n=p.position),
            name=f"「{p.name}」" if p.name else "",
            what=words.get(p.problem, words["unsupported"]),
        )
        for p in problems
    )


FORM_CSS = Safe(
    "fieldset{border:0;margin:0;padding:0}legend{font-weight:600;padding:0}"
    ".fk{margin-top:12px}.fk legend{padding-bottom:6px}"
    ".grid3{display:grid;grid-template-columns:1fr 1fr 1fr;gap:6px}"
    ".kinds{display:grid;grid-template-columns:1fr 1fr;gap:8px}"
    ".kinds label{margin:0;font-weight:500}"
    ".kinds input{position:absolute;opacity:0;width:1px;height:1px}"
    ".kinds span{display:block;text-align:center;border:1px solid #d0d5dd;border-radius:10px;padding:10px 4px}"
    ".kinds input:checked+span{border-color:var(--a);background:#eff4ff;color:var(--a);font-weight:600}"
    ".kinds input:focus-visible+span{outline:2px solid var(--a)}"
    ".err{color:#b42318;font-size:14px;margin:4px 0 0}"
    ".hp{position:absolute;left:-10000px;width:1px;height:1px;overflow:hidden}"
    "form .btn{width:100%;margin-top:16px}"
    "input[type=file]{padding:8px;background:#f9fafb}"
    ".hd{display:flex;justify-content:space-between;font-size:13px}"
    ".hd a{text-decoration:none;border:1px solid rgba(255,255,255,.6);border-radius:12px;padding:1px 9px}"
)

FORM = compact(
    """
<main>
<header class="top">
<div class="hd"><span>{estate} · {grid}</span><a href="{switch_href}">{switch}</a></div>
<h1>{title}</h1>
<p class="sub">{intro}</p>
</header>
{summary}
<form class="card" method="post" action="{action}?lang={lang}" enctype="multipart/form-data">
<fieldset>
<legend>{household_label}</legend>
<div class="grid3">
<select name="building" aria-label="{building_label}" required>{buildings}</select>
<select name="unit" aria-label="{unit_label}" required>{units}</select>
<select name="room" aria-label="{room_label}" required>{rooms}</select>
</div>
{household_error}
</fieldset>
<fieldset class="fk">
<legend>{kind_label}</legend>
<div class="kinds">{kinds}</div>
{kind_error}
</fieldset>
<label for="category">{category_label}</label>
<select id="category" name="category" required>{categories}</select>
{category_error}
<label for="description">{description_label}</label>
<textarea id="description" name="description" rows="4" maxlength="1000" required
 placeholder="{description_ph}">{description}</textarea>
{description_error}
<label for="photos">{photos_label}</label>
<input id="photos" type="file" name="photos" accept="image/jpeg,image/png,image/webp" multiple>
{photos_error}
<label for="phone">{phone_label}</label>
<input id="phone" type="tel" name="phone" inputmode="numeric" autocomplete="tel" maxlength="20" required
 value="{phone}">
{phone_error}
<label for="name">{name_label}</label>
<input id="name" name="name" autocomplete="name" maxlength="20" value="{name}">
{name_error}
<div class="hp" aria-hidden="true"><label for="website">Website</label>
<input id="website" name="website" tabindex="-1" autocomplete="off" value=""></div>
<button class="btn" type="submit">{submit}</button>
<p class="mut">{emergency}</p>
</form>
</main>
"""
)


def _options(values: list[str], selected: str, pick: str) -> Safe:
    items = [render('<option value="">{p}</option>', p=pick)]
    for v in values:
        items.append(
            render('<option value="{v}"{s}>{v}</option>', v=v, s=Safe(" selected") if v == selected else EMPTY)
        )
    return join(items)


def form_page(
    *,
    estate: str,
    grid: str,
    action: str,
    choices: Choices,
    lang: str,
    form: ReportForm | None = None,
    errors: dict[str, str] | None = None,
    photo_problems: list[PhotoProblem] | None = None,
) -> str:
    w, err = WORDS[lang], ERRORS[lang]
    form = form or ReportForm(kind="repair")
    errors = errors or {}

    def field_error(name: str) -> Safe:
        if name == "photos" and errors.get(name) == "photo_problems":
            return render(
                '<div class="err" data-test="photo-problems">{m}<ul>{items}</ul></div>',
                m=err["photo_problems"],
                items=photo_problem_items(lang, photo_problems or []),
            )
        return render('<p class="err">{m}</p>', m=err[errors[name]]) if name in errors else EMPTY

    kinds = join(
        render(
            '<label><input type="radio" name="kind" value="{v}"{c} required><span>{t}</span></label>',
            v=k.value,
            c=Safe(" checked") if form.kind == k.value else EMPTY,
            t=i18n.KIND[lang][k.value],
        )
        for k in OWNER_KINDS
    )
    categories = [render('<option value="">{p}</option>', p=w["pick"])]
    for value, label in i18n.CATEGORY[lang].items():
        categories.append(
            render(
                '<option value="{v}"{s}>{t}</option>',
                v=value,
                s=Safe(" selected") if form.category == value else EMPTY,
                t=label,
            )
        )
    summary = EMPTY
    if errors:
        summary = render(
            '<section class="card note bad" role="alert"><b>{fix}</b> {items}</section>',
            fix=w["fix"],
            items=" ".join(err[code] for code in dict.fromkeys(errors.values())),
        )
    body = render(
        FORM,
        estate=estate,
        grid=grid,
        switch_href=f"{action}?lang={'en' if lang == 'zh' else 'zh'}",
        switch=w["switch"],
        title=w["title"],
        intro=w["intro"],
        summary=summary,
        action=action,
        lang=lang,
        household_label=w["household"],
        building_label=w["building"],
        unit_label=w["unit"],
        room_label=w["room"],
        buildings=_options(choices.buildings, form.building, w["building"]),
        units=_options(choices.units, form.unit, w["unit"]),
        rooms=_options(choices.rooms, form.room, w["room"]),
        household_error=field_error("household"),
        kind_label=w["kind"],
        kinds=kinds,
        kind_error=field_error("kind"),
        category_label=w["category"],
        categories=join(categories),
        category_error=field_error("category"),
        description_label=w["description"],
        description_ph=w["description_ph"],
        description=form.description,
        description_error=field_error("description"),
        photos_label=w["photos"],
        photos_error=field_error("photos"),
        phone_label=w["phone"],
        phone=form.phone,
        phone_error=field_error("phone"),
        name_label=w["name"],
        name=form.name,
        name_error=field_error("name"),
        submit=w["submit"],
        emergency=w["emergency"],
    )
    return document(title=f"{w['title']} · {estate}", body=body, lang=lang, css=FORM_CSS)


def too_many_page(lang: str, retry_after: int) -> str:
    from server.progress.page import message_page

    w = WORDS[lang]
    minutes = max(1, -(-retry_after // 60))
    return message_page(title=w["too_many_title"], body=w["too_many_body"].format(minutes=minutes), lang=lang)


def bad_link_page(lang: str) -> str:
    from server.progress.page import message_page

    w = WORDS[lang]
    return message_page(title=w["bad_link_title"], body=w["bad_link_body"], lang=lang)


def too_large_page(lang: str) -> str:
    from server.progress.page import message_page

    w = WORDS[lang]
    return message_page(title=w["too_large_title"], body=w["too_large_body"], lang=lang)
