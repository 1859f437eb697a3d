/**
 * The names of the local platform the `dev` stack deploys to, as kind's own guides build it: a cluster
 * named `launchpad`, reached through the kubeconfig context `kind-launchpad`, and a registry container
 * at `localhost:5001` on kind's Docker network. `npm run up` builds the platform (tools/up/kind.ts); the
 * doctor names it when the cluster does not exist yet.
 */
export const KIND = {
    cluster: "launchpad",
    context: "kind-launchpad",
    registry: "kind-registry",
    registryPort: 5001,
    /** The registry image kind's local-registry guide runs. */
    registryImage: "registry:3",
    network: "kind",
} as const;

/** ingress-nginx, pinned: the upstream manifest for kind at this controller release, and what it declares that `up` waits for. */
export const INGRESS_NGINX = {
    version: "1.14.3",
    namespace: "ingress-nginx",
    deployment: "ingress-nginx-controller",
    admissionJobs: ["ingress-nginx-admission-create", "ingress-nginx-admission-patch"],
    ingressClass: "nginx",
    waitTimeout: "300s",
} as const;

export function ingressNginxManifestUrl(version: string = INGRESS_NGINX.version): string {
    return `https://raw.githubusercontent.com/kubernetes/ingress-nginx/controller-v${version}/deploy/static/provider/kind/deploy.yaml`;
}

/** Whether launchpad:ingressManifest names a URL (else a path relative to the project). */
export function isManifestUrl(source: string): boolean {
    return /^[a-z][a-z0-9+.-]*:\/\//i.test(source);
}

/**
 * What a stack's config chooses about the kind platform (launchpad:kindNodeImage, registryImage,
 * ingressController, ingressManifest, ingressClass, ingressNamespace), for users behind a mirror or
 * without internet: docs/kind.md.
 */
export interface KindSettings {
    /** `kind create cluster --image`; undefined: kind's own default. */
    readonly nodeImage?: string;
    /** The local registry container's image. */
    readonly registryImage: string;
    /** Where the ingress controller comes from: a manifest (an https URL or an absolute path), or the user (`none`). */
    readonly ingress: { readonly controller: "manifest"; readonly manifest: string } | { readonly controller: "none" };
    /** The IngressClass the app's Ingress names, which the controller must provide. */
    readonly ingressClass: string;
    /** The namespace the app's NetworkPolicies let traffic in from: the controller's. */
    readonly ingressNamespace: string;
}
