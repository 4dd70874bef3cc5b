// Parses Mermaid diagrams with Mermaid's own parser and prints what it read, as JSON: for each
// diagram (a JSON array of texts on standard input) its type, vertices, edges and subgraphs, or
// the parser's error. Mermaid sanitizes labels with DOMPurify, which needs a DOM: jsdom's.
// Runs as its own process: Mermaid is an ES module, and Jest's module system is CommonJS.
const { JSDOM } = require("jsdom");

async function main() {
  const input = require("node:fs").readFileSync(0, "utf8");
  const diagrams = JSON.parse(input);
  const { window } = new JSDOM("");
  globalThis.window = window;
  globalThis.document = window.document;
  const { default: mermaid } = await import("mermaid");
  const results = [];
  for (const text of diagrams) {
    try {
      await mermaid.parse(text);
      const diagram = await mermaid.mermaidAPI.getDiagramFromText(text);
      const db = diagram.db;
      results.push({
        type: diagram.type,
        vertices: [...db.getVertices().values()].map((v) => ({ id: v.id, text: v.text, classes: v.classes })),
        edges: db.getEdges().map((e) => ({ start: e.start, end: e.end, text: e.text })),
        subgraphs: db.getSubGraphs().map((s) => ({ id: s.id, title: s.title, nodes: s.nodes })),
      });
    } catch (error) {
      results.push({ error: error instanceof Error ? error.message : String(error) });
    }
  }
  process.stdout.write(`${JSON.stringify(results)}\n`);
}

main().then(
  () => process.exit(0),
  (error) => {
    process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);
