import * as assert from "node:assert/strict";
import { checkIngressNamespace, checkNetworkPolicyEnforcement, providerOf } from "../../tools/doctor/network";
import type { KubeNode, KubePod } from "../../tools/doctor/schedule";
import { node } from "./helpers";

/** A pod of a DaemonSet, as `kubectl get pods -A -o json` shows it: named after its owner, which it references. */
function daemonPod(daemonSet: string, namespace = "kube-system", containers: { name: string; image?: string; args?: string[] }[] = [{ name: daemonSet }]): KubePod {
    return {
        metadata: { name: `${daemonSet}-x7k2p`, namespace, ownerReferences: [{ apiVersion: "apps/v1", kind: "DaemonSet", name: daemonSet, controller: true }] },
        spec: { containers, nodeName: "n1" },
        status: { phase: "Running" },
    };
}

function pod(name: string, namespace: string, image = "registry.example/app:1"): KubePod {
    return { metadata: { name, namespace }, spec: { containers: [{ name: "main", image }], nodeName: "n1" }, status: { phase: "Running" } };
}

const policies = ["NetworkPolicy/default-deny"];
const plain = [node("n1")];
const enforcement = (pods: KubePod[], nodes: KubeNode[] = plain) => checkNetworkPolicyEnforcement(pods, nodes, policies);

