import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { UsageError } from "../cli";
import { processAlive } from "../../lib/process";
import { UpError } from "./errors";
import { KIND } from "../../lib/kind";
import { deleteKindPlatform, ensureKindPlatform, inspectKindPlatform, type KindPlatformOptions } from "./kind";
import { checkPrerequisites, formatProblems, type Need, type Problem, requiredTools } from "./prereqs";
import { CONFIG_KEYS, ConfigError, type LaunchpadConfig, loadConfig } from "../../components/config";
import { instanceLabel } from "../../components/defaults";
import { projectDefaults, stackConfig, StackFileError, stackSecretKeys } from "../stackFile";
import { type CheckCluster, checkClusterLive, type NamespaceExists, namespaceExistsLive } from "./cluster";
import type { ClusterRef } from "../../lib/kubernetesClient";
import { type AppPods, type ReadPods, readPodsLive, type ReadWorkloads, readWorkloadsLive, stuckPodLines, unfinishedRollouts } from "./rollout";
import type { Runner } from "../../lib/runner";
import { endOrphanedPlugins, pluginName, type ProcessTable, processTableLive } from "../engine/orphans";
import { type CheckStateDisk, repairStateAttributes, stateDiskLine, stateDiskLive, stateWriteFailureLine } from "./stateDisk";
import { backendUrl, describeBackend, isLocalBackend, localBackendDir } from "../engine/backend";
import { DEV_STACK, dropForeignSalt, missingPassphrase, NS, stackFileSetting, type Passphrase, readStackFile, resolvePassphrase, type StackFile } from "./state";
import { type EngineGate, type EngineOutput, engineMessage, type OpenWorkspace, type Outputs, stackRegistryLogin, type UpOptions, type Workspace } from "../engine/workspace";
import { openGate } from "../launch/gate";
import { PINNED_TIERS } from "../engine/pinned";
import { type ReadCommit, releaseMessageNow } from "../engine/releases";
import { NO_TRACE, type Trace } from "./trace";
import { checkImage, checkRegistryLogin, credentialsFor, type ImageCheck, parseImageRef, readDockerConfig, type Credentials, type LoginStatus } from "../../lib/registry";

/** Asks a registry whether it answers and takes the login a push would use (undefined: Docker's own). */
export type CheckRegistry = (registry: string, credentials: Credentials | undefined) => Promise<{ status: LoginStatus; message: string }>;

const checkRegistryLive: CheckRegistry = async (registry, credentials) =>
    checkRegistryLogin(registry, { credentials: credentials ?? credentialsFor(registry, { dockerConfig: await readDockerConfig() }), timeoutMs: 10_000 });

/** Asks a registry whether it has this very image (a reference by digest); `credentials` undefined: Docker's own login. */
export type CheckPinnedImage = (image: string, credentials: Credentials | undefined) => Promise<ImageCheck>;

const checkPinnedImageLive: CheckPinnedImage = async (image, credentials) =>
    checkImage(image, { exactDigest: true, credentials: credentials ?? credentialsFor(parseImageRef(image).registry, { dockerConfig: await readDockerConfig() }), timeoutMs: 10_000 });

/** Where the commands speak: launchpad's own lines, and the engine's (or a long CLI step's) raw progress. */
export interface Io {
    info(line: string): void;
    engine(chunk: string): void;
}

/** Everything the commands touch outside themselves; tests pass fakes. */
export interface Deps {
    readonly runner: Runner;
    readonly openWorkspace: OpenWorkspace;
    /** The project directory: Pulumi.yaml, the stack files and `.launchpad/` live here. */
    readonly repoRoot: string;
    readonly env: Readonly<Record<string, string | undefined>>;
    readonly nodeVersion: string;
    readonly io: Io;
    readonly color?: boolean;
    /** Reads the app's pods after a rollout failed, to say why they did not start. @default the live cluster */
    readonly readPods?: ReadPods;
    /** Reads the app's Deployments and StatefulSets after the update, to confirm their rollouts. @default the live cluster */
    readonly readWorkloads?: ReadWorkloads;
    /** Checks the team registry and its login before an update on a cloud cluster. @default over HTTP */
    readonly checkRegistry?: CheckRegistry;
    /** Asks the registry for each tier's pinned image (`<tier>Image`) before an update. @default over HTTP */
    readonly checkPinnedImage?: CheckPinnedImage;
    /** Asks the stack's cluster whether it answers, before the engine runs. @default the live cluster */
    readonly checkCluster?: CheckCluster;
    /** Asks the stack's cluster whether the stack's namespace is there, before an update. @default the live cluster */
    readonly namespaceExists?: NamespaceExists;
    /** Tells a lock a killed run left on this machine from a live one. @default this machine */
    readonly lockHost?: LockHost;
    /** Looks at the disk under a file backend's state before up and down. @default this machine's */
    readonly checkStateDisk?: CheckStateDisk;
    /** The machine's processes, to end the Pulumi plugins a killed run left. @default /proc */
    readonly processes?: ProcessTable;
    /** Waits between two tries of an engine operation. @default a timer */
    readonly pause?: (ms: number) => Promise<void>;
    /** Who runs the update, as `npm run history` shows it. @default user@host, or the CI system */
    readonly who?: string;
    /** The project checkout's commit, as a release records it ("5d1e0c2+dirty"). @default asked of git */
    readonly readCommit?: ReadCommit;
    /** Times each check and step (LAUNCHPAD_TRACE, ./trace.ts). @default none */
    readonly trace?: Trace;
}

export interface StackOptions {
    readonly stack: string;
}

export interface DownOptions extends StackOptions {
    /** Also delete the database's data (StatefulSet, its Secret, namespace, volume claims). */
    readonly deleteData: boolean;
    /** Also delete the kind cluster and the registry container (kind only; implies losing the data). */
    readonly cluster: boolean;
}

/** The config keys that keep the database when the app is destroyed; `protect` only if the stack sets it. */
export const RETAIN_KEY = `${NS}:retainData`;
export const PROTECT_KEY = `${NS}:protect`;

/**
 * Config a CI job can pass through the environment instead of committing it: set on the stack (as a
 * secret where marked) before the update.
 */
