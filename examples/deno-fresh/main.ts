// Distilled from github.com/denoland/saaskit at 9817d7013234c835172e6c999dcbf810983efce6 (main.ts): Fresh 1,
// whose `start` task runs dev.ts with --watch; main.ts is the production entry, `build` prebuilds _fresh/.
/// <reference no-default-lib="true" />
/// <reference lib="dom" />
/// <reference lib="deno.ns" />

import { start } from "$fresh/server.ts";
import manifest from "./fresh.gen.ts";
import config from "./fresh.config.ts";

await start(manifest, config);
