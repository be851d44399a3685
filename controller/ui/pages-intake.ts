// The request pages: the upload form, then the manifests and their plan with per-row errors,
// and the accept button.
import { stringify } from 'yaml';
import { html, type Html } from './html.ts';
import type { Accepted, IntakeRequest } from './intake.ts';

export function uploadForm(csrf: string, error?: string): Html {
  return html`<h1>Requests</h1>${error ? html`<p class="error" id="intake-error">${error}</p>` : ''}
<p>Upload a JSON request (the old <code>/create_vm</code> file) or a request spreadsheet (.xlsx): it is turned into manifests and shown with its plan before anything is written.</p>
<form method="post" action="/requests" enctype="multipart/form-data" id="upload"><input type="hidden" name="_csrf" value="${csrf}">
<input type="file" name="jsonfile" accept=".json,.xlsx,application/json" required> <button type="submit">Show the plan</button></form>`;
}

export const manifestsText = (r: IntakeRequest): string => r.documents.map((d) => stringify(d, { lineWidth: 0 })).join('---\n');

export function requestPage(r: IntakeRequest, csrf: string, accepted?: Accepted): Html {
  const plan = html`<table class="plan" id="plan"><thead><tr><th>Resource</th><th>Hypervisor</th><th>Action</th><th>Node</th><th>Detail</th></tr></thead><tbody>${r.plan.map(
    (p) =>
      html`<tr class="${p.action === 'error' ? 'row-error' : `row-${p.action}`}"><td>${p.kind} ${p.namespace ? `${p.namespace}/` : ''}${p.name}</td><td>${p.hypervisor ?? ''}</td><td>${p.action}</td><td>${p.node ?? ''}</td><td>${p.message}</td></tr>`,
  )}</tbody></table>`;
  const action = accepted
    ? html`<p id="accepted">Accepted: ${accepted.files ? `written to ${accepted.files.join(', ')}` : ''}${accepted.commit ? ` and committed (${accepted.commit.slice(0, 12)})` : ''}${
        accepted.created ? `created ${accepted.created.join(', ')} in the cluster` : ''
      }. The controller converges it as any other change.</p>`
    : r.acceptable
      ? html`<form method="post" action="/requests/${r.id}/accept" id="accept"><input type="hidden" name="_csrf" value="${csrf}"><button type="submit">Accept: write these manifests</button></form>`
      : html`<p class="error" id="not-acceptable">Nothing can be accepted until every row is right: fix the rows marked above and upload the request again.</p>`;
  return html`<h1>Request ${r.documentNumber ?? r.id}</h1><h2>Plan</h2>${plan}${action}<h2>Manifests</h2><pre class="spec" id="manifests">${manifestsText(r)}</pre><p><a href="/requests">upload another</a></p>`;
}