export const CONFIG_FROM_ENV: readonly { readonly env: string; readonly key: string; readonly secret: boolean }[] = [
    { env: "LAUNCHPAD_REGISTRY_USERNAME", key: `${NS}:registryUsername`, secret: false },
    { env: "LAUNCHPAD_REGISTRY_PASSWORD", key: `${NS}:registryPassword`, secret: true },
];

interface Prepared {
    readonly stackFile: StackFile;
    readonly ws: Workspace;
    readonly exists: boolean;
    readonly passphrase: Passphrase;
}

/**
 * The stack's config problems as the program would report them (formatted), or undefined: checked from
 * the stack file, Pulumi.yaml's defaults and the config CI passes in the environment, before any tool
 * is needed, so that a config mistake shows on a machine without them too.
 */
export function stackConfigProblems(deps: Pick<Deps, "repoRoot" | "env">, stack: string, stackFile: StackFile): string | undefined {
    try {
        loadStackConfig(deps, stack, stackFile);
        return undefined;
    } catch (error) {
        if (error instanceof ConfigError) return error.message;
        if (error instanceof StackFileError) throw new UpError(error.message);
        throw error;
    }
}

/** The stack's config as the program reads it: the stack file, Pulumi.yaml's defaults and the config CI passes in the environment. */
function loadStackConfig(deps: Pick<Deps, "repoRoot" | "env">, stack: string, stackFile: StackFile): LaunchpadConfig {
    const raw = stackFile.exists ? stackConfig(stack, deps.repoRoot) : projectDefaults(deps.repoRoot);
    const secrets = new Set(stackFile.exists ? stackSecretKeys(stack, deps.repoRoot) : []);
    for (const c of CONFIG_FROM_ENV) {
        const value = deps.env[c.env];
        if (value === undefined || value === "") continue;
        raw[c.key] = value;
        if (c.secret) secrets.add(c.key);
    }
    return loadConfig(raw, {
        stack,
        stackFileText: stackFile.exists ? fs.readFileSync(stackFile.path, "utf8") : undefined,
        isSecret: (key) => secrets.has(key),
        fileExists: (relative) => fs.existsSync(path.resolve(deps.repoRoot, relative)),
    });
}

/** What the kind platform is built from: the stack's kind keys (checked by prepare), its paths relative to the project. */
function kindPlatformOptions(deps: Deps, stack: string, stackFile: StackFile): KindPlatformOptions {
    return { settings: loadStackConfig(deps, stack, stackFile).kind, projectRoot: deps.repoRoot, pause: deps.pause };
}

/** The stack file as a command reads it: or, when it cannot be read (invalid YAML, no platform), what is wrong with it. */
type StackFileRead = { readonly stackFile: StackFile; readonly problem?: undefined } | { readonly stackFile?: undefined; readonly problem: string };

/** Reads the stack file; a file that cannot be read is one more problem to list with the others, not a stop. An unknown stack is wrong usage. */
function readForCommand(deps: Deps, stack: string): StackFileRead {
    try {
        return { stackFile: readStackFile(deps.repoRoot, stack) };
    } catch (error) {
        if (error instanceof UpError) return { problem: error.message };
        throw error;
    }
}

/** What the environment must give a stack besides the tools: its passphrase, and in CI a backend that outlives the job. */
function environmentProblems(stack: string, env: Deps["env"]): Problem[] {
    const problems = [missingPassphrase(stack, env)].filter((p): p is Problem => p !== undefined);
    if (isTruthy(env.CI) && stack !== DEV_STACK && !env.PULUMI_BACKEND_URL) {
        problems.push({
            what: `PULUMI_BACKEND_URL is not set: stack ${stack} in CI keeps its state inside the checkout, which is lost when the job ends, and the next run would try to create everything again`,
            fix: ["point it at a bucket (s3://, gs://, azblob://) or Pulumi Cloud"],
        });
    }
    return problems;
}

/**
 * Everything a command needs, checked and reported in one run before anything is changed: the stack
 * file and (for up and preview) its config, the tools, the passphrase and CI's backend; then the
 * workspace.
 */
async function prepare(deps: Deps, stack: string, file: StackFileRead, need: Need): Promise<Prepared> {
    const { io, env } = deps;
    const trace = deps.trace ?? NO_TRACE;
    const config = file.problem ?? (need.command === "down" ? undefined : trace.stepSync("the stack's config", () => stackConfigProblems(deps, stack, file.stackFile)));
    // A stack file that cannot be read names no platform: then the tools every platform needs.
    const tools = requiredTools({ ...need, platform: file.stackFile?.platform });
    const problems = [...(await trace.step("prerequisites", () => checkPrerequisites(deps.runner, tools, deps.nodeVersion))), ...environmentProblems(stack, env)];
    if (config !== undefined || problems.length > 0 || file.stackFile === undefined) throw new UpError(formatProblems(need.command, problems, stack, config));
    const stackFile = file.stackFile;

    const passphrase = resolvePassphrase(stack, deps.repoRoot, env);
    if (passphrase.notice) io.info(passphrase.notice);

    const backend = backendUrl(deps.repoRoot, env);
    io.info(`launchpad: stack ${stack} on ${stackFile.platform}, state in ${describeBackend(deps.repoRoot, backend)}`);
    if (isLocalBackend(backend) && stack !== DEV_STACK) {
        io.info(`launchpad: note: ${stack}'s state is on this machine only; a team shares it through PULUMI_BACKEND_URL.`);
    }
    const orphans = await trace.step("orphaned plugins", () => endOrphanedPlugins(deps.processes ?? processTableLive));
    if (orphans.length > 0) {
        const list = orphans.map((p) => `pid ${p.pid} ${pluginName(p)}`).join(", ");
        io.info(`launchpad: recovered: ended ${orphans.length === 1 ? "a Pulumi plugin process" : `${orphans.length} Pulumi plugin processes`} a killed run left running, its engine gone (${list}).`);
    }
    if (isLocalBackend(backend)) {
        for (const file of repairStateAttributes(localBackendDir(backend))) {
            io.info(`launchpad: recovered: removed ${file} in ${localBackendDir(backend)}, an empty attributes file a killed run left beside the state (with it there, every Pulumi command on the project failed with "EOF"); the state itself is whole.`);
        }
    }
    if (isLocalBackend(backend) && need.command !== "preview") {
        // up and down write the state after every step: a read-only or full disk would stop them halfway.
        const dir = localBackendDir(backend);
        const problem = stateDiskLine(trace.stepSync("state disk", () => (deps.checkStateDisk ?? stateDiskLive)(dir, stack)), dir, stack, need.command);
        if (problem) throw new UpError(problem);
    }
    const settings = { repoRoot: deps.repoRoot, backendUrl: backend, passphrase: passphrase.value, color: deps.color ?? false };
    const ws = await trace.step("opening the workspace", () => engine(() => deps.openWorkspace(settings), "starting the Pulumi CLI", stack));
    return { stackFile, ws, exists: await trace.step("listing the stacks", () => engine(() => ws.stackExists(stack), "listing the stacks", stack)), passphrase };
}

