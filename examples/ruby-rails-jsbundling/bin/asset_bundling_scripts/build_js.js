require("esbuild").build({ entryPoints: ["app/javascript/application.js"], bundle: true, outdir: "app/assets/builds" })
