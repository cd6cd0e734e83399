"""园区周报: the weekly estate bulletin a team lead drafts and publishes for the owners' WeChat groups.

Per estate and China-time week (Monday–Sunday): the repairs completed that week (counts by
category, a few notable ones chosen by the team lead with an after photo), the works planned for the
next week (停水, 电梯维保 …) and a short note. Published, it is a public page (/w/<token>, no login,
no JavaScript needed) and a PNG for the groups; the figures are frozen when it is published.
"""
