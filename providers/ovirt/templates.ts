// Templates on an oVirt engine: looked up by name (with the size of the boot disk), and made
// from an owned, stopped VM (`POST /templates`, waited for while the engine copies its disks).
import type { Target } from '../../controller/core/actions.ts';
import { RefusedError } from '../../controller/core/errors.ts';
import { parseOwner, sameOwner, type ActionContext, type TemplateClient, type TemplateFacts } from '../../controller/core/provider.ts';
import { arr, bool, nameSearch, num, obj, type Json } from './client.ts';
import type { OvirtSession } from './session.ts';
import { waitFor } from './wait.ts';

async function inspect(s: OvirtSession, name: string): Promise<TemplateFacts> {
  const t = arr((await s.api.get('/templates', { search: nameSearch(name) })).template).find((x) => x.name === name);
  if (!t) return { found: false };
  // The engine does not say whether the image has an agent or cloud-init: those stay unknown.
  // Its boot disk's size it does say.
  const attachments = arr((await s.api.get(`/templates/${String(t.id)}/diskattachments`, { follow: 'disk' })).disk_attachment);
  const boot = attachments.find((a) => bool(a.bootable)) ?? attachments[0];
  const size = boot ? num(obj(boot.disk).provisioned_size) : 0;
  return { found: String(t.status) !== 'illegal', providerID: String(t.id), ...(size ? { diskBytes: size } : {}) };
}

async function fromVM(s: OvirtSession, target: Target, name: string, ctx: ActionContext = {}): Promise<TemplateFacts> {
  let t: Json | undefined = arr((await s.api.get('/templates', { search: nameSearch(name) })).template).find((x) => x.name === name);
  if (!t) {
    const vm = await s.api.get(`/vms/${target.providerID}`);
    if (!target.owner || !sameOwner(parseOwner(String(vm.comment ?? '')), target.owner)) throw new RefusedError(`VM ${target.name} is not owned by this resource; it is never made a template`);
    if (String(vm.status) !== 'down') throw new RefusedError(`VM ${target.name} is ${String(vm.status)}; a template is made only from a stopped VM (set runStrategy: Halted)`);
    ctx.onProgress?.({ percent: 0, message: `making template ${name} from VM ${target.name}` });
    t = (
      await s.api.call<Json>('POST', '/templates', {
        body: { name, vm: { id: target.providerID }, description: `made by virtkeeper from VM ${target.name}` },
        query: { correlation_id: `vk-template-${name}` },
      })
    ).data;
  }
  const id = String(t.id);
  t = await waitFor(
    `template ${name}`,
    () => s.api.get(`/templates/${id}`),
    (x) => x.status !== 'locked',
    { ...(s.o.pollMs ? { pollMs: s.o.pollMs } : {}) },
    ctx,
  );
  ctx.onProgress?.({ percent: 100, message: `template ${name} is ${id}` });
  s.forgetLookups(); // VMs cloned from it must see the new template
  return { found: String(t.status) !== 'illegal', providerID: id };
}

export function ovirtTemplates(s: OvirtSession): TemplateClient {
  return {
    inspect: (name) => inspect(s, name),
    fromVM: (target, name, options) => {
      s.wrote(target.providerID);
      return fromVM(s, target, name, options).finally(() => s.wrote(target.providerID));
    },
  };
}
