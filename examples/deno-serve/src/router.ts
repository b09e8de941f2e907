// Distilled from github.com/Pepegakac123/deno-link-shortener@467a12f44cb57f7d40cd89cf6ab7431dd3642387
// (src/router.ts): a small router whose handler the entry exports.
type Handler = (req: Request) => Response | Promise<Response>;

export class Router {
  #routes = new Map<string, Handler>();

  get(path: string, handler: Handler) {
    this.#routes.set(`GET ${path}`, handler);
  }

  handler(req: Request): Response | Promise<Response> {
    const route = this.#routes.get(`${req.method} ${new URL(req.url).pathname}`);
    return route ? route(req) : new Response("not found", { status: 404 });
  }
}
