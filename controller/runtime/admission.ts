// A removal gate's answer to one removal; its own file so the reconcilers' types can name it
// without importing the gate (which reads the reconciler registry).
export type Admission = { allowed: true } | { allowed: false; code: 'VK_DELETE_GRACE' | 'VK_DELETE_GUARD'; message: string; retryAfterMs?: number };
