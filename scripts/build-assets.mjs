// Builds the NHS.UK front-end into static/dist (git-ignored), served by WhiteNoise.
// The NHS.UK font face is compiled out: its files live on an NHS host that our CSP
// does not allow, so pages fall back to Arial (see README, "Front end").
import { cpSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as sass from "sass";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const nhsuk = join(root, "node_modules", "nhsuk-frontend", "dist", "nhsuk");
const out = join(root, "static", "dist");

mkdirSync(out, { recursive: true });
const css = sass.compile(join(root, "static", "src", "main.scss"), {
  loadPaths: [join(root, "node_modules")],
  style: "compressed",
  quietDeps: true,
  silenceDeprecations: ["import", "global-builtin"],
});
writeFileSync(join(out, "main.css"), css.css);
cpSync(join(nhsuk, "nhsuk-frontend.min.js"), join(out, "nhsuk-frontend.min.js"));
cpSync(join(nhsuk, "assets"), join(out, "assets"), { recursive: true });
cpSync(join(root, "static", "src", "app.mjs"), join(out, "app.mjs"));
cpSync(join(root, "static", "src", "report-progress.mjs"), join(out, "report-progress.mjs"));
console.log(`assets built in ${out}`);