function isTruthy(v: string | undefined): boolean {
    return v !== undefined && v !== "" && v !== "0" && v.toLowerCase() !== "false";
}

/** Selects (or creates) the stack; a fresh dev stack first sheds a teammate's committed encryption salt. */
async function selectStack(deps: Deps, stack: string, p: Prepared): Promise<void> {
    if (stack === DEV_STACK && !p.exists && p.passphrase.source !== "env" && dropForeignSalt(p.stackFile.path)) {
        deps.io.info(`launchpad: removed another machine's encryptionsalt from Pulumi.${stack}.yaml (this machine's passphrase writes its own).`);
    }
    await engine(() => p.ws.selectOrCreate(stack), "selecting the stack", stack);
}

async function configFromEnv(deps: Deps, stack: string, ws: Workspace): Promise<void> {
    for (const c of CONFIG_FROM_ENV) {
        const value = deps.env[c.env];
        if (value === undefined || value === "") continue;
        await engine(() => ws.setConfig(stack, c.key, { value, secret: c.secret }), `setting ${c.key}`, stack);
        deps.io.info(`launchpad: ${c.key} set from $${c.env}${c.secret ? " (as a secret)" : ""}`);
    }
}

/** `ghcr.io/acme` → `ghcr.io`: the host the registry credentials are for. */
export function registryHost(registry: string): string {
    return registry.split("/")[0];
}

/**
 * The registry login itself happens inside the update: the program hands the (secret) credentials from
 * the stack config to its image resources, which log in for each push. Before that, launchpad says
 * which credentials will be used, and stops the update, changing nothing, when the registry does not
 * answer or refuses the login, so that no push fails halfway through a deploy.
 */
async function checkRegistryLoginFirst(deps: Deps, stack: string, ws: Workspace): Promise<void> {
    const registry = (await engine(() => ws.getConfig(stack, `${NS}:registry`), "reading the config", stack))?.value;
    const { username, password, credentials } = await engine(() => stackRegistryLogin(ws, stack), "reading the config", stack);
    if (registry === undefined) return;
    const host = registryHost(registry);
    if (credentials !== undefined) {
        deps.io.info(`launchpad: the update logs in to ${host} as ${username} with ${NS}:registryPassword${password?.secret ? " (secret)" : ""}`);
    } else {
        deps.io.info(
            `launchpad: note: ${stack} has no ${NS}:registryUsername/registryPassword, so pushing to ${host} relies on Docker's own login ` +
                "(set them with pulumi config, or LAUNCHPAD_REGISTRY_USERNAME/LAUNCHPAD_REGISTRY_PASSWORD in CI).",
        );
    }
    const check = await (deps.checkRegistry ?? checkRegistryLive)(host, credentials);
    const again = `npm run up -- --stack ${stack}`;
    if (check.status === "unreachable") {
        throw new UpError(`launchpad: the registry does not answer: ${check.message}; nothing was changed. Start it, or point ${NS}:registry at the right one (pulumi config set --stack ${stack} ${NS}:registry HOST/PATH), then run ${again} again.`);
    }
    if (check.status === "refused" && credentials !== undefined) {
        throw new UpError(
            `launchpad: ${check.message}; nothing was changed. Set the right login: pulumi config set --stack ${stack} ${NS}:registryUsername NAME and ` +
                `pulumi config set --stack ${stack} --secret ${NS}:registryPassword (or LAUNCHPAD_REGISTRY_USERNAME/LAUNCHPAD_REGISTRY_PASSWORD in CI), then run ${again} again.`,
        );
    }
    // Refused without credentials of ours: Docker's own login (a credential helper) may still hold them.
}

/**
 * The message of an update (or destroy) in the stack's history: who runs it, the note it was run with,
 * and the images that ran before it (releases.ts). Read now, before the engine changes them.
 */
async function releaseMessageFor(deps: Deps, stack: string, ws: Workspace): Promise<string> {
    return engine(() => releaseMessageNow(ws, stack, deps), "reading the stack's outputs", stack);
}

/**
 * A tier pinned to an image by digest (a rollback, a promotion) deploys that image and builds none, so
 * the registry must have it: asked before the update, which is refused, changing nothing, naming the
 * tier, when the registry does not have it or does not answer.
 */
async function checkPinnedImagesFirst(deps: Deps, stack: string, ws: Workspace): Promise<void> {
    const { credentials } = await engine(() => stackRegistryLogin(ws, stack), "reading the config", stack);
    const problems: string[] = [];
    for (const tier of PINNED_TIERS) {
        const image = (await engine(() => ws.getConfig(stack, `${NS}:${tier}Image`), "reading the config", stack))?.value;
        if (image === undefined) continue;
        const check = await (deps.checkPinnedImage ?? checkPinnedImageLive)(image, credentials);
        if (check.status === "found") {
            deps.io.info(`launchpad: the ${tier} runs ${image}, pinned by ${NS}:${tier}Image; it is not built`);
        } else if (check.status === "missing" || check.status === "unreachable") {
            problems.push(`  - ${tier}: ${NS}:${tier}Image = ${image}: ${check.message}`);
        } else {
            deps.io.info(`launchpad: note: could not confirm that the registry has the ${tier}'s pinned image (${check.message}); the cluster will try to pull it.`);
        }
    }
    if (problems.length === 0) return;
    throw new UpError(
        [
            `launchpad: the registry cannot give the cluster ${problems.length === 1 ? "a pinned image" : "the pinned images"} of stack ${stack}; nothing was changed.`,
            ...problems,
            `  fix: pin a digest the registry has, or delete the line from Pulumi.${stack}.yaml to build that tier from source; each release's digests: npm run history -- --stack ${stack} --full`,
        ].join("\n"),
    );
}

