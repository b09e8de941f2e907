// Distilled from github.com/pauloh-fm/projetoBUN at 599e8e9f46e4d769d129bf786327a4a845b1e317 (index.ts):
// a Bun server with bun.lockb and no package.json, listening on a hard-coded port.
const server = Bun.serve({
  port: 3000,
  fetch() {
    return new Response("hello from bun without package.json");
  },
});

console.log(`Listening on localhost:${server.port}`);
