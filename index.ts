import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { App, ConfigError, loadConfig } from "./components";

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

/** The stack's config; its problems reach the Pulumi CLI as a RunError, which it prints without a stack trace. */
function stackConfig() {
    try {
        return loadConfig(pulumi.runtime.allConfig(), {
            stack,
            stackFileText: fs.existsSync(stackFile) ? fs.readFileSync(stackFile, "utf8") : undefined,
            isSecret,
            fileExists: (relative) => fs.existsSync(path.resolve(projectRoot, relative)),
        });
    } catch (error) {
        if (error instanceof ConfigError) throw new pulumi.RunError(error.message, { cause: error });
        throw error;
    }
}

const config = stackConfig();

const app = new App(config.appName, { ...config, projectRoot });

export const url = app.url;
export const namespace = app.namespace;
export const frontendImage = app.images.frontend;
export const backendImage = app.images.backend;
export const databaseImage = app.images.database;