/** Adds what to do about the engine failures people meet most. */
export function engineHint(message: string, stack: string, context?: string): string | undefined {
    if (/incorrect passphrase|failed to decrypt|could not decrypt|message authentication failed/i.test(message)) {
        return stack === DEV_STACK
            ? "The passphrase does not open this stack's secrets: the dev stack uses .launchpad/passphrase unless PULUMI_CONFIG_PASSPHRASE is set."
            : `PULUMI_CONFIG_PASSPHRASE is not the passphrase ${stack}'s secrets were encrypted with.`;
    }
    // A docker step's network errors are about a registry, not the cluster: their fix is in the message.
    if (!/docker (build|pull|tag|push) of/.test(message) && /context "?[^"\s]*"? (does not exist|not found)|no configuration has been provided|connection refused|Unable to connect to the server|dial tcp/i.test(message)) {
        return stack === DEV_STACK
            ? `The cluster is not reachable: \`npm run up\` (re)creates the kind platform; is Docker running? Check with: kubectl --context ${KIND.context} get nodes`
            : context
              ? `The cluster of context ${context} is not reachable: check that \`kubectl --context ${context} get nodes\` works, or ${NS}:kubeContext (and ${NS}:kubeconfig) in Pulumi.${stack}.yaml; then run the command again.`
              : `The cluster is not reachable: check ${NS}:kubeContext (and ${NS}:kubeconfig) in Pulumi.${stack}.yaml, and that \`kubectl --context <it> get nodes\` works.`;
    }
    if (ROLLOUT_FAILURE.test(message)) {
        return `A workload could not start; the cause is above. \`npm run doctor -- --stack ${stack}\` checks every tier against the cluster's nodes, taints, capacity and registry before you try again, and says which config key to change.`;
    }
    if (/currently locked/i.test(message)) {
        return "Another update of this stack is running. If none is (a run was killed), remove the lock file under .pulumi/locks/ in the stack's state.";
    }
    return undefined;
}

/** A lock the engine named when it refused a run: its file (or URL), who took it, and when. */
export interface StackLock {
    /** A path for a file backend's lock, else the backend's URL of it. */
    readonly where: string;
    readonly local: boolean;
    readonly owner: string;
    readonly pid: number;
    readonly since: string;
}

/** The lock named in the engine's "currently locked" refusal; undefined for any other message. */
export function lockOf(message: string): StackLock | undefined {
    if (!/currently locked/i.test(message)) return undefined;
    const m = /^\s*(\S+?)(?:\?\S*)?: created by (\S+) \(pid (\d+)\) at (\S+)\s*$/m.exec(message);
    if (!m) return undefined;
    const [, url, owner, pid, since] = m;
    const local = url.startsWith("file://");
    return { where: local ? url.slice("file://".length) : url, local, owner, pid: Number(pid), since };
}

/**
 * The engine's "currently locked" refusal, as one line naming the lock's owner and how to remove the
 * lock: a file backend's lock is a file on this machine; a bucket's (or any remote backend's) is
 * removed with `pulumi cancel`, which deletes the stack's lock objects through the same backend URL
 * and credentials. Undefined when the message is not that refusal (or names no owner).
 */
export function lockedLine(message: string, stack: string): string | undefined {
    const lock = lockOf(message);
    if (!lock) return undefined;
    const remove = lock.local
        ? `if that process is gone (a run was killed), delete the lock ${lock.where}`
        : `if that run is gone (killed, or its machine lost), remove its lock with \`pulumi cancel --stack ${stack} --yes\` (in the project's folder, with the same PULUMI_BACKEND_URL)`;
    return (
        `launchpad: stack ${stack} is locked by another update, run by ${lock.owner} (pid ${lock.pid}) since ${lock.since}; nothing was changed. ` +
        `Wait for it to end; ${remove}, then run the command again.`
    );
}

/** What launchpad may know of the machine to tell a lock left by a killed run from a live one. */
export interface LockHost {
    /** "user@host" as Pulumi writes a lock's owner on this machine. */
    readonly owner: string;
    readonly alive: (pid: number) => boolean;
    readonly remove: (lockFile: string) => void;
}

/** This machine: a user without a name (no passwd entry) owns no lock launchpad would remove. */
const localLockHost = (): LockHost => ({
    owner: (() => {
        try {
            return `${os.userInfo().username}@${os.hostname()}`;
        } catch {
            return "";
        }
    })(),
    alive: processAlive,
    remove: (lockFile) => {
        for (const f of [lockFile, `${lockFile}.attrs`]) fs.rmSync(f, { force: true });
    },
});

/**
 * Runs an engine operation that takes the stack's lock. Two runs that take a file backend's lock at the
 * same moment can both fail reading each other's lock file (Pulumi 3.274 does): once, after a
 * random pause, one of them wins.
 */
async function takingLock<T>(deps: Deps, stack: string, op: () => Promise<T>): Promise<T> {
    const once = () => recoveringStaleLock(deps, stack, op);
    try {
        return await once();
    } catch (err) {
        if (!LOCK_RACE.test(engineMessage(err))) throw err;
        await (deps.pause ?? delay)(500 + Math.random() * 1500);
        return once();
    }
}

/**
 * Runs an engine operation; when it is refused by a file backend's lock that a run on this machine
 * left behind when it was killed (its process is gone), removes that lock, says so, and runs it again.
 * A lock of a live process, of another machine or of a remote backend is left to the user.
 */
