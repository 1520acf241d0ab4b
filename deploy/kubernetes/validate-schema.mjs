// SPDX-License-Identifier: GPL-2.0-or-later
// Schema check of the manifests against the Kubernetes OpenAPI schemas shipped in the npm package
// kubernetes-models (offline once installed):
//   npm install --prefix /tmp/k8s kubernetes-models@5.1.0 yaml@2
//   cp validate-schema.mjs /tmp/k8s/ && node /tmp/k8s/validate-schema.mjs deploy/kubernetes/*.yaml
// (ES modules resolve packages next to the script, not through NODE_PATH).  Exit status 1 if a
// document is invalid.
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";
import { DaemonSet } from "kubernetes-models/apps/v1";
import { ConfigMap, Namespace } from "kubernetes-models/v1";
const kinds = { DaemonSet, ConfigMap, Namespace };
let bad = 0;
for (const f of process.argv.slice(2)) {
  for (const doc of parseAllDocuments(readFileSync(f, "utf8"), { uniqueKeys: true, strict: true })) {
    if (doc.errors.length) { console.log(f, "YAML error", doc.errors); bad++; continue; }
    const o = doc.toJS();
    try { new kinds[o.kind](o).validate(); console.log("ok", f, o.kind, o.metadata.name); }
    catch (e) { console.log("INVALID", f, e.message); bad++; }
  }
}
process.exit(bad ? 1 : 0);
