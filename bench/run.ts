// `npm run bench`: runs every benchmark in turn; each prints its own figures.
const which = process.argv[2];
const all = ['proxmox', 'proxmox-process', 'run-latency', 'drain', 'ovirt', ...(process.env.VK_LIBVIRT_URI_1 ? ['libvirt'] : []), ...(process.env.VK_KUBECONFIG ? ['kube'] : [])];
for (const name of which ? [which] : all) {
  console.log(`\n== bench/${name}`);
  await import(`./${name}.ts`);
}
