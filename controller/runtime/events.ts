// What the reconciler reports as it works: actions started and finished, progress, errors,
// and status changes. The CLI renders them; in Kubernetes they become Events.
export type ReconcileEvent =
  | { type: 'action'; key: string; phase: 'start' | 'done' | 'failed'; action: string; summary: string; message?: string }
  | { type: 'progress'; key: string; action: string; percent?: number; message?: string }
  | { type: 'status'; key: string; phase?: string; ready?: string; message?: string }
  | { type: 'refused'; key: string; code: string; message: string }
  | { type: 'error'; key: string; code: string; message: string; retrying: boolean };

export type EventSink = (e: ReconcileEvent) => void;
