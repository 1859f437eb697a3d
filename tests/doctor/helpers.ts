// Builders for hand-made nodes, pods and stacks, and the fixture loader, shared by the doctor's tests.

import { readFileSync } from "node:fs";
import * as path from "node:path";
import type { Affinity, KubeNode, KubePod, PodSpec, Taint, Toleration } from "../../tools/doctor/schedule";

export const FIXTURES = path.join(__dirname, "fixtures");

export function fixturePath(name: string): string {
    return path.join(FIXTURES, name);
}

export function loadFixture<T>(name: string): T {
    return JSON.parse(readFileSync(fixturePath(name), "utf8")) as T;
}

export function fixtureItems<T>(name: string): T[] {
    return loadFixture<{ items: T[] }>(name).items;
}

export interface NodeOptions {
    labels?: Record<string, string>;
    taints?: Taint[];
    cpu?: string;
    memory?: string;
    pods?: string;
    ready?: "True" | "False" | "Unknown";
    unschedulable?: boolean;
}

export function node(name: string, o: NodeOptions = {}): KubeNode {
    return {
        metadata: { name, labels: { "kubernetes.io/hostname": name, ...(o.labels ?? {}) } },
        spec: { ...(o.taints ? { taints: o.taints } : {}), ...(o.unschedulable ? { unschedulable: true } : {}) },
        status: {
            allocatable: { cpu: o.cpu ?? "4", memory: o.memory ?? "8Gi", pods: o.pods ?? "110" },
            conditions: [{ type: "Ready", status: o.ready ?? "True" }],
        },
    };
}

export interface PodOptions {
    tolerations?: Toleration[];
    nodeSelector?: Record<string, string>;
    affinity?: Affinity;
    cpu?: string;
    memory?: string;
    limitsOnly?: boolean;
    hostPort?: number;
    init?: { cpu?: string; memory?: string; sidecar?: boolean }[];
}

export function podSpec(o: PodOptions = {}): PodSpec {
    const amounts: Record<string, string> = {};
    if (o.cpu) amounts.cpu = o.cpu;
    if (o.memory) amounts.memory = o.memory;
    return {
        containers: [
            {
                name: "app",
                image: "localhost:5001/app@sha256:" + "a".repeat(64),
                resources: o.limitsOnly ? { limits: amounts } : { requests: amounts },
                ...(o.hostPort ? { ports: [{ containerPort: 8080, hostPort: o.hostPort }] } : {}),
            },
        ],
        ...(o.init
            ? {
                  initContainers: o.init.map((i, n) => ({
                      name: `init-${n}`,
                      resources: { requests: { ...(i.cpu ? { cpu: i.cpu } : {}), ...(i.memory ? { memory: i.memory } : {}) } },
                      ...(i.sidecar ? { restartPolicy: "Always" } : {}),
                  })),
              }
            : {}),
        ...(o.tolerations ? { tolerations: o.tolerations } : {}),
        ...(o.nodeSelector ? { nodeSelector: o.nodeSelector } : {}),
        ...(o.affinity ? { affinity: o.affinity } : {}),
    };
}

/** A running pod already bound to a node. */
export function runningPod(name: string, nodeName: string, o: PodOptions & { phase?: string } = {}): KubePod {
    return { metadata: { name, namespace: "default" }, spec: { ...podSpec(o), nodeName }, status: { phase: o.phase ?? "Running" } };
}

/** Required node affinity from terms of "key op v1,v2" expressions. */
export function requiredAffinity(...terms: string[][]): Affinity {
    return {
        nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
                nodeSelectorTerms: terms.map((exprs) => ({
                    matchExpressions: exprs.map((e) => {
                        const [key, operator, values] = e.split(" ");
                        return { key, operator, ...(values !== undefined ? { values: values.split(",") } : {}) };
                    }),
                })),
            },
        },
    };
}
