// Checks Kubernetes objects against the API's own OpenAPI schemas, offline: kubernetes-models ships
// them (with the ajv validators compiled from them). ESM only, hence a script of its own: reads a JSON
// array of objects on stdin, writes a JSON array of `{ kind, name, error }` (error null when valid).
const input = JSON.parse(await new Promise((resolve) => {
  let text = '';
  process.stdin.on('data', (chunk) => { text += chunk; });
  process.stdin.on('end', () => resolve(text));
}));
const results = [];
for (const object of input) {
  const [group, version] = object.apiVersion.includes('/') ? object.apiVersion.split('/') : [undefined, object.apiVersion];
  const modulePath = `kubernetes-models/${group ? `${group}/` : ''}${version}/${object.kind}`;
  let error = null;
  try {
    const { [object.kind]: Model } = await import(modulePath);
    new Model(object).validate();
  } catch (caught) {
    error = caught instanceof Error ? caught.message : String(caught);
  }
  results.push({ kind: object.kind, name: object.metadata?.name ?? null, error });
}
process.stdout.write(JSON.stringify(results));
