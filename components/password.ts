import * as pulumi from "@pulumi/pulumi";
import { DynamicResource, dynamicType } from "./dynamicResource";

// A generated password as a Pulumi dynamic resource. Pulumi serializes the provider into the state and
// runs it in another process, so it uses only Node's built-ins, required inside the functions.

/** The type token Pulumi gives the Password resource. */
export const PASSWORD_TYPE = dynamicType("Password");

/** `length` characters drawn uniformly from A-Z, a-z and 0-9 (crypto.randomInt rejects out-of-range draws, so no modulo bias). */
export function randomAlphanumeric(length: number): string {
    const { randomInt } = require("node:crypto");
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let result = "";
    for (let i = 0; i < length; i++) result += alphabet[randomInt(alphabet.length)];
    return result;
}

/**
 * Creates the password once; it never changes afterwards (no diff ever reports a change), and delete
 * has nothing to remove.
 */
export const passwordProvider: pulumi.dynamic.ResourceProvider<{ length: number }, { length: number; result: string }> = {
    async create(inputs) {
        const { randomUUID } = require("node:crypto");
        return { id: randomUUID(), outs: { length: inputs.length, result: randomAlphanumeric(inputs.length) } };
    },
    async diff() {
        return { changes: false };
    },
    async delete() {
        // Nothing exists outside the state.
    },
};

export interface PasswordArgs {
    /** Characters. @default 32 */
    readonly length?: number;
}

/** A random alphanumeric password, a Pulumi secret from creation on, stable for the life of the stack. */
export class Password extends DynamicResource {
    declare public readonly result: pulumi.Output<string>;

    constructor(name: string, args: PasswordArgs = {}, opts?: pulumi.CustomResourceOptions) {
        super("Password", passwordProvider, name, { length: args.length ?? 32, result: undefined }, { ...opts, additionalSecretOutputs: ["result"] });
    }
}
