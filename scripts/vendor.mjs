// Copy the pre-built front-end files ThinkFamily serves into web/static/vendor/.
// Plain Node, no dependencies. Run after `npm ci`:  npm run vendor
// web/static/vendor/ is build output: it is gitignored and never committed.

import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const MODULES = join(ROOT, "node_modules");
const VENDOR = join(ROOT, "web", "static", "vendor");

const GOVUK = join(MODULES, "govuk-frontend", "dist", "govuk");
const BPMN = join(MODULES, "bpmn-js", "dist");

// [source, destination relative to VENDOR]; a directory source is copied recursively.
const COPIES = [
  [join(GOVUK, "govuk-frontend.min.css"), "govuk-frontend/govuk-frontend.min.css"],
  [join(GOVUK, "govuk-frontend.min.js"), "govuk-frontend/govuk-frontend.min.js"],
  [join(GOVUK, "govuk-frontend.min.js.map"), "govuk-frontend/govuk-frontend.min.js.map"],
  [join(GOVUK, "assets"), "govuk-frontend/assets"],
  [join(BPMN, "bpmn-navigated-viewer.production.min.js"), "bpmn-js/bpmn-navigated-viewer.production.min.js"],
  [join(BPMN, "bpmn-modeler.production.min.js"), "bpmn-js/bpmn-modeler.production.min.js"],
  [join(BPMN, "assets", "diagram-js.css"), "bpmn-js/assets/diagram-js.css"],
  [join(BPMN, "assets", "bpmn-js.css"), "bpmn-js/assets/bpmn-js.css"],
  [join(BPMN, "assets", "bpmn-font", "css", "bpmn.css"), "bpmn-js/assets/bpmn-font/css/bpmn.css"],
  [join(BPMN, "assets", "bpmn-font", "font"), "bpmn-js/assets/bpmn-font/font"],
];

function copy(source, destination) {
  if (statSync(source).isDirectory()) {
    let count = 0;
    for (const entry of readdirSync(source)) {
      count += copy(join(source, entry), join(destination, entry));
    }
    return count;
  }
  mkdirSync(dirname(destination), { recursive: true });
  copyFileSync(source, destination);
  return 1;
}

function main() {
  const missing = COPIES.map(([source]) => source).filter((source) => !existsSync(source));
  if (missing.length > 0) {
    console.error(`vendor: missing ${missing.join(", ")}\nRun \`npm ci\` first.`);
    process.exit(1);
  }
  for (const name of ["govuk-frontend", "bpmn-js"]) {
    rmSync(join(VENDOR, name), { recursive: true, force: true });
  }
  let count = 0;
  for (const [source, destination] of COPIES) {
    count += copy(source, join(VENDOR, destination));
  }
  withoutGdsTransport();
  console.log(`vendor: copied ${count} files into ${VENDOR}`);
}

// ThinkFamily is not a GOV.UK service and must never load the GDS Transport typeface (its
// licence is for GOV.UK only): drop its @font-face rules and font files from the vendored copy.
// Without the rules a browser has nothing to download, even with JavaScript off.
function withoutGdsTransport() {
  const css = join(VENDOR, "govuk-frontend", "govuk-frontend.min.css");
  const original = readFileSync(css, "utf8");
  const stripped = original
    .replace(/@font-face\{[^}]*GDS Transport[^}]*\}/g, "")
    .replace(/\/\*# sourceMappingURL=[^*]*\*\//, "");
  if (/@font-face\{[^}]*GDS Transport/.test(stripped)) {
    console.error("vendor: could not remove the GDS Transport @font-face rules");
    process.exit(1);
  }
  writeFileSync(css, stripped);
  rmSync(join(VENDOR, "govuk-frontend", "assets", "fonts"), { recursive: true, force: true });
}

main();
