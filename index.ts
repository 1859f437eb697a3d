import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { App, loadConfig } from "./components";

// The composition root: read and validate the stack's config (nothing exists until it is valid),
// create the app, export what a user needs.

/** Whether a config key was set with --secret (the SDK knows but does not declare it in its types). */
function isSecret(key: string): boolean {
    const check = (pulumi.runtime as unknown as { isConfigSecret?: (key: string) => boolean }).isConfigSecret;
    return check ? check(key) : true;
}

// Paths in the config are relative to the project folder, where the program runs (tools/launch goes
// there); the image builds get it as an absolute path, since the engine runs their provider elsewhere.
const projectRoot = process.cwd();

const stack = pulumi.getStack();
const stackFile = path.resolve(projectRoot, `Pulumi.${stack}.yaml`);

const config = loadConfig(pulumi.runtime.allConfig(), {
    stack,
    stackFileText: fs.existsSync(stackFile) ? fs.readFileSync(stackFile, "utf8") : undefined,
    isSecret,
    fileExists: (relative) => fs.existsSync(path.resolve(projectRoot, relative)),
});

const app = new App(config.appName, { ...config, projectRoot });

export const url = app.url;
export const namespace = app.namespace;
export const frontendImage = app.images.frontend;
export const backendImage = app.images.backend;
export const databaseImage = app.images.database;
