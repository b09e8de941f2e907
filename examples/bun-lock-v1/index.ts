// Distilled from github.com/launchr-templates/bun-api-hono at ed7b433155d09c450238f6aa01615ad15d1acfc6 (index.ts):
// a Hono API on Bun whose bun.lock (lockfileVersion 1) was written by Bun 1.2.
import { Hono } from "hono";

const app = new Hono();
app.get("/", (c) => c.json({ message: "hello from hono on bun " + Bun.version }));

export default { port: Number(process.env.PORT ?? 3000), fetch: app.fetch };
