// VMTemplates: adopted, imported from an image or made from a VM (template-source.ts), then
// validated against what they must offer; the status carries one condition per requirement.
import { formatBytes, parseQuantity } from '../../api/quantity.ts';
import type { VMTemplate } from '../../api/types.ts';
import { templateName } from '../../core/desired.ts';
import { isoTime as iso, setCondition } from '../../core/status.ts';
import type { Progress, TemplateFacts } from '../../core/provider.ts';
import type { StatusRecord } from '../../status/writer.ts';
import { safeError } from '../../core/errors.ts';
import type { KindReconciler, ReconcileKit, ReconcileResult } from './types.ts';
import { resolveTemplateSource } from '../template-source.ts';
import { statusOf } from '../records.ts';

/** A template from its source, validated: one condition per requirement, and Ready (with its progress while it is made). */
export async function reconcileTemplate(k: ReconcileKit, key: string, t: VMTemplate, source: StatusRecord['source'], previous: StatusRecord | undefined): Promise<ReconcileResult> {
  const gen = t.metadata.generation ?? 1;
  const now = iso(k.o.now());
  const prev = statusOf('VMTemplate', previous);
  let conditions = prev?.conditions;
  const set = (type: string, ok: boolean | undefined, reason: string, message: string) => {
    conditions = setCondition(conditions, { type, status: ok === undefined ? 'Unknown' : ok ? 'True' : 'False', reason, message }, gen, now);
  };
  const name = templateName(t);
  let facts: TemplateFacts = { found: false };
  let problem: string | undefined;
  let problemReason = 'Unsupported';
  let intent: string | undefined;
  // An import or a copy shows its progress in status, written at most once a second.
  let progressWrite: Promise<void> = Promise.resolve();
  let lastProgressAt = 0;
  const onProgress = (p: Progress) => {
    k.emit({ type: 'progress', key, action: 'template', ...(p.percent !== undefined ? { percent: p.percent } : {}), ...(p.message ? { message: p.message } : {}) });
    if (k.o.dryRun || p.percent === undefined || k.o.now() - lastProgressAt < 1000) return;
    lastProgressAt = k.o.now();
    const st: NonNullable<VMTemplate['status']> = {
      ...(prev ?? {}),
      progress: p.percent,
      observedGeneration: gen,
      conditions: setCondition(prev?.conditions, { type: 'Ready', status: 'False', reason: 'InProgress', message: p.message ?? `${p.percent}%` }, gen, iso(k.o.now())),
    };
    progressWrite = progressWrite.then(() => k.writeRecord({ key, resource: t, status: st, source, lastApplied: previous?.lastApplied })).catch(() => undefined);
  };
  try {
    const conn = await k.connect(t.spec.hypervisor);
    const r = await resolveTemplateSource(t, { conn, store: k.o.store, dryRun: !!k.o.dryRun, onProgress, ...(k.o.instance ? { instance: k.o.instance } : {}) });
    facts = r.facts;
    problem = r.problem;
    problemReason = r.reason ?? problemReason;
    intent = r.intent;
  } catch (e) {
    problem = safeError(e).message;
    problemReason = safeError(e).code;
  }
  const req = t.spec.require ?? {};
  const failed: string[] = [];
  if (t.spec.node && facts.found && facts.node) {
    // Adopted "on the named node": a template elsewhere is not the one asked for.
    const here = facts.node === t.spec.node;
    set('Node', here, here ? 'OnNode' : 'OtherNode', here ? '' : `template ${name} is on ${facts.node}, not ${t.spec.node}`);
    if (!here) failed.push(`on ${facts.node}, not ${t.spec.node}`);
  }
  if (req.guestAgent) {
    set(
      'GuestAgent',
      facts.guestAgent,
      facts.guestAgent ? 'Enabled' : facts.guestAgent === false ? 'Disabled' : 'Unknown',
      facts.guestAgent === false ? `template ${name} does not enable the QEMU guest agent` : '',
    );
    if (facts.guestAgent === false) failed.push('guest agent disabled');
  }
  if (req.cloudInit) {
    set(
      'CloudInit',
      facts.cloudInit,
      facts.cloudInit ? 'DrivePresent' : facts.cloudInit === false ? 'NoDrive' : 'Unknown',
      facts.cloudInit === false ? `template ${name} has no cloud-init drive` : '',
    );
    if (facts.cloudInit === false) failed.push('no cloud-init drive');
  }
  if (req.minDisk) {
    const min = parseQuantity(req.minDisk);
    const ok = facts.diskBytes === undefined ? undefined : facts.diskBytes >= min;
    set('MinDisk', ok, ok ? 'LargeEnough' : ok === false ? 'TooSmall' : 'Unknown', ok === false ? `disk is ${formatBytes(facts.diskBytes ?? 0)}, less than ${req.minDisk}` : '');
    if (ok === false) failed.push(`disk smaller than ${req.minDisk}`);
  }
  const ready = !problem && facts.found && failed.length === 0;
  set(
    'Ready',
    ready,
    ready ? 'Valid' : problem ? problemReason : !facts.found ? 'NotFound' : 'RequirementsNotMet',
    ready ? `template ${name} is fit for cloning` : (problem ?? (!facts.found ? `template ${name} does not exist on ${t.spec.hypervisor}` : `template ${name}: ${failed.join(', ')}`)),
  );
  await progressWrite;
  const status: NonNullable<VMTemplate['status']> = {
    conditions,
    observedGeneration: gen,
    ...(facts.providerID ? { providerID: facts.providerID } : {}),
    ...(facts.availability?.length ? { availability: facts.availability } : facts.node ? { availability: [{ node: facts.node, ...(t.spec.storage ? { storage: t.spec.storage } : {}) }] } : {}),
    ...(facts.found && (t.spec.source.image || t.spec.source.fromVirtualMachine) ? { progress: 100 } : {}),
  };
  if (k.o.dryRun)
    return {
      ready,
      intents: intent
        ? [{ symbol: '+', summary: intent }]
        : ready
          ? []
          : [{ symbol: '~', summary: `template ${name} is not fit for cloning: ${conditions?.find((c) => c.type === 'Ready')?.message ?? ''}`, blocking: true }],
    };
  await k.writeRecord({ key, resource: t, status, source, lastApplied: t });
  k.emit({ type: 'status', key, ready: ready ? 'True' : 'False', message: conditions?.find((c) => c.type === 'Ready')?.message ?? '' });
  return { ready, requeueAfter: ready ? 300_000 : problemReason === 'Waiting' ? 3000 : 30_000 };
}

export const templateReconciler: KindReconciler<VMTemplate> = {
  kind: 'VMTemplate',
  removalDestroys: false,
  reconcile: (k, key, { resource, source }, previous) => reconcileTemplate(k, key, resource, source, previous),
};
