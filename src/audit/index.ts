/** The audit log's writers: denials and guardrail actions (batched), and the guard entry point. */
export { startAudit, type AuditLogSink, type RunningAudit, type StartAuditOptions } from './audit-writer.js';
export { recordGuardAction, guardActionChannel, type GuardActionEvent } from './guard-actions.js';
export { describeAdminAction, type AdminActionDescription } from './admin-actions.js';