async function recoveringStaleLock<T>(deps: Deps, stack: string, op: () => Promise<T>): Promise<T> {
    try {
        return await op();
    } catch (err) {
        const lock = lockOf(engineMessage(err));
        const host = deps.lockHost ?? localLockHost();
        if (!lock || !lock.local || host.owner === "" || lock.owner !== host.owner || host.alive(lock.pid)) throw err;
        host.remove(lock.where);
        deps.io.info(`launchpad: recovered: removed the lock of stack ${stack} that a killed run left (pid ${lock.pid}, since ${lock.since}; no such process now).`);
        return op();
    }
}

/**
 * A lock race: the lock of another run vanished while this run read it: a file backend's lock file,
 * or a bucket's lock object (gocloud.dev's NotFound for its key).
 */
const LOCK_RACE = /\.pulumi\/locks\/\S+: no such file or directory|\(key "\.pulumi\/locks\/[^"]+"\) \(code=NotFound\)/;

/** What the engine says when a workload did not become ready (or could not be scheduled or pulled). */
const ROLLOUT_FAILURE = /nodes are available|untolerated taint|Insufficient (cpu|memory|pods)|Unschedulable|ImagePullBackOff|ErrImagePull|CrashLoopBackOff|ProgressDeadlineExceeded|timed out waiting|failed to become available|Pods? not ready/i;

/**
 * Runs one engine operation; its failure becomes an UpError with the engine's words and a hint. When a
 * rollout failed, `explain` adds what the cluster says about the pods: the engine itself only reports
 * a timeout (the Kubernetes provider 4.25 does), not that no node fits.
 */
async function engine<T>(op: () => Promise<T>, what: string, stack: string, explain?: () => Promise<string[]>, context?: () => string | undefined): Promise<T> {
    try {
        return await op();
    } catch (err) {
        if (err instanceof UpError || err instanceof UsageError) throw err;
        const message = engineMessage(err);
        if (LOCK_RACE.test(message)) {
            throw new UpError(`launchpad: another update of stack ${stack} took its lock at the same moment as this one, twice; nothing was changed. Run the command again.`);
        }
        const locked = lockedLine(message, stack);
        if (locked) throw new UpError(locked);
        const unsaved = stateWriteFailureLine(message, what, stack);
        if (unsaved) throw new UpError(unsaved);
        const hint = engineHint(message, stack, context?.());
        let causes = "";
        if (explain && ROLLOUT_FAILURE.test(message)) {
            const lines = await explain().catch((e: unknown) => [`(the cluster could not be asked: ${String((e as Error).message ?? e).split("\n")[0]})`]);
            if (lines.length > 0) causes = `\nlaunchpad: the pods that did not start, as the cluster reports them:\n${lines.map((l) => `  ${l}`).join("\n")}`;
        }
        throw new UpError(`launchpad: ${what} failed for stack ${stack}:\n${message}${causes}${hint ? `\n${hint}` : ""}`);
    }
}

/** The stack's cluster: kind's context, or the stack's kubeContext (and kubeconfig). */
async function clusterOf(stack: string, stackFile: StackFile, ws: Workspace): Promise<ClusterRef> {
    const config = async (key: string) => (await ws.getConfig(stack, `${NS}:${key}`))?.value;
    return {
        context: stackFile.platform === "kind" ? KIND.context : (stackFile.kubeContext ?? (await config("kubeContext")) ?? ""),
        kubeconfig: await config("kubeconfig"),
    };
}

/**
 * Stops, changing nothing, when the stack's cluster does not answer: the Kubernetes provider would
 * otherwise preview against nothing and report every object unchanged, or fail deep in an update.
 */
async function checkClusterFirst(deps: Deps, stack: string, stackFile: StackFile, ws: Workspace, command: "up" | "preview"): Promise<ClusterRef> {
    const where = await clusterOf(stack, stackFile, ws);
    const why = await (deps.checkCluster ?? checkClusterLive)(where);
    if (why === undefined) return where;
    throw new UpError(
        `launchpad: the cluster of context ${where.context} does not answer: ${why}; nothing was changed. Start it, or check that ` +
            `\`kubectl --context ${where.context} get nodes\` works, then run npm run ${command} -- --stack ${stack} again.`,
    );
}

/**
 * A run killed in the middle of an update (or stopped by a full disk) leaves its unfinished operations
 * in the state; the engine then warns on every later run and keeps them. They are dropped before the update, which applies
 * each of those resources again (Kubernetes objects that were created are adopted), and said in one line.
 */
async function recoverPendingOperations(deps: Deps, stack: string, ws: Workspace): Promise<void> {
    const cleared = await engine(() => takingLock(deps, stack, () => ws.clearPendingOperations(stack)), "reading the stack's state", stack);
    if (cleared.length === 0) return;
    const ops = cleared.map((op) => `${op.type} ${op.urn.split("::").pop()}`).join(", ");
    deps.io.info(`launchpad: recovered: an interrupted run left ${cleared.length === 1 ? "1 operation" : `${cleared.length} operations`} unfinished (${ops}); cleared from the state, this update applies them again.`);
}

/**
 * Whether the update must first refresh the state from the cluster: when the state lists the stack's
 * namespace but the cluster has none (deleted by hand, or by a `down` stopped before it saved the
 * state), the engine would take the state's word and fail to create every object in it ("namespaces …
 * not found"). Said in one line when so.
 */
async function stateAheadOfCluster(deps: Deps, stack: string, stackFile: StackFile, ws: Workspace): Promise<boolean> {
    const where = await appPodsOf(stack, stackFile, ws);
    if ((await (deps.namespaceExists ?? namespaceExistsLive)(where, where.namespace)) !== false) return false;
    const listed = await engine(() => ws.resourcesInState(stack), "reading the stack's state", stack);
    if (!listed.some((r) => r.type === NAMESPACE_TYPE && r.id === where.namespace)) return false;
    deps.io.info(
        `launchpad: the state of ${stack} lists namespace ${where.namespace}, but the cluster of context ${where.context} has none ` +
            "(deleted outside launchpad, or by a down that was stopped); this update reads the state back from the cluster first, then creates what is missing.",
    );
    return true;
}

