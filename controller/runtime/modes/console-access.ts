// Who is asking for a console, and may they: the caller's bearer token goes to a TokenReview
// and the user it names to a SubjectAccessReview, both made with the controller's own
// credentials, as KubeVirt gates `virtualmachineinstances/vnc`. Nothing is cached: every
// request is reviewed afresh, so a revoked token or a removed RoleBinding counts at once.
import { KubeForbiddenError } from '../../sources/kube-errors.ts';
import type { KubeRest } from '../../sources/kube-rest.ts';
import { ConsoleForbiddenError, ConsoleReviewDeniedError, ConsoleUnauthenticatedError } from './console-errors.ts';

export interface ReviewedUser {
  username: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
}

/** What the console asks the authoriser for: `create virtualmachines/console` in the VM's namespace. */
export const CONSOLE_ATTRIBUTES = { group: 'virtkeeper.io', resource: 'virtualmachines', subresource: 'console', verb: 'create' } as const;

interface TokenReview {
  status?: { authenticated?: boolean; user?: ReviewedUser; error?: string };
}

interface SubjectAccessReview {
  status?: { allowed?: boolean; denied?: boolean; reason?: string };
}

/** A review the controller's own RBAC does not allow: a setup problem, said as one. */
async function review<T>(rest: KubeRest, kind: 'tokenreviews' | 'subjectaccessreviews', path: string, body: unknown): Promise<T> {
  try {
    return await rest.call<T>('POST', path, body);
  } catch (e) {
    if (e instanceof KubeForbiddenError && e.status === 403)
      throw new ConsoleReviewDeniedError(
        `the controller may not create ${kind}: apply manifests/rbac.yaml again (its ClusterRole virtkeeper-controller allows tokenreviews and subjectaccessreviews)`,
        { cause: e },
      );
    throw e;
  }
}

/** The bearer token of an Authorization header, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return m?.[1];
}

export async function authenticate(rest: KubeRest, token: string | undefined): Promise<ReviewedUser> {
  if (!token) throw new ConsoleUnauthenticatedError('no bearer token: send `Authorization: Bearer <token>` (virtkeeper console --kubeconfig takes it from the kubeconfig)');
  const answer = await review<TokenReview>(rest, 'tokenreviews', '/apis/authentication.k8s.io/v1/tokenreviews', {
    apiVersion: 'authentication.k8s.io/v1',
    kind: 'TokenReview',
    spec: { token },
  });
  const user = answer.status?.user;
  // The review's error text may quote the token's claims; it is not passed on.
  if (!answer.status?.authenticated || !user?.username)
    throw new ConsoleUnauthenticatedError('the API server does not accept this token (expired or revoked?); get a fresh one, e.g. `kubectl create token NAME -n NAMESPACE`');
  return user;
}

export async function authorize(rest: KubeRest, user: ReviewedUser, target: { namespace: string; name: string }): Promise<void> {
  const answer = await review<SubjectAccessReview>(rest, 'subjectaccessreviews', '/apis/authorization.k8s.io/v1/subjectaccessreviews', {
    apiVersion: 'authorization.k8s.io/v1',
    kind: 'SubjectAccessReview',
    spec: {
      user: user.username,
      ...(user.uid ? { uid: user.uid } : {}),
      ...(user.groups ? { groups: user.groups } : {}),
      ...(user.extra ? { extra: user.extra } : {}),
      resourceAttributes: { ...CONSOLE_ATTRIBUTES, namespace: target.namespace, name: target.name },
    },
  });
  if (answer.status?.allowed === true) return;
  const { verb, resource, subresource, group } = CONSOLE_ATTRIBUTES;
  throw new ConsoleForbiddenError(
    `${user.username} may not ${verb} ${resource}/${subresource} (${group}) in namespace ${target.namespace}; ask for a RoleBinding to the ClusterRole virtkeeper-console-user there (manifests/console-user.yaml)`,
  );
}
