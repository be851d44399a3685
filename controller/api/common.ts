// Building blocks shared by the kinds' schemas. Every schema here is plain JSON Schema
// (typebox), so one definition serves ajv, the CRDs and the TypeScript types.
import { Type, type TSchema } from 'typebox';

export const GROUP = 'virtkeeper.io';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;

/** A Kubernetes quantity (`2Gi`, `40G`, `512Mi`, `1073741824`), normalised once by quantity.ts. */
export const Quantity = (description: string) =>
  Type.String({
    description,
    maxLength: 32,
    pattern: '^[0-9]+(\\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|k|K|M|G|T|P)?$',
    'x-vk-expected': 'a quantity such as 20Gi, 512Mi or 40G',
  });

/**
 * A name that ends up in a hypervisor's own syntax: a Proxmox property string (`bridge=vmbr0,tag=5`,
 * `local-lvm:10`), an API path (`/nodes/pve1/storage/local`), a libvirt volume or oVirt object
 * name. `,` and `=` would add properties of their own (`vmbr0,firewall=0`), `:` `/` `?` `#` `%`
 * change a volume id or a path, quotes and spaces an argument: refused before anything is touched.
 * (The pattern is read by ajv and by Kubernetes' RE2 alike: no \u escapes.)
 */
export const SafeName = (description: string) =>
  Type.String({ description, minLength: 1, maxLength: 128, pattern: '^[^,=;:/\\\\?#%"\'`\\s\\x00-\\x1f]+$', 'x-vk-expected': 'a name without , = ; : / \\ ? # % quotes or spaces' });

/** An image path or URL: a path goes into Proxmox's `import-from=`, so no `,`, space or control character. */
export const ImageRef = (description: string) =>
  Type.String({ description, minLength: 1, maxLength: 2048, pattern: '^[^,\\s\\x00-\\x1f]+$', 'x-vk-expected': 'an image path or URL without , or spaces' });

export const Name = (description: string) => Type.String({ description, minLength: 1, maxLength: 253, pattern: '^[a-z0-9]([-a-z0-9._@]*[a-z0-9])?$' });

export const Condition = Type.Object(
  {
    type: Type.String(),
    status: Type.Union([Type.Literal('True'), Type.Literal('False'), Type.Literal('Unknown')]),
    reason: Type.Optional(Type.String()),
    message: Type.Optional(Type.String()),
    observedGeneration: Type.Optional(Type.Integer()),
    lastTransitionTime: Type.Optional(Type.String({ format: 'date-time' })),
  },
  { additionalProperties: false },
);

export const Conditions = Type.Array(Condition, { 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'] });

export const ObjectMeta = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 253, pattern: '^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$' }),
    namespace: Type.Optional(Type.String({ minLength: 1, maxLength: 63 })),
    labels: Type.Optional(Type.Record(Type.String(), Type.String())),
    annotations: Type.Optional(Type.Record(Type.String(), Type.String())),
    generation: Type.Optional(Type.Integer()),
    uid: Type.Optional(Type.String()),
    resourceVersion: Type.Optional(Type.String()),
    creationTimestamp: Type.Optional(Type.String()),
    deletionTimestamp: Type.Optional(Type.String()),
    finalizers: Type.Optional(Type.Array(Type.String())),
  },
  { additionalProperties: true },
);

export const UpdatePolicy = Type.Union([Type.Literal('Live'), Type.Literal('RestartAllowed'), Type.Literal('NextBoot')], {
  description: 'Live: hot-plug only, else mark RestartRequired; RestartAllowed: restart to apply; NextBoot: stage until the next reboot.',
});
export const DeletionPolicy = Type.Union([Type.Literal('Delete'), Type.Literal('Orphan')], {
  description: 'Delete removes the object from the hypervisor when the resource goes; Orphan leaves it.',
});
export const DiskInterface = Type.Union([Type.Literal('virtio'), Type.Literal('virtio-scsi'), Type.Literal('sata'), Type.Literal('ide')]);
export const DiskFormat = Type.Union([Type.Literal('raw'), Type.Literal('qcow2')]);

/** A top-level resource: apiVersion, kind, metadata, spec and an optional status. */
export function Resource<K extends string, S extends TSchema, St extends TSchema>(kind: K, spec: S, status: St) {
  return Type.Object(
    {
      apiVersion: Type.Literal(API_VERSION),
      kind: Type.Literal(kind),
      metadata: ObjectMeta,
      spec,
      status: Type.Optional(status),
    },
    { additionalProperties: false },
  );
}

/** Marks a field immutable, enforced by admission (CEL) in Kubernetes and by `validate` against the last applied spec. */
export function Immutable<T extends TSchema>(schema: T): T {
  return { ...schema, 'x-kubernetes-validations': [{ rule: 'self == oldSelf', message: 'this field is immutable' }] };
}