const NAMESPACE_TYPE = "kubernetes:core/v1:Namespace";

/** Where the stack's objects are: its cluster, its namespace and its instance label. */
async function appPodsOf(stack: string, stackFile: StackFile, ws: Workspace): Promise<AppPods> {
    const config = async (key: string) => (await ws.getConfig(stack, `${NS}:${key}`))?.value;
    const appName = (await config("appName")) ?? String(CONFIG_KEYS.appName.default);
    const defaultNamespace = CONFIG_KEYS.namespace.default as (c: { appName: string; stack: string }) => string;
    return {
        ...(await clusterOf(stack, stackFile, ws)),
        namespace: (await config("namespace")) ?? defaultNamespace({ appName, stack }),
        instance: instanceLabel(appName, stack),
    };
}

/** The stack's pods that are not running and ready, one line per tier and cause. */
async function stuckPods(deps: Deps, stack: string, stackFile: StackFile, ws: Workspace): Promise<string[]> {
    return stuckPodLines(await (deps.readPods ?? readPodsLive)(await appPodsOf(stack, stackFile, ws)));
}

/** How often `up` looks at the rollouts it confirms. */
const ROLLOUT_POLL_MS = 2000;

/**
 * After the engine reports the update done, waits (up to rolloutTimeoutSeconds) until every Deployment
 * and StatefulSet of the stack has really rolled out, and fails like a rollout the engine saw fail
 * otherwise. The Kubernetes provider 4.25 can report a Deployment's update done while its new pods crash:
 * when it looks at the new ReplicaSet before the controller has scaled it up (await/deployment.go reads
 * 0 wanted replicas as done).
 */
async function confirmRollouts(deps: Deps, stack: string, stackFile: StackFile, ws: Workspace): Promise<void> {
    const where = await appPodsOf(stack, stackFile, ws);
    const configured = Number((await ws.getConfig(stack, `${NS}:rolloutTimeoutSeconds`))?.value);
    const seconds = Number.isInteger(configured) && configured > 0 ? configured : (CONFIG_KEYS.rolloutTimeoutSeconds.default as number);
    let unfinished: string[] = [];
    for (let waited = 0; ; waited += ROLLOUT_POLL_MS) {
        unfinished = unfinishedRollouts(await (deps.readWorkloads ?? readWorkloadsLive)(where));
        if (unfinished.length === 0) return;
        if (waited >= seconds * 1000) break;
        await (deps.pause ?? delay)(ROLLOUT_POLL_MS);
    }
    const stuck = await stuckPods(deps, stack, stackFile, ws).catch((e: unknown) => [`(the cluster could not be asked: ${String((e as Error).message ?? e).split("\n")[0]})`]);
    throw new UpError(
        [
            `launchpad: the update of stack ${stack} finished, but the rollout did not complete within rolloutTimeoutSeconds (${seconds} s): ${unfinished.join("; ")}.`,
            "launchpad: the pods that did not start, as the cluster reports them:",
            ...stuck.map((l) => `  ${l}`),
            engineHint("ProgressDeadlineExceeded", stack) ?? "",
        ].join("\n"),
    );
}

function outputString(outputs: Outputs, key: string): string | undefined {
    const v = outputs[key]?.value;
    return typeof v === "string" && v !== "" ? v : undefined;
}

function platformLog(deps: Deps) {
    return { info: deps.io.info, progress: deps.io.engine };
}

function warnOnForeignContext(deps: Deps, stack: string, stackFile: StackFile): void {
    if (stackFile.kubeContext !== undefined && stackFile.kubeContext !== KIND.context) {
        deps.io.info(`launchpad: warning: ${stack} is on kind but ${NS}:kubeContext is ${stackFile.kubeContext}; the platform launchpad builds is ${KIND.context}.`);
    }
}

/**
 * A check started now and awaited later, in its turn: its failure is not unhandled meanwhile. Checks
 * started together are awaited in the order they were written, so the one reported when several fail is
 * the one that would have been reported had they run one after another.
 */
function begun<T>(check: Promise<T>): Promise<T> {
    check.catch(() => undefined);
    return check;
}

/** Why an update's first, gated run is stopped when the state is ahead of the cluster: it runs again, reading the state back first. */
const STATE_AHEAD = "the state lists objects the cluster does not have, so the update runs again, reading the state back first";

/**
 * Runs the engine while the command's read-only checks run (tools/launch/gate.js): the program
 * loads, then waits at the gate; the engine's output is held meanwhile. When every check passed and
 * `stopFor` finds no reason to stop, the gate opens, `announce` is said, the held output is shown and
 * the run goes on (`done`). When a check fails, the gate says stop, the program ends having declared
 * nothing, and the check's failure is thrown, as when the checks ran before the engine. A failure of
 * the engine itself (a lock, a wrong passphrase: maybe before the verdict) is shown and thrown only
 * when every check passed. With a reason from `stopFor`, the stopped run is awaited and the caller
 * runs again (`done` false).
 */
async function withChecks<C, T>(
    deps: Deps,
    checks: () => Promise<C>,
    run: (gate: EngineGate, onOutput: EngineOutput) => Promise<T>,
    stopFor: (checked: C) => string | undefined,
    announce?: string,
): Promise<{ done: true; result: T } | { done: false }> {
    const gate = await openGate();
    const held: string[] = [];
    let shown = false;
    const show = () => {
        shown = true;
        for (const chunk of held.splice(0)) deps.io.engine(chunk);
    };
    const running = run(gate, (chunk) => (shown ? deps.io.engine(chunk) : held.push(chunk)));
    running.catch(() => undefined);
    try {
        let checked: C;
        try {
            // Started once the engine is, so that their work does not hold up its start.
            checked = await checks();
        } catch (failure) {
            gate.shut(failure instanceof Error ? failure.message.split("\n")[0] : String(failure));
            await running.catch(() => undefined);
            throw failure;
        }
        const reason = stopFor(checked);
        if (reason !== undefined) {
            gate.shut(reason);
            await running.catch(() => undefined);
            return { done: false };
        }
        gate.open();
        if (announce !== undefined) deps.io.info(announce);
        show();
        return { done: true, result: await running };
    } finally {
        gate.close();
    }
}

