import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import type {
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    StackValidationPolicy,
} from "@pulumi/policy";
import { ResourceRule } from "../../policy/rules";

// The proxy from the @pulumi/policy the pack itself loads: policy/node_modules once `npm --prefix policy ci`
// has run (as policy/README.md says), else the project's. Its errors are what the rules catch by class.
const { unknownCheckingProxy } = require(require.resolve("@pulumi/policy", { paths: [path.join(__dirname, "..", "..", "policy")] })) as typeof import("@pulumi/policy");

/**
 * Calls a rule the way the Pulumi engine does — props behind the engine's unknown-checking proxy, type
 * checks by type token — and collects what it reports, so tests need neither the CLI nor gRPC.
 */

/** A @pulumi/kubernetes resource class, e.g. `k8s.apps.v1.Deployment`. */
export type ResourceClass = new (...rest: any[]) => pulumi.Resource;

export interface Outcome {
    readonly violations: string[];
    /** The reason the rule gave for not applying, if it called `args.notApplicable`. */
    readonly notApplicable?: string;
}

export interface FakeResource {
    /** The resource's class, or its type token as the engine sends it. */
    readonly resourceClass: ResourceClass | string;
    readonly props: object;
    /** Pulumi resource name; defaults to the props' metadata.name. */
    readonly name?: string;
    /** Properties of the resource's explicit provider, if it has one. */
    readonly providerProps?: Record<string, unknown>;
}

class NotApplicable extends Error {}

/** The engine compares type tokens; @pulumi/kubernetes classes carry theirs in a static `__pulumiType`. */
export function typeTokenOf(resourceClass: ResourceClass): string {
    return (resourceClass as unknown as { __pulumiType: string }).__pulumiType;
}

const OPTIONS: PolicyResourceOptions = {
    protect: false,
    ignoreChanges: [],
    aliases: [],
    customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
    additionalSecretOutputs: [],
};

function describe(resource: FakeResource) {
    const type = typeof resource.resourceClass === "string" ? resource.resourceClass : typeTokenOf(resource.resourceClass);
    const name = resource.name ?? (resource.props as { metadata?: { name?: string } }).metadata?.name ?? "r";
    const props: Record<string, any> = unknownCheckingProxy(resource.props);
    return {
        type,
        name,
        props,
        urn: `urn:pulumi:test::launchpad::${type}::${name}`,
        opts: OPTIONS,
        provider: resource.providerProps === undefined ? undefined : {
            type: "pulumi:providers:kubernetes",
            name: "k8s",
            urn: "urn:pulumi:test::launchpad::pulumi:providers:kubernetes::k8s",
            props: unknownCheckingProxy(resource.providerProps),
        },
        isType: (cls: ResourceClass) => typeTokenOf(cls) === type,
        asType: (cls: ResourceClass) => (typeTokenOf(cls) === type ? props : undefined) as any,
    };
}

async function collect(run: (report: (message: string) => void) => Promise<void> | void): Promise<Outcome> {
    const violations: string[] = [];
    try {
        await run((message) => violations.push(message));
    } catch (e) {
        if (e instanceof NotApplicable) {
            return { violations, notApplicable: e.message };
        }
        throw e;
    }
    return { violations };
}

const notApplicable = (reason?: string): never => {
    throw new NotApplicable(reason);
};

/** Runs a resource rule on one resource; `config` plays the part of `--policy-pack-config`. */
export function validate(rule: ResourceRule, resource: FakeResource, config: object = {}): Promise<Outcome> {
    const args: ResourceValidationArgs = {
        ...describe(resource),
        stackTags: new Map(),
        getConfig: <T extends object>() => config as T,
        notApplicable,
    };
    return collect((report) => rule.validateResource(args, report));
}

/** Runs a stack rule over all `resources`. */
export function validateStack(rule: StackValidationPolicy, resources: FakeResource[]): Promise<Outcome> {
    const policyResources: PolicyResource[] = resources.map((r) => ({
        ...describe(r),
        dependencies: [],
        propertyDependencies: {},
    }));
    return collect((report) => rule.validateStack({
        resources: policyResources,
        stackTags: new Map(),
        getConfig: <T extends object>() => ({}) as T,
        notApplicable,
    }, report));
}

/** What the engine passes for a value another resource computes, during preview. */
export const UNKNOWN_DURING_PREVIEW: any = pulumi.runtime.unknownValue;
