/** Schema of `ballast:kubernetes` (the Kubernetes target). Defaults: ./defaults.ts. */
import { z } from "zod";
import { dnsLabel } from "./primitives";

/** A Service node port in Kubernetes' default range, or 0 for one the cluster assigns. */
const nodePort = z
  .number()
  .int()
  .refine((value) => value === 0 || (value >= 30000 && value <= 32767), {
    message: "must be a node port between 30000 and 32767, or 0 for one the cluster assigns",
  });

/**
 * The namespace of the stack's per-node agents (Alloy, node-exporter): they need host paths (and
 * host PID), which Pod Security `restricted` forbids, so they live beside the application namespace
 * and let it enforce `restricted`. A DNS label of at most 40 characters plus "-agents" is a valid name.
 */
export function agentsNamespaceOf(namespace: string): string {
  return `${namespace}-agents`;
}

export const kubernetesSchema = z
  .strictObject({
    namespace: dnsLabel,
    /** StorageClass of volume claims; "" uses the cluster default. */
    storageClass: z.string(),
    ingressClass: z.string().min(1, { message: 'must name the IngressClass, e.g. "traefik"' }),
    /** Deploy Traefik as the ingress controller, or rely on an existing one. */
    deployTraefik: z.boolean(),
    /** kubeconfig context; "" uses the ambient one. */
    context: z.string(),
    /** Write YAML instead of talking to a cluster (end-to-end tests only; writes Secrets in plaintext). */
    renderYamlToDirectory: z.string(),
    /** Namespace of an existing ingress controller, allowed to reach routed pods. */
    ingressControllerNamespace: dnsLabel,
    /**
     * Seconds a Deployment may go without progress before its rollout counts as failed; the old
     * ReplicaSet keeps serving, and `pulumi up` fails 60 s later (the provider's bound on the rollout;
     * runbooks: rollback within 5 minutes).
     */
    progressDeadlineSeconds: z.number().int().min(30).max(3600),
    /**
     * Service type of the public entry point (Traefik's web/websecure ports): `LoadBalancer` on clusters
     * that assign load-balancer addresses (clouds, k3s' ServiceLB, MetalLB); `NodePort` on a bare
     * cluster (an external load balancer or DNAT points at the node ports); `ClusterIP` behind an
     * ingress or gateway that already exists. Only LoadBalancer waits for an address.
     */
    publicService: z.enum(["LoadBalancer", "NodePort", "ClusterIP"]),
    /** Fixed node ports of the public Service (30000-32767) with `publicService: NodePort`; 0: the cluster picks one. */
    nodePorts: z.strictObject({ http: nodePort, https: nodePort }),
    /**
     * Seconds `pulumi up` waits for a StatefulSet, DaemonSet, Service, Ingress or one-shot Job to
     * become ready before the update fails (customTimeouts). Deployments use progressDeadlineSeconds.
     */
    readinessTimeoutSeconds: z.number().int().min(60).max(7200),
    /**
     * With an existing ingress controller (`deployTraefik: false`): wait until it reports an address
     * on each Ingress. Set false on a bare cluster whose controller reports none. Ballast's Traefik
     * reports no Ingress address, so its Ingresses are never waited for (their backends are).
     */
    awaitIngressAddress: z.boolean(),
    /**
     * KEDA (https://keda.sh) is installed on the cluster: workers with `autoscaling.queue` get a
     * ScaledObject (keda.sh/v1alpha1) instead of a CPU HPA. `namespace` is where its operator runs
     * (pods labelled `app: keda-operator`): the NetworkPolicy of the stack's Redis lets it connect.
     */
    keda: z.strictObject({ enabled: z.boolean(), namespace: dnsLabel }),
    /**
     * TCP ports the app, workers, cron jobs and extra services may reach on public addresses
     * (NetworkPolicy egress). Default [443]: HTTPS APIs. Add what the stack calls besides, e.g. an
     * external Postgres (5432, Supabase's pooler 6543) or SMTP submission (587).
     */
    internetEgressPorts: z
      .array(z.number().int().min(1).max(65535))
      .min(1, { message: "must list at least one port (443 for HTTPS APIs)" }),
  })
  .superRefine((value, ctx) => {
    if (value.publicService !== "NodePort" && (value.nodePorts.http !== 0 || value.nodePorts.https !== 0)) {
      ctx.addIssue({
        code: "custom",
        path: ["nodePorts"],
        message: `node ports are only used with ballast:kubernetes.publicService NodePort (it is ${value.publicService}); set them to 0 or change publicService`,
      });
    }
    if (value.nodePorts.http !== 0 && value.nodePorts.http === value.nodePorts.https) {
      ctx.addIssue({ code: "custom", path: ["nodePorts"], message: "http and https need different node ports" });
    }
  });
