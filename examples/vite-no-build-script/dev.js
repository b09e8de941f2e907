// Development only: vite serves the site while content is edited.
import { createServer } from "vite";

const server = await createServer({ root: "." });
await server.listen();
