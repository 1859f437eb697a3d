import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { ServiceRef } from "./webService";

/** A URL path prefix and the Service that answers it. */
export interface Route {
    readonly path: string;
    readonly backend: ServiceRef;
}

export interface IngressTls {
    /** Secret holding (or, with an issuer, receiving) the certificate. */
    readonly secretName: string;
    /** cert-manager ClusterIssuer that issues the certificate. @default none: the Secret is provided */
    readonly issuer?: string;
}

export interface IngressArgs {
    readonly namespace: pulumi.Input<string>;
    readonly labels: Readonly<Record<string, string>>;
    /** IngressClass of the controller, e.g. "nginx". */
    readonly className: string;
    readonly host: string;
    readonly routes: readonly Route[];
    /** @default plain HTTP */
    readonly tls?: IngressTls;
    /**
     * Wait for the controller to publish the Ingress's address. Off on kind, where ingress-nginx
     * may never report one and `pulumi up` would hang. @default true
     */
    readonly awaitAddress?: boolean;
}

/** Routes ordered longest path first, so "/api" is never shadowed by "/" in controllers that match in order. */
export function sortedRoutes(routes: readonly Route[]): Route[] {
    return [...routes].sort((a, b) => b.path.length - a.path.length || a.path.localeCompare(b.path));
}

export function ingressAnnotations(args: Pick<IngressArgs, "tls" | "awaitAddress">): Record<string, string> {
    return {
        ...(args.tls?.issuer ? { "cert-manager.io/cluster-issuer": args.tls.issuer } : {}),
        ...(args.awaitAddress === false ? { "pulumi.com/skipAwait": "true" } : {}),
    };
}

export function ingressSpec(args: Pick<IngressArgs, "className" | "host" | "routes" | "tls">): k8s.types.input.networking.v1.IngressSpec {
    return {
        ingressClassName: args.className,
        ...(args.tls ? { tls: [{ hosts: [args.host], secretName: args.tls.secretName }] } : {}),
        rules: [{
            host: args.host,
            http: {
                paths: sortedRoutes(args.routes).map((route) => ({
                    path: route.path,
                    pathType: "Prefix",
                    backend: { service: { name: route.backend.serviceName, port: { number: route.backend.servicePort } } },
                })),
            },
        }],
    };
}

/** The app's front door: one host, path prefixes routed to Services, optional TLS. */
export class Ingress extends pulumi.ComponentResource {
    public readonly url: string;

    constructor(name: string, args: IngressArgs, opts?: pulumi.ComponentResourceOptions) {
        super("launchpad:index:Ingress", name, {}, opts);

        const paths = args.routes.map((r) => r.path);
        const duplicate = paths.find((p, i) => paths.indexOf(p) !== i);
        if (duplicate !== undefined) throw new Error(`Ingress ${name}: path ${duplicate} is routed twice; give each Service its own path`);

        new k8s.networking.v1.Ingress(`${name}-ingress`, {
            metadata: { namespace: args.namespace, labels: { ...args.labels }, annotations: ingressAnnotations(args) },
            spec: ingressSpec(args),
        }, { parent: this });

        this.url = `${args.tls ? "https" : "http"}://${args.host}`;
        this.registerOutputs({ url: this.url });
    }
}
