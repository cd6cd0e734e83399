// Strings of the answer library's proposals and the call screen's suggestions and draft.
import { extend } from "../i18n";

extend({
  zh: {
    c_answer_count: "共 {n} 条", c_propose: "提议新话术", c_propose_edit: "提议修改", c_proposal_sent: "已提交，等待主管审核",
    c_my_proposals: "我的提议", c_review_queue: "待审核的提议", c_proposal_of: "修改：",
    ans_status_proposed: "待审核", ans_status_approved: "已通过", ans_status_applied: "已通过（已并入原话术）", ans_status_rejected: "已驳回",
    c_approve: "通过", c_reject: "驳回", c_reject_reason: "驳回原因（提议人可见）", c_approved: "已通过，前台即可使用",
    c_rejected: "已驳回", c_review_reason: "原因", c_proposed_by: "提议人", c_submit_proposal: "提交审核",
    c_suggested: "匹配的标准话术", c_suggest_none: "没有匹配的话术，可以到话术库搜索或提议新话术",
    c_fill_reply: "填入答复", c_reply_given: "答复内容（记入工单）",
    c_draft_kept: "已恢复未保存的来电草稿", c_discard_draft: "放弃草稿", c_confirm_discard: "放弃这通来电的草稿？已填写的内容会清空。",
    e_proposal_reviewed: "这条提议已经审核过了", e_proposal_target_gone: "要修改的话术已被删除",
    e_reason_required: "请填写驳回原因", e_not_found: "没有找到这条记录，可能已被处理", e_forbidden: "您没有这个操作的权限",
    e_validation_error: "填写的内容不完整，请检查", e_company_wide_admin_only: "公司统一话术只能由管理员修改，可为本项目另建一条",
  },
  en: {
    c_answer_count: "{n} answers", c_propose: "Propose an answer", c_propose_edit: "Propose a change", c_proposal_sent: "Sent for the supervisor's review",
    c_my_proposals: "My proposals", c_review_queue: "Proposals to review", c_proposal_of: "Change of: ",
    ans_status_proposed: "Waiting", ans_status_approved: "Approved", ans_status_applied: "Approved (merged)", ans_status_rejected: "Rejected",
    c_approve: "Approve", c_reject: "Reject", c_reject_reason: "Reason (the proposer sees it)", c_approved: "Approved: the desk can use it",
    c_rejected: "Rejected", c_review_reason: "Reason", c_proposed_by: "Proposed by", c_submit_proposal: "Send for review",
    c_suggested: "Matching standard answers", c_suggest_none: "No matching answer: search the library or propose one",
    c_fill_reply: "Use as reply", c_reply_given: "Reply given (kept on the order)",
    c_draft_kept: "Unsaved call draft restored", c_discard_draft: "Discard draft", c_confirm_discard: "Discard this call's draft? What was typed is cleared.",
    e_proposal_reviewed: "This proposal was already reviewed", e_proposal_target_gone: "The answer to change was deleted",
    e_reason_required: "Give a reason for the rejection", e_not_found: "Not found: it may have been handled already", e_forbidden: "You may not do this",
    e_validation_error: "Something is missing: please check the form", e_company_wide_admin_only: "Company answers are kept by the admin: add one for your estate",
  },
});
