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