/**
 * What `up` and `preview` share: the stack file, prerequisites, passphrase, the selected stack and its
 * config from the environment. A new stack is created first; an existing one needs no selection (every
 * engine call names its stack), and what `selected` still does (a teammate's salt) runs beside the checks.
 */
async function openForUpdate(deps: Deps, stack: string, command: "up" | "preview"): Promise<{ stackFile: StackFile; ws: Workspace; selected: Promise<void> }> {
    const trace = deps.trace ?? NO_TRACE;
    const file = readForCommand(deps, stack);
    const p = await prepare(deps, stack, file, { command });
    const selected = begun(trace.step("selecting the stack", () => selectStack(deps, stack, p)));
    if (!p.exists) await selected;
    await trace.step("config from the environment", () => configFromEnv(deps, stack, p.ws));
    if (p.stackFile.platform === "kind") warnOnForeignContext(deps, stack, p.stackFile);
    return { stackFile: p.stackFile, ws: p.ws, selected };
}

/**
 * `npm run up`: prerequisites, passphrase, stack; on kind the local platform (idempotently), on a
 * cloud cluster no bootstrap (the context and the registry login come from the stack config); then
 * the update with the engine's progress streamed, and the URL.
 */
export async function up(deps: Deps, opts: StackOptions): Promise<{ url?: string }> {
    const { stack } = opts;
    const trace = deps.trace ?? NO_TRACE;
    const { stackFile, ws, selected } = await openForUpdate(deps, stack, "up");
    if (stackFile.platform === "kind") {
        deps.io.info("launchpad: making sure the kind platform is ready");
        // The cluster the checks below ask is the one this makes.
        await trace.step("the kind platform", () => ensureKindPlatform(deps.runner, platformLog(deps), kindPlatformOptions(deps, stack, stackFile)));
    } else {
        deps.io.info(`launchpad: deploying to kubeconfig context ${stackFile.kubeContext ?? "(the stack's default)"}; the kind bootstrap is skipped`);
    }
    await selected;
    // Before the engine starts: it may rewrite the state the engine reads.
    await trace.step("pending operations", () => recoverPendingOperations(deps, stack, ws));
    const message = await trace.step("release message", () => releaseMessageFor(deps, stack, ws));
    // The cluster's context, for the hint of an engine failure: known once its check answered.
    let context: string | undefined;
    // The checks read only: they start once the engine has, run together, and are awaited one by one in
    // this order (begun); the program waits at the gate until they passed (withChecks).
    const checks = async () => {
        const registry = stackFile.platform === "kind" ? undefined : begun(trace.step("registry preflight", () => checkRegistryLoginFirst(deps, stack, ws)));
        const pinned = begun(trace.step("pinned images", () => checkPinnedImagesFirst(deps, stack, ws)));
        const clusterChecked = begun(trace.step("cluster preflight", () => checkClusterFirst(deps, stack, stackFile, ws, "up")));
        const stateAhead = begun(trace.step("state against the cluster", () => stateAheadOfCluster(deps, stack, stackFile, ws)));
        await registry;
        await pinned;
        const cluster = await clusterChecked;
        context = cluster.context || undefined;
        return { refresh: await stateAhead };
    };
    const update = (opts: UpOptions, onOutput: EngineOutput) =>
        engine(() => takingLock(deps, stack, () => ws.up(stack, onOutput, { message, ...opts })), "the update", stack, () => stuckPods(deps, stack, stackFile, ws), () => context);
    const outputs = await trace.step("the engine's update", async () => {
        // Said once the checks passed: the engine's own output follows.
        const run = await withChecks(deps, checks, (gate, onOutput) => update({ gate }, onOutput), (c) => (c.refresh ? STATE_AHEAD : undefined), `launchpad: updating stack ${stack}`);
        if (run.done) return run.result;
        // The state lists objects the cluster does not have: read it back first (stateAheadOfCluster said so).
        deps.io.info(`launchpad: updating stack ${stack}`);
        return update({ refresh: true }, deps.io.engine);
    });
    await trace.step("rollouts confirmed", () => confirmRollouts(deps, stack, stackFile, ws));
    const url = outputString(outputs, "url");
    deps.io.info(url ? `launchpad: ${stack} is up: ${url}` : `launchpad: ${stack} is up (the stack exports no url).`);
    return { url };
}

/**
 * `npm run preview`: what the update would change, changing nothing. On kind it only checks the
 * platform, and stops with the list of what `npm run up` would still create.
 */
export async function preview(deps: Deps, opts: StackOptions): Promise<void> {
    const { stack } = opts;
    const trace = deps.trace ?? NO_TRACE;
    const { stackFile, ws, selected } = await openForUpdate(deps, stack, "preview");
    if (stackFile.platform === "kind") {
        deps.io.info("launchpad: checking the kind platform (nothing is changed)");
        const missing = (await inspectKindPlatform(deps.runner, platformLog(deps), kindPlatformOptions(deps, stack, stackFile))).filter((s) => s.state === "missing");
        if (missing.length > 0) {
            // With launchpad:ingressController none, the IngressClass is the user's controller's to make: up only waits for it.
            const brought = missing.filter((s) => s.name.startsWith("IngressClass "));
            throw new UpError(
                `launchpad: the kind platform is not ready (${missing.map((s) => s.name).join("; ")}), so there is no cluster to preview against.\n` +
                    (brought.length === missing.length
                        ? `Install your ingress controller, which makes ${brought[0].name} (${NS}:ingressController is none, so \`npm run up\` installs none and only waits for it); nothing was changed.`
                        : "`npm run up` creates it (and deploys); nothing was changed."),
            );
        }
    }
    // What up would refuse, preview says too: a pinned digest the registry does not have.
    const checks = async () => {
        const pinned = begun(trace.step("pinned images", () => checkPinnedImagesFirst(deps, stack, ws)));
        const clusterChecked = begun(trace.step("cluster preflight", () => checkClusterFirst(deps, stack, stackFile, ws, "preview")));
        await pinned;
        await clusterChecked;
    };
    await selected;
    await trace.step("the engine's preview", () =>
        withChecks(deps, checks, (gate, onOutput) => engine(() => takingLock(deps, stack, () => ws.preview(stack, onOutput, { gate })), "the preview", stack), () => undefined),
    );
    deps.io.info(`launchpad: preview of ${stack} done; nothing was changed.`);
}

