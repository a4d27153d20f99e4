// `make vendor`: copies the browser libraries the page imports (yjs and y-websocket, with lib0 and y-protocols)
// from node_modules (installed from package-lock.json with `npm ci`) into client/vendor/, writes their import
// map into board.html and a manifest of versions and SHA-256s that tests/test_vendor.py checks against the
// lock file. The server serves these files as they are: `make run` never needs node.
//
// It walks the ES module graph from the entry specifiers, resolving bare ones with each package's "exports"
// (browser, module, import, default conditions), so only the files the page can reach are copied.

import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ENTRIES = ["yjs", "y-websocket"];
const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, "..", "..");
const modules = path.join(repo, "node_modules");

const pick = (target) => {
  if (typeof target === "string") return target;
  if (Array.isArray(target)) return pick(target[0]);
  for (const c of ["browser", "module", "import", "default"]) {
    if (target && c in target) {
      const found = pick(target[c]);
      if (found) return found;
    }
  }
  return null;
};

function packageOf(spec) {
  const parts = spec.split("/");
  return parts[0].startsWith("@") ? parts.slice(0, 2).join("/") : parts[0];
}

function resolveBare(spec) {
  const name = packageOf(spec);
  const sub = "." + spec.slice(name.length);
  const pkg = JSON.parse(fs.readFileSync(path.join(modules, name, "package.json"), "utf8"));
  let rel = null;
  if (pkg.exports) {
    const plain = typeof pkg.exports === "string" || !Object.keys(pkg.exports)[0].startsWith(".");
    rel = pick((plain ? { ".": pkg.exports } : pkg.exports)[sub]);
  }
  return path.join(modules, name, rel ?? (sub === "." ? pkg.module || pkg.main : sub));
}

const imports = {};
const files = new Set();
const queue = ENTRIES.map((spec) => [spec, null]);
while (queue.length > 0) {
  const [spec, from] = queue.shift();
  let file;
  if (spec.startsWith(".")) file = path.resolve(path.dirname(from), spec);
  else {
    if (imports[spec]) continue;
    file = resolveBare(spec);
    imports[spec] = `/static/vendor/${path.relative(modules, file)}`;
  }
  if (files.has(file)) continue;
  files.add(file);
  const source = fs.readFileSync(file, "utf8");
  const found = /(?:^|[;\n])\s*(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\s*['"]([^'"]+)['"]/g;
  for (const m of source.matchAll(found)) queue.push([m[1] ?? m[2], file]);
}

const vendor = here;
for (const entry of fs.readdirSync(vendor)) {
  if (!["update.mjs", "manifest.json"].includes(entry)) fs.rmSync(path.join(vendor, entry), { recursive: true });
}
const manifest = { packages: {}, files: {}, imports: Object.fromEntries(Object.entries(imports).sort()) };
for (const file of [...files].sort()) {
  const rel = path.relative(modules, file);
  fs.mkdirSync(path.dirname(path.join(vendor, rel)), { recursive: true });
  fs.copyFileSync(file, path.join(vendor, rel));
  manifest.files[rel] = crypto.createHash("sha256").update(fs.readFileSync(file)).digest("hex");
  const name = packageOf(rel);
  const pkg = JSON.parse(fs.readFileSync(path.join(modules, name, "package.json"), "utf8"));
  manifest.packages[name] = { version: pkg.version, license: pkg.license };
}
for (const name of Object.keys(manifest.packages)) {
  for (const licence of ["LICENSE", "LICENSE.md", "LICENSE.txt"]) {
    const at = path.join(modules, name, licence);
    if (fs.existsSync(at)) fs.copyFileSync(at, path.join(vendor, name, licence));
  }
}
fs.writeFileSync(path.join(vendor, "manifest.json"), JSON.stringify(manifest, null, 1) + "\n");

const page = path.join(repo, "client", "board.html");
const map = `<script type="importmap">${JSON.stringify({ imports: manifest.imports })}</script>`;
const html = fs.readFileSync(page, "utf8").replace(/<script type="importmap">.*?<\/script>/s, map);
fs.writeFileSync(page, html);
console.log(`${files.size} files of ${Object.keys(manifest.packages).length} packages in client/vendor/`);