describe("doctor: NetworkPolicy enforcement, from the pods of the network plugin", () => {
    const enforcing: [string, KubePod, string][] = [
        ["Calico (its operator's calico-system namespace)", daemonPod("calico-node", "calico-system"), "Calico"],
        ["Cilium", daemonPod("cilium"), "Cilium"],
        ["GKE Dataplane V2 (anetd)", daemonPod("anetd"), "GKE Dataplane V2"],
        ["Azure Network Policy Manager", daemonPod("azure-npm"), "Azure Network Policy Manager"],
    ];
    for (const [what, p, plugin] of enforcing) {
        it(`finds ${what} enforcing them`, () => {
            const c = enforcement([pod("web-1", "shop"), p]);
            assert.equal(c.status, "ok");
            assert.match(c.message, new RegExp(`^NetworkPolicies are enforced by ${plugin} \\(.+ in ${p.metadata.namespace}\\): only the backend reaches the database$`));
            assert.deepEqual(c.usedBy, policies);
        });
    }

    it("knows a plugin's pod by its name when the dump carries no owner", () => {
        const p = daemonPod("cilium");
        delete (p.metadata as { ownerReferences?: unknown }).ownerReferences;
        assert.equal(enforcement([p]).status, "ok");
    });

    const awsNode = (agentArgs: string[]) => daemonPod("aws-node", "kube-system", [
        { name: "aws-node", image: "602401143452.dkr.ecr.eu-west-1.amazonaws.com/amazon-k8s-cni:v1.19.0" },
        { name: "aws-eks-nodeagent", image: "602401143452.dkr.ecr.eu-west-1.amazonaws.com/amazon/aws-network-policy-agent:v1.1.5", args: agentArgs },
    ]);

    it("counts the Amazon VPC CNI only when its node agent runs with --enable-network-policy=true", () => {
        const on = enforcement([awsNode(["--enable-ipv6=false", "--enable-network-policy=true"])]);
        assert.equal(on.status, "ok");
        assert.match(on.message, /enforced by the Amazon VPC CNI's network policy agent \(aws-node in kube-system\)/);
    });

    it("warns, with the add-on setting that turns it on, when the Amazon VPC CNI's agent is off (its default)", () => {
        const off = enforcement([awsNode(["--enable-network-policy=false"])], [node("n1", { labels: { "eks.amazonaws.com/nodegroup": "apps" } })]);
        assert.equal(off.status, "warning");
        assert.equal(off.ok, true, "the app works without enforcement: a warning never fails the doctor");
        assert.match(off.message, /^the Amazon VPC CNI \(aws-node\) runs without --enable-network-policy=true, so the app's NetworkPolicies are accepted but not enforced: any pod in the cluster can reach the database; /);
        assert.match(off.message, /aws eks update-addon --cluster-name CLUSTER --addon-name vpc-cni --configuration-values '\{"enableNetworkPolicy":"true"\}'/);
    });

    it("warns on a GKE cluster with neither Dataplane V2 nor Calico, naming the gcloud flags", () => {
        const gke = [node("gke-apps-1", { labels: { "cloud.google.com/gke-nodepool": "apps" } })];
        const c = enforcement([daemonPod("kube-proxy"), daemonPod("fluentbit-gke")], gke);
        assert.equal(c.status, "warning");
        assert.match(c.message, /^no network policy engine runs on this GKE cluster .*--enable-dataplane-v2.*--update-addons=NetworkPolicy=ENABLED/);
    });

    it("warns on an AKS cluster without a network policy engine, naming az aks update --network-policy", () => {
        const c = enforcement([daemonPod("kube-proxy")], [node("aks-nodepool1-0", { labels: { "kubernetes.azure.com/cluster": "MC_rg_cluster_westeurope" } })]);
        assert.equal(c.status, "warning");
        assert.match(c.message, /az aks update --resource-group RG --name CLUSTER --network-policy calico/);
    });

    it("warns that flannel alone does not enforce them", () => {
        const c = enforcement([daemonPod("kube-flannel-ds", "kube-flannel")]);
        assert.equal(c.status, "warning");
        assert.match(c.message, /^flannel \(kube-flannel-ds in kube-flannel\) does not enforce NetworkPolicies/);
    });

    it("cannot tell for kind's kindnet, and says from which kind version it enforces them", () => {
        const c = enforcement([daemonPod("kindnet")]);
        assert.equal(c.status, "unknown");
        assert.match(c.message, /kind does from v0\.24 on/);
    });

    it("says it cannot tell, as a note, when no pod belongs to a plugin it knows (the testbed: no network plugin at all)", () => {
        const c = enforcement([pod("db-0", "launchpad-testbed")]);
        assert.deepEqual([c.status, c.ok], ["unknown", true]);
        assert.match(c.message, /^cannot tell whether the cluster enforces NetworkPolicies: none of the pods the doctor can see belongs to a network plugin it knows/);
    });

    it("tells the providers apart by their node labels", () => {
        assert.equal(providerOf([node("a", { labels: { "cloud.google.com/gke-nodepool": "p" } })]), "gke");
        assert.equal(providerOf([node("a", { labels: { "eks.amazonaws.com/nodegroup": "p" } })]), "eks");
        assert.equal(providerOf([node("a", { labels: { "kubernetes.azure.com/agentpool": "p" } })]), "aks");
        assert.equal(providerOf([node("a", { labels: { type: "kwok" } })]), undefined);
    });
});

describe("doctor: the ingress controller's namespace (ingressNamespace)", () => {
    const ctx = { stack: "prod", ingressNamespace: "ingress-nginx", appNamespaces: ["launchpad-prod"], usedBy: ["Ingress/launchpad-ingress"] };

    it("passes when pods run in ingressNamespace, naming them", () => {
        const c = checkIngressNamespace([pod("ingress-nginx-controller-6d59d95796-l9w4z", "ingress-nginx", "registry.k8s.io/ingress-nginx/controller:v1.11.3")], ctx);
        assert.equal(c.status, "ok");
        assert.match(c.message, /^namespace ingress-nginx \(ingressNamespace, the only one the NetworkPolicies let reach the web tiers\) runs ingress-nginx-controller-6d59d95796-l9w4z$/);
    });

    it("warns when the controller runs in another namespace, with the command that points ingressNamespace there", () => {
        const pods = [pod("nginx-5d4c7b8f9-abcde", "app-routing-system", "mcr.microsoft.com/oss/kubernetes/ingress/nginx-ingress-controller:v1.11.5"), pod("web-1", "launchpad-prod", "nginx:1.27")];
        const c = checkIngressNamespace(pods, ctx);
        assert.deepEqual([c.status, c.ok], ["warning", true]);
        assert.match(c.message, /^no pod runs in namespace ingress-nginx .*, but an ingress controller seems to run in app-routing-system; .*: pulumi config set --stack prod ingressNamespace app-routing-system$/);
    });

    it("does not take the app's own pods for an ingress controller, and says it cannot tell", () => {
        const c = checkIngressNamespace([pod("frontend-1", "launchpad-prod", "registry.example/ingress-demo:1")], ctx);
        assert.equal(c.status, "unknown");
        assert.match(c.message, /the doctor cannot tell where the ingress controller runs; set ingressNamespace to its namespace/);
    });
});
