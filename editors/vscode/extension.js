// The kycrules extension: highlighting comes from the TextMate grammar; this
// starts the language server, `kycrules lsp`, for `.rules` files.
"use strict";

const vscode = require("vscode");
const { LanguageClient } = require("vscode-languageclient/node");

let client;

function settings() {
  const config = vscode.workspace.getConfiguration("kycrules");
  return {
    sample: config.get("sample") || null,
    debounceMs: config.get("debounceMs"),
  };
}

function activate(context) {
  const command = vscode.workspace.getConfiguration("kycrules").get("server.path") || "kycrules";
  const server = { command, args: ["lsp"] };
  client = new LanguageClient(
    "kycrules",
    "kycrules language server",
    { run: server, debug: server },
    {
      documentSelector: [{ scheme: "file", language: "kycrules" }],
      initializationOptions: settings(),
      synchronize: { configurationSection: "kycrules" },
    },
  );
  context.subscriptions.push({ dispose: () => client && client.stop() });
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