/**
 * `npm run down`: destroys the app and keeps the database's data, unless `--delete-data`; with
 * `--cluster` (kind only) also deletes the cluster and the registry, which takes the data with it and
 * so requires `--delete-data` as well.
 */
export async function down(deps: Deps, opts: DownOptions): Promise<void> {
    const { stack } = opts;
    const file = readForCommand(deps, stack);
    if (opts.cluster && file.stackFile && file.stackFile.platform !== "kind") {
        throw new UsageError(`--cluster deletes the local kind cluster; stack ${stack} is on ${file.stackFile.platform}, and launchpad never deletes a cloud cluster.`);
    }
    if (opts.cluster && !opts.deleteData) {
        throw new UpError(
            [
                `launchpad: refusing to delete the kind cluster: the database's volume lives inside it, so its data would go too. Nothing was deleted.`,
                "  delete the cluster, the registry and the data:  npm run down -- --cluster --delete-data",
                "  remove only the app and keep the data:          npm run down",
            ].join("\n"),
        );
    }
    const p = await prepare(deps, stack, file, { command: "down", deleteData: opts.deleteData, cluster: opts.cluster });

    if (opts.cluster) {
        deps.io.info("launchpad: deleting the kind platform");
        await deleteKindPlatform(deps.runner, platformLog(deps));
        if (p.exists) {
            await engine(() => p.ws.removeStack(stack), "forgetting the stack's state", stack);
            deps.io.info(`launchpad: removed ${stack}'s state (its resources went with the cluster); Pulumi.${stack}.yaml is kept.`);
        }
        deps.io.info("launchpad: the kind cluster, the registry and the app's data are gone; `npm run up` starts afresh.");
        return;
    }
    if (!p.exists) {
        deps.io.info(`launchpad: stack ${stack} has no state in ${p.ws.backendUrl}; nothing to destroy.`);
        return;
    }
    await engine(() => p.ws.selectOrCreate(stack), "selecting the stack", stack);
    if (opts.deleteData) return destroyWithData(deps, stack, p.ws, p.stackFile);

    const retain = await engine(() => p.ws.getConfig(stack, RETAIN_KEY), "reading the config", stack);
    if (retain?.value === "false") {
        throw new UpError(
            [
                `launchpad: refusing to destroy ${stack}: ${RETAIN_KEY} is false in Pulumi.${stack}.yaml, so the database's data would be deleted. Nothing was deleted.`,
                "  delete the data as well:  npm run down -- --delete-data" + (stack === DEV_STACK ? "" : ` --stack ${stack}`),
                `  keep the data:            remove the ${RETAIN_KEY} line from Pulumi.${stack}.yaml, run \`npm run up\`, then \`npm run down\``,
            ].join("\n"),
        );
    }
    const message = await releaseMessageFor(deps, stack, p.ws);
    deps.io.info(`launchpad: destroying the app in ${stack}; the database's data is kept`);
    await engine(() => takingLock(deps, stack, () => p.ws.destroy(stack, { excludeProtected: true, message }, deps.io.engine)), "the destroy", stack);
    deps.io.info(
        `launchpad: ${stack}'s app is gone. The database (its namespace, StatefulSet, Secret and volume claims) was kept and the next \`npm run up\` reuses it.\n` +
            `  To delete the data too: npm run down -- --delete-data${stack === DEV_STACK ? "" : ` --stack ${stack}`}`,
    );
}

/**
 * Retention is a resource option recorded in the state, and only an update changes it: so the data
 * keys are switched off, an update lifts `retainOnDelete`/`protect`, and the destroy then deletes
 * everything. (An update also brings back under management a database that an earlier plain `down`
 * left in the cluster.) The keys are restored afterwards, so the next `up` protects the data again.
 */
async function destroyWithData(deps: Deps, stack: string, ws: Workspace, stackFile: StackFile): Promise<void> {
    const keys = [RETAIN_KEY];
    const protect = await engine(() => ws.getConfig(stack, PROTECT_KEY), "reading the config", stack);
    if (protect !== undefined) keys.push(PROTECT_KEY);
    // Put back what the stack file says, not what the CLI reports: it includes Pulumi.yaml's defaults,
    // which would then be written into the stack file.
    const previous = new Map(keys.map((key) => [key, stackFileSetting(stackFile.path, key)]));
    for (const key of keys) await engine(() => ws.setConfig(stack, key, { value: "false" }), `setting ${key}`, stack);
    deps.io.info(`launchpad: ${keys.join(" and ")} set to false; updating ${stack} so its data is no longer retained`);
    try {
        const refresh = await stateAheadOfCluster(deps, stack, stackFile, ws);
        await engine(async () => ws.up(stack, deps.io.engine, { refresh, message: await releaseMessageFor(deps, stack, ws) }), "the update that lifts data retention", stack);
        deps.io.info(`launchpad: destroying ${stack}, data included`);
        await engine(async () => ws.destroy(stack, { excludeProtected: false, message: await releaseMessageFor(deps, stack, ws) }, deps.io.engine), "the destroy", stack);
    } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        throw new UpError(
            `${message}\n${keys.join(" and ")} stay false in Pulumi.${stack}.yaml so that \`npm run down -- --delete-data\` can finish the job; ` +
                `a plain \`npm run down\` refuses until you remove ${keys.length > 1 ? "them" : "it"}.`,
        );
    }
    for (const key of keys) {
        const before = previous.get(key);
        await engine(() => (before === undefined ? ws.removeConfig(stack, key) : ws.setConfig(stack, key, { value: before })), `restoring ${key}`, stack);
    }
    deps.io.info(`launchpad: ${stack} is destroyed, data included; ${keys.join(" and ")} restored, so the next \`npm run up\` keeps data again.`);
}
