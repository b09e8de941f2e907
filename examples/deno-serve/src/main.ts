// Distilled from github.com/Pepegakac123/deno-link-shortener@467a12f44cb57f7d40cd89cf6ab7431dd3642387
// (src/main.ts): the entry exports its fetch handler for `deno serve`; deno.json has only a watching dev task,
// whose flags (-A, --unstable-kv) the app needs. Deno.openKv only works with --unstable-kv.
import { Router } from "./router.ts";

const kv = await Deno.openKv(":memory:");
await kv.set(["greeting"], "hello from deno-serve");

const app = new Router();
app.get("/", async () => new Response((await kv.get<string>(["greeting"])).value ?? ""));

export default {
  fetch(req) {
    return app.handler(req);
  },
} satisfies Deno.ServeDefaultExport;
