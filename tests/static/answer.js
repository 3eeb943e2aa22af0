// Answers queries with the browser's search script under Node.js, from a built site's
// static index: `node answer.js SITE < queries.json` → one /api/search document per query
// string (a query string of /search/), as JSON lines.  tests/test_static_search.py uses it.
"use strict";
const fs = require("fs");
const path = require("path");
const engine = require("../../templates/static/search-engine.js");

async function main() {
  const site = process.argv[2];
  const queries = JSON.parse(fs.readFileSync(0, "utf8"));
  const load = async (url) => {
    try {
      const data = fs.readFileSync(path.join(site, url));
      return data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength);
    } catch (e) {
      return null;
    }
  };
  const search = await engine.open(load);
  for (const qs of queries) {
    let doc;
    try {
      doc = await search.search(qs);
    } catch (e) {
      doc = e instanceof engine.ParamError ? { error: e.message } : { crash: String(e.stack) };
    }
    process.stdout.write(JSON.stringify(doc) + "\n");
  }
}
main();
