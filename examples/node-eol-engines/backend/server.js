// Distilled from github.com/thelarrywei/blouses at 836a5458c53f54678b75d51424fe7e93452d7bb5 (backend/server.js):
// an Express server in a package.json that pins "engines": {"node": "7.0.0"}.
const express = require("express");

const app = express();
app.get("/", (req, res) => res.send(`hello from node ${process.versions.node.split(".")[0]}`));
app.listen(process.env.PORT || 3000);
