import * as grpc from "@grpc/grpc-js";
import { MockMonitor } from "@pulumi/pulumi/runtime/mocks";
import { RecordingMocks } from "../../tools/harness/mocks";

// The engine's side of a deployment, for `npm run bench`: a gRPC server on localhost that answers the
// ResourceMonitor and Engine services as `pulumi preview` does, so that a program can be started exactly
// as the language host starts it (`node @pulumi/pulumi/cmd/run --monitor <addr> --engine <addr> … main.js`,
// dev/testbed/langhost) and pay what a user's program pays: the runtime entry, its gRPC clients, and
// one round trip per resource. The provider's answers come from the harness's recording mocks (the SDK's
// MockMonitor behind a real wire), so the program does the same work as under the unit tests.
//
// A registration the engine has seen before, byte for byte, is answered with the bytes it answered then,
// as the real engine answers a no-op preview from its state: so the engine's side costs next to nothing
// after the warm-up run, and what is measured is the program's own process. (The real engine is slower
// per resource, if anything: it also asks the provider to check and diff. The `--engine` rows measure that.)

// The generated service definitions ship with the SDK, untyped.
/* eslint-disable @typescript-eslint/no-var-requires */
const resourceGrpc = require("@pulumi/pulumi/proto/resource_grpc_pb");
const resourceProto = require("@pulumi/pulumi/proto/resource_pb");
const engineGrpc = require("@pulumi/pulumi/proto/engine_grpc_pb");
const engineProto = require("@pulumi/pulumi/proto/engine_pb");
const emptyProto = require("google-protobuf/google/protobuf/empty_pb");

type Handler = grpc.handleUnaryCall<any, any>;

/** One run of a program as the fake engine saw it. */
export interface EngineRun {
    /** Resources registered, the root Stack included. */
    readonly resources: number;
    /** Messages the program logged at error severity (the engine would show them and fail). */
    readonly errors: readonly string[];
    /** DEBUG messages the program sent (the engine shows them only under --debug). */
    readonly debugMessages: number;
}

export interface FakeEngine {
    /** host:port of both services: `--monitor` and `--engine`. */
    readonly address: string;
    /** What the program run since the last call registered and logged; starts the next run afresh. */
    takeRun(): EngineRun;
    stop(): Promise<void>;
}

/** The ResourceMonitor service with RegisterResource's messages left as bytes, so that a known request is answered without decoding it. */
function replayingRegistrations(service: Record<string, any>): grpc.ServiceDefinition {
    const bytes = (buffer: Buffer) => buffer;
    return { ...service, registerResource: { ...service.registerResource, requestDeserialize: bytes, responseSerialize: bytes } };
}

/** What the program run since the last `takeRun` did, as the services see it. */
interface RunState {
    monitor: MockMonitor;
    errors: string[];
    debugMessages: number;
    registered: number;
    rootUrn: string;
}

/** A run's state from nothing: a fresh recording monitor whose URNs name `project` and `stack`. */
function freshRun(project: string, stack: string): RunState {
    const monitor = new MockMonitor(new RecordingMocks());
    // The SDK's MockMonitor reads the stack and project from its own process's settings; here they are the run's.
    (monitor as unknown as { newUrn: (parent: string, type: string, name: string) => string }).newUrn = (parent, type, name) => {
        const qualified = parent ? `${parent.split("::")[2].split("$").pop()}$${type}` : type;
        return `urn:pulumi:${stack}::${project}::${qualified}::${name}`;
    };
    return { monitor, errors: [], debugMessages: 0, registered: 0, rootUrn: "" };
}

const empty: Handler = (_call, callback) => callback(null, new emptyProto.Empty());
const unimplemented = (what: string): Handler => (_call, callback) => callback({ code: grpc.status.UNIMPLEMENTED, details: `the bench's fake engine does not do ${what}` });

/**
 * The ResourceMonitor service: the run's MockMonitor behind the wire. `answers` holds the answer to each
 * RegisterResource request seen, by its bytes, across runs.
 */
function monitorService(run: () => RunState, answers: Map<string, Buffer>): Record<string, Handler> {
    const forward = (method: keyof MockMonitor): Handler => (call, callback) => (run().monitor[method] as Function).call(run().monitor, call.request, callback);
    return {
        supportsFeature: (call, callback) => {
            // The MockMonitor's answer (every feature but output values), as a message.
            run().monitor.supportsFeature(call.request, (error: any, answer: { getHassupport(): boolean }) => {
                const response = new resourceProto.SupportsFeatureResponse();
                response.setHassupport(answer.getHassupport());
                callback(error, response);
            });
        },
        getDeploymentInfo: forward("getDeploymentInfo"),
        invoke: forward("invoke"),
        call: unimplemented("provider calls"),
        readResource: forward("readResource"),
        existsResource: forward("existsResource"),
        // Raw bytes both ways (see replayingRegistrations).
        registerResource: (call, callback) => {
            run().registered++;
            const key = (call.request as Buffer).toString("base64");
            const known = answers.get(key);
            if (known !== undefined) return callback(null, known);
            const request = resourceProto.RegisterResourceRequest.deserializeBinary(new Uint8Array(call.request));
            run().monitor.registerResource(request, (error: any, response: any) => {
                if (error) return callback(error);
                const bytes = Buffer.from(response.serializeBinary());
                answers.set(key, bytes);
                callback(null, bytes);
            });
        },
        // The engine keeps a component's outputs; nothing here reads them back.
        registerResourceOutputs: empty,
        registerStackTransform: empty,
        registerStackInvokeTransform: empty,
        registerResourceHook: empty,
        registerErrorHook: empty,
        registerPackage: forward("registerPackage"),
        signalAndWaitForShutdown: empty,
        streamInvoke: unimplemented("streamed invokes"),
    };
}

/** The Engine service: counts the run's errors and debug messages, keeps its root resource. */
function engineService(run: () => RunState): Record<string, Handler> {
    return {
        log: (call, callback) => {
            if (call.request.getSeverity() === engineProto.LogSeverity.ERROR) run().errors.push(call.request.getMessage());
            if (call.request.getSeverity() === engineProto.LogSeverity.DEBUG) run().debugMessages++;
            callback(null, new emptyProto.Empty());
        },
        getRootResource: (_call, callback) => {
            const response = new engineProto.GetRootResourceResponse();
            response.setUrn(run().rootUrn);
            callback(null, response);
        },
        setRootResource: (call, callback) => {
            run().rootUrn = call.request.getUrn();
            callback(null, new engineProto.SetRootResourceResponse());
        },
        startDebugging: empty,
        requirePulumiVersion: empty,
    };
}

/** Starts the fake engine on a free localhost port; URNs name `project` and `stack` (nothing reads them back). */
export async function startFakeEngine(project = "launchpad", stack = "bench"): Promise<FakeEngine> {
    let state = freshRun(project, stack);
    const current = () => state;
    const server = new grpc.Server();
    server.addService(replayingRegistrations(resourceGrpc.ResourceMonitorService), monitorService(current, new Map()));
    server.addService(engineGrpc.EngineService, engineService(current));
    const port = await new Promise<number>((resolve, reject) =>
        server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))));
    return {
        address: `127.0.0.1:${port}`,
        takeRun: () => {
            const run = { resources: state.registered, errors: state.errors, debugMessages: state.debugMessages };
            state = freshRun(project, stack);
            return run;
        },
        stop: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
    };
}
